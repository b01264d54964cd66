// The aws provider's day 2 against moto, stepped pass by pass through the serverless runner.
// Rollout: a batch of agents is upgraded concurrently, a node that does not come back within
// spec.upgrade.nodeTimeout pauses the rollout naming it (and no further node is touched), and
// `rollout resume` after the fault clears upgrades it again and completes the rollout.
// Snapshots: without spec.backup.s3 they go to goman's bucket under the cluster's own folder,
// and a changed spec.backup reaches installed servers, one server restart per pass.
// FakeK3s stands in for what K3s prints on the nodes (see fixtures.ts); all else is moto.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { InitResult } from '../../src/cli/aws/init.ts';
import type { S3Backend } from '../../src/client/s3-backend.ts';
import type { Cluster } from '../../src/domain/index.ts';
import { AwsReconciler } from '../../src/providers/aws/reconciler.ts';
import { ServerlessRunner } from '../../src/reconcile/serverless-runner.ts';
import type { Moto } from '../helpers/moto.ts';
import { eventually } from '../helpers/eventually.ts';
import { serverlessAccount, type FakeK3s } from './fixtures.ts';

const OLD = 'v1.31.4+k3s1';
const NEW = 'v1.32.1+k3s1';

let moto: Moto | null = null;
let init: InitResult;
let backend: S3Backend;
let k3s: FakeK3s;
let runner: ServerlessRunner;

before(async () => {
  const account = await serverlessAccount();
  if (!account) return;
  ({ moto, init, backend, k3s } = account);
  const { clients } = account;
  runner = new ServerlessRunner({
    clients,
    bucket: init.names.bucket,
    queueUrl: init.queueUrl,
    owner: 'rollout-worker',
    leaseTtlMs: 5000,
    reconciler: new AwsReconciler({ clients, agent: k3s, requeue: { waitingMs: 0 }, outputBucket: init.names.bucket, restartGapMs: 0 }),
  });
});
after(async () => moto?.stop());

const get = async (name: string): Promise<Cluster> => (await backend.get(name)).value;
/** One reconcile pass, as one SQS message would run it. */
const pass = async (name: string): Promise<Cluster> => {
  await runner.handle({ name });
  return get(name);
};
const passUntil = (name: string, what: string, done: (c: Cluster) => boolean): Promise<Cluster> =>
  eventually(what, async () => {
    const c = await pass(name);
    return done(c) ? c : undefined;
  }, { timeoutMs: 60_000, intervalMs: 1 });
const readyAt = (name: string, generation: number) =>
  passUntil(name, `${name} Ready at generation ${generation}`, (c) => c.status.phase === 'Ready' && c.status.observedGeneration === generation);
const stepsOf = (from: number, node: string): string[] => k3s.day2.slice(from).filter((l) => l.endsWith(` ${node}`)).map((l) => l.split(' ')[0] ?? '');

test('aws rollout: agents of a batch upgrade concurrently; a node past nodeTimeout pauses it, naming the node; resume completes it', async (t) => {
  if (!moto) return t.skip('moto is not installed (npm test installs it in CI)');
  const name = 'roll';
  await backend.create({ name, spec: { provider: 'aws', k3sVersion: OLD, nodePools: [{ name: 'w', count: 3 }], upgrade: { maxUnavailable: 2, nodeTimeout: '0s' } } });
  await readyAt(name, 1);

  // nodeTimeout 0s: a node not back by the pass after its upgrade stalls, so agent 1 pauses the
  // rollout before agent 0's place in the batch can go to agent 2 (with a longer timeout the
  // rollout would rightly move on meanwhile, and this test would depend on timing).
  k3s.stuck.add('roll-w-agent-1');
  const from = k3s.day2.length;
  await backend.patch(name, { spec: { k3sVersion: NEW } });

  const paused = await passUntil(name, 'the rollout to pause itself', (c) => c.status.rollout?.paused === true);
  const rollout = paused.status.rollout;
  assert.match(rollout?.reason ?? '', /roll-w-agent-1: not Ready at v1\.32\.1\+k3s1 within nodeTimeout 0s/);
  const upgrading = paused.status.conditions.find((c) => c.type === 'Upgrading') ?? paused.status.controllers[0]?.conditions.find((c) => c.type === 'Upgrading');
  assert.deepEqual([upgrading?.status, upgrading?.reason], ['False', 'Paused']);
  assert.match(upgrading?.message ?? '', /roll-w-agent-1/);
  assert.equal(paused.status.phase, 'Updating');
  assert.equal(paused.status.nodes.find((n) => n.name === 'roll-w-agent-1')?.upgrade, 'failed');

  // Servers first, then agents 0 and 1 together (maxUnavailable 2), each cordoned and drained first.
  assert.deepEqual(stepsOf(from, 'roll-server-0'), ['cordon', 'drain', 'upgrade', 'uncordon']);
  assert.ok(k3s.day2.slice(from).findIndex((l) => / roll-w-/.test(l)) > k3s.day2.slice(from).indexOf('uncordon roll-server-0'), 'no agent starts before the server is done');
  assert.deepEqual(stepsOf(from, 'roll-w-agent-0'), ['cordon', 'drain', 'upgrade', 'uncordon']);
  assert.deepEqual(stepsOf(from, 'roll-w-agent-1'), ['cordon', 'drain', 'upgrade'], 'the stalled node stays cordoned');
  assert.ok(k3s.maxConcurrentDay2 >= 2, `the batch's agents were worked on at once (at most ${k3s.maxConcurrentDay2} commands at a time)`);

  // Paused: more passes touch no further node.
  const before = k3s.day2.length;
  for (let i = 0; i < 5; i++) await pass(name);
  assert.deepEqual(k3s.day2.slice(before), [], 'nothing is touched while paused');
  assert.deepEqual(stepsOf(from, 'roll-w-agent-2'), [], 'agent 2 was never started');

  // The fault clears; resume upgrades the stalled node again and the rollout completes.
  k3s.stuck.delete('roll-w-agent-1');
  const resumed = await backend.rollout(name, 'resume');
  const done = await readyAt(name, resumed.generation);
  assert.deepEqual(stepsOf(from, 'roll-w-agent-1'), ['cordon', 'drain', 'upgrade', 'upgrade', 'uncordon']);
  assert.deepEqual(stepsOf(from, 'roll-w-agent-2'), ['cordon', 'drain', 'upgrade', 'uncordon']);
  assert.ok([...k3s.nodes.values()].filter((n) => n.name.startsWith('roll-')).every((n) => n.version === NEW && n.ready));
  const r = done.status.rollout;
  assert.deepEqual(r && [r.fromVersion, r.toVersion, r.nodesDone, r.nodesTotal, r.paused, r.finishedAt !== undefined], [OLD, NEW, 4, 4, false, true]);
  assert.deepEqual(r?.history.map((h) => [h.node, h.endedAt !== undefined]), [
    ['roll-server-0', true],
    ['roll-w-agent-0', true],
    ['roll-w-agent-1', true],
    ['roll-w-agent-2', true],
  ]);

  // Undo rolls every node back to the old version under the same rules.
  const undone = await backend.rollout(name, 'undo');
  assert.equal(undone.spec.k3sVersion, OLD);
  const back = await readyAt(name, undone.generation);
  assert.ok([...k3s.nodes.values()].filter((n) => n.name.startsWith('roll-')).every((n) => n.version === OLD && n.ready));
  const u = back.status.rollout;
  assert.deepEqual(u && [u.fromVersion, u.toVersion, u.nodesDone, u.finishedAt !== undefined], [NEW, OLD, 4, true]);
});

test('aws snapshots: without spec.backup.s3 they go to goman\'s bucket under snapshots/<name>/<id>; a changed spec.backup reaches installed servers one at a time', async (t) => {
  if (!moto) return t.skip('moto is not installed (npm test installs it in CI)');
  const name = 'snaps';
  const created = await backend.create({ name, spec: { provider: 'aws', mode: 'ha', k3sVersion: OLD } });
  await readyAt(name, 1);
  const folder = `snapshots/${name}/${created.id}`;
  const servers = (await get(name)).status.nodes.filter((n) => n.role === 'server');
  assert.equal(servers.length, 3);
  const settingsOf = (instanceId: string | undefined) => k3s.snapshotSettings.get(instanceId ?? '');
  for (const s of servers) {
    assert.deepEqual(settingsOf(s.instanceId), { SNAPSHOT_CRON: '', SNAPSHOT_RETENTION: '', S3_BUCKET: init.names.bucket, S3_PREFIX: folder, S3_REGION: 'ap-south-1' }, `${s.name} was configured before K3s was installed`);
  }

  // An on-demand snapshot lands in goman's bucket, in this cluster's folder only.
  const { snapshot } = await backend.backup(name);
  await readyAt(name, 2);
  const listed = await backend.backups(name);
  assert.equal(listed[0]?.id, snapshot);
  assert.equal(listed[0]?.location, `s3://${init.names.bucket}/${folder}/${snapshot}-snaps-server-0-1767225600`);

  // spec.backup changes: every server gets the new settings, never two restarts in one pass.
  const patched = await backend.patch(name, { spec: { backup: { schedule: '0 */6 * * *', retention: 3 } } });
  const restarts = (): number => k3s.day2.filter((l) => l.startsWith('configure-snapshots snaps-server-')).length;
  const before = restarts();
  let last = before;
  await passUntil(name, `${name} Ready at generation ${patched.generation} with every server configured`, (c) => {
    const now = restarts();
    assert.ok(now - last <= 1, `${now - last} servers restarted in one pass`);
    last = now;
    return c.status.phase === 'Ready' && c.status.observedGeneration === patched.generation;
  });
  assert.equal(restarts() - before, 3, 'each server once');
  const configures = k3s.day2.filter((l) => l.startsWith('configure-snapshots snaps-server-'));
  assert.deepEqual(configures.slice(-3).sort(), ['configure-snapshots snaps-server-0', 'configure-snapshots snaps-server-1', 'configure-snapshots snaps-server-2']);
  for (const s of servers) {
    assert.deepEqual(settingsOf(s.instanceId), { SNAPSHOT_CRON: '0 */6 * * *', SNAPSHOT_RETENTION: '3', S3_BUCKET: init.names.bucket, S3_PREFIX: folder, S3_REGION: 'ap-south-1' });
  }
});
