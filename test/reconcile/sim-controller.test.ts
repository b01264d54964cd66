// The sim controller end to end in the embedded topology: real SQLite store, outbox relay,
// memory bus, the API on 127.0.0.1:0, and controller hosts that reach it through ApiClient
// with a controller token; short sim timings. Users act through the API with an admin token.
// Each test gets its own store, bus, relay and server, so nothing is shared between tests.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster, ClusterSpecInput, Phase } from '../../src/domain/index.ts';
import { isGomanError } from '../../src/domain/index.ts';
import { buildApi } from '../../src/api/app.ts';
import { issueToken } from '../../src/api/tokens.ts';
import { ApiClient } from '../../src/client/api-client.ts';
import { createMemoryBus } from '../../src/events/memory-bus.ts';
import { startOutboxRelay } from '../../src/events/outbox-relay.ts';
import type { EventBus } from '../../src/events/port.ts';
import { desiredSlots, slotKey } from '../../src/domain/slots.ts';
import { SIM_CONTROLLER, SimReconciler, type SimOptions } from '../../src/providers/sim/reconciler.ts';
import { startController, type ControllerHost } from '../../src/reconcile/controller-host.ts';
import { startEngine } from '../../src/cmd/engine.ts';
import type { ControlPlane, Reconciler } from '../../src/reconcile/types.ts';
import { openStore } from '../../src/store/open.ts';
import type { ClusterStore } from '../../src/store/port.ts';
import { eventually } from '../helpers/eventually.ts';

interface Env {
  store: ClusterStore;
  bus: EventBus;
  controlPlane: ControlPlane;
  create(name: string, spec: ClusterSpecInput): Promise<Cluster>;
  update(c: Cluster, spec: Partial<ClusterSpecInput>): Promise<Cluster>;
  remove(c: Cluster): Promise<void>;
  host(reconciler: Reconciler, owner: string, opts?: { heartbeatMs?: number }): Promise<ControllerHost>;
  /** What `DELETE /api/v1/controllers/{name}` does for an admin. */
  deregister(name: string): Promise<void>;
}

const FAST: SimOptions = { bootMs: 100, installMs: 150, transitionMs: 100 };

async function embedded(t: TestContext): Promise<Env> {
  const dir = mkdtempSync(path.join(tmpdir(), 'goman-simctl-'));
  const store = await openStore({ dataDir: dir });
  const bus = createMemoryBus();
  const relay = startOutboxRelay({ store, bus, leases: store, owner: 'relay', pollMs: 20 });
  const app = await buildApi({ store, bus, auth: { mode: 'token' }, version: 'test', topology: 'embedded', providers: ['sim'], rateLimit: { max: 1_000_000, windowMs: 60_000 } });
  const baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  const controlPlane = new ApiClient({ baseUrl, token: (await issueToken(store, { subject: 'sim', role: 'controller' })).token });
  const admin = new ApiClient({ baseUrl, token: (await issueToken(store, { subject: 'admin', role: 'admin' })).token });
  const hosts: ControllerHost[] = [];
  t.after(async () => {
    await Promise.all(hosts.map((h) => h.stop(1_000)));
    await app.close();
    await relay.stop();
    await bus.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    store,
    bus,
    controlPlane,
    create: (name, spec) => admin.createCluster({ name, spec }),
    update: (c, spec) => admin.patchCluster(c.id, { spec }),
    async remove(c) {
      await admin.deleteCluster(c.id);
    },
    async deregister(name) {
      await admin.deregisterController(name);
    },
    async host(reconciler, owner, opts = {}) {
      const h = await startController({ reconciler, controlPlane, bus, leases: store, owner, backoff: { baseMs: 20, maxMs: 500 }, leaseBusyRequeueMs: 20, ...opts });
      hosts.push(h);
      return h;
    },
  };
}

async function phaseOf(env: Env, c: Cluster): Promise<Phase | undefined> {
  return (await env.store.getCluster(c.id))?.status.phase;
}

async function readyAt(env: Env, c: Cluster, generation: number, phase: Phase = 'Ready'): Promise<Cluster> {
  return eventually(
    `${c.name} ${phase} at generation ${generation}`,
    async () => {
      const x = await env.store.getCluster(c.id);
      return x?.status.phase === phase && x.status.observedGeneration === generation ? x : undefined;
    },
    { timeoutMs: 15_000 },
  );
}

test('a cluster is provisioned, scaled, stopped, started and deleted by the sim controller', async (t) => {
  const env = await embedded(t);
  const sim = new SimReconciler({ store: env.store, ...FAST, env: {} });
  await env.host(sim, 'only');
  let c = await env.create('life', { provider: 'sim', mode: 'dev', nodePools: [{ name: 'w', count: 1 }] });

  c = await readyAt(env, c, 1);
  assert.equal(c.status.nodes.length, 2);
  assert.ok(c.status.nodes.every((n) => n.ready));
  assert.match(c.status.endpoint ?? '', /^https:\/\/10\.\d+\.\d+\.\d+:6443$/);

  c = await env.update(c, { nodePools: [{ name: 'w', count: 3 }] });
  c = await readyAt(env, c, 2);
  assert.equal(c.status.nodes.length, 4);

  c = await env.update(c, { nodePools: [{ name: 'w', count: 1 }] });
  c = await readyAt(env, c, 3);
  assert.deepEqual(c.status.nodes.map((n) => n.name), ['life-server-0', 'life-w-agent-0']);

  c = await env.update(c, { desiredState: 'stopped' });
  c = await readyAt(env, c, 4, 'Stopped');
  assert.ok(c.status.nodes.every((n) => n.state === 'stopped' && !n.ready));
  c = await env.update(c, { desiredState: 'running' });
  c = await readyAt(env, c, 5);
  const phases = (await env.store.listHistory(c.id, 100)).items.filter((h) => h.kind === 'phase').map((h) => h.message);
  for (const p of ['Stopping', 'Stopped', 'Ready']) assert.ok(phases.some((m) => m.includes(p)), `${p} in the phase history: ${phases.join(' | ')}`);

  await env.remove(c);
  const deleting = await env.store.getCluster(c.id);
  assert.equal(deleting?.status.phase, 'Deleting');
  assert.deepEqual(deleting?.finalizers, [SIM_CONTROLLER], 'the row waits for the sim finalizer');
  await eventually('the row to go', async () => (await env.store.getCluster(c.id)) === null, { timeoutMs: 15_000 });
  assert.equal(await env.store.getProviderState('sim', c.id), null, 'no simulated instances are left behind');
});

test('a controller an admin deregistered registers again at its next report, without waiting for its heartbeat', async (t) => {
  const env = await embedded(t);
  const sim = new SimReconciler({ store: env.store, ...FAST, env: {} });
  // A heartbeat far beyond the test: only the report path can register it again.
  await env.host(sim, 'only', { heartbeatMs: 3_600_000 });
  let c = await env.create('dereg', { provider: 'sim', nodePools: [{ name: 'w', count: 1 }] });
  c = await readyAt(env, c, 1);
  await env.deregister(SIM_CONTROLLER);
  assert.equal((await env.store.listControllers()).some((r) => r.name === SIM_CONTROLLER), false);
  c = await env.update(c, { nodePools: [{ name: 'w', count: 2 }] });
  c = await readyAt(env, c, 2);
  assert.equal(c.status.nodes.length, 3);
  assert.equal((await env.store.listControllers()).some((r) => r.name === SIM_CONTROLLER), true);
  assert.deepEqual((await env.store.getCluster(c.id))?.finalizers, [SIM_CONTROLLER], 'its first report after registering holds the cluster again');
});

test('a report with cloud error text past the API\'s limits is cut to fit, not refused for ever', async (t) => {
  const env = await embedded(t);
  // An EC2 authorization failure carries an encoded message thousands of characters long.
  const long = `UnauthorizedOperation: You are not authorized. Encoded authorization failure message: ${'x'.repeat(6000)}`;
  const noisy: Reconciler = {
    name: 'noisy-controller',
    registration: { providers: ['sim'], required: true },
    async reconcile(cluster, ctx) {
      await ctx.report({
        observedGeneration: cluster.generation,
        conditions: [{ type: 'Ready', status: 'False', reason: `Unauthorized${'y'.repeat(200)}`, message: long }],
        lastError: { code: 'UnauthorizedOperation', message: long, retryable: true },
      });
      return {};
    },
  };
  await env.host(noisy, 'only');
  const c = await env.create('noisy', { provider: 'sim' });
  const reported = await eventually('the noisy report to land', async () => (await env.store.getCluster(c.id))?.status.controllers.find((x) => x.name === 'noisy-controller'));
  const ready = reported.conditions.find((x) => x.type === 'Ready');
  assert.equal(ready?.message.length, 2000);
  assert.ok(ready?.message.startsWith('UnauthorizedOperation: You are not authorized.'));
  assert.ok(ready?.message.endsWith('…'));
  assert.equal(ready?.reason.length, 128);
  assert.equal(reported.lastError?.message.length, 2000);
});

test('two controller hosts share the work, but a cluster is reconciled by one at a time', async (t) => {
  const env = await embedded(t);
  const inFlight = new Map<string, number>();
  let overlaps = 0;
  const byOwner = new Map<string, number>();
  // Both hosts run the real sim reconciler, wrapped to see when a cluster is being worked on.
  const counted = (owner: string): Reconciler => {
    const sim = new SimReconciler({ store: env.store, bootMs: 50, installMs: 50, transitionMs: 50, env: {} });
    return {
      name: sim.name,
      registration: sim.registration,
      async reconcile(cluster, ctx) {
        const n = (inFlight.get(cluster.id) ?? 0) + 1;
        inFlight.set(cluster.id, n);
        if (n > 1) overlaps++;
        byOwner.set(owner, (byOwner.get(owner) ?? 0) + 1);
        try {
          await sleep(5); // widen the window an overlap would need
          return await sim.reconcile(cluster, ctx);
        } finally {
          inFlight.set(cluster.id, (inFlight.get(cluster.id) ?? 1) - 1);
        }
      },
    };
  };
  const a = await env.host(counted('a'), 'host-a');
  const b = await env.host(counted('b'), 'host-b');
  const clusters = await Promise.all(Array.from({ length: 12 }, (_, i) => env.create(`pair-${i}`, { provider: 'sim', nodePools: [{ name: 'w', count: 1 }] })));
  // Also ask both hosts directly about every cluster, as duplicated events would.
  for (const c of clusters) {
    a.enqueue(c.id);
    b.enqueue(c.id);
  }
  for (const c of clusters) await readyAt(env, c, 1);
  assert.equal(overlaps, 0, 'no cluster was reconciled by both hosts at once');
  assert.ok((byOwner.get('a') ?? 0) > 0 && (byOwner.get('b') ?? 0) > 0, `both hosts worked: ${JSON.stringify([...byOwner])}`);
});

test('with 30 % injected failures clusters still converge and never exceed their spec', async (t) => {
  const env = await embedded(t);
  const sim = new SimReconciler({
    store: env.store,
    bootMs: 50,
    installMs: 50,
    transitionMs: 20,
    failRate: 0.3,
    capacityErrorRate: 0.1,
    stuckRate: 0.1,
    stuckTimeoutMs: 300,
    env: {},
  });
  await env.host(sim, 'flaky');
  const specs: ClusterSpecInput[] = [
    { provider: 'sim', mode: 'ha', nodePools: [{ name: 'a', count: 3 }] },
    { provider: 'sim', mode: 'dev', nodePools: [{ name: 'a', count: 2 }, { name: 'b', count: 2 }] },
  ];
  const clusters = await Promise.all(Array.from({ length: 6 }, (_, i) => env.create(`flaky-${i}`, specs[i % 2]!)));
  let excess = 0;
  let samples = 0;
  const watching = (async () => {
    while (samples >= 0) {
      for (const c of clusters) {
        const state = (await sim.load(c.id)).instances;
        const slots = new Set(desiredSlots(c.spec).map(slotKey));
        if (state.length > slots.size || new Set(state.map(slotKey)).size !== state.length) excess++;
      }
      samples++;
      await sleep(10); // sampling interval of the watcher, not a wait for something
    }
  })();
  try {
    for (const c of clusters) await readyAt(env, c, 1);
  } finally {
    const taken = samples;
    samples = -1;
    await watching;
    assert.ok(taken > 0);
  }
  assert.equal(excess, 0, 'never more instances than the spec asks for');
  for (const c of clusters) {
    const got = await env.store.getCluster(c.id);
    assert.equal(got?.status.nodes.length, desiredSlots(c.spec).length);
    assert.equal(await phaseOf(env, c), 'Ready');
  }
});

test('startEngine runs the built-in sim controller and refuses a provider it has no controller for', async (t) => {
  const env = await embedded(t);
  await assert.rejects(
    startEngine({ store: env.store, bus: env.bus, controlPlane: env.controlPlane, owner: 'engine', providers: ['nope'] }),
    (e) => isGomanError(e, 'VALIDATION_FAILED'),
  );
  const engine = await startEngine({ store: env.store, bus: env.bus, controlPlane: env.controlPlane, owner: 'engine', providers: ['sim'], sim: { bootMs: 0, installMs: 0, env: {} } });
  try {
    assert.deepEqual(engine.controllers.map((c) => c.name), [SIM_CONTROLLER]);
    const c = await env.create('engine', { provider: 'sim', mode: 'ha' });
    const ready = await readyAt(env, c, 1);
    assert.equal(ready.status.nodes.length, 3);
  } finally {
    await engine.stop(1_000);
  }
});
