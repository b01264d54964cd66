// The real CLI (bin/goman, a subprocess) against a real `goman serve` (embedded: SQLite,
// in-process bus, sim provider with fast timings), for every command and every exit code.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import type { Cluster } from '../../src/domain/cluster.ts';
import type { ServeHandle } from '../helpers/serve.ts';
import { freePort, GOMAN_BIN, runGoman, startServe } from '../helpers/serve.ts';

let srv: ServeHandle;
let tmp: string;
before(async () => {
  srv = await startServe();
  tmp = await mkdtemp(path.join(tmpdir(), 'goman-cli-'));
});
after(async () => {
  await srv?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const goman = (args: string[], opts: { env?: Record<string, string>; input?: string } = {}) =>
  runGoman(args, { env: { ...srv.env, ...opts.env }, ...(opts.input !== undefined ? { input: opts.input } : {}), timeoutMs: 90_000 });

async function ok(args: string[], opts?: { env?: Record<string, string> }): Promise<string> {
  const r = await goman(args, opts);
  assert.equal(r.code, 0, `goman ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Fails with exit `code` and exactly one line on stderr matching `message`. */
async function fails(args: string[], code: number, message: RegExp, opts?: { env?: Record<string, string> }): Promise<void> {
  const r = await goman(args, opts);
  assert.equal(r.code, code, `goman ${args.join(' ')}: expected exit ${code}, got ${r.code}: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0] ?? '', message);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

async function getJson(name: string): Promise<Cluster> {
  return JSON.parse(await ok(['get', name, '-o', 'json'])) as Cluster;
}

test('--version, --help and usage errors (exit 2, one line)', async () => {
  assert.match(await ok(['--version']), /^goman \d+\.\d+\.\d+\n$/);
  assert.match(await ok(['--help']), /Usage: goman/);
  assert.match(await ok(['create', '--help']), /--pool <NAME=COUNT\[:TYPE\]>/);
  await fails(['--bogus'], 2, /^goman: unknown option '--bogus'/);
  await fails(['lst'], 2, /^goman: unknown command 'lst' \(Did you mean one of list, ls\?\)/);
  await fails(['list', '-o', 'xml'], 2, /'xml' is invalid/);
  await fails(['get'], 2, /missing required argument 'name'/);
});

test('serve wrote context local; context list|current|add|use|remove', async () => {
  const list = await ok(['context', 'list']);
  assert.match(list, /\*\s+local\s+server\s+http:\/\/127\.0\.0\.1:\d+/);
  assert.doesNotMatch(list, new RegExp(srv.token), 'tokens are never printed');
  assert.equal(await ok(['context', 'current']), 'local\n');
  await ok(['context', 'add', 'other', '--server', 'http://127.0.0.1:1', '--token', 'x', '--no-use']);
  assert.equal(await ok(['context', 'current']), 'local\n');
  const json = JSON.parse(await ok(['context', 'list', '-o', 'json'])) as { contexts: { name: string; token: string }[] };
  assert.deepEqual(json.contexts.map((c) => [c.name, c.token]), [['local', '<set>'], ['other', '<set>']]);
  await fails(['--context', 'other', 'list'], 1, /^goman: cannot reach goman server at http:\/\/127\.0\.0\.1:1 — is `goman serve` running\? \(context other\)$/);
  await ok(['context', 'use', 'other']);
  assert.equal(await ok(['context', 'current']), 'other\n');
  await ok(['context', 'use', 'local']);
  await ok(['context', 'remove', 'other']);
  await fails(['context', 'use', 'other'], 3, /context "other" not found/);
  await fails(['context', 'add', 'x', '--server', 'ftp://nope'], 2, /invalid context/);
  const cfg = path.join(srv.env.XDG_CONFIG_HOME ?? '', 'goman', 'config.yaml');
  assert.equal(spawnSync('stat', ['-c', '%a', cfg]).stdout.toString().trim(), '600');
});

test('create --wait reaches Ready with progress; list and get in table, json and yaml', async () => {
  const r = await goman(['create', 'alpha', '--pool', 'workers=2', '--label', 'team=a', '--wait', '--timeout', '60s']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /cluster alpha created/);
  assert.match(r.stderr, /^alpha\s+Ready\s+nodes 3\/3 ready/m, 'plain progress lines when piped');
  assert.doesNotMatch(r.stderr, /\x1b\[/, 'no escape codes when piped'); // eslint-disable-line no-control-regex

  const table = await ok(['list']);
  assert.match(table, /^NAME\s+PHASE\s+PROVIDER\s+MODE\s+NODES\s+VERSION\s+AGE\s+MESSAGE/);
  assert.match(table, /^alpha\s+Ready\s+sim\s+dev\s+3\/3\s+stable\s+\d+s/m);

  const list = JSON.parse(await ok(['list', '-o', 'json'])) as { items: Cluster[] };
  const alpha = list.items.find((c) => c.name === 'alpha');
  assert.ok(alpha);
  assert.equal(alpha.status.phase, 'Ready');
  assert.deepEqual(alpha.labels, { team: 'a' });
  assert.deepEqual(alpha.spec.nodePools, [{ name: 'workers', count: 2 }]);
  assert.deepEqual(JSON.parse(await ok(['list', '-o', 'json', '-l', 'team=b'])), { items: [] });
  assert.equal((parse(await ok(['list', '-o', 'yaml'])) as { items: Cluster[] }).items.length, list.items.length);

  const got = await getJson('alpha');
  assert.equal(got.id, alpha.id);
  // -o yaml is the manifest `goman apply` reads back (issue 11); -o json stays the API object.
  assert.deepEqual(parse(await ok(['get', 'alpha', '-o', 'yaml'])), { apiVersion: 'goman.io/v1', kind: 'Cluster', metadata: { name: 'alpha', labels: alpha.labels }, spec: alpha.spec });
  const human = await ok(['get', 'alpha']);
  for (const part of [/Phase:\s+Ready/, /Conditions:/, /Controllers:/, /Nodes:/, /alpha-\S+\s+server/, /Events:/, /workers\s+2/]) assert.match(human, part);
});

test('not found (3), invalid names (2), name taken (4)', async () => {
  await fails(['get', 'nope'], 3, /not found/);
  await fails(['delete', 'nope', '--yes'], 3, /not found/);
  await fails(['get', 'Bad_Name'], 2, /invalid cluster name "Bad_Name"/);
  await fails(['create', 'x', '--pool', 'w=abc'], 2, /--pool "w=abc"/);
  await fails(['create', 'x', '--region', 'nowhere'], 2, /invalid spec: region/);
  await fails(['create', 'alpha'], 4, /already exists/);
});

test('create -f: YAML spec file, bare spec, flags override; bad files exit 2', async () => {
  const full = path.join(tmp, 'beta.yaml');
  await writeFile(full, 'name: beta\nlabels:\n  env: test\nspec:\n  mode: dev\n  nodePools:\n    - name: gpu\n      count: 1\n');
  const out = JSON.parse(await ok(['create', '-f', full, '--pool', 'gpu=0', '-o', 'json'])) as Cluster;
  assert.equal(out.name, 'beta');
  assert.deepEqual(out.labels, { env: 'test' });
  assert.deepEqual(out.spec.nodePools, [{ name: 'gpu', count: 0 }]);
  const bare = path.join(tmp, 'bare.json');
  await writeFile(bare, JSON.stringify({ provider: 'sim', nodePools: [] }));
  assert.equal((JSON.parse(await ok(['create', 'gamma', '-f', bare, '-o', 'json'])) as Cluster).name, 'gamma');
  const bad = path.join(tmp, 'bad.yaml');
  await writeFile(bad, 'spec:\n  mode: huge\n');
  await fails(['create', 'delta', '-f', bad], 2, /invalid spec: mode/);
  await writeFile(bad, 'spec: [unclosed\n');
  await fails(['create', 'delta', '-f', bad], 2, /not valid YAML/);
  await fails(['create', 'delta', '-f', path.join(tmp, 'missing.yaml')], 2, /cannot read spec file .*no such file/);
  await fails(['create', '-f', bare], 2, /a cluster name is required/);
});

test('commands refuse what they would otherwise ignore', async () => {
  await fails(['create', 'dup', '--pool', 'workers=2', '--pool', 'workers=3'], 2, /^goman: --pool names "workers" more than once; give each once$/);
  await fails(['create', 'dup', '-l', 'team=a', '-l', 'team=b'], 2, /^goman: --label names "team" more than once/);
  await fails(['create', 'dup', '--instance-type', ''], 2, /^goman: --instance-type: the value is empty/);
  await fails(['create', 'dup', '--region', ' '], 2, /^goman: --region: the value is empty/);
  await fails(['list', '--context', ''], 2, /^goman: --context: the value is empty/);
  await fails(['scale', 'alpha', '--pool', 'workers=1:t3.large'], 2, /^goman: --pool "workers=1:t3\.large": scale changes node counts only \(NAME=COUNT\); change an instance type with `goman edit alpha`$/);
  await fails(['scale', 'alpha', '--pool', 'workers=1', '--pool', 'workers=2'], 2, /--pool names "workers" more than once/);
  await fails(['stop', 'alpha', '--timeout', '5s'], 2, /^goman: --timeout only applies with --wait/);
  await fails(['context', 'add', 'x', '--server', 'http://h:1', '--region', 'eu-west-1'], 2, /^goman: --region is for --bucket contexts/);
  await fails(['context', 'add', 'x', '--bucket', 'goman-1', '--token', 't'], 2, /^goman: --token is for --server contexts/);
  await fails(['get', 'dup'], 3, /not found/);
});

test('usage messages name the real cause: a command group lists its subcommands, a bad flag is named', async () => {
  for (const group of ['token', 'context']) {
    const r = await goman([group]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`Usage: goman ${group}`));
    assert.doesNotMatch(r.stderr, /outputHelp/);
  }
  await fails(['serve', '--log-level', 'bogus', '--listen', '127.0.0.1:0'], 2, /^goman: --log-level must be one of .* \(got "bogus"\)$/);
  await fails(['serve', '--listen', '127.0.0.1:0'], 2, /^goman: GOMAN_LOG_LEVEL must be one of/, { env: { GOMAN_LOG_LEVEL: 'loud' } });
  await fails(['list'], 2, /^goman: GOMAN_SERVER "notaurl" is not an http\(s\) URL/, { env: { GOMAN_SERVER: 'notaurl' } });
});

test('scale, stop and start with --wait; events', async () => {
  const r = await goman(['scale', 'alpha', '--pool', 'workers=1', '--wait', '--timeout', '60s']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /cluster alpha scaling: workers 2→1/);
  for (const m of r.stderr.matchAll(/nodes (\d+)\/(\d+)/g)) assert.ok(Number(m[1]) <= Number(m[2]), `progress never shows more ready nodes than wanted: ${m[0]}`);
  let c = await getJson('alpha');
  assert.equal(c.spec.nodePools[0]?.count, 1);
  assert.equal(c.status.phase, 'Ready');
  assert.equal(c.status.nodes.filter((n) => n.ready).length, 2);
  await fails(['scale', 'alpha', '--pool', 'nope=1'], 3, /no node pool "nope".*pools: workers/);
  await fails(['scale', 'alpha'], 2, /required option '--pool/);

  assert.equal((await goman(['stop', 'alpha', '--wait', '--timeout', '60s'])).code, 0);
  c = await getJson('alpha');
  assert.equal(c.status.phase, 'Stopped');
  const again = await ok(['stop', 'alpha']);
  assert.equal(again, 'cluster alpha already stopped\n', 'a stopped cluster is not "stopping"');
  assert.equal((await getJson('alpha')).generation, c.generation, 'nothing was sent');
  assert.equal(await ok(['scale', 'alpha', '--pool', 'workers=1']), 'cluster alpha unchanged: workers is already 1\n');
  assert.equal((await goman(['start', 'alpha', '--wait', '--timeout', '60s'])).code, 0);
  assert.equal((await getJson('alpha')).status.phase, 'Ready');

  const events = await ok(['events', 'alpha']);
  assert.match(events, /^AGE\s+KIND\s+GEN\s+MESSAGE/);
  assert.match(events, /created/);
  const page = JSON.parse(await ok(['events', 'alpha', '-o', 'json', '--limit', '3'])) as { items: unknown[] };
  assert.ok(page.items.length > 0 && page.items.length <= 3);
  await fails(['events', 'alpha', '--limit', '0'], 2, /--limit/);
});

/** An $EDITOR: a shell script applied to the file goman opens. */
async function editor(name: string, script: string): Promise<string> {
  const file = path.join(tmp, name);
  await writeFile(file, `#!/bin/sh\nset -e\n${script}\n`);
  await chmod(file, 0o755);
  return file;
}

test('edit: applies a change, aborts without one, re-opens on invalid input, conflicts exit 4', async () => {
  const before = await getJson('gamma');
  const change = await editor('change.sh', `sed -i 's/mode: dev/mode: ha/' "$1"`);
  const r = await goman(['edit', 'gamma'], { env: { EDITOR: change, VISUAL: change } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /cluster gamma edited \(generation 2\)/);
  const after1 = await getJson('gamma');
  assert.equal(after1.spec.mode, 'ha');
  assert.equal(after1.generation, before.generation + 1);

  const noop = await goman(['edit', 'gamma'], { env: { EDITOR: 'true', VISUAL: 'true' } });
  assert.equal(noop.code, 0);
  assert.match(noop.stderr, /no changes made/);
  // Nothing was sent: the spec and generation stand (controllers may still write status).
  const after2 = await getJson('gamma');
  assert.equal(after2.generation, after1.generation);
  assert.deepEqual(after2.spec, after1.spec);

  // First pass writes an invalid mode; the second sees the error comment and fixes it.
  const seenError = path.join(tmp, 'seen-error');
  const twice = await editor(
    'twice.sh',
    `if grep -q '^# error: spec.mode' "$1"; then cp "$1" ${seenError}; sed -i 's/mode: bogus/mode: dev/' "$1"; else sed -i 's/mode: ha/mode: bogus/' "$1"; fi`,
  );
  assert.equal((await goman(['edit', 'gamma'], { env: { EDITOR: twice, VISUAL: twice } })).code, 0);
  assert.match(await readFile(seenError, 'utf8'), /^# error: spec\.mode: /);
  assert.equal((await getJson('gamma')).spec.mode, 'dev');

  // Someone else changes the cluster while the editor is open: If-Match makes that a conflict.
  const racing = await editor('racing.sh', `"${GOMAN_BIN}" stop gamma >/dev/null\nsed -i 's/team: .*//; s/^labels: {}/labels: {edited: "yes"}/' "$1"`);
  await fails(['edit', 'gamma'], 4, /changed since you read it; run again/, { env: { EDITOR: racing, VISUAL: racing } });
});

test('edit gives up when the editor keeps writing the same invalid text', async () => {
  for (const [kind, content] of [
    ['yaml', 'spec: [unclosed'],
    ['schema', 'spec: {mode: bogus}'],
  ] as const) {
    const runs = path.join(tmp, `runs-${kind}`);
    const stubborn = await editor(`stubborn-${kind}.sh`, `echo run >> ${runs}\nprintf '%s\\n' '${content}' > "$1"`);
    const r = await runGoman(['edit', 'gamma'], { env: { ...srv.env, EDITOR: stubborn, VISUAL: stubborn }, timeoutMs: 20_000 });
    assert.equal(r.code, 2, `${kind}: ${r.stderr}`);
    assert.match(r.stderr.trim(), /^goman: edit cancelled, the same invalid text again: /);
    assert.equal((await readFile(runs, 'utf8')).split('\n').filter(Boolean).length, 2, `${kind}: the editor ran once more after the error, then goman gave up`);
  }
});

test('watch streams changes as JSON lines', async () => {
  const child = spawn(GOMAN_BIN, ['watch', '-o', 'json'], { env: srv.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const seen = new Promise<void>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.split('\n').some((l) => l.includes('"upsert"') && l.includes('"name":"watched"'))) resolve();
    });
  });
  try {
    // The first line is `connected`: the stream is open before the change happens.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    await ok(['create', 'watched']);
    await seen;
    assert.deepEqual(JSON.parse(out.split('\n')[0] ?? ''), { type: 'connected' });
  } finally {
    child.kill('SIGTERM');
  }
});

test('delete: refuses without --yes off a terminal, then --wait until gone', async () => {
  await fails(['delete', 'beta'], 2, /refusing to delete beta without --yes/);
  const r = await goman(['delete', 'beta', '--yes', '--wait', '--timeout', '60s']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /cluster beta deleting\n/);
  assert.match(r.stdout, /cluster beta deleted\n$/, 'the wait ends by saying it is done');
  await fails(['get', 'beta'], 3, /not found/);
  await ok(['create', 'beta']); // the name is free again
});

test('--wait fails (exit 1) when the cluster cannot get Ready in time', async () => {
  // No controller of the embedded server handles a region it cannot reach within 1s: the wait times out.
  const r = await goman(['create', 'slow', '--provider', 'aws', '--wait', '--timeout', '1s']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr.trimEnd().split('\n').at(-1) ?? '', /^goman: (timed out after 1s waiting for slow to become Ready|cluster slow failed)/);
});

test('tokens: create, use, list, revoke; a revoked token is rejected with advice (exit 1)', async () => {
  const created = await goman(['token', 'create', '--subject', 'dev@example.com', '--role', 'user']);
  assert.equal(created.code, 0, created.stderr);
  const token = created.stdout.trim();
  assert.match(token, /^\S{20,}$/);
  assert.match(created.stderr, /shown only now/);
  const user = { GOMAN_TOKEN: token };
  assert.deepEqual(JSON.parse(await ok(['list', '-o', 'json'], { env: user })), { items: [] }, 'a user sees only their own clusters');
  const list = JSON.parse(await ok(['token', 'list', '-o', 'json'])) as { items: { id: string; subject: string }[] };
  const rec = list.items.find((t) => t.subject === 'dev@example.com');
  assert.ok(rec);
  assert.match(await ok(['token', 'list']), /dev@example\.com\s+user/);
  await ok(['token', 'revoke', rec.id]);
  await fails(['list'], 1, /^goman: token rejected by http:\/\/127\.0\.0\.1:\d+ \(unknown, revoked or expired\); ask an admin of that server for a new token, then `goman context add NAME --server URL --token TOKEN` \(context local\)$/, { env: user });
  await fails(['token', 'revoke', 'not-an-id'], 2, /^goman: "not-an-id" is not a token id; ids are the UUIDs in the ID column of `goman token list`$/);
  await fails(['token', 'create', '--subject', 'x', '--role', 'king'], 2, /'king' is invalid/);
});

test('an unreachable server is one line with advice (exit 1); --debug adds the stack', async () => {
  const port = await freePort();
  await fails(['list'], 1, new RegExp(`^goman: cannot reach goman server at http://127.0.0.1:${port} — is \`goman serve\` running\\?`), {
    env: { GOMAN_SERVER: `http://127.0.0.1:${port}` },
  });
  const debug = await goman(['list', '--debug'], { env: { GOMAN_SERVER: `http://127.0.0.1:${port}` } });
  assert.equal(debug.code, 1);
  assert.match(debug.stderr, /\n\s+at /);
});

test('completion scripts for bash, zsh and fish', async () => {
  const bash = await ok(['completion', 'bash']);
  assert.match(bash, /complete -F _goman_complete goman/);
  assert.equal(spawnSync('bash', ['-n'], { input: bash }).status, 0, 'valid bash');
  const zsh = await ok(['completion', 'zsh']);
  assert.match(zsh, /^#compdef goman\nautoload -U \+X bashcompinit && bashcompinit\n/);
  assert.equal(spawnSync('bash', ['-n'], { input: zsh.split('\n').slice(2).join('\n') }).status, 0, 'zsh runs the bash function through bashcompinit');
  const fish = await ok(['completion', 'fish']);
  assert.match(fish, /complete -c goman -n __fish_use_subcommand -a create/);
  for (const cmd of ['get', 'edit', 'scale', 'stop', 'start', 'delete', 'events', 'kubeconfig']) {
    assert.match(fish, new RegExp(`-n '__fish_seen_subcommand_from ${cmd}[ '].* -a '\\(goman __names 2>/dev/null\\)'`), `fish completes clusters for ${cmd}`);
  }
  assert.match(fish, /-l context -d .* -x -a '\(goman __contexts 2>\/dev\/null\)'/);
  assert.match(fish, /__fish_seen_subcommand_from create' -l provider -d .* -x -a 'sim aws'/);
  assert.match(await ok(['__names']), /^alpha$/m);
  assert.match(await ok(['__contexts']), /^local$/m);
  await fails(['completion', 'tcsh'], 2, /value 'tcsh' is invalid for argument 'shell'/);
});

test('bash completion completes commands, cluster and context names, and flag values', async () => {
  const script = path.join(tmp, 'goman.bash');
  await writeFile(script, await ok(['completion', 'bash']));
  await writeFile(path.join(tmp, 'node.yaml'), 'x: 1\n');
  // `goman` on PATH, as the completion calls it for names (README: "Put goman on PATH").
  const env = { ...srv.env, PATH: `${path.dirname(GOMAN_BIN)}:${process.env.PATH ?? ''}` };
  const complete = (...words: string[]): string[] => {
    const line = ['goman', ...words].map((w) => `'${w}'`).join(' ');
    const r = spawnSync('bash', ['-c', `source ${script}; COMP_WORDS=(${line}); COMP_CWORD=${words.length}; _goman_complete; printf '%s\\n' "\${COMPREPLY[@]}"`], { env, cwd: tmp, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean);
  };
  assert.deepEqual(complete('ge'), ['get']);
  for (const cmd of ['get', 'edit', 'scale', 'stop', 'start', 'delete', 'rm', 'events', 'kubeconfig']) {
    assert.ok(complete(cmd, '').includes('alpha'), `cluster names after "goman ${cmd}"`);
  }
  assert.ok(complete('--context', 'local', 'get', 'al').includes('alpha'), 'names come from the context on the line');
  assert.deepEqual(complete('create', ''), [], 'a new name has nothing to complete');
  assert.ok(complete('context', 'use', '').includes('local'));
  assert.ok(complete('context', 'rm', '').includes('local'));
  assert.ok(complete('--context', '').includes('local'));
  assert.ok(complete('list', '--context', '').includes('local'));
  assert.deepEqual(complete('create', 'x', '--provider', ''), ['sim', 'aws']);
  assert.deepEqual(complete('create', 'x', '--mode', ''), ['dev', 'ha']);
  assert.deepEqual(complete('list', '-o', ''), ['table', 'json', 'yaml']);
  assert.deepEqual(complete('token', 'create', '--role', ''), ['user', 'controller', 'admin']);
  assert.deepEqual(complete('completion', ''), ['bash', 'zsh', 'fish']);
  assert.deepEqual(complete('token', ''), ['create', 'list', 'revoke']);
  assert.ok(complete('scale', 'alpha', '--').includes('--pool'));
  assert.deepEqual(complete('snapshot', '--file', 'node.y'), ['node.yaml']);
});
