// Opaque per-cluster provider state. A fenced write checks, in the same statement, that the
// writer still holds lease `cluster/<id>`, so a reconciler that lost its lease cannot
// overwrite what the new holder wrote.
import { conflict } from '../../domain/index.ts';
import { leaseName } from '../../lease/port.ts';
import { sql, type OnConflictBuilder } from 'kysely';
import { dbTime, timeParam, type SqlContext } from './context.ts';
import type { Database } from './schema.ts';
import { fromJson, toJson } from './rows.ts';

// A reconcile reads its provider state and saves it: hot statements (hot-statements.ts).
export async function getProviderState(ctx: SqlContext, provider: string, clusterId: string): Promise<unknown> {
  const query = ctx.hot.shaped('getProviderState', { provider, clusterId }, (v) =>
    ctx.db.selectFrom('provider_state').select('state').where('provider', '=', v.provider).where('cluster_id', '=', v.clusterId).compile(),
  );
  const row = (await ctx.db.executeQuery(query)).rows[0];
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
  // The row it would have inserted (`excluded`), not the state bound again: PostgreSQL would
  // parse its JSON twice.
  const replace = (oc: OnConflictBuilder<Database, 'provider_state'>) =>
    oc.columns(['provider', 'cluster_id']).doUpdateSet((eb) => ({ state: eb.ref('excluded.state'), updated_at: eb.ref('excluded.updated_at') }));
  if (fence === undefined) {
    const query = ctx.hot.shaped('putProviderState', values, (v) => ctx.db.insertInto('provider_state').values(v).onConflict(replace).compile());
    await ctx.db.executeQuery(query);
    return;
  }
  const query = ctx.hot.shaped('putProviderState:fenced', { ...values, lease: leaseName(clusterId), fence }, (v) =>
    ctx.db
      .insertInto('provider_state')
      .columns(['provider', 'cluster_id', 'state', 'updated_at'])
      .expression(
        ctx.db
          .selectFrom('leases')
          .select([
            sql<string>`${v.provider}`.as('provider'),
            sql<string>`${v.cluster_id}`.as('cluster_id'),
            (ctx.dialect === 'postgres' ? sql<string>`cast(${v.state} as jsonb)` : sql<string>`${v.state}`).as('state'),
            timeParam(ctx.dialect, v.updated_at).as('updated_at'),
          ])
          .where('name', '=', v.lease)
          .where('token', '=', v.fence)
          .where('expires_at', '>', dbTime(ctx.dialect))
          .$if(ctx.dialect === 'postgres', (q) => q.forShare()),
      )
      .onConflict(replace)
      .returning('provider')
      .compile(),
  );
  const stored = (await ctx.db.executeQuery(query)).rows[0];
  if (!stored) throw conflict(`lease ${leaseName(clusterId)} is no longer held with token ${fence}`);
}

export async function deleteProviderState(ctx: SqlContext, provider: string, clusterId: string): Promise<void> {
  await ctx.db.deleteFrom('provider_state').where('provider', '=', provider).where('cluster_id', '=', clusterId).execute();
}
