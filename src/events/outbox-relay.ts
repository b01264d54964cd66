// The outbox relay (DESIGN §5): moves committed outbox rows onto the event bus, in seq order,
// at least once. Writers append outbox rows in the same transaction as the change, and this
// relay reads only committed rows, so an event is never published for a write that did not
// commit (CLS Backend published inside the transaction, before commit).
//
// One relay is active across all processes (lease `outbox-relay`). A row is marked sent only
// after the bus accepted it; a crash in between republishes it, and the NATS stream drops the
// duplicate by its eventId. A batch is published concurrently across clusters and in order
// within each; a bus error ends that cluster's chain and the row is retried after a backoff, so
// no row is ever skipped and per-cluster order holds.
import type { Logger } from 'pino';
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { Backoff } from '../util/backoff.ts';
import { contextOf, currentTraceparent, inSpan, SpanKind } from '../util/trace.ts';
import { runWhileLeader } from '../lease/leader.ts';
import type { LeaderTerm } from '../lease/leader.ts';
import type { ClusterEvent } from '../domain/index.ts';
import type { LeaseStore } from '../lease/port.ts';
import type { OutboxRow, OutboxStore } from '../store/port.ts';
import type { EventBus } from './port.ts';

export const RELAY_LEASE = 'outbox-relay';
export const LAG_METRIC = 'goman_outbox_lag_seconds';

export interface OutboxRelayOptions {
  store: OutboxStore;
  bus: Pick<EventBus, 'publish'>;
  leases: LeaseStore;
  /** This process's identity in the lease (unique per process). */
  owner: string;
  /** Poll interval when nobody pokes (default 1 s). */
  pollMs?: number;
  /**
   * After a round that found rows but not a full batch, wait this long before the next one even
   * if poked (default 0): under a burst, writes gather into fewer, larger rounds.
   */
  gatherMs?: number;
  /** Rows read, published and marked per round (default 500). */
  batch?: number;
  /** Sent rows are kept this long for watch resume (default 24 h). */
  retentionMs?: number;
  /** How often the leader prunes (default 60 s). */
  pruneEveryMs?: number;
  /** Lease time to live (default 15 s; renewed every ttl/3). */
  leaseTtlMs?: number;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Registers goman_outbox_lag_seconds here (one relay per registry). */
  metrics?: Registry;
}

export interface OutboxRelay {
  /** Publish now rather than at the next poll (call after a write in this process). */
  poke(): void;
  isLeader(): boolean;
  /** Age of the oldest row known unsent, in seconds (0 when caught up or not leading). */
  lagSeconds(): number;
  /** Stops publishing, releases the lease, unregisters the metric. */
  stop(): Promise<void>;
}

/** goman_outbox_lag_seconds on `registry`, read from `lagSeconds` at each scrape (one per registry). */
export function registerLagGauge(registry: Registry, lagSeconds: () => number): Gauge {
  return new Gauge({
    name: LAG_METRIC,
    help: 'Age of the oldest outbox row not yet published (0 when caught up or not the relay leader)',
    registers: [registry],
    collect() {
      this.set(lagSeconds());
    },
  });
}

/** The event as published: it carries the publish span's context, a child of the write's. */
function eventOf(row: OutboxRow): ClusterEvent {
  const { eventId, type, clusterId, name, provider, generation, at } = row;
  const traceparent = currentTraceparent();
  return { eventId, type, clusterId, name, provider, generation, at, ...(traceparent ? { traceparent } : {}) };
}

function publishRow(bus: Pick<EventBus, 'publish'>, row: OutboxRow): Promise<void> {
  const attributes = { 'goman.event.type': row.type, 'goman.cluster.id': row.clusterId, 'goman.outbox.seq': row.seq };
  return inSpan('outbox publish', { parent: contextOf(row.traceparent), kind: SpanKind.PRODUCER, attributes }, () => bus.publish(eventOf(row)));
}

export function startOutboxRelay(opts: OutboxRelayOptions): OutboxRelay {
  const { store, bus, logger } = opts;
  const pollMs = opts.pollMs ?? 1_000;
  const gatherMs = opts.gatherMs ?? 0;
  const batch = opts.batch ?? 500;
  const retentionMs = opts.retentionMs ?? 24 * 3_600_000;
  const pruneEveryMs = opts.pruneEveryMs ?? 60_000;
  const backoff = new Backoff({ baseMs: 100, maxMs: 5_000 });

  // Time of the oldest row known unsent, null when caught up (or not leading: only the
  // leader knows, so alert on the max over replicas).
  let oldestUnsentAt: number | null = null;
  const lagSeconds = (): number => (oldestUnsentAt === null ? 0 : Math.max(0, (Date.now() - oldestUnsentAt) / 1_000));
  const gauge = opts.metrics ? registerLagGauge(opts.metrics, lagSeconds) : null;

  let poked = false;
  let wake: (() => void) | null = null;

  function pause(ms: number, signal: AbortSignal, wakeOnPoke: boolean): Promise<void> {
    if (signal.aborted || (wakeOnPoke && poked)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        if (wake === done) wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      if (wakeOnPoke) wake = done;
    });
  }

  // A round does not wait for the database to record the previous one: its mark runs while the
  // next round reads and publishes (one mark at a time, in order). Under a burst that wait was a
  // third of an event's latency. The next read skips rows whose mark is in flight. A failed mark
  // is reported by the following round, which backs off; its rows, still unsent, are published
  // again, and the stream drops the duplicates by eventId, as after a crash between the two.
  const beingMarked = new Set<number>();
  let marked: Promise<void> = Promise.resolve();
  let markFailure: Error | undefined;

  function markSent(seqs: number[]): void {
    for (const seq of seqs) beingMarked.add(seq);
    marked = marked
      .then(() => store.markOutboxSent(seqs))
      .catch((err: unknown) => {
        markFailure ??= err instanceof Error ? err : new Error(String(err));
      })
      .finally(() => {
        for (const seq of seqs) beingMarked.delete(seq);
      });
  }

  /**
   * Publishes one batch with every publish in flight at once (JetStream pipelines them on one
   * connection and acks them asynchronously), except that the rows of one cluster go one after
   * the other: a cluster's next row is sent only once the bus accepted the previous one, so a
   * failure can never let a later event of a cluster overtake an earlier one. A failed row ends
   * its cluster's chain for this round; the others go on. Everything accepted is marked sent in
   * one statement (see markSent), then a failure is rethrown so the round backs off and starts
   * again from the first unmarked row.
   */
  async function relayBatch(signal: AbortSignal): Promise<number> {
    if (markFailure !== undefined) {
      const err = markFailure;
      markFailure = undefined;
      throw err;
    }
    const rows = await store.readUnsentOutbox(batch, [...beingMarked]);
    const first = rows[0];
    oldestUnsentAt = first === undefined ? null : Date.parse(first.at);
    const perCluster = new Map<string, OutboxRow[]>();
    for (const row of rows) {
      const chain = perCluster.get(row.clusterId);
      if (chain === undefined) perCluster.set(row.clusterId, [row]);
      else chain.push(row);
    }
    const published: number[] = [];
    const failures: unknown[] = [];
    await Promise.all(
      [...perCluster.values()].map(async (chain) => {
        for (const row of chain) {
          // A deposed relay stops at once; the new leader starts from the first unmarked row.
          if (signal.aborted) return;
          try {
            await publishRow(bus, row);
          } catch (err) {
            failures.push(err);
            return;
          }
          published.push(row.seq);
        }
      }),
    );
    if (published.length > 0) markSent(published);
    if (failures.length > 0) throw failures[0];
    if (published.length === rows.length && rows.length < batch) oldestUnsentAt = null;
    return rows.length;
  }

  async function relayWhileLeader(term: LeaderTerm): Promise<void> {
    let lastPrune = 0;
    while (!term.signal.aborted) {
      poked = false;
      let read: number;
      try {
        if (Date.now() - lastPrune >= pruneEveryMs) {
          await store.pruneOutbox(new Date(Date.now() - retentionMs));
          lastPrune = Date.now();
        }
        read = await relayBatch(term.signal);
        backoff.reset(RELAY_LEASE);
      } catch (err) {
        const delay = backoff.next(RELAY_LEASE);
        logger?.warn({ err, retryInMs: Math.round(delay) }, 'outbox relay could not publish; retrying');
        await pause(delay, term.signal, false);
        continue;
      }
      // A full batch means more is waiting: go again without sleeping.
      if (read > 0 && read < batch && gatherMs > 0) await pause(gatherMs, term.signal, false);
      if (read < batch) await pause(pollMs, term.signal, true);
    }
    // Stopping (or a new leader) must not find this term's marks still to come.
    await marked;
    oldestUnsentAt = null;
  }

  const leader = runWhileLeader({
    leases: opts.leases,
    name: RELAY_LEASE,
    owner: opts.owner,
    ttlMs: opts.leaseTtlMs ?? 15_000,
    ...(logger ? { logger } : {}),
    onElected: relayWhileLeader,
  });

  return {
    poke() {
      poked = true;
      wake?.();
    },
    isLeader: () => leader.isLeader(),
    lagSeconds,
    async stop() {
      await leader.stop();
      if (gauge !== null) opts.metrics?.removeSingleMetric(LAG_METRIC);
    },
  };
}
