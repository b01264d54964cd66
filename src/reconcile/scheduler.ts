// The reconcile scheduler (DESIGN §5): one active instance across replicas (CLS Backend ran
// one in every API replica). Each tick claims the clusters whose next_reconcile_at is due, by
// index and in batches, and appends a `cluster.reconcile` outbox row for each; the outbox relay
// publishes them. The store pushes each claimed row forward by the active or the stable
// interval, so nothing here reacts to writes: a status report never triggers a tick.
//
// Fencing: before each enqueue the tick checks that its lease token is still the current one,
// so a leader that was paused past its lease and replaced never enqueues. (A leader deposed
// between that check and the enqueue can add one duplicate round of reconcile events, which
// level-triggered controllers absorb; a claim it made without enqueuing delays those clusters
// by one interval at most.)
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { LeaseStore } from '../lease/port.ts';
import type { ScheduleStore } from '../store/port.ts';
import { runWhileLeader } from '../lease/leader.ts';
import type { LeaderTerm } from '../lease/leader.ts';

export const SCHEDULER_LEASE = 'scheduler';

/** Epoch milliseconds with sub-millisecond precision, so tick records time short ticks. */
const clock = (): number => performance.timeOrigin + performance.now();

export const DEFAULT_TICK_MS = 200;

export interface SchedulerOptions {
  store: ScheduleStore;
  leases: LeaseStore;
  /** This process's identity in the lease (unique per process). */
  owner: string;
  /**
   * Time between ticks (default 200 ms). Clusters come due continuously (at 10 000 that need
   * attention, ~333 a second), and a tick sends the events of all that came due since the last
   * at once; each waits behind those before it in the relay, the bus and every consumer. Short
   * ticks keep those bursts small; a tick with nothing due is a fence check and one index probe.
   */
  tickMs?: number;
  /** Reconcile interval of clusters that need attention (default 30 s; GOMAN_RECONCILE_ACTIVE_SECONDS). */
  activeIntervalMs?: number;
  /** Reconcile interval of stable clusters (default 5 min; GOMAN_RECONCILE_STABLE_SECONDS). */
  stableIntervalMs?: number;
  /** Rows claimed per statement (default 500). */
  batch?: number;
  /** Claims per tick at most, so one tick stays bounded (default 20). */
  maxBatchesPerTick?: number;
  /** Lease time to live (default 15 s; renewed every ttl/3). */
  leaseTtlMs?: number;
  /** Record of ticks kept in memory (default 1000). */
  keepTicks?: number;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  onTick?(info: TickInfo): void;
}

export interface TickInfo {
  owner: string;
  fence: number;
  startedAt: number;
  finishedAt: number;
  /** Claims made (statements run). */
  batches: number;
  /** Clusters a reconcile event was enqueued for. */
  enqueued: number;
  /** Set when the tick stopped because the fence no longer held. */
  fenced?: true;
  error?: string;
}

export interface Scheduler {
  isLeader(): boolean;
  /** The most recent ticks, oldest first. */
  ticks(): readonly TickInfo[];
  stop(): Promise<void>;
}

export function startScheduler(opts: SchedulerOptions): Scheduler {
  const { store, owner, logger } = opts;
  const tickMs = opts.tickMs ?? DEFAULT_TICK_MS;
  const intervals = { activeMs: opts.activeIntervalMs ?? 30_000, stableMs: opts.stableIntervalMs ?? 300_000 };
  const batch = opts.batch ?? 500;
  const maxBatches = opts.maxBatchesPerTick ?? 20;
  const keepTicks = opts.keepTicks ?? 1_000;
  if (!(tickMs > 0 && batch > 0 && maxBatches > 0 && intervals.activeMs > 0 && intervals.stableMs > 0)) {
    throw new RangeError('scheduler intervals, tick and batch must be positive');
  }
  const record: TickInfo[] = [];

  async function tick(term: LeaderTerm): Promise<TickInfo> {
    const info: TickInfo = { owner, fence: term.fence, startedAt: clock(), finishedAt: 0, batches: 0, enqueued: 0 };
    try {
      while (info.batches < maxBatches) {
        if (!(await term.stillLeader())) {
          info.fenced = true;
          break;
        }
        const ids = await store.claimDueClusters(new Date(), batch, intervals);
        info.batches++;
        if (ids.length > 0) {
          if (!(await term.stillLeader())) {
            info.fenced = true;
            break;
          }
          info.enqueued += await store.enqueueReconcile(ids);
        }
        if (ids.length < batch) break;
      }
    } catch (err) {
      info.error = err instanceof Error ? err.message : String(err);
      logger?.warn({ err }, 'scheduler tick failed');
    }
    info.finishedAt = clock();
    return info;
  }

  async function scheduleWhileLeader(term: LeaderTerm): Promise<void> {
    while (!term.signal.aborted) {
      const info = await tick(term);
      record.push(info);
      if (record.length > keepTicks) record.splice(0, record.length - keepTicks);
      opts.onTick?.(info);
      if (info.fenced) return;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          term.signal.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, tickMs);
        term.signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  const leader = runWhileLeader({
    leases: opts.leases,
    name: SCHEDULER_LEASE,
    owner,
    ttlMs: opts.leaseTtlMs ?? 15_000,
    ...(logger ? { logger } : {}),
    onElected: scheduleWhileLeader,
  });

  return {
    isLeader: () => leader.isLeader(),
    ticks: () => record,
    stop: () => leader.stop(),
  };
}
