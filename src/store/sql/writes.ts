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
import { sql, type RawBuilder } from 'kysely';
import type { Executor, SqlContext, Tx } from './context.ts';
import type { Database } from './schema.ts';
import { isSettled } from './scheduler.ts';
import { bool, CLUSTER_COLUMNS, clusterFromRow, fromJson, iso, num, toJson } from './rows.ts';

/** A cluster as read for a write, with the controller registry its aggregate needs. */
export interface Fetched {
  cluster: Cluster;
  /** Shared with other reads (registry-cache.ts): never changed in place. */
  registry: readonly ControllerRegistration[];
}

export interface HistoryDraft {
  kind: HistoryEntry['kind'];
  message: string;
  data?: Record<string, unknown>;
}

const REGISTRATION_COLUMNS = ['name', 'providers', 'required', 'registered_at', 'last_heartbeat'] as const;

/**
 * The controller registry; every create reads it, so a hot statement (hot-statements.ts). On
 * PostgreSQL each row carries the registry's version, read in the same snapshot, and the registry
 * is kept at that version for the reports that follow (registry-cache.ts). An empty registry has
 * no row to carry it and is not kept: each report then reads it again, an empty read.
 */
export async function loadRegistry(ctx: SqlContext, db: Executor = ctx.db): Promise<readonly ControllerRegistration[]> {
  const query = ctx.hot.shaped('loadRegistry', {}, () =>
    db.selectFrom('controllers').select(REGISTRATION_COLUMNS).select(registryVersion(ctx)).orderBy('name').compile(),
  );
  const { rows } = await db.executeQuery(query);
  const registrations = rows.map(registrationFromRow);
  const version = rows[0]?.registry_version;
  if (version !== undefined && version !== null) ctx.registry.keep(num(version), registrations);
  return registrations;
}

/** The registry's version as a column (migration 005); SQLite keeps none. */
const registryVersion = (ctx: SqlContext) =>
  (ctx.dialect === 'postgres' ? sql<string | number | null>`(SELECT version FROM registry_version)` : sql<null>`null`).as('registry_version');

type RegistrationRow = { name: string; providers: unknown; required: boolean | number; registered_at: Date | string; last_heartbeat: Date | string };
const registrationFromRow = (r: RegistrationRow): ControllerRegistration => ({
  name: r.name,
  providers: fromJson<string[]>(r.providers),
  required: bool(r.required),
  registeredAt: iso(r.registered_at),
  lastHeartbeat: iso(r.last_heartbeat),
});

/**
 * A cluster locked for a write, with the controller registry its aggregate needs. Every
 * controller's report on it is in the row itself (`status.controllers`): each accepted report
 * that changes anything is saved there, in the write that accepts it, so the locked row (which
 * PostgreSQL returns in its latest version after a lock wait) holds every input the aggregate
 * has. The registry is not guarded by the row lock, so reading it with the locking statement is
 * as current as reading it after.
 */
export async function lockWithRegistry(ctx: SqlContext, trx: Tx, id: string): Promise<Fetched | null> {
  const postgres = ctx.dialect === 'postgres';
  const query = ctx.hot.shaped('lockWithRegistry', { id }, (v) =>
    trx
      .selectFrom('clusters')
      .select(CLUSTER_COLUMNS)
      .select(registryVersion(ctx))
      .where('id', '=', v.id)
      .$if(postgres, (q) => q.forUpdate())
      .compile(),
  );
  const [row] = (await trx.executeQuery(query)).rows;
  if (!row) return null;
  return { cluster: clusterFromRow(row), registry: await registryAt(ctx, trx, row.registry_version) };
}

/**
 * The registry for rows read with its version: on PostgreSQL from memory while that version
 * holds (registry-cache.ts), so a read needs a second round trip only after the registry
 * changed. SQLite's rows carry no version and SQLite keeps no registry: its read is in-process.
 */
async function registryAt(ctx: SqlContext, db: Executor, version: string | number | null | undefined): Promise<readonly ControllerRegistration[]> {
  const held = version === undefined || version === null ? undefined : ctx.registry.at(num(version));
  return held ?? loadRegistry(ctx, db);
}

/**
 * Many rows, unlocked, each with the registry, in one statement: a batch of reports decides on
 * these and saves only the rows still at the version read (PostgreSQL, report-batches.ts). Every
 * row carries the same registry version, read in the same snapshot.
 */
export async function readManyWithRegistry(ctx: SqlContext, db: Executor, ids: readonly string[]): Promise<Map<string, Fetched>> {
  const query = ctx.hot.fixed('readManyWithRegistry', [ids], () =>
    db
      .selectFrom('clusters')
      .select(CLUSTER_COLUMNS)
      .select(registryVersion(ctx))
      .where(sql<boolean>`id = any(${['']}::text[])`)
      .compile(),
  );
  const { rows } = await db.executeQuery(query);
  const registry = rows.length === 0 ? [] : await registryAt(ctx, db, rows[0]!.registry_version);
  return new Map(rows.map((row) => [row.id, { cluster: clusterFromRow(row), registry }]));
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

// Each statement a write may need, built on whichever executor runs it from the values it binds,
// which are computed apart (so that PostgreSQL's one statement is compiled once per shape, see
// save). SQLite runs them one after another inside its transaction; PostgreSQL sends them as one
// statement (see saveCluster). `gated`: only if the gate CTE of that statement found the row
// unchanged (saveClusterIfUnchanged).

const GATE = 'gate';
const throughGate = sql<boolean>`EXISTS (SELECT 1 FROM ${sql.table(GATE)})`;

/**
 * `INSERT INTO table (columns) SELECT values FROM gate`: a row that is written only when the gate
 * has one. PostgreSQL takes each parameter's type from its column, as it does for VALUES.
 */
function insertThroughGate<T extends 'outbox' | 'history' | 'controller_statuses'>(db: Executor, table: T, row: Record<string, unknown>) {
  const columns = Object.keys(row) as (keyof Database[T] & string)[];
  return db
    .insertInto(table)
    .columns(columns)
    .expression(sql`SELECT ${sql.join(Object.values(row))} FROM ${sql.table(GATE)}`);
}

function outboxRows(cluster: Cluster, types: readonly EventType[], at: string) {
  return types.map((type) => ({
    event_id: randomUUID(),
    type,
    cluster_id: cluster.id,
    name: cluster.name,
    provider: cluster.spec.provider,
    generation: cluster.generation,
    at,
    traceparent: currentTraceparent() ?? null,
  }));
}

function outboxInsert(db: Executor, rows: ReturnType<typeof outboxRows>, gated: boolean) {
  if (!gated) return db.insertInto('outbox').values(rows).returning('seq');
  // One row per INSERT … SELECT: a UNION of several would lose the columns' types.
  if (rows.length !== 1) throw new Error('a gated save appends exactly one event');
  return insertThroughGate(db, 'outbox', rows[0]!).returning('seq');
}

function historyRows(cluster: Cluster, drafts: readonly HistoryDraft[], at: string) {
  return drafts.map((d) => ({
    cluster_id: cluster.id,
    kind: d.kind,
    message: d.message,
    generation: cluster.generation,
    at,
    data: d.data ? toJson(d.data) : null,
  }));
}

function historyInserts(db: Executor, rows: ReturnType<typeof historyRows>, gated: boolean) {
  if (rows.length === 0) return [];
  return gated ? rows.map((row) => insertThroughGate(db, 'history', row)) : [db.insertInto('history').values(rows)];
}

/** A controller that reports on a cluster for the first time: controller_statuses' row (migration 006). */
type ReporterRow = { cluster_id: string; controller: string };

function reporterInsert(db: Executor, row: ReporterRow, gated: boolean) {
  return (gated ? insertThroughGate(db, 'controller_statuses', { ...row }) : db.insertInto('controller_statuses').values(row)).onConflict((oc) =>
    oc.columns(['cluster_id', 'controller']).doNothing(),
  );
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
    created_by: c.createdBy,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    deletion_timestamp: c.deletionTimestamp ?? null,
    finalizers: toJson(c.finalizers),
  };
}

/**
 * What an update sets: the status and time always, the rest only where the write replaced it.
 * Writes build the next cluster from the one they read and replace what they change (they never
 * change a spec, labels or finalizers in place), so an unreplaced object is unchanged. A report's
 * statement then carries no spec or labels, which PostgreSQL would parse as jsonb again.
 */
function changedValues(before: Cluster, after: Cluster) {
  const sameFinalizers = after.finalizers.length === before.finalizers.length && after.finalizers.every((f, i) => f === before.finalizers[i]);
  return {
    status: toJson(after.status),
    phase: after.status.phase,
    observed_generation: after.status.observedGeneration,
    updated_at: after.updatedAt,
    ...(after.spec === before.spec && after.generation === before.generation ? {} : { spec: toJson(after.spec), provider: after.spec.provider, generation: after.generation }),
    ...(after.labels === before.labels ? {} : { labels: toJson(after.labels) }),
    ...(after.deletionTimestamp === before.deletionTimestamp ? {} : { deletion_timestamp: after.deletionTimestamp ?? null }),
    ...(sameFinalizers ? {} : { finalizers: toJson(after.finalizers) }),
  };
}

/**
 * The row and its schedule entry: the columns an update sets, or the row an insert writes
 * (`before` null). The schedule keeps its own copy of what the scheduler reads (migration 004).
 * An update reschedules only when it changes what the scheduler reads (the generation, or
 * whether the cluster is settled): a report that only restates progress leaves the schedule
 * alone, and the cluster's resync keeps its cadence (DESIGN §5: every 30 s while it needs
 * attention, every 5 min once settled) rather than moving with every report.
 */
type Schedule = { next_reconcile_at: string; generation: number; settled: boolean };
type RowAndScheduleValues =
  | { update: ReturnType<typeof changedValues>; id: string; schedules: [] | [Schedule] }
  | { insert: ReturnType<typeof rowValues>; schedule: Schedule & { cluster_id: string; name: string; provider: string; created_at: string } };

function rowAndScheduleValues(ctx: SqlContext, before: Cluster | null, cluster: Cluster, now: Date): RowAndScheduleValues {
  const schedule: Schedule = {
    next_reconcile_at: new Date(now.getTime() + ctx.activeMs).toISOString(),
    generation: cluster.generation,
    settled: isSettled(cluster),
  };
  if (before !== null) {
    const moved = before.generation !== cluster.generation || isSettled(before) !== schedule.settled;
    return { update: changedValues(before, cluster), id: cluster.id, schedules: moved ? [schedule] : [] };
  }
  return {
    insert: rowValues(cluster),
    schedule: { ...schedule, cluster_id: cluster.id, name: cluster.name, provider: cluster.spec.provider, created_at: cluster.createdAt },
  };
}

/**
 * The row's and the schedule's statements. `resourceVersion` is the outbox seq: a number once
 * known, or, inside one statement, the expression that reads it.
 */
function rowAndSchedule(db: Executor, values: RowAndScheduleValues, resourceVersion: number | RawBuilder<number>, gated: boolean) {
  if ('update' in values) {
    const { id } = values;
    return [
      db
        .updateTable('clusters')
        .set({ ...values.update, resource_version: resourceVersion })
        .where('id', '=', id)
        .$if(gated, (q) => q.where(throughGate)),
      ...values.schedules.map((schedule) =>
        db.updateTable('reconcile_schedule').set(schedule).where('cluster_id', '=', id).$if(gated, (q) => q.where(throughGate)),
      ),
    ];
  }
  return [db.insertInto('clusters').values({ ...values.insert, resource_version: resourceVersion }), db.insertInto('reconcile_schedule').values(values.schedule)] as const;
}

/**
 * Finish a write: the outbox rows, the row stamped with the new resourceVersion, its schedule,
 * history (with a 'phase' entry when the phase moved) and, for a controller's first report on
 * the cluster, its controller_statuses row.
 * `before` null means insert.
 *
 * On PostgreSQL this is one statement, whatever it holds: each part is a data-modifying CTE and
 * the row reads its resourceVersion from the outbox insert's RETURNING. Every round trip inside
 * a write holds the row lock and delays the event (its `at` is taken before it), so a write is
 * the lock (with the registry), this statement and COMMIT; a create needs no transaction at all,
 * and neither does a report unless its row is contended (saveClusterIfUnchanged).
 */
export async function saveCluster(ctx: SqlContext, db: Executor, write: Write): Promise<Cluster> {
  const saved = await save(ctx, db, prepareSave(ctx, write));
  if (saved === null) throw new Error('saveCluster: the outbox insert returned no seq');
  return saved;
}

/** What saveCluster writes. */
export interface Write {
  before: Cluster | null;
  next: Cluster;
  events: readonly EventType[];
  history: readonly HistoryDraft[];
  now: Date;
  /** A controller's first report on the cluster. */
  newReporter?: ReporterRow | undefined;
}

/**
 * saveCluster without a lock held (PostgreSQL only): one statement that saves only if the row
 * is still at `before`'s resourceVersion, and otherwise writes nothing and returns null. Its
 * gate locks the row for the statement's length; after a lock wait it sees the row's latest
 * version, so a write that landed in between fails the gate. With no transaction around it, the
 * write commits as the statement ends, with no round trip between its save and its COMMIT. It
 * appends exactly one event.
 */
export function saveClusterIfUnchanged(ctx: SqlContext, db: Executor, prepared: PreparedSave & { before: Cluster }): Promise<Cluster | null> {
  if (ctx.dialect !== 'postgres') throw new Error('saveClusterIfUnchanged: PostgreSQL only (SQLite writes under its transaction lock)');
  return save(ctx, db, prepared, prepared.before.resourceVersion);
}

/** The columns a report's save sets when it changes the status alone (changedValues). */
const STATUS_COLUMNS = 'status,phase,observed_generation,updated_at';

/**
 * A save that changes the row's status and nothing else, with one cluster.status event: no
 * history, no schedule move, no finalizer, not a first report. saveStatusesIfUnchanged takes
 * many of these in one statement.
 */
export function changesStatusAlone(prepared: PreparedSave): prepared is PreparedSave & { before: Cluster } {
  const { row, outbox, history } = prepared.values;
  return (
    prepared.before !== null &&
    'update' in row &&
    row.schedules.length === 0 &&
    Object.keys(row.update).join() === STATUS_COLUMNS &&
    history.length === 0 &&
    outbox.length === 1 &&
    outbox[0]!.type === 'cluster.status' &&
    prepared.newReporter === undefined
  );
}

/**
 * saveClusterIfUnchanged for many status-alone saves, in one statement (PostgreSQL). A cluster
 * may have several, in the order they were decided, each on the one before: they are written
 * only if the row is still at `gate[id]`, the version they were decided from. The rows are
 * locked in id order (so two batches cannot deadlock); each save gets its own event, in order,
 * and the row takes the last one's status and seq. Returns each written save's seq by its
 * event's id; a cluster whose row moved wrote nothing.
 */
export async function saveStatusesIfUnchanged(
  ctx: SqlContext,
  db: Executor,
  saves: readonly PreparedSave[],
  gate: ReadonlyMap<string, string>,
): Promise<Map<string, number>> {
  const column = <T>(of: (save: PreparedSave, update: ReturnType<typeof changedValues>, event: ReturnType<typeof outboxRows>[number]) => T): T[] =>
    saves.map((save) => {
      const row = save.values.row as Extract<RowAndScheduleValues, { update: unknown }>;
      return of(save, row.update, save.values.outbox[0]!);
    });
  const parameters = [
    column((save) => save.stamped.id),
    column((save) => gate.get(save.stamped.id) ?? ''),
    saves.map((_, i) => i),
    column((_, update) => update.status),
    column((_, update) => update.phase),
    column((_, update) => update.observed_generation),
    column((_, update) => update.updated_at),
    column((_, __, event) => event.event_id),
    column((_, __, event) => event.traceparent),
  ];
  const query = ctx.hot.fixed('saveStatusesIfUnchanged', parameters, () => {
    const [ids, versions, order, statuses, phases, observed, ats, eventIds, traceparents] = parameters.map(() => ['']);
    return sql<{ event_id: string; seq: string | number }>`
      WITH i AS (
        SELECT id, version, ord, status, phase, observed_generation, at, event_id, traceparent
        FROM unnest(${ids}::text[], ${versions}::bigint[], ${order}::integer[], ${statuses}::jsonb[], ${phases}::text[],
          ${observed}::integer[], ${ats}::timestamptz[], ${eventIds}::text[], ${traceparents}::text[])
          AS u (id, version, ord, status, phase, observed_generation, at, event_id, traceparent)
      ), gate AS (
        SELECT c.id, c.name, c.provider, c.generation FROM clusters AS c JOIN (SELECT DISTINCT id, version FROM i) AS k ON c.id = k.id AND c.resource_version = k.version
        ORDER BY c.id FOR UPDATE OF c
      ), o AS (
        INSERT INTO outbox (event_id, type, cluster_id, name, provider, generation, at, traceparent)
        SELECT i.event_id, 'cluster.status', g.id, g.name, g.provider, g.generation, i.at, i.traceparent FROM gate AS g JOIN i ON i.id = g.id
        ORDER BY i.ord
        RETURNING seq, event_id
      ), l AS (
        SELECT DISTINCT ON (i.id) i.id, i.status, i.phase, i.observed_generation, i.at, o.seq FROM i JOIN o ON o.event_id = i.event_id
        ORDER BY i.id, i.ord DESC
      ), u AS (
        UPDATE clusters AS c SET status = l.status, phase = l.phase, observed_generation = l.observed_generation, updated_at = l.at, resource_version = l.seq
        FROM l WHERE c.id = l.id
      )
      SELECT event_id, seq FROM o`.compile(db);
  });
  const { rows } = await db.executeQuery(query);
  return new Map(rows.map((row) => [row.event_id, num(row.seq)]));
}

/** What a write saves, computed apart from the statement that saves it. */
export interface PreparedSave {
  readonly before: Cluster | null;
  readonly stamped: Cluster;
  readonly values: { outbox: ReturnType<typeof outboxRows>; row: RowAndScheduleValues; history: ReturnType<typeof historyRows> };
  readonly newReporter: ReporterRow | undefined;
}

/** Its event's id and trace are taken here: call it in the context of the request that writes. */
export function prepareSave(ctx: SqlContext, { before, next, events, history, now, newReporter }: Write): PreparedSave {
  const at = now.toISOString();
  const drafts = before ? [...history, ...phaseChange(before.status, next.status), ...day2History(before.status, next.status)] : history;
  const stamped: Cluster = { ...next, updatedAt: at };
  const values = {
    outbox: outboxRows(stamped, events, at),
    row: rowAndScheduleValues(ctx, before, stamped, now),
    history: historyRows(stamped, drafts, at),
  };
  return { before, stamped, values, newReporter };
}

async function save(ctx: SqlContext, db: Executor, prepared: PreparedSave, unlessChangedSince?: string): Promise<Cluster | null> {
  const { stamped, values, newReporter } = prepared;
  const saved = (seq: number): Cluster => ({ ...stamped, resourceVersion: String(seq) });
  if (ctx.dialect === 'postgres') {
    const gated = unlessChangedSince !== undefined;
    // Every write's statement is a hot one (hot-statements.ts): its text depends on no more than
    // this key, and the builder below takes every value from its argument.
    const row = values.row;
    const shape = ['save', gated, 'update' in row ? `${Object.keys(row.update).join()}+${row.schedules.length}` : 'insert', values.outbox.length, values.history.length, newReporter !== undefined].join('|');
    const bound = { ...values, gate: { id: stamped.id, version: unlessChangedSince ?? '' }, reporters: newReporter ? [newReporter] : [] };
    const query = ctx.hot.shaped(shape, bound, (v) => {
      const parts = [
        ...rowAndSchedule(db, v.row, sql<number>`(SELECT seq FROM v)`, gated),
        ...historyInserts(db, v.history, gated),
        ...v.reporters.map((r) => reporterInsert(db, r, gated)),
      ];
      const gate = gated ? sql`${sql.ref(GATE)} AS (SELECT id FROM clusters WHERE id = ${v.gate.id} AND resource_version = ${v.gate.version} FOR UPDATE), ` : sql``;
      return sql<{ seq: string | number | null }>`
        WITH ${gate}o AS (${outboxInsert(db, v.outbox, gated)}), v AS (SELECT max(seq) AS seq FROM o),
        ${sql.join(parts.map((part, i) => sql`${sql.ref(`w${i}`)} AS (${part})`))}
        SELECT seq FROM v`.compile(db);
    });
    const seq = (await db.executeQuery(query)).rows[0]?.seq;
    return seq === undefined || seq === null ? null : saved(num(seq));
  }
  if (newReporter) await reporterInsert(db, newReporter, false).execute();
  const seqs = await outboxInsert(db, values.outbox, false).execute();
  const seq = Math.max(...seqs.map((r) => num(r.seq)));
  for (const part of rowAndSchedule(db, values.row, seq, false)) await part.execute();
  for (const part of historyInserts(db, values.history, false)) await part.execute();
  return saved(seq);
}

/** The last finalizer is gone from a deleting cluster: drop the row and everything hanging off it. */
export async function removeCluster(ctx: SqlContext, trx: Tx, cluster: Cluster, events: readonly EventType[], at: string): Promise<void> {
  const outbox = outboxInsert(trx, outboxRows(cluster, events, at), false);
  const state = trx.deleteFrom('provider_state').where('cluster_id', '=', cluster.id);
  // controller_statuses, history and the schedule go with the row (ON DELETE CASCADE).
  const row = trx.deleteFrom('clusters').where('id', '=', cluster.id);
  if (ctx.dialect === 'postgres') {
    await sql`WITH o AS (${outbox}), s AS (${state}) ${row}`.execute(trx);
    return;
  }
  for (const part of [outbox, state, row]) await part.execute();
}
