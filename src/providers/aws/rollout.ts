// The aws provider's K3s rollout bookkeeping (DESIGN §14), pure: which upgraded nodes are still on
// their way back, when one of them has missed spec.upgrade.nodeTimeout (the rollout then pauses
// itself, naming it, and touches no further node until `goman rollout resume`), and the
// status.rollout and Upgrading condition a pass reports. The reconciler runs the scripts.
import { z } from 'zod';
import type { ClusterSpec, ReportedCondition, RolloutStatus } from '../../domain/index.ts';
import { condition, durationMs, nameList, NODE_ROLES, recentHistory, upgradeSettings } from '../../domain/index.ts';
import type { K3sNode } from './k3s.ts';
import { versionMatches } from './k3s.ts';

/** A node whose upgrade script ran and which is not yet Ready at the new version and uncordoned. */
const inFlightNodeSchema = z.object({
  role: z.enum(NODE_ROLES),
  /** When its upgrade was sent (ISO); nodeTimeout counts from here. */
  since: z.string(),
  /** Resumed after a stall: its upgrade runs again once. */
  rerun: z.boolean().optional(),
  /** The version it was upgraded to: a rollout to another one (an undo) plans the node afresh. */
  to: z.string().optional(),
});

/** What the provider remembers of a rollout between passes (in its report's metadata; read back leniently). */
export const rolloutMemorySchema = z.object({
  upgrading: z.record(z.string(), inFlightNodeSchema).optional().catch(undefined),
  /** Set when a node missed nodeTimeout; cleared by a resume request. */
  pause: z.object({ node: z.string(), reason: z.string(), at: z.string() }).optional().catch(undefined),
});
export type RolloutMemory = z.output<typeof rolloutMemorySchema>;

/** A resume request: the stalled node gets its upgrade again, with a fresh nodeTimeout. */
export function liftStall(memory: RolloutMemory, now: number): void {
  const stalled = memory.pause?.node;
  delete memory.pause;
  const node = stalled === undefined ? undefined : memory.upgrading?.[stalled];
  if (node) {
    node.rerun = true;
    node.since = new Date(now).toISOString();
  }
}

/**
 * Settles the in-flight nodes against what K3s reports: those Ready at the spec's version are
 * returned to be uncordoned (and forgotten), those no longer wanted are forgotten, those upgraded
 * towards another version than the spec's (an undo mid-rollout) are upgraded again, and the first
 * one past nodeTimeout pauses the rollout.
 */
export function settleInFlight(memory: RolloutMemory, spec: ClusterSpec, k3s: ReadonlyMap<string, K3sNode>, wanted: ReadonlySet<string>, now: number): string[] {
  const upgrading = memory.upgrading ?? {};
  const back: string[] = [];
  const timeoutMs = durationMs(upgradeSettings(spec).nodeTimeout);
  for (const [node, entry] of Object.entries(upgrading)) {
    const seen = k3s.get(node);
    if (!wanted.has(node)) {
      delete upgrading[node];
    } else if (entry.to !== undefined && entry.to !== spec.k3sVersion) {
      // The spec moved on (an undo): the node, still cordoned and drained, is upgraded again to it.
      Object.assign(entry, { rerun: true, to: spec.k3sVersion, since: new Date(now).toISOString() });
    } else if (seen?.ready && versionMatches(spec.k3sVersion, seen.version)) {
      back.push(node);
      delete upgrading[node];
    } else if (!memory.pause && !entry.rerun && now - Date.parse(entry.since) > timeoutMs) {
      const state = seen ? `${seen.ready ? 'Ready' : 'NotReady'} at ${seen.version}` : 'not listed by K3s';
      memory.pause = {
        node,
        reason: `${node}: not Ready at ${spec.k3sVersion} within nodeTimeout ${upgradeSettings(spec).nodeTimeout} (${state}); fix the node, then \`goman rollout resume\``,
        at: new Date(now).toISOString(),
      };
    }
  }
  if (memory.pause && !upgrading[memory.pause.node]) delete memory.pause;
  return back;
}

export interface RolloutFacts {
  spec: ClusterSpec;
  previous: RolloutStatus | undefined;
  memory: RolloutMemory;
  /** Nodes started in this pass, and nodes that came back in it. */
  started: readonly string[];
  finished: readonly string[];
  /** Wanted nodes not at the spec's version and not in flight, the wanted total, and the version they ran when the pass began. */
  outdated: number;
  total: number;
  from: string;
  now: number;
}

/** status.rollout and the Upgrading condition after a pass; none when no rollout ran or runs. */
export function rolloutReport(f: RolloutFacts): { rollout?: RolloutStatus; conditions: ReportedCondition[] } {
  const { spec, previous, memory } = f;
  const to = spec.k3sVersion;
  const at = new Date(f.now).toISOString();
  const inFlight = Object.keys(memory.upgrading ?? {});
  const same = previous !== undefined && previous.toVersion === to && !previous.finishedAt;
  const complete = f.outdated === 0 && inFlight.length === 0;
  // Nothing to roll out, and nothing started since the last rollout ended.
  if (complete && !same && f.started.length === 0) return { conditions: [] };
  const history = closeHistory([...(same ? previous.history : []), ...f.started.map((node) => ({ node, startedAt: at }))], f.finished, to, at);
  const base = { fromVersion: same ? previous.fromVersion : f.from, toVersion: to, startedAt: same ? previous.startedAt : at, nodesTotal: f.total, history };
  if (complete) {
    const done: RolloutStatus = { ...base, nodesDone: f.total, current: [], paused: false, finishedAt: at, reason: 'complete' };
    return { rollout: done, conditions: [condition('Upgrading', 'False', 'Complete', `${f.total} node(s) at ${to}`)] };
  }
  const userPaused = upgradeSettings(spec).paused;
  const reason = memory.pause?.reason ?? (userPaused ? 'paused by spec.upgrade.paused (`goman rollout resume`)' : `upgrading ${nameList(inFlight) || 'next node'}`);
  const rollout: RolloutStatus = { ...base, nodesDone: f.total - f.outdated - inFlight.length, current: inFlight, paused: memory.pause !== undefined || userPaused, reason };
  const upgrading = rollout.paused
    ? condition('Upgrading', 'False', 'Paused', reason)
    : condition('Upgrading', 'True', 'RollingOut', `${rollout.nodesDone}/${f.total} nodes at ${to}`);
  return { rollout, conditions: [upgrading] };
}

function closeHistory(history: RolloutStatus['history'], finished: readonly string[], to: string, at: string): RolloutStatus['history'] {
  return recentHistory(history).map((h) => (h.endedAt === undefined && finished.includes(h.node) ? { ...h, endedAt: at, result: `Ready at ${to}` } : h));
}
