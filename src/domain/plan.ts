// Plans as data (DESIGN §13): what a provider will do to make the cloud match a spec, as an
// ordered list of actions. The same list is shown to a user (API, `goman diff`, the TUI) and
// executed by the provider's reconcile, so the plan you review is the plan that runs.
import { z } from 'zod';

export const ACTION_KINDS = [
  'create-resources',
  'launch',
  'install-k3s',
  'upgrade-k3s',
  'label-node',
  'drain',
  'cordon',
  'uncordon',
  'terminate',
  'stop',
  'start',
  'delete-resources',
  'snapshot',
  'stop-k3s',
  'restore-snapshot',
  'rejoin',
  'restart-k3s',
] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

export const actionSchema = z.strictObject({
  kind: z.enum(ACTION_KINDS),
  pool: z.string().optional().describe('node pool ("control-plane" for servers)'),
  node: z.string().optional().describe('node name in K3s'),
  count: z.int().min(1).optional().describe('instances this action covers (1 when absent)'),
  instanceType: z.string().optional(),
  reason: z.string(),
});
export type Action = z.output<typeof actionSchema>;

export const disruptionSchema = z.strictObject({
  nodesDrained: z.int().min(0),
  nodesReplaced: z.int().min(0),
  downtime: z.boolean().describe('true when the cluster API or every node goes away (stop, delete, a server replaced in dev mode)'),
});
export type Disruption = z.output<typeof disruptionSchema>;

/** The pool name actions use for the K3s servers. */
export const SERVER_POOL = 'control-plane';

/**
 * What a plan costs the workloads. A node is "replaced" when it is terminated and a launch
 * takes its name; "drained" when its pods are evicted first.
 */
export function disruptionOf(actions: readonly Action[]): Disruption {
  const launched = new Set(actions.filter((a) => a.kind === 'launch').map((a) => a.node));
  const terminated = actions.filter((a) => a.kind === 'terminate');
  const replaced = terminated.filter((a) => launched.has(a.node));
  const serverGone = terminated.some((a) => a.pool === SERVER_POOL && !launched.has(a.node));
  const serverReplaced = replaced.some((a) => a.pool === SERVER_POOL);
  const stops = actions.some((a) => a.kind === 'stop' || a.kind === 'delete-resources');
  return {
    nodesDrained: actions.filter((a) => a.kind === 'drain').reduce((n, a) => n + (a.count ?? 1), 0),
    nodesReplaced: replaced.length,
    downtime: stops || serverGone || serverReplaced,
  };
}

/** True when a plan drains, replaces or removes nodes, or deletes: what `apply` asks about. */
export function isDisruptive(actions: readonly Action[]): boolean {
  return actions.some((a) => a.kind === 'drain' || a.kind === 'terminate' || a.kind === 'stop' || a.kind === 'delete-resources');
}

/** Consecutive actions of one kind, pool and type, e.g. "launch 2 × t3.large in pool gpu". */
export function describePlan(actions: readonly Action[]): string[] {
  const lines: string[] = [];
  let group: Action[] = [];
  const flush = (): void => {
    const first = group[0];
    if (!first) return;
    const n = group.reduce((s, a) => s + (a.count ?? 1), 0);
    const nodes = group.map((a) => a.node).filter((x): x is string => x !== undefined);
    const type = first.instanceType ? `${n} × ${first.instanceType}` : `${n} instance${n === 1 ? '' : 's'}`;
    const where = first.pool ? ` in pool ${first.pool}` : '';
    const who = nodes.length ? ` (${nodes.join(', ')})` : '';
    const what: Record<ActionKind, string> = {
      'create-resources': `create ${first.node ?? 'cluster resources'}`,
      launch: `launch ${type}${where}`,
      'install-k3s': `install K3s on ${nodes.join(', ') || type}`,
      'upgrade-k3s': `upgrade K3s on ${nodes.join(', ') || type}`,
      'label-node': `set labels and taints on ${nodes.join(', ')}`,
      drain: `${first.reason.startsWith('rollout') ? 'drain' : 'cordon and drain'} ${nodes.join(', ')}`,
      cordon: `cordon ${nodes.join(', ')}`,
      uncordon: `uncordon ${nodes.join(', ')}`,
      snapshot: `take an etcd snapshot on ${nodes.join(', ') || 'the first server'}`,
      'stop-k3s': `stop K3s on ${nodes.join(', ')}`,
      'restore-snapshot': `reset ${nodes.join(', ')} from the snapshot`,
      rejoin: `rejoin ${nodes.join(', ')} with a wiped datastore`,
      'restart-k3s': `restart K3s on ${nodes.join(', ')}`,
      terminate: `terminate ${type}${where}${who}`,
      stop: `stop ${type}${where}`,
      start: `start ${type}${where}`,
      'delete-resources': `delete ${first.node ?? 'the cluster resources'}`,
    };
    lines.push(`${what[first.kind]} — ${first.reason}`);
    group = [];
  };
  for (const a of actions) {
    const first = group[0];
    if (first && (first.kind !== a.kind || first.pool !== a.pool || first.instanceType !== a.instanceType || first.reason !== a.reason)) flush();
    group.push(a);
  }
  flush();
  return lines;
}
