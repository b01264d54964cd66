// The sim provider's plan (DESIGN §13): a pure function of the spec and the simulated cloud
// that lists, in the order they will run, every action the reconciler takes to converge.
// Each action carries when it can run at the earliest (a drain must finish before its node
// is terminated; a replacement waits for its slot to be free), and the list is sorted by
// that, so passes of the reconciler execute a prefix of the plan shown before them.
import type { Action, ActionKind, ClusterSpec } from '../../domain/index.ts';
import { SERVER_POOL } from '../../domain/index.ts';
import { desiredSlots, nodeName, slotKey, type NodeSlot } from '../../domain/slots.ts';
import type { SimInstance, SimState } from './instances.ts';
import { emptySimState, isLive } from './instances.ts';
import type { SimSettings } from './settings.ts';
import { ROLLOUT_KINDS, rolloutActions } from './rollout.ts';
import { restoreActions, restoreRunning } from './snapshots.ts';

export interface PlanInput {
  name: string;
  spec: ClusterSpec;
  deleting: boolean;
}

export interface DesiredSlot extends NodeSlot {
  instanceType: string;
  node: string;
}

interface Timed {
  action: Action;
  /** Earliest time it can run (epoch ms) and how many actions must run before it. */
  at: number;
  depth: number;
}

// One reason whether the slot was always empty or is being emptied, so a launch planned
// behind a termination is the same action once the slot is free.
const LAUNCH_REASON = 'the spec has a node here and no instance holds it';

const RANK: Record<ActionKind, number> = {
  'create-resources': 0,
  cordon: 1,
  drain: 2,
  stop: 3,
  start: 4,
  'label-node': 5,
  'install-k3s': 6,
  'upgrade-k3s': 7,
  uncordon: 8,
  terminate: 9,
  launch: 10,
  'delete-resources': 11,
  snapshot: 12,
  'stop-k3s': 13,
  'restore-snapshot': 14,
  rejoin: 15,
  'restart-k3s': 16,
};

/** The spec's slots with the instance type and node name each one gets. */
export function simSlots(name: string, spec: ClusterSpec): DesiredSlot[] {
  const types = new Map(spec.nodePools.map((p) => [p.name, p.instanceType ?? spec.instanceType]));
  return desiredSlots(spec).map((s) => ({
    ...s,
    instanceType: s.role === 'server' ? spec.instanceType : (types.get(s.pool ?? '') ?? spec.instanceType),
    node: nodeName(name, s),
  }));
}

const poolOf = (s: NodeSlot): string => (s.role === 'server' ? SERVER_POOL : (s.pool ?? ''));

/** A drained node's pods are gone once this is reached. */
export const drainedAt = (i: SimInstance, s: SimSettings): number | undefined =>
  i.drainingSince === undefined ? undefined : i.drainingSince + s.transitionMs;

export function planSim(input: PlanInput, state: SimState, now: number, s: SimSettings): Action[] {
  const { name, spec } = input;
  const timed: Timed[] = [];
  const add = (kind: ActionKind, slot: NodeSlot | undefined, reason: string, at: number, depth: number, instanceType?: string): Timed => {
    const action: Action = { kind, reason };
    if (slot) {
      action.pool = poolOf(slot);
      action.node = nodeName(name, slot);
    }
    if (instanceType) action.instanceType = instanceType;
    const t = { action, at: Math.max(at, now), depth };
    timed.push(t);
    return t;
  };
  /** Terminate an instance, draining it first when it is a ready node; returns when its slot is free. */
  const remove = (i: SimInstance, reason: string, drain = true): { free: number; depth: number } => {
    const drained = drainedAt(i, s);
    if (drain && drained !== undefined) {
      const t = add('terminate', i, reason, drained, 1, i.instanceType);
      return { free: t.at + s.transitionMs, depth: 2 };
    }
    if (drain && i.state === 'running' && i.k3sInstalledAt !== undefined) {
      add('drain', i, reason, now, 0);
      const t = add('terminate', i, reason, now + s.transitionMs, 1, i.instanceType);
      return { free: t.at + s.transitionMs, depth: 2 };
    }
    const t = add('terminate', i, reason, now, 0, i.instanceType);
    return { free: t.at + s.transitionMs, depth: 1 };
  };

  if (input.deleting) {
    let last = now;
    for (const i of state.instances) {
      if (isLive(i)) last = Math.max(last, remove(i, 'the cluster is being deleted', false).free);
      else last = Math.max(last, i.since + s.transitionMs);
    }
    add('delete-resources', undefined, 'no instance is left', last, 3);
    return sorted(timed, s);
  }

  const slots = simSlots(name, spec);
  const wanted = new Map(slots.map((slot) => [slotKey(slot), slot]));
  const running = spec.desiredState === 'running';
  /** When each occupied slot is free again, and after how many actions. */
  const freed = new Map<string, { free: number; depth: number } | null>();
  for (const i of state.instances) {
    const key = slotKey(i);
    const slot = wanted.get(key);
    if (!isLive(i)) {
      freed.set(key, { free: i.since + s.transitionMs, depth: 0 });
    } else if (i.state === 'pending' && i.stuck && now >= i.since + s.stuckTimeoutMs) {
      freed.set(key, remove(i, 'it never booted'));
    } else if (!slot) {
      freed.set(key, remove(i, i.role === 'server' ? 'the mode has fewer servers' : `pool ${i.pool ?? ''} is smaller or gone`));
    } else if (running && (i.drainingSince !== undefined || (i.instanceType !== undefined && i.instanceType !== slot.instanceType))) {
      freed.set(key, remove(i, `instance type ${i.instanceType ?? '?'} → ${slot.instanceType}`));
    } else {
      freed.set(key, null);
      if (!running && (i.state === 'pending' || i.state === 'running')) add('stop', i, 'the cluster is stopped', now, 0, i.instanceType);
      else if (running && i.state === 'stopped') add('start', i, 'the cluster is started', now, 0, i.instanceType);
      else if (running && i.state === 'stopping') add('start', i, 'the cluster is started', i.since + s.transitionMs, 1, i.instanceType);
    }
  }
  if (running) {
    for (const slot of slots) {
      const key = slotKey(slot);
      if (!freed.has(key)) {
        add('launch', slot, LAUNCH_REASON, now, 0, slot.instanceType);
      } else {
        const f = freed.get(key);
        if (f) add('launch', slot, LAUNCH_REASON, f.free, f.depth, slot.instanceType);
      }
    }
    const backup = spec.requests?.backup;
    if (backup !== undefined && backup !== state.handled.backup) add('snapshot', { role: 'server', index: 0 }, `on-demand snapshot ${backup}`, now, 0);
    // Day 2 steps run on a settled fleet: a restore, else the rollout's steps on every node left.
    if (timed.every((t) => t.action.kind === 'snapshot')) {
      const day2 = restoreRunning(state) ? restoreActions(name, spec, state, s) : rolloutActions(name, spec, state, now, s);
      for (const t of day2) timed.push({ action: t.action, at: Math.max(t.at, now), depth: 0 });
    }
  }
  return sorted(timed, s);
}

/** Rollout and restore steps keep the order they were listed in (one node's uncordon before the next one's cordon). */
const kindOrder = (a: Action, b: Action): number => (STEP_KINDS.has(a.kind) && STEP_KINDS.has(b.kind) ? 0 : RANK[a.kind] - RANK[b.kind]);
const STEP_KINDS: ReadonlySet<ActionKind> = new Set([...ROLLOUT_KINDS, 'stop-k3s', 'restore-snapshot', 'rejoin', 'restart-k3s']);

/**
 * By earliest time, then kind. Depth breaks ties only when transitions take no time: then a
 * chain runs in successive rounds of one pass at one instant. With timed transitions every
 * link of a chain moves its time, and depth (counted from each pass's snapshot) must not
 * reorder actions that become due together.
 */
function sorted(timed: Timed[], s: SimSettings): Action[] {
  const depth = (t: Timed): number => (s.transitionMs === 0 ? t.depth : 0);
  return timed
    .map((t, i) => ({ ...t, i }))
    .sort((a, b) => a.at - b.at || depth(a) - depth(b) || kindOrder(a.action, b.action) || a.i - b.i)
    .map((t) => t.action);
}

/** Live instances a plan leaves at its end, and the most it has at any point, from `live` now. */
export function instanceBounds(live: number, actions: readonly Action[]): { peak: number; end: number } {
  let n = live;
  let peak = live;
  for (const a of actions) {
    if (a.kind === 'launch') n += a.count ?? 1;
    if (a.kind === 'terminate') n -= a.count ?? 1;
    peak = Math.max(peak, n);
  }
  return { peak, end: n };
}

/** The simulated cloud of a cluster that has converged on `spec`: every slot running and ready. */
export function convergedState(name: string, spec: ClusterSpec, now: number): SimState {
  const instances: SimInstance[] = spec.desiredState === 'stopped' ? [] : simSlots(name, spec).map((slot, n) => ({
    id: `i-${String(n).padStart(17, '0')}`,
    role: slot.role,
    ...(slot.pool !== undefined ? { pool: slot.pool } : {}),
    index: slot.index,
    instanceType: slot.instanceType,
    state: 'running',
    since: now,
    privateIp: `10.0.0.${n}`,
    launchedAt: now,
    bootedAt: now,
    k3sInstalledAt: now,
    k3sVersion: spec.k3sVersion,
  }));
  return { ...emptySimState(), instances, nextHost: instances.length };
}

/**
 * The plan that takes a cluster converged on `current` to `proposed` (or deletes it), for
 * callers that cannot observe its cloud (an aws cluster seen from an S3 context, or from a
 * server without AWS credentials). It is an estimate: what the provider finds when it looks
 * (a node still booting, an instance lost) changes its own plan.
 */
export function estimatePlan(name: string, current: ClusterSpec, proposed: ClusterSpec, deleting: boolean, s: SimSettings): Action[] {
  const now = 0;
  const state = convergedState(name, current, now);
  if (current.desiredState === 'stopped') {
    state.instances = convergedState(name, { ...current, desiredState: 'running' }, now).instances.map((i) => ({ ...i, state: 'stopped' }));
  }
  return planSim({ name, spec: proposed, deleting }, state, now, s);
}
