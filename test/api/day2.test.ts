// Day 2 over the API (DESIGN §14): skew admission on PATCH (422 naming spec.k3sVersion), backups
// (take, list), restore (422 naming `snapshot` for an unknown one, 409 while a rollout runs) and rollout
// pause/resume/undo, against a real SQLite store, with the sim reconciler run pass by pass on a
// controlled clock; the routes are in /openapi.json.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Cluster } from '../../src/domain/index.ts';
import { SIM_CONTROLLER, SimReconciler } from '../../src/providers/sim/reconciler.ts';
import { harness, reconcilePass, type Harness } from './harness.ts';

const OLD = 'v1.30.5+k3s1';
const NEW = 'v1.31.2+k3s1';

function simOf(h: Harness): { sim: SimReconciler; tick: (name: string, n?: number) => Promise<Cluster> } {
  let t = Date.parse('2026-01-01T00:00:00Z');
  const sim = new SimReconciler({ store: h.store, now: () => t, bootMs: 0, installMs: 0, transitionMs: 0, cordonMs: 0, drainMs: 100, upgradeMs: 100, restoreStepMs: 100, env: {} });
  const tick = async (name: string, n = 1): Promise<Cluster> => {
    let cluster: Cluster | undefined;
    for (let k = 0; k < n; k++) {
      t += 100;
      cluster = await reconcilePass(h, sim, name);
    }
    assert.ok(cluster);
    return cluster;
  };
  return { sim, tick };
}

test('PATCH of spec.k3sVersion: two minor versions up or a downgrade across a minor is 422 naming spec.k3sVersion; one minor up is accepted', async (t) => {
  const h = await harness(t);
  assert.equal((await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'skew', spec: { k3sVersion: OLD } } })).statusCode, 201);
  for (const v of ['v1.32.0+k3s1', 'v1.29.9+k3s1']) {
    const res = await h.call('alice', { method: 'PATCH', url: '/api/v1/clusters/skew', payload: { spec: { k3sVersion: v } } });
    assert.equal(res.statusCode, 422, res.body);
    assert.equal(res.json<{ errors: { path: string }[] }>().errors[0]?.path, 'spec.k3sVersion');
  }
  const ok = await h.call('alice', { method: 'PATCH', url: '/api/v1/clusters/skew', payload: { spec: { k3sVersion: NEW } } });
  assert.equal(ok.statusCode, 200, ok.body);
});

test('backups, restore and rollout control through the API; restore refused while a rollout runs', async (t) => {
  const h = await harness(t);
  await h.store.registerController(SIM_CONTROLLER, { providers: ['sim'], required: true });
  const { tick } = simOf(h);
  await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'd2', spec: { k3sVersion: OLD, nodePools: [{ name: 'a', count: 2 }] } } });
  await tick('d2', 2);

  const backup = await h.call('alice', { method: 'POST', url: '/api/v1/clusters/d2/backups' });
  assert.equal(backup.statusCode, 202, backup.body);
  const id = backup.json<{ snapshot: string }>().snapshot;
  await tick('d2', 2);
  const list = await h.call('alice', { method: 'GET', url: '/api/v1/clusters/d2/backups' });
  assert.equal(list.statusCode, 200);
  const items = list.json<{ items: { id: string; k3sVersion: string; location: string; sizeBytes: number }[] }>().items;
  assert.equal(items.length, 1);
  assert.equal(items[0]?.id, id);
  assert.equal(items[0]?.k3sVersion, OLD);
  assert.ok((items[0]?.sizeBytes ?? 0) > 0);

  // An unknown snapshot is a bad field, not a missing cluster: 404 keeps meaning "no such cluster".
  const unknown = await h.call('alice', { method: 'POST', url: '/api/v1/clusters/d2/restore', payload: { snapshot: 'nope' } });
  assert.equal(unknown.statusCode, 422);
  assert.deepEqual(unknown.json<{ errors: { path: string }[] }>().errors.map((e) => e.path), ['snapshot']);

  assert.equal((await h.call('alice', { method: 'PATCH', url: '/api/v1/clusters/d2', payload: { spec: { k3sVersion: NEW } } })).statusCode, 200);
  const paused = await h.call('alice', { method: 'POST', url: '/api/v1/clusters/d2/rollout/pause' });
  assert.equal(paused.statusCode, 200, paused.body);
  const during = await tick('d2', 2);
  assert.equal(during.status.rollout?.toVersion, NEW);
  const refused = await h.call('alice', { method: 'POST', url: '/api/v1/clusters/d2/restore', payload: { snapshot: id } });
  assert.equal(refused.statusCode, 409, refused.body);
  assert.match(refused.json<{ detail: string }>().detail, /rollout/);

  assert.equal((await h.call('alice', { method: 'POST', url: '/api/v1/clusters/d2/rollout/resume' })).statusCode, 200);
  let c = await tick('d2', 40);
  assert.ok(c.status.nodes.every((n) => n.k3sVersion === NEW), JSON.stringify(c.status.rollout));
  assert.equal((await h.call('alice', { method: 'POST', url: '/api/v1/clusters/d2/rollout/undo' })).statusCode, 200);
  c = await tick('d2', 40);
  assert.ok(c.status.nodes.every((n) => n.k3sVersion === OLD));

  const restore = await h.call('alice', { method: 'POST', url: '/api/v1/clusters/d2/restore', payload: { snapshot: id } });
  assert.equal(restore.statusCode, 202, restore.body);
  c = await tick('d2', 1);
  assert.equal(c.status.phase, 'Restoring');
  c = await tick('d2', 10);
  assert.equal(c.status.phase, 'Ready');
  assert.equal(c.status.restore?.snapshot, id);

  assert.equal((await h.call('bob', { method: 'GET', url: '/api/v1/clusters/d2/backups' })).statusCode, 404, "another user's cluster is not found");
  const doc = (await h.call(null, { method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, unknown> }>();
  for (const p of ['/api/v1/clusters/{idOrName}/backups', '/api/v1/clusters/{idOrName}/restore', '/api/v1/clusters/{idOrName}/rollout/{action}']) assert.ok(doc.paths[p], p);
});
