// The one lease keeper (DESIGN §6), used by leader election, the controller host and the
// serverless runner. It renews at ttl/3, never with two renewals in flight, and stops trusting
// the lease a safety margin before it could expire in the store: the store counts the ttl from
// when it received a request, which is after we sent it, so time measured here from the send
// (on the monotonic clock, immune to wall-clock steps and skew) is always on the safe side.
import type { Lease, LeaseStore } from './port.ts';

export interface KeepOptions {
  ttlMs: number;
  /** How long before the earliest possible expiry the holder gives up (default ttl/4). */
  marginMs?: number;
  /** Store errors during renewal are retried until the margin is reached; this hears about them. */
  onRenewError?: (err: unknown) => void;
}

/** A lease this process holds, kept alive until released or lost. */
export interface HeldLease {
  readonly name: string;
  /** The fencing token: every write done under the lease presents it. */
  readonly fence: number;
  /** Aborts the moment the lease is lost, can no longer be trusted, or is released. */
  readonly signal: AbortSignal;
  /** Stops renewing and frees the lease (a no-op in the store when it was already lost). */
  release(): Promise<void>;
}

export class LeaseLostError extends Error {
  constructor(name: string, why: string) {
    super(`lease ${name} lost: ${why}`);
    this.name = 'LeaseLostError';
  }
}

/** Acquires `name` and keeps it; null when someone else holds it. */
export async function acquireKept(leases: LeaseStore, name: string, owner: string, opts: KeepOptions): Promise<HeldLease | null> {
  checkTtl(opts.ttlMs);
  const askedAt = performance.now();
  const lease = await leases.acquireLease(name, owner, opts.ttlMs);
  return lease === null ? null : keep(leases, lease, askedAt, opts);
}

function checkTtl(ttlMs: number): void {
  if (!(ttlMs >= 30)) throw new RangeError('lease ttlMs must be at least 30 ms');
}

function keep(leases: LeaseStore, first: Lease, firstAskedAt: number, opts: KeepOptions): HeldLease {
  const { ttlMs } = opts;
  const renewEveryMs = Math.max(10, Math.floor(ttlMs / 3));
  const marginMs = opts.marginMs ?? Math.floor(ttlMs / 4);
  const retryMs = Math.max(5, Math.floor(renewEveryMs / 3));
  const lost = new AbortController();
  let lease = first;
  let renewTimer: NodeJS.Timeout | undefined;
  let deadlineTimer: NodeJS.Timeout | undefined;
  let lastRenewal: Promise<void> = Promise.resolve();

  const lose = (why: string): void => {
    if (lost.signal.aborted) return;
    clearTimeout(renewTimer);
    clearTimeout(deadlineTimer);
    lost.abort(new LeaseLostError(lease.name, why));
  };
  const trustUntil = (askedAt: number): void => {
    clearTimeout(deadlineTimer);
    const left = askedAt + ttlMs - marginMs - performance.now();
    deadlineTimer = setTimeout(() => lose('not renewed in time'), Math.max(0, left));
    deadlineTimer.unref();
  };
  const schedule = (delayMs: number): void => {
    if (lost.signal.aborted) return;
    renewTimer = setTimeout(renew, Math.max(0, delayMs));
    renewTimer.unref();
  };
  function renew(): void {
    const askedAt = performance.now();
    lastRenewal = leases.renewLease(lease, ttlMs).then(
      (renewed) => {
        if (lost.signal.aborted) return;
        if (renewed === null) return lose('expired or taken in the store');
        lease = renewed;
        trustUntil(askedAt);
        schedule(askedAt + renewEveryMs - performance.now());
      },
      (err: unknown) => {
        if (lost.signal.aborted) return;
        opts.onRenewError?.(err);
        schedule(retryMs);
      },
    );
  }

  trustUntil(firstAskedAt);
  schedule(firstAskedAt + renewEveryMs - performance.now());
  return {
    name: first.name,
    fence: first.token,
    signal: lost.signal,
    async release() {
      lose('released');
      // A renewal still on its way must land before the release, or it could outlive it. Lost
      // by our own clock may still be ours in the store: releasing frees it for others sooner.
      await lastRenewal;
      await leases.releaseLease(lease);
    },
  };
}
