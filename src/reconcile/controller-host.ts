// Runs one Reconciler (DESIGN §6): registers it and heartbeats, turns bus events into work
// queue keys, and runs each reconcile under the per-cluster lease with its fencing token.
// Level-triggered: an event only names a cluster; the handler re-reads it through the API.
import { pino, type Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Cluster, ControllerReport, ControllerStatus } from '../domain/index.ts';
import { fitReport, isGomanError, isNotRegistered, stableStringify } from '../domain/index.ts';
import type { EventBus, Subscription } from '../events/port.ts';
import type { ClusterEvent } from '../domain/index.ts';
import { acquireKept } from '../lease/keeper.ts';
import { leaseName, type LeaseStore } from '../lease/port.ts';
import type { BackoffOptions } from '../util/backoff.ts';
import { controllerMetrics, type ControllerMetrics } from './metrics.ts';
import { TerminalError, terminalReport, type ControlPlane, type ReconcileContext, type Reconciler, type ReconcileResult } from './types.ts';
import { WorkQueue } from './work-queue.ts';
import { randomBytes } from 'node:crypto';
import { contextOf, currentTraceparent, inSpan, SpanKind } from '../util/trace.ts';

export interface ControllerHostOptions {
  reconciler: Reconciler;
  controlPlane: ControlPlane;
  bus: EventBus;
  leases: LeaseStore;
  /** Identity of this process in leases (unique per process). */
  owner: string;
  concurrency?: number;
  leaseTtlMs?: number;
  heartbeatMs?: number;
  /** How soon to look again when another process holds a cluster's lease. */
  leaseBusyRequeueMs?: number;
  /** Longest a reconciler that cannot drift goes without a full reconcile of a settled cluster (default 5 min). */
  fullResyncMs?: number;
  backoff?: BackoffOptions;
  metrics?: Registry;
  logger?: Logger;
}

export interface ControllerHost {
  readonly name: string;
  /** Look at this cluster soon (what a bus event does). */
  enqueue(clusterId: string): void;
  /** Keys waiting in the queue. */
  readonly depth: number;
  /** Stop the subscription and heartbeat, drain in-flight reconciles within the deadline, release leases. */
  stop(deadlineMs?: number): Promise<void>;
}

export const DEFAULT_LEASE_TTL_MS = 30_000;
const DEFAULT_HEARTBEAT_MS = 10_000;
const DEFAULT_STOP_DEADLINE_MS = 10_000;
const DEFAULT_FULL_RESYNC_MS = 300_000;
// A reconcile mostly waits on the API, the database and the cloud: 16 at once kept a 2-core
// machine busy in bench:scale where 4 left it waiting (10 000 clusters Ready in 75 s, not 93 s).
const DEFAULT_CONCURRENCY = 16;

// A controller's own status report comes back as cluster.status; reacting to it would be the
// hot loop Goman had. Nothing a provider acts on (spec, deletion) changes in such an event.
const IGNORED_EVENTS = new Set<ClusterEvent['type']>(['cluster.status', 'cluster.deleted']);

export async function startController(opts: ControllerHostOptions): Promise<ControllerHost> {
  const { reconciler, controlPlane, bus, leases, owner } = opts;
  const name = reconciler.name;
  const providers = new Set(reconciler.registration.providers);
  const leaseTtlMs = opts.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  const busyRequeueMs = opts.leaseBusyRequeueMs ?? 1_000;
  const log = (opts.logger ?? pino({ level: 'silent' })).child({ controller: name });
  const metrics = opts.metrics ? controllerMetrics(opts.metrics) : undefined;

  const register = (): Promise<void> => controlPlane.registerController(name, reconciler.registration);
  try {
    await register();
  } catch (err) {
    // A server that is not up yet is normal when processes start together: the heartbeat
    // registers us once it answers. Anything else (a bad token) is a configuration error.
    if (!isGomanError(err, 'UNAVAILABLE')) throw err;
    log.warn({ err: errText(err) }, 'control plane unreachable; will register on the next heartbeat');
  }
  const heartbeat = setInterval(() => {
    register().catch((err: unknown) => log.warn({ err: errText(err) }, 'controller heartbeat failed'));
  }, opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
  heartbeat.unref();

  // The trace of the latest event that queued a cluster: its reconcile continues that trace.
  const traces = new Map<string, string>();
  const settled = reconciler.canDrift === false ? new SettledClusters(opts.fullResyncMs ?? DEFAULT_FULL_RESYNC_MS) : undefined;
  /** The cluster is gone: drop its backoff, pending requeue and settled mark. */
  const forget = (clusterId: string): void => {
    queue.forget(clusterId);
    settled?.forget(clusterId);
  };
  const queue = new WorkQueue({
    concurrency: opts.concurrency ?? DEFAULT_CONCURRENCY,
    backoff: opts.backoff,
    onError: (cluster, err, retryInMs) => log.warn({ cluster, reconcile: reconcileIdOf(err), err: errText(err), retryInMs: Math.round(retryInMs) }, 'reconcile failed'),
    process: (clusterId, signal, priority) => {
      const traceparent = traces.get(clusterId);
      traces.delete(clusterId);
      const job = { clusterId, signal, name, providers, controlPlane, leases, owner, leaseTtlMs, busyRequeueMs, reconciler, metrics, log, register, forget: () => forget(clusterId), settled, resync: priority === 'resync' };
      return reconcileUnderLease(job, traceparent);
    },
  });
  const untrackDepth = metrics?.trackDepth(name, () => queue.depth);

  const subscription: Subscription = await bus.subscribe(name, async (event) => {
    if (!providers.has(event.provider)) return;
    const attributes = { 'goman.event.type': event.type, 'goman.cluster.id': event.clusterId, 'goman.controller': name };
    await inSpan('bus deliver', { parent: contextOf(event.traceparent), kind: SpanKind.CONSUMER, attributes }, async () => {
      if (event.type === 'cluster.deleted') forget(event.clusterId);
      if (IGNORED_EVENTS.has(event.type)) return;
      const traceparent = currentTraceparent();
      if (traceparent) traces.set(event.clusterId, traceparent);
      // The scheduler's periodic look waits behind events of real change (work-queue.ts).
      queue.add(event.clusterId, event.type === 'cluster.reconcile' ? 'resync' : 'event');
    });
  });
  log.info({ owner, providers: [...providers] }, 'controller started');

  return {
    name,
    enqueue: (clusterId) => queue.add(clusterId),
    get depth() {
      return queue.depth;
    },
    async stop(deadlineMs = DEFAULT_STOP_DEADLINE_MS) {
      clearInterval(heartbeat);
      await subscription.close();
      const { abandoned } = await queue.shutdown(deadlineMs);
      untrackDepth?.();
      log.info({ abandoned }, 'controller stopped');
    },
  };
}

interface ReconcileJob {
  clusterId: string;
  signal: AbortSignal;
  name: string;
  providers: ReadonlySet<string>;
  controlPlane: ControlPlane;
  leases: LeaseStore;
  owner: string;
  leaseTtlMs: number;
  busyRequeueMs: number;
  reconciler: Reconciler;
  metrics: ControllerMetrics | undefined;
  log: Logger;
  register: () => Promise<void>;
  forget: () => void;
  /** Clusters this process settled, when its reconciler cannot drift. */
  settled: SettledClusters | undefined;
  /** Taken for the scheduler's periodic look only, with no event asking. */
  resync: boolean;
}

/**
 * The clusters a reconciler that cannot drift last left settled: the pass wrote no report,
 * asked for no requeue and did not fail, so a later pass on the same resourceVersion would do
 * nothing. A resync of such a cluster reads it and stops there, without the lease (two writes)
 * or the provider's state (controller-runtime resyncs every object in full; here most of a
 * young fleet's load was resyncs that found nothing to do, docs/performance.md §2). One full
 * pass every `fullResyncMs` still happens, as a backstop.
 */
export class SettledClusters {
  private readonly seen = new Map<string, { resourceVersion: string; at: number }>();
  private readonly fullResyncMs: number;

  constructor(fullResyncMs: number) {
    this.fullResyncMs = fullResyncMs;
  }

  settle(cluster: Cluster, now = Date.now()): void {
    this.seen.set(cluster.id, { resourceVersion: cluster.resourceVersion, at: now });
  }

  /** True when `cluster` is as this process last settled it, recently enough to skip a full pass. */
  unchangedSince(cluster: Cluster, now = Date.now()): boolean {
    const last = this.seen.get(cluster.id);
    return last !== undefined && last.resourceVersion === cluster.resourceVersion && now - last.at < this.fullResyncMs;
  }

  forget(clusterId: string): void {
    this.seen.delete(clusterId);
  }
}

/** Which reconcile run an error came from, so the queue's retry line names it too. */
const reconcileIds = new WeakMap<object, string>();
const reconcileIdOf = (err: unknown): string | undefined => (typeof err === 'object' && err !== null ? reconcileIds.get(err) : undefined);

/** One reconcile run in a span, child of the event that queued it (when it carried a trace). */
function reconcileUnderLease(job: ReconcileJob, traceparent: string | undefined): Promise<ReconcileResult> {
  // One id per run, in every log line and on the span: the lines of one reconcile can be told apart.
  const reconcileId = randomBytes(6).toString('hex');
  const attributes = { 'goman.cluster.id': job.clusterId, 'goman.controller': job.name, 'goman.reconcile.id': reconcileId };
  return inSpan('reconcile', { parent: contextOf(traceparent), attributes }, () => reconcileRun(job, reconcileId));
}

async function reconcileRun(job: ReconcileJob, reconcileId: string): Promise<ReconcileResult> {
  const { clusterId, name, controlPlane, metrics } = job;
  const started = performance.now();
  job = { ...job, log: job.log.child({ reconcile: reconcileId }) };
  let result = 'error';
  try {
    if (job.resync && job.settled) {
      const current = await controlPlane.getCluster(clusterId);
      if (!current) {
        job.forget();
        result = 'gone';
        return {};
      }
      if (job.settled.unchangedSince(current)) {
        result = 'unchanged';
        return {};
      }
    }
    // Settled again only by a pass that ends settled.
    job.settled?.forget(clusterId);
    const held = await acquireKept(job.leases, leaseName(clusterId), job.owner, {
      ttlMs: job.leaseTtlMs,
      onRenewError: (err) => job.log.warn({ cluster: clusterId, err: errText(err) }, 'lease renewal failed; will retry'),
    });
    if (!held) {
      result = 'lease_busy';
      return { requeueAfterMs: job.busyRequeueMs * (1 + Math.random() * 0.2) };
    }
    const signal = AbortSignal.any([job.signal, held.signal]);
    try {
      const cluster = await controlPlane.getCluster(clusterId);
      if (!cluster) {
        job.forget();
        result = 'gone';
        return {};
      }
      if (!job.providers.has(cluster.spec.provider)) {
        result = 'success';
        return {};
      }
      let wrote = false;
      // What the cluster records for this controller, as of its last report in this pass.
      let recorded: Recorded | undefined = ownStatus(cluster, name);
      const ctx: ReconcileContext = {
        fence: held.fence,
        signal,
        report: async (given) => {
          const report = fitReport(given);
          if (unchanged(recorded, report)) return;
          wrote = true;
          signal.throwIfAborted();
          const { ignored } = await registeredThen(job, () => controlPlane.reportStatus(clusterId, name, report));
          if (ignored) return;
          const metadata = report.metadata ?? recorded?.metadata;
          recorded = { observedGeneration: report.observedGeneration, conditions: report.conditions, ...(report.lastError ? { lastError: report.lastError } : {}), ...(metadata ? { metadata } : {}) };
        },
        releaseFinalizer: async () => {
          wrote = true;
          signal.throwIfAborted();
          await registeredThen(job, () => controlPlane.releaseFinalizer(clusterId, name));
        },
      };
      try {
        const out = await job.reconciler.reconcile(cluster, ctx);
        result = out.requeueAfterMs !== undefined ? 'requeue' : 'success';
        if (result === 'success' && !wrote) job.settled?.settle(cluster);
        return out;
      } catch (err) {
        if (!(err instanceof TerminalError) || signal.aborted) throw err;
        // Retrying cannot help: say so once, and wait for the cluster to change.
        job.log.warn({ cluster: clusterId, code: err.code, err: err.message }, 'reconcile failed for good; not retrying');
        await ctx.report(terminalReport(cluster.generation, err));
        result = 'terminal';
        return {};
      }
    } catch (err) {
      if (signal.aborted) result = 'aborted';
      throw err;
    } finally {
      await held.release().catch((err: unknown) => job.log.warn({ cluster: clusterId, err: errText(err) }, 'lease release failed'));
    }
  } catch (err) {
    if (typeof err === 'object' && err !== null) reconcileIds.set(err, reconcileId);
    throw err;
  } finally {
    job.log.debug({ cluster: clusterId, result, ms: Math.round(performance.now() - started) }, 'reconcile');
    metrics?.reconciles.inc({ controller: name, result });
    metrics?.duration.observe({ controller: name }, (performance.now() - started) / 1000);
  }
}

/**
 * Runs a call the server only takes from a registered controller. An admin may deregister a
 * live controller (or its heartbeat may have lapsed): it registers again at once and repeats
 * the call, rather than failing every reconcile until the next heartbeat.
 */
async function registeredThen<T>(job: ReconcileJob, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!isNotRegistered(err)) throw err;
    job.log.warn({ cluster: job.clusterId }, 'the control plane no longer knew this controller; registering again');
    await job.register();
    return call();
  }
}

function ownStatus(cluster: Cluster, name: string): ControllerStatus | undefined {
  return cluster.status.controllers.find((c) => c.name === name);
}

/** The part of a controller's recorded status that a report restates. */
type Recorded = Pick<ControllerStatus, 'observedGeneration' | 'lastError' | 'metadata'> & { conditions: readonly Pick<ControllerReport['conditions'][number], 'type' | 'status' | 'reason' | 'message'>[] };

/**
 * True when a report would restate what the cluster already records for this controller.
 * Skipping it keeps a steady cluster from writing (and emitting an event) on every resync.
 */
export function unchanged(previous: Recorded | undefined, report: ControllerReport): boolean {
  if (!previous || previous.observedGeneration !== report.observedGeneration) return false;
  const said = (cs: readonly { type: string; status: string; reason: string; message: string }[]): string =>
    stableStringify(cs.map(({ type, status, reason, message }) => ({ type, status, reason, message })));
  if (said(previous.conditions) !== said(report.conditions)) return false;
  if (stableStringify(previous.lastError ?? null) !== stableStringify(report.lastError ?? null)) return false;
  return report.metadata === undefined || stableStringify(report.metadata) === stableStringify(previous.metadata ?? null);
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
