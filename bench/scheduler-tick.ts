// Scheduler tick benchmark on PostgreSQL (never run as a test):
//   npm run bench:scheduler -- [postgres-admin-url] [rows] [ticks]
//   GOMAN_BENCH_ROWS=1000000 npm run bench:scheduler
// Seeds `rows` clusters (argv, else GOMAN_BENCH_ROWS, default 100 000), all due, in a fresh database, runs the real
// scheduler with one claim of `batch` rows per tick, and reports tick time (fence checks +
// claim + enqueue of 500 reconcile events) p50/p99 beside an empty `SELECT 1` round trip
// measured in the same run. Goal: a tick <= 50 ms.
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { startScheduler } from '../src/reconcile/scheduler.ts';
import type { TickInfo } from '../src/reconcile/scheduler.ts';
import { openStore } from '../src/store/open.ts';
import { freshPgDatabase } from '../test/helpers/peers.ts';
import { seedClusters } from './seed.ts';

if (process.argv[2]) process.env.GOMAN_TEST_DATABASE_URL = process.argv[2];
const rows = Number(process.argv[3] ?? process.env.GOMAN_BENCH_ROWS ?? 100_000);
const ticks = Number(process.argv[4] ?? 100);
const batch = 500;
const HOUR = 3_600_000;

function pct(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

const db = await freshPgDatabase();
try {
  const store = await openStore({ databaseUrl: db.url, dataDir: '/nonexistent' });
  await seedClusters(store, db.url, rows);
  console.log(`seeded ${rows} clusters, all due`);

  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const rtt: number[] = [];
  for (let i = 0; i < 500; i++) {
    const t = performance.now();
    await client.query('SELECT 1');
    rtt.push(performance.now() - t);
  }
  await client.end();

  // Per-call timings, to show where a tick's time goes.
  const spent: Record<'claim' | 'enqueue' | 'fence', number[]> = { claim: [], enqueue: [], fence: [] };
  const timed = <A extends unknown[], R>(key: keyof typeof spent, fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      const t = performance.now();
      try {
        return await fn(...a);
      } finally {
        spent[key].push(performance.now() - t);
      }
    };
  const done: TickInfo[] = [];
  let finished: () => void = () => undefined;
  const allDone = new Promise<void>((resolve) => (finished = resolve));
  const sched = startScheduler({
    store: {
      claimDueClusters: timed('claim', (now: Date, limit: number, iv: { activeMs: number; stableMs: number }) => store.claimDueClusters(now, limit, iv)),
      enqueueReconcile: timed('enqueue', (ids: readonly string[]) => store.enqueueReconcile(ids)),
    },
    leases: {
      acquireLease: (n, o, ttl) => store.acquireLease(n, o, ttl),
      renewLease: (l, ttl) => store.renewLease(l, ttl),
      releaseLease: (l) => store.releaseLease(l),
      checkFence: timed('fence', (n: string, token: number) => store.checkFence(n, token)),
    },
    owner: 'bench',
    tickMs: 1,
    batch,
    maxBatchesPerTick: 1,
    activeIntervalMs: HOUR,
    stableIntervalMs: HOUR,
    onTick: (info) => {
      done.push(info);
      if (done.length >= ticks + 5) finished();
    },
  });
  await allDone;
  await sched.stop();
  // The first few ticks warm the connection pool and plan cache.
  const measured = done.slice(5);
  const times = measured.map((tk) => tk.finishedAt - tk.startedAt);
  const enq = measured.map((tk) => tk.enqueued);
  const p50 = pct(times, 0.5);
  const rtt50 = pct(rtt, 0.5);
  console.log(`SELECT 1 round trip: p50 ${rtt50.toFixed(3)} ms, p99 ${pct(rtt, 0.99).toFixed(3)} ms`);
  console.log(
    `scheduler tick (claim ${batch} due of ${rows} + enqueue): ${measured.length} ticks, ` +
      `enqueued ${Math.min(...enq)}..${Math.max(...enq)} per tick, p50 ${p50.toFixed(2)} ms, p99 ${pct(times, 0.99).toFixed(2)} ms, ` +
      `p50 = ${(p50 / rtt50).toFixed(0)}x SELECT 1; goal <= 50 ms: ${pct(times, 0.99) <= 50 ? 'met' : 'NOT met'} at p99`,
  );
  for (const [key, values] of Object.entries(spent)) {
    const v = values.slice(5);
    console.log(`  ${key}: p50 ${pct(v, 0.5).toFixed(2)} ms, p99 ${pct(v, 0.99).toFixed(2)} ms`);
  }
  await store.close();
} finally {
  await db.drop();
}
