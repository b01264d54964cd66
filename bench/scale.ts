// bench:scale — the service topology as a user runs it, as separate processes: 2 `goman serve
// --no-controllers` replicas and 2 `goman controller --provider sim` workers on PostgreSQL and a
// private JetStream nats-server, sim boot/install 0 s. For each N it creates N clusters through
// the API with `--clients` concurrent clients (round robin over the replicas) and reports:
// clusters/s from the first create to all Ready; event latency (outbox row `at` to delivery to a
// durable JetStream consumer, the controllers' path, in a thread of its own: latency-probe.ts); CPU seconds per cluster
// of PostgreSQL (the backends of this database), the API replicas and the controllers (from
// /proc); API replica RSS; transactions per cluster (pg_stat_database); events by type.
// Before each burst the fleet is warmed: WARM clusters are created and become Ready, and the
// figures count from the first create after that. A process that has served nothing runs cold
// code, and opens its connections and prepares its statements under the burst: the first
// 250 ms of a cold start held all of the 20 slowest events of a 1 000-cluster run (118 ms at
// p99, 2026-11-30). The warm-up's own events are reported apart, as the cold start.
//
//   npm run bench:scale -- [--clusters 1000,10000] [--clients 32] [--timeout 300] [--write-docs]
//   GOMAN_SCALE_CLUSTERS=200 npm run bench:scale
//
// --write-docs replaces the bench:scale block of docs/performance.md and writes
// docs/performance-scale.svg. Never run as a test.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { issueToken } from '../src/api/tokens.ts';
import { ApiClient } from '../src/client/api-client.ts';
import { clusterSpecSchema } from '../src/domain/index.ts';
import { openStore } from '../src/store/open.ts';
import { freshPgDatabase } from '../test/helpers/peers.ts';
import { cleanEnv, freePort, GOMAN_BIN } from '../test/helpers/serve.ts';
import { privateNats } from './nats.ts';
import type { Arrival } from './latency-probe.ts';
import { scaleChartSvg } from './scale-chart.ts';
import { backendCpu, backendCpuSpent, cpuSeconds, rssMb } from './proc.ts';

const { values } = parseArgs({
  options: {
    clusters: { type: 'string', default: process.env.GOMAN_SCALE_CLUSTERS ?? '1000,10000' },
    clients: { type: 'string', default: '32' },
    timeout: { type: 'string', default: '300' },
    'write-docs': { type: 'boolean', default: false },
  },
});
const SIZES = values.clusters.split(',').map(Number);
const CLIENTS = Number(values.clients);
const WARM = 200;
const TIMEOUT_MS = Number(values.timeout) * 1000;

export interface ScaleResult {
  clusters: number;
  readySeconds: number;
  notReady: number;
  perSecond: number;
  latency: { p50: number; p95: number; p99: number; max: number; count: number };
  /** The warm-up's events: latency from processes that had served nothing. */
  coldLatency: { p50: number; p99: number; count: number };
  events: Record<string, number>;
  cpuPerCluster: { postgres: number; api: number; controllers: number };
  xactPerCluster: number;
  rssMb: { start: number; peak: number; end: number };
}

function pct(sorted: readonly number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

interface Proc {
  name: string;
  child: ChildProcess;
  log: () => string;
}

/** Failed reconciles by cause (numbers masked), from the controllers' warn lines: what held a run back. */
const failures = new Map<string, number>();
function countFailures(text: string): void {
  for (const m of text.matchAll(/"msg":"reconcile failed"[^\n]*?"err":"([^"]{0,80})|"err":"([^"]{0,80})[^\n]*?"msg":"reconcile failed"/g)) {
    const cause = (m[1] ?? m[2] ?? '').replace(/\d+/g, '#');
    failures.set(cause, (failures.get(cause) ?? 0) + 1);
  }
}

function start(name: string, args: string[], env: Record<string, string>): Proc {
  const child = spawn(GOMAN_BIN, args, { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer): void => {
    const text = d.toString();
    if (name.startsWith('controller')) countFailures(text);
    out = (out + text).slice(-4_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { name, child, log: () => out };
}

async function stop(p: Proc): Promise<void> {
  if (p.child.exitCode !== null) return;
  const exited = new Promise((resolve) => p.child.once('exit', resolve));
  p.child.kill('SIGTERM');
  await Promise.race([exited, sleep(15_000).then(() => p.child.kill('SIGKILL'))]);
}

/** CPU seconds of this database's PostgreSQL backends (pids from pg_stat_activity). */
async function xacts(client: pg.Client, db: string): Promise<number> {
  const { rows } = await client.query<{ n: string }>('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1', [db]);
  return Number(rows[0]?.n ?? 0);
}

async function runOnce(n: number): Promise<ScaleResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'goman-scale-'));
  const nats = await privateNats(dir);
  const busUrl = nats.url;
  const procs: Proc[] = [];
  const db = await freshPgDatabase();
  const dbName = new URL(db.url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: db.url });
  try {
    await admin.connect();
    const common = {
      GOMAN_DATABASE_URL: db.url,
      GOMAN_BUS_URL: busUrl,
      GOMAN_LOG_LEVEL: 'warn',
      XDG_CONFIG_HOME: path.join(dir, 'config'),
      GOMAN_DATA_DIR: path.join(dir, 'data'),
    };
    const urls: string[] = [];
    // One replica at a time: the first one runs the migrations.
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const p = start(`api-${i}`, ['serve', '--no-controllers', '--listen', `127.0.0.1:${port}`], common);
      procs.push(p);
      await until(`api-${i} ready`, async () => {
        if (p.child.exitCode !== null) throw new Error(`api-${i} exited: ${p.log()}`);
        return (await fetch(`${url}/readyz`).catch(() => null))?.ok === true;
      });
      urls.push(url);
    }
    const store = await openStore({ databaseUrl: db.url, dataDir: dir });
    const adminToken = (await issueToken(store, { subject: 'bench', role: 'admin' })).token;
    for (let i = 0; i < 2; i++) {
      const token = (await issueToken(store, { subject: `sim-${i}`, role: 'controller' })).token;
      procs.push(
        start(`controller-${i}`, ['controller', '--provider', 'sim'], {
          ...common,
          GOMAN_SERVER: urls[i]!,
          GOMAN_TOKEN: token,
          GOMAN_SIM_BOOT_SECONDS: '0',
          GOMAN_SIM_INSTALL_SECONDS: '0',
          GOMAN_LOG_LEVEL: 'info',
        }),
      );
    }
    await until('both controllers started', () => {
      for (const p of procs) if (p.child.exitCode !== null) throw new Error(`${p.name} exited: ${p.log()}`);
      return procs.filter((p) => p.name.startsWith('controller') && p.log().includes('"controller started"')).length === 2;
    });
    const probe = new Worker(new URL('./latency-probe.ts', import.meta.url), { workerData: { busUrl } });
    await once(probe, 'message');
    // When the API acknowledged each create: with the arrival of its cluster.created event, what
    // the event pipeline adds after the write is done (the write's own time is request latency).
    const acked = new Map<string, number>();
    const spec = clusterSpecSchema.parse({ provider: 'sim', mode: 'dev', nodePools: [{ name: 'workers', count: 2 }] });
    const clients = urls.map((baseUrl) => new ApiClient({ baseUrl, token: adminToken }));
    const readyCount = async (): Promise<number> => (await store.countClusters()).filter((r) => r.phase === 'Ready').reduce((a, r) => a + r.count, 0);
    const createAll = (names: readonly string[]): Promise<void> => {
      let next = 0;
      return Promise.all(
        Array.from({ length: CLIENTS }, async (_, i) => {
          const api = clients[i % clients.length]!;
          while (next < names.length) {
            const name = names[next++]!;
            await api.createCluster({ name, spec });
            acked.set(name, Date.now());
          }
        }),
      ).then(() => undefined);
    };
    await createAll(Array.from({ length: WARM }, (_, i) => `warm-${i}`));
    await until(`the ${WARM} warm-up clusters Ready`, async () => (await readyCount()) >= WARM);
    await sleep(1_000);

    const pids = (prefix: string): number[] => procs.filter((p) => p.name.startsWith(prefix)).map((p) => p.child.pid!);
    const cpu = (prefix: string): number => pids(prefix).reduce((a, pid) => a + cpuSeconds(pid), 0);
    const pgBefore = new Map<number, number>();
    await backendCpu(admin, dbName, pgBefore);
    const before = { api: cpu('api'), controllers: cpu('controller'), xacts: await xacts(admin, dbName) };
    const rss = { start: pids('api').reduce((a, pid) => a + rssMb(pid), 0), peak: 0 };
    const pgAfter = new Map<number, number>();
    const sampler = setInterval(() => {
      rss.peak = Math.max(rss.peak, pids('api').reduce((a, pid) => a + rssMb(pid), 0));
      void backendCpu(admin, dbName, pgAfter).catch(() => undefined);
    }, 500);

    const t0 = performance.now();
    const burstStart = Date.now();
    const names = Array.from({ length: n }, (_, i) => `scale-${i}`);
    const creating = createAll(names);
    let ready = 0;
    let readyAt = performance.now();
    const deadline = Date.now() + TIMEOUT_MS;
    let reportAt = t0 + 10_000;
    failures.clear();
    for (;;) {
      ready = (await readyCount()) - WARM;
      readyAt = performance.now();
      if (ready >= n || Date.now() > deadline) break;
      if (readyAt >= reportAt) {
        console.error(`  ${n}: ${((readyAt - t0) / 1000).toFixed(0)} s: ${names.filter((name) => acked.has(name)).length} created, ${ready} Ready`);
        reportAt += 10_000;
      }
      await sleep(100);
    }
    await creating;
    // Every event written must have arrived, or the slowest would be left out of the figures.
    const written = async (): Promise<number> => Number((await admin.query<{ n: string }>('SELECT count(*) AS n FROM outbox')).rows[0]?.n);
    const arrived = async (): Promise<number> => {
      probe.postMessage('count');
      return ((await once(probe, 'message')) as [number])[0];
    };
    await until('every event at the probe', async () => (await arrived()) >= (await written()), 10_000);
    probe.postMessage('stop');
    const [all] = (await once(probe, 'message')) as [Arrival[]];
    await probe.terminate();
    // The burst's events are those written from its first create on, of any cluster.
    const arrivals = all.filter((a) => a.at >= burstStart);
    const cold = all.filter((a) => a.at < burstStart).map((a) => a.arrived - a.at).sort((a, b) => a - b);
    const latencies = arrivals.map((a) => a.arrived - a.at);
    const events: Record<string, number> = {};
    const byType: Record<string, number[]> = {};
    const createdSeen = new Map<string, number>();
    const writeToAck: number[] = [];
    for (const a of arrivals) {
      events[a.type] = (events[a.type] ?? 0) + 1;
      (byType[a.type] ??= []).push(a.arrived - a.at);
      if (a.type === 'cluster.created') {
        createdSeen.set(a.name, a.arrived);
        const ack = acked.get(a.name);
        if (ack !== undefined) writeToAck.push(ack - a.at);
      }
    }
    clearInterval(sampler);
    await backendCpu(admin, dbName, pgAfter);
    const pgSeconds = backendCpuSpent(pgBefore, pgAfter);
    const seconds = (readyAt - t0) / 1000;
    const sorted = latencies.sort((a, b) => a - b);
    const result: ScaleResult = {
      clusters: n,
      readySeconds: seconds,
      notReady: n - ready,
      perSecond: ready / seconds,
      latency: { p50: pct(sorted, 50), p95: pct(sorted, 95), p99: pct(sorted, 99), max: sorted.at(-1) ?? NaN, count: sorted.length },
      coldLatency: { p50: pct(cold, 50), p99: pct(cold, 99), count: cold.length },
      events,
      cpuPerCluster: { postgres: pgSeconds / n, api: (cpu('api') - before.api) / n, controllers: (cpu('controller') - before.controllers) / n },
      xactPerCluster: ((await xacts(admin, dbName)) - before.xacts) / n,
      rssMb: { start: rss.start, peak: rss.peak, end: pids('api').reduce((a, pid) => a + rssMb(pid), 0) },
    };
    for (const [type, v] of Object.entries(byType)) {
      v.sort((a, b) => a - b);
      console.error(`  ${n}: ${type} p50 ${pct(v, 50)} ms, p99 ${pct(v, 99)} ms`);
    }
    for (const [cause, count] of failures) console.error(`  ${n}: ${count} reconciles failed: ${cause}`);
    // Where an event's time goes: from its write's start to the relay marking it sent (the
    // write's own commit, the relay's poll and the publish), and the rest is delivery.
    const { rows: relayed } = await admin.query<{ p50: number; p99: number }>(
      `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99
         FROM (SELECT extract(epoch FROM sent_at - at) * 1000 AS ms FROM outbox WHERE sent_at IS NOT NULL) AS t`,
    );
    const afterAck = [...createdSeen].map(([name, at]) => Math.max(0, at - (acked.get(name) ?? at))).sort((a, b) => a - b);
    console.error(`  ${n}: cluster.created delivered after the API acknowledged the create: p50 ${pct(afterAck, 50)} ms, p99 ${pct(afterAck, 99)} ms (0: before the response was read)`);
    writeToAck.sort((a, b) => a - b);
    console.error(`  ${n}: the create's write start → its response read by the client: p50 ${pct(writeToAck, 50)} ms, p99 ${pct(writeToAck, 99)} ms`);
    console.error(`  ${n}: write start → relay marked sent: p50 ${Math.round(relayed[0]?.p50 ?? NaN)} ms, p99 ${Math.round(relayed[0]?.p99 ?? NaN)} ms`);
    console.error(`  ${n}: the warm-up's ${cold.length} events (a cold start): p50 ${pct(cold, 50)} ms, p99 ${pct(cold, 99)} ms`);
    await printRequestsPerCluster(urls, adminToken, n + WARM);
    await store.close();
    return result;
  } finally {
    await Promise.all(procs.map(stop));
    nats.stop();
    await admin.end().catch(() => undefined);
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What the fleet asked of the API, per cluster and by route, from both replicas' /metrics. */
async function printRequestsPerCluster(urls: readonly string[], token: string, n: number): Promise<void> {
  const byRoute = new Map<string, number>();
  for (const url of urls) {
    const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    for (const m of text.matchAll(/^goman_http_requests_total\{route="([^"]*)",method="([^"]*)",status="(\d+)"\} (\d+)/gm)) {
      const key = `${m[2]} ${m[1]} ${m[3]}`;
      byRoute.set(key, (byRoute.get(key) ?? 0) + Number(m[4]));
    }
  }
  const lines = [...byRoute].filter(([, count]) => count >= n / 100).sort((a, b) => b[1] - a[1]);
  console.error(`  ${n}: HTTP requests per cluster: ${lines.map(([key, count]) => `${key} ${(count / n).toFixed(2)}`).join('; ')}`);
}

function row(r: ScaleResult): string {
  const ms = (v: number): string => v.toFixed(0);
  const cpu = (v: number): string => (v * 1000).toFixed(2);
  return `| ${r.clusters} | ${r.readySeconds.toFixed(1)} | ${r.notReady} | ${r.perSecond.toFixed(0)} | ${ms(r.latency.p50)} / ${ms(r.latency.p95)} / ${ms(r.latency.p99)} | ${cpu(r.cpuPerCluster.postgres)} | ${cpu(r.cpuPerCluster.api)} | ${cpu(r.cpuPerCluster.controllers)} | ${r.xactPerCluster.toFixed(1)} | ${r.rssMb.start.toFixed(0)} → ${r.rssMb.peak.toFixed(0)} → ${r.rssMb.end.toFixed(0)} |`;
}

export function scaleTable(results: readonly ScaleResult[]): string {
  return [
    '| clusters | s to all Ready | not Ready | clusters/s | event latency p50 / p95 / p99 ms | PostgreSQL CPU ms/cluster | API CPU ms/cluster | controllers CPU ms/cluster | PG xacts/cluster | API RSS MB (2 replicas) start → peak → end |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...results.map(row),
  ].join('\n');
}

const results: ScaleResult[] = [];
for (const n of SIZES) {
  const r = await runOnce(n);
  results.push(r);
  console.log(JSON.stringify(r));
}
console.log(`\nbench:scale — ${new Date().toISOString()}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${CLIENTS} clients\n`);
console.log(scaleTable(results));
const big = results.find((r) => r.clusters === 10_000);
if (big) console.log(`\ngoal 10 000 Ready <= 60 s: ${big.notReady === 0 && big.readySeconds <= 60 ? 'met' : 'MISSED'} (${big.readySeconds.toFixed(1)} s, ${big.notReady} not Ready)`);
const first = results[0];
const last = results.at(-1);
if (first && last && first !== last) {
  const total = (r: ScaleResult): number => r.cpuPerCluster.postgres + r.cpuPerCluster.api + r.cpuPerCluster.controllers;
  console.log(`cost per cluster ${first.clusters} → ${last.clusters}: ${(total(last) / total(first)).toFixed(2)}x (goal <= 1.5x)`);
}
for (const r of results) {
  console.log(`event latency p99 at ${r.clusters}: ${r.latency.p99} ms (goal <= 50 ms); events ${JSON.stringify(r.events)}; the warm-up's (cold start) p99 ${r.coldLatency.p99} ms`);
}

if (values['write-docs']) {
  const docs = new URL('../docs/', import.meta.url);
  const file = new URL('performance.md', docs);
  const text = readFileSync(file, 'utf8');
  const begin = '<!-- bench:scale begin -->';
  const end = '<!-- bench:scale end -->';
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error('docs/performance.md lacks the bench:scale markers');
  const block = `${begin}\nMeasured ${new Date().toISOString().slice(0, 16)}Z, \`npm run bench:scale -- --clusters ${values.clusters} --write-docs\`, after a warm-up of ${WARM} clusters (its events, a cold start: p99 ${results.map((r) => `${r.coldLatency.p99} ms`).join(' / ')}):\n\n${scaleTable(results)}\n\n![bench:scale curve](performance-scale.svg)\n${end}`;
  writeFileSync(file, text.slice(0, i) + block + text.slice(j + end.length));
  writeFileSync(new URL('performance-scale.svg', docs), scaleChartSvg(results));
}
