// Lease-based leader election (DESIGN §5, §6): one active instance of a singleton job (outbox
// relay, scheduler) across processes. The lease carries a fencing token that strictly grows
// each time it changes hands, so work done under it can be checked against a newer holder.
import type { Logger } from 'pino';
import { acquireKept, type HeldLease } from './keeper.ts';
import type { LeaseStore } from './port.ts';
import { sleepUnlessAborted } from '../util/sleep.ts';

/** One term of leadership, handed to the job while it leads. */
export interface LeaderTerm {
  /** Aborted the moment leadership is lost, uncertain, or being given up. */
  readonly signal: AbortSignal;
  /** The lease's fencing token for this term. */
  readonly fence: number;
  /** Asks the lease store whether this term's fence is still the current one. */
  stillLeader(): Promise<boolean>;
}

export interface LeaderOptions {
  leases: LeaseStore;
  name: string;
  owner: string;
  /** Lease time to live; renewed every ttl/3. */
  ttlMs: number;
  /** Wait between attempts to acquire a lease someone else holds (default ttl/3). */
  retryMs?: number;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /**
   * Runs while this process leads; it should return once `term.signal` aborts. If it returns
   * or throws earlier, the lease is released and the process campaigns again after retryMs.
   */
  onElected(term: LeaderTerm): Promise<void>;
}

export interface LeaderHandle {
  /** True while this process holds the lease (as far as it knows). */
  isLeader(): boolean;
  /** Fencing token of the current term, or null when not leading. */
  fence(): number | null;
  /** Stops campaigning, aborts the job, waits for it to return and releases the lease. */
  stop(): Promise<void>;
}


export function runWhileLeader(opts: LeaderOptions): LeaderHandle {
  const { leases, name, owner, ttlMs, logger } = opts;
  if (!(ttlMs >= 30)) throw new RangeError('leader lease ttlMs must be at least 30 ms');
  const retryMs = opts.retryMs ?? Math.max(10, Math.floor(ttlMs / 3));
  const stopping = new AbortController();
  let term: { held: HeldLease; signal: AbortSignal } | null = null;
  const onRenewError = (err: unknown): void => logger?.warn({ err, lease: name }, 'lease renewal failed; will retry');

  async function lead(held: HeldLease): Promise<void> {
    const signal = AbortSignal.any([stopping.signal, held.signal]);
    const onLost = (): void => {
      if (!stopping.signal.aborted) logger?.warn({ lease: name, owner, reason: String(held.signal.reason) }, 'stepping down');
    };
    held.signal.addEventListener('abort', onLost, { once: true });
    term = { held, signal };
    try {
      await opts.onElected({
        signal,
        fence: held.fence,
        stillLeader: () => (signal.aborted ? Promise.resolve(false) : leases.checkFence(name, held.fence)),
      });
    } catch (err) {
      logger?.error({ err, lease: name }, 'leader job failed');
    } finally {
      held.signal.removeEventListener('abort', onLost);
      term = null;
      await held.release().catch(() => undefined);
    }
  }

  async function campaign(): Promise<void> {
    while (!stopping.signal.aborted) {
      let held: HeldLease | null = null;
      try {
        held = await acquireKept(leases, name, owner, { ttlMs, onRenewError });
      } catch (err) {
        logger?.warn({ err, lease: name }, 'lease acquisition failed; will retry');
      }
      if (held !== null && !stopping.signal.aborted) {
        logger?.info({ lease: name, owner, fence: held.fence }, 'elected leader');
        await lead(held);
      } else if (held !== null) {
        await held.release().catch(() => undefined);
      }
      await sleepUnlessAborted(retryMs, stopping.signal);
    }
  }

  const running = campaign();
  const leading = (): HeldLease | null => (term !== null && !term.signal.aborted ? term.held : null);
  return {
    isLeader: () => leading() !== null,
    fence: () => leading()?.fence ?? null,
    stop: async () => {
      stopping.abort();
      await running;
    },
  };
}
