// The in-process event bus of the embedded topology (DESIGN §1): the same delivery contract
// as the NATS bus, for the life of one process. What survives a restart is the outbox and the
// scheduler, which re-enqueues every cluster, not this bus.
//
// Bound: each consumer's pending queue keeps every event up to `maxQueued`. Past that it keeps
// at most one pending event per cluster: a new event for a cluster that already has one
// waiting is folded into it. That loses nothing for level-triggered consumers (the waiting
// event makes the handler read the cluster later than the change), and caps the queue at the
// number of clusters. Nothing is dropped otherwise.
import type { Logger } from 'pino';
import { GomanError } from '../domain/index.ts';
import type { ClusterEvent } from '../domain/index.ts';
import type { EventBus, Subscription } from './port.ts';
import { assertConsumerName } from './wire.ts';

export interface MemoryBusOptions {
  /** Handlers of one subscription running at once (default 16; 1 keeps per-cluster order). */
  concurrency?: number;
  /** Wait before a rejected event is offered again (default 250 ms). */
  redeliveryDelayMs?: number;
  /** Pending events per consumer before per-cluster folding starts (default 10 000). */
  maxQueued?: number;
  logger?: Pick<Logger, 'warn' | 'error'>;
}

export interface MemoryBusStats {
  /** Pending (not yet handed to a handler) events per consumer name. */
  pending: Record<string, number>;
  /** Events folded into an already-pending event for the same cluster, in all. */
  folded: number;
}

/** FIFO of pending events that knows, per cluster, whether one is already waiting. */
class PendingQueue {
  private readonly items: ClusterEvent[] = [];
  private readonly perCluster = new Map<string, number>();

  get size(): number {
    return this.items.length;
  }

  /** False when the event was folded into a pending one for the same cluster. */
  push(event: ClusterEvent, maxQueued: number): boolean {
    if (this.items.length >= maxQueued && (this.perCluster.get(event.clusterId) ?? 0) > 0) return false;
    this.items.push(event);
    this.count(event, 1);
    return true;
  }

  /** Back to the front: a redelivery goes before what arrived after it. */
  unshift(event: ClusterEvent): void {
    this.items.unshift(event);
    this.count(event, 1);
  }

  shift(): ClusterEvent | undefined {
    const event = this.items.shift();
    if (event !== undefined) this.count(event, -1);
    return event;
  }

  copy(): PendingQueue {
    const q = new PendingQueue();
    for (const e of this.items) q.push(e, Number.POSITIVE_INFINITY);
    return q;
  }

  private count(event: ClusterEvent, delta: number): void {
    const n = (this.perCluster.get(event.clusterId) ?? 0) + delta;
    if (n === 0) this.perCluster.delete(event.clusterId);
    else this.perCluster.set(event.clusterId, n);
  }
}

interface Subscriber {
  handler: (event: ClusterEvent) => Promise<void>;
  inFlight: number;
  closed: boolean;
  onIdle: (() => void)[];
}

interface ConsumerGroup {
  queue: PendingQueue;
  subscribers: Subscriber[];
  next: number;
}

export function createMemoryBus(opts: MemoryBusOptions = {}): EventBus & { stats(): MemoryBusStats } {
  const concurrency = opts.concurrency ?? 16;
  const redeliveryDelayMs = opts.redeliveryDelayMs ?? 250;
  const maxQueued = opts.maxQueued ?? 10_000;
  if (!(concurrency >= 1)) throw new RangeError('concurrency must be at least 1');
  const logger = opts.logger;

  const groups = new Map<string, ConsumerGroup>();
  // Everything published since the bus was created, for consumer names not yet seen.
  const backlog = new PendingQueue();
  const taps = new Set<(event: ClusterEvent) => void>();
  const timers = new Set<NodeJS.Timeout>();
  let folded = 0;
  let closed = false;

  function assertOpen(): void {
    if (closed) throw new GomanError('UNAVAILABLE', 'event bus is closed');
  }

  function enqueue(queue: PendingQueue, event: ClusterEvent): void {
    if (!queue.push(event, maxQueued)) folded++;
  }

  function pickSubscriber(group: ConsumerGroup): Subscriber | undefined {
    const n = group.subscribers.length;
    for (let i = 0; i < n; i++) {
      const sub = group.subscribers[(group.next + i) % n];
      if (sub !== undefined && sub.inFlight < concurrency) {
        group.next = (group.next + i + 1) % n;
        return sub;
      }
    }
    return undefined;
  }

  function pump(group: ConsumerGroup): void {
    while (!closed && group.queue.size > 0) {
      const sub = pickSubscriber(group);
      if (sub === undefined) return;
      const event = group.queue.shift();
      if (event === undefined) return;
      deliver(group, sub, event);
    }
  }

  function deliver(group: ConsumerGroup, sub: Subscriber, event: ClusterEvent): void {
    sub.inFlight++;
    // A handler that throws synchronously is a rejection too.
    Promise.resolve()
      .then(() => sub.handler(event))
      .catch((err: unknown) => {
        logger?.warn({ err, eventId: event.eventId }, 'event handler rejected; redelivering');
        const timer = setTimeout(() => {
          timers.delete(timer);
          group.queue.unshift(event);
          pump(group);
        }, redeliveryDelayMs);
        timers.add(timer);
      })
      .finally(() => {
        sub.inFlight--;
        if (sub.inFlight === 0) for (const resolve of sub.onIdle.splice(0)) resolve();
        pump(group);
      });
  }

  function groupFor(consumer: string): ConsumerGroup {
    let group = groups.get(consumer);
    if (group === undefined) {
      group = { queue: backlog.copy(), subscribers: [], next: 0 };
      groups.set(consumer, group);
    }
    return group;
  }

  return {
    kind: 'memory',

    async publish(event) {
      assertOpen();
      enqueue(backlog, event);
      for (const group of groups.values()) {
        enqueue(group.queue, event);
        pump(group);
      }
      for (const tap of taps) {
        try {
          tap(event);
        } catch (err) {
          logger?.error({ err }, 'event tap threw; ignored');
        }
      }
    },

    async subscribe(consumer, handler) {
      assertOpen();
      assertConsumerName(consumer);
      const group = groupFor(consumer);
      const sub: Subscriber = { handler, inFlight: 0, closed: false, onIdle: [] };
      group.subscribers.push(sub);
      pump(group);
      return {
        close: async () => {
          if (!sub.closed) {
            sub.closed = true;
            group.subscribers = group.subscribers.filter((s) => s !== sub);
          }
          if (sub.inFlight > 0) await new Promise<void>((resolve) => sub.onIdle.push(resolve));
        },
      } satisfies Subscription;
    },

    async tap(handler) {
      assertOpen();
      // Each tap is its own entry, so tapping twice with one function gives two taps.
      const entry = (event: ClusterEvent): void => handler(event);
      taps.add(entry);
      return {
        close: async () => {
          taps.delete(entry);
        },
      };
    },

    async ping() {
      assertOpen();
    },

    async close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      taps.clear();
    },

    stats() {
      const pending: Record<string, number> = {};
      for (const [name, group] of groups) pending[name] = group.queue.size;
      return { pending, folded };
    },
  };
}
