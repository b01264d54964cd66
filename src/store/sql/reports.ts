// What controllers write: status reports, finalizer releases, their registration.
import {
  applyReport,
  conflict,
  notFound,
  notRegistered,
  reportFieldProblem,
  sameStatus,
  jsonEqual,
  validationFailed,
  type Cluster,
  type ClusterStatus,
  type ControllerRegistration,
  type ControllerRegistrationInput,
  type ControllerReport,
} from '../../domain/index.ts';
import type { ReportOptions, ReportResult } from '../port.ts';
import { singleStatementWrite, storeSpan, transaction, type SqlContext } from './context.ts';
import type { Queued } from './report-batches.ts';
import { iso, toJson } from './rows.ts';
import {
  changesStatusAlone,
  loadRegistry,
  lockWithRegistry,
  prepareSave,
  readManyWithRegistry,
  recompute,
  removeCluster,
  saveCluster,
  saveClusterIfUnchanged,
  saveStatusesIfUnchanged,
  type Fetched,
  type PreparedSave,
  type HistoryDraft,
  type Write,
} from './writes.ts';

// A controller's updatedAt moves on every report; comparing without it keeps a repeated
// identical report from emitting cluster.status, which would wake every controller again.
function statusChanged(before: ClusterStatus, after: ClusterStatus): boolean {
  const strip = (s: ClusterStatus): ClusterStatus => ({ ...s, controllers: s.controllers.map((c) => ({ ...c, updatedAt: '' })) });
  return !sameStatus(strip(before), strip(after));
}

/** What a report does to the cluster as read: nothing to write (with the answer), or this save. */
type ReportDecision =
  | { kind: 'answer'; result: ReportResult }
  | { kind: 'save'; write: Write & { before: Cluster } };

function decideReport({ cluster: before, registry }: Fetched, controller: string, report: ControllerReport, opts: ReportOptions): ReportDecision {
  const controllers = before.status.controllers;
  const since = opts.registeredSince;
  if (since && !registry.some((r) => r.name === controller && Date.parse(r.lastHeartbeat) >= since.getTime())) throw notRegistered(controller);
  const now = new Date();
  const at = now.toISOString();
  const previous = controllers.find((c) => c.name === controller);
  const outcome = applyReport(previous, controller, report, before.generation, at);
  if (outcome.kind === 'future') {
    throw conflict(`observedGeneration ${report.observedGeneration} is ahead of generation ${before.generation}`);
  }
  if (outcome.kind === 'stale') return { kind: 'answer', result: { cluster: before, ignored: 'stale' } };

  const record = outcome.status;

  const history: HistoryDraft[] = [];
  const finalizers = [...before.finalizers];
  if (!previous && !before.deletionTimestamp && !finalizers.includes(controller)) {
    finalizers.push(controller);
    history.push({ kind: 'finalizer', message: `finalizer ${controller} added`, data: { controller } });
  }
  const error = record.lastError;
  if (error && !jsonEqual(error, previous?.lastError ?? null)) {
    history.push({
      kind: 'error',
      message: `${controller}: ${error.code}: ${error.message}`,
      data: { controller, code: error.code, retryable: error.retryable },
    });
  }
  const next: Cluster = { ...before, finalizers };
  next.status = recompute(next, before.status, [...controllers.filter((c) => c.name !== controller), record], registry, at);
  const changed = finalizers.length !== before.finalizers.length || statusChanged(before.status, next.status);
  // A report that changes nothing but its own time writes nothing: the row keeps the record it has.
  if (!changed && history.length === 0) return { kind: 'answer', result: { cluster: before } };
  const newReporter = previous ? undefined : { cluster_id: before.id, controller };
  return { kind: 'save', write: { before, next, events: ['cluster.status'], history, now, newReporter } };
}

/** A report as it waits for its batch (report-batches.ts). */
export interface QueuedReport {
  controller: string;
  report: ControllerReport;
  opts: ReportOptions;
}

/**
 * On PostgreSQL a report first reads the row without a lock and saves only if it is still that
 * version, in one statement with no transaction around it (Kubernetes' optimistic concurrency):
 * the write commits as its statement ends, where a locking transaction waits for the API process
 * to send COMMIT, with the row locked and the event's time already taken. Reports that arrive
 * together share those two round trips (reportBatch). Only when another write landed in between
 * does a report take the row lock and decide again, and the cluster's reports take the lock at
 * once for a while (contended-clusters.ts).
 */
export async function reportStatus(
  ctx: SqlContext,
  clusterId: string,
  controller: string,
  report: ControllerReport,
  opts: ReportOptions = {},
): Promise<ReportResult> {
  const problem = reportFieldProblem(report);
  if (problem) throw validationFailed('invalid status report', [problem]);
  if (ctx.dialect === 'postgres' && !ctx.contended.has(clusterId)) {
    return storeSpan(ctx, 'reportStatus', () => ctx.reports.submit(clusterId, { controller, report, opts }));
  }
  return lockedReport(ctx, clusterId, controller, report, opts);
}

function lockedReport(ctx: SqlContext, clusterId: string, controller: string, report: ControllerReport, opts: ReportOptions): Promise<ReportResult> {
  return transaction(ctx, 'reportStatus', async (trx) => {
    const locked = await lockWithRegistry(ctx, trx, clusterId);
    if (!locked) throw notFound(`cluster ${clusterId}`);
    const decision = decideReport(locked, controller, report, opts);
    if (decision.kind === 'answer') return decision.result;
    return { cluster: await saveCluster(ctx, trx, decision.write) };
  });
}

type QueuedOne = Queued<QueuedReport, ReportResult>;

/**
 * A batch of reports on different clusters (PostgreSQL, report-batches.ts): on one connection,
 * one statement reads every row, each report is decided on its own row, and the saves that
 * change the status alone go in one statement. Any other save is decided again on a connection
 * of its own and saved there, so that no event's time is taken before its save holds a
 * connection (it would age in the pool's queue). A report whose row changed after the read
 * writes nothing and goes the locking way, as a lone report does. Settles every report.
 */
export async function reportBatch(ctx: SqlContext, batch: readonly QueuedOne[]): Promise<void> {
  const settle = (q: QueuedOne, work: () => Promise<ReportResult | null>): Promise<void> =>
    q.inContext(() => work().then((result) => (result === null ? lost(q) : q.resolve(result)), q.reject));
  const lost = (q: QueuedOne): Promise<void> => {
    ctx.contended.mark(q.clusterId);
    return settle(q, () => lockedReport(ctx, q.clusterId, q.item.controller, q.item.report, q.item.opts));
  };
  const alone: Promise<void>[] = [];
  const together: { q: QueuedOne; save: PreparedSave & { before: Cluster } }[] = [];
  try {
    await ctx.db.connection().execute(async (db) => {
      const rows = await readManyWithRegistry(ctx, db, batch.map((q) => q.clusterId));
      for (const q of batch) {
        q.inContext(() => {
          try {
            const read = rows.get(q.clusterId);
            if (!read) throw notFound(`cluster ${q.clusterId}`);
            const decision = decideReport(read, q.item.controller, q.item.report, q.item.opts);
            if (decision.kind === 'answer') return q.resolve(decision.result);
            const save = prepareSave(ctx, decision.write);
            if (changesStatusAlone(save)) return together.push({ q, save });
            alone.push(settle(q, () => reportAlone(ctx, read, q.item)));
          } catch (err) {
            q.reject(err);
          }
        });
      }
      if (together.length === 0) return;
      const saved = await saveStatusesIfUnchanged(ctx, db, together.map((t) => t.save));
      for (const { q } of together.splice(0)) {
        const cluster = saved.get(q.clusterId);
        alone.push(cluster === undefined ? lost(q) : Promise.resolve(q.resolve({ cluster })));
      }
    });
  } catch (err) {
    // The read failed (no report was decided), or the shared save did (it wrote nothing).
    const undecided = together.length > 0 ? together.map((t) => t.q) : batch;
    for (const q of undecided) q.reject(err);
  }
  await Promise.all(alone);
}

/** One report of a batch whose save is not the shared one: decided on the batch's read, saved alone. */
function reportAlone(ctx: SqlContext, read: Fetched, { controller, report, opts }: QueuedReport): Promise<ReportResult | null> {
  return singleStatementWrite(ctx, 'reportStatus', async (db) => {
    const decision = decideReport(read, controller, report, opts);
    if (decision.kind === 'answer') return decision.result;
    const saved = await saveClusterIfUnchanged(ctx, db, { ...prepareSave(ctx, decision.write), before: decision.write.before });
    return saved === null ? null : { cluster: saved };
  });
}

export async function removeFinalizer(ctx: SqlContext, clusterId: string, controller: string): Promise<Cluster | null> {
  return transaction(ctx, 'removeFinalizer', async (trx) => {
    const locked = await lockWithRegistry(ctx, trx, clusterId);
    if (!locked) return null;
    const before = locked.cluster;
    if (!before.finalizers.includes(controller)) return before;
    const now = new Date();
    const at = now.toISOString();
    const finalizers = before.finalizers.filter((f) => f !== controller);
    if (before.deletionTimestamp && finalizers.length === 0) {
      await removeCluster(ctx, trx, before, ['cluster.deleted'], at);
      return null;
    }
    const next: Cluster = { ...before, finalizers };
    next.status = recompute(next, before.status, before.status.controllers, locked.registry, at);
    const history: HistoryDraft[] = [{ kind: 'finalizer', message: `finalizer ${controller} released`, data: { controller } }];
    return saveCluster(ctx, trx, { before, next, events: ['cluster.updated'], history, now });
  });
}

export async function registerController(ctx: SqlContext, name: string, input: ControllerRegistrationInput): Promise<ControllerRegistration> {
  const at = new Date().toISOString();
  const row = await ctx.db
    .insertInto('controllers')
    .values({ name, providers: toJson(input.providers), required: input.required, registered_at: at, last_heartbeat: at })
    .onConflict((oc) =>
      oc.column('name').doUpdateSet((eb) => ({ providers: eb.ref('excluded.providers'), required: eb.ref('excluded.required'), last_heartbeat: eb.ref('excluded.last_heartbeat') })),
    )
    .returning(['registered_at', 'last_heartbeat'])
    .executeTakeFirstOrThrow();
  return { name, providers: input.providers, required: input.required, registeredAt: iso(row.registered_at), lastHeartbeat: iso(row.last_heartbeat) };
}

/** Copies: the registry read may be the one every report shares (registry-cache.ts). */
export async function listControllers(ctx: SqlContext): Promise<ControllerRegistration[]> {
  return (await loadRegistry(ctx)).map((r) => ({ ...r, providers: [...r.providers] }));
}

/** One cluster forgets a deregistered controller: its report and its finalizer, in one transaction. */
async function dropController(ctx: SqlContext, clusterId: string, controller: string): Promise<void> {
  await transaction(ctx, 'listControllers', async (trx) => {
    const locked = await lockWithRegistry(ctx, trx, clusterId);
    await trx.deleteFrom('controller_statuses').where('cluster_id', '=', clusterId).where('controller', '=', controller).execute();
    if (!locked) return;
    const before = locked.cluster;
    const now = new Date();
    const at = now.toISOString();
    const finalizers = before.finalizers.filter((f) => f !== controller);
    if (before.deletionTimestamp && finalizers.length === 0) {
      await removeCluster(ctx, trx, before, ['cluster.deleted'], at);
      return;
    }
    const next: Cluster = { ...before, finalizers };
    const reports = before.status.controllers.filter((c) => c.name !== controller);
    next.status = recompute(next, before.status, reports, locked.registry, at);
    const history: HistoryDraft[] =
      finalizers.length === before.finalizers.length
        ? []
        : [{ kind: 'finalizer', message: `finalizer ${controller} released: the controller was deregistered`, data: { controller } }];
    await saveCluster(ctx, trx, { before, next, events: ['cluster.updated'], history, now });
  });
}

export async function deregisterController(ctx: SqlContext, name: string): Promise<boolean> {
  // The registration goes first, so no cluster recomputed below still counts it as required.
  const removed = await ctx.db.deleteFrom('controllers').where('name', '=', name).executeTakeFirst();
  // A finalizer is added by a controller's first report, so the clusters it holds are among those it reported on.
  const held = await ctx.db.selectFrom('controller_statuses').select('cluster_id').where('controller', '=', name).execute();
  for (const row of held) await dropController(ctx, row.cluster_id, name);
  return Number(removed.numDeletedRows) > 0 || held.length > 0;
}

export async function expireControllers(ctx: SqlContext, heartbeatBefore: Date): Promise<string[]> {
  const stale = await ctx.db.selectFrom('controllers').select('name').where('last_heartbeat', '<', heartbeatBefore.toISOString()).execute();
  for (const row of stale) await deregisterController(ctx, row.name);
  return stale.map((r) => r.name);
}
