// The scheduler's claim: one statement takes up to `limit` due rows by the next_reconcile_at
// index and pushes each forward by the active or the stable interval. PostgreSQL skips rows
// another claimer (or a writer) holds, so concurrent schedulers never get the same row;
// SQLite runs the statement under its single writer lock.
import { sql } from 'kysely';
import { timeParam, type SqlContext } from './context.ts';

/** Clusters this young always count as needing attention (DESIGN §5). */
export const YOUNG_MS = 2 * 60 * 60 * 1000;

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
    .selectFrom('clusters')
    .select('id')
    .where('next_reconcile_at', '<=', now.toISOString())
    .orderBy('next_reconcile_at')
    .limit(limit)
    .$if(ctx.dialect === 'postgres', (q) => q.forUpdate().skipLocked());
  const rows = await ctx.db
    .updateTable('clusters')
    .set({
      next_reconcile_at: sql<string>`case when created_at > ${youngSince} or phase not in ('Ready', 'Stopped') or observed_generation < generation then ${active} else ${stable} end`,
    })
    .where('id', 'in', due)
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}
