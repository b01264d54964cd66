// Per-key exponential backoff with jitter (DESIGN §6: 1 s → 5 min), the shape of
// controller-runtime's ItemExponentialFailureRateLimiter. Jitter only ever lengthens a delay
// (up to the cap), so many keys failing together spread out instead of retrying in lockstep.

export interface BackoffOptions {
  /** First retry delay. */
  baseMs?: number;
  /** No delay is ever longer than this. */
  maxMs?: number;
  /** A delay is stretched by up to this fraction (0 = none). */
  jitter?: number;
  /** Source of randomness in [0, 1); injectable so tests can pin the jitter. */
  random?: () => number;
}

export const DEFAULT_BACKOFF = { baseMs: 1_000, maxMs: 300_000, jitter: 0.2 } as const;

export class Backoff {
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private readonly failures = new Map<string, number>();

  constructor(opts: BackoffOptions = {}) {
    this.baseMs = opts.baseMs ?? DEFAULT_BACKOFF.baseMs;
    this.maxMs = opts.maxMs ?? DEFAULT_BACKOFF.maxMs;
    this.jitter = opts.jitter ?? DEFAULT_BACKOFF.jitter;
    this.random = opts.random ?? Math.random;
    if (!(this.baseMs > 0 && this.maxMs >= this.baseMs && this.jitter >= 0)) {
      throw new RangeError('backoff needs 0 < baseMs <= maxMs and jitter >= 0');
    }
  }

  /** Records one more failure of `key` and returns how long to wait before retrying it. */
  next(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    // 2^n overflows to Infinity long after the cap is reached; Math.min keeps it finite.
    const nominal = Math.min(this.maxMs, this.baseMs * 2 ** n);
    return Math.min(this.maxMs, nominal * (1 + this.jitter * this.random()));
  }

  /** Failures of `key` since its last success. */
  attempts(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** A success: the next failure starts again from baseMs. */
  reset(key: string): void {
    this.failures.delete(key);
  }
}
