// The sim provider against the real SQLite store, driven pass by pass with a controlled clock
// (the sim moves by timestamps, so no test here sleeps). The controller host is not used:
// `passCtx` stands in for it with the same calls it makes (lease, report, finalizer), straight
// to the store, so these tests isolate the provider's rules.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Cluster, ClusterSpecInput, ControllerReport } from '../../../src/domain/index.ts';
import { clusterSpecSchema, controllerReportSchema, isGomanError, MAX_CLUSTER_NODES, MAX_METADATA_BYTES, reportFieldProblem } from '../../../src/domain/index.ts';
import { desiredSlots, slotKey } from '../../../src/domain/slots.ts';
import { advance, isLive, terminate, type SimInstance } from '../../../src/providers/sim/instances.ts';
import { SIM_CONTROLLER, SimReconciler } from '../../../src/providers/sim/reconciler.ts';
import { simSettings } from '../../../src/providers/sim/settings.ts';
import type { ReconcileContext } from '../../../src/reconcile/types.ts';
import { openStore } from '../../../src/store/open.ts';
import { leaseName, type Lease } from '../../../src/lease/port.ts';
import type { ClusterStore } from '../../../src/store/port.ts';
import { eventually } from '../../helpers/eventually.ts';

let dir: string;
let store: ClusterStore;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'goman-sim-'));
  store = await openStore({ dataDir: dir });
  await store.registerController(SIM_CONTROLLER, { providers: ['sim'], required: true });
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

class Clock {
  t = Date.parse('2026-01-01T00:00:00Z');
  now = (): number => this.t;
}

/** Deterministic randomness (mulberry32), so failure-injection runs are repeatable. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let seq = 0;
async function create(spec: ClusterSpecInput): Promise<Cluster> {
  return store.createCluster({ name: `sim-${++seq}`, labels: {}, spec: clusterSpecSchema.parse(spec), createdBy: 'test' });
}

async function passCtx(clusterId: string, lease: Lease): Promise<ReconcileContext> {
  return {
    fence: lease.token,
    signal: new AbortController().signal,
    report: async (r) => {
      await store.reportStatus(clusterId, SIM_CONTROLLER, r);
    },
    releaseFinalizer: async () => {
      await store.removeFinalizer(clusterId, SIM_CONTROLLER);
    },
  };
}

/** One reconcile as the host runs it: under the cluster lease, on a fresh read. */
async function pass(sim: SimReconciler, id: string): Promise<{ requeueAfterMs?: number | undefined; error?: unknown }> {
  const lease = await store.acquireLease(leaseName(id), 'test-owner', 30_000);
  assert.ok(lease);
  try {
    const cluster = await store.getCluster(id);
    if (!cluster) return {};
    return await sim.reconcile(cluster, await passCtx(id, lease));
  } catch (error) {
    return { error };
  } finally {
    await store.releaseLease(lease);
  }
}

async function phase(id: string): Promise<string | undefined> {
  return (await store.getCluster(id))?.status.phase;
}

test('desired slots: 1 or 3 servers by mode, then each pool count', () => {
  assert.deepEqual(desiredSlots({ mode: 'dev', nodePools: [] }).map(slotKey), ['server//0']);
  const ha = desiredSlots({ mode: 'ha', nodePools: [{ name: 'gpu', count: 2 }] }).map(slotKey);
  assert.deepEqual(ha, ['server//0', 'server//1', 'server//2', 'agent/gpu/0', 'agent/gpu/1']);
});

test('an instance moves by timestamps: boot, then K3s install, drain and terminate take their times', () => {
  const s = simSettings({ bootMs: 2000, installMs: 3000, transitionMs: 500 }, {});
  const i: SimInstance = { id: 'i-1', role: 'server', index: 0, state: 'pending', since: 0, privateIp: '10.0.0.1', launchedAt: 0 };
  assert.equal(advance(i, 1999, s), false);
  assert.equal(advance(i, 2000, s), true);
  assert.equal(i.state, 'running');
  assert.equal(i.k3sInstalledAt, undefined);
  advance(i, 10_000, s);
  assert.equal(i.k3sInstalledAt, 5000, 'installed at boot + install time, not at the time it was looked at');
  i.drainingSince = 10_000;
  advance(i, 10_600, s);
  assert.equal(i.state, 'running', 'a drained node waits for the terminate action of the plan');
  terminate(i, 10_600);
  advance(i, 11_000, s);
  assert.equal(i.state, 'terminating');
  advance(i, 11_100, s);
  assert.equal(i.state, 'terminated');
});

test('settings come from the environment unless given, and bad values are refused', () => {
  const s = simSettings({}, { GOMAN_SIM_BOOT_SECONDS: '0', GOMAN_SIM_INSTALL_SECONDS: '0.5', GOMAN_SIM_FAIL_RATE: '0.3' });
  assert.equal(s.bootMs, 0);
  assert.equal(s.installMs, 500);
  assert.equal(s.transitionMs, 0);
  assert.equal(s.failRate, 0.3);
  assert.equal(simSettings({ bootMs: 10 }, { GOMAN_SIM_BOOT_SECONDS: '7' }).bootMs, 10);
  assert.throws(() => simSettings({}, { GOMAN_SIM_FAIL_RATE: '2' }), /0 to 1/);
  assert.throws(() => simSettings({}, { GOMAN_SIM_BOOT_SECONDS: 'soon' }), /seconds/);
});

test('a cluster is provisioned, scaled up and down, stopped, started and deleted', async () => {
  const clock = new Clock();
  const sim = new SimReconciler({ store, now: clock.now, bootMs: 2000, installMs: 3000, transitionMs: 1000, env: {} });
  const c = await create({ provider: 'sim', mode: 'dev', nodePools: [{ name: 'workers', count: 2 }] });

  let r = await pass(sim, c.id);
  assert.equal(r.requeueAfterMs, 2000, 'look again when the instances have booted');
  assert.equal(await phase(c.id), 'Provisioning');
  let state = await sim.load(c.id);
  assert.equal(state.instances.length, 3);
  assert.ok(state.instances.every((i) => i.state === 'pending'));
  assert.deepEqual((await store.getCluster(c.id))?.finalizers, [SIM_CONTROLLER]);

  clock.t += 2000;
  r = await pass(sim, c.id);
  assert.equal(r.requeueAfterMs, 3000, 'then when K3s is installed');
  clock.t += 3000;
  r = await pass(sim, c.id);
  assert.equal(r.requeueAfterMs, undefined);
  let cluster = await store.getCluster(c.id);
  assert.equal(cluster?.status.phase, 'Ready');
  assert.equal(cluster?.status.nodes.length, 3);
  assert.ok(cluster?.status.nodes.every((n) => n.ready && n.state === 'running'));
  const server = cluster?.status.nodes.find((n) => n.role === 'server');
  assert.equal(cluster?.status.endpoint, `https://${server?.privateIp}:6443`);

  // Scale up to 4 agents: Updating until the new ones are ready.
  await store.updateCluster(c.id, { spec: clusterSpecSchema.parse({ ...c.spec, nodePools: [{ name: 'workers', count: 4 }] }) });
  await pass(sim, c.id);
  assert.equal(await phase(c.id), 'Updating');
  clock.t += 5000;
  await pass(sim, c.id);
  assert.equal(await phase(c.id), 'Ready');
  assert.equal((await sim.load(c.id)).instances.length, 5);

  // Scale down to 1: the highest indexes drain, then terminate; the rest keep their ids.
  const keep = (await sim.load(c.id)).instances.filter((i) => i.role === 'server' || i.index === 0).map((i) => i.id).sort();
  await store.updateCluster(c.id, { spec: clusterSpecSchema.parse({ ...c.spec, nodePools: [{ name: 'workers', count: 1 }] }) });
  await pass(sim, c.id);
  state = await sim.load(c.id);
  assert.deepEqual(state.instances.filter((i) => i.drainingSince !== undefined).map((i) => i.index).sort(), [1, 2, 3]);
  assert.equal(await phase(c.id), 'Updating');
  clock.t += 1000;
  await pass(sim, c.id);
  assert.ok((await sim.load(c.id)).instances.filter((i) => i.index > 0 && i.role === 'agent').every((i) => i.state === 'terminating'));
  clock.t += 1000;
  await pass(sim, c.id);
  assert.deepEqual((await sim.load(c.id)).instances.map((i) => i.id).sort(), keep);
  assert.equal(await phase(c.id), 'Ready');

  // Stop, then start again.
  cluster = await store.updateCluster(c.id, { spec: clusterSpecSchema.parse({ ...c.spec, nodePools: [{ name: 'workers', count: 1 }], desiredState: 'stopped' }) });
  await pass(sim, c.id);
  assert.equal(await phase(c.id), 'Stopping');
  clock.t += 1000;
  await pass(sim, c.id);
  assert.equal(await phase(c.id), 'Stopped');
  assert.ok((await sim.load(c.id)).instances.every((i) => i.state === 'stopped'));
  await store.updateCluster(c.id, { spec: { ...cluster.spec, desiredState: 'running' } });
  await pass(sim, c.id);
  assert.notEqual(await phase(c.id), 'Ready');
  clock.t += 2000;
  await pass(sim, c.id);
  assert.equal(await phase(c.id), 'Ready', 'K3s was installed before, so it is ready once booted');
  assert.deepEqual((await sim.load(c.id)).instances.map((i) => i.id).sort(), keep, 'start reuses the same instances');

  // Delete: the row stays until every instance is gone and the finalizer released.
  await store.deleteCluster(c.id);
  await pass(sim, c.id);
  assert.equal(await phase(c.id), 'Deleting');
  assert.ok((await sim.load(c.id)).instances.every((i) => i.state === 'terminating'));
  clock.t += 1000;
  await pass(sim, c.id);
  assert.equal(await store.getCluster(c.id), null);
  assert.equal(await store.getProviderState('sim', c.id), null);
});

test('zero boot and install times converge in one pass', async () => {
  const sim = new SimReconciler({ store, bootMs: 0, installMs: 0, env: {} });
  const c = await create({ provider: 'sim', mode: 'ha', nodePools: [{ name: 'a', count: 3 }] });
  const r = await pass(sim, c.id);
  assert.equal(r.requeueAfterMs, undefined);
  assert.equal(await phase(c.id), 'Ready');
  assert.equal((await store.getCluster(c.id))?.status.nodes.length, 6);
  await store.deleteCluster(c.id);
  await pass(sim, c.id);
  assert.equal(await store.getCluster(c.id), null);
});

test('the largest cluster a spec admits gets reports the API accepts, provisioning and rolling out 997 agents at once', async () => {
  // 20 pools of 100 once passed the spec and then every report failed the API's schema
  // ("invalid body", retried for ever); the spec now bounds the whole cluster. And a rollout of
  // every agent at once once named them all in a condition message far over its 2000 characters.
  const clock = new Clock();
  const sim = new SimReconciler({ store, now: clock.now, bootMs: 0, installMs: 0, cordonMs: 0, drainMs: 0, upgradeMs: 1000, env: {} });
  const counts = [100, 100, 100, 100, 100, 100, 100, 100, 100, 97];
  const nodePools = counts.map((count, i) => ({ name: `pool-${'x'.repeat(30)}-${i}`, count }));
  // The longest names there are (a 40-character cluster name, 37-character pools), so the
  // metadata is as large as a real report's can be.
  const longName = `s${seq++}-${'n'.repeat(40)}`.slice(0, 40);
  const c = await store.createCluster({ name: longName, labels: {}, spec: clusterSpecSchema.parse({ provider: 'sim', mode: 'ha', k3sVersion: 'v1.30.5+k3s1', nodePools }), createdBy: 'test' });
  const reports: ControllerReport[] = [];
  const step = async (): Promise<Cluster> => {
    const lease = await store.acquireLease(leaseName(c.id), 'test-owner', 30_000);
    assert.ok(lease);
    const ctx = await passCtx(c.id, lease);
    const cluster = await store.getCluster(c.id);
    assert.ok(cluster);
    const report = async (r: ControllerReport): Promise<void> => {
      reports.push(r);
      await ctx.report(r);
    };
    await sim.reconcile(cluster, { ...ctx, report });
    await store.releaseLease(lease);
    const after = await store.getCluster(c.id);
    assert.ok(after);
    return after;
  };
  assert.equal((await step()).status.nodes.length, MAX_CLUSTER_NODES);
  const spec = clusterSpecSchema.parse({ ...c.spec, k3sVersion: 'v1.31.2+k3s1', upgrade: { maxUnavailable: '100%' } });
  await store.updateCluster(c.id, { spec });
  let all = 0;
  for (let i = 0; i < 10 && all === 0; i++) {
    const now = await step();
    all = now.status.nodes.filter((n) => n.upgrade === 'upgrading').length === 997 ? 997 : 0;
    clock.t += 1000;
  }
  assert.equal(all, 997, 'every agent upgrading at once');
  let done = false;
  for (let i = 0; i < 10 && !done; i++) {
    done = (await step()).status.rollout?.finishedAt !== undefined;
    clock.t += 1000;
  }
  assert.ok(done, 'the rollout completes, with a history entry per node');
  for (const report of reports) {
    const parsed = controllerReportSchema.safeParse(JSON.parse(JSON.stringify(report)));
    assert.ok(parsed.success, parsed.error?.message.slice(0, 500));
    assert.equal(reportFieldProblem(parsed.data), null);
  }
  const said = reports.flatMap((r) => r.conditions.map((x) => `${x.type}: ${x.message}`)).join('\n');
  assert.match(said, /upgrading s\d+-n+-pool-x+-0-agent-0, .* and 987 more/);
  const largest = Math.max(...reports.map((r) => JSON.stringify(r.metadata ?? {}).length));
  console.log(`# largest report metadata: ${largest} bytes of JSON (limit ${MAX_METADATA_BYTES})`);
  await store.deleteCluster(c.id);
  await pass(sim, c.id);
});

test('a write with a stale fencing token is refused and changes nothing', async () => {
  const sim = new SimReconciler({ store, bootMs: 0, installMs: 0, env: {} });
  const c = await create({ provider: 'sim', nodePools: [{ name: 'a', count: 1 }] });
  const stale = await store.acquireLease(leaseName(c.id), 'old-owner', 1);
  assert.ok(stale);
  const fresh = await eventually('the stale lease to lapse', () => store.acquireLease(leaseName(c.id), 'new-owner', 30_000));
  assert.ok(fresh.token > stale.token);
  const cluster = await store.getCluster(c.id);
  assert.ok(cluster);
  await assert.rejects(sim.reconcile(cluster, await passCtx(c.id, stale)), (e) => isGomanError(e, 'CONFLICT'));
  assert.equal(await store.getProviderState('sim', c.id), null);
  await sim.reconcile(cluster, await passCtx(c.id, fresh));
  assert.equal((await sim.load(c.id)).instances.length, 2);
  await store.releaseLease(fresh);
});

test('with injected launch, capacity and stuck failures it converges and never exceeds the spec', async () => {
  const clock = new Clock();
  const sim = new SimReconciler({
    store,
    now: clock.now,
    random: seeded(42),
    bootMs: 1000,
    installMs: 1000,
    transitionMs: 500,
    failRate: 0.3,
    capacityErrorRate: 0.1,
    stuckRate: 0.2,
    stuckTimeoutMs: 3000,
    env: {},
  });
  const c = await create({ provider: 'sim', mode: 'ha', nodePools: [{ name: 'a', count: 4 }, { name: 'b', count: 3 }] });
  const slots = desiredSlots(c.spec).length;
  const seenErrors = new Set<string>();
  let stuckSeen = 0;
  for (let i = 0; i < 200 && (await phase(c.id)) !== 'Ready'; i++) {
    const r = await pass(sim, c.id);
    if (r.error) seenErrors.add(r.error instanceof Error ? r.error.message : "non-Error thrown");
    const state = await sim.load(c.id);
    const bySlot = new Map<string, number>();
    for (const inst of state.instances) bySlot.set(slotKey(inst), (bySlot.get(slotKey(inst)) ?? 0) + 1);
    assert.ok([...bySlot.values()].every((n) => n === 1), 'one instance per slot, ever');
    assert.ok(state.instances.length <= slots, `${state.instances.length} instances for ${slots} slots`);
    stuckSeen += state.instances.filter((x) => x.stuck && isLive(x)).length;
    clock.t += r.error ? 250 : (r.requeueAfterMs ?? 250);
  }
  assert.equal(await phase(c.id), 'Ready');
  assert.ok([...seenErrors].some((e) => e.includes('LaunchFailed')), 'launch failures were injected');
  assert.ok([...seenErrors].some((e) => e.includes('InsufficientCapacity')), 'capacity errors were injected');
  assert.ok(stuckSeen > 0, 'stuck instances were injected and replaced');
  const cluster = await store.getCluster(c.id);
  assert.equal(cluster?.status.nodes.length, slots);
  assert.equal(cluster?.status.controllers[0]?.lastError, undefined, 'the transient error clears on success');
});
