// The controller host's own rules (filtering, leases, fencing, shutdown, metrics), with a
// scripted reconciler on the real SQLite store. The control plane here is the store itself
// (the API is one HTTP hop over exactly these calls; test/reconcile/sim-controller.test.ts
// runs the whole path through buildApi), and the bus is the real memory bus.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Registry } from 'prom-client';
import type { Cluster } from '../../src/domain/index.ts';
import { clusterSpecSchema } from '../../src/domain/index.ts';
import { createMemoryBus } from '../../src/events/memory-bus.ts';
import { startController, unchanged } from '../../src/reconcile/controller-host.ts';
import { localControlPlane } from '../../src/reconcile/local-control-plane.ts';
import { TerminalError, type ControlPlane, type ReconcileContext, type Reconciler, type ReconcileResult } from '../../src/reconcile/types.ts';
import { leaseName } from '../../src/lease/port.ts';
import { openStore } from '../../src/store/open.ts';
import type { ClusterEvent } from '../../src/domain/index.ts';
import type { ClusterStore } from '../../src/store/port.ts';
import type { LeaseStore } from '../../src/lease/port.ts';
import { consistently, eventually } from '../helpers/eventually.ts';

let dir: string;
let store: ClusterStore;
let controlPlane: ControlPlane;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'goman-host-'));
  store = await openStore({ dataDir: dir });
  controlPlane = localControlPlane(store);
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

let seq = 0;
async function create(provider: 'sim' | 'aws' = 'sim'): Promise<Cluster> {
  return store.createCluster({ name: `host-${++seq}`, labels: {}, spec: clusterSpecSchema.parse({ provider }), createdBy: 'test' });
}

function event(c: Cluster, type: ClusterEvent['type'] = 'cluster.updated'): ClusterEvent {
  return { eventId: `e-${++seq}`, type, clusterId: c.id, name: c.name, provider: c.spec.provider, generation: c.generation, at: new Date().toISOString() };
}

/** A reconciler whose behaviour each test scripts; it records what it was given. */
class Scripted implements Reconciler {
  readonly registration = { providers: ['sim'], required: true };
  readonly seen: { id: string; fence: number }[] = [];
  readonly name: string;
  body: (c: Cluster, ctx: ReconcileContext) => Promise<ReconcileResult> = async () => ({});
  constructor(name: string) {
    this.name = name;
  }
  async reconcile(c: Cluster, ctx: ReconcileContext): Promise<ReconcileResult> {
    this.seen.push({ id: c.id, fence: ctx.fence });
    return this.body(c, ctx);
  }
}

test('reacts to its provider only, ignores status events, and forgets clusters that are gone', async () => {
  const r = new Scripted('filter-ctl');
  const metrics = new Registry();
  // Its own bus per test: a new consumer name is replayed everything published on its bus.
  const bus = createMemoryBus();
  const host = await startController({ reconciler: r, controlPlane, bus, leases: store, owner: 'o1', metrics });
  try {
    const sim = await create('sim');
    const aws = await create('aws');
    await bus.publish(event(aws));
    await bus.publish(event(sim, 'cluster.status'));
    await bus.publish(event(sim));
    await eventually('the sim cluster to be reconciled', () => r.seen.length === 1);
    assert.equal(r.seen[0]?.id, sim.id);
    assert.ok((r.seen[0]?.fence ?? 0) > 0, 'the lease fencing token is passed');
    // A cluster that no longer exists is not handed to the reconciler.
    host.enqueue('00000000-0000-4000-8000-000000000000');
    await eventually('the missing cluster to be looked up', async () => (await metrics.metrics()).includes('result="gone"'));
    assert.equal(r.seen.length, 1);
    assert.ok((await store.listControllers()).some((c) => c.name === 'filter-ctl'), 'registered itself');
    const text = await metrics.metrics();
    assert.match(text, /goman_reconcile_total\{controller="filter-ctl",result="success"\} 1/);
    assert.match(text, /goman_reconcile_total\{controller="filter-ctl",result="gone"\} 1/);
    assert.match(text, /goman_workqueue_depth\{controller="filter-ctl"\} 0/);
  } finally {
    await host.stop(1000);
    await bus.close();
  }
});

test('a cluster whose lease another process holds waits until it is free', async () => {
  const r = new Scripted('busy-ctl');
  // Its own bus per test: a new consumer name is replayed everything published on its bus.
  const bus = createMemoryBus();
  const host = await startController({ reconciler: r, controlPlane, bus, leases: store, owner: 'o2', leaseBusyRequeueMs: 20 });
  try {
    const c = await create();
    const other = await store.acquireLease(leaseName(c.id), 'someone-else', 30_000);
    assert.ok(other);
    host.enqueue(c.id);
    await consistently('no reconcile while another process holds the lease', () => r.seen.length === 0, { timeoutMs: 200 });
    await store.releaseLease(other);
    await eventually('the reconcile after release', () => r.seen.length === 1);
    assert.ok(r.seen[0]!.fence > other.token, 'a new holder gets a higher fence');
  } finally {
    await host.stop(1000);
    await bus.close();
  }
});

test('losing the lease mid-reconcile aborts the signal; a stale fence cannot write', async () => {
  const r = new Scripted('lost-ctl');
  let abortedWith: unknown;
  r.body = async (c, ctx) => {
    await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
    abortedWith = ctx.signal.reason;
    await store.putProviderState('sim', c.id, { by: 'stale' }, ctx.fence);
    return {};
  };
  // Its own bus per test: a new consumer name is replayed everything published on its bus.
  const bus = createMemoryBus();
  // A ttl no busy machine outlasts: the host must learn of the loss from a renewal (every 500 ms),
  // not give up by its own clock first.
  const host = await startController({ reconciler: r, controlPlane, bus, leases: store, owner: 'o3', leaseTtlMs: 1_500, backoff: { baseMs: 5_000 } });
  try {
    const c = await create();
    host.enqueue(c.id);
    await eventually('the reconcile to start', () => r.seen.length === 1);
    // Take the lease away as an expiry would: release it under the host's identity, then let
    // another owner acquire it; the host's next renewal finds it gone.
    const held = await store.acquireLease(leaseName(c.id), 'o3', 1_500);
    assert.ok(held);
    await store.releaseLease(held);
    const thief = await store.acquireLease(leaseName(c.id), 'thief', 30_000);
    assert.ok(thief);
    await eventually('the abort', () => abortedWith !== undefined);
    assert.match(String(abortedWith), /expired or taken/, 'learnt from the store, not by timing out');
    assert.match(String(abortedWith), /lost/);
    await consistently('the stale holder to write nothing', async () => (await store.getProviderState('sim', c.id)) === null, { timeoutMs: 100 });
  } finally {
    await host.stop(1000);
    await bus.close();
  }
});

test('stop aborts in-flight reconciles at the deadline and releases their leases', async () => {
  const r = new Scripted('stop-ctl');
  r.body = async (_c, ctx) => {
    await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
    return {};
  };
  // Its own bus per test: a new consumer name is replayed everything published on its bus.
  const bus = createMemoryBus();
  const host = await startController({ reconciler: r, controlPlane, bus, leases: store, owner: 'o4' });
  const c = await create();
  host.enqueue(c.id);
  await eventually('the reconcile to start', () => r.seen.length === 1);
  assert.equal(await store.acquireLease(leaseName(c.id), 'other', 1000), null);
  await host.stop(50);
  assert.ok(await store.acquireLease(leaseName(c.id), 'other', 1000), 'the lease was released');
  await bus.publish(event(c));
  await consistently('a stopped host to take no more work', () => r.seen.length === 1, { timeoutMs: 100 });
  await bus.close();
});

test('a report restating the recorded status is recognised as unchanged', () => {
  const prev = {
    name: 'x',
    observedGeneration: 2,
    conditions: [{ type: 'Ready', status: 'True' as const, reason: 'R', message: 'm', lastTransitionTime: 't', observedGeneration: 2 }],
    metadata: { nodes: [] },
    updatedAt: 't',
  };
  const same = { observedGeneration: 2, conditions: [{ type: 'Ready', status: 'True' as const, reason: 'R', message: 'm' }], metadata: { nodes: [] }, lastError: null };
  assert.equal(unchanged(prev, same), true);
  assert.equal(unchanged(undefined, same), false);
  assert.equal(unchanged(prev, { ...same, observedGeneration: 3 }), false);
  assert.equal(unchanged(prev, { ...same, conditions: [{ ...same.conditions[0]!, status: 'False' as const }] }), false);
  assert.equal(unchanged(prev, { ...same, lastError: { code: 'X', message: 'y', retryable: true } }), false);
  assert.equal(unchanged(prev, { ...same, metadata: { nodes: [], endpoint: 'https://10.0.0.1:6443' } }), false);
});

test('a TerminalError is reported once as a non-retryable lastError (the cluster is Failed) and not retried', async () => {
  const r = new Scripted('terminal-ctl');
  r.body = async () => {
    throw new TerminalError('InvalidParameterValue', 'the cloud refused the instance type for good');
  };
  const bus = createMemoryBus();
  const host = await startController({ reconciler: r, controlPlane, bus, leases: store, owner: 'o5', backoff: { baseMs: 10, maxMs: 20 } });
  try {
    const c = await create();
    host.enqueue(c.id);
    const failed = await eventually('the cluster to be Failed', async () => {
      const now = await store.getCluster(c.id);
      return now?.status.phase === 'Failed' ? now : undefined;
    });
    const own = failed.status.controllers.find((s) => s.name === 'terminal-ctl');
    assert.deepEqual(own?.lastError, { code: 'InvalidParameterValue', message: 'the cloud refused the instance type for good', retryable: false });
    assert.equal(own?.conditions.find((x) => x.type === 'Failed')?.status, 'True');
    await consistently('no retry after a terminal error', () => r.seen.length === 1, { timeoutMs: 200 });
  } finally {
    await host.stop(1000);
    await bus.close();
  }
});

test('any other error is retried with backoff', async () => {
  const r = new Scripted('retry-ctl');
  r.body = async () => {
    if (r.seen.length < 3) throw new Error('transient');
    return {};
  };
  const bus = createMemoryBus();
  const host = await startController({ reconciler: r, controlPlane, bus, leases: store, owner: 'o6', backoff: { baseMs: 10, maxMs: 20 } });
  try {
    host.enqueue((await create()).id);
    await eventually('three attempts', () => r.seen.length === 3);
  } finally {
    await host.stop(1000);
    await bus.close();
  }
});

/** A Scripted reconciler whose world is the store alone, as the sim's. */
class Driftless extends Scripted {
  readonly canDrift = false;
}

/** The store's leases, counting acquisitions: a resync that stops after its read takes none. */
function countingLeases(): { leases: LeaseStore; acquired: () => number } {
  let acquired = 0;
  const leases: LeaseStore = {
    acquireLease: (name, owner, ttlMs) => {
      acquired++;
      return store.acquireLease(name, owner, ttlMs);
    },
    renewLease: (lease, ttlMs) => store.renewLease(lease, ttlMs),
    releaseLease: (lease) => store.releaseLease(lease),
    checkFence: (name, token) => store.checkFence(name, token),
  };
  return { leases, acquired: () => acquired };
}

const resultCount = async (metrics: Registry, controller: string, result: string): Promise<number> => {
  const line = (await metrics.metrics()).split('\n').find((l) => l.startsWith(`goman_reconcile_total{controller="${controller}",result="${result}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
};

test('a reconciler that cannot drift skips the resync of a cluster it settled, without a lease, until the cluster changes', async () => {
  const r = new Driftless('settled-ctl');
  const metrics = new Registry();
  const bus = createMemoryBus();
  const { leases, acquired } = countingLeases();
  const host = await startController({ reconciler: r, controlPlane, bus, leases, owner: 'o7', metrics });
  try {
    const c = await create();
    // The first pass reports (a write): not settled, so the next resync reconciles in full.
    r.body = async (cluster, ctx) => {
      await ctx.report({ observedGeneration: cluster.generation, conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: '' }] });
      return {};
    };
    await bus.publish(event(c));
    await eventually('the first pass', () => r.seen.length === 1);
    await bus.publish(event(c, 'cluster.reconcile'));
    await eventually('a full resync after a pass that wrote', () => r.seen.length === 2);
    // That pass restated the status (no write): the cluster is settled at its resourceVersion.
    await eventually('the pass to be counted', async () => (await resultCount(metrics, 'settled-ctl', 'success')) === 2);
    const leasesBefore = acquired();
    await bus.publish(event(c, 'cluster.reconcile'));
    await eventually('the resync to stop after its read', async () => (await resultCount(metrics, 'settled-ctl', 'unchanged')) === 1);
    assert.equal(r.seen.length, 2, 'the reconciler was not run');
    assert.equal(acquired(), leasesBefore, 'no lease was taken');
    // An event of real change always reconciles, and so does a resync once the cluster changed.
    await bus.publish(event(c));
    await eventually('an event reconciles a settled cluster', () => r.seen.length === 3);
    await store.updateCluster(c.id, { labels: { changed: 'yes' } });
    await bus.publish(event(c, 'cluster.reconcile'));
    await eventually('a resync of a changed cluster reconciles', () => r.seen.length === 4);
    // A pass that asks to look again later is not settled either.
    r.body = async () => ({ requeueAfterMs: 60_000 });
    await bus.publish(event(c));
    await eventually('the requeueing pass', () => r.seen.length === 5);
    await bus.publish(event(c, 'cluster.reconcile'));
    await eventually('a resync after a requeueing pass reconciles', () => r.seen.length === 6);
  } finally {
    await host.stop(1000);
    await bus.close();
  }
});

test('a reconciler that can drift (a real cloud) reconciles every resync in full, and so does one past the full-resync age', async () => {
  const drifting = new Scripted('drift-ctl');
  const driftless = new Driftless('aged-ctl');
  const bus = createMemoryBus();
  const hosts = [
    // Both look at the same cluster, so each may find the other holding its lease for a moment.
    await startController({ reconciler: drifting, controlPlane, bus, leases: store, owner: 'o8', leaseBusyRequeueMs: 10 }),
    await startController({ reconciler: driftless, controlPlane, bus, leases: store, owner: 'o9', leaseBusyRequeueMs: 10, fullResyncMs: 0 }),
  ];
  try {
    const c = await create();
    await bus.publish(event(c));
    for (let n = 2; n <= 4; n++) {
      await bus.publish(event(c, 'cluster.reconcile'));
      await eventually(`resync ${n - 1} in full`, () => drifting.seen.length === n && driftless.seen.length === n);
    }
  } finally {
    for (const host of hosts) await host.stop(1000);
    await bus.close();
  }
});

test('a report that restates one made earlier in the same pass is not sent again', async () => {
  const r = new Scripted('twice-ctl');
  const ready = (generation: number, message: string) => ({ observedGeneration: generation, conditions: [{ type: 'Ready', status: 'True' as const, reason: 'Ready', message }] });
  r.body = async (c, ctx) => {
    await ctx.report(ready(c.generation, 'first'));
    await ctx.report(ready(c.generation, 'first'));
    await ctx.report(ready(c.generation, 'second'));
    return {};
  };
  const sent: string[] = [];
  const counting: ControlPlane = {
    ...controlPlane,
    reportStatus: (id, name, report) => {
      sent.push(report.conditions[0]?.message ?? '');
      return controlPlane.reportStatus(id, name, report);
    },
  };
  const bus = createMemoryBus();
  const host = await startController({ reconciler: r, controlPlane: counting, bus, leases: store, owner: 'o10' });
  try {
    host.enqueue((await create()).id);
    await eventually('the pass', () => sent.length === 2);
    await consistently('no third report', () => sent.length === 2, { timeoutMs: 100 });
    assert.deepEqual(sent, ['first', 'second']);
  } finally {
    await host.stop(1000);
    await bus.close();
  }
});
