// The outbox relay against real stores (SQLite, PostgreSQL) and real buses. Where a failure
// has to strike at one exact point (the bus refusing, the process dying between publish and
// mark), a thin wrapper around the real bus or store injects it: a real outage cannot be
// timed to fall between two particular calls. The NATS restart itself is in nats-bus.test.ts.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import pg from 'pg';
import { Registry } from 'prom-client';
import { createMemoryBus } from '../../src/events/memory-bus.ts';
import { createNatsBus } from '../../src/events/nats-bus.ts';
import { startOutboxRelay } from '../../src/events/outbox-relay.ts';
import type { OutboxRelay, OutboxRelayOptions } from '../../src/events/outbox-relay.ts';
import type { EventBus } from '../../src/events/port.ts';
import type { ClusterEvent } from '../../src/domain/index.ts';
import type { ClusterStore } from '../../src/store/port.ts';
import { NATS_URL, needPeer } from '../helpers/peers.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { consistently, eventually } from '../helpers/eventually.ts';
import { uniq } from './helpers.ts';
import { BACKENDS, createCluster } from './stores.ts';
import type { StoreUnderTest } from './stores.ts';

/** A real memory bus whose publish can be made to fail, and which counts what it accepted. */
function switchableBus(inner: EventBus = createMemoryBus({ concurrency: 1 })) {
  const state = { down: false, failAfter: Number.POSITIVE_INFINITY, accepted: [] as ClusterEvent[] };
  // Counted when the publish is made, not when it resolves: the relay has a batch in flight at once.
  let taken = 0;
  const bus: Pick<EventBus, 'publish'> = {
    publish: async (e) => {
      if (state.down || taken >= state.failAfter) throw new Error('bus unavailable');
      taken++;
      await inner.publish(e);
      state.accepted.push(e);
    },
  };
  return { bus, inner, state };
}

/** The store as a relay process sees it when it dies right after publishing: its marks never land. */
function dyingAtMark(store: ClusterStore, onDeath: () => void): OutboxRelayOptions['store'] {
  return {
    readUnsentOutbox: (limit, excluding) => store.readUnsentOutbox(limit, excluding),
    pruneOutbox: (before) => store.pruneOutbox(before),
    markOutboxSent: async () => {
      onDeath();
      throw new Error('process died');
    },
  };
}

function relay(store: OutboxRelayOptions['store'] & Partial<ClusterStore>, bus: Pick<EventBus, 'publish'>, over: Partial<OutboxRelayOptions> = {}): OutboxRelay {
  const leases = over.leases ?? (store as ClusterStore);
  return startOutboxRelay({ store, bus, leases, owner: `relay-${uniq()}`, pollMs: 50, batch: 10, leaseTtlMs: 3_000, ...over });
}

async function allRows(store: ClusterStore) {
  return store.readOutboxSince(0, 100_000);
}

for (const backend of BACKENDS) {
  async function withStore(t: TestContext, body: (s: StoreUnderTest) => Promise<void>): Promise<void> {
    const s = await backend.make(t);
    if (s === null) return;
    try {
      await body(s);
    } finally {
      await s.cleanup();
    }
  }

  test(`relay (${backend.label}): publishes every committed row once, each cluster's rows in seq order, and marks it sent`, (t) =>
    withStore(t, async (s) => {
      const store = await s.open();
      const bus = createMemoryBus({ concurrency: 1 });
      const got: string[] = [];
      await bus.subscribe('ctl-order', async (e) => {
        got.push(e.eventId);
      });
      for (let i = 0; i < 12; i++) {
        const c = await createCluster(store);
        await store.updateCluster(c.id, { labels: { n: String(i) } });
      }
      const r = relay(store, bus);
      try {
        const rows = await allRows(store);
        assert.equal(rows.length, 24);
        await eventually('every row delivered', () => got.length === rows.length);
        // Clusters are published side by side in a batch, so only each cluster's order is promised.
        const inClusterOrder = (ids: readonly string[]): string[][] =>
          [...new Set(rows.map((row) => row.clusterId))].map((c) => ids.filter((id) => rows.find((row) => row.eventId === id)?.clusterId === c));
        assert.deepEqual(inClusterOrder(got), inClusterOrder(rows.map((row) => row.eventId)));
        assert.equal(new Set(got).size, rows.length, 'each row once');
        await eventually('every row marked sent', async () => (await store.readUnsentOutbox(10)).length === 0);
      } finally {
        await r.stop();
        await bus.close();
      }
    }));

  test(`relay (${backend.label}): a failed write publishes nothing`, (t) =>
    withStore(t, async (s) => {
      const store = await s.open();
      const { bus, state } = switchableBus();
      const c = await createCluster(store);
      await assert.rejects(store.createCluster({ name: c.name, labels: {}, spec: c.spec, createdBy: 'test' }), { code: 'NAME_TAKEN' });
      const r = relay(store, bus);
      try {
        await eventually('the one committed row', async () => (await store.readUnsentOutbox(10)).length === 0);
        assert.deepEqual(state.accepted.map((e) => [e.type, e.clusterId]), [['cluster.created', c.id]]);
      } finally {
        await r.stop();
      }
    }));

  test(`relay (${backend.label}): a relay dying between publish and mark leaves the rows to be republished`, (t) =>
    withStore(t, async (s) => {
      const store = await s.open();
      const { bus, state } = switchableBus();
      for (let i = 0; i < 5; i++) await createCluster(store);
      // The first relay's process "dies" at markOutboxSent: its publishes happened, its marks never do.
      let died = false;
      const first = relay(dyingAtMark(store, () => (died = true)), bus, { owner: 'relay-first', leases: store });
      try {
        await eventually('first relay published and died', () => died);
      } finally {
        await first.stop();
      }
      const firstRound = state.accepted.length;
      assert.ok(firstRound >= 5);
      assert.equal((await store.readUnsentOutbox(10)).length, 5, 'nothing was marked');

      const second = relay(store, bus, { owner: 'relay-second' });
      try {
        await eventually('second relay caught up', async () => (await store.readUnsentOutbox(10)).length === 0);
        const ids = new Set(state.accepted.slice(firstRound).map((e) => e.eventId));
        for (const row of await allRows(store)) assert.ok(ids.has(row.eventId), 'every row republished (at least once)');
      } finally {
        await second.stop();
      }
    }));

  test(`relay (${backend.label}): two relays on one store — only the leader publishes`, (t) =>
    withStore(t, async (s) => {
      // Two processes on PostgreSQL; on SQLite (one process by design: node:sqlite waits for
      // locks synchronously) two relays share one connection and still only the lease decides.
      const storeA = await s.open();
      const storeB = backend.label === 'postgres' ? await s.open() : storeA;
      const inner = createMemoryBus();
      const a = switchableBus(inner);
      const b = switchableBus(inner);
      const ra = relay(storeA, a.bus, { owner: 'relay-a' });
      const rb = relay(storeB, b.bus, { owner: 'relay-b' });
      try {
        await eventually('a leader', () => ra.isLeader() || rb.isLeader());
        for (let i = 0; i < 15; i++) {
          await createCluster(i % 2 ? storeA : storeB);
          ra.poke();
          rb.poke();
        }
        await eventually('all rows sent', async () => (await storeA.readUnsentOutbox(10)).length === 0);
        assert.equal(ra.isLeader() && rb.isLeader(), false);
        const counts = [a.state.accepted.length, b.state.accepted.length].sort((x, y) => x - y);
        assert.deepEqual(counts, [0, 15], 'one relay published everything, the other nothing');
      } finally {
        await Promise.all([ra.stop(), rb.stop()]);
      }
    }));

  test(`relay (${backend.label}): bus down, then up — nothing lost, nothing skipped, order kept`, (t) =>
    withStore(t, async (s) => {
      const store = await s.open();
      const { bus, state } = switchableBus();
      const metrics = new Registry();
      state.failAfter = 3;
      const r = relay(store, bus, { metrics });
      try {
        for (let i = 0; i < 8; i++) await createCluster(store);
        r.poke();
        await eventually('three published before the outage', () => state.accepted.length === 3);
        await eventually('the three marked', async () => (await store.readUnsentOutbox(10)).length === 5);
        state.down = true;
        await consistently('no row skipped while the bus is down', async () => (await store.readUnsentOutbox(10)).length === 5, { timeoutMs: 300 });
        const lag = await metrics.getSingleMetric('goman_outbox_lag_seconds')?.get();
        assert.ok((lag?.values[0]?.value ?? 0) > 0, 'lag reported while rows wait');
        state.down = false;
        state.failAfter = Number.POSITIVE_INFINITY;
        await eventually('caught up after recovery', async () => (await store.readUnsentOutbox(10)).length === 0);
        assert.deepEqual(state.accepted.map((e) => e.eventId), (await allRows(store)).map((row) => row.eventId));
      } finally {
        await r.stop();
      }
    }));

  test(`relay (${backend.label}): poke publishes without waiting for the poll`, (t) =>
    withStore(t, async (s) => {
      const store = await s.open();
      const { bus, state } = switchableBus();
      const r = relay(store, bus, { pollMs: 3_600_000 });
      try {
        await eventually('leader', () => r.isLeader());
        await sleep(50); // let the round that follows election pass, so the poke is what publishes the next row
        const c = await createCluster(store);
        r.poke();
        await eventually('the poked row', () => state.accepted.some((e) => e.clusterId === c.id));
      } finally {
        await r.stop();
      }
    }));
}

test('relay (postgres): rows of an uncommitted transaction are never published', async (t) => {
  const s = await BACKENDS.find((b) => b.label === 'postgres')?.make(t);
  if (!s?.pgUrl) return;
  const store = await s.open();
  const { bus, state } = switchableBus();
  const client = new pg.Client({ connectionString: s.pgUrl });
  await client.connect();
  const r = relay(store, bus);
  try {
    const c = await createCluster(store);
    await eventually('the created event', () => state.accepted.length === 1);
    const pending = randomUUID();
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO outbox (event_id, type, cluster_id, name, provider, generation, at) VALUES ($1, 'cluster.updated', $2, $3, 'sim', 1, now())`,
      [pending, c.id, c.name],
    );
    r.poke();
    await consistently('an uncommitted row to stay unpublished', () => !state.accepted.some((e) => e.eventId === pending), { timeoutMs: 300 });
    await client.query('ROLLBACK');
    const later = await createCluster(store);
    await eventually('a later committed row', () => state.accepted.some((e) => e.clusterId === later.id));
    assert.ok(!state.accepted.some((e) => e.eventId === pending), 'a rolled-back row is never published');
  } finally {
    await r.stop();
    await client.end();
    await s.cleanup();
  }
});

test('relay (postgres + NATS): a republished row reaches each consumer once (dedup by eventId)', async (t) => {
  if (!(await needPeer(t, 'NATS', NATS_URL))) return;
  const s = await BACKENDS.find((b) => b.label === 'postgres')?.make(t);
  if (!s) return;
  const id = uniq();
  const bus = await createNatsBus({ url: NATS_URL, stream: `GOMAN_T_${id}`, subjectPrefix: `goman_t_${id}` });
  try {
    const store = await s.open();
    for (let i = 0; i < 4; i++) await createCluster(store);
    let died = false;
    const first = relay(dyingAtMark(store, () => (died = true)), bus, { owner: 'relay-first', leases: store });
    try {
      await eventually('first relay published and died', () => died);
    } finally {
      await first.stop();
    }
    const second = relay(store, bus, { owner: 'relay-second' });
    await eventually('caught up', async () => (await store.readUnsentOutbox(10)).length === 0);
    await second.stop();
    const seen: string[] = [];
    await bus.subscribe('ctl-dedup', async (e) => {
      seen.push(e.eventId);
    });
    const rows = await allRows(store);
    await eventually('every row', () => seen.length >= rows.length);
    await consistently('no row delivered twice', () => seen.length === rows.length, { timeoutMs: 200 });
    assert.deepEqual(seen, rows.map((row) => row.eventId));
  } finally {
    await bus.close();
    const { connect } = await import('@nats-io/transport-node');
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const nc = await connect({ servers: NATS_URL });
    await (await jetstreamManager(nc)).streams.delete(`GOMAN_T_${id}`).catch(() => false);
    await nc.close();
    await s.cleanup();
  }
});
