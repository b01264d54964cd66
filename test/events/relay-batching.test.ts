// The outbox relay publishes a batch concurrently across clusters, one after the other within
// a cluster, and marks what the bus accepted in one statement. These tests hold it to the two
// promises batching could break: at-least-once delivery and each cluster's order. Stores and
// buses are real; the relay's "crash" is a store wrapper whose mark never lands (a real process
// death cannot be timed to fall between publish and mark), and the bus restart is a real
// nats-server stopped and started while the batch is in flight.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { createMemoryBus } from '../../src/events/memory-bus.ts';
import { createNatsBus } from '../../src/events/nats-bus.ts';
import { decodeEvent } from '../../src/events/wire.ts';
import { startOutboxRelay } from '../../src/events/outbox-relay.ts';
import type { OutboxRelayOptions } from '../../src/events/outbox-relay.ts';
import type { EventBus } from '../../src/events/port.ts';
import type { ClusterEvent } from '../../src/domain/index.ts';
import type { ClusterStore, OutboxRow } from '../../src/store/port.ts';
import { consistently, eventually } from '../helpers/eventually.ts';
import { privateNatsServer } from '../helpers/nats-server.ts';
import { uniq } from './helpers.ts';
import { BACKENDS, createCluster } from './stores.ts';

/** `clusters` clusters with `events` outbox rows each, interleaved across clusters by seq. */
async function interleavedRows(store: ClusterStore, clusters: number, events: number): Promise<OutboxRow[]> {
  const created = [];
  for (let i = 0; i < clusters; i++) created.push(await createCluster(store));
  for (let round = 1; round < events; round++) {
    for (const c of created) await store.updateCluster(c.id, { labels: { round: String(round) } });
  }
  const rows = await store.readOutboxSince(0, 100_000);
  assert.equal(rows.length, clusters * events);
  return rows;
}

/** Every row delivered at least once, and in each cluster the first deliveries follow seq order. */
function assertDeliveredInClusterOrder(delivered: readonly string[], rows: readonly OutboxRow[]): void {
  const byId = new Map(rows.map((r) => [r.eventId, r]));
  const seen = new Set<string>();
  const lastSeq = new Map<string, number>();
  for (const id of delivered) {
    if (seen.has(id)) continue;
    seen.add(id);
    const row = byId.get(id);
    assert.ok(row, `delivered an event that is not an outbox row: ${id}`);
    const before = lastSeq.get(row.clusterId) ?? 0;
    assert.ok(row.seq > before, `cluster ${row.clusterId}: row ${row.seq} delivered after row ${before}`);
    lastSeq.set(row.clusterId, row.seq);
  }
  const missing = rows.filter((r) => !seen.has(r.eventId)).map((r) => r.seq);
  assert.deepEqual(missing, [], 'rows never delivered');
}

/** The event ids in the stream, in stream order (an ordered consumer from the first message). */
async function streamInOrder(url: string, stream: string): Promise<string[]> {
  const nc = await connect({ servers: url });
  try {
    const last = (await (await jetstreamManager(nc)).streams.info(stream)).state.last_seq;
    const ids: string[] = [];
    const messages = await (await jetstream(nc).consumers.get(stream)).consume();
    for await (const m of messages) {
      const event = decodeEvent(m.string());
      assert.ok(event, `stream message ${m.info.streamSequence} is not a cluster event`);
      ids.push(event.eventId);
      if (m.info.streamSequence >= last) break;
    }
    return ids;
  } finally {
    await nc.close();
  }
}

/** The relay's view of `store`, its marks made by `mark` (a crash, a stall, a recorder). */
function marking(store: ClusterStore, mark: OutboxRelayOptions['store']['markOutboxSent']): OutboxRelayOptions['store'] {
  return { readUnsentOutbox: (limit, excluding) => store.readUnsentOutbox(limit, excluding), pruneOutbox: (before) => store.pruneOutbox(before), markOutboxSent: mark };
}

/** The relay's view of `store`, with every mark's seqs recorded in `marked`. */
function recordingMarks(store: ClusterStore): { watched: OutboxRelayOptions['store']; marked: number[][] } {
  const marked: number[][] = [];
  const watched = marking(store, async (seqs) => {
    marked.push([...seqs]);
    await store.markOutboxSent(seqs);
  });
  return { watched, marked };
}

function relay(store: OutboxRelayOptions['store'], leases: ClusterStore, bus: Pick<EventBus, 'publish'>, batch: number) {
  return startOutboxRelay({ store, bus, leases, owner: `relay-${uniq()}`, pollMs: 20, batch, leaseTtlMs: 3_000 });
}

for (const backend of BACKENDS) {
  async function withStore(t: TestContext, body: (store: ClusterStore) => Promise<void>): Promise<void> {
    const s = await backend.make(t);
    if (s === null) return;
    try {
      await body(await s.open());
    } finally {
      await s.cleanup();
    }
  }

  test(`relay batching (${backend.label}): a crash between publish and mark loses nothing and keeps each cluster's order`, (t) =>
    withStore(t, async (store) => {
      const rows = await interleavedRows(store, 20, 3);
      const bus = createMemoryBus({ concurrency: 1 });
      const delivered: string[] = [];
      await bus.subscribe('ctl-crash', async (e) => void delivered.push(e.eventId));
      // The first relay marks its first batch, publishes the second whole, and dies at its mark.
      let marks = 0;
      let died = false;
      const dying = marking(store, async (seqs) => {
        if (++marks === 1) return store.markOutboxSent(seqs);
        died = true;
        throw new Error('process died');
      });
      const first = relay(dying, store, bus, 25);
      try {
        await eventually('the first relay died at its second mark', () => died);
      } finally {
        await first.stop();
      }
      assert.equal((await store.readUnsentOutbox(100)).length, 35, 'only the first batch was marked');
      assert.ok(delivered.length >= 50, 'the second batch was published before the crash');

      const second = relay(store, store, bus, 25);
      try {
        await eventually('the second relay caught up', async () => (await store.readUnsentOutbox(1)).length === 0);
        await eventually('every row delivered', () => new Set(delivered).size === rows.length);
        assertDeliveredInClusterOrder(delivered, rows);
      } finally {
        await second.stop();
        await bus.close();
      }
    }));

  test(`relay batching (${backend.label}): a failed publish holds back only its own cluster's later rows; one mark per round`, (t) =>
    withStore(t, async (store) => {
      const rows = await interleavedRows(store, 10, 3);
      // The second row of one cluster is refused once, as a bus outage for that one message would.
      const victim = rows.filter((r) => r.clusterId === rows[0]!.clusterId);
      const refused = victim[1]!.eventId;
      let refusedOnce = false;
      const accepted: ClusterEvent[] = [];
      const bus: Pick<EventBus, 'publish'> = {
        publish: async (e) => {
          if (e.eventId === refused && !refusedOnce) {
            refusedOnce = true;
            throw new Error('bus refused');
          }
          accepted.push(e);
        },
      };
      const { watched, marked } = recordingMarks(store);
      const r = relay(watched, store, bus, 100);
      try {
        await eventually('every row sent', async () => (await store.readUnsentOutbox(1)).length === 0);
      } finally {
        await r.stop();
      }
      const held = new Set([victim[1]!.seq, victim[2]!.seq]);
      assert.deepEqual(marked[0]?.length, rows.length - 2, 'the first round marked everything but the held rows, in one call');
      assert.deepEqual(new Set(marked[1]), held, 'the next round sent the held rows');
      const firstRetry = accepted.findIndex((e) => e.eventId === refused);
      assert.equal(firstRetry, rows.length - 2, 'every other cluster went ahead of the retried row');
      assertDeliveredInClusterOrder(accepted.map((e) => e.eventId), rows);
    }));

  test(`relay batching (${backend.label}): with gatherMs, writes poked in right after a round wait for one round of their own`, (t) =>
    withStore(t, async (store) => {
      const bus = createMemoryBus({ concurrency: 1 });
      const delivered: string[] = [];
      await bus.subscribe('ctl-gather', async (e) => void delivered.push(e.eventId));
      const { watched, marked } = recordingMarks(store);
      // A long poll, so only pokes start rounds; a gather pause far longer than 5 writes take.
      const r = startOutboxRelay({ store: watched, bus, leases: store, owner: `relay-${uniq()}`, pollMs: 60_000, gatherMs: 3_000, batch: 100, leaseTtlMs: 3_000 });
      try {
        await createCluster(store);
        r.poke();
        await eventually('the first write published', () => delivered.length === 1);
        for (let i = 0; i < 5; i++) {
          await createCluster(store);
          r.poke();
        }
        await eventually('the next five published', () => delivered.length === 6, { timeoutMs: 10_000 });
        assert.deepEqual(marked.map((m) => m.length), [1, 5], 'one round for the first write, one for the five poked during the pause');
      } finally {
        await r.stop();
        await bus.close();
      }
    }));

  test(`relay batching (${backend.label}): a round does not wait for the bus to acknowledge the one before; a cluster's next row waits for its previous one`, (t) =>
    withStore(t, async (store) => {
      const slow = await createCluster(store);
      // The bus takes every event at once except the slow cluster's first, whose ack waits for the test.
      let ackSlow: () => void = () => undefined;
      const slowAck = new Promise<void>((resolve) => (ackSlow = resolve));
      const accepted: string[] = [];
      let slowSent = false;
      const bus: Pick<EventBus, 'publish'> = {
        publish: async (e) => {
          if (e.clusterId === slow.id && !slowSent) {
            slowSent = true;
            await slowAck;
          }
          accepted.push(e.clusterId);
        },
      };
      const { watched, marked } = recordingMarks(store);
      const r = startOutboxRelay({ store: watched, bus, leases: store, owner: `relay-${uniq()}`, pollMs: 60_000, batch: 100, leaseTtlMs: 3_000 });
      try {
        r.poke();
        await eventually('the slow row is in flight', () => slowSent);
        // Written while the first round still waits for its ack: the slow cluster's second row, and a new cluster.
        await store.updateCluster(slow.id, { labels: { second: 'yes' } });
        const other = await createCluster(store);
        r.poke();
        await eventually('the new cluster published while the first round is unacknowledged', () => accepted.includes(other.id));
        await consistently("the slow cluster's second row waits for its first", () => !accepted.includes(slow.id), { timeoutMs: 200 });
        ackSlow();
        await eventually('both rows of the slow cluster published', () => accepted.filter((id) => id === slow.id).length === 2);
        await eventually('everything marked', async () => (await store.readUnsentOutbox(10)).length === 0);
        assert.deepEqual(marked.flat().sort((a, b) => a - b), (await store.readOutboxSince(0, 10)).map((row) => row.seq), 'each row marked once');
      } finally {
        ackSlow();
        await r.stop();
      }
    }));

  test(`relay batching (${backend.label}): the next round is published while a mark is still running; a failed mark republishes its rows`, (t) =>
    withStore(t, async (store) => {
      const rows = await interleavedRows(store, 10, 3);
      const bus = createMemoryBus({ concurrency: 1 });
      const delivered: string[] = [];
      await bus.subscribe('ctl-slow-mark', async (e) => void delivered.push(e.eventId));
      // The first mark hangs until the test fails it, as a database stalled mid-statement would.
      let failFirstMark: (err: Error) => void = () => undefined;
      const firstMark = new Promise<void>((_, reject) => (failFirstMark = reject));
      let marks = 0;
      const stalled = marking(store, async (seqs) => (++marks === 1 ? firstMark : store.markOutboxSent(seqs)));
      const r = relay(stalled, store, bus, 10);
      try {
        await eventually('all three rounds published behind the stalled first mark', () => new Set(delivered).size === rows.length);
        assert.equal(marks, 1, 'later marks wait for the first, in order');
        failFirstMark(new Error('connection lost'));
        await eventually('the first round published again and marked', async () => (await store.readUnsentOutbox(1)).length === 0);
        const counts = new Map<string, number>();
        for (const id of delivered) counts.set(id, (counts.get(id) ?? 0) + 1);
        const firstRound = new Set(rows.slice(0, 10).map((row) => row.eventId));
        for (const row of rows) assert.equal(counts.get(row.eventId), firstRound.has(row.eventId) ? 2 : 1, `deliveries of row ${row.seq}`);
        assertDeliveredInClusterOrder(delivered, rows);
      } finally {
        await r.stop();
        await bus.close();
      }
    }));
}

test('relay batching (postgres + NATS): the bus restarts in the middle of a batch — every row delivered, each cluster in order', async (t) => {
  const server = await privateNatsServer(t);
  if (server === null) return;
  const s = await BACKENDS.find((b) => b.label === 'postgres')?.make(t);
  if (!s) {
    await server.dispose();
    return;
  }
  const stream = `GOMAN_T_${uniq()}`;
  const bus = await createNatsBus({ url: server.url, stream, subjectPrefix: stream.toLowerCase(), concurrency: 1, publishDeadlineMs: 30_000 });
  try {
    const store = await s.open();
    const rows = await interleavedRows(store, 100, 3);
    const delivered: string[] = [];
    await bus.subscribe('ctl-restart', async (e) => void delivered.push(e.eventId));

    // Once a third of the batch has been handed to the bus, the server goes down and comes back.
    let calls = 0;
    let acked = 0;
    const outage: { restarted?: Promise<void> } = {};
    let ackedAtStop = -1;
    const counting: Pick<EventBus, 'publish'> = {
      publish: async (e) => {
        if (++calls === 100) {
          ackedAtStop = acked;
          outage.restarted = server.stop().then(() => server.start());
        }
        await bus.publish(e);
        acked++;
      },
    };
    const r = relay(store, store, counting, rows.length);
    try {
      await eventually('the restart began', () => outage.restarted !== undefined);
      await outage.restarted;
      assert.ok(ackedAtStop < rows.length, 'the server stopped before the batch was acknowledged');
      await eventually('every row marked sent', async () => (await store.readUnsentOutbox(1)).length === 0, { timeoutMs: 40_000 });
      await eventually('every row delivered', () => new Set(delivered).size >= rows.length, { timeoutMs: 40_000 });
      // The relay's promise is the stream's order. A consumer may see an event redelivered
      // after later ones (JetStream redelivers what was in flight at the restart once its ack
      // wait ends); controllers are level-triggered, so that is harmless by design.
      assertDeliveredInClusterOrder(await streamInOrder(server.url, stream), rows);
    } finally {
      await r.stop();
    }
  } finally {
    await bus.close();
    const nc = await connect({ servers: server.url }).catch(() => null);
    if (nc) {
      await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
      await nc.close();
    }
    await server.dispose();
    await s.cleanup();
  }
});
