// Lease-based leader election (DESIGN §5, §6): one active instance of a singleton job (outbox
// relay, scheduler) across processes. The lease carries a fencing token that strictly grows
// each time it changes hands, so work done under it can be checked against a newer holder.
import type { Logger } from 'pino';
import type { Lease, LeaseStore } from '../store/port.ts';
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
  const renewEveryMs = Math.max(10, Math.floor(ttlMs / 3));
  const retryMs = opts.retryMs ?? renewEveryMs;
  const stopping = new AbortController();
  let current: Lease | null = null;
  let termSignal: AbortSignal | null = null;

  async function lead(lease: Lease): Promise<void> {
    const term = new AbortController();
    const onStop = (): void => term.abort();
    stopping.signal.addEventListener('abort', onStop, { once: true });
    current = lease;
    termSignal = term.signal;
    // The lease is ours until the store's expiry; we count from before the request that got it,
    // so a renewal that cannot get through ends the term locally before anyone else may take it.
    let safeUntil = Date.now() + ttlMs - renewEveryMs;
    let renewing = false;
    const renewTimer = setInterval(() => {
      if (Date.now() >= safeUntil) {
        logger?.warn({ lease: name, owner }, 'lease could not be renewed in time; stepping down');
        term.abort();
        return;
      }
      if (renewing || term.signal.aborted || current === null) return;
      renewing = true;
      const askedAt = Date.now();
      leases
        .renewLease(current, ttlMs)
        .then((renewed) => {
          if (renewed === null) {
            logger?.warn({ lease: name, owner }, 'lease lost; stepping down');
            term.abort();
          } else if (!term.signal.aborted) {
            current = renewed;
            safeUntil = askedAt + ttlMs - renewEveryMs;
          }
        })
        .catch((err: unknown) => logger?.warn({ err, lease: name }, 'lease renewal failed; will retry'))
        .finally(() => {
          renewing = false;
        });
    }, renewEveryMs);
    try {
      await opts.onElected({
        signal: term.signal,
        fence: lease.token,
        stillLeader: () => (term.signal.aborted ? Promise.resolve(false) : leases.checkFence(name, lease.token)),
      });
    } catch (err) {
      logger?.error({ err, lease: name }, 'leader job failed');
    } finally {
      term.abort();
      clearInterval(renewTimer);
      stopping.signal.removeEventListener('abort', onStop);
      const held = current;
      current = null;
      if (held !== null) await leases.releaseLease(held).catch(() => undefined);
    }
  }

  async function campaign(): Promise<void> {
    while (!stopping.signal.aborted) {
      let lease: Lease | null = null;
      try {
        lease = await leases.acquireLease(name, owner, ttlMs);
      } catch (err) {
        logger?.warn({ err, lease: name }, 'lease acquisition failed; will retry');
      }
      if (lease !== null && !stopping.signal.aborted) {
        logger?.info({ lease: name, owner, fence: lease.token }, 'elected leader');
        await lead(lease);
      } else if (lease !== null) {
        await leases.releaseLease(lease).catch(() => undefined);
      }
      await sleepUnlessAborted(retryMs, stopping.signal);
    }
  }

  const running = campaign();
  return {
    isLeader: () => current !== null && termSignal?.aborted === false,
    fence: () => (current !== null && termSignal?.aborted === false ? current.token : null),
    stop: async () => {
      stopping.abort();
      await running;
    },
  };
}
