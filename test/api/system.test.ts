// Health, readiness and draining, metrics, the OpenAPI document and docs page, unknown routes,
// unexpected failures, and routes of other areas mounted through extraRoutes.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { FastifyPluginAsync } from 'fastify';
import { closeGracefully, metricsRegistry, startDraining } from '../../src/api/app.ts';
import { harness, PROBLEM } from './harness.ts';
import { eventually } from '../helpers/eventually.ts';

test('healthz, readyz, and readyz 503 problem while draining', async (t) => {
  const h = await harness(t);
  assert.deepEqual((await h.app.inject('/healthz')).json(), { status: 'ok' });
  assert.equal((await h.app.inject('/readyz')).statusCode, 200);
  startDraining(h.app);
  const draining = await h.app.inject('/readyz');
  assert.equal(draining.statusCode, 503);
  assert.match(String(draining.headers['content-type']), PROBLEM);
  assert.equal(draining.json<{ code: string }>().code, 'UNAVAILABLE');
  assert.equal((await h.call('alice', { method: 'GET', url: '/api/v1/clusters' })).statusCode, 200, 'requests are still served');
});

test('readyz is 503 when the store is unreachable', async (t) => {
  const h = await harness(t);
  await h.store.close();
  // (The harness closes it again on teardown, which the store tolerates.)
  const res = await h.app.inject('/readyz');
  assert.equal(res.statusCode, 503);
  assert.doesNotMatch(res.body, /sqlite|SQL|stack/i);
});

test('unknown routes are 404 problems, known paths with another method 405 with Allow', async (t) => {
  const h = await harness(t);
  const unknown = await h.call('alice', { method: 'GET', url: '/api/v1/nope?x=1' });
  assert.equal(unknown.statusCode, 404);
  assert.match(String(unknown.headers['content-type']), PROBLEM);
  assert.equal(unknown.json<{ code: string }>().code, 'NOT_FOUND');
  const wrong = await h.call('alice', { method: 'DELETE', url: '/api/v1/info', payload: '{bad', headers: { 'content-type': 'application/json' } });
  assert.equal(wrong.statusCode, 405);
  assert.equal(wrong.headers.allow, 'GET, HEAD');
  assert.match(String(wrong.headers['content-type']), PROBLEM);
});

test('unexpected failures are 500 INTERNAL with no stack or SQL; extraRoutes share the error shape', async (t) => {
  const extra: FastifyPluginAsync = async (app) => {
    app.get('/v1/boom', async () => {
      throw new Error('SELECT secret FROM tokens failed at /srv/app.ts:12');
    });
    app.get('/v1/hello', async () => ({ hello: 'world' }));
  };
  const h = await harness(t, { extraRoutes: [extra] });
  // Routes of other areas follow the API's auth too: anonymous is 401.
  assert.equal((await h.app.inject('/v1/hello')).statusCode, 401);
  assert.deepEqual((await h.call('alice', { url: '/v1/hello' })).json(), { hello: 'world' });
  const boom = await h.call('alice', { url: '/v1/boom' });
  assert.equal(boom.statusCode, 500);
  assert.match(String(boom.headers['content-type']), PROBLEM);
  const body = boom.json<{ code: string; requestId: string }>();
  assert.equal(body.code, 'INTERNAL');
  assert.equal(body.requestId, boom.headers['x-request-id']);
  assert.doesNotMatch(boom.body, /SELECT|app\.ts|at /);
});

test('metrics: route labels are templates (one series for many ids), cluster gauge from the store', async (t) => {
  const h = await harness(t);
  await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'demo' } });
  for (let i = 0; i < 5; i++) await h.call('alice', { method: 'GET', url: `/api/v1/clusters/${randomUUID()}` });
  for (let i = 0; i < 3; i++) await h.call('alice', { method: 'GET', url: `/api/v1/no-such-${randomUUID()}` });
  const text = (await h.app.inject('/metrics')).body;
  const series = text.split('\n').filter((l) => l.startsWith('goman_http_requests_total{') && l.includes('method="GET"') && l.includes('status="404"'));
  assert.deepEqual(series.map((l) => l.replace(/ \d+$/, '')).sort(), [
    'goman_http_requests_total{route="/api/v1/clusters/:idOrName",method="GET",status="404"}',
    'goman_http_requests_total{route="unmatched",method="GET",status="404"}',
  ]);
  assert.match(text, /goman_http_requests_total\{route="\/api\/v1\/clusters\/:idOrName",method="GET",status="404"\} 5/);
  assert.match(text, /goman_http_request_duration_seconds_bucket\{le="[^"]+",route="\/api\/v1\/clusters",method="POST"\}/);
  assert.match(text, /goman_clusters\{phase="Pending",provider="sim"\} 1/);
  assert.doesNotMatch(text, /[0-9a-f]{8}-[0-9a-f]{4}-/, 'no raw ids in labels');
  assert.equal(metricsRegistry(h.app).getSingleMetric('goman_clusters')?.constructor.name, 'Gauge');
});

test('OpenAPI 3.1 document generated from the route schemas, and an offline HTML reference', async (t) => {
  const h = await harness(t);
  const res = await h.app.inject('/openapi.json');
  assert.equal(res.statusCode, 200);
  const doc = res.json<{
    openapi: string;
    paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> }; responses: Record<string, unknown> }>>;
    components: { schemas: Record<string, { properties?: Record<string, unknown> }>; securitySchemes: Record<string, unknown> };
  }>();
  assert.equal(doc.openapi, '3.1.0');
  for (const [path, method] of [
    ['/api/v1/clusters', 'post'], ['/api/v1/clusters', 'get'], ['/api/v1/clusters/{idOrName}', 'get'], ['/api/v1/clusters/{idOrName}', 'patch'],
    ['/api/v1/clusters/{idOrName}', 'put'], ['/api/v1/clusters/{idOrName}', 'delete'], ['/api/v1/clusters/{idOrName}/status', 'get'],
    ['/api/v1/clusters/{id}/status/{controller}', 'put'], ['/api/v1/clusters/{id}/finalizers/{controller}', 'delete'],
    ['/api/v1/clusters/{idOrName}/events', 'get'], ['/api/v1/watch', 'get'], ['/api/v1/controllers/{name}', 'put'], ['/api/v1/controllers', 'get'],
    ['/api/v1/tokens', 'post'], ['/api/v1/tokens', 'get'], ['/api/v1/tokens/{id}', 'delete'], ['/api/v1/info', 'get'],
  ] as const) {
    assert.ok(doc.paths[path]?.[method], `${method} ${path}`);
  }
  const create = doc.paths['/api/v1/clusters']!.post!;
  assert.deepEqual(Object.keys(create.requestBody!.content['application/json']!.schema.properties!).sort(), ['labels', 'name', 'spec']);
  assert.ok(create.responses['201'] && create.responses['409'] && create.responses['400']);
  // A raw '?' or '#' in a path parameter cuts the path short, where the method may not be allowed.
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (path.includes('{')) assert.ok(op?.responses['405'], `${method} ${path} documents 405`);
      // A URL and headers over 16 KiB are refused by the HTTP parser on every route.
      assert.ok(op?.responses['431'], `${method} ${path} documents 431`);
    }
  }
  assert.deepEqual(Object.keys(doc.paths['/api/v1/clusters/{idOrName}']!.patch!.requestBody!.content).sort(), ['application/json', 'application/merge-patch+json']);
  for (const name of ['Cluster', 'ClusterList', 'ClusterStatus', 'Problem']) assert.ok(doc.components.schemas[name], name);
  assert.ok(doc.components.schemas.Cluster!.properties!.spec);
  assert.ok(doc.components.securitySchemes.bearerAuth);

  const docs = await h.app.inject('/docs');
  assert.equal(docs.statusCode, 200);
  assert.match(String(docs.headers['content-type']), /^text\/html/);
  assert.match(docs.body, /\/api\/v1\/clusters\/\{idOrName\}/);
  assert.doesNotMatch(docs.body, /<script|https?:\/\/(?!goman\.dev)/, 'no scripts or external resources');
});

test('closeGracefully finishes in-flight requests, then stops', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let arrived = false;
  const slow: FastifyPluginAsync = async (app) => {
    app.get('/v1/slow', async () => {
      arrived = true;
      await gate;
      return { done: true };
    });
  };
  const h = await harness(t, { extraRoutes: [slow] });
  const url = await h.app.listen({ host: '127.0.0.1', port: 0 });
  const inflight = fetch(`${url}/v1/slow`, { headers: { authorization: `Bearer ${h.tokens.alice}` } });
  await eventually('the slow request to be in flight', () => arrived);
  const closing = closeGracefully(h.app, 5000);
  assert.equal((await h.app.inject('/readyz')).statusCode, 503);
  release();
  const res = await inflight;
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { done: true });
  await closing;
  await assert.rejects(fetch(`${url}/healthz`));
});
