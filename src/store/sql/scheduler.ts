// The scheduler's claim: one statement takes up to `limit` due rows of reconcile_schedule by
// its due-time index and pushes each forward by the active or the stable interval. PostgreSQL skips rows
// another claimer (or a writer) holds, so concurrent schedulers never get the same row;
// SQLite runs the statement under its single writer lock.
import { sql } from 'kysely';
import type { Cluster } from '../../domain/index.ts';
import { timeParam, type SqlContext } from './context.ts';

/** Clusters this young always count as needing attention (DESIGN §5). */
export const YOUNG_MS = 2 * 60 * 60 * 1000;

/**
 * Ready or Stopped at its current generation: the rest of "needs attention" (DESIGN §5), kept
 * on the schedule row by every write so a tick reads only that row (migration 004).
 */
export function isSettled(cluster: Pick<Cluster, 'generation' | 'status'>): boolean {
  return (cluster.status.phase === 'Ready' || cluster.status.phase === 'Stopped') && cluster.status.observedGeneration >= cluster.generation;
}

export async function claimDueClusters(
  ctx: SqlContext,
  now: Date,
  limit: number,
  intervals: { activeMs: number; stableMs: number },
): Promise<string[]> {
  if (limit <= 0) return [];
  const t = now.getTime();
  const active = timeParam(ctx.dialect, new Date(t + intervals.activeMs).toISOString());
  const stable = timeParam(ctx.dialect, new Date(t + intervals.stableMs).toISOString());
  const youngSince = new Date(t - YOUNG_MS).toISOString();
  const due = ctx.db
    .selectFrom('reconcile_schedule')
    .select('cluster_id')
    .where('next_reconcile_at', '<=', now.toISOString())
    .orderBy('next_reconcile_at')
    .limit(limit)
    .$if(ctx.dialect === 'postgres', (q) => q.forUpdate().skipLocked());
  // Whether a cluster needs attention is read from the narrow schedule row's own copies.
  const needsAttention = sql<boolean>`(created_at > ${timeParam(ctx.dialect, youngSince)} or not settled)`;
  const rows = await ctx.db
    .updateTable('reconcile_schedule')
    .set({ next_reconcile_at: sql<string>`case when ${needsAttention} then ${active} else ${stable} end` })
    // PostgreSQL plans `IN (subquery)` as a hash join over a full scan; `= ANY(ARRAY(…))` takes
    // the claimed keys by primary key instead.
    .where(ctx.dialect === 'postgres' ? sql<boolean>`cluster_id = any(array(${due}))` : sql<boolean>`cluster_id in (${due})`)
    .returning('cluster_id as id')
    .execute();
  return rows.map((r) => r.id);
}
