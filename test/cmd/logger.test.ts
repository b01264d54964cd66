// Logs a person can read (issue 15): human lines on a terminal, JSON otherwise. The "is a
// terminal" decision is injected (no pty); one real `goman serve` with piped output shows JSON.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger, logFormat, type LogFormat } from '../../src/cmd/logger.ts';
import { serveSettings, type ServeSettings } from '../../src/cmd/settings.ts';
import { startupSummary } from '../../src/cmd/serve.ts';
import { harness } from '../api/harness.ts';
import { eventually } from '../helpers/eventually.ts';
import { startServe } from '../helpers/serve.ts';

function capture(level: string, format: LogFormat): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const logger = createLogger(level, { format, destination: { write: (s: string) => void lines.push(...s.split('\n').filter(Boolean)) } });
  return { lines, logger };
}

test('a terminal gets human lines, anything else JSON, and GOMAN_LOG_FORMAT overrides both', () => {
  assert.equal(logFormat({}, true), 'human');
  assert.equal(logFormat({}, false), 'json');
  assert.equal(logFormat({ GOMAN_LOG_FORMAT: 'json' }, true), 'json');
  assert.equal(logFormat({ GOMAN_LOG_FORMAT: 'human' }, false), 'human');
  assert.throws(() => logFormat({ GOMAN_LOG_FORMAT: 'pretty' }, true), /GOMAN_LOG_FORMAT must be "json" or "human"/);
  const settings = (isTerminal: boolean, env = {}): ServeSettings['logFormat'] => serveSettings({}, env, isTerminal).logFormat;
  assert.equal(settings(true), 'human');
  assert.equal(settings(false), 'json');
  assert.equal(settings(true, { GOMAN_LOG_FORMAT: 'json' }), 'json');
});

test('human lines at info show warnings and errors only, one readable line each, secrets redacted', () => {
  const { lines, logger } = capture('info', 'human');
  logger.info('controller started');
  logger.warn({ cluster: 'c1', retryInMs: 250, err: 'boom here', token: 'sekret' }, 'reconcile failed');
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^\d\d:\d\d:\d\d\.\d{3} WARN {2}reconcile failed cluster=c1 retryInMs=250 err="boom here" token=\[redacted\]$/);
});

test('JSON lines stay JSON, with the level asked for', () => {
  const { lines, logger } = capture('info', 'json');
  logger.info({ cluster: 'c1' }, 'hello');
  assert.equal(lines.length, 1);
  assert.deepEqual(
    (({ msg, cluster, level }) => ({ msg, cluster, level }))(JSON.parse(lines[0]!) as Record<string, unknown>),
    { msg: 'hello', cluster: 'c1', level: 30 },
  );
});

test('at debug a human log has one line per request: method, path, status and time', async (t) => {
  const { lines, logger } = capture('debug', 'human');
  const h = await harness(t, { logger });
  const res = await h.call('admin', { method: 'GET', url: '/api/v1/clusters' });
  assert.equal(res.statusCode, 200);
  const requests = lines.filter((l) => / DEBUG request /.test(l));
  assert.equal(requests.length, 1, lines.join('\n'));
  assert.match(requests[0]!, /reqId=\S+ method=GET url=\/api\/v1\/clusters status=200 ms=\d/);
});

test('at info a human log prints nothing for a request that succeeded', async (t) => {
  const { lines, logger } = capture('info', 'human');
  const h = await harness(t, { logger });
  assert.equal((await h.call('admin', { method: 'GET', url: '/api/v1/clusters' })).statusCode, 200);
  assert.deepEqual(lines, []);
});

test('the start-up lines say the store, bus, controllers, console and admin token file', () => {
  const said = startupSummary({ databaseUrl: 'postgres://u:pw@db:5432/goman', dataDir: '/d', busUrl: 'nats://n:4222' }, 'http://127.0.0.1:8080', 'none', false);
  assert.equal(said.store, 'PostgreSQL postgres://db:5432/goman');
  assert.equal(said.bus, 'NATS nats://n:4222');
  assert.equal(said.controllers, 'none');
  assert.match(said.console, /not built/);
  assert.match(said['admin token'], /config\.yaml/);
  assert.doesNotMatch(JSON.stringify(said), /pw/);
  assert.equal(startupSummary({ databaseUrl: undefined, dataDir: '/d', busUrl: undefined }, 'http://h:1', 'sim (embedded)', true).console, 'http://h:1/');
});

test('goman serve with its output piped logs JSON lines, one per request at debug', async (t) => {
  const srv = await startServe({ env: { GOMAN_LOG_LEVEL: 'debug' } });
  t.after(() => srv.stop());
  await fetch(`${srv.url}/api/v1/clusters`, { headers: { authorization: `Bearer ${srv.token}` } });
  const request = await eventually('a JSON request line', () =>
    srv
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((r) => r.msg === 'request' && r.url === '/api/v1/clusters'),
  );
  assert.equal(request.status, 200);
  assert.match(srv.output(), /^ {2}store: +SQLite in /m);
  // Every reconcile run has an id in its log lines.
  const auth = { authorization: `Bearer ${srv.token}`, 'content-type': 'application/json' };
  assert.equal((await fetch(`${srv.url}/api/v1/clusters`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'logged' }) })).status, 201);
  const reconcile = await eventually('a reconcile line with its id', () =>
    srv
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((r) => r.msg === 'reconcile' && r.controller === 'sim-controller'),
  );
  assert.match(String(reconcile.reconcile), /^[0-9a-f]{12}$/);
});
