// The key API flows against PostgreSQL (the service topology's store), one fresh database.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Cluster } from '../../src/domain/index.ts';
import { freshPgDatabase, needPeer, PG_ADMIN_URL, reachable } from '../helpers/peers.ts';
import { harness } from './harness.ts';

let db: { url: string; drop: () => Promise<void> } | null = null;
before(async () => {
  if (await reachable(PG_ADMIN_URL)) db = await freshPgDatabase();
});
after(async () => {
  await db?.drop();
});

test('PostgreSQL: create, list, patch with If-Match, report, delete, isolation, bad input changes nothing', async (t) => {
  if (!(await needPeer(t, 'PostgreSQL', PG_ADMIN_URL)) || !db) return;
  const h = await harness(t, { databaseUrl: db.url });
  const created = await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'pg-demo', labels: { env: 'dev' } } });
  assert.equal(created.statusCode, 201);
  const c = created.json<Cluster>();
  assert.equal((await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'pg-demo' } })).statusCode, 409);
  assert.deepEqual((await h.call('bob', { method: 'GET', url: '/api/v1/clusters' })).json(), { items: [], nextCursor: null });
  assert.equal((await h.call('bob', { method: 'GET', url: `/api/v1/clusters/${c.id}` })).statusCode, 404);
  const listed = await h.call('alice', { method: 'GET', url: '/api/v1/clusters', query: { labelSelector: 'env=dev', phase: 'Pending' } });
  assert.deepEqual(listed.json<{ items: Cluster[] }>().items.map((x) => x.name), ['pg-demo']);

  const stale = await h.call('alice', { method: 'PATCH', url: '/api/v1/clusters/pg-demo', payload: { spec: { mode: 'ha' } }, headers: { 'if-match': '"0"' } });
  assert.equal(stale.statusCode, 412);
  const patched = await h.call('alice', { method: 'PATCH', url: '/api/v1/clusters/pg-demo', payload: { spec: { mode: 'ha' } }, headers: { 'if-match': created.headers.etag! } });
  assert.equal(patched.statusCode, 200);
  assert.equal(patched.json<Cluster>().generation, 2);

  await h.call('controller', { method: 'PUT', url: '/api/v1/controllers/sim', payload: { providers: ['sim'] } });
  const report = await h.call('controller', { method: 'PUT', url: `/api/v1/clusters/${c.id}/status/sim`, payload: { observedGeneration: 2, conditions: [{ type: 'Ready', status: 'True' }] } });
  assert.equal(report.json<{ phase: string }>().phase, 'Ready');
  assert.equal((await h.call('controller', { method: 'PUT', url: `/api/v1/clusters/${c.id}/status/sim`, payload: { observedGeneration: 3, conditions: [] } })).statusCode, 409);

  const before = await h.snapshot();
  for (const payload of ['{"name":', '{"name":"x","nope":1}', '{"name":"UPPER"}']) {
    const res = await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload, headers: { 'content-type': 'application/json' } });
    assert.equal(res.statusCode, 400, payload);
  }
  assert.equal((await h.call('alice', { method: 'GET', url: '/api/v1/clusters', query: { cursor: 'bogus' } })).statusCode, 400);
  assert.equal(await h.snapshot(), before);

  const del = await h.call('alice', { method: 'DELETE', url: '/api/v1/clusters/pg-demo' });
  assert.equal(del.statusCode, 202);
  assert.equal(del.json<Cluster>().status.phase, 'Deleting');
  assert.equal((await h.call('controller', { method: 'DELETE', url: `/api/v1/clusters/${c.id}/finalizers/sim` })).statusCode, 204);
  assert.equal((await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'pg-demo' } })).statusCode, 201, 'name reuse');
  assert.equal((await h.app.inject('/readyz')).statusCode, 200);
});

test('PostgreSQL: 20 concurrent merge PATCHes without If-Match all apply (as on SQLite)', async (t) => {
  if (!(await needPeer(t, 'PostgreSQL', PG_ADMIN_URL)) || !db) return;
  const h = await harness(t, { databaseUrl: db.url });
  assert.equal((await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'pg-labels' } })).statusCode, 201);
  const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
  const replies = await Promise.all(
    keys.map((k) => h.call('alice', { method: 'PATCH', url: '/api/v1/clusters/pg-labels', payload: { labels: { [k]: 'v' } } })),
  );
  assert.deepEqual(replies.map((r) => r.statusCode), keys.map(() => 200));
  const got = (await h.call('alice', { method: 'GET', url: '/api/v1/clusters/pg-labels' })).json<Cluster>();
  assert.deepEqual(Object.keys(got.labels).sort(), [...keys].sort());
});
