// Day 2 operations as spec changes (DESIGN §14), shared by the API and the serverless backend so
// both refuse and accept the same things: a rollout is a change of k3sVersion; pause, resume,
// undo, backup and restore are changes of spec.upgrade and spec.requests. Pure.
import type { Cluster, ClusterStatus } from './cluster.ts';
import type { Snapshot } from './day2.ts';
import { restoreActive, rolloutActive, skewProblem, snapshotSchema, upgradeSettings } from './day2.ts';
import { GomanError, UnprocessableError } from './errors.ts';
import type { ClusterSpec } from './spec.ts';

export type SpecChange = (spec: ClusterSpec) => ClusterSpec;

/**
 * The day 2 rules of a spec change, beyond the schema: K3s version skew (one minor version up at
 * a time, no downgrade across a minor version; going back to the version the last rollout came
 * from is an undo and allowed), and no rollout while a restore runs. A restore request carries
 * its snapshot's version and is exempt from skew.
 */
export function assertDay2Change(before: Pick<Cluster, 'spec' | 'status'>, after: ClusterSpec): void {
  if (before.spec.k3sVersion === after.k3sVersion) return;
  const restoring = after.requests?.restore !== undefined && after.requests.restore.at !== before.spec.requests?.restore?.at;
  if (restoring) return;
  if (restoreActive(before.status.restore)) {
    throw new GomanError('CONFLICT', `a restore of snapshot ${before.status.restore?.snapshot ?? ''} is running; change spec.k3sVersion once it is done`);
  }
  const undo = before.status.rollout?.fromVersion === after.k3sVersion;
  const problem = undo ? undefined : skewProblem(before.spec.k3sVersion, after.k3sVersion);
  if (problem) throw new UnprocessableError(`spec.k3sVersion ${problem}`, [{ path: 'spec.k3sVersion', message: problem }]);
}

export const pauseRollout: SpecChange = (spec) => ({ ...spec, upgrade: { ...upgradeSettings(spec), paused: true } });

/** Clears a user's pause and lifts a pause the rollout took itself (a node that did not come back). */
export function resumeRollout(requestId: string): SpecChange {
  return (spec) => ({ ...spec, upgrade: { ...upgradeSettings(spec), paused: false }, requests: { ...spec.requests, resume: requestId } });
}

/** Back to the version the last rollout came from, under the same rules (order, maxUnavailable). */
export function undoRollout(cluster: Pick<Cluster, 'name' | 'status'>): SpecChange {
  const from = cluster.status.rollout?.fromVersion;
  if (!from) throw new GomanError('CONFLICT', `cluster ${cluster.name} has no rollout to undo`);
  return (spec) => ({ ...spec, k3sVersion: from, upgrade: { ...upgradeSettings(spec), paused: false } });
}

export function requestBackup(requestId: string): SpecChange {
  return (spec) => ({ ...spec, requests: { ...spec.requests, backup: requestId } });
}

/** The cluster's snapshots, newest first, as its providers report them. */
export function snapshotsOf(cluster: Pick<Cluster, 'status'>): Snapshot[] {
  const all: Snapshot[] = [];
  for (const c of cluster.status.controllers) {
    const list = c.metadata?.snapshots;
    if (!Array.isArray(list)) continue;
    for (const item of list) {
      const parsed = snapshotSchema.safeParse(item);
      if (parsed.success) all.push(parsed.data);
    }
  }
  return all.sort((a, b) => b.takenAt.localeCompare(a.takenAt) || a.id.localeCompare(b.id));
}

/**
 * Restore `snapshotId` at the K3s version it was taken at. Refused while a rollout runs
 * (CONFLICT); a snapshot the cluster does not have is a bad `snapshot` field (422), not a missing
 * cluster, so a 404 still always means the cluster.
 */
export function restoreSnapshot(cluster: Pick<Cluster, 'name' | 'status'>, snapshotId: string, requestId: string): SpecChange {
  if (rolloutActive(cluster.status.rollout)) {
    throw new GomanError('CONFLICT', `a rollout to ${cluster.status.rollout?.toVersion ?? ''} is running on ${cluster.name}; let it finish or undo it first`);
  }
  if (restoreActive(cluster.status.restore)) throw new GomanError('CONFLICT', `a restore is already running on ${cluster.name}`);
  const snapshot = snapshotsOf(cluster).find((s) => s.id === snapshotId);
  if (!snapshot) {
    const detail = `cluster ${cluster.name} has no snapshot "${snapshotId}" (see goman backups ${cluster.name})`;
    throw new UnprocessableError(detail, [{ path: 'snapshot', message: 'no such snapshot of this cluster' }]);
  }
  return (spec) => ({ ...spec, k3sVersion: snapshot.k3sVersion, requests: { ...spec.requests, restore: { snapshot: snapshot.id, at: requestId } } });
}

export interface Day2HistoryDraft {
  kind: 'rollout' | 'restore';
  message: string;
  data?: Record<string, unknown>;
}

/** History entries for what a status change says a rollout or a restore did: each node's start and end, a pause, each restore step. */
export function day2History(before: Pick<ClusterStatus, 'rollout' | 'restore'>, after: Pick<ClusterStatus, 'rollout' | 'restore'>): Day2HistoryDraft[] {
  const out: Day2HistoryDraft[] = [];
  const r = after.rollout;
  if (r) {
    const same = before.rollout?.startedAt === r.startedAt && before.rollout.toVersion === r.toVersion;
    const seen = new Map((same ? (before.rollout?.history ?? []) : []).map((h) => [`${h.node}@${h.startedAt}`, h]));
    if (!same) out.push({ kind: 'rollout', message: `rollout ${r.fromVersion} → ${r.toVersion} started`, data: { from: r.fromVersion, to: r.toVersion } });
    for (const h of r.history) {
      const old = seen.get(`${h.node}@${h.startedAt}`);
      if (!old) out.push({ kind: 'rollout', message: `${h.node}: upgrade to ${r.toVersion} started`, data: { node: h.node, at: h.startedAt } });
      if (h.endedAt && !old?.endedAt) out.push({ kind: 'rollout', message: `${h.node}: ${h.result ?? 'done'}`, data: { node: h.node, at: h.endedAt } });
    }
    if (r.paused && !(same && before.rollout?.paused)) out.push({ kind: 'rollout', message: `rollout paused: ${r.reason}` });
    if (r.finishedAt && !(same && before.rollout?.finishedAt)) out.push({ kind: 'rollout', message: `rollout to ${r.toVersion} complete (${r.nodesTotal} nodes)` });
  }
  const s = after.restore;
  if (s) {
    const same = before.restore?.startedAt === s.startedAt && before.restore.snapshot === s.snapshot;
    if (!same) out.push({ kind: 'restore', message: `restore of snapshot ${s.snapshot} at ${s.k3sVersion} started` });
    for (const d of s.stepsDone.slice(same ? (before.restore?.stepsDone.length ?? 0) : 0)) out.push({ kind: 'restore', message: `restore of ${s.snapshot}: ${d.step} done`, data: { step: d.step, at: d.at } });
  }
  return out;
}
