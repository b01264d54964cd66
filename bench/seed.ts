// Bulk copies of one real cluster row, for benchmarks over large PostgreSQL tables: the
// store writes the first row (so every column is right), SQL copies it `rows - 1` times, each
// copy due a second earlier than the next (oldest first by the scheduler's index).
import { sql } from 'kysely';
import { clusterSpecSchema } from '../src/domain/index.ts';
import type { ClusterStore } from '../src/store/port.ts';
import { SETTLED_SQL } from '../src/store/migrations/004-schedule-copies.ts';
import { postgresKysely } from '../src/store/postgres/index.ts';

export async function seedClusters(store: ClusterStore, databaseUrl: string, rows: number): Promise<void> {
  const seed = await store.createCluster({ name: 'seed', labels: {}, spec: clusterSpecSchema.parse({}), createdBy: 'bench' });
  const k = postgresKysely(databaseUrl, 1);
  try {
    await sql`INSERT INTO clusters (id, name, labels, spec, status, phase, provider, generation, observed_generation,
      resource_version, created_by, created_at, updated_at, deletion_timestamp, finalizers)
      SELECT gen_random_uuid()::text, 'b' || g, labels, spec, status, phase, provider, generation, observed_generation,
      resource_version, created_by, created_at, updated_at, deletion_timestamp, finalizers
      FROM clusters, generate_series(1, ${rows - 1}) g WHERE id = ${seed.id}`.execute(k);
    await sql`INSERT INTO reconcile_schedule (cluster_id, next_reconcile_at, name, provider, generation, created_at, settled)
      SELECT id, now() - (substr(name, 2)::int || ' seconds')::interval, name, provider, generation, created_at, ${sql.raw(SETTLED_SQL)}
      FROM clusters AS c WHERE name LIKE 'b%'`.execute(k);
    await sql`ANALYZE`.execute(k);
  } finally {
    await k.destroy();
  }
}
