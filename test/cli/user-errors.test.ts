// Errors from files, documents and the environment reach the user as one line that names the
// flag or setting and says what is wrong, never an errno, a temp-file name or a schema dump.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { cleanEnv, runGoman } from '../helpers/serve.ts';

const root = await mkdtemp(path.join(tmpdir(), 'goman-uerr-'));
after(() => rm(root, { recursive: true, force: true }));
// No AWS credentials anywhere the SDK looks (and no instance metadata to wait for).
const env = cleanEnv({ XDG_CONFIG_HOME: path.join(root, 'config'), HOME: root, AWS_EC2_METADATA_DISABLED: 'true' });
for (const k of ['AWS_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE']) delete env[k];

async function failsWith(args: string[], code: number, message: RegExp): Promise<void> {
  const r = await runGoman(args, { env, timeoutMs: 60_000 });
  assert.equal(r.code, code, `goman ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${r.stderr}`);
  assert.match(lines[0] ?? '', message);
  assert.doesNotMatch(r.stderr, /ENOENT|EEXIST|\.tmp|\n\s+at |Invalid input: expected/);
}

test('file, document and environment errors are one line naming the flag or setting', async () => {
  await failsWith(['snapshot', '--file', '/nonexistent/x.yaml'], 2, /^goman: --file: cannot write \/nonexistent\/x\.yaml: its folder \/nonexistent does not exist$/);
  const recipe = path.join(root, 'recipe.yaml');
  const r = await runGoman(['recipe'], { env });
  assert.equal(r.code, 0, r.stderr);
  await writeFile(recipe, r.stdout);
  const file = path.join(root, 'file.txt');
  await writeFile(file, 'x');
  await failsWith(['bundle', '--recipe', recipe, '--dir', file], 2, /^goman: --dir: cannot use .*file\.txt as a folder: it is a file$/);
  // Node's recursive mkdir spins forever on /proc: this must answer at once.
  await failsWith(['bundle', '--recipe', recipe, '--dir', '/proc/goman-nope'], 2, /^goman: --dir: cannot create folder \/proc\/goman-nope: \/proc does not accept new folders$/);
  await failsWith(['recipe', '--snapshot', recipe], 2, /^goman: --snapshot .*recipe\.yaml is not a snapshot: .*; write one with `goman snapshot --file FILE`$/);
  await failsWith(['serve', '--data-dir', '/proc/goman-nope', '--listen', '127.0.0.1:0'], 2, /^goman: --data-dir: cannot create folder \/proc\/goman-nope: \/proc does not accept new folders$/);
  await failsWith(['create', 'x', '-f', root], 2, /^goman: cannot read spec file .*: it is a folder$/);
  const r2 = await runGoman(['list'], { env: { ...env, GOMAN_SERVER: 'notaurl' } });
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /^goman: GOMAN_SERVER "notaurl" is not an http\(s\) URL; set it to e\.g\. http:\/\/127\.0\.0\.1:8080 or unset it\n$/);
});

test('bundle refuses a --node-selector key given twice instead of keeping the last', async () => {
  const recipe = path.join(root, 'recipe.yaml');
  await failsWith(['bundle', '--recipe', recipe, '--dir', path.join(root, 'bundle'), '--node-selector', 'gpu=a', '--node-selector', 'gpu=b'], 2, /^goman: --node-selector names "gpu" more than once; give each once$/);
});

test('a config path that cannot be read is one line naming it', async () => {
  const home = path.join(root, 'bad-config');
  await mkdir(path.join(home, 'goman', 'config.yaml'), { recursive: true });
  const r = await runGoman(['context', 'list'], { env: { ...env, XDG_CONFIG_HOME: home } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^goman: cannot read the goman config .*config\.yaml: it is a folder\n$/);
});

test('AWS commands without credentials say which settings to give', async () => {
  await failsWith(['init'], 1, /^goman: no AWS credentials found; set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
});
