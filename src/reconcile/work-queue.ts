// The controller-runtime work queue (DESIGN §6). Keys (cluster ids) wait at most once; a key
// added while it is being processed is marked dirty and runs once more afterwards, so one key
// never runs twice at once yet no change is missed. Errors retry with per-key backoff; a
// result may ask to look again later (requeueAfter).
//
// Two priorities, as controller-runtime's priority queue: keys added for an event (new work, a
// spec change, a requeue the reconciler asked for) run before keys added by a periodic resync.
// Under a burst of new clusters the scheduler's resyncs of recently written ones (every 30 s
// while young) would otherwise sit in the same FIFO and delay the new work behind them.
import { Backoff, type BackoffOptions } from '../util/backoff.ts';

export interface WorkResult {
  requeueAfterMs?: number | undefined;
}

/** `event`: something changed, run it first; `resync`: a periodic look, after any event work. */
export type Priority = 'event' | 'resync';

/**
 * Processes one key, taken with `priority` (`resync` only when nothing but resyncs asked for it).
 * Throwing means "retry with backoff"; the signal aborts at a shutdown deadline.
 */
export type WorkFn = (key: string, signal: AbortSignal, priority: Priority) => Promise<WorkResult | void>;

export interface WorkQueueOptions {
  process: WorkFn;
  /** Keys processed at the same time (distinct keys only). */
  concurrency?: number;
  backoff?: Backoff | BackoffOptions;
  /** Told about each failure and when the key will be retried. */
  onError?: (key: string, error: unknown, retryInMs: number) => void;
}

export interface ShutdownResult {
  /** Items still running at the deadline, whose signals were aborted. */
  abandoned: number;
}

interface InFlight {
  controller: AbortController;
  done: Promise<void>;
}

export class WorkQueue {
  private readonly process: WorkFn;
  private readonly concurrency: number;
  private readonly backoff: Backoff;
  private readonly onError: WorkQueueOptions['onError'];
  /** Waiting keys in arrival order; a Set so a key waits at most once. */
  private readonly waiting = new Set<string>();
  /** Waiting resync keys, taken only when `waiting` is empty; never also in `waiting`. */
  private readonly resyncs = new Set<string>();
  private readonly processing = new Map<string, InFlight>();
  /** Keys added while processing, with their priority: they wait again when that run ends. */
  private readonly dirty = new Map<string, Priority>();
  private readonly delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly idleWaiters: (() => void)[] = [];
  private stopping = false;

  constructor(opts: WorkQueueOptions) {
    this.process = opts.process;
    this.concurrency = Math.max(1, Math.floor(opts.concurrency ?? 1));
    this.backoff = opts.backoff instanceof Backoff ? opts.backoff : new Backoff(opts.backoff);
    this.onError = opts.onError;
  }

  /** Keys waiting to run (including dirty keys waiting behind their own run); not delayed ones. */
  get depth(): number {
    return this.waiting.size + this.resyncs.size + this.dirty.size;
  }

  get inFlight(): number {
    return this.processing.size;
  }

  get shuttingDown(): boolean {
    return this.stopping;
  }

  /** An event for a key already waiting as a resync moves it up; a resync never moves a key down. */
  add(key: string, priority: Priority = 'event'): void {
    if (this.stopping) return;
    if (this.processing.has(key)) {
      if (priority === 'event' || !this.dirty.has(key)) this.dirty.set(key, priority);
    } else if (priority === 'event') {
      this.resyncs.delete(key);
      this.waiting.add(key);
    } else if (!this.waiting.has(key)) this.resyncs.add(key);
    this.pump();
  }

  /** Adds `key` after `ms`; an earlier pending addAfter of the same key wins over a later one. */
  addAfter(key: string, ms: number): void {
    if (this.stopping) return;
    if (!(ms > 0)) {
      this.add(key);
      return;
    }
    const at = Date.now() + ms;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    // A queue left behind must not keep the process alive; the bus subscription does that.
    timer.unref();
    this.delayed.set(key, { at, timer });
  }

  /** Drops a key's backoff history and pending delayed add (the object is gone). */
  forget(key: string): void {
    this.backoff.reset(key);
    const pending = this.delayed.get(key);
    if (pending) clearTimeout(pending.timer);
    this.delayed.delete(key);
  }

  /** Failures of `key` since its last success. */
  failures(key: string): number {
    return this.backoff.attempts(key);
  }

  /** Resolves when nothing is waiting or running (delayed keys may still be pending). */
  idle(): Promise<void> {
    if (this.depth === 0 && this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops taking work: waiting and delayed keys are dropped, in-flight items get until
   * `deadlineMs` to finish, then their signals are aborted and they get `graceMs` more to
   * unwind (release leases) before this resolves.
   */
  async shutdown(deadlineMs: number, graceMs = 1_000): Promise<ShutdownResult> {
    this.stopping = true;
    this.waiting.clear();
    this.resyncs.clear();
    this.dirty.clear();
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    const running = (): Promise<unknown> => Promise.allSettled([...this.processing.values()].map((f) => f.done));
    if (this.processing.size > 0) await withTimeout(running(), deadlineMs);
    const abandoned = this.processing.size;
    if (abandoned > 0) {
      for (const f of this.processing.values()) f.controller.abort(new Error('work queue shut down'));
      await withTimeout(running(), graceMs);
    }
    this.notifyIdle();
    return { abandoned };
  }

  private pump(): void {
    while (!this.stopping && this.processing.size < this.concurrency && this.waiting.size + this.resyncs.size > 0) {
      const priority: Priority = this.waiting.size > 0 ? 'event' : 'resync';
      const from = priority === 'event' ? this.waiting : this.resyncs;
      const key = from.values().next().value as string;
      from.delete(key);
      const controller = new AbortController();
      const flight: InFlight = { controller, done: Promise.resolve() };
      this.processing.set(key, flight);
      flight.done = this.run(key, controller.signal, priority);
    }
  }

  private async run(key: string, signal: AbortSignal, priority: Priority): Promise<void> {
    // Yield once so `processing` holds the entry before the work function can re-add its key.
    await Promise.resolve();
    try {
      const result = await this.process(key, signal, priority);
      this.backoff.reset(key);
      if (result?.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
    } catch (error) {
      if (!this.stopping) {
        const delay = this.backoff.next(key);
        this.onError?.(key, error, delay);
        this.addAfter(key, delay);
      }
    } finally {
      this.processing.delete(key);
      const again = this.dirty.get(key);
      this.dirty.delete(key);
      if (again !== undefined && !this.stopping) (again === 'event' ? this.waiting : this.resyncs).add(key);
      this.pump();
      if (this.depth === 0 && this.processing.size === 0) this.notifyIdle();
    }
  }

  private notifyIdle(): void {
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}

async function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, ms))))]);
  clearTimeout(timer);
}
