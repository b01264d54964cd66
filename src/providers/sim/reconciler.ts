// The sim controller (DESIGN §7, cf. Cluster API's in-memory provider): makes a simulated
// cloud match the spec, with boot and install times and injected failures, and reports what
// it sees. Its instances persist in the store (fenced by the cluster lease), so a restart or
// a second controller process picks up where the last one left off. Time moves by
// timestamps compared on each pass (requeueAfter), never by sleeping.
import { randomBytes } from 'node:crypto';
import type { Action, Cluster, ClusterNode, ClusterSpec, ControllerRegistrationInput, ControllerReport, LastError } from '../../domain/index.ts';
import { condition, GomanError } from '../../domain/index.ts';
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

export const SIM_PROVIDER = 'sim';
export const SIM_CONTROLLER = 'sim-controller';

export interface SimOptions extends Partial<SimSettings> {
  /** Test hook: each action of the plan as the reconciler carries it out. */
  onAction?: (action: Action) => void;
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
  readonly settings: SimSettings;
  private readonly store: ProviderStateStore;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly onAction: ((action: Action) => void) | undefined;

  constructor(opts: SimReconcilerOptions) {
    this.onAction = opts.onAction;
    this.store = opts.store;
    this.settings = simSettings(opts, opts.env);
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? Date.now;
  }

  async reconcile(cluster: Cluster, ctx: ReconcileContext): Promise<ReconcileResult> {
    const state = await this.load(cluster.id);
    const before = JSON.stringify(state);
    const deleting = cluster.deletionTimestamp !== undefined;
    // Report before creating anything: the first report adds our finalizer, so a delete can
    // never drop the row while simulated instances still exist.
    if (!deleting && !cluster.finalizers.includes(this.name)) {
      await ctx.report(this.report(cluster, state, this.now(), []));
    }

    const now = this.now();
    const errors = this.converge(cluster, state, now);
    ctx.signal.throwIfAborted();
    if (deleting && state.instances.length === 0) {
      await this.store.deleteProviderState(SIM_PROVIDER, cluster.id);
      await ctx.releaseFinalizer();
      return {};
    }
    if (JSON.stringify(state) !== before) await this.store.putProviderState(SIM_PROVIDER, cluster.id, state, ctx.fence);
    await ctx.report(this.report(cluster, state, now, errors));
    const first = errors[0];
    if (first) throw new GomanError('UNAVAILABLE', `${first.code}: ${first.message}`);
    const due = Math.min(...state.instances.map((i) => nextDue(i, this.settings) ?? Infinity));
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
        if (instance && execute(action, instance, now, this.settings)) {
          pending.delete(k);
          this.executed(action);
          progress = true;
        }
      }
      if (observe(state, now, this.settings)) progress = true;
    }
    return errors;
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

    let ready;
    if (cluster.deletionTimestamp !== undefined) {
      ready = condition('Ready', 'False', 'Deleting', `terminating ${state.instances.length} instance(s)`);
    } else if (cluster.spec.desiredState === 'stopped') {
      const done = stoppedCount === expected && leftovers === 0;
      ready = condition('Ready', done ? 'True' : 'False', done ? 'Stopped' : 'Stopping', `${stoppedCount}/${expected} instances stopped`);
    } else {
      const done = readyCount === expected && leftovers === 0;
      const reason = done ? 'NodesReady' : errors.length ? 'LaunchFailed' : leftovers ? 'ScalingDown' : 'Provisioning';
      ready = condition('Ready', done ? 'True' : 'False', reason, `${readyCount}/${expected} nodes ready`);
    }
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
      ],
      metadata: {
        ...(server0 ? { endpoint: `https://${server0.privateIp}:6443` } : {}),
        nodes: state.instances.map((i) => toNode(cluster.name, i, now)).sort((a, b) => a.name.localeCompare(b.name)),
      },
      lastError: firstError ? { code: firstError.code, message: firstError.message, retryable: true } : null,
    };
  }
}

/** The clock's part: boots, installs and transitions finish; terminated instances leave. */
function observe(state: SimState, now: number, s: SimSettings): boolean {
  let changed = false;
  for (const i of state.instances) changed = advance(i, now, s) || changed;
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

function toNode(clusterName: string, i: SimInstance, now: number): ClusterNode {
  const node: ClusterNode = {
    name: nodeName(clusterName, i),
    role: i.role,
    instanceId: i.id,
    privateIp: i.privateIp,
    state: i.drainingSince !== undefined ? 'draining' : i.state,
    ready: isNodeReady(i, now),
  };
  if (i.pool !== undefined) node.pool = i.pool;
  return node;
}
