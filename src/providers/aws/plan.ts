// The aws provider's plan (DESIGN §13): a pure function of the spec and what one pass
// observed (EC2 instances by tag, the security group, K3s's node list, the kubeconfig
// parameter) that lists every action still needed, in the order reconcile runs them. The
// reconciler executes the head of this list — what can run now — and nothing it does not list.
import type { Action, ClusterSpec, NodePool, NodeRole } from '../../domain/index.ts';
import { maxUnavailableOf, parseK3sVersion, SERVER_POOL, upgradeSettings } from '../../domain/index.ts';
import { desiredSlots, nodeName, slotKey } from '../../domain/slots.ts';
import type { InstanceInfo, Slot } from './ec2.ts';
import { isLive } from './ec2.ts';
import type { K3sNode } from './k3s.ts';
import { labelTaintChanges, versionMatches } from './k3s.ts';

export interface AwsDesiredSlot extends Slot {
  instanceType: string;
  nodeName: string;
  poolSpec?: NodePool;
}

export interface AwsObserved {
  /** Every instance of the cluster by tag, terminated ones included. */
  instances: readonly InstanceInfo[];
  hasSecurityGroup: boolean;
  hasToken: boolean;
  /** K3s's nodes as the first server lists them; null when it cannot be asked yet. */
  k3s: ReadonlyMap<string, K3sNode> | null;
  hasKubeconfig: boolean;
}

export const GROUP_RESOURCES = 'the security group and join token';
export const FINAL_RESOURCES = 'the security group and the join token and kubeconfig parameters';
export const KUBECONFIG_RESOURCE = 'the kubeconfig parameter';

/** The spec's slots, keyed, with the instance type and node name each one gets. */
export function awsSlots(name: string, spec: ClusterSpec): Map<string, AwsDesiredSlot> {
  const pools = new Map(spec.nodePools.map((p) => [p.name, p]));
  const slots = new Map<string, AwsDesiredSlot>();
  for (const s of desiredSlots(spec)) {
    const poolSpec = s.role === 'agent' ? pools.get(s.pool ?? '') : undefined;
    const slot: AwsDesiredSlot = {
      key: slotKey(s),
      role: s.role,
      pool: s.role === 'server' ? SERVER_POOL : (s.pool ?? ''),
      index: s.index,
      instanceType: poolSpec?.instanceType ?? spec.instanceType,
      nodeName: nodeName(name, s),
    };
    if (poolSpec) slot.poolSpec = poolSpec;
    slots.set(slot.key, slot);
  }
  return slots;
}

/** The live instance holding each slot, and the live instances no slot wants (or a second one in a slot). */
export function placeInstances(slots: ReadonlyMap<string, AwsDesiredSlot>, instances: readonly InstanceInfo[]): { bySlot: Map<string, InstanceInfo>; extras: InstanceInfo[] } {
  const bySlot = new Map<string, InstanceInfo>();
  const extras: InstanceInfo[] = [];
  for (const i of instances.filter(isLive)) {
    if (slots.has(i.key) && !bySlot.has(i.key)) bySlot.set(i.key, i);
    else extras.push(i);
  }
  return { bySlot, extras };
}

export function planAws(input: { name: string; spec: ClusterSpec; deleting: boolean }, seen: AwsObserved): Action[] {
  const { name, spec } = input;
  const actions: Action[] = [];
  const act = (kind: Action['kind'], reason: string, slot?: Slot, instanceType?: string): void => {
    const a: Action = { kind, reason };
    if (slot) {
      a.pool = slot.pool;
      a.node = nodeName(name, slot);
    }
    if (instanceType) a.instanceType = instanceType;
    actions.push(a);
  };
  const live = seen.instances.filter(isLive);
  if (input.deleting) {
    for (const i of live) if (i.state !== 'shutting-down') act('terminate', 'the cluster is being deleted', i);
    actions.push({ kind: 'delete-resources', node: FINAL_RESOURCES, reason: 'once no instance is left' });
    return actions;
  }

  const slots = awsSlots(name, spec);
  const { bySlot, extras } = placeInstances(slots, seen.instances);
  if (!seen.hasSecurityGroup || !seen.hasToken) actions.push({ kind: 'create-resources', node: GROUP_RESOURCES, reason: 'the cluster has none yet' });
  const gone = (i: InstanceInfo): string => (slots.has(i.key) ? 'a second instance in one slot' : i.role === 'server' ? 'the mode has fewer servers' : `pool ${i.pool} is smaller or gone`);

  if (spec.desiredState === 'stopped') {
    for (const i of extras) if (i.state !== 'shutting-down') act('terminate', gone(i), i);
    for (const i of live) if (!extras.includes(i) && (i.state === 'running' || i.state === 'pending')) act('stop', 'the cluster is stopped', i);
    return actions;
  }

  for (const i of bySlot.values()) if (i.state === 'stopped') act('start', 'the cluster is started', i);
  for (const slot of slots.values()) if (!bySlot.has(slot.key)) act('launch', 'the spec has a node here and no instance holds it', slot, slot.instanceType);

  // K3s, once every instance runs: the first server, what leaves (drained first), the others, labels.
  const k3s = seen.k3s;
  // A pinned release rolls out node by node (rolloutSteps below); a channel re-runs the installer.
  const rolling = parseK3sVersion(spec.k3sVersion) !== undefined;
  const install = (slot: AwsDesiredSlot): void => {
    const node = k3s?.get(slot.nodeName);
    if (node && versionMatches(spec.k3sVersion, node.version)) return;
    if (node && rolling) return;
    if (node) act('upgrade-k3s', `K3s ${node.version} → ${spec.k3sVersion}`, slot);
    else act('install-k3s', `K3s ${spec.k3sVersion} ${slot.role === 'server' ? (slot.index === 0 ? 'starts the cluster' : 'joins as a server') : 'joins as an agent'}`, slot);
  };
  const first = slots.get(slotKey({ role: 'server', index: 0 }));
  if (first) install(first);
  for (const i of extras) {
    if (i.state === 'shutting-down') continue;
    const reason = gone(i);
    if (i.state === 'running' && (k3s === null || k3s.has(nodeName(name, i)))) act('drain', reason, i);
    act('terminate', reason, i);
  }
  for (const slot of slots.values()) if (slot !== first) install(slot);
  if (rolling && k3s) for (const step of rolloutSteps(spec, slots, k3s)) actions.push(step);
  for (const slot of slots.values()) {
    if (!slot.poolSpec) continue;
    const node = k3s?.get(slot.nodeName);
    const wanted = (slot.poolSpec.labels && Object.keys(slot.poolSpec.labels).length) || slot.poolSpec.taints?.length;
    const change = node ? labelTaintChanges(node, slot.poolSpec.labels ?? {}, slot.poolSpec.taints ?? []) : wanted;
    if (change) act('label-node', `pool ${slot.pool} labels and taints`, slot);
  }
  if (!seen.hasKubeconfig) actions.push({ kind: 'create-resources', node: KUBECONFIG_RESOURCE, reason: 'kubectl access for `goman kubeconfig`' });
  return actions;
}

/**
 * The rollout to a pinned K3s release (DESIGN §14): cordon, drain, upgrade-k3s and uncordon for
 * every node K3s reports at another version, servers first (one at a time), then agents in pool
 * order. `rolloutBatch` says which of them may run now.
 */
export function rolloutSteps(spec: ClusterSpec, slots: ReadonlyMap<string, AwsDesiredSlot>, k3s: ReadonlyMap<string, K3sNode>): Action[] {
  const reason = `rollout to ${spec.k3sVersion}`;
  const out: Action[] = [];
  for (const slot of slots.values()) {
    const node = k3s.get(slot.nodeName);
    if (!node || versionMatches(spec.k3sVersion, node.version)) continue;
    for (const kind of ['cordon', 'drain', 'upgrade-k3s', 'uncordon'] as const) out.push({ kind, pool: slot.pool, node: slot.nodeName, reason });
  }
  return out;
}

/**
 * The nodes whose rollout steps may start now. `inFlight` are nodes already upgraded and not yet
 * back (Ready at the new version, then uncordoned): they count against the budget, so a slow node
 * is never overtaken. Servers one at a time; once every server is done, agents up to
 * maxUnavailable. Nothing new while the spec pauses the rollout or a stalled node paused it.
 */
export function rolloutBatch(
  spec: ClusterSpec,
  steps: readonly Action[],
  inFlight: ReadonlyMap<string, NodeRole> = new Map(),
  stalled = false,
): Set<string> {
  if (upgradeSettings(spec).paused || stalled) return new Set();
  if ([...inFlight.values()].includes('server')) return new Set();
  const waiting = steps.filter((a) => a.kind === 'uncordon' && !inFlight.has(a.node ?? ''));
  const servers = waiting.filter((a) => a.pool === SERVER_POOL).map((a) => a.node ?? '');
  if (servers.length) return new Set(servers.slice(0, 1));
  const agents = spec.nodePools.reduce((n, p) => n + p.count, 0);
  const room = maxUnavailableOf(upgradeSettings(spec).maxUnavailable, agents) - inFlight.size;
  return new Set(waiting.map((a) => a.node ?? '').slice(0, Math.max(0, room)));
}
