// bench:reads — list reads over a large fleet on PostgreSQL (never run as a test):
//   npm run bench:reads -- [rows]        (or GOMAN_BENCH_ROWS; default 100 000)
// Seeds `rows` clusters (labels env ∈ {prod, staging, dev} and team ∈ t0…t19; phase Ready 88 %,
// Provisioning 10 %, Failed 2 %), serves the API in a child process, and measures one client's
// sequential requests:
//   - a page of 500 from GET /clusters?labelSelector=env=prod,team=t3&phase=Ready (first page and
//     a later page by cursor), p50/p99, with the PostgreSQL plan; goal p99 <= 50 ms;
//   - cursor pagination through the whole fleet: time, and every cluster exactly once.
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { buildApi } from '../src/api/app.ts';
import { issueToken } from '../src/api/tokens.ts';
import { openStore } from '../src/store/open.ts';
import { postgresKysely } from '../src/store/postgres/index.ts';
import { freshPgDatabase } from '../test/helpers/peers.ts';
import { seedClusters } from './seed.ts';

const SELECTOR = 'env=prod,team=t3';
const PHASE = 'Ready';

function pct(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

async function serve(databaseUrl: string): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'goman-bench-reads-'));
  const store = await openStore({ databaseUrl, dataDir: dir });
  const app = await buildApi({ store, auth: { mode: 'token' }, logger: false, version: 'bench', topology: 'service', providers: ['sim'], rateLimit: { max: 1e9, windowMs: 60_000 } });
  const token = (await issueToken(store, { subject: 'bench', role: 'admin' })).token;
  process.send!({ url: await app.listen({ host: '127.0.0.1', port: 0 }), token });
  process.on('disconnect', () => {
    void app.close().then(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  });
}

/** Varied labels, phases and creation times over the seeded copies, so selectors and filters have something to select. */
async function vary(databaseUrl: string): Promise<void> {
  const k = postgresKysely(databaseUrl, 1);
  try {
    await sql`UPDATE clusters SET
        labels = jsonb_build_object('env', (ARRAY['prod', 'staging', 'dev'])[1 + g % 3], 'team', 't' || (g / 3) % 20),
        phase = CASE WHEN g % 50 = 7 THEN 'Failed' WHEN g % 10 = 1 THEN 'Provisioning' ELSE 'Ready' END,
        -- A fleet is created over time: copies sharing one created_at would make the planner
        -- misjudge keyset cursors (every row ties on the first key).
        created_at = created_at - make_interval(secs => 100000000 - g)
      FROM (SELECT id AS gid, coalesce(nullif(substr(name, 2), 'eed'), '0')::int AS g FROM clusters) AS n
      WHERE clusters.id = n.gid`.execute(k);
    await sql`UPDATE clusters SET status = jsonb_set(status::jsonb, '{phase}', to_jsonb(phase))`.execute(k);
    await sql`VACUUM ANALYZE clusters`.execute(k);
  } finally {
    await k.destroy();
  }
}

/** The plans of the first filtered page and of a later one (after the keyset cursor `after`). */
async function explain(databaseUrl: string, after: [string, string] | null): Promise<string> {
  const k = postgresKysely(databaseUrl, 1);
  const filter = sql`phase = ${PHASE} AND clusters.labels @> jsonb_build_object('env'::text, 'prod'::text) AND clusters.labels @> jsonb_build_object('team'::text, 't3'::text)`;
  try {
    const plans: string[] = [];
    for (const keyset of after ? [sql`true`, sql`(created_at, id) > (${after[0]}::timestamptz, ${after[1]})`] : [sql`true`]) {
      const { rows } = await sql<{ 'QUERY PLAN': string }>`EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM clusters WHERE ${filter} AND ${keyset} ORDER BY created_at, id LIMIT 501`.execute(k);
      plans.push(rows.map((r) => r['QUERY PLAN']).join('\n'));
    }
    return plans.join('\n\nafter the cursor:\n');
  } finally {
    await k.destroy();
  }
}

async function main(): Promise<void> {
  const rows = Number(process.argv[2] ?? process.env.GOMAN_BENCH_ROWS ?? 100_000);
  const db = await freshPgDatabase();
  try {
    const store = await openStore({ databaseUrl: db.url, dataDir: '/nonexistent' });
    await seedClusters(store, db.url, rows);
    await store.close();
    await vary(db.url);
    console.log(`seeded ${rows} clusters`);
    const child = fork(new URL(import.meta.url).pathname, ['--serve', db.url], { stdio: 'inherit' });
    const { url, token } = await new Promise<{ url: string; token: string }>((resolve, reject) => {
      child.once('message', (m) => resolve(m as { url: string; token: string }));
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    const get = async (query: Record<string, string>): Promise<{ ms: number; items: { id: string }[]; nextCursor: string | null }> => {
      const t = performance.now();
      const res = await fetch(`${url}/api/v1/clusters?${new URLSearchParams(query).toString()}`, { headers: { authorization: `Bearer ${token}` } });
      if (!res.ok) throw new Error(`GET /clusters: ${res.status} ${await res.text()}`);
      const body = (await res.json()) as { items: { id: string }[]; nextCursor: string | null };
      return { ms: performance.now() - t, ...body };
    };
    try {
      const filtered = { limit: '500', labelSelector: SELECTOR, phase: PHASE };
      const first = await get(filtered);
      // Warm up (JIT, the server's caches), then enough samples that p99 is not simply the max.
      for (let i = 0; i < 20; i++) await get(filtered);
      const firstTimes: number[] = [];
      const laterTimes: number[] = [];
      for (let i = 0; i < 400; i++) {
        firstTimes.push((await get(filtered)).ms);
        if (first.nextCursor) laterTimes.push((await get({ ...filtered, cursor: first.nextCursor })).ms);
      }
      console.log(`\nGET /clusters?limit=500&labelSelector=${SELECTOR}&phase=${PHASE} over ${rows} clusters (${first.items.length} items a page)`);
      console.log(`  first page: p50 ${pct(firstTimes, 0.5).toFixed(1)} ms, p99 ${pct(firstTimes, 0.99).toFixed(1)} ms`);
      if (laterTimes.length) console.log(`  second page (cursor): p50 ${pct(laterTimes, 0.5).toFixed(1)} ms, p99 ${pct(laterTimes, 0.99).toFixed(1)} ms`);
      const p99 = Math.max(pct(firstTimes, 0.99), laterTimes.length ? pct(laterTimes, 0.99) : 0);
      console.log(`  goal p99 <= 50 ms: ${p99 <= 50 ? 'met' : 'MISSED'} (${p99.toFixed(1)} ms)`);
      const after = first.nextCursor ? (JSON.parse(Buffer.from(first.nextCursor, 'base64url').toString('utf8')) as [string, string]) : null;
      console.log(`\nplan:\n${await explain(db.url, after)}`);

      const seen = new Set<string>();
      let pages = 0;
      let cursor: string | null = null;
      const t0 = performance.now();
      const pageTimes: number[] = [];
      do {
        const page = await get({ limit: '500', ...(cursor ? { cursor } : {}) });
        pageTimes.push(page.ms);
        for (const item of page.items) {
          if (seen.has(item.id)) throw new Error(`cluster ${item.id} listed twice`);
          seen.add(item.id);
        }
        cursor = page.nextCursor;
        pages++;
      } while (cursor);
      const seconds = (performance.now() - t0) / 1000;
      console.log(
        `\ncursor pagination through all: ${seen.size} of ${rows} clusters once each in ${pages} pages, ${seconds.toFixed(1)} s ` +
          `(page p50 ${pct(pageTimes, 0.5).toFixed(1)} ms, p99 ${pct(pageTimes, 0.99).toFixed(1)} ms); complete: ${seen.size === rows ? 'yes' : 'NO'}`,
      );
    } finally {
      child.disconnect();
      await new Promise((r) => child.once('exit', r));
    }
  } finally {
    await db.drop();
  }
}

if (process.argv[2] === '--serve') await serve(process.argv[3]!);
else await main();
