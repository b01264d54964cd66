// Facts about a cluster as people read them, shared by the table output, --wait and the TUI.
import type { Cluster } from '../domain/cluster.ts';
import { findCondition } from '../domain/conditions.ts';
import { serverCount } from '../domain/spec.ts';

/** Servers (by mode) plus every pool's count. */
export function expectedNodes(c: Pick<Cluster, 'spec'>): number {
  return serverCount(c.spec) + c.spec.nodePools.reduce((n, p) => n + p.count, 0);
}

export function readyNodes(c: Pick<Cluster, 'status'>): number {
  return c.status.nodes.filter((n) => n.ready).length;
}

/** More nodes than the spec asks for: a scale-down is removing some. */
export function shrinking(c: Pick<Cluster, 'spec' | 'status'>): boolean {
  return c.status.nodes.length > expectedNodes(c);
}

/** "2/3": nodes ready of those the spec asks for; "5→2" while a scale-down removes nodes. */
export function nodesText(c: Pick<Cluster, 'spec' | 'status'>): string {
  return shrinking(c) ? `${c.status.nodes.length}→${expectedNodes(c)}` : `${readyNodes(c)}/${expectedNodes(c)}`;
}

/** Why the cluster is not (yet) where it should be, or the phase's own message. */
export function statusMessage(c: Pick<Cluster, 'status'>): string {
  const ready = findCondition(c.status.conditions, 'Ready');
  if (c.status.phase === 'Ready' || c.status.phase === 'Stopped') return c.status.message;
  return ready && ready.status !== 'True' && ready.message ? ready.message : c.status.message;
}

/** Phase as shown: a cluster being deleted says so even before the server recomputes. */
export function phaseOf(c: Pick<Cluster, 'status' | 'deletionTimestamp'>): Cluster['status']['phase'] {
  return c.deletionTimestamp ? 'Deleting' : c.status.phase;
}

/** The rollout as lines: a summary, then one line per node (version, upgrade state, ready). Empty when there is none. */
export function rolloutLines(c: Pick<Cluster, 'name' | 'status'>): string[] {
  const r = c.status.rollout;
  if (!r) return [];
  const state = r.finishedAt ? 'complete' : r.paused ? `PAUSED: ${r.reason}` : r.reason;
  const lines = [`rollout ${r.fromVersion} → ${r.toVersion}: ${r.nodesDone}/${r.nodesTotal} nodes done, ${state}`];
  for (const n of c.status.nodes) {
    lines.push(`  ${n.name}  ${n.k3sVersion ?? '?'}  ${n.upgrade ?? (n.k3sVersion === r.toVersion ? 'done' : 'pending')}${n.cordoned ? ' (cordoned)' : ''}${n.ready ? '' : ' not ready'}`);
  }
  return lines;
}

/** The restore as one line, or undefined when there is none. */
export function restoreLine(c: Pick<Cluster, 'status'>): string | undefined {
  const r = c.status.restore;
  if (!r) return undefined;
  return r.finishedAt
    ? `restore of ${r.snapshot} at ${r.k3sVersion}: done`
    : `restore of ${r.snapshot} at ${r.k3sVersion}: step ${r.stepsDone.length + 1}/4 ${r.step ?? ''}`;
}
