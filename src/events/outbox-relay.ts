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

  // Every row read and not yet marked sent, with its time: the next read skips them. With the
  // time of the oldest row the bus did not take (until it is read again), they give the lag;
  // only the leader knows it, so alert on the max over replicas.
  const inFlight = new Map<number, number>();
  let heldSince = Infinity;
  const lagSeconds = (): number => {
    let oldest = heldSince;
    for (const at of inFlight.values()) oldest = Math.min(oldest, at);
    return oldest === Infinity ? 0 : Math.max(0, (Date.now() - oldest) / 1_000);
  };
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

  // Rounds overlap: once a round's publishes are sent, the next round reads and publishes while
  // the bus acknowledges them, and a round's mark runs while later rounds go on (one mark at a
  // time, in order). Under a burst, waiting for the acks and then the mark was a third of an
  // event's latency. A cluster's rows still go one after the other across rounds: each waits
  // for its cluster's previous row (`tails`). A failed publish blocks its cluster's later rows
  // until the relay has drained, backed off and read again from the first unmarked row; a failed
  // mark leaves its rows unsent, to be published again (the stream drops the duplicates by
  // eventId), as after a crash between the two.
  const tails = new Map<string, Promise<boolean>>();
  const blocked = new Set<string>();
  const rounds = new Set<Promise<void>>();
  let marked: Promise<void> = Promise.resolve();
  let failure: { error: Error } | undefined;
  const fail = (err: unknown): void => {
    failure ??= { error: err instanceof Error ? err : new Error(String(err)) };
  };

  function markSent(seqs: number[]): void {
    marked = marked
      .then(() => store.markOutboxSent(seqs))
      .catch(fail)
      .finally(() => {
        for (const seq of seqs) inFlight.delete(seq);
      });
  }

  /** Publishes `row` once its cluster's previous row was accepted; false if it was not sent. */
  function chain(row: OutboxRow, signal: AbortSignal): Promise<boolean> {
    const previous = tails.get(row.clusterId) ?? Promise.resolve(true);
    const tail = previous.then(async (accepted) => {
      // A deposed relay stops at once; the new leader starts from the first unmarked row.
      if (!accepted || signal.aborted || blocked.has(row.clusterId)) return false;
      try {
        await publishRow(bus, row);
        return true;
      } catch (err) {
        blocked.add(row.clusterId);
        fail(err);
        return false;
      }
    });
    tails.set(row.clusterId, tail);
    void tail.then(() => {
      if (tails.get(row.clusterId) === tail) tails.delete(row.clusterId);
    });
    return tail;
  }

  /** Waits for every round's publishes and marks, and forgets the failures they blocked on. */
  async function drain(): Promise<void> {
    while (rounds.size > 0) await Promise.all(rounds);
    await marked;
    blocked.clear();
  }

  /**
   * Reads up to `batch` unsent rows not already in flight and sends them all at once (JetStream
   * pipelines the publishes on one connection and acknowledges them asynchronously), each after
   * its cluster's previous row. When they are all settled, what the bus accepted is marked sent
   * in one statement and the rest, no longer in flight, is read again by a later round. Returns
   * the rows read, without waiting for the bus; at most `batch` rows are in flight at once.
   */
  async function relayBatch(signal: AbortSignal): Promise<number> {
    if (failure !== undefined) {
      const { error } = failure;
      await drain();
      failure = undefined;
      throw error;
    }
    while (inFlight.size >= batch && rounds.size > 0) await Promise.race(rounds);
    const rows = await store.readUnsentOutbox(batch, [...inFlight.keys()]);
    heldSince = Infinity;
    for (const row of rows) inFlight.set(row.seq, Date.parse(row.at));
    const sent = rows.map((row) => chain(row, signal));
    const round = Promise.all(sent).then((accepted) => {
      const published = rows.filter((_, i) => accepted[i]).map((row) => row.seq);
      for (const [i, row] of rows.entries()) {
        if (accepted[i]) continue;
        heldSince = Math.min(heldSince, inFlight.get(row.seq) ?? Infinity);
        inFlight.delete(row.seq);
      }
      if (published.length > 0) markSent(published);
    });
    rounds.add(round);
    void round.then(() => rounds.delete(round));
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
      // A full batch means more is waiting: go again without sleeping. With `gatherMs`, a round
      // that found rows is followed by the next one after that pause, poked or not: under a
      // burst the API thread that pokes is busy too, and its pokes come late.
      if (read === batch) continue;
      if (read > 0 && gatherMs > 0) await pause(gatherMs, term.signal, false);
      else await pause(pollMs, term.signal, true);
    }
    // Stopping (or a new leader) must not find this term's publishes or marks still to come.
    await drain();
    inFlight.clear();
    heldSince = Infinity;
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
