// The human-readable history of a cluster (`GET /clusters/{id}/events`), newest first.
import type { HistoryEntry, Page } from '../../domain/index.ts';
import type { SqlContext } from './context.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { fromJson, iso, num } from './rows.ts';

export async function listHistory(ctx: SqlContext, clusterId: string, limit: number, cursor?: string): Promise<Page<HistoryEntry>> {
  const n = Math.max(1, Math.floor(limit));
  const before = cursor
    ? decodeCursor(cursor, ([seq, ...rest]) => (Number.isSafeInteger(seq) && rest.length === 0 ? (seq as number) : null))
    : undefined;
  const rows = await ctx.db
    .selectFrom('history')
    .selectAll()
    .where('cluster_id', '=', clusterId)
    .$if(before !== undefined, (q) => q.where('seq', '<', before ?? 0))
    .orderBy('seq', 'desc')
    .limit(n + 1)
    .execute();
  const page = rows.slice(0, n);
  const last = page[page.length - 1];
  return {
    items: page.map((r) => {
      const entry: HistoryEntry = {
        id: String(num(r.seq)),
        clusterId: r.cluster_id,
        kind: r.kind as HistoryEntry['kind'],
        message: r.message,
        generation: r.generation,
        at: iso(r.at),
      };
      const data = fromJson<Record<string, unknown> | null>(r.data);
      if (data) entry.data = data;
      return entry;
    }),
    nextCursor: rows.length > n && last ? encodeCursor([num(last.seq)]) : null,
  };
}
