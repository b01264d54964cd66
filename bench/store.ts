// Store micro-benchmark on PostgreSQL (never run as a test):
//   node bench/store.ts [postgres-admin-url] [rows]
// Seeds `rows` clusters in a fresh database, then measures getCluster and reportStatus
// latency under 50 concurrent callers and one claimDueClusters batch, and prints the plan of
// the claim query so an index scan can be confirmed.
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import pg from 'pg';
import { openStore } from '../src/store/open.ts';
import { postgresKysely } from '../src/store/postgres/index.ts';
import { freshPgDatabase } from '../test/helpers/peers.ts';
import { seedClusters } from './seed.ts';

const rows = Number(process.argv[3] ?? 100_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const OPS = 5000;

function p(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

async function measure(label: string, op: (i: number) => Promise<unknown>): Promise<void> {
  const times: number[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < OPS) {
      const i = next++;
      const t = performance.now();
      await op(i);
      times.push(performance.now() - t);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const s = (performance.now() - t0) / 1000;
  console.log(`${label}: ${OPS} ops, ${CONCURRENCY} concurrent, ${(OPS / s).toFixed(0)}/s, p50 ${p(times, 0.5).toFixed(2)} ms, p99 ${p(times, 0.99).toFixed(2)} ms`);
}

const db = await freshPgDatabase();
try {
  const store = await openStore({ databaseUrl: db.url, dataDir: '/nonexistent' });
  await store.registerController('bench', { providers: ['sim'], required: true });
  await seedClusters(store, db.url, rows);
  const k = postgresKysely(db.url, 1);
  const ids = (await sql<{ id: string }>`SELECT id FROM clusters ORDER BY random() LIMIT 2000`.execute(k)).rows.map((r) => r.id);
  console.log(`seeded ${rows} clusters`);

  await measure('getCluster by id', (i) => store.getCluster(ids[i % ids.length] ?? ''));
  await measure('reportStatus', (i) =>
    store.reportStatus(ids[i % ids.length] ?? '', 'bench', {
      observedGeneration: 1,
      conditions: [{ type: 'Ready', status: i % 2 ? 'True' : 'False', reason: '', message: '' }],
    }),
  );
  const now = new Date();
  const t = performance.now();
  const claimed = await store.claimDueClusters(now, 500, { activeMs: 30_000, stableMs: 300_000 });
  console.log(`claimDueClusters(limit 500) over ${rows} rows: ${claimed.length} claimed in ${(performance.now() - t).toFixed(1)} ms`);
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const plan = await client.query<{ 'QUERY PLAN': string }>(
    `EXPLAIN SELECT cluster_id FROM reconcile_schedule WHERE next_reconcile_at <= $1 ORDER BY next_reconcile_at LIMIT 500 FOR UPDATE SKIP LOCKED`,
    [now.toISOString()],
  );
  console.log(plan.rows.map((r) => r['QUERY PLAN']).join('\n'));
  await client.end();
  await k.destroy();
  await store.close();
} finally {
  await db.drop();
}
