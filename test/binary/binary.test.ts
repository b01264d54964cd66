// The single executable (issue 15): `npm run build:binary` makes dist/goman-linux-x64; run from
// an empty directory with an empty environment (no node, no node_modules, no goman config) it
// serves, creates a cluster, waits for Ready, lists it as JSON and deletes it. Building takes
// ~20 s of one core, so this file builds once into a temp dir and runs everything against it.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { eventually } from '../helpers/eventually.ts';
import { privateNatsServer } from '../helpers/nats-server.ts';
import { freshPgDatabase } from '../helpers/peers.ts';
import { freePort } from '../helpers/serve.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
let dir = '';
let exe = '';

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'goman-binary-'));
  await promisify(execFile)(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(ROOT, 'scripts/build-binary.ts'), path.join(dir, 'out')], { cwd: ROOT });
  exe = path.join(dir, 'out', 'goman-linux-x64');
});
after(() => rm(dir, { recursive: true, force: true }));

/** Only what a fresh shell on a machine without Node.js has: `env -i PATH=/usr/bin:/bin HOME=…`. */
const bareEnv = (): Record<string, string> => ({ PATH: '/usr/bin:/bin', HOME: path.join(dir, 'home') });

function goman(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(exe, args, { cwd, env: bareEnv(), timeout: 60_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(new Error(err.message));
      else resolve({ code: typeof err?.code === 'number' ? err.code : 0, stdout, stderr });
    });
  });
}

test('the binary is under 120 MB and its checksum file names it', async () => {
  const size = (await stat(exe)).size;
  assert.ok(size < 120e6, `${size} bytes`);
  const sums = await readFile(path.join(dir, 'out', 'SHA256SUMS'), 'utf8');
  assert.equal(sums, `${createHash('sha256').update(await readFile(exe)).digest('hex')}  goman-linux-x64\n`);
});

/** `goman serve` from the binary in `cwd`, stopped after the test; `log` is what it printed. */
async function serveBinary(t: TestContext, cwd: string, env: Record<string, string> = {}): Promise<{ port: number; log: () => string }> {
  const port = await freePort();
  const server = spawn(exe, ['serve', '--listen', `127.0.0.1:${port}`], {
    cwd,
    env: { ...bareEnv(), GOMAN_SIM_BOOT_SECONDS: '0.2', GOMAN_SIM_INSTALL_SECONDS: '0.2', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  server.stdout.on('data', (d: Buffer) => void (out += d.toString()));
  server.stderr.on('data', (d: Buffer) => void (out += d.toString()));
  const exited = new Promise((resolve) => server.once('exit', resolve));
  t.after(async () => {
    server.kill('SIGTERM');
    await exited;
  });
  await eventually('the binary serving', async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok, { timeoutMs: 30_000 });
  return { port, log: () => out };
}

test('with no Node.js around: serve, create, wait for Ready, list -o json, delete', { timeout: 120_000 }, async (t) => {
  const cwd = await mkdtemp(path.join(dir, 'empty-'));
  const { port, log } = await serveBinary(t, cwd);
  await eventually('the start-up lines naming the embedded console', () => /console: +http:\/\/127\.0\.0\.1:\d+\/\n/.test(log()));
  // The web console is embedded.
  const page = await fetch(`http://127.0.0.1:${port}/`);
  assert.equal(page.status, 200);

  const created = await goman(['create', 'demo', '--wait', '--timeout', '60s'], cwd);
  assert.equal(created.code, 0, created.stderr);
  // The TUI, on a real terminal (tmux), shows the cluster.
  const session = `goman-binary-${process.pid}`;
  const tmux = (...args: string[]): Promise<string> => promisify(execFile)('tmux', args).then((r) => r.stdout);
  await tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '30', `env -i PATH=/usr/bin:/bin HOME=${bareEnv().HOME} TERM=xterm ${exe}`);
  t.after(() => tmux('kill-session', '-t', session).catch(() => ''));
  await eventually('the TUI listing demo', async () => /demo/.test(await tmux('capture-pane', '-p', '-t', session)));
  await tmux('kill-session', '-t', session);

  const listed = await goman(['list', '-o', 'json'], cwd);
  assert.equal(listed.code, 0, listed.stderr);
  const items = JSON.parse(listed.stdout) as { metadata?: { name: string }; name?: string; status: { phase: string } }[] | { items: { status: { phase: string } }[] };
  const clusters = Array.isArray(items) ? items : items.items;
  assert.deepEqual(clusters.map((c) => c.status.phase), ['Ready']);
  const deleted = await goman(['delete', 'demo', '--yes', '--wait', '--timeout', '60s'], cwd);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.equal((await goman(['get', 'demo'], cwd)).code !== 0, true);
});

// On PostgreSQL + NATS the outbox relay runs in a worker thread, which runs the binary's own
// bundle: every event, the scheduler's included, reaches the controllers through it.
test('on PostgreSQL and NATS: the relay thread runs from the binary, and a cluster reaches Ready', { timeout: 120_000 }, async (t) => {
  const nats = await privateNatsServer(t);
  if (nats === null) return;
  t.after(() => nats.dispose());
  const db = await freshPgDatabase();
  t.after(() => db.drop());
  const cwd = await mkdtemp(path.join(dir, 'empty-'));
  const { port, log } = await serveBinary(t, cwd, { GOMAN_DATABASE_URL: db.url, GOMAN_BUS_URL: nats.url });
  // Registered once the thread has its own store and bus (it starts after the port answers).
  await eventually('the relay thread started', async () => /^goman_outbox_lag_seconds 0$/m.test(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()));
  // The first test's server left context "local" behind: this one says which name it chose.
  const context = /as context "([^"]+)"/.exec(log())?.[1] ?? 'local';
  const created = await goman(['create', 'demo', '--wait', '--timeout', '60s', '--context', context], cwd);
  assert.equal(created.code, 0, `${created.stderr}\n${log()}`);
  assert.doesNotMatch(log(), /relay thread/);
});

test('snapshot and recipe (its data embedded) run from the binary', async () => {
  const cwd = await mkdtemp(path.join(dir, 'empty-'));
  const recipe = await goman(['recipe', '--service', 'eks', '--accelerator', 'h100', '--intent', 'training', '-o', 'json'], cwd);
  assert.equal(recipe.code, 0, recipe.stderr);
  assert.ok(JSON.parse(recipe.stdout));
  const snapshot = await goman(['snapshot', '-o', 'json'], cwd);
  assert.equal(snapshot.code, 0, snapshot.stderr);
  assert.ok(JSON.parse(snapshot.stdout));
});
