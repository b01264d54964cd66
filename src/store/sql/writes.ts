// The machinery every cluster write shares, inside its one transaction: lock the row, read
// the inputs of the aggregate, then append history and outbox and save the row. The outbox
// row's seq becomes the cluster's resourceVersion, so "every write appends to the outbox in
// the same transaction" holds by construction.
import { randomUUID } from 'node:crypto';
import { currentTraceparent } from '../../util/trace.ts';
import {
  aggregateStatus,
  preconditionFailed,
  type Cluster,
  type ClusterStatus,
  type ControllerRegistration,
  type ControllerStatus,
} from '../../domain/index.ts';
import { etagValue } from '../../domain/etag.ts';
import type { EventType, HistoryEntry } from '../../domain/index.ts';
import { day2History } from '../../domain/day2-changes.ts';
import { sql } from 'kysely';
import type { Executor, SqlContext, Tx } from './context.ts';
import { isSettled } from './scheduler.ts';
import { bool, clusterFromRow, controllerStatusFromRow, fromJson, iso, num, toJson } from './rows.ts';

export interface HistoryDraft {
  kind: HistoryEntry['kind'];
  message: string;
  data?: Record<string, unknown>;
}

/** Reads the cluster and holds its row until commit (SQLite: the transaction already holds the write lock). */
export async function lockCluster(ctx: SqlContext, trx: Tx, id: string): Promise<Cluster | null> {
  const row = await trx
    .selectFrom('clusters')
    .selectAll()
    .where('id', '=', id)
    .$if(ctx.dialect === 'postgres', (q) => q.forUpdate())
    .executeTakeFirst();
  return row ? clusterFromRow(row) : null;
}

export async function loadControllerStatuses(trx: Tx, clusterId: string): Promise<ControllerStatus[]> {
  const rows = await trx.selectFrom('controller_statuses').select('status').where('cluster_id', '=', clusterId).execute();
  return rows.map(controllerStatusFromRow);
}

export async function loadRegistry(trx: Executor): Promise<ControllerRegistration[]> {
  const rows = await trx.selectFrom('controllers').selectAll().orderBy('name').execute();
  return rows.map(registrationFromRow);
}

type RegistrationRow = { name: string; providers: unknown; required: boolean | number; registered_at: Date | string; last_heartbeat: Date | string };
const registrationFromRow = (r: RegistrationRow): ControllerRegistration => ({
  name: r.name,
  providers: fromJson<string[]>(r.providers),
  required: bool(r.required),
  registeredAt: iso(r.registered_at),
  lastHeartbeat: iso(r.last_heartbeat),
});

/** A cluster locked for a write, with every controller's report on it and the controller registry. */
export interface LockedWithReports {
  cluster: Cluster;
  reports: ControllerStatus[];
  registry: ControllerRegistration[];
}

/**
 * lockCluster, then loadControllerStatuses and loadRegistry in one query. On PostgreSQL that is two
 * round trips instead of three on the hottest write (every status report). The reads come after
 * the lock, in their own statement: a statement that waited for the row lock still sees the
 * snapshot it started with, so reading the reports in the locking statement would miss a report
 * committed while it waited. SQLite runs in-process, where a round trip costs nothing.
 */
export async function lockWithReports(ctx: SqlContext, trx: Tx, id: string): Promise<LockedWithReports | null> {
  const cluster = await lockCluster(ctx, trx, id);
  if (!cluster) return null;
  if (ctx.dialect !== 'postgres') return { cluster, reports: await loadControllerStatuses(trx, id), registry: await loadRegistry(trx) };
  const { rows } = await sql<{ reports: unknown; registry: unknown }>`
    SELECT
      (SELECT coalesce(jsonb_agg(s.status), '[]'::jsonb) FROM controller_statuses s WHERE s.cluster_id = ${id}) AS reports,
      (SELECT coalesce(jsonb_agg(to_jsonb(r) ORDER BY r.name), '[]'::jsonb) FROM controllers r) AS registry`.execute(trx);
  const row = rows[0];
  return {
    cluster,
    reports: fromJson<unknown[]>(row?.reports ?? []).map((status) => controllerStatusFromRow({ status })),
    registry: fromJson<RegistrationRow[]>(row?.registry ?? []).map(registrationFromRow),
  };
}

export function checkIfMatch(cluster: Cluster, ifMatch: string | undefined): void {
  if (ifMatch === undefined) return;
  const wanted = etagValue(ifMatch);
  if (wanted !== cluster.resourceVersion) {
    throw preconditionFailed(`resourceVersion is ${cluster.resourceVersion}, not ${wanted}`);
  }
}

/** Recompute the aggregate from its stored inputs. */
export function recompute(
  cluster: Pick<Cluster, 'generation' | 'spec' | 'deletionTimestamp' | 'finalizers'>,
  previous: ClusterStatus,
  controllers: readonly ControllerStatus[],
  registry: readonly ControllerRegistration[],
  now: string,
): ClusterStatus {
  return aggregateStatus({
    generation: cluster.generation,
    spec: cluster.spec,
    deletionTimestamp: cluster.deletionTimestamp,
    finalizers: cluster.finalizers,
    previous,
    controllers,
    registry,
    now,
  });
}

export function phaseChange(before: ClusterStatus, after: ClusterStatus): HistoryDraft[] {
  if (before.phase === after.phase) return [];
  return [{ kind: 'phase', message: `${before.phase} -> ${after.phase}`, data: { from: before.phase, to: after.phase } }];
}

export async function appendHistory(trx: Tx, cluster: Cluster, drafts: readonly HistoryDraft[], at: string): Promise<void> {
  if (drafts.length === 0) return;
  await trx
    .insertInto('history')
    .values(
      drafts.map((d) => ({
        cluster_id: cluster.id,
        kind: d.kind,
        message: d.message,
        generation: cluster.generation,
        at,
        data: d.data ? toJson(d.data) : null,
      })),
    )
    .execute();
}

export interface OutboxTarget {
  id: string;
  name: string;
  provider: string;
  generation: number;
}

export function outboxValues(target: OutboxTarget, type: EventType, at: string) {
  return {
    event_id: randomUUID(),
    type,
    cluster_id: target.id,
    name: target.name,
    provider: target.provider,
    generation: target.generation,
    at,
    traceparent: currentTraceparent() ?? null,
  };
}

/** Appends one outbox row per type and returns the last seq. */
export async function appendOutbox(trx: Tx, cluster: Cluster, types: readonly EventType[], at: string): Promise<number> {
  const target = { id: cluster.id, name: cluster.name, provider: cluster.spec.provider, generation: cluster.generation };
  const rows = await trx
    .insertInto('outbox')
    .values(types.map((type) => outboxValues(target, type, at)))
    .returning('seq')
    .execute();
  return Math.max(...rows.map((r) => num(r.seq)));
}

function rowValues(c: Cluster) {
  return {
    id: c.id,
    name: c.name,
    labels: toJson(c.labels),
    spec: toJson(c.spec),
    status: toJson(c.status),
    phase: c.status.phase,
    provider: c.spec.provider,
    generation: c.generation,
    observed_generation: c.status.observedGeneration,
    resource_version: Number(c.resourceVersion),
    created_by: c.createdBy,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    deletion_timestamp: c.deletionTimestamp ?? null,
    finalizers: toJson(c.finalizers),
  };
}

/**
 * Finish a write: history (with a 'phase' entry when the phase moved), the outbox rows, then
 * the row itself stamped with the new resourceVersion. `before` null means insert.
 */
export async function saveCluster(
  ctx: SqlContext,
  trx: Tx,
  before: Cluster | null,
  next: Cluster,
  events: readonly EventType[],
  history: readonly HistoryDraft[],
  now: Date,
): Promise<Cluster> {
  const at = now.toISOString();
  const drafts = before ? [...history, ...phaseChange(before.status, next.status), ...day2History(before.status, next.status)] : history;
  const seq = await appendOutbox(trx, next, events, at);
  const saved: Cluster = { ...next, resourceVersion: String(seq), updatedAt: at };
  const values = rowValues(saved);
  // The schedule row keeps its own copy of what the scheduler reads (migration 004).
  const schedule = {
    next_reconcile_at: new Date(now.getTime() + ctx.activeMs).toISOString(),
    generation: saved.generation,
    settled: isSettled(saved),
  };
  const firstSchedule = { ...schedule, cluster_id: saved.id, name: saved.name, provider: saved.spec.provider, created_at: saved.createdAt };
  if (before && ctx.dialect === 'postgres') {
    // One statement (a data-modifying CTE) for the row and its schedule: a round trip less per write.
    await trx
      .with('schedule', (db) => db.updateTable('reconcile_schedule').set(schedule).where('cluster_id', '=', saved.id))
      .updateTable('clusters')
      .set(values)
      .where('id', '=', saved.id)
      .execute();
  } else if (before) {
    await trx.updateTable('clusters').set(values).where('id', '=', saved.id).execute();
    await trx.updateTable('reconcile_schedule').set(schedule).where('cluster_id', '=', saved.id).execute();
  } else if (ctx.dialect === 'postgres') {
    await trx
      .with('row', (db) => db.insertInto('clusters').values(values))
      .insertInto('reconcile_schedule')
      .values(firstSchedule)
      .execute();
  } else {
    await trx.insertInto('clusters').values(values).execute();
    await trx.insertInto('reconcile_schedule').values(firstSchedule).execute();
  }
  await appendHistory(trx, saved, drafts, at);
  return saved;
}

/** The last finalizer is gone from a deleting cluster: drop the row and everything hanging off it. */
export async function removeCluster(trx: Tx, cluster: Cluster, events: readonly EventType[], at: string): Promise<void> {
  await appendOutbox(trx, cluster, events, at);
  await trx.deleteFrom('provider_state').where('cluster_id', '=', cluster.id).execute();
  // controller_statuses and history go with the row (ON DELETE CASCADE).
  await trx.deleteFrom('clusters').where('id', '=', cluster.id).execute();
}
