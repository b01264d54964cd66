// The cluster routes end to end on a real SQLite store: status codes, headers, bodies, and
// that a refused request changes nothing.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { Cluster } from '../../src/domain/index.ts';
import { harness, PROBLEM } from './harness.ts';

test('create: 201, Location, ETag, X-Request-Id, defaults filled in; the name is then taken', async (t) => {
  const h = await harness(t);
  const res = await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'demo', labels: { env: 'dev' } } });
  assert.equal(res.statusCode, 201);
  const c = res.json<Cluster>();
  assert.equal(res.headers.location, `/api/v1/clusters/${c.id}`);
  assert.equal(res.headers.etag, `"${c.resourceVersion}"`);
  assert.match(String(res.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  assert.equal(c.createdBy, 'alice@example.com');
  assert.equal(c.generation, 1);
  assert.deepEqual(c.spec, { provider: 'sim', region: 'ap-south-1', mode: 'dev', k3sVersion: 'stable', instanceType: 't3.medium', desiredState: 'running', nodePools: [] });

  const again = await h.call('bob', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'demo' } });
  assert.equal(again.statusCode, 409);
  assert.match(String(again.headers['content-type']), PROBLEM);
  assert.equal(again.json<{ code: string }>().code, 'NAME_TAKEN');
});

test('X-Request-Id: a sane incoming id is reused, anything else replaced', async (t) => {
  const h = await harness(t);
  const sane = await h.call('alice', { method: 'GET', url: '/api/v1/clusters', headers: { 'x-request-id': 'trace-123.abc' } });
  assert.equal(sane.headers['x-request-id'], 'trace-123.abc');
  const insane = await h.call('alice', { method: 'GET', url: '/api/v1/nothing', headers: { 'x-request-id': 'x'.repeat(300) } });
  assert.match(String(insane.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  assert.equal(insane.json<{ requestId: string }>().requestId, insane.headers['x-request-id']);
});

test('list: empty is [], pages with cursors, filters by phase, provider and labels', async (t) => {
  const h = await harness(t);
  const empty = await h.call('alice', { method: 'GET', url: '/api/v1/clusters' });
  assert.equal(empty.statusCode, 200);
  assert.deepEqual(empty.json(), { items: [], nextCursor: null });

  for (const [name, env] of [['a1', 'dev'], ['a2', 'prod'], ['a3', 'dev']] as const) {
    assert.equal((await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name, labels: { env } } })).statusCode, 201);
  }
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: Cluster[]; nextCursor: string | null } = (
      await h.call('alice', { method: 'GET', url: '/api/v1/clusters', query: { limit: '2', ...(cursor ? { cursor } : {}) } })
    ).json();
    assert.ok(page.items.length <= 2);
    seen.push(...page.items.map((c) => c.name));
    cursor = page.nextCursor;
  } while (cursor);
  assert.deepEqual(seen.sort(), ['a1', 'a2', 'a3']);

  const names = async (query: Record<string, string>): Promise<string[]> =>
    (await h.call('alice', { method: 'GET', url: '/api/v1/clusters', query })).json<{ items: Cluster[] }>().items.map((c) => c.name).sort();
  assert.deepEqual(await names({ labelSelector: 'env=dev' }), ['a1', 'a3']);
  assert.deepEqual(await names({ labelSelector: 'env!=dev' }), ['a2']);
  assert.deepEqual(await names({ labelSelector: '!env' }), []);
  assert.deepEqual(await names({ labelSelector: 'env' }), ['a1', 'a2', 'a3']);
  assert.deepEqual(await names({ phase: 'Pending', provider: 'sim' }), ['a1', 'a2', 'a3']);
  assert.deepEqual(await names({ phase: 'Ready' }), []);
  assert.deepEqual(await names({ provider: 'aws' }), []);
});

test('read by id or name, with ETag', async (t) => {
  const h = await harness(t);
  const c = (await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'demo' } })).json<Cluster>();
  for (const ref of [c.id, 'demo']) {
    const res = await h.call('alice', { method: 'GET', url: `/api/v1/clusters/${ref}` });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers.etag, `"${c.resourceVersion}"`);
    assert.equal(res.json<Cluster>().id, c.id);
  }
  const missing = await h.call('alice', { method: 'GET', url: `/api/v1/clusters/${randomUUID()}` });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json<{ code: string }>().code, 'NOT_FOUND');
});

test('PATCH: merge patch of spec and labels, both content types, generation only on change, If-Match', async (t) => {
  const h = await harness(t);
  const c = (await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'demo', labels: { env: 'dev', team: 'x' } } })).json<Cluster>();
  const patch = (payload: unknown, headers: Record<string, string> = {}) =>
    h.call('alice', { method: 'PATCH', url: '/api/v1/clusters/demo', payload: JSON.stringify(payload), headers: { 'content-type': 'application/merge-patch+json', ...headers } });

  const scaled = await patch({ spec: { nodePools: [{ name: 'workers', count: 2 }] }, labels: { team: null, tier: 'gold' } });
  assert.equal(scaled.statusCode, 200);
  const s = scaled.json<Cluster>();
  assert.equal(s.generation, 2);
  assert.deepEqual(s.spec.nodePools, [{ name: 'workers', count: 2 }]);
  assert.deepEqual(s.labels, { env: 'dev', tier: 'gold' });
  assert.equal(scaled.headers.etag, `"${s.resourceVersion}"`);

  const same = await h.call('alice', { method: 'PATCH', url: '/api/v1/clusters/demo', payload: { spec: { mode: 'dev' } } });
  assert.equal(same.statusCode, 200, 'application/json is accepted too');
  assert.equal(same.json<Cluster>().generation, 2, 'an equal spec does not move the generation');

  const stale = await patch({ spec: { mode: 'ha' } }, { 'if-match': `"${c.resourceVersion}"` });
  assert.equal(stale.statusCode, 412);
  assert.equal(stale.json<{ code: string }>().code, 'PRECONDITION_FAILED');
  const current = (await h.call('alice', { method: 'GET', url: '/api/v1/clusters/demo' })).headers.etag!;
  const ok = await patch({ spec: { mode: 'ha' } }, { 'if-match': current });
  assert.equal(ok.statusCode, 200);
  assert.equal(ok.json<Cluster>().spec.mode, 'ha');

  const before = await h.snapshot();
  const invalid = await patch({ spec: { region: 'Mars', nodePools: [{ name: 'w', count: 500 }] } });
  assert.equal(invalid.statusCode, 400);
  const paths = invalid.json<{ errors: { path: string }[] }>().errors.map((e) => e.path).sort();
  assert.deepEqual(paths, ['spec.nodePools.0.count', 'spec.region']);
  const badLabel = await patch({ labels: { 'bad key!': 'x' } });
  assert.equal(badLabel.statusCode, 400);
  assert.match(badLabel.json<{ errors: { path: string }[] }>().errors[0]!.path, /^labels/);
  assert.equal(await h.snapshot(), before);
});

test('PUT replaces the spec with defaults, honours If-Match', async (t) => {
  const h = await harness(t);
  const c = (await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'demo', spec: { mode: 'ha', nodePools: [{ name: 'w', count: 1 }] } } })).json<Cluster>();
  const res = await h.call('alice', { method: 'PUT', url: `/api/v1/clusters/${c.id}`, payload: { spec: { instanceType: 't3.large' } } });
  assert.equal(res.statusCode, 200);
  const r = res.json<Cluster>();
  assert.equal(r.spec.mode, 'dev');
  assert.deepEqual(r.spec.nodePools, []);
  assert.equal(r.spec.instanceType, 't3.large');
  assert.equal(r.generation, 2);
  const stale = await h.call('alice', { method: 'PUT', url: '/api/v1/clusters/demo', payload: { spec: {} }, headers: { 'if-match': `"${c.resourceVersion}"` } });
  assert.equal(stale.statusCode, 412);
});

test('DELETE: 202, idempotent, finalizers hold the row, 404 once gone, the name is free again', async (t) => {
  const h = await harness(t);
  // No finalizer: the row goes at once; the body is its final state.
  const quick = (await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'quick' } })).json<Cluster>();
  const gone = await h.call('alice', { method: 'DELETE', url: '/api/v1/clusters/quick' });
  assert.equal(gone.statusCode, 202);
  assert.equal(gone.json<Cluster>().id, quick.id);
  assert.ok(gone.json<Cluster>().deletionTimestamp);
  assert.equal((await h.call('alice', { method: 'DELETE', url: '/api/v1/clusters/quick' })).statusCode, 404);
  const reused = await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'quick' } });
  assert.equal(reused.statusCode, 201, 'the name of a deleted cluster can be reused');
  assert.notEqual(reused.json<Cluster>().id, quick.id);

  // A (registered) controller's finalizer holds it in Deleting until released.
  assert.equal((await h.call('controller', { method: 'PUT', url: '/api/v1/controllers/sim', payload: { providers: ['sim'] } })).statusCode, 200);
  const held = (await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'held' } })).json<Cluster>();
  const report = await h.call('controller', { method: 'PUT', url: `/api/v1/clusters/${held.id}/status/sim`, payload: { observedGeneration: 1, conditions: [] } });
  assert.equal(report.statusCode, 200);
  const first = await h.call('alice', { method: 'DELETE', url: '/api/v1/clusters/held' });
  assert.equal(first.statusCode, 202);
  assert.equal(first.json<Cluster>().status.phase, 'Deleting');
  assert.deepEqual(first.json<Cluster>().finalizers, ['sim']);
  const second = await h.call('alice', { method: 'DELETE', url: '/api/v1/clusters/held' });
  assert.equal(second.statusCode, 202, 'deleting again is fine');
  assert.equal(second.json<Cluster>().deletionTimestamp, first.json<Cluster>().deletionTimestamp);
  // Editing a deleting cluster is refused (never cancels the delete, never 500).
  const edit = await h.call('alice', { method: 'PATCH', url: '/api/v1/clusters/held', payload: { spec: { mode: 'ha' } } });
  assert.equal(edit.statusCode, 409);
  const refusedDelete = await h.call('alice', { method: 'DELETE', url: '/api/v1/clusters/held', headers: { 'if-match': '"1"' } });
  assert.ok(refusedDelete.statusCode < 500 && refusedDelete.statusCode >= 400, `refused delete is ${refusedDelete.statusCode}`);
  assert.equal(refusedDelete.statusCode, 412);

  const release = await h.call('controller', { method: 'DELETE', url: `/api/v1/clusters/${held.id}/finalizers/sim` });
  assert.equal(release.statusCode, 204);
  assert.equal((await h.call('alice', { method: 'GET', url: `/api/v1/clusters/${held.id}` })).statusCode, 404);
  assert.equal((await h.call('controller', { method: 'DELETE', url: `/api/v1/clusters/${held.id}/finalizers/sim` })).statusCode, 404);
  assert.equal((await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'held' } })).statusCode, 201);
});

test('status reports: aggregated status, stale ignored, future generation 409; events list history', async (t) => {
  const h = await harness(t);
  const reg = await h.call('controller', { method: 'PUT', url: '/api/v1/controllers/sim', payload: { providers: ['sim'] } });
  assert.equal(reg.statusCode, 200);
  assert.equal(reg.json<{ required: boolean }>().required, true);
  const c = (await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'demo' } })).json<Cluster>();
  const url = `/api/v1/clusters/${c.id}/status/sim`;
  const ready = await h.call('controller', { method: 'PUT', url, payload: { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' }] } });
  assert.equal(ready.statusCode, 200);
  assert.equal(ready.json<{ phase: string }>().phase, 'Ready');
  assert.equal(ready.json<{ ignored?: string }>().ignored, undefined);

  await h.call('alice', { method: 'PATCH', url: '/api/v1/clusters/demo', payload: { spec: { mode: 'ha' } } });
  await h.call('controller', { method: 'PUT', url, payload: { observedGeneration: 2, conditions: [{ type: 'Ready', status: 'False' }] } });
  const stale = await h.call('controller', { method: 'PUT', url, payload: { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' }] } });
  assert.equal(stale.statusCode, 200);
  assert.equal(stale.json<{ ignored: string }>().ignored, 'stale');
  assert.equal(stale.json<{ phase: string }>().phase, 'Updating');
  const future = await h.call('controller', { method: 'PUT', url, payload: { observedGeneration: 9, conditions: [] } });
  assert.equal(future.statusCode, 409);

  const status = await h.call('alice', { method: 'GET', url: '/api/v1/clusters/demo/status' });
  assert.equal(status.statusCode, 200);
  assert.equal(status.json<{ phase: string }>().phase, 'Updating');
  assert.deepEqual(status.json<{ controllers: { name: string }[] }>().controllers.map((x) => x.name), ['sim']);

  const list = await h.call('admin', { method: 'GET', url: '/api/v1/controllers' });
  assert.deepEqual(list.json<{ items: { name: string }[] }>().items.map((x) => x.name), ['sim']);

  const events = await h.call('alice', { method: 'GET', url: '/api/v1/clusters/demo/events', query: { limit: '2' } });
  assert.equal(events.statusCode, 200);
  const page = events.json<{ items: { kind: string }[]; nextCursor: string | null }>();
  assert.equal(page.items.length, 2);
  assert.ok(page.nextCursor);
  const next = await h.call('alice', { method: 'GET', url: '/api/v1/clusters/demo/events', query: { limit: '100', cursor: page.nextCursor } });
  assert.equal(next.statusCode, 200);
  assert.ok(next.json<{ items: unknown[] }>().items.length > 0);
  assert.equal((await h.call('alice', { method: 'GET', url: '/api/v1/clusters/demo/events', query: { cursor: '!!' } })).statusCode, 400);
});

test('bad input anywhere: a 4xx problem naming the field, and nothing changes', async (t) => {
  const h = await harness(t);
  const c = (await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'demo' } })).json<Cluster>();
  const before = await h.snapshot();
  const json = { 'content-type': 'application/json' };
  const cases: { what: string; opts: Parameters<typeof h.call>[1] & { url: string }; status: number; path?: RegExp }[] = [
    { what: 'malformed JSON', opts: { method: 'POST', url: '/api/v1/clusters', payload: '{"name": "x",', headers: json }, status: 400, path: /\(body\)/ },
    { what: 'empty body', opts: { method: 'POST', url: '/api/v1/clusters', payload: '', headers: json }, status: 400 },
    { what: 'unknown top-level field', opts: { method: 'POST', url: '/api/v1/clusters', payload: { name: 'x', color: 'red' } }, status: 400, path: /^\(root\)$|color/ },
    { what: 'unknown spec field', opts: { method: 'POST', url: '/api/v1/clusters', payload: { name: 'x', spec: { size: 3 } } }, status: 400, path: /^spec/ },
    { what: 'invalid name', opts: { method: 'POST', url: '/api/v1/clusters', payload: { name: 'Bad_Name;rm -rf' } }, status: 400, path: /^name$/ },
    { what: 'too long a name', opts: { method: 'POST', url: '/api/v1/clusters', payload: { name: 'a'.repeat(41) } }, status: 400, path: /^name$/ },
    { what: 'wrong type', opts: { method: 'POST', url: '/api/v1/clusters', payload: { name: 'x', spec: { nodePools: [{ name: 'w', count: 'two' }] } } }, status: 400, path: /^spec\.nodePools\.0\.count$/ },
    { what: 'body not an object', opts: { method: 'POST', url: '/api/v1/clusters', payload: '[1,2]', headers: json }, status: 400 },
    { what: 'prototype poisoning', opts: { method: 'POST', url: '/api/v1/clusters', payload: '{"name":"x","__proto__":{"admin":true}}', headers: json }, status: 400 },
    { what: 'wrong content type', opts: { method: 'POST', url: '/api/v1/clusters', payload: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, status: 415, path: /content-type/ },
    { what: 'text/plain body', opts: { method: 'POST', url: '/api/v1/clusters', payload: '{"name":"x"}', headers: { 'content-type': 'text/plain' } }, status: 415 },
    { what: 'merge-patch type on POST', opts: { method: 'POST', url: '/api/v1/clusters', payload: '{"name":"x"}', headers: { 'content-type': 'application/merge-patch+json' } }, status: 415 },
    { what: 'oversized body', opts: { method: 'POST', url: '/api/v1/clusters', payload: JSON.stringify({ name: 'x', labels: { a: 'b'.repeat(1024 * 1024) } }), headers: json }, status: 413 },
    { what: 'bad limit', opts: { method: 'GET', url: '/api/v1/clusters', query: { limit: '501' } }, status: 400, path: /^limit$/ },
    { what: 'non-numeric limit', opts: { method: 'GET', url: '/api/v1/clusters', query: { limit: 'lots' } }, status: 400, path: /^limit$/ },
    { what: 'bad phase', opts: { method: 'GET', url: '/api/v1/clusters', query: { phase: 'Sleeping' } }, status: 400, path: /^phase$/ },
    { what: 'bad cursor', opts: { method: 'GET', url: '/api/v1/clusters', query: { cursor: 'not-a-cursor' } }, status: 400, path: /^cursor$/ },
    { what: 'bad label selector', opts: { method: 'GET', url: '/api/v1/clusters', query: { labelSelector: 'a=b,,=c' } }, status: 400, path: /^labelSelector$/ },
    { what: 'invalid cluster ref', opts: { method: 'GET', url: '/api/v1/clusters/NOT_A_NAME' }, status: 400, path: /^idOrName$/ },
    { what: 'bad merge patch result', opts: { method: 'PATCH', url: '/api/v1/clusters/demo', payload: { spec: { provider: 'gcp' } } }, status: 400, path: /^spec\.provider$/ },
    { what: 'patch of a field that is not spec/labels', opts: { method: 'PATCH', url: '/api/v1/clusters/demo', payload: { status: { phase: 'Ready' } } }, status: 400 },
    { what: 'PUT without spec', opts: { method: 'PUT', url: '/api/v1/clusters/demo', payload: { labels: {} } }, status: 400, path: /^spec$/ },
    { what: 'report with bad condition', opts: { method: 'PUT', url: `/api/v1/clusters/${c.id}/status/sim`, payload: { observedGeneration: -1, conditions: [{ type: 'ready', status: 'Maybe' }] } }, status: 400, path: /^(observedGeneration|conditions\.0\.(type|status))$/ },
    { what: 'report for a name, not an id', opts: { method: 'PUT', url: '/api/v1/clusters/demo/status/sim', payload: { observedGeneration: 1, conditions: [] } }, status: 400, path: /^id$/ },
    { what: 'bad controller name', opts: { method: 'PUT', url: '/api/v1/controllers/Bad_Name', payload: { providers: ['sim'] } }, status: 400, path: /^name$/ },
  ];
  for (const { what, opts, status, path } of cases) {
    const who = opts.url.includes('/status/') || opts.url.includes('/controllers/') ? 'admin' : 'alice';
    const res = await h.call(who, opts);
    assert.equal(res.statusCode, status, `${what}: ${res.body}`);
    assert.match(String(res.headers['content-type']), PROBLEM, what);
    const body = res.json<{ code: string; status: number; errors?: { path: string }[]; requestId: string }>();
    assert.equal(body.status, status, what);
    assert.equal(body.requestId, res.headers['x-request-id'], what);
    assert.ok(['VALIDATION_FAILED', 'PAYLOAD_TOO_LARGE'].includes(body.code), `${what}: ${body.code}`);
    if (path) assert.ok(body.errors?.some((e) => path.test(e.path)), `${what}: ${JSON.stringify(body.errors)}`);
  }
  assert.equal(await h.snapshot(), before, 'no refused request changed the store');
});

test('admission: a spec no provider could build is a 422 naming the field, on create, PATCH and PUT, and nothing is written', async (t) => {
  const h = await harness(t);
  const before = await h.snapshot();
  const overlapping = { network: { podCIDR: '10.0.0.0/8', serviceCIDR: '10.43.0.0/16' } };
  const created = await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'adm', spec: overlapping } });
  assert.equal(created.statusCode, 422);
  assert.deepEqual(created.json<{ errors: { path: string }[] }>().errors.map((e) => e.path), ['spec.network.serviceCIDR']);
  assert.equal(await h.snapshot(), before);
  // aws node names are <cluster>-<pool>-agent-<i>: K3s's hostname label stops at 63 characters.
  const name = `adm-${'a'.repeat(26)}`;
  const longPools = { provider: 'aws', nodePools: [{ name: 'p'.repeat(30), count: 2 }] };
  assert.equal((await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name, spec: { provider: 'aws' } } })).statusCode, 201);
  const patched = await h.call('alice', { method: 'PATCH', url: `/api/v1/clusters/${name}`, payload: { spec: { nodePools: longPools.nodePools } } });
  assert.equal(patched.statusCode, 422);
  assert.equal(patched.json<{ errors: { path: string }[] }>().errors[0]?.path, 'spec.nodePools.0.name');
  const replaced = await h.call('alice', { method: 'PUT', url: `/api/v1/clusters/${name}`, payload: { spec: longPools } });
  assert.equal(replaced.statusCode, 422);
  assert.equal(replaced.json<{ errors: { path: string }[] }>().errors[0]?.path, 'spec.nodePools.0.name');
  assert.equal((await h.call('alice', { method: 'GET', url: `/api/v1/clusters/${name}` })).json<Cluster>().generation, 1);
});
