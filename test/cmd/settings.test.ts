// Settings of `goman serve` and `goman controller`: every combination of database, bus and
// controllers either shares state with the control plane or is refused up front with one line
// naming the missing setting. The table runs through the resolvers; real subprocesses check that
// the refusal is what a user sees (before, a worker with a bus but no database silently used a
// private SQLite, and one without a bus printed "controller started" and died).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { controllerSettings, serveSettings } from '../../src/cmd/settings.ts';
import { isGomanError } from '../../src/domain/index.ts';
import { cleanEnv, runGoman } from '../helpers/serve.ts';

const PG = 'postgres://127.0.0.1:5432/test';
const NATS = 'nats://127.0.0.1:4222';

type Outcome = 'ok' | RegExp;

/** Runs a resolver: 'ok', or the one-line message it refused with. */
function outcome(resolve: () => unknown): string {
  try {
    resolve();
    return 'ok';
  } catch (e) {
    assert.ok(isGomanError(e, 'VALIDATION_FAILED'), `a validation error, not ${String(e)}`);
    assert.doesNotMatch(e.message, /\n/, 'one line');
    return e.message;
  }
}

function check(label: string, got: string, want: Outcome): void {
  if (want === 'ok') assert.equal(got, 'ok', label);
  else assert.match(got, want, label);
}

test('every serve setting combination shares state with its controllers, or is refused naming the missing setting', () => {
  // [database, bus, controllers, expected]; each also given by flag instead of environment.
  const table: [boolean, boolean, boolean, Outcome][] = [
    [false, false, true, 'ok'], // embedded: one process owns SQLite, bus and controllers
    [false, false, false, 'ok'], // embedded API only: nothing else acts on its state
    [true, true, true, 'ok'],
    [true, true, false, 'ok'], // service replica
    [true, false, true, 'ok'], // one server on PostgreSQL, its own controllers hear its own bus
    [true, false, false, /--no-controllers .*needs --bus-url \(GOMAN_BUS_URL\)/],
    [false, true, true, /GOMAN_BUS_URL needs --database-url \(GOMAN_DATABASE_URL\)/],
    [false, true, false, /GOMAN_BUS_URL needs --database-url \(GOMAN_DATABASE_URL\)/],
  ];
  for (const [db, bus, controllers, want] of table) {
    const label = `serve database=${db} bus=${bus} controllers=${controllers}`;
    const env = { ...(db ? { GOMAN_DATABASE_URL: PG } : {}), ...(bus ? { GOMAN_BUS_URL: NATS } : {}) };
    check(`${label} (environment)`, outcome(() => serveSettings({ controllers }, env)), want);
    const flags = { controllers, ...(db ? { databaseUrl: PG } : {}), ...(bus ? { busUrl: NATS } : {}) };
    const byFlag = want === 'ok' ? want : new RegExp(want.source.replace('GOMAN_BUS_URL needs', '--bus-url needs'));
    check(`${label} (flags)`, outcome(() => serveSettings(flags, {})), byFlag);
  }
});

test('every controller setting combination shares the server\'s database and bus, or is refused naming what is missing', () => {
  const table: [source: 'bus' | 'sqs' | undefined, db: boolean, bus: boolean, want: Outcome][] = [
    [undefined, true, true, 'ok'],
    ['bus', true, true, 'ok'],
    [undefined, false, true, /^goman controller needs --database-url \(GOMAN_DATABASE_URL\): /],
    [undefined, true, false, /^goman controller needs --bus-url \(GOMAN_BUS_URL\): /],
    [undefined, false, false, /^goman controller needs --database-url \(GOMAN_DATABASE_URL\) and --bus-url \(GOMAN_BUS_URL\): /],
    ['sqs', false, false, 'ok'],
    ['sqs', true, false, /^--database-url has no effect with --source sqs/],
    ['sqs', false, true, /^--bus-url has no effect with --source sqs/],
  ];
  for (const [source, db, bus, want] of table) {
    const label = `controller source=${source ?? 'default'} database=${db} bus=${bus}`;
    const flags = { provider: 'aws' as const, source, ...(db ? { databaseUrl: PG } : {}), ...(bus ? { busUrl: NATS } : {}) };
    check(`${label} (flags)`, outcome(() => controllerSettings(flags, {})), want);
    if (source !== 'sqs') {
      const env = { ...(db ? { GOMAN_DATABASE_URL: PG } : {}), ...(bus ? { GOMAN_BUS_URL: NATS } : {}) };
      check(`${label} (environment)`, outcome(() => controllerSettings({ provider: 'sim', source }, env)), want);
    }
  }
  // The queue worker ignores the service topology's environment (it may be set for other processes).
  check('sqs with GOMAN_DATABASE_URL set', outcome(() => controllerSettings({ provider: 'aws', source: 'sqs' }, { GOMAN_DATABASE_URL: PG })), 'ok');
  check('sqs with the sim provider', outcome(() => controllerSettings({ provider: 'sim', source: 'sqs' }, {})), /use --provider aws/);
  check('a bad bus URL', outcome(() => controllerSettings({ provider: 'sim', busUrl: 'http://x', databaseUrl: PG }, {})), /^--bus-url must be a nats:\/\/ URL/);
});

test('a misconfigured controller worker refuses to start with one line, before touching anything', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'goman-settings-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const env = cleanEnv({ XDG_CONFIG_HOME: path.join(dir, 'config'), GOMAN_DATA_DIR: path.join(dir, 'data') });
  const cases: [string[], Record<string, string>, RegExp][] = [
    [['--provider', 'sim', '--bus-url', NATS], {}, /needs --database-url \(GOMAN_DATABASE_URL\):/],
    [['--provider', 'sim'], { GOMAN_DATABASE_URL: PG }, /needs --bus-url \(GOMAN_BUS_URL\):/],
  ];
  for (const [args, extra, want] of cases) {
    const r = await runGoman(['controller', ...args], { env: { ...env, ...extra }, timeoutMs: 30_000 });
    assert.equal(r.code, 2, `exit code of ${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line: ${r.stderr}`);
    assert.match(lines[0]!, want);
    assert.doesNotMatch(r.stderr + r.stdout, /controller started|top-level await/);
  }
  // No private SQLite was created on the way.
  assert.throws(() => rmSync(path.join(dir, 'data'), { recursive: false }), /ENOENT/);
});

test('rate limits come from GOMAN_RATE_LIMIT and GOMAN_CONTROLLER_RATE_LIMIT; a bad value names the variable', () => {
  assert.deepEqual(serveSettings({}, {}, false).rateLimit, { max: undefined, controllerMax: undefined });
  assert.deepEqual(serveSettings({}, { GOMAN_RATE_LIMIT: '120', GOMAN_CONTROLLER_RATE_LIMIT: '100000' }, false).rateLimit, { max: 120, controllerMax: 100_000 });
  for (const bad of ['0', '-1', '1.5', 'lots']) {
    assert.throws(() => serveSettings({}, { GOMAN_CONTROLLER_RATE_LIMIT: bad }, false), { message: `GOMAN_CONTROLLER_RATE_LIMIT must be a whole number of at least 1 (got "${bad}")` });
  }
});

test('the scheduler ticks every 200 ms unless GOMAN_SCHEDULER_TICK_SECONDS says otherwise; an interval of 0 or a bad value names the variable', () => {
  assert.deepEqual(serveSettings({}, {}, false).reconcile, { activeIntervalMs: 30_000, stableIntervalMs: 300_000, tickMs: 200 });
  assert.equal(serveSettings({}, { GOMAN_SCHEDULER_TICK_SECONDS: '0.5' }, false).reconcile.tickMs, 500);
  for (const name of ['GOMAN_SCHEDULER_TICK_SECONDS', 'GOMAN_RECONCILE_ACTIVE_SECONDS', 'GOMAN_RECONCILE_STABLE_SECONDS']) {
    assert.throws(() => serveSettings({}, { [name]: '0' }, false), { message: `${name} must be a number of seconds above 0 (got "0")` });
    assert.throws(() => serveSettings({}, { [name]: 'soon' }, false), { message: `${name} must be a number of seconds (got "soon")` });
  }
});

test('a bus worker reconciles GOMAN_CONTROLLER_CONCURRENCY clusters at once; a bad value names the variable', () => {
  const shared = { GOMAN_DATABASE_URL: 'postgres://db/goman', GOMAN_BUS_URL: 'nats://bus:4222' };
  const of = (env: Record<string, string>): number | undefined => {
    const s = controllerSettings({ provider: 'sim' }, { ...shared, ...env });
    return s.source === 'bus' ? s.concurrency : -1;
  };
  assert.equal(of({}), undefined);
  assert.equal(of({ GOMAN_CONTROLLER_CONCURRENCY: '32' }), 32);
  assert.throws(() => of({ GOMAN_CONTROLLER_CONCURRENCY: '0' }), { message: 'GOMAN_CONTROLLER_CONCURRENCY must be a whole number of at least 1 (got "0")' });
});
