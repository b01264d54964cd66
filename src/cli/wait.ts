// `--wait`: follow a cluster live until it reaches a goal, showing phase, the Ready
// condition's message and nodes ready/total. One line redrawn in place on a terminal, one
// plain line per change otherwise. Fails on phase Failed and on the timeout.
import type { ClusterBackend } from '../client/backend.ts';
import type { Cluster } from '../domain/cluster.ts';
import { GomanError, isGomanError } from '../domain/errors.ts';
import type { Terminal } from './output.ts';
import { paint, PHASE_COLORS, truncate } from './output.ts';
import { nodesText, phaseOf, shrinking, statusMessage } from './view.ts';

export type WaitGoal = 'ready' | 'stopped' | 'gone';

export interface WaitOptions {
  timeoutMs: number;
  term: Terminal;
  write: (text: string) => void;
}

export function progressLine(c: Cluster, color: boolean): string {
  const phase = phaseOf(c);
  return `${c.name}  ${paint(phase.padEnd(12), PHASE_COLORS[phase], color)}  nodes ${nodesText(c)}${shrinking(c) ? '' : ' ready'}  ${statusMessage(c)}`;
}

/** Has the cluster reached the goal at its current generation? */
export function reached(c: Cluster, goal: WaitGoal): boolean {
  const settled = c.status.observedGeneration >= c.generation && !c.deletionTimestamp;
  if (goal === 'ready') return settled && c.status.phase === 'Ready';
  if (goal === 'stopped') return settled && c.status.phase === 'Stopped';
  return false;
}

export async function waitFor(backend: ClusterBackend, name: string, goal: WaitGoal, opts: WaitOptions): Promise<void> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), opts.timeoutMs);
  let last = '';
  let current: Cluster | undefined;
  const show = (c: Cluster): void => {
    current = c;
    const line = progressLine(c, opts.term.color);
    if (line === last) return;
    last = line;
    if (opts.term.isTTY) opts.write(`\r\x1b[2K${truncate(line, (opts.term.columns ?? 200) - 1)}`);
    else opts.write(`${line}\n`);
  };
  const finish = (): void => {
    if (opts.term.isTTY && last) opts.write('\n');
  };
  // Resolves true when the goal is reached; throws when the cluster failed.
  const check = (c: Cluster | null): boolean => {
    if (!c) return goal === 'gone';
    show(c);
    if (c.status.phase === 'Failed' && !c.deletionTimestamp) {
      throw new Error(`cluster ${name} failed: ${c.status.message || c.status.reason}`);
    }
    return reached(c, goal);
  };
  const read = async (): Promise<Cluster | null> => {
    try {
      return (await backend.get(name)).value;
    } catch (e) {
      if (isGomanError(e, 'NOT_FOUND')) return null;
      throw e;
    }
  };
  try {
    for await (const ev of backend.watch(abort.signal)) {
      if (ev.type === 'connected' && check(await read())) return;
      if (ev.type === 'upsert' && ev.cluster.name === name && check(ev.cluster)) return;
      if (ev.type === 'deleted' && ev.name === name && goal === 'gone') return;
      if (ev.type === 'deleted' && ev.name === name) throw new GomanError('NOT_FOUND', `cluster ${name} was deleted while waiting`);
    }
    const seconds = Math.round(opts.timeoutMs / 1000);
    const where = current ? ` (phase ${phaseOf(current)}: ${statusMessage(current)})` : '';
    const want = goal === 'gone' ? 'be deleted' : `become ${goal === 'ready' ? 'Ready' : 'Stopped'}`;
    throw new Error(`timed out after ${seconds}s waiting for ${name} to ${want}${where}`);
  } finally {
    clearTimeout(timer);
    abort.abort();
    finish();
  }
}
