// bench:api — HTTP throughput and latency of the API on PostgreSQL against the physical limit:
// in the same run, in a process of its own, a bare fastify app with a pg pool of the same size
// does the same PostgreSQL work with nothing else, its statements named as goman's hot ones are
// (planned once per connection): a primary-key select for GET, and for PUT the issue's minimal
// report transaction (upsert the report, append the outbox, update the row; goman itself keeps
// the report in the row alone since migration 006), sent as goman sends one report: a read, then
// one statement that writes only if the row has not changed, and the locking transaction when
// it has. The limit does one report per request; goman shares that read and that statement
// among the reports that arrive together (docs/store.md), so on spread rows it can pass the
// limit. An empty route shows the HTTP floor. Each server runs in a child process so
// autocannon (here) and the servers share no event loop. The status PUT runs twice: on 4 hot
// rows (row-lock contention) and spread over 1 000 clusters.
//
//   npm run bench:api -- [--duration 10] [--rounds 5] [--connections 50]
//
// Each route and its limit run in `rounds` alternating slices of duration/rounds seconds.
// Besides req/s, each row shows the CPU its server process and the database's PostgreSQL
// backends spent per request (from /proc; PostgreSQL's only when it runs on this machine): on
// 2 cores, autocannon, the server and PostgreSQL share them, so throughput follows their sum.
//
// Database: GOMAN_BENCH_DATABASE_URL, else a fresh database created (and dropped) on
// postgres://postgres@127.0.0.1:5432/test. Goals: GET >= 80 % of the bare select route; PUT
// >= 80 % of the bare transaction route, hot and spread.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import pg from 'pg';
import { pino } from 'pino';
import { buildApi } from '../src/api/app.ts';
import { issueToken } from '../src/api/tokens.ts';
import { clusterSpecSchema } from '../src/domain/index.ts';
import { openStore } from '../src/store/open.ts';
import { POOL_SIZE } from '../src/store/postgres/index.ts';
import { backendCpu, backendCpuSpent, cpuSeconds } from './proc.ts';
import { seedClusters } from './seed.ts';

interface Ready {
  api: string;
  token: string;
  clusterId: string;
  hot: string[];
  spread: string[];
  /** Rows of their own for the bare routes, whose writes are not goman's stored shape. */
  bareHot: string[];
  bareSpread: string[];
}

interface BareReady {
  empty: string;
  bare: string;
}

const CONTROLLERS = ['bench-a', 'bench-b', 'bench-c'];
const SPREAD = 1_000;

/** The report paths: every pair of cluster and controller. */
function reportsFor(ids: readonly string[], controllers: readonly string[]): string[] {
  return ids.flatMap((id) => controllers.map((name) => `/api/v1/clusters/${id}/status/${name}`));
}

async function serve(databaseUrl: string): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'goman-bench-api-'));
  const store = await openStore({ databaseUrl, dataDir: dir });
  const app = await buildApi({
    store,
    auth: { mode: 'token' },
    // Errors only: a failing request in a benchmark must say why.
    logger: pino({ level: 'error' }),
    version: 'bench',
    topology: 'service',
    providers: ['sim'],
    rateLimit: { max: 100_000_000, windowMs: 60_000 },
  });
  const token = (await issueToken(store, { subject: 'bench', role: 'admin' })).token;
  const spec = clusterSpecSchema.parse({ provider: 'sim', nodePools: [{ name: 'w', count: 3 }] });
  const hot = [];
  for (let i = 0; i < 8; i++) hot.push((await store.createCluster({ name: `hot-${i}`, labels: {}, spec, createdBy: 'bench' })).id);
  await seedClusters(store, databaseUrl, 2 * SPREAD);
  const spread = (await store.listClusters({ limit: 2 * SPREAD + 10 })).items.filter((c) => c.name === 'seed' || /^b\d+$/.test(c.name)).map((c) => c.id);
  for (const name of CONTROLLERS) await store.registerController(name, { providers: ['sim'], required: true });
  const ready: Ready = {
    api: await app.listen({ host: '127.0.0.1', port: 0 }),
    token,
    clusterId: hot[0]!,
    hot: reportsFor(hot.slice(0, 4), CONTROLLERS),
    spread: reportsFor(spread.slice(0, SPREAD), CONTROLLERS.slice(0, 1)),
    bareHot: reportsFor(hot.slice(4), CONTROLLERS),
    bareSpread: reportsFor(spread.slice(SPREAD), CONTROLLERS.slice(0, 1)),
  };
  process.send!(ready);
  process.on('disconnect', () => {
    void app.close().then(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  });
}

/**
 * The limit: fastify and a pg pool of goman's size doing only the PostgreSQL work of each
 * route. GET is one primary-key select; PUT is the least a status report must write — upsert
 * the report, append the outbox row, update the row — atomically, in goman's round trips.
 */
async function serveBare(databaseUrl: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: POOL_SIZE });
  // The report table the issue's limit writes: every report upserts its record there. goman's
  // own controller_statuses no longer holds records (migration 006: they live in the row's status).
  await pool.query(`CREATE TABLE IF NOT EXISTS bare_reports (
    cluster_id text NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    controller text NOT NULL,
    status jsonb NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (cluster_id, controller)
  )`);
  const empty = Fastify({ logger: false });
  empty.get('/', async () => ({}));
  const bare = Fastify({ logger: false });
  bare.get<{ Params: { id: string } }>('/api/v1/clusters/:id', async (request, reply) => {
    const { rows } = await pool.query({ name: 'bare_get', text: 'SELECT * FROM clusters WHERE id = $1', values: [request.params.id] });
    if (rows.length === 0) return reply.code(404).send({});
    return rows[0] as Record<string, unknown>;
  });
  // goman's shape of a report, so that the limit takes the fewest round trips too: read the row
  // without a lock, then one statement that writes only if the row is still at that version; the
  // locking transaction only when another write landed in between. Every statement is named, as
  // goman names its hot ones: PostgreSQL plans each once per connection.
  const writes = (gated: boolean): string => `WITH ${gated ? 'g AS (SELECT id FROM clusters WHERE id = $1 AND resource_version = $8 FOR UPDATE), ' : ''}r AS (
       INSERT INTO bare_reports (cluster_id, controller, status, updated_at) ${gated ? 'SELECT $1, $2, $3, $4 FROM g' : 'VALUES ($1, $2, $3, $4)'}
       ON CONFLICT (cluster_id, controller) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at
     ), o AS (
       INSERT INTO outbox (event_id, type, cluster_id, name, provider, generation, at)
       ${gated ? "SELECT gen_random_uuid()::text, 'cluster.status', $1, $5, $6, $7, $4 FROM g" : "VALUES (gen_random_uuid()::text, 'cluster.status', $1, $5, $6, $7, $4)"} RETURNING seq
     )
     UPDATE clusters SET resource_version = (SELECT seq FROM o), updated_at = $4 WHERE id = $1${gated ? ' AND EXISTS (SELECT 1 FROM g)' : ''}`;
  const gatedWrites = writes(true);
  const lockedWrites = writes(false);
  // As goman does, a row whose gated statement lost goes straight to the lock for 10 s.
  const contendedUntil = new Map<string, number>();
  type Row = { name: string; provider: string; generation: number; resource_version: string };
  bare.put<{ Params: { id: string; controller: string }; Body: Record<string, unknown> }>('/api/v1/clusters/:id/status/:controller', async (request) => {
    const { id, controller } = request.params;
    const status = JSON.stringify(request.body);
    const client = await pool.connect();
    try {
      const params = (row: Row): unknown[] => [id, controller, status, new Date().toISOString(), row.name, row.provider, row.generation];
      if ((contendedUntil.get(id) ?? 0) <= Date.now()) {
        const read = (await client.query<Row>({ name: 'bare_read', text: 'SELECT name, provider, generation, resource_version FROM clusters WHERE id = $1', values: [id] })).rows[0]!;
        const gated = await client.query({ name: 'bare_gated', text: gatedWrites, values: [...params(read), read.resource_version] });
        if (gated.rowCount === 1) return { ok: true };
        contendedUntil.set(id, Date.now() + 10_000);
      }
      await client.query('BEGIN');
      try {
        const locked = (await client.query<Row>({ name: 'bare_lock', text: 'SELECT name, provider, generation, resource_version FROM clusters WHERE id = $1 FOR UPDATE', values: [id] })).rows[0]!;
        await client.query({ name: 'bare_locked', text: lockedWrites, values: params(locked) });
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw err;
      }
      return { ok: true };
    } finally {
      client.release();
    }
  });
  const ready: BareReady = { empty: await empty.listen({ host: '127.0.0.1', port: 0 }), bare: await bare.listen({ host: '127.0.0.1', port: 0 }) };
  process.send!(ready);
  process.on('disconnect', () => {
    void Promise.all([empty.close(), bare.close()]).then(async () => {
      await pool.end();
      process.exit(0);
    });
  });
}

interface Figures {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  requests: number;
  /** CPU seconds of the server process and of PostgreSQL's backends over the run. */
  cpu: { server: number; postgres: number };
}

/** A server under load: its process, and how to read its database backends' CPU so far. */
interface Target {
  pid: number;
  postgres: (seen: Map<number, number>) => Promise<void>;
}

async function load(name: string, target: Target, opts: autocannon.Options): Promise<Figures> {
  const before = { server: cpuSeconds(target.pid), postgres: new Map<number, number>() };
  await target.postgres(before.postgres);
  const r = await autocannon(opts);
  const after = { server: cpuSeconds(target.pid), postgres: new Map<number, number>() };
  await target.postgres(after.postgres);
  const bad = r.non2xx + r.errors + r.timeouts;
  if (bad > 0) {
    const codes = Object.entries(r.statusCodeStats ?? {}).filter(([code]) => !code.startsWith('2'));
    console.error(`${name}: ${bad} failed — status ${JSON.stringify(Object.fromEntries(codes.map(([c, v]) => [c, v.count])))}, ${r.errors} errors, ${r.timeouts} timeouts`);
  }
  const cpu = { server: after.server - before.server, postgres: backendCpuSpent(before.postgres, after.postgres) };
  return { name, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: bad, requests: r.requests.total, cpu };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

/**
 * A route and its limit, in alternating slices (limit, route, route, limit, …): this machine's
 * speed drifts by up to 2x within minutes, and a drift then weighs on both alike. Figures are the
 * mean req/s and the median p50/p99 over the slices; `ratios` are per adjacent pair.
 */
type Run = [name: string, target: Target, opts: autocannon.Options];

async function versus(rounds: number, limit: Run, route: Run): Promise<{ limit: Figures; route: Figures; ratios: number[] }> {
  const runs: { limit: Figures[]; route: Figures[] } = { limit: [], route: [] };
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? (['limit', 'route'] as const) : (['route', 'limit'] as const);
    for (const which of order) {
      runs[which].push(await load(...(which === 'limit' ? limit : route)));
    }
  }
  const sum = (figures: Figures[], of: (f: Figures) => number): number => figures.reduce((a, f) => a + of(f), 0);
  const combine = (name: string, figures: Figures[]): Figures => ({
    name,
    rps: sum(figures, (f) => f.rps) / figures.length,
    p50: median(figures.map((f) => f.p50)),
    p99: median(figures.map((f) => f.p99)),
    errors: sum(figures, (f) => f.errors),
    requests: sum(figures, (f) => f.requests),
    cpu: { server: sum(figures, (f) => f.cpu.server), postgres: sum(figures, (f) => f.cpu.postgres) },
  });
  return {
    limit: combine(limit[0], runs.limit),
    route: combine(route[0], runs.route),
    ratios: runs.route.map((f, i) => f.rps / (runs.limit[i]?.rps ?? NaN)),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { duration: { type: 'string', default: '10' }, rounds: { type: 'string', default: '5' }, connections: { type: 'string', default: '50' } },
  });
  const rounds = Number(values.rounds);
  const slice = Number(values.duration) / rounds;
  const connections = Number(values.connections);

  let databaseUrl = process.env.GOMAN_BENCH_DATABASE_URL;
  let drop: (() => Promise<void>) | null = null;
  if (!databaseUrl) {
    const admin = 'postgres://postgres@127.0.0.1:5432/test';
    const db = `goman_bench_${randomBytes(4).toString('hex')}`;
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    await c.query(`CREATE DATABASE ${db}`);
    await c.end();
    const u = new URL(admin);
    u.pathname = `/${db}`;
    databaseUrl = u.toString();
    drop = async () => {
      const d = new pg.Client({ connectionString: admin });
      await d.connect();
      await d.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await d.end();
    };
  }

  const apiChild = fork(new URL(import.meta.url).pathname, ['--serve', databaseUrl], { stdio: 'inherit' });
  const ready = await readyFrom<Ready>(apiChild);
  const bareChild = fork(new URL(import.meta.url).pathname, ['--bare', databaseUrl], { stdio: 'inherit' });
  const bareReady = await readyFrom<BareReady>(bareChild);
  const auth = { authorization: `Bearer ${ready.token}` };
  // The backends of the bench's database; their CPU is readable only where PostgreSQL runs here.
  const url = new URL(databaseUrl);
  const pgLocal = ['', 'localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  const meter = new pg.Client({ connectionString: databaseUrl });
  await meter.connect();
  const backends = (seen: Map<number, number>): Promise<void> => (pgLocal ? backendCpu(meter, url.pathname.slice(1), seen) : Promise.resolve());
  const goman: Target = { pid: apiChild.pid!, postgres: backends };
  const limit: Target = { pid: bareChild.pid!, postgres: backends };
  // One sequence over all connections, so that 50 reports in flight are on 50 different rows of
  // the 1 000 (autocannon's connections would each walk the same list from its start, in step),
  // and a message of its own in each, so that every report really writes, in goman as in the bare
  // route (a report that restates the stored one writes nothing in goman).
  let sent = 0;
  const puts = (base: string, paths: readonly string[]): autocannon.Options => ({
    connections,
    duration: slice,
    url: base,
    requests: [
      {
        method: 'PUT',
        headers: { ...auth, 'content-type': 'application/json' },
        setupRequest: (request) => {
          const n = sent++;
          const body = JSON.stringify({ observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True', reason: 'Bench', message: `report ${n}` }] });
          return { ...request, path: paths[n % paths.length], body };
        },
      },
    ],
  });
  try {
    const common = { connections, duration: slice };
    const empty = await load('empty fastify route', limit, { ...common, url: bareReady.empty });
    const get = await versus(
      rounds,
      ['bare: SELECT by primary key', limit, { ...common, url: `${bareReady.bare}/api/v1/clusters/${ready.clusterId}` }],
      ['GET /api/v1/clusters/{id}', goman, { ...common, url: `${ready.api}/api/v1/clusters/${ready.clusterId}`, headers: auth }],
    );
    const hot = await versus(
      rounds,
      ['bare: report transaction, 4 hot rows', limit, puts(bareReady.bare, ready.bareHot)],
      ['PUT …/status/{controller}, 4 hot rows', goman, puts(ready.api, ready.hot)],
    );
    const spread = await versus(
      rounds,
      [`bare: report transaction, ${SPREAD} rows`, limit, puts(bareReady.bare, ready.bareSpread)],
      [`PUT …/status/{controller}, ${SPREAD} rows`, goman, puts(ready.api, ready.spread)],
    );
    console.log(`\nbench:api — ${connections} connections, ${rounds} alternating slices of ${slice} s per route, PostgreSQL store, loopback, ${cpus().length} cores\n`);
    console.log(
      'route'.padEnd(48) + 'req/s'.padStart(10) + 'p50 ms'.padStart(9) + 'p99 ms'.padStart(9) + 'vs limit'.padStart(10) + 'slices'.padStart(14) + 'non-2xx'.padStart(9) +
        'CPU µs/req: server'.padStart(20) + 'PostgreSQL'.padStart(12),
    );
    const pct = (v: number): string => `${(100 * v).toFixed(0)} %`;
    const perRequest = (seconds: number, f: Figures): string => (f.requests > 0 ? ((1e6 * seconds) / f.requests).toFixed(0) : '—');
    const print = (f: Figures, vs = '', slices = ''): void => {
      const postgres = pgLocal && f !== empty ? perRequest(f.cpu.postgres, f) : '—';
      console.log(
        f.name.padEnd(48) + f.rps.toFixed(0).padStart(10) + String(f.p50).padStart(9) + String(f.p99).padStart(9) + vs.padStart(10) + slices.padStart(14) + String(f.errors).padStart(9) +
          perRequest(f.cpu.server, f).padStart(20) + postgres.padStart(12),
      );
    };
    print(empty);
    for (const pair of [get, hot, spread]) {
      print(pair.limit);
      print(pair.route, pct(pair.route.rps / pair.limit.rps), `${pct(Math.min(...pair.ratios))}–${pct(Math.max(...pair.ratios))}`);
    }
    const verdict = (pair: typeof get): string => `${pair.route.rps >= 0.8 * pair.limit.rps ? 'met' : 'MISSED'} (${pct(pair.route.rps / pair.limit.rps)})`;
    console.log(`\ngoal GET >= 80 % of the bare select: ${verdict(get)}`);
    console.log(`goal PUT >= 80 % of the bare transaction, 4 hot rows: ${verdict(hot)}`);
    console.log(`goal PUT >= 80 % of the bare transaction, ${SPREAD} rows: ${verdict(spread)}`);
  } finally {
    await meter.end();
    for (const child of [apiChild, bareChild]) {
      child.disconnect();
      await new Promise((r) => child.once('exit', r));
    }
    await drop?.();
  }
}

function readyFrom<T>(child: ChildProcess): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    child.once('message', (m) => resolve(m as T));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

if (process.argv[2] === '--serve') await serve(process.argv[3]!);
else if (process.argv[2] === '--bare') await serveBare(process.argv[3]!);
else await main();
