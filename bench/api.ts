// bench:api — HTTP throughput and latency of the API on PostgreSQL, next to an empty fastify
// route on the same machine. The server runs in a child process so autocannon (here) and the
// server do not share an event loop.
//
//   npm run bench:api -- [--duration 10] [--connections 50]
//
// Database: GOMAN_BENCH_DATABASE_URL, else a fresh database created (and dropped) on
// postgres://postgres@127.0.0.1:5432/test. Goals: GET /clusters/{id} >= 50 % of the empty
// route's req/s with p99 <= 10 ms; the status PUT p99 <= 20 ms.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import pg from 'pg';
import { buildApi } from '../src/api/app.ts';
import { issueToken } from '../src/api/tokens.ts';
import { openStore } from '../src/store/open.ts';

interface Ready {
  empty: string;
  api: string;
  token: string;
  clusterId: string;
  reports: { path: string; body: string }[];
}

const CONTROLLERS = ['bench-a', 'bench-b', 'bench-c'];

async function serve(databaseUrl: string): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'goman-bench-api-'));
  const store = await openStore({ databaseUrl, dataDir: dir });
  const app = await buildApi({
    store,
    auth: { mode: 'token' },
    logger: false,
    version: 'bench',
    topology: 'service',
    providers: ['sim'],
    rateLimit: { max: 100_000_000, windowMs: 60_000 },
  });
  const empty = Fastify({ logger: false });
  empty.get('/', async () => ({}));
  const token = (await issueToken(store, { subject: 'bench', role: 'admin' })).token;
  const clusters = [];
  for (let i = 0; i < 4; i++) clusters.push(await store.createCluster({ name: `bench-${i}`, labels: {}, spec: { provider: 'sim', region: 'ap-south-1', mode: 'dev', k3sVersion: 'stable', instanceType: 't3.medium', desiredState: 'running', nodePools: [{ name: 'w', count: 3 }] }, createdBy: 'bench' }));
  for (const name of CONTROLLERS) await store.registerController(name, { providers: ['sim'], required: true });
  // Alternate Ready True/False across controllers and clusters, so every report really writes.
  const reports = [];
  for (const status of ['True', 'False']) {
    for (const c of clusters) {
      for (const name of CONTROLLERS) {
        reports.push({ path: `/api/v1/clusters/${c.id}/status/${name}`, body: JSON.stringify({ observedGeneration: 1, conditions: [{ type: 'Ready', status, reason: 'Bench', message: '' }] }) });
      }
    }
  }
  const ready: Ready = {
    empty: await empty.listen({ host: '127.0.0.1', port: 0 }),
    api: await app.listen({ host: '127.0.0.1', port: 0 }),
    token,
    clusterId: clusters[0]!.id,
    reports,
  };
  process.send!(ready);
  process.on('disconnect', () => {
    void Promise.all([app.close(), empty.close()]).then(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
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
}

async function load(name: string, opts: autocannon.Options): Promise<Figures> {
  const r = await autocannon(opts);
  const bad = r.non2xx + r.errors + r.timeouts;
  return { name, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: bad };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { duration: { type: 'string', default: '10' }, connections: { type: 'string', default: '50' } } });
  const duration = Number(values.duration);
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

  const child = fork(new URL(import.meta.url).pathname, ['--serve', databaseUrl], { stdio: 'inherit' });
  const ready = await new Promise<Ready>((resolve, reject) => {
    child.once('message', (m) => resolve(m as Ready));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const auth = { authorization: `Bearer ${ready.token}` };
  try {
    const common = { connections, duration };
    const empty = await load('empty fastify route', { ...common, url: ready.empty });
    const get = await load('GET /api/v1/clusters/{id}', { ...common, url: `${ready.api}/api/v1/clusters/${ready.clusterId}`, headers: auth });
    const put = await load('PUT /api/v1/clusters/{id}/status/{controller}', {
      ...common,
      url: ready.api,
      requests: ready.reports.map((r) => ({ method: 'PUT' as const, path: r.path, body: r.body, headers: { ...auth, 'content-type': 'application/json' } })),
    });
    console.log(`\nbench:api — ${connections} connections, ${duration} s each, PostgreSQL store, loopback\n`);
    console.log('route'.padEnd(48) + 'req/s'.padStart(10) + 'p50 ms'.padStart(9) + 'p99 ms'.padStart(9) + 'vs empty'.padStart(10) + 'non-2xx'.padStart(9));
    for (const f of [empty, get, put]) {
      console.log(f.name.padEnd(48) + f.rps.toFixed(0).padStart(10) + String(f.p50).padStart(9) + String(f.p99).padStart(9) + `${((100 * f.rps) / empty.rps).toFixed(0)} %`.padStart(10) + String(f.errors).padStart(9));
    }
    const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED');
    console.log(`\ngoal GET >= 50 % of empty and p99 <= 10 ms: ${verdict(get.rps >= empty.rps / 2 && get.p99 <= 10)}`);
    console.log(`goal PUT p99 <= 20 ms: ${verdict(put.p99 <= 20)}`);
  } finally {
    child.disconnect();
    await new Promise((r) => child.once('exit', r));
    await drop?.();
  }
}

if (process.argv[2] === '--serve') await serve(process.argv[3]!);
else await main();
