// Status aggregation (DESIGN §3). Pure: the stores call it inside the transaction that
// changes its inputs, so the phase is never computed on read and no report is lost.
import type {
  ClusterNode,
  ClusterStatus,
  Condition,
  ControllerRegistration,
  ControllerReport,
  ControllerStatus,
  Phase,
} from './cluster.ts';
import { condition, findCondition, isTrue, nameList, stampConditions } from './conditions.ts';
import type { ClusterSpec } from './spec.ts';
import { jsonEqual } from './json-equal.ts';
import { restoreStatusSchema, rolloutStatusSchema } from './day2.ts';

export interface AggregateInput {
  generation: number;
  spec: Pick<ClusterSpec, 'provider' | 'desiredState'>;
  deletionTimestamp?: string | undefined;
  /** Who holds the cluster: while deleting, the status names them and since when. */
  finalizers?: readonly string[] | undefined;
  previous: ClusterStatus;
  /** Every controller's latest report on this cluster. */
  controllers: readonly ControllerStatus[];
  registry: readonly ControllerRegistration[];
  now: string;
}

/** Registered, required controllers that act on this provider, sorted by name. */
export function requiredControllers(registry: readonly ControllerRegistration[], provider: string): string[] {
  return registry
    .filter((c) => c.required && c.providers.includes(provider))
    .map((c) => c.name)
    .sort();
}

export type ReportOutcome =
  | { kind: 'accepted'; status: ControllerStatus }
  | { kind: 'stale' }
  | { kind: 'future' };

/**
 * Fold one report into a controller's record. A report from the future is refused; one older
 * than what the controller last said is ignored, so late or duplicate events never regress.
 */
export function applyReport(
  previous: ControllerStatus | undefined,
  name: string,
  report: ControllerReport,
  generation: number,
  now: string,
): ReportOutcome {
  if (report.observedGeneration > generation) return { kind: 'future' };
  if (previous && report.observedGeneration < previous.observedGeneration) return { kind: 'stale' };
  const status: ControllerStatus = {
    name,
    observedGeneration: report.observedGeneration,
    conditions: stampConditions(previous?.conditions ?? [], report.conditions, report.observedGeneration, now),
    updatedAt: now,
  };
  if (report.lastError) status.lastError = report.lastError;
  const metadata = report.metadata ?? previous?.metadata;
  if (metadata) status.metadata = metadata;
  return { kind: 'accepted', status };
}

export function aggregateStatus(input: AggregateInput): ClusterStatus {
  const { generation, spec, previous, now } = input;
  const required = requiredControllers(input.registry, spec.provider);
  const byName = new Map(input.controllers.map((c) => [c.name, c]));
  const current = (name: string): ControllerStatus | undefined => {
    const c = byName.get(name);
    return c && c.observedGeneration === generation ? c : undefined;
  };

  const notReady = required.filter((name) => !isTrue(current(name)?.conditions ?? [], 'Ready'));
  const failed = required.filter((name) => {
    const c = current(name);
    return c !== undefined && (isTrue(c.conditions, 'Failed') || c.lastError?.retryable === false);
  });
  const unavailable = required.filter((name) => {
    const c = byName.get(name);
    return !c || !(isTrue(c.conditions, 'Available') || isTrue(c.conditions, 'Ready'));
  });
  // A restore holds the phase even at an older generation: its steps are what the cluster is doing.
  const restoring = required.filter((name) => isTrue(byName.get(name)?.conditions ?? [], 'Restoring'));
  const allReady = required.length > 0 && notReady.length === 0;
  const stopped = spec.desiredState === 'stopped';

  let phase: Phase;
  let reason: string;
  let message: string;
  if (input.deletionTimestamp) {
    phase = 'Deleting';
    reason = 'DeletionRequested';
    const holders = input.finalizers ?? input.controllers.map((c) => c.name);
    message = holders.length
      ? `held since ${input.deletionTimestamp} by ${describe(holders)}, waiting for clean-up (an admin can deregister a controller that is gone)`
      : 'deleting';
  } else if (required.length === 0) {
    phase = 'Pending';
    reason = 'NoControllers';
    message = `no registered controller handles provider "${spec.provider}"`;
  } else if (failed.length > 0) {
    phase = 'Failed';
    reason = 'ControllerFailed';
    message = failed.map((name) => `${name}: ${failureText(current(name))}`).join('; ');
  } else if (restoring.length > 0) {
    phase = 'Restoring';
    reason = 'Restoring';
    message = restoring.map((name) => findCondition(current(name)?.conditions ?? [], 'Restoring')?.message ?? '').join('; ');
  } else if (allReady) {
    phase = stopped ? 'Stopped' : 'Ready';
    reason = stopped ? 'Stopped' : 'Reconciled';
    message = stopped ? 'all instances are stopped' : `all required controllers are ready at generation ${generation}`;
  } else if (stopped) {
    phase = 'Stopping';
    reason = 'Stopping';
    message = `waiting for ${describe(notReady)}`;
  } else if (previous.observedGeneration > 0 && previous.observedGeneration < generation) {
    phase = 'Updating';
    reason = 'SpecChanged';
    message = `generation ${generation}: waiting for ${describe(notReady)}`;
  } else if (required.some((name) => current(name) !== undefined)) {
    phase = 'Provisioning';
    reason = 'Reconciling';
    message = `waiting for ${describe(notReady)}`;
  } else {
    phase = 'Pending';
    reason = 'WaitingForControllers';
    message = `waiting for ${describe(required)}`;
  }

  const conditions = stampConditions(
    previous.conditions,
    [
      allReady
        ? condition('Ready', 'True', 'AllControllersReady', `ready at generation ${generation}`)
        : condition('Ready', 'False', reason, required.length ? `not ready: ${describe(notReady)}` : message),
      unavailable.length === 0 && required.length > 0
        ? condition('Available', 'True', 'AllControllersAvailable', 'every required controller reports the cluster available')
        : condition('Available', 'False', 'ControllersUnavailable', required.length ? `unavailable: ${describe(unavailable)}` : message),
    ],
    generation,
    now,
  );

  const status: ClusterStatus = {
    phase,
    observedGeneration: allReady && !input.deletionTimestamp ? generation : previous.observedGeneration,
    reason,
    message,
    conditions,
    controllers: [...input.controllers].sort((a, b) => a.name.localeCompare(b.name)),
    nodes: collectNodes(input.controllers),
  };
  const endpoint = input.controllers.map((c) => c.metadata?.endpoint).find((e) => typeof e === 'string');
  if (endpoint) status.endpoint = endpoint;
  // Day 2 progress comes from the provider's report; what does not parse is left out, not trusted.
  for (const c of input.controllers) {
    const rollout = rolloutStatusSchema.safeParse(c.metadata?.rollout);
    if (rollout.success && !status.rollout) status.rollout = rollout.data;
    const restore = restoreStatusSchema.safeParse(c.metadata?.restore);
    if (restore.success && !status.restore) status.restore = restore.data;
    const upgrading = findCondition(c.conditions, 'Upgrading');
    if (upgrading && required.includes(c.name) && !findCondition(conditions, 'Upgrading')) conditions.push({ ...upgrading });
  }
  return status;
}

/**
 * True when nothing a reader cares about moved, so a no-op write can skip the outbox. Key order
 * is ignored: PostgreSQL's jsonb hands objects back with its own key order.
 */
export function sameStatus(a: ClusterStatus, b: ClusterStatus): boolean {
  return jsonEqual(a, b);
}

export function readyCondition(status: ClusterStatus): Condition | undefined {
  return findCondition(status.conditions, 'Ready');
}

function collectNodes(controllers: readonly ControllerStatus[]): ClusterNode[] {
  const nodes = new Map<string, ClusterNode>();
  for (const c of controllers) for (const n of c.metadata?.nodes ?? []) nodes.set(n.name, n);
  return [...nodes.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function failureText(c: ControllerStatus | undefined): string {
  if (!c) return 'failed';
  if (c.lastError && !c.lastError.retryable) return `${c.lastError.code}: ${c.lastError.message}`;
  return findCondition(c.conditions, 'Failed')?.message || 'failed';
}

function describe(names: readonly string[]): string {
  return names.length ? nameList(names) : 'nothing';
}
