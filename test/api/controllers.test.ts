// Controllers cannot hold a cluster for good: only registered controllers report or release,
// an admin can deregister one, a silent one expires, and a deleting cluster's status says who
// holds it and since when.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Cluster } from '../../src/domain/index.ts';
import { eventually } from '../helpers/eventually.ts';
import type { Harness } from './harness.ts';
import { harness, PROBLEM } from './harness.ts';

async function register(h: Harness, name: string): Promise<void> {
  const res = await h.call('controller', { method: 'PUT', url: `/api/v1/controllers/${name}`, payload: { providers: ['sim'] } });
  assert.equal(res.statusCode, 200, res.body);
}

async function createAndReport(h: Harness, name: string, controllers: string[]): Promise<Cluster> {
  const c = (await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name } })).json<Cluster>();
  for (const ctl of controllers) {
    const res = await h.call('controller', { method: 'PUT', url: `/api/v1/clusters/${c.id}/status/${ctl}`, payload: { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' }] } });
    assert.equal(res.statusCode, 200, res.body);
  }
  return c;
}

test('a report or finalizer release from an unregistered controller is refused and plants no finalizer', async (t) => {
  const h = await harness(t);
  const c = (await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'held' } })).json<Cluster>();
  const report = await h.call('controller', { method: 'PUT', url: `/api/v1/clusters/${c.id}/status/ghost`, payload: { observedGeneration: 1, conditions: [] } });
  assert.equal(report.statusCode, 409);
  assert.match(String(report.headers['content-type']), PROBLEM);
  assert.match(report.json<{ detail: string }>().detail, /not registered/);
  const release = await h.call('controller', { method: 'DELETE', url: `/api/v1/clusters/${c.id}/finalizers/ghost` });
  assert.equal(release.statusCode, 409);
  assert.deepEqual((await h.store.getCluster(c.id))?.finalizers, []);
  // With no finalizer planted, deletion is immediate.
  assert.equal((await h.call('alice', { method: 'DELETE', url: '/api/v1/clusters/held' })).statusCode, 202);
  assert.equal(await h.store.getCluster(c.id), null);
});

test('an admin deregisters a controller that is gone: its finalizers go and a deletion it held completes', async (t) => {
  const h = await harness(t);
  await register(h, 'sim');
  await register(h, 'gone');
  const c = await createAndReport(h, 'stuck', ['sim', 'gone']);
  const other = await createAndReport(h, 'live', ['gone']);
  assert.equal((await h.call('alice', { method: 'DELETE', url: '/api/v1/clusters/stuck' })).statusCode, 202);
  assert.equal((await h.call('controller', { method: 'DELETE', url: `/api/v1/clusters/${c.id}/finalizers/sim` })).statusCode, 200);

  // The status says who holds the deletion, and since when.
  const held = (await h.call('alice', { method: 'GET', url: '/api/v1/clusters/stuck' })).json<Cluster>();
  assert.equal(held.status.phase, 'Deleting');
  assert.ok(held.deletionTimestamp);
  assert.match(held.status.message, new RegExp(`since ${held.deletionTimestamp.replace(/[.]/g, '\\.')} by gone`));

  for (const who of ['alice', 'controller'] as const) {
    assert.equal((await h.call(who, { method: 'DELETE', url: '/api/v1/controllers/gone' })).statusCode, 403, who);
  }
  const removed = await h.call('admin', { method: 'DELETE', url: '/api/v1/controllers/gone' });
  assert.equal(removed.statusCode, 204);
  assert.equal(await h.store.getCluster(c.id), null, 'the deletion it alone held completed');
  const live = await h.store.getCluster(other.id);
  assert.deepEqual(live?.finalizers, []);
  assert.deepEqual(live?.status.controllers.map((x) => x.name), []);
  const names = (await h.call('admin', { method: 'GET', url: '/api/v1/controllers' })).json<{ items: { name: string }[] }>().items.map((x) => x.name);
  assert.deepEqual(names, ['sim']);
  assert.equal((await h.call('admin', { method: 'DELETE', url: '/api/v1/controllers/gone' })).statusCode, 404);
  // Once deregistered it cannot report until it registers again.
  const late = await h.call('controller', { method: 'PUT', url: `/api/v1/clusters/${other.id}/status/gone`, payload: { observedGeneration: 1, conditions: [] } });
  assert.equal(late.statusCode, 409);
});

test('a controller whose heartbeat stops expires, and a deletion it held completes', async (t) => {
  const h = await harness(t, { controllerExpiryMs: 300 });
  await register(h, 'silent');
  const c = await createAndReport(h, 'waiting', ['silent']);
  assert.equal((await h.call('alice', { method: 'DELETE', url: '/api/v1/clusters/waiting' })).statusCode, 202);
  assert.ok(await h.store.getCluster(c.id), 'held by its finalizer');
  // Only a live controller keeps heartbeating; its heartbeats retire the silent one.
  await eventually('the silent controller expired', async () => {
    await register(h, 'alive');
    return (await h.store.getCluster(c.id)) === null;
  });
  const names = (await h.call('admin', { method: 'GET', url: '/api/v1/controllers' })).json<{ items: { name: string }[] }>().items.map((x) => x.name);
  assert.deepEqual(names, ['alive']);
  const other = await createAndReport(h, 'other', []);
  const report = await h.call('controller', { method: 'PUT', url: `/api/v1/clusters/${other.id}/status/silent`, payload: { observedGeneration: 1, conditions: [] } });
  assert.equal(report.statusCode, 409, 'an expired controller may not report');
  assert.equal(report.json<{ errors: { path: string }[] }>().errors[0]?.path, 'controller');
  const gone = await h.call('controller', { method: 'PUT', url: `/api/v1/clusters/${c.id}/status/alive`, payload: { observedGeneration: 1, conditions: [] } });
  assert.equal(gone.statusCode, 404, 'the deleted cluster is gone');
});

test('a silent controller expires even when no other controller is left to heartbeat', async (t) => {
  const h = await harness(t, { controllerExpiryMs: 300 });
  await register(h, 'last');
  const c = await createAndReport(h, 'orphaned', ['last']);
  assert.equal((await h.call('alice', { method: 'DELETE', url: '/api/v1/clusters/orphaned' })).statusCode, 202);
  await eventually('the deletion completed without any heartbeat', async () => (await h.store.getCluster(c.id)) === null);
  assert.deepEqual((await h.call('admin', { method: 'GET', url: '/api/v1/controllers' })).json<{ items: unknown[] }>().items, []);
});
