// Machine output reaches a slow reader whole: goman waits for stdout to drain before it exits,
// instead of cutting a pipe at the 64 KiB the kernel buffers; a reader that goes away ends
// goman quietly.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { parse } from 'yaml';
import { eventually } from '../helpers/eventually.ts';
import { cleanEnv, GOMAN_BIN, runGoman, startServe } from '../helpers/serve.ts';

const root = await mkdtemp(path.join(tmpdir(), 'goman-flush-'));
after(() => rm(root, { recursive: true, force: true }));

// `context list` needs no server: a config with 15 000 contexts prints well over 1 MiB.
const COUNT = 15_000;
await mkdir(path.join(root, 'goman'), { recursive: true });
await writeFile(
  path.join(root, 'goman', 'config.yaml'),
  `contexts:\n${Array.from({ length: COUNT }, (_, i) => `  - {name: c${i}, kind: server, server: "http://host-${i}.example.com:8080"}\n`).join('')}`,
  { mode: 0o600 },
);

/** Runs goman with stdout read a chunk at a time, pausing after each, as `| slow-consumer` would. */
function runIntoSlowReader(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(GOMAN_BIN, args, { env: cleanEnv({ XDG_CONFIG_HOME: root }), stdio: ['ignore', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => {
      chunks.push(c);
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), 1);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out: Buffer.concat(chunks).toString('utf8') }));
  });
}

test('machine output piped into a slow reader arrives whole (JSON and YAML over 1 MiB)', async () => {
  const json = await runIntoSlowReader(['context', 'list', '-o', 'json']);
  assert.equal(json.code, 0);
  assert.ok(json.out.length > 1024 * 1024, `expected > 1 MiB, got ${json.out.length} bytes`);
  assert.equal((JSON.parse(json.out) as { contexts: unknown[] }).contexts.length, COUNT);

  const yaml = await runIntoSlowReader(['context', 'list', '-o', 'yaml']);
  assert.equal(yaml.code, 0);
  assert.ok(yaml.out.length > 1024 * 1024, `expected > 1 MiB, got ${yaml.out.length} bytes`);
  assert.equal((parse(yaml.out) as { contexts: unknown[] }).contexts.length, COUNT);
});

test('a reader that goes away ends `goman watch` quietly, without a stack trace', async () => {
  const srv = await startServe();
  after(() => srv.stop());
  for (const name of ['p1', 'p2']) assert.equal((await runGoman(['create', name], { env: srv.env })).code, 0);
  const child = spawn(GOMAN_BIN, ['watch', '-o', 'json'], { env: srv.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Like `| head -1`: read the first line, then close the pipe.
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.stdout.destroy();
  // The next change makes watch write into the closed pipe.
  let n = 0;
  await eventually(
    'watch to end once it writes into the closed pipe',
    async () => {
      if (child.exitCode !== null) return true;
      assert.equal((await runGoman(['create', `p${3 + n++}`], { env: srv.env })).code, 0);
      return child.exitCode !== null;
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  assert.equal(await exited, 0);
  assert.doesNotMatch(stderr, /EPIPE|\n\s+at /);
});
