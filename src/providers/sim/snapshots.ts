// The sim's etcd snapshots and restore (DESIGN §14), pure. A snapshot captures the simulated
// workload state and the first server's K3s version; a restore walks RESTORE_STEPS, each taking
// `restoreStepMs`: stop K3s on every other node, reset the first server from the snapshot (its
// workload and version), rejoin the other servers, restart the agents.
import type { ClusterSpec, RestoreStatus, Snapshot } from '../../domain/index.ts';
import { RESTORE_STEPS, SERVER_POOL } from '../../domain/index.ts';
import { nextFire, parseCron } from '../../domain/cron.ts';
import { nodeName } from '../../domain/slots.ts';
import type { SimInstance, SimRestore, SimSnapshot, SimState } from './instances.ts';
import { isLive } from './instances.ts';
import type { TimedAction } from './rollout.ts';
import { rolloutOrder, versionOf } from './rollout.ts';
import type { SimSettings } from './settings.ts';

/** On-demand snapshots kept when spec.backup sets no retention (K3s's own default is 5). */
const DEFAULT_RETENTION = 5;

const isFirstServer = (i: SimInstance): boolean => i.role === 'server' && i.index === 0;

export function snapshotLocation(clusterName: string, spec: ClusterSpec, id: string): string {
  const s3 = spec.backup?.s3;
  if (!s3) return `sim://${clusterName}/snapshots/${id}`;
  const prefix = s3.prefix === '' || s3.prefix.endsWith('/') ? s3.prefix : `${s3.prefix}/`;
  return `s3://${s3.bucket}/${prefix}${id}`;
}

/** Takes a snapshot on the first server; false when there is no ready first server to take it. */
export function takeSnapshot(clusterName: string, spec: ClusterSpec, state: SimState, id: string, now: number, scheduled = false): boolean {
  const first = state.instances.find((i) => isLive(i) && isFirstServer(i));
  if (!first || first.k3sInstalledAt === undefined || first.state !== 'running') return false;
  const workload = structuredClone(state.workload);
  const snapshot: SimSnapshot = {
    id,
    takenAt: now,
    // etcd's size grows with what it holds: a fixed base plus the objects' bytes.
    sizeBytes: 1_048_576 + JSON.stringify(workload).length,
    k3sVersion: versionOf(first, spec),
    location: snapshotLocation(clusterName, spec, id),
    scheduled,
    workload,
  };
  const retention = spec.backup?.retention ?? DEFAULT_RETENTION;
  state.snapshots = [...state.snapshots.filter((s) => s.id !== id), snapshot].sort((a, b) => a.takenAt - b.takenAt).slice(-retention);
  return true;
}

export function startRestore(state: SimState, snapshot: SimSnapshot, now: number): void {
  state.restore = { snapshot: snapshot.id, k3sVersion: snapshot.k3sVersion, startedAt: now, step: 0, since: now, stepsDone: [] };
  delete state.rollout;
  // Step 1 starts at once: K3s stops on every node but the first server.
  for (const i of state.instances) if (isLive(i) && !isFirstServer(i)) i.k3sStopped = true;
}

/** Moves a restore along by the clock; true if anything changed. */
export function advanceRestore(state: SimState, now: number, s: SimSettings): boolean {
  const r = state.restore;
  if (!r || r.finishedAt !== undefined) return false;
  let changed = false;
  while (r.step < RESTORE_STEPS.length && now >= r.since + s.restoreStepMs) {
    const done = RESTORE_STEPS[r.step];
    if (done) finishStep(state, r, done);
    r.since += s.restoreStepMs;
    r.stepsDone.push({ step: done ?? 'restart-agents', at: r.since });
    r.step++;
    if (RESTORE_STEPS[r.step] === 'reset-first-server') {
      for (const i of state.instances) if (isLive(i) && isFirstServer(i)) i.k3sStopped = true;
    }
    changed = true;
  }
  if (r.step >= RESTORE_STEPS.length) r.finishedAt = r.since;
  return changed;
}

function finishStep(state: SimState, r: SimRestore, step: (typeof RESTORE_STEPS)[number]): void {
  const snapshot = state.snapshots.find((s) => s.id === r.snapshot);
  const up = (match: (i: SimInstance) => boolean): void => {
    for (const i of state.instances) {
      if (!isLive(i) || !match(i)) continue;
      i.k3sVersion = r.k3sVersion;
      delete i.k3sStopped;
      delete i.cordoned;
      delete i.upgrade;
    }
  };
  if (step === 'reset-first-server') {
    if (snapshot) state.workload = structuredClone(snapshot.workload);
    up(isFirstServer);
  } else if (step === 'rejoin-servers') {
    up((i) => i.role === 'server' && !isFirstServer(i));
  } else if (step === 'restart-agents') {
    up((i) => i.role === 'agent');
  }
}

export const restoreRunning = (state: SimState): boolean => state.restore !== undefined && state.restore.finishedAt === undefined;

/** The restore's steps left, as plan actions. */
export function restoreActions(name: string, spec: ClusterSpec, state: SimState, s: SimSettings): TimedAction[] {
  const r = state.restore;
  if (!r || r.finishedAt !== undefined) return [];
  const nodes = rolloutOrder(spec, state.instances);
  const reason = `restore of snapshot ${r.snapshot} at ${r.k3sVersion}`;
  const out: TimedAction[] = [];
  RESTORE_STEPS.forEach((step, k) => {
    if (k < r.step) return;
    const at = r.since + (k - r.step) * s.restoreStepMs;
    const kind = step === 'stop-k3s' ? 'stop-k3s' : step === 'reset-first-server' ? 'restore-snapshot' : step === 'rejoin-servers' ? 'rejoin' : 'restart-k3s';
    const targets =
      step === 'reset-first-server'
        ? nodes.filter(isFirstServer)
        : step === 'rejoin-servers'
          ? nodes.filter((i) => i.role === 'server' && !isFirstServer(i))
          : step === 'restart-agents'
            ? nodes.filter((i) => i.role === 'agent')
            : nodes.filter((i) => !isFirstServer(i));
    for (const i of targets) out.push({ action: { kind, pool: i.role === 'server' ? SERVER_POOL : (i.pool ?? ''), node: nodeName(name, i), reason }, at });
  });
  return out;
}

export function snapshotView(s: SimSnapshot): Snapshot {
  return { id: s.id, takenAt: new Date(s.takenAt).toISOString(), sizeBytes: s.sizeBytes, k3sVersion: s.k3sVersion, location: s.location, scheduled: s.scheduled };
}

export function restoreView(r: SimRestore): RestoreStatus {
  const view: RestoreStatus = {
    snapshot: r.snapshot,
    k3sVersion: r.k3sVersion,
    startedAt: new Date(r.startedAt).toISOString(),
    stepsDone: r.stepsDone.map((d) => ({ step: d.step, at: new Date(d.at).toISOString() })),
  };
  const step = RESTORE_STEPS[r.step];
  if (step) view.step = step;
  if (r.finishedAt !== undefined) view.finishedAt = new Date(r.finishedAt).toISOString();
  return view;
}

/** Fires of spec.backup.schedule missed after this many are not made up (a sim clock that jumped). */
const MAX_CATCH_UP = 100;

/** Takes the scheduled snapshots due since the last look (named as K3s names them); when the next is due. */
export function takeScheduled(clusterName: string, spec: ClusterSpec, state: SimState, now: number): number | undefined {
  const cron = spec.backup ? parseCron(spec.backup.schedule) : undefined;
  if (!cron) {
    delete state.scheduledUntil;
    return undefined;
  }
  let fire = nextFire(cron, state.scheduledUntil ?? now);
  for (let n = 0; fire !== undefined && fire <= now && n < MAX_CATCH_UP; n++) {
    takeSnapshot(clusterName, spec, state, `etcd-snapshot-${nodeName(clusterName, { role: 'server', index: 0 })}-${Math.floor(fire / 1000)}`, fire, true);
    fire = nextFire(cron, fire);
  }
  state.scheduledUntil = now;
  return nextFire(cron, now);
}
