// Day 2 in the sim provider (DESIGN §14): rolling K3s upgrades (order, maxUnavailable, pause on a
// node that does not come back, resume, undo) and etcd snapshots with a restore, against the real
// SQLite store, pass by pass with a controlled clock: "every 100 ms" is 100 ms of the sim's clock,
// with a reconcile pass and a status read at each tick, so no test here depends on timing luck.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Action, Cluster, ClusterSpecInput } from '../../../src/domain/index.ts';
import { clusterSpecSchema, findCondition, pauseRollout, requestBackup, restoreSnapshot, resumeRollout, undoRollout } from '../../../src/domain/index.ts';
import { SIM_CONTROLLER, SimReconciler } from '../../../src/providers/sim/reconciler.ts';
import { putSimWorkload } from '../../../src/providers/sim/workload.ts';
import { leaseName } from '../../../src/lease/port.ts';
import { openStore } from '../../../src/store/open.ts';
import type { ClusterStore } from '../../../src/store/port.ts';
import { consistently } from '../../helpers/eventually.ts';

let dir: string;
let store: ClusterStore;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'goman-day2-'));
  store = await openStore({ dataDir: dir });
  await store.registerController(SIM_CONTROLLER, { providers: ['sim'], required: true });
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const OLD = 'v1.30.5+k3s1';
const NEW = 'v1.31.2+k3s1';
const TIMINGS = { bootMs: 0, installMs: 0, transitionMs: 0, cordonMs: 100, drainMs: 300, upgradeMs: 500, restoreStepMs: 200, env: {} };

class Clock {
  t = Date.parse('2026-01-01T00:00:00Z');
  now = (): number => this.t;
}

let seq = 0;
async function create(spec: ClusterSpecInput): Promise<Cluster> {
  return store.createCluster({ name: `d2-${++seq}`, labels: {}, spec: clusterSpecSchema.parse(spec), createdBy: 'test' });
}

async function pass(sim: SimReconciler, id: string): Promise<void> {
  const lease = await store.acquireLease(leaseName(id), 'test-owner', 30_000);
  assert.ok(lease);
  try {
    const cluster = await store.getCluster(id);
    assert.ok(cluster);
    await sim.reconcile(cluster, {
      fence: lease.token,
      signal: new AbortController().signal,
      report: async (r) => {
        await store.reportStatus(id, SIM_CONTROLLER, r);
      },
      releaseFinalizer: async () => {
        await store.removeFinalizer(id, SIM_CONTROLLER);
      },
    });
  } finally {
    await store.releaseLease(lease);
  }
}

async function read(id: string): Promise<Cluster> {
  const c = await store.getCluster(id);
  assert.ok(c);
  return c;
}

/** Ticks the clock 100 ms with a pass each time, handing each status to `sample`, until `done` or the tick budget ends. */
async function tickUntil(sim: SimReconciler, clock: Clock, id: string, done: (c: Cluster) => boolean, sample?: (c: Cluster) => void, ticks = 2000): Promise<Cluster> {
  for (let n = 0; n < ticks; n++) {
    clock.t += 100;
    await pass(sim, id);
    const c = await read(id);
    sample?.(c);
    if (done(c)) return c;
  }
  assert.fail(`not done after ${ticks} ticks: ${JSON.stringify((await read(id)).status.rollout)}`);
}

async function change(id: string, f: (spec: Cluster['spec']) => Cluster['spec']): Promise<void> {
  const c = await read(id);
  await store.updateCluster(id, { spec: f(c.spec) });
}

const settled = (version: string) => (c: Cluster): boolean =>
  c.status.phase === 'Ready' && c.status.nodes.length > 0 && c.status.nodes.every((n) => n.k3sVersion === version && n.ready && !n.cordoned);

test('rollout with maxUnavailable 2 on 1 server + 2 pools of 3 agents: never more than 2 agents or 1 server down, servers first, all new at the end', async () => {
  const clock = new Clock();
  const sim = new SimReconciler({ store, now: clock.now, ...TIMINGS });
  const c = await create({ k3sVersion: OLD, nodePools: [{ name: 'a', count: 3 }, { name: 'b', count: 3 }] });
  await tickUntil(sim, clock, c.id, settled(OLD));

  await change(c.id, (spec) => ({ ...spec, k3sVersion: NEW, upgrade: { ...clusterSpecSchema.parse({ upgrade: {} }).upgrade!, maxUnavailable: 2 } }));
  let sawUpdating = false;
  let serverBusyWhileAgent = false;
  let maxAgents = 0;
  let maxServers = 0;
  const done = await tickUntil(
    sim,
    clock,
    c.id,
    (x) => x.status.rollout?.finishedAt !== undefined && settled(NEW)(x),
    (x) => {
      const down = x.status.nodes.filter((n) => !n.ready || n.cordoned);
      const agents = down.filter((n) => n.role === 'agent').length;
      const servers = down.filter((n) => n.role === 'server').length;
      maxAgents = Math.max(maxAgents, agents);
      maxServers = Math.max(maxServers, servers);
      if (agents > 0 && x.status.nodes.some((n) => n.role === 'server' && n.k3sVersion !== NEW)) serverBusyWhileAgent = true;
      if (x.status.phase === 'Updating') sawUpdating = true;
    },
  );
  assert.ok(maxAgents <= 2, `at most 2 agents down at once (saw ${maxAgents})`);
  assert.equal(maxAgents, 2, 'maxUnavailable is used');
  assert.ok(maxServers <= 1, `at most 1 server down at once (saw ${maxServers})`);
  assert.equal(serverBusyWhileAgent, false, 'no agent starts before every server is new');
  assert.ok(sawUpdating, 'phase Updating while rolling');
  const history = done.status.rollout?.history ?? [];
  const serverEnd = Math.max(...history.filter((h) => h.node.includes('-server-')).map((h) => Date.parse(h.endedAt ?? '')));
  const agentStart = Math.min(...history.filter((h) => h.node.includes('-agent-')).map((h) => Date.parse(h.startedAt)));
  assert.ok(serverEnd <= agentStart, 'the server finished before any agent started');
  assert.equal(history.length, 7);
  assert.ok(history.every((h) => h.endedAt !== undefined));
  assert.deepEqual(done.status.rollout && { from: done.status.rollout.fromVersion, to: done.status.rollout.toVersion, done: done.status.rollout.nodesDone, total: done.status.rollout.nodesTotal }, { from: OLD, to: NEW, done: 7, total: 7 });
  const entries = (await store.listHistory(c.id, 500)).items.filter((e) => e.kind === 'rollout').map((e) => e.message);
  for (const n of done.status.nodes) {
    assert.ok(entries.some((m) => m === `${n.name}: upgrade to ${NEW} started`), `history has ${n.name}'s start`);
    assert.ok(entries.some((m) => m === `${n.name}: Ready at ${NEW}`), `history has ${n.name}'s end`);
  }
  // Pools in a stable order: pool a's agents start no later than pool b's.
  const starts = history.filter((h) => h.node.includes('-agent-')).map((h) => h.node);
  assert.deepEqual(starts.slice(0, 2), [`${c.name}-a-agent-0`, `${c.name}-a-agent-1`]);
});

test('an upgrade is in the plan as cordon → drain → upgrade-k3s → uncordon per node, servers first', async () => {
  const clock = new Clock();
  const sim = new SimReconciler({ store, now: clock.now, ...TIMINGS });
  const c = await create({ k3sVersion: OLD, nodePools: [{ name: 'a', count: 1 }] });
  await tickUntil(sim, clock, c.id, settled(OLD));
  const plan = await sim.plan(await read(c.id), { ...c.spec, k3sVersion: NEW });
  assert.deepEqual(
    plan.map((a) => `${a.kind} ${a.node ?? ''}`),
    ['cordon', 'drain', 'upgrade-k3s', 'uncordon'].map((k) => `${k} ${c.name}-server-0`).concat(['cordon', 'drain', 'upgrade-k3s', 'uncordon'].map((k) => `${k} ${c.name}-a-agent-0`)),
  );
});

test('HA rollout with a node that never comes back pauses naming it, touches nothing else, completes on resume, and undo returns every node to the old version', async () => {
  const clock = new Clock();
  let faulty = true;
  const actions: Action[] = [];
  const sim = new SimReconciler({
    store,
    now: clock.now,
    ...TIMINGS,
    upgradeFails: (node) => faulty && node.endsWith('-server-1'),
    onAction: (a) => actions.push(a),
  });
  const c = await create({ mode: 'ha', k3sVersion: OLD, nodePools: [{ name: 'a', count: 2 }], upgrade: { nodeTimeout: '2s' } });
  await tickUntil(sim, clock, c.id, settled(OLD));

  await change(c.id, (spec) => ({ ...spec, k3sVersion: NEW }));
  const paused = await tickUntil(sim, clock, c.id, (x) => x.status.rollout?.paused === true);
  const cond = findCondition(paused.status.conditions, 'Upgrading');
  assert.equal(cond?.status, 'False');
  assert.equal(cond?.reason, 'Paused');
  assert.match(cond?.message ?? '', new RegExp(`${c.name}-server-1`));
  assert.equal(paused.status.phase, 'Updating');
  assert.equal(paused.status.nodes.find((n) => n.name === `${c.name}-server-1`)?.upgrade, 'failed');

  const frozen = JSON.stringify(paused.status.nodes.map((n) => [n.name, n.k3sVersion, n.cordoned, n.ready]));
  const before = actions.length;
  await consistently('a paused rollout touches no other node', async () => {
    clock.t += 1000;
    await pass(sim, c.id);
    const x = await read(c.id);
    return actions.length === before && JSON.stringify(x.status.nodes.map((n) => [n.name, n.k3sVersion, n.cordoned, n.ready])) === frozen;
  });

  faulty = false;
  await change(c.id, resumeRollout('resume-1'));
  await tickUntil(sim, clock, c.id, (x) => x.status.rollout?.finishedAt !== undefined && settled(NEW)(x));

  await change(c.id, undoRollout(await read(c.id)));
  const undone = await tickUntil(sim, clock, c.id, (x) => x.status.rollout?.toVersion === OLD && x.status.rollout.finishedAt !== undefined && settled(OLD)(x));
  assert.ok(undone.status.nodes.every((n) => n.k3sVersion === OLD));
  assert.equal(undone.status.nodes.length, 5);
});

test('a user pause stops new nodes from starting; resume carries on', async () => {
  const clock = new Clock();
  const sim = new SimReconciler({ store, now: clock.now, ...TIMINGS });
  const c = await create({ k3sVersion: OLD, nodePools: [{ name: 'a', count: 2 }] });
  await tickUntil(sim, clock, c.id, settled(OLD));
  await change(c.id, (spec) => pauseRollout({ ...spec, k3sVersion: NEW }));
  for (let n = 0; n < 30; n++) {
    clock.t += 100;
    await pass(sim, c.id);
  }
  const held = await read(c.id);
  assert.ok(held.status.nodes.every((n) => n.k3sVersion === OLD && !n.cordoned));
  assert.equal(held.status.rollout?.paused, true);
  await change(c.id, resumeRollout('r-1'));
  await tickUntil(sim, clock, c.id, settled(NEW));
});

test('restore: backup, change the workload, restore — the workload and the K3s version are the snapshot\'s again', async () => {
  const clock = new Clock();
  const sim = new SimReconciler({ store, now: clock.now, ...TIMINGS });
  const c = await create({ mode: 'ha', k3sVersion: OLD, nodePools: [{ name: 'a', count: 1 }] });
  await tickUntil(sim, clock, c.id, settled(OLD));
  await putSimWorkload(store, c.id, { 'deploy/web': 'replicas=3' });
  await change(c.id, requestBackup('snap-1'));
  const backed = await tickUntil(sim, clock, c.id, (x) => Array.isArray(x.status.controllers[0]?.metadata?.snapshots) && (x.status.controllers[0]?.metadata?.snapshots as unknown[]).length === 1);
  const snap = (backed.status.controllers[0]?.metadata?.snapshots as { id: string; k3sVersion: string }[])[0];
  assert.equal(snap?.id, 'snap-1');
  assert.equal(snap?.k3sVersion, OLD);

  await change(c.id, (spec) => ({ ...spec, k3sVersion: NEW }));
  await tickUntil(sim, clock, c.id, (x) => x.status.rollout?.finishedAt !== undefined && settled(NEW)(x));
  await putSimWorkload(store, c.id, { 'deploy/web': 'replicas=9', 'deploy/oops': 'x' });
  assert.throws(() => restoreSnapshot({ name: c.name, status: { ...backed.status, rollout: { fromVersion: OLD, toVersion: NEW, startedAt: '', nodesDone: 0, nodesTotal: 4, current: [], paused: false, reason: '', history: [] } } }, 'snap-1', 'x'), /rollout/);

  await change(c.id, restoreSnapshot(await read(c.id), 'snap-1', 'restore-1'));
  let sawRestoring = false;
  const restored = await tickUntil(
    sim,
    clock,
    c.id,
    (x) => x.status.restore?.finishedAt !== undefined && settled(OLD)(x),
    (x) => {
      if (x.status.phase === 'Restoring') sawRestoring = true;
    },
  );
  assert.ok(sawRestoring, 'phase Restoring while the restore runs');
  assert.deepEqual(restored.status.restore?.stepsDone.map((s) => s.step), ['stop-k3s', 'reset-first-server', 'rejoin-servers', 'restart-agents']);
  assert.deepEqual(restored.status.controllers[0]?.metadata?.workload, { revision: 1, objects: { 'deploy/web': 'replicas=3' } });
  assert.ok(restored.status.nodes.every((n) => n.k3sVersion === OLD));
  assert.equal(restored.spec.k3sVersion, OLD);
});

test('scheduled snapshots follow spec.backup.schedule and keep spec.backup.retention', async () => {
  const clock = new Clock();
  const sim = new SimReconciler({ store, now: clock.now, ...TIMINGS });
  const c = await create({ k3sVersion: OLD, backup: { schedule: '*/5 * * * *', retention: 2 } });
  await tickUntil(sim, clock, c.id, settled(OLD));
  for (let n = 0; n < 16; n++) {
    clock.t += 60_000;
    await pass(sim, c.id);
  }
  const snaps = (await read(c.id)).status.controllers[0]?.metadata?.snapshots as { id: string; scheduled: boolean; takenAt: string }[];
  assert.equal(snaps.length, 2, 'retention 2');
  assert.ok(snaps.every((s) => s.scheduled && s.id.startsWith(`etcd-snapshot-${c.name}-server-0-`)));
  assert.ok(snaps.every((s) => new Date(s.takenAt).getUTCMinutes() % 5 === 0), 'on the schedule');
});
