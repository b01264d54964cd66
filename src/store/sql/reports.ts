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
import type { Queued, QueuedReport } from './report-batches.ts';
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
 * What a batch does with one cluster's reports, decided in order, each on the state the one
 * before left: a run of saves that change the status alone (for the shared statement), with the
 * reports that changed nothing after one of them (answered once it is written); or a first save
 * of another kind (`alone`). The reports after a save of another kind are left for after it.
 */
interface ClusterPlan {
  clusterId: string;
  version: string;
  saves: { q: QueuedOne; save: PreparedSave }[];
  /** A report that changed nothing, answered with the cluster as the save at `after` leaves it. */
  unchanged: { q: QueuedOne; result: ReportResult; after: number }[];
  /** Every report of `saves` and `unchanged`, in order. */
  open: QueuedOne[];
  alone?: { q: QueuedOne; read: Fetched };
  rest: QueuedOne[];
}

function planCluster(ctx: SqlContext, read: Fetched, items: readonly QueuedOne[]): ClusterPlan {
  const plan: ClusterPlan = { clusterId: read.cluster.id, version: read.cluster.resourceVersion, saves: [], unchanged: [], open: [], rest: [] };
  let cluster = read.cluster;
  for (const q of items) {
    if (plan.alone || plan.rest.length > 0) {
      plan.rest.push(q);
      continue;
    }
    q.inContext(() => {
      try {
        const decision = decideReport({ cluster, registry: read.registry }, q.item.controller, q.item.report, q.item.opts);
        if (decision.kind === 'answer') {
          if (plan.saves.length === 0) return q.resolve(decision.result);
          plan.unchanged.push({ q, result: decision.result, after: plan.saves.length - 1 });
          return plan.open.push(q);
        }
        const save = prepareSave(ctx, decision.write);
        if (changesStatusAlone(save)) {
          plan.saves.push({ q, save });
          plan.open.push(q);
          cluster = save.stamped;
        } else if (plan.saves.length === 0) {
          plan.alone = { q, read: { cluster, registry: read.registry } };
        } else {
          plan.rest.push(q);
        }
      } catch (err) {
        q.reject(err);
      }
    });
  }
  return plan;
}

/**
 * A batch of reports (PostgreSQL, report-batches.ts): on one connection, one statement reads the
 * rows of every cluster in it, each cluster's reports are decided in order (planCluster), and
 * every save that changes the status alone goes in one statement. A save of another kind is
 * decided again on a connection of its own and saved there, so that no event's time is taken
 * before its save holds a connection (it would age in the pool's queue); the reports behind it
 * on its cluster follow it, one by one. A cluster whose row changed after the read wrote nothing,
 * and its reports go the locking way, as a lone report does. Settles every report.
 */
export async function reportBatch(ctx: SqlContext, batch: readonly QueuedOne[]): Promise<void> {
  const byCluster = new Map<string, QueuedOne[]>();
  for (const q of batch) {
    const items = byCluster.get(q.clusterId);
    if (items) items.push(q);
    else byCluster.set(q.clusterId, [q]);
  }
  const locked = (q: QueuedOne): Promise<void> => settle(q, () => lockedReport(ctx, q.clusterId, q.item.controller, q.item.report, q.item.opts));
  const inOrder = async (items: readonly QueuedOne[], first?: Promise<void>): Promise<void> => {
    await first;
    for (const q of items) await locked(q);
  };
  const work: Promise<void>[] = [];
  let plans: ClusterPlan[] = [];
  try {
    await ctx.db.connection().execute(async (db) => {
      const rows = await readManyWithRegistry(ctx, db, [...byCluster.keys()]);
      for (const [clusterId, items] of byCluster) {
        const read = rows.get(clusterId);
        if (!read) {
          for (const q of items) q.reject(notFound(`cluster ${clusterId}`));
          continue;
        }
        const plan = planCluster(ctx, read, items);
        if (plan.alone) {
          const { q, read: on } = plan.alone;
          const alone = settle(q, async () => {
            const result = await reportAlone(ctx, on, q.item);
            if (result !== null) return result;
            ctx.contended.mark(clusterId);
            return lockedReport(ctx, clusterId, q.item.controller, q.item.report, q.item.opts);
          });
          work.push(inOrder(plan.rest, alone));
        } else if (plan.saves.length > 0) {
          plans.push(plan);
        } else {
          work.push(inOrder(plan.rest));
        }
      }
      if (plans.length === 0) return;
      const seqs = await saveStatusesIfUnchanged(ctx, db, plans.flatMap((p) => p.saves.map((s) => s.save)), new Map(plans.map((p) => [p.clusterId, p.version])));
      for (const plan of plans) work.push(finish(ctx, plan, seqs, inOrder));
      plans = [];
    });
  } catch (err) {
    // The read failed (nothing was decided), or the shared save did (it wrote nothing).
    if (plans.length === 0) for (const q of batch) q.reject(err);
    for (const plan of plans) {
      for (const q of plan.open) q.reject(err);
      work.push(inOrder(plan.rest));
    }
  }
  await Promise.all(work);
}

/** Answers a cluster's reports once the shared statement ran; or, if its row had moved, sends them the locking way in order. */
function finish(
  ctx: SqlContext,
  plan: ClusterPlan,
  seqs: ReadonlyMap<string, number>,
  inOrder: (items: readonly QueuedOne[]) => Promise<void>,
): Promise<void> {
  const seqOf = (i: number): number | undefined => seqs.get(plan.saves[i]!.save.values.outbox[0]!.event_id);
  if (seqOf(0) === undefined) {
    ctx.contended.mark(plan.clusterId);
    return inOrder([...plan.open, ...plan.rest]);
  }
  const saved = (i: number): Cluster => ({ ...plan.saves[i]!.save.stamped, resourceVersion: String(seqOf(i)) });
  plan.saves.forEach(({ q }, i) => q.resolve({ cluster: saved(i) }));
  for (const { q, result, after } of plan.unchanged) q.resolve({ ...result, cluster: saved(after) });
  return inOrder(plan.rest);
}

/** Runs `work` in the report's context and settles the report with its outcome. */
function settle(q: QueuedOne, work: () => Promise<ReportResult>): Promise<void> {
  return q.inContext(() => work().then(q.resolve, q.reject));
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
