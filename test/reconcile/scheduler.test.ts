// The reconcile scheduler on real stores: one leader across replicas (CLS Backend ran one per
// replica), fencing of a deposed leader, claims in bounded batches of due rows only, and no
// reactive loop (a status write does not make the scheduler fire).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { createMemoryBus } from '../../src/events/memory-bus.ts';
import { startOutboxRelay } from '../../src/events/outbox-relay.ts';
import { startScheduler } from '../../src/reconcile/scheduler.ts';
import type { Scheduler, SchedulerOptions, TickInfo } from '../../src/reconcile/scheduler.ts';
import type { ClusterEvent } from '../../src/domain/index.ts';
import type { LeaseStore } from '../../src/lease/port.ts';
import type { ClusterStore } from '../../src/store/port.ts';
import { consistently, eventually } from '../helpers/eventually.ts';
import { uniq } from '../events/helpers.ts';
import { BACKENDS, createCluster } from '../events/stores.ts';
import type { StoreUnderTest } from '../events/stores.ts';

const HOUR = 3_600_000;

async function withBackend(label: 'sqlite' | 'postgres', t: TestContext, body: (s: StoreUnderTest) => Promise<void>): Promise<void> {
  const backend = BACKENDS.find((b) => b.label === label);
  const s = await backend?.make(t);
  if (!s) return;
  try {
    await body(s);
  } finally {
    await s.cleanup();
  }
}

function scheduler(store: ClusterStore, over: Partial<SchedulerOptions> = {}): Scheduler {
  return startScheduler({ store, leases: store, owner: `sched-${uniq()}`, tickMs: HOUR, activeIntervalMs: HOUR, stableIntervalMs: HOUR, leaseTtlMs: 1_500, ...over });
}

async function reconcileRows(store: ClusterStore): Promise<string[]> {
  return (await store.readOutboxSince(0, 100_000)).filter((r) => r.type === 'cluster.reconcile').map((r) => r.clusterId);
}

/** Ticks that enqueued something, from every scheduler, in start order. */
function enqueuingTicks(...schedulers: Scheduler[]): TickInfo[] {
  return schedulers
    .flatMap((s) => s.ticks())
    .filter((tk) => tk.enqueued > 0)
    .sort((a, b) => a.startedAt - b.startedAt);
}

function assertNoOverlap(ticks: TickInfo[]): void {
  for (let i = 1; i < ticks.length; i++) {
    const [prev, cur] = [ticks[i - 1], ticks[i]];
    if (!prev || !cur || prev.fence === cur.fence) continue;
    assert.ok(cur.startedAt >= prev.finishedAt, `tick of fence ${cur.fence} overlapped one of fence ${prev.fence}`);
    assert.ok(cur.fence > prev.fence, 'a later leader holds a higher fence');
  }
}

for (const label of ['sqlite', 'postgres'] as const) {
  test(`scheduler (${label}): one tick claims only due rows, in batches, until a short batch`, (t) =>
    withBackend(label, t, async (s) => {
      // Writes make a cluster due after activeReconcileMs; 0 makes new clusters due at once.
      const store = await s.open({ activeReconcileMs: 0 });
      const notDue = [await createCluster(store), await createCluster(store), await createCluster(store)];
      assert.equal((await store.claimDueClusters(new Date(), 100, { activeMs: HOUR, stableMs: HOUR })).length, 3);
      const due: string[] = [];
      for (let i = 0; i < 7; i++) due.push((await createCluster(store)).id);
      const sched = scheduler(store, { batch: 3 });
      try {
        await eventually('first tick', () => sched.ticks().length === 1);
        const [tick] = sched.ticks();
        assert.equal(tick?.batches, 3);
        assert.equal(tick?.enqueued, 7);
        assert.deepEqual((await reconcileRows(store)).sort(), due.sort());
        assert.ok(!notDue.some((c) => due.includes(c.id)));
      } finally {
        await sched.stop();
      }
    }));

  test(`scheduler (${label}): a tick is bounded by maxBatchesPerTick; the rest wait for the next tick`, (t) =>
    withBackend(label, t, async (s) => {
      const store = await s.open({ activeReconcileMs: 0 });
      for (let i = 0; i < 5; i++) await createCluster(store);
      const sched = scheduler(store, { batch: 2, maxBatchesPerTick: 2, tickMs: 50 });
      try {
        await eventually('two ticks', () => sched.ticks().length >= 2);
        const [first, second] = sched.ticks();
        assert.deepEqual([first?.batches, first?.enqueued], [2, 4]);
        assert.equal(second?.enqueued, 1);
      } finally {
        await sched.stop();
      }
    }));
}

test('scheduler (sqlite): two schedulers in one process — only one ticks', (t) =>
  withBackend('sqlite', t, async (s) => {
    const store = await s.open({ activeReconcileMs: 0 });
    await createCluster(store);
    const a = scheduler(store, { tickMs: 20, activeIntervalMs: 1 });
    const b = scheduler(store, { tickMs: 20, activeIntervalMs: 1 });
    try {
      await eventually('several ticks', () => a.ticks().length + b.ticks().length >= 5);
      assert.equal(Math.min(a.ticks().length, b.ticks().length), 0);
      assert.equal(a.isLeader() && b.isLeader(), false);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  }));

test('scheduler (postgres): two replicas never tick at the same time; fences grow', (t) =>
  withBackend('postgres', t, async (s) => {
    const [storeA, storeB] = [await s.open({ activeReconcileMs: 0 }), await s.open({ activeReconcileMs: 0 })];
    for (let i = 0; i < 5; i++) await createCluster(storeA);
    // activeIntervalMs 1: every cluster is due again at every tick, so every tick enqueues.
    const a = scheduler(storeA, { tickMs: 20, activeIntervalMs: 1, owner: 'replica-a' });
    const b = scheduler(storeB, { tickMs: 20, activeIntervalMs: 1, owner: 'replica-b' });
    try {
      await consistently('never two leaders at once', () => !(a.isLeader() && b.isLeader()), { timeoutMs: 1_500, intervalMs: 10 });
      const ticks = enqueuingTicks(a, b);
      assert.ok(ticks.length >= 5, 'the leader ticked');
      assertNoOverlap(ticks);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  }));

test('scheduler (postgres): a leader that stops renewing is replaced, and once deposed it never enqueues', (t) =>
  withBackend('postgres', t, async (s) => {
    const [storeA, storeB] = [await s.open({ activeReconcileMs: 0 }), await s.open({ activeReconcileMs: 0 })];
    for (let i = 0; i < 3; i++) await createCluster(storeA);
    // Stands in for a leader frozen past its lease (GC pause, suspended VM) that then wakes up
    // believing its renewals went through: its renewals stop reaching the store but "succeed".
    let frozen = false;
    const frozenLeases: LeaseStore = {
      acquireLease: (n, o, ttl) => storeA.acquireLease(n, o, ttl),
      renewLease: (lease, ttl) => (frozen ? Promise.resolve(lease) : storeA.renewLease(lease, ttl)),
      releaseLease: (lease) => storeA.releaseLease(lease),
      checkFence: (n, token) => storeA.checkFence(n, token),
    };
    const a = scheduler(storeA, { leases: frozenLeases, tickMs: 20, activeIntervalMs: 1, owner: 'replica-a', leaseTtlMs: 600 });
    await eventually('replica a leads', () => a.isLeader());
    const b = scheduler(storeB, { tickMs: 20, activeIntervalMs: 1, owner: 'replica-b', leaseTtlMs: 600 });
    try {
      await eventually('replica a ticked', () => a.ticks().some((tk) => tk.enqueued > 0));
      frozen = true;
      await eventually('replica b took over', () => b.ticks().some((tk) => tk.enqueued > 0), { timeoutMs: 10_000 });
      await eventually('replica a noticed it was fenced', () => a.ticks().some((tk) => tk.fenced === true), { timeoutMs: 10_000 });
      const bFirst = b.ticks().find((tk) => tk.enqueued > 0);
      assert.ok(bFirst);
      assert.ok(bFirst.fence > (a.ticks()[0]?.fence ?? Infinity), 'the new leader has a higher fence');
      const deposedTicks = a.ticks().filter((tk) => tk.fence < bFirst.fence && tk.startedAt >= bFirst.finishedAt);
      assert.ok(deposedTicks.every((tk) => tk.enqueued === 0), 'a deposed leader never enqueues');
      assertNoOverlap(enqueuingTicks(a, b));
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  }));

test('scheduler (postgres): a status write does not trigger reconciles — no reactive loop', (t) =>
  withBackend('postgres', t, async (s) => {
    const creator = await s.open({ activeReconcileMs: 0 });
    const store = await s.open(); // the default: a write schedules the next look 30 s later
    const cluster = await createCluster(creator);
    const bus = createMemoryBus();
    const events: ClusterEvent[] = [];
    await bus.tap((e) => events.push(e));
    const relay = startOutboxRelay({ store, bus, leases: store, owner: 'relay', pollMs: 20 });
    const sched = scheduler(store, { tickMs: 20 });
    try {
      await eventually('the scheduled reconcile', () => events.some((e) => e.type === 'cluster.reconcile'));
      await store.reportStatus(cluster.id, 'ctl-a', { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True', reason: 'Done', message: '' }] });
      await eventually('the status event', () => events.some((e) => e.type === 'cluster.status'));
      const ticksBefore = sched.ticks().length;
      const seen = events.length;
      await eventually('ten more ticks', () => sched.ticks().length >= ticksBefore + 10);
      await consistently('no events without a change', () => events.length === seen, { timeoutMs: 100 });
      assert.equal((await reconcileRows(store)).length, 1);
    } finally {
      await sched.stop();
      await relay.stop();
      await bus.close();
    }
  }));
