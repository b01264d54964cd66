// The transactional outbox read side: the relay, watch resume, pruning, scheduler output.
import type { Phase } from '../../domain/index.ts';
import type { EventType } from '../../domain/index.ts';
import type { OutboxRow } from '../port.ts';
import { sql, type RawBuilder, type Selectable } from 'kysely';
import { timeParam, type SqlContext } from './context.ts';
import { iso, num } from './rows.ts';
import type { OutboxTable } from './schema.ts';

// Keeps IN lists well under SQLite's and pg's parameter limits.
const CHUNK = 500;

type OutboxSelect = Omit<Selectable<OutboxTable>, 'sent_at'>;

function outboxFromRow(r: OutboxSelect): OutboxRow {
  return {
    seq: num(r.seq),
    eventId: r.event_id,
    type: r.type as EventType,
    clusterId: r.cluster_id,
    name: r.name,
    provider: r.provider,
    generation: r.generation,
    at: iso(r.at),
    ...(r.traceparent ? { traceparent: r.traceparent } : {}),
  };
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/**
 * The seqs as one parameter, however many there are: a PostgreSQL array literal or a JSON array,
 * as the dialect's seqIn reads it.
 */
function seqList(ctx: SqlContext, seqs: readonly number[]): string {
  return ctx.dialect === 'postgres' ? `{${seqs.join(',')}}` : JSON.stringify(seqs);
}

function seqIn(ctx: SqlContext, list: string): RawBuilder<boolean> {
  return ctx.dialect === 'postgres' ? sql<boolean>`seq = any(${list}::bigint[])` : sql<boolean>`seq in (select value from json_each(${list}))`;
}

const OUTBOX_COLUMNS = ['seq', 'event_id', 'type', 'cluster_id', 'name', 'provider', 'generation', 'at', 'traceparent'] as const;

// The relay's read and mark run a few hundred times a second under a burst: hot statements
// (hot-statements.ts), so they name their columns.
export async function readUnsentOutbox(ctx: SqlContext, limit: number, excluding: readonly number[] = []): Promise<OutboxRow[]> {
  const skip = excluding.length > 0;
  const query = ctx.hot.shaped(skip ? 'readUnsentOutbox:excluding' : 'readUnsentOutbox', { limit, excluding: seqList(ctx, excluding) }, (v) =>
    ctx.db
      .selectFrom('outbox')
      .select(OUTBOX_COLUMNS)
      .where('sent_at', 'is', null)
      .$if(skip, (q) => q.where(sql<boolean>`not ${seqIn(ctx, v.excluding)}`))
      .orderBy('seq')
      .limit(v.limit)
      .compile(),
  );
  const { rows } = await ctx.db.executeQuery(query);
  return rows.map(outboxFromRow);
}

/** One statement however many rows. */
export async function markOutboxSent(ctx: SqlContext, seqs: readonly number[]): Promise<void> {
  if (seqs.length === 0) return;
  const query = ctx.hot.shaped('markOutboxSent', { at: new Date().toISOString(), seqs: seqList(ctx, seqs) }, (v) =>
    ctx.db.updateTable('outbox').set({ sent_at: v.at }).where(seqIn(ctx, v.seqs)).where('sent_at', 'is', null).compile(),
  );
  await ctx.db.executeQuery(query);
}

export async function readOutboxSince(ctx: SqlContext, afterSeq: number, limit: number): Promise<OutboxRow[]> {
  const rows = await ctx.db.selectFrom('outbox').selectAll().where('seq', '>', afterSeq).orderBy('seq').limit(limit).execute();
  return rows.map(outboxFromRow);
}

/** 0 while the outbox has never held a row. */
export async function oldestRetainedSeq(ctx: SqlContext): Promise<number> {
  const row = await ctx.db
    .selectFrom('outbox')
    .select((eb) => eb.fn.min('seq').as('oldest'))
    .executeTakeFirst();
  return row?.oldest == null ? 0 : num(row.oldest);
}

/** Drops sent rows older than `sentBefore`, always keeping the newest row so the retained range stays known. */
export async function pruneOutbox(ctx: SqlContext, sentBefore: Date): Promise<number> {
  const result = await ctx.db
    .deleteFrom('outbox')
    .where('sent_at', 'is not', null)
    .where('sent_at', '<', sentBefore.toISOString())
    .where('seq', '<', (eb) => eb.selectFrom('outbox').select((e) => e.fn.max('seq').as('newest')))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** One INSERT … SELECT per chunk: the rows never travel to the process and back. */
export async function enqueueReconcile(ctx: SqlContext, clusterIds: readonly string[]): Promise<number> {
  let count = 0;
  const at = new Date().toISOString();
  const eventId = ctx.dialect === 'postgres' ? sql<string>`gen_random_uuid()::text` : sql<string>`lower(hex(randomblob(16)))`;
  for (const part of chunks([...new Set(clusterIds)])) {
    const result = await ctx.db
      .insertInto('outbox')
      .columns(['event_id', 'type', 'cluster_id', 'name', 'provider', 'generation', 'at'])
      .expression(
        // From the narrow schedule row's copies, not the wide cluster row (migration 004).
        ctx.db
          .selectFrom('reconcile_schedule')
          .select([eventId.as('event_id'), sql<string>`${'cluster.reconcile'}`.as('type'), 'cluster_id', 'name', 'provider', 'generation', timeParam(ctx.dialect, at).as('at')])
          .where(ctx.dialect === 'postgres' ? sql<boolean>`cluster_id = any(${part}::text[])` : sql<boolean>`cluster_id in (${sql.join(part)})`),
      )
      .executeTakeFirst();
    count += Number(result.numInsertedOrUpdatedRows ?? 0);
  }
  return count;
}

export async function countClusters(ctx: SqlContext): Promise<{ phase: Phase; provider: string; count: number }[]> {
  const rows = await ctx.db
    .selectFrom('clusters')
    .select(['phase', 'provider', (eb) => eb.fn.countAll().as('count')])
    .groupBy(['phase', 'provider'])
    .orderBy('phase')
    .orderBy('provider')
    .execute();
  return rows.map((r) => ({ phase: r.phase as Phase, provider: r.provider, count: Number(r.count) }));
}
