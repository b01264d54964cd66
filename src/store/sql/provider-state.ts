// Opaque per-cluster provider state. A fenced write checks, in its own transaction, that the
// writer still holds lease `cluster/<id>`, so a reconciler that lost its lease cannot
// overwrite what the new holder wrote.
import { conflict } from '../../domain/index.ts';
import { leaseName } from '../../lease/port.ts';
import { dbTime, type SqlContext, transaction } from './context.ts';
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

export async function putProviderState(ctx: SqlContext, provider: string, clusterId: string, state: unknown, fence?: number): Promise<void> {
  await transaction(ctx, 'putProviderState', async (trx) => {
    if (fence !== undefined) {
      const held = await trx
        .selectFrom('leases')
        .select('token')
        .where('name', '=', leaseName(clusterId))
        .where('token', '=', fence)
        .where('expires_at', '>', dbTime(ctx.dialect))
        // Holds the lease row until commit, so it cannot change hands under this write.
        .$if(ctx.dialect === 'postgres', (q) => q.forShare())
        .executeTakeFirst();
      if (!held) throw conflict(`lease ${leaseName(clusterId)} is no longer held with token ${fence}`);
    }
    const at = new Date().toISOString();
    await trx
      .insertInto('provider_state')
      .values({ provider, cluster_id: clusterId, state: toJson(state ?? null), updated_at: at })
      .onConflict((oc) => oc.columns(['provider', 'cluster_id']).doUpdateSet({ state: toJson(state ?? null), updated_at: at }))
      .execute();
  });
}

export async function deleteProviderState(ctx: SqlContext, provider: string, clusterId: string): Promise<void> {
  await ctx.db.deleteFrom('provider_state').where('provider', '=', provider).where('cluster_id', '=', clusterId).execute();
}
