// Day 2 commands (DESIGN §14): `goman upgrade`, `goman rollout status|pause|resume|undo`,
// `goman backup`, `goman backups` and `goman restore`. Progress is followed over the backend's
// watch: on a terminal the block of per-node lines is redrawn in place (on stderr), in a pipe
// each line is printed once when it changes; `-o json|yaml` prints the final document on stdout.
import type { RolloutAction } from '../../client/backend.ts';
import type { Cluster } from '../../domain/cluster.ts';
import { GomanError } from '../../domain/errors.ts';
import { parseK3sVersion, rolloutActive } from '../../domain/day2.ts';
import { UsageError } from '../errors.ts';
import { clusterName, parseDuration } from '../flags.ts';
import type { GlobalOptions, Session } from '../session.ts';
import { openSession, writeList } from '../session.ts';
import { age, serialize, truncate } from '../output.ts';
import { restoreLine, rolloutLines } from '../view.ts';

interface WaitFlags {
  wait?: boolean;
  timeout?: string;
}

const timeoutOf = (flags: WaitFlags): number => parseDuration(flags.timeout ?? '30m');

export async function upgrade(name: string, flags: GlobalOptions & WaitFlags & { k3sVersion: string }): Promise<void> {
  clusterName(name);
  const version = flags.k3sVersion;
  if (!parseK3sVersion(version) && version !== 'stable' && version !== 'latest') {
    throw new UsageError(`--k3s-version "${version}": expected a K3s release such as v1.31.4+k3s1 (or stable, latest)`);
  }
  const timeoutMs = timeoutOf(flags);
  const s = await openSession(flags);
  const { value, etag } = await s.backend.get(name);
  if (value.spec.k3sVersion === version) {
    await show(s, value, `cluster ${name} already runs ${version}\n`);
  } else {
    const updated = await s.backend.patch(name, { spec: { k3sVersion: version } }, etag);
    await show(s, updated, `cluster ${name}: rollout ${value.spec.k3sVersion} → ${version} started (goman rollout status ${name} --wait)\n`);
  }
  if (flags.wait) await followRollout(s, name, timeoutMs);
}

export async function rolloutStatus(name: string, flags: GlobalOptions & WaitFlags): Promise<void> {
  clusterName(name);
  const s = await openSession(flags);
  const cluster = flags.wait ? await followRollout(s, name, timeoutOf(flags)) : (await s.backend.get(name)).value;
  if (s.format !== 'table') {
    s.write(await serialize({ name, k3sVersion: cluster.spec.k3sVersion, rollout: cluster.status.rollout ?? null, nodes: cluster.status.nodes }, s.format));
  } else if (!flags.wait) {
    const lines = rolloutLines(cluster);
    s.write(lines.length ? `${lines.join('\n')}\n` : `cluster ${name} has had no rollout; every node runs ${cluster.spec.k3sVersion}\n`);
  }
}

export const rolloutPause = (name: string, flags: GlobalOptions): Promise<void> => rolloutControl(name, 'pause', flags);
export const rolloutResume = (name: string, flags: GlobalOptions): Promise<void> => rolloutControl(name, 'resume', flags);
export const rolloutUndo = (name: string, flags: GlobalOptions & WaitFlags): Promise<void> => rolloutControl(name, 'undo', flags);

async function rolloutControl(name: string, action: RolloutAction, flags: GlobalOptions & WaitFlags): Promise<void> {
  clusterName(name);
  const s = await openSession(flags);
  const updated = await s.backend.rollout(name, action);
  const said = { pause: 'paused: no further node starts', resume: 'resumed', undo: `rolling back to ${updated.spec.k3sVersion}` }[action];
  await show(s, updated, `cluster ${name}: rollout ${said}\n`);
  if (flags.wait) await followRollout(s, name, timeoutOf(flags));
}

export async function backup(name: string, flags: GlobalOptions & WaitFlags): Promise<void> {
  clusterName(name);
  const s = await openSession(flags);
  const { snapshot } = await s.backend.backup(name);
  if (!flags.wait) {
    if (s.format === 'table') s.write(`cluster ${name}: snapshot ${snapshot} requested (goman backups ${name})\n`);
    else s.write(await serialize({ snapshot }, s.format));
    return;
  }
  const taken = await follow(s, name, timeoutOf(flags), async () => {
    const found = (await s.backend.backups(name)).find((x) => x.id === snapshot);
    return { lines: [found ? `snapshot ${snapshot} taken` : `taking snapshot ${snapshot}…`], done: found };
  });
  if (s.format === 'table') s.write(`snapshot ${taken.id}: ${taken.sizeBytes} bytes at K3s ${taken.k3sVersion}, ${taken.location}\n`);
  else s.write(await serialize(taken, s.format));
}

export async function backups(name: string, flags: GlobalOptions): Promise<void> {
  clusterName(name);
  const s = await openSession(flags);
  const items = await s.backend.backups(name);
  if (s.format === 'table' && items.length === 0) {
    process.stderr.write(`No snapshots of ${name} yet (take one with goman backup ${name}).\n`);
    return;
  }
  await writeList(
    s,
    { items },
    items,
    [{ header: 'ID' }, { header: 'TAKEN' }, { header: 'SIZE' }, { header: 'K3S' }, { header: 'LOCATION', flexible: true }],
    (x, now) => [x.id, `${age(x.takenAt, now)} ago`, bytes(x.sizeBytes), x.k3sVersion, x.location],
  );
}

export async function restore(name: string, flags: GlobalOptions & WaitFlags & { snapshot: string; yes?: boolean }): Promise<void> {
  clusterName(name);
  if (!flags.yes) {
    if (!process.stdin.isTTY) throw new UsageError(`refusing to restore ${name} without --yes when not on a terminal (a restore replaces the cluster's state)`);
    const { confirm } = await import('../prompt.ts');
    if (!(await confirm(`Restore ${name} from snapshot ${flags.snapshot}? Its current state and K3s version are replaced. [y/N] `))) {
      process.stderr.write('Cancelled.\n');
      return;
    }
  }
  const s = await openSession(flags);
  const started = await s.backend.restore(name, flags.snapshot);
  await show(s, started, `cluster ${name}: restoring snapshot ${flags.snapshot} at K3s ${started.spec.k3sVersion}\n`);
  if (!flags.wait) return;
  const requested = started.spec.requests?.restore?.snapshot;
  await follow(s, name, timeoutOf(flags), async () => {
    const c = (await s.backend.get(name)).value;
    const r = c.status.restore;
    const done = r?.snapshot === requested && r?.finishedAt !== undefined && c.status.phase === 'Ready' ? c : undefined;
    return { lines: [restoreLine(c) ?? 'waiting for the restore to start…', `phase ${c.status.phase}`], done };
  });
}

/** Follows the rollout until it is complete at the spec's version; a pause ends the wait with its reason. */
async function followRollout(s: Session, name: string, timeoutMs: number): Promise<Cluster> {
  return follow(s, name, timeoutMs, async () => {
    const c = (await s.backend.get(name)).value;
    const r = c.status.rollout;
    // Only a status reported for the spec as it is now: right after a resume the rollout still
    // reads paused until a controller has seen the change.
    const current = c.status.controllers.some((x) => x.observedGeneration === c.generation);
    if (current && r?.paused && r.reason !== 'complete' && !r.finishedAt && c.spec.upgrade?.paused !== true) {
      throw new GomanError('CONFLICT', `rollout of ${name} paused: ${r.reason} (fix it, then goman rollout resume ${name})`);
    }
    const done = r?.toVersion === c.spec.k3sVersion && !rolloutActive(r) && r.finishedAt !== undefined && c.status.phase === 'Ready';
    const atVersion = !r && c.status.nodes.every((n) => n.k3sVersion === undefined || n.k3sVersion === c.spec.k3sVersion) && c.status.phase === 'Ready';
    return { lines: rolloutLines(c).length ? rolloutLines(c) : [`${name}: phase ${c.status.phase}`], done: done || atVersion ? c : undefined };
  });
}

/**
 * Re-reads on every change the watch reports until `probe` says done. On a terminal the block of
 * lines is redrawn in place; in a pipe each new line is printed once. Both on stderr.
 */
async function follow<T>(s: Session, name: string, timeoutMs: number, probe: () => Promise<{ lines: string[]; done: T | undefined }>): Promise<T> {
  const tty = process.stderr.isTTY === true;
  const width = (process.stderr.columns ?? 200) - 1;
  const printed = new Set<string>();
  let drawn = 0;
  const render = (lines: string[]): void => {
    if (tty) {
      const up = drawn ? `\x1b[${drawn}A` : '';
      process.stderr.write(`${up}${lines.map((l) => `\r\x1b[2K${truncate(l, width)}\n`).join('')}`);
      drawn = lines.length;
    } else {
      for (const l of lines) if (!printed.has(l)) process.stderr.write(`${l}\n`);
      lines.forEach((l) => printed.add(l));
    }
  };
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    for await (const ev of s.backend.watch(abort.signal)) {
      if (ev.type === 'deleted' && ev.name === name) throw new GomanError('NOT_FOUND', `cluster ${name} was deleted while waiting`);
      if (ev.type === 'connected' || (ev.type === 'upsert' && ev.cluster.name === name)) {
        const { lines, done } = await probe();
        render(lines);
        if (done !== undefined) return done;
      }
    }
    throw new GomanError('UNAVAILABLE', `timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${name}; raise --timeout`);
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

async function show(s: Session, cluster: Cluster, message: string): Promise<void> {
  if (s.format === 'table') s.write(message);
  else s.write(await serialize(cluster, s.format));
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
