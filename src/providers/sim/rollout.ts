// The sim's K3s rollout (DESIGN §14), pure: which node goes next, the steps left on each node as
// plan actions, what each step does to an instance, and when a stalled node pauses the rollout.
// Order: servers one at a time (so an HA cluster never loses etcd quorum), then agents, at most
// maxUnavailable at once, pools in spec order and nodes by index within a pool.
import type { Action, ActionKind, ClusterSpec } from '../../domain/index.ts';
import { durationMs, maxUnavailableOf, SERVER_POOL, upgradeSettings } from '../../domain/index.ts';
import { desiredSlots, nodeName, slotKey } from '../../domain/slots.ts';
import type { SimInstance, SimState } from './instances.ts';
import { isLive, isNodeReady } from './instances.ts';
import type { SimSettings } from './settings.ts';

export interface TimedAction {
  action: Action;
  at: number;
}

export const ROLLOUT_KINDS: ReadonlySet<ActionKind> = new Set(['cordon', 'drain', 'upgrade-k3s', 'uncordon']);

export const versionOf = (i: SimInstance, spec: ClusterSpec): string => i.k3sVersion ?? spec.k3sVersion;
const busy = (i: SimInstance): boolean => i.cordoned === true || i.upgrade !== undefined;

/** The cluster's nodes in rollout order: servers by index, then each pool's agents in spec order. */
export function rolloutOrder(spec: ClusterSpec, instances: readonly SimInstance[]): SimInstance[] {
  const bySlot = new Map(instances.filter(isLive).map((i) => [slotKey(i), i]));
  return desiredSlots(spec)
    .map((slot) => bySlot.get(slotKey(slot)))
    .filter((i): i is SimInstance => i !== undefined);
}

/** True while some node runs another version than the spec's or is still inside a step. */
export function rolloutPending(spec: ClusterSpec, state: SimState): boolean {
  return rolloutOrder(spec, state.instances).some((i) => busy(i) || versionOf(i, spec) !== spec.k3sVersion);
}

/** The nodes that may be cordoned now: the next server alone, or once every server is done, the next agents up to maxUnavailable. */
export function startable(spec: ClusterSpec, state: SimState): Set<string> {
  const out = new Set<string>();
  const upgrade = upgradeSettings(spec);
  if (upgrade.paused || state.rollout?.pause || (state.restore && state.restore.finishedAt === undefined)) return out;
  const nodes = rolloutOrder(spec, state.instances);
  const outdated = (i: SimInstance): boolean => !busy(i) && versionOf(i, spec) !== spec.k3sVersion;
  const servers = nodes.filter((i) => i.role === 'server');
  if (servers.some(busy)) return out;
  const nextServer = servers.find(outdated);
  if (nextServer) return out.add(slotKey(nextServer));
  const agents = nodes.filter((i) => i.role === 'agent');
  let room = maxUnavailableOf(upgrade.maxUnavailable, agents.length) - agents.filter(busy).length;
  for (const a of agents) {
    if (room <= 0) break;
    if (outdated(a)) {
      out.add(slotKey(a));
      room--;
    }
  }
  return out;
}

/** The steps left on every node, with the earliest time each can run, for the plan. */
export function rolloutActions(name: string, spec: ClusterSpec, state: SimState, now: number, s: SimSettings): TimedAction[] {
  const upgrade = upgradeSettings(spec);
  const drainMs = Math.min(s.drainMs, durationMs(upgrade.drainTimeout));
  const nodes = rolloutOrder(spec, state.instances);
  const reason = `rollout to ${spec.k3sVersion}`;
  const out: TimedAction[] = [];
  const steps = (i: SimInstance, start: number): number => {
    const node = nodeName(name, i);
    const pool = i.role === 'server' ? SERVER_POOL : (i.pool ?? '');
    const step = i.upgrade?.step;
    let t = Math.max(start, i.upgrade?.until ?? start);
    const add = (kind: ActionKind, after: number): void => {
      out.push({ action: { kind, pool, node, reason }, at: t });
      t += after;
    };
    if (step === undefined && !i.cordoned) add('cordon', s.cordonMs);
    if (step === undefined || step === 'cordoning' || step === 'cordoned') add('drain', drainMs);
    if (step !== 'upgrading' && step !== 'upgraded') add('upgrade-k3s', s.upgradeMs);
    add('uncordon', 0);
    return t;
  };
  const todo = nodes.filter((i) => busy(i) || versionOf(i, spec) !== spec.k3sVersion);
  // Servers: one after the other, starting with any already in progress.
  let serversDone = now;
  for (const i of [...todo.filter((n) => n.role === 'server' && busy(n)), ...todo.filter((n) => n.role === 'server' && !busy(n))]) {
    serversDone = steps(i, serversDone);
  }
  // Agents: a window of maxUnavailable slots, each taking the next agent when it frees.
  const agents = nodes.filter((i) => i.role === 'agent');
  const window = Array.from({ length: maxUnavailableOf(upgrade.maxUnavailable, agents.length) }, () => serversDone);
  for (const i of [...todo.filter((n) => n.role === 'agent' && busy(n)), ...todo.filter((n) => n.role === 'agent' && !busy(n))]) {
    window.sort((a, b) => a - b);
    window[0] = steps(i, busy(i) ? now : (window[0] ?? serversDone));
  }
  return out;
}

export interface RolloutContext {
  spec: ClusterSpec;
  state: SimState;
  now: number;
  settings: SimSettings;
  /** Whether the upgrade of this node fails (injected). */
  fails: (node: string) => boolean;
  node: string;
}

/** Runs one rollout step on its node if it may run now; false when it must wait. */
export function executeRolloutStep(kind: ActionKind, i: SimInstance, ctx: RolloutContext): boolean {
  const { spec, state, now, settings: s } = ctx;
  if (state.rollout?.pause) return false;
  const upgrade = upgradeSettings(spec);
  const to = spec.k3sVersion;
  switch (kind) {
    case 'cordon':
      if (busy(i) || !startable(spec, state).has(slotKey(i)) || !isNodeReady(i, now)) return false;
      i.cordoned = true;
      i.upgrade = { step: 'cordoning', since: now, until: now + s.cordonMs, to };
      state.rollout?.history.push({ node: ctx.node, startedAt: now });
      return true;
    case 'drain': {
      if (i.upgrade?.step !== 'cordoned') return false;
      const limit = durationMs(upgrade.drainTimeout);
      // PodDisruptionBudgets hold a drain past its timeout: force evicts then, otherwise the rollout pauses.
      const stuck = s.drainMs > limit && !upgrade.force;
      i.upgrade = { step: 'draining', since: now, until: now + Math.min(s.drainMs, limit), to, ...(stuck ? { fails: true } : {}) };
      return true;
    }
    case 'upgrade-k3s': {
      if (i.upgrade?.step !== 'drained') return false;
      const fails = ctx.fails(ctx.node);
      i.upgrade = { step: 'upgrading', since: now, until: now + s.upgradeMs, to, ...(fails ? { fails: true } : {}) };
      return true;
    }
    case 'uncordon': {
      if (i.upgrade?.step !== 'upgraded' || !isNodeReady(i, now)) return false;
      i.cordoned = false;
      delete i.upgrade;
      const entry = state.rollout?.history.findLast((h) => h.node === ctx.node && h.endedAt === undefined);
      if (entry) {
        entry.endedAt = now;
        entry.result = `Ready at ${i.k3sVersion ?? to}`;
      }
      return true;
    }
    default:
      return false;
  }
}

/** When a stalled step pauses the rollout (epoch ms), and why; undefined when it is not stalled. */
export function stallOf(i: SimInstance, spec: ClusterSpec): { at: number; reason: string } | undefined {
  const u = i.upgrade;
  if (!u?.fails) return undefined;
  const upgrade = upgradeSettings(spec);
  if (u.step === 'draining') {
    return { at: u.until, reason: `drain did not finish within drainTimeout ${upgrade.drainTimeout} (PodDisruptionBudgets); set spec.upgrade.force or resume` };
  }
  if (u.step === 'upgrading') {
    return { at: u.since + durationMs(upgrade.nodeTimeout), reason: `not Ready at ${u.to} within nodeTimeout ${upgrade.nodeTimeout}: the node did not come back after the K3s upgrade` };
  }
  return undefined;
}

/** Resume: the stalled step runs again (the fault may have cleared), and the rollout moves on. */
export function resumeStalled(state: SimState): void {
  delete state.rollout?.pause;
  for (const i of state.instances) {
    if (!i.upgrade?.fails) continue;
    const step = i.upgrade.step === 'draining' ? 'cordoned' : 'drained';
    i.upgrade = { step, since: i.upgrade.since, until: i.upgrade.since, to: i.upgrade.to };
  }
}
