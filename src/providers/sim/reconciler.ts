// The sim controller (DESIGN §7, cf. Cluster API's in-memory provider): makes a simulated
// cloud match the spec, with boot and install times and injected failures, and reports what
// it sees. Its instances persist in the store (fenced by the cluster lease), so a restart or
// a second controller process picks up where the last one left off. Time moves by
// timestamps compared on each pass (requeueAfter), never by sleeping.
import { randomBytes } from 'node:crypto';
import type { Action, Cluster, ClusterNode, ClusterSpec, ControllerRegistrationInput, ControllerReport, LastError } from '../../domain/index.ts';
import { condition, GomanError, nameList, recentHistory, SERVER_POOL, type ReportedCondition, type RolloutStatus } from '../../domain/index.ts';
import type { ReconcileContext, Reconciler, ReconcileResult } from '../../reconcile/types.ts';
import type { ProviderStateStore } from '../../store/port.ts';
import {
  advance,
  emptySimState,
  isLive,
  isNodeReady,
  nextDue,
  privateIp,
  simStateSchema,
  terminate,
  type SimInstance,
  type SimState,
} from './instances.ts';
import { desiredSlots, nodeName, slotKey } from '../../domain/slots.ts';
import type { DesiredSlot } from './plan.ts';
import { drainedAt, planSim, simSlots } from './plan.ts';
import { simSettings, type SimSettings } from './settings.ts';
import { executeRolloutStep, resumeStalled, ROLLOUT_KINDS, rolloutOrder, rolloutPending, stallOf, versionOf } from './rollout.ts';
import { advanceRestore, restoreRunning, restoreView, snapshotView, startRestore, takeScheduled, takeSnapshot } from './snapshots.ts';

export const SIM_PROVIDER = 'sim';
export const SIM_CONTROLLER = 'sim-controller';

export interface SimOptions extends Partial<SimSettings> {
  /** Test hook: each action of the plan as the reconciler carries it out. */
  onAction?: (action: Action) => void;
  /** Test hook: whether the K3s upgrade of this node fails (the node never comes back). */
  upgradeFails?: (node: string) => boolean;
  /** Randomness for failure injection, in [0, 1). */
  random?: () => number;
  now?: () => number;
  /** Where unset settings come from (default process.env). */
  env?: Record<string, string | undefined>;
}

export interface SimReconcilerOptions extends SimOptions {
  store: ProviderStateStore;
}

/** A launch that failed this pass; always transient in the sim. */
interface LaunchError extends LastError {
  slot: string;
}

export class SimReconciler implements Reconciler {
  readonly name = SIM_CONTROLLER;
  readonly registration: ControllerRegistrationInput = { providers: [SIM_PROVIDER], required: true };
  /** Its cloud is its own state in the store: nothing there changes unless it changes it. */
  readonly canDrift = false;
  readonly settings: SimSettings;
  private readonly store: ProviderStateStore;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly onAction: ((action: Action) => void) | undefined;
  private readonly upgradeFails: ((node: string) => boolean) | undefined;

  constructor(opts: SimReconcilerOptions) {
    this.onAction = opts.onAction;
    this.upgradeFails = opts.upgradeFails;
    this.store = opts.store;
    this.settings = simSettings(opts, opts.env);
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? Date.now;
  }

  async reconcile(cluster: Cluster, ctx: ReconcileContext): Promise<ReconcileResult> {
    const state = await this.load(cluster.id);
    const before = JSON.stringify(state);
    const deleting = cluster.deletionTimestamp !== undefined;
    const now = this.now();
    if (!deleting) this.handleRequests(cluster, state, now);
    const nextSnapshot = deleting ? undefined : takeScheduled(cluster.name, cluster.spec, state, now);
    const errors = this.converge(cluster, state, now);
    if (!deleting) trackRollout(cluster, state, now);
    ctx.signal.throwIfAborted();
    if (deleting && state.instances.length === 0) {
      await this.store.deleteProviderState(SIM_PROVIDER, cluster.id);
      await ctx.releaseFinalizer();
      return {};
    }
    const report = this.report(cluster, state, now, errors);
    // Simulated instances exist once stored. The first report adds our finalizer, so it goes
    // before them: a delete can never drop the row while they exist. (The host skips the
    // second report when it restates the first, so a new cluster costs one report, not two.)
    if (!deleting && !cluster.finalizers.includes(this.name)) await ctx.report(report);
    if (JSON.stringify(state) !== before) await this.store.putProviderState(SIM_PROVIDER, cluster.id, state, ctx.fence);
    await ctx.report(report);
    const first = errors[0];
    if (first) throw new GomanError('UNAVAILABLE', `${first.code}: ${first.message}`);
    const due = Math.min(
      ...state.instances.map((i) => nextDue(i, this.settings) ?? Infinity),
      ...(state.rollout?.pause ? [] : state.instances.map((i) => stallOf(i, cluster.spec)?.at ?? Infinity)),
      restoreRunning(state) && state.restore ? state.restore.since + this.settings.restoreStepMs : Infinity,
      nextSnapshot ?? Infinity,
    );
    return Number.isFinite(due) ? { requeueAfterMs: Math.max(1, due - now) } : {};
  }

  private executed(action: Action): void {
    this.onAction?.(action);
  }

  /** Reads this cluster's simulated cloud (empty when it has none yet). */
  async load(clusterId: string): Promise<SimState> {
    const stored = await this.store.getProviderState(SIM_PROVIDER, clusterId);
    return stored === null || stored === undefined ? emptySimState() : simStateSchema.parse(stored);
  }

  /** The plan for `spec` (default: the cluster's own) against the cloud as it is at `now`. */
  async plan(cluster: Cluster, spec: ClusterSpec = cluster.spec, deleting = cluster.deletionTimestamp !== undefined): Promise<Action[]> {
    const state = await this.load(cluster.id);
    const now = this.now();
    observe(state, now, this.settings);
    return planSim({ name: cluster.name, spec, deleting }, state, now, this.settings);
  }

  /**
   * Lets the clock act, plans once, and runs each action of that plan as soon as it can run,
   * in plan order, letting the clock act between rounds, until nothing more moves at `now`
   * (so with zero timings a cluster converges in one pass). A failed launch is retried on
   * the next pass, with a fresh plan.
   */
  private converge(cluster: Cluster, state: SimState, now: number): LaunchError[] {
    const errors: LaunchError[] = [];
    observe(state, now, this.settings);
    const plan = planSim({ name: cluster.name, spec: cluster.spec, deleting: cluster.deletionTimestamp !== undefined }, state, now, this.settings);
    const slots = new Map(simSlots(cluster.name, cluster.spec).map((slot) => [slot.node, slot]));
    const pending = new Set(plan.keys());
    // Rollout steps are planned only on a settled fleet, so a plan with any of them drains for the rollout alone.
    const rolling = plan.some((a) => a.kind === 'uncordon');
    for (let progress = true; progress; ) {
      progress = false;
      for (const k of pending) {
        const action = plan[k]!;
        // Deleting the state and releasing the finalizer is reconcile's last step, once no instance is left.
        if (action.kind === 'delete-resources') {
          if (state.instances.length > 0) continue;
          this.executed(action);
          return errors;
        }
        if (action.kind === 'launch') {
          const slot = slots.get(action.node ?? '');
          if (!slot || state.instances.some((i) => nodeName(cluster.name, i) === slot.node)) continue;
          pending.delete(k);
          const err = this.launch(cluster, state, slot, now);
          if (err) errors.push(err);
          else this.executed(action);
          progress = true;
          continue;
        }
        const instance = state.instances.find((i) => isLive(i) && nodeName(cluster.name, i) === action.node);
        if (instance && ROLLOUT_KINDS.has(action.kind) && (action.kind !== 'drain' || rolling)) {
          if (!state.rollout) startRollout(cluster.spec, state, now);
          const ctx = { spec: cluster.spec, state, now, settings: this.settings, fails: (n: string) => this.fails(n), node: action.node ?? '' };
          if (executeRolloutStep(action.kind, instance, ctx)) {
            pending.delete(k);
            this.executed(action);
            progress = true;
          }
          continue;
        }
        if (action.kind === 'snapshot' || !instance) continue;
        if (execute(action, instance, now, this.settings)) {
          pending.delete(k);
          this.executed(action);
          progress = true;
        }
      }
      if (observe(state, now, this.settings)) progress = true;
      pauseStalled(cluster, state, now);
    }
    return errors;
  }

  private fails(node: string): boolean {
    return this.upgradeFails?.(node) === true || (this.settings.upgradeFailRate > 0 && this.random() < this.settings.upgradeFailRate);
  }

  /** Carries out spec.requests (resume, backup, restore) that were not carried out yet. */
  private handleRequests(cluster: Cluster, state: SimState, now: number): void {
    const requests = cluster.spec.requests ?? {};
    observe(state, now, this.settings);
    if (requests.resume !== undefined && requests.resume !== state.handled.resume) {
      resumeStalled(state);
      state.handled.resume = requests.resume;
    }
    if (requests.backup !== undefined && requests.backup !== state.handled.backup) {
      if (takeSnapshot(cluster.name, cluster.spec, state, requests.backup, now)) {
        state.handled.backup = requests.backup;
        this.executed({ kind: 'snapshot', pool: SERVER_POOL, node: nodeName(cluster.name, { role: 'server', index: 0 }), reason: `on-demand snapshot ${requests.backup}` });
      }
    }
    const restore = requests.restore;
    if (restore !== undefined && restore.at !== state.handled.restore && !restoreRunning(state)) {
      const snapshot = state.snapshots.find((x) => x.id === restore.snapshot);
      if (snapshot) startRestore(state, snapshot, now);
      state.handled.restore = restore.at;
    }
  }

  private launch(cluster: Cluster, state: SimState, slot: DesiredSlot, now: number): LaunchError | undefined {
    const key = slotKey(slot);
    if (this.random() < this.settings.failRate) {
      return { slot: key, code: 'LaunchFailed', message: `simulated transient failure launching ${slot.node}`, retryable: true };
    }
    if (this.random() < this.settings.capacityErrorRate) {
      return { slot: key, code: 'InsufficientCapacity', message: `no simulated capacity for ${slot.instanceType} (${slot.node})`, retryable: true };
    }
    const instance: SimInstance = {
      id: `i-${randomBytes(9).toString('hex').slice(0, 17)}`,
      role: slot.role,
      index: slot.index,
      instanceType: slot.instanceType,
      state: 'pending',
      since: now,
      privateIp: privateIp(cluster.id, state.nextHost++),
      launchedAt: now,
      k3sVersion: cluster.spec.k3sVersion,
    };
    if (slot.pool !== undefined) instance.pool = slot.pool;
    if (this.random() < this.settings.stuckRate) instance.stuck = true;
    state.instances.push(instance);
    return undefined;
  }

  report(cluster: Cluster, state: SimState, now: number, errors: readonly LaunchError[]): ControllerReport {
    const desired = desiredSlots(cluster.spec);
    const bySlot = new Map(state.instances.filter(isLive).map((i) => [slotKey(i), i]));
    const inSlots = desired.map((slot) => bySlot.get(slotKey(slot)));
    const wanted = new Set(desired.map(slotKey));
    const leftovers = state.instances.filter((i) => !isLive(i) || !wanted.has(slotKey(i))).length;
    const readyCount = inSlots.filter((i) => i !== undefined && isNodeReady(i, now)).length;
    const stoppedCount = inSlots.filter((i) => i === undefined || i.state === 'stopped').length;
    const expected = desired.length;

    const rollout = rolloutView(cluster, state);
    let ready;
    if (cluster.deletionTimestamp !== undefined) {
      ready = condition('Ready', 'False', 'Deleting', `terminating ${state.instances.length} instance(s)`);
    } else if (cluster.spec.desiredState === 'stopped') {
      const done = stoppedCount === expected && leftovers === 0;
      ready = condition('Ready', done ? 'True' : 'False', done ? 'Stopped' : 'Stopping', `${stoppedCount}/${expected} instances stopped`);
    } else if (restoreRunning(state)) {
      ready = condition('Ready', 'False', 'Restoring', `restoring snapshot ${state.restore?.snapshot ?? ''}`);
    } else if (readyCount === expected && leftovers === 0 && rolloutPending(cluster.spec, state)) {
      ready = condition('Ready', 'False', rollout?.paused ? 'RolloutPaused' : 'Upgrading', rollout?.reason ?? 'upgrading K3s');
    } else {
      const done = readyCount === expected && leftovers === 0;
      const reason = done ? 'NodesReady' : errors.length ? 'LaunchFailed' : leftovers ? 'ScalingDown' : 'Provisioning';
      ready = condition('Ready', done ? 'True' : 'False', reason, `${readyCount}/${expected} nodes ready`);
    }
    const restore = state.restore ? restoreView(state.restore) : undefined;
    const restoring = restore && restore.finishedAt === undefined
      ? [condition('Restoring', 'True', 'Restoring', `restoring snapshot ${restore.snapshot} at ${restore.k3sVersion}: ${restore.stepsDone.length + 1}/4 ${restore.step ?? ''}`)]
      : restore ? [condition('Restoring', 'False', 'Restored', `snapshot ${restore.snapshot} restored at ${restore.k3sVersion}`)] : [];
    const apiUp = inSlots.some((i) => i?.role === 'server' && isNodeReady(i, now));
    const provisioned = inSlots.every((i) => i?.bootedAt !== undefined);
    const firstError = errors[0];
    const server0 = bySlot.get(slotKey({ role: 'server', index: 0 }));
    return {
      observedGeneration: cluster.generation,
      conditions: [
        ready,
        condition('Available', apiUp ? 'True' : 'False', apiUp ? 'APIServerUp' : 'APIServerDown', apiUp ? 'the K3s API answers' : 'no K3s server is ready'),
        condition('Provisioned', provisioned ? 'True' : 'False', provisioned ? 'InstancesBooted' : 'InstancesPending', `${inSlots.filter((i) => i?.bootedAt !== undefined).length}/${expected} instances booted`),
        // Every sim failure is transient (retried); Failed is only for what retrying cannot fix.
        condition('Failed', 'False', 'NoFailure', ''),
        ...upgradingCondition(rollout),
        ...restoring,
      ],
      metadata: {
        ...(rollout ? { rollout } : {}),
        ...(restore ? { restore } : {}),
        snapshots: state.snapshots.map(snapshotView),
        workload: state.workload,
        ...(server0 ? { endpoint: `https://${server0.privateIp}:6443` } : {}),
        nodes: state.instances.map((i) => toNode(cluster, state, i, now)).sort((a, b) => a.name.localeCompare(b.name)),
      },
      lastError: firstError ? { code: firstError.code, message: firstError.message, retryable: true } : null,
    };
  }
}

/** Opens the record of a rollout to the spec's version, coming from the first node not at it. */
function startRollout(spec: ClusterSpec, state: SimState, now: number): void {
  const from = rolloutOrder(spec, state.instances).find((i) => versionOf(i, spec) !== spec.k3sVersion);
  state.rollout = { from: from ? versionOf(from, spec) : spec.k3sVersion, to: spec.k3sVersion, startedAt: now, history: [] };
}

/** A new target opens a new rollout record; one with nothing left is finished. */
function trackRollout(cluster: Cluster, state: SimState, now: number): void {
  if (restoreRunning(state)) return;
  const pending = rolloutPending(cluster.spec, state);
  if (pending && state.rollout?.to !== cluster.spec.k3sVersion) startRollout(cluster.spec, state, now);
  if (!pending && state.rollout && state.rollout.finishedAt === undefined) state.rollout.finishedAt = now;
}

/** A step past its deadline pauses the rollout, naming the node; nothing moves until resumed. */
function pauseStalled(cluster: Cluster, state: SimState, now: number): void {
  if (!state.rollout || state.rollout.pause) return;
  for (const i of state.instances) {
    const stall = stallOf(i, cluster.spec);
    if (!stall || now < stall.at) continue;
    const node = nodeName(cluster.name, i);
    state.rollout.pause = { node, reason: `${node}: ${stall.reason}`, at: now };
    const entry = state.rollout.history.findLast((h) => h.node === node && h.endedAt === undefined);
    if (entry) entry.result = `failed: ${stall.reason}`;
    return;
  }
}

/** The rollout as status.rollout shows it. */
function rolloutView(cluster: Cluster, state: SimState): RolloutStatus | undefined {
  const r = state.rollout;
  if (!r) return undefined;
  const nodes = rolloutOrder(cluster.spec, state.instances);
  const busy = nodes.filter((i) => i.cordoned === true || i.upgrade !== undefined);
  const iso = (ms: number): string => new Date(ms).toISOString();
  const userPaused = cluster.spec.upgrade?.paused === true;
  const view: RolloutStatus = {
    fromVersion: r.from,
    toVersion: r.to,
    startedAt: iso(r.startedAt),
    nodesDone: nodes.filter((i) => versionOf(i, cluster.spec) === r.to && !busy.includes(i)).length,
    nodesTotal: nodes.length,
    current: busy.map((i) => nodeName(cluster.name, i)),
    paused: r.pause !== undefined || (userPaused && r.finishedAt === undefined),
    reason: r.pause?.reason ?? (r.finishedAt !== undefined ? 'complete' : userPaused ? 'paused by spec.upgrade.paused (goman rollout resume)' : `upgrading ${nameList(busy.map((i) => nodeName(cluster.name, i))) || 'next node'}`),
    history: recentHistory(r.history.map((h) => ({ node: h.node, startedAt: iso(h.startedAt), ...(h.endedAt !== undefined ? { endedAt: iso(h.endedAt) } : {}), ...(h.result ? { result: h.result } : {}) }))),
  };
  if (r.finishedAt !== undefined) view.finishedAt = iso(r.finishedAt);
  return view;
}

function upgradingCondition(view: RolloutStatus | undefined): ReportedCondition[] {
  if (!view) return [];
  if (view.finishedAt !== undefined) return [condition('Upgrading', 'False', 'Complete', `${view.nodesTotal} node(s) at ${view.toVersion}`)];
  if (view.paused) return [condition('Upgrading', 'False', 'Paused', view.reason)];
  return [condition('Upgrading', 'True', 'RollingOut', `${view.nodesDone}/${view.nodesTotal} nodes at ${view.toVersion}; ${view.reason}`)];
}

/** The clock's part: boots, installs and transitions finish; terminated instances leave. */
function observe(state: SimState, now: number, s: SimSettings): boolean {
  let changed = false;
  for (const i of state.instances) changed = advance(i, now, s) || changed;
  changed = advanceRestore(state, now, s) || changed;
  const before = state.instances.length;
  state.instances = state.instances.filter((i) => i.state !== 'terminated');
  return changed || state.instances.length !== before;
}

/** Runs one planned action on its instance if it can run now; false when it must wait. */
function execute(action: Action, i: SimInstance, now: number, s: SimSettings): boolean {
  switch (action.kind) {
    case 'drain':
      if (i.state !== 'running' || i.drainingSince !== undefined) return false;
      i.drainingSince = now;
      return true;
    case 'terminate': {
      const drained = drainedAt(i, s);
      if (drained !== undefined && now < drained) return false;
      terminate(i, now);
      return true;
    }
    case 'stop':
      if (i.state !== 'pending' && i.state !== 'running') return false;
      i.state = 'stopping';
      i.since = now;
      return true;
    case 'start':
      if (i.state !== 'stopped') return false;
      i.state = 'pending';
      i.since = now;
      return true;
    default:
      return false;
  }
}

function toNode(cluster: Cluster, state: SimState, i: SimInstance, now: number): ClusterNode {
  const name = nodeName(cluster.name, i);
  const node: ClusterNode = {
    name,
    role: i.role,
    instanceId: i.id,
    privateIp: i.privateIp,
    state: i.drainingSince !== undefined ? 'draining' : i.state,
    ready: isNodeReady(i, now),
  };
  if (i.pool !== undefined) node.pool = i.pool;
  node.k3sVersion = versionOf(i, cluster.spec);
  if (i.cordoned) node.cordoned = true;
  const step = i.upgrade?.step;
  if (state.rollout?.pause?.node === name) node.upgrade = 'failed';
  else if (step === 'cordoning' || step === 'cordoned') node.upgrade = 'cordoned';
  else if (step === 'draining' || step === 'drained') node.upgrade = 'draining';
  else if (step === 'upgrading') node.upgrade = 'upgrading';
  else if (step === 'upgraded') node.upgrade = 'uncordoning';
  else if (state.rollout && state.rollout.finishedAt === undefined) node.upgrade = node.k3sVersion === state.rollout.to ? 'done' : 'pending';
  return node;
}
