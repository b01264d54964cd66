// The sim controller (DESIGN §7, cf. Cluster API's in-memory provider): makes a simulated
// cloud match the spec, with boot and install times and injected failures, and reports what
// it sees. Its instances persist in the store (fenced by the cluster lease), so a restart or
// a second controller process picks up where the last one left off. Time moves by
// timestamps compared on each pass (requeueAfter), never by sleeping.
import { randomBytes } from 'node:crypto';
import type { Cluster, ClusterNode, ControllerRegistrationInput, ControllerReport, LastError } from '../../domain/index.ts';
import { condition, GomanError } from '../../domain/index.ts';
import type { ReconcileContext, Reconciler, ReconcileResult } from '../../reconcile/types.ts';
import type { ProviderStateStore } from '../../store/port.ts';
import {
  advance,
  desiredSlots,
  emptySimState,
  isLive,
  isNodeReady,
  nextDue,
  nodeName,
  privateIp,
  simStateSchema,
  slotKey,
  terminate,
  type SimInstance,
  type SimState,
  type Slot,
} from './instances.ts';
import { simSettings, type SimSettings } from './settings.ts';

export const SIM_PROVIDER = 'sim';
export const SIM_CONTROLLER = 'sim-controller';

export interface SimOptions extends Partial<SimSettings> {
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

  constructor(opts: SimReconcilerOptions) {
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

  /** Reads this cluster's simulated cloud (empty when it has none yet). */
  async load(clusterId: string): Promise<SimState> {
    const stored = await this.store.getProviderState(SIM_PROVIDER, clusterId);
    return stored === null || stored === undefined ? emptySimState() : simStateSchema.parse(stored);
  }

  /**
   * Acts and lets the clock act until nothing more moves at `now`, so with zero timings a
   * cluster converges in one pass. Each empty slot gets at most one launch attempt per pass.
   */
  private converge(cluster: Cluster, state: SimState, now: number): LaunchError[] {
    const s = this.settings;
    const errors: LaunchError[] = [];
    const attempted = new Set<string>();
    const desired = desiredSlots(cluster.spec);
    const wanted = new Set(desired.map(slotKey));
    for (let changed = true; changed; ) {
      changed = false;
      for (const i of state.instances) {
        if (!isLive(i)) continue;
        if (cluster.deletionTimestamp !== undefined || (i.state === 'pending' && i.stuck && now >= i.since + s.stuckTimeoutMs)) {
          terminate(i, now);
          changed = true;
        } else if (!wanted.has(slotKey(i))) {
          changed = this.scaleDown(i, now) || changed;
        } else if (cluster.spec.desiredState === 'stopped' && (i.state === 'pending' || i.state === 'running')) {
          i.state = 'stopping';
          i.since = now;
          changed = true;
        } else if (cluster.spec.desiredState === 'running' && i.state === 'stopped') {
          i.state = 'pending';
          i.since = now;
          changed = true;
        }
      }
      if (cluster.deletionTimestamp === undefined && cluster.spec.desiredState === 'running') {
        // Any instance not yet terminated still holds its slot: a replacement waits for it.
        const occupied = new Set(state.instances.map(slotKey));
        for (const slot of desired) {
          const key = slotKey(slot);
          if (occupied.has(key) || attempted.has(key)) continue;
          attempted.add(key);
          const err = this.launch(cluster, state, slot, now);
          if (err) errors.push(err);
          else changed = true;
        }
      }
      for (const i of state.instances) changed = advance(i, now, s) || changed;
      state.instances = state.instances.filter((i) => i.state !== 'terminated');
    }
    return errors;
  }

  /** An instance outside the spec: drain a ready node first, terminate anything else now. */
  private scaleDown(i: SimInstance, now: number): boolean {
    if (i.drainingSince !== undefined) return false;
    if (i.state === 'running' && i.k3sInstalledAt !== undefined) i.drainingSince = now;
    else terminate(i, now);
    return true;
  }

  private launch(cluster: Cluster, state: SimState, slot: Slot, now: number): LaunchError | undefined {
    const key = slotKey(slot);
    if (this.random() < this.settings.failRate) {
      return { slot: key, code: 'LaunchFailed', message: `simulated transient failure launching ${nodeName(cluster.name, slot)}`, retryable: true };
    }
    if (this.random() < this.settings.capacityErrorRate) {
      return { slot: key, code: 'InsufficientCapacity', message: `no simulated capacity for ${cluster.spec.instanceType} (${nodeName(cluster.name, slot)})`, retryable: true };
    }
    const instance: SimInstance = {
      id: `i-${randomBytes(9).toString('hex').slice(0, 17)}`,
      role: slot.role,
      index: slot.index,
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
