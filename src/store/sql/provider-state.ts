// Opaque per-cluster provider state. A fenced write checks, in the same statement, that the
// writer still holds lease `cluster/<id>`, so a reconciler that lost its lease cannot
// overwrite what the new holder wrote.
import { conflict } from '../../domain/index.ts';
import { leaseName } from '../../lease/port.ts';
import { sql, type OnConflictBuilder } from 'kysely';
import { dbTime, timeParam, type SqlContext } from './context.ts';
import type { Database } from './schema.ts';
import { fromJson, toJson } from './rows.ts';

export async function getProviderState(ctx: SqlContext, provider: string, clusterId: string): Promise<unknown> {
  const row = await ctx.db
    .selectFrom('provider_state')
    .select('state')
    .where('provider', '=', provider)
    .where('cluster_id', '=', clusterId)
    .executeTakeFirst();
  return row ? fromJson<unknown>(row.state) : null;
}

/**
 * One statement, fenced or not, so a reconciler's save is one round trip. Fenced, the row comes
 * from the lease row itself (INSERT … SELECT … FROM leases): no lease held with that token, no
 * row, and the write is refused. On PostgreSQL the SELECT holds the lease row FOR SHARE until
 * the statement commits, so the lease cannot change hands under the write.
 */
export async function putProviderState(ctx: SqlContext, provider: string, clusterId: string, state: unknown, fence?: number): Promise<void> {
  const values = { provider, cluster_id: clusterId, state: toJson(state ?? null), updated_at: new Date().toISOString() };
  const replace = (oc: OnConflictBuilder<Database, 'provider_state'>) =>
    oc.columns(['provider', 'cluster_id']).doUpdateSet({ state: values.state, updated_at: values.updated_at });
  if (fence === undefined) {
    await ctx.db.insertInto('provider_state').values(values).onConflict(replace).execute();
    return;
  }
  const stored = await ctx.db
    .insertInto('provider_state')
    .columns(['provider', 'cluster_id', 'state', 'updated_at'])
    .expression(
      ctx.db
        .selectFrom('leases')
        .select([
          sql<string>`${values.provider}`.as('provider'),
          sql<string>`${values.cluster_id}`.as('cluster_id'),
          (ctx.dialect === 'postgres' ? sql<string>`cast(${values.state} as jsonb)` : sql<string>`${values.state}`).as('state'),
          timeParam(ctx.dialect, values.updated_at).as('updated_at'),
        ])
        .where('name', '=', leaseName(clusterId))
        .where('token', '=', fence)
        .where('expires_at', '>', dbTime(ctx.dialect))
        .$if(ctx.dialect === 'postgres', (q) => q.forShare()),
    )
    .onConflict(replace)
    .returning('provider')
    .executeTakeFirst();
  if (!stored) throw conflict(`lease ${leaseName(clusterId)} is no longer held with token ${fence}`);
}

export async function deleteProviderState(ctx: SqlContext, provider: string, clusterId: string): Promise<void> {
  await ctx.db.deleteFrom('provider_state').where('provider', '=', provider).where('cluster_id', '=', clusterId).execute();
}
