import assert from 'node:assert/strict';
import { mkdtemp, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance } from 'fastify';
import { nodeConfigRoutes } from '../../src/nodeconfig/http.ts';
import { parseCriteria } from '../../src/nodeconfig/recipe/criteria.ts';
import { buildRecipe } from '../../src/nodeconfig/recipe/engine.ts';

async function app(setup?: (a: FastifyInstance) => Promise<void>): Promise<FastifyInstance> {
  const a = Fastify();
  if (setup) await setup(a);
  await a.register(nodeConfigRoutes);
  await a.ready();
  return a;
}

const GB200 = { service: 'eks', accelerator: 'gb200', intent: 'training', os: 'ubuntu' };

describe('GET/POST /v1/recipe', () => {
  test('GET returns the recipe with Cache-Control and an ETag; If-None-Match gives 304', async (t) => {
    const a = await app();
    t.after(() => a.close());
    const res = await a.inject({ method: 'GET', url: '/v1/recipe', query: GB200 });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.equal(res.headers['cache-control'], 'public, max-age=300');
    assert.deepEqual(res.json(), buildRecipe(parseCriteria(GB200)));
    const etag = String(res.headers.etag);
    assert.match(etag, /^".+"$/);
    const again = await a.inject({ method: 'GET', url: '/v1/recipe', query: GB200, headers: { 'if-none-match': etag } });
    assert.equal(again.statusCode, 304);
    const other = await a.inject({ method: 'GET', url: '/v1/recipe', query: { service: 'eks' } });
    assert.notEqual(other.headers.etag, etag);
  });

  test('POST accepts JSON and YAML criteria', async (t) => {
    const a = await app();
    t.after(() => a.close());
    const json = await a.inject({ method: 'POST', url: '/v1/recipe', payload: GB200 });
    const yaml = await a.inject({ method: 'POST', url: '/v1/recipe', headers: { 'content-type': 'application/yaml' }, payload: 'service: eks\naccelerator: gb200\nintent: training\nos: ubuntu\n' });
    assert.equal(json.statusCode, 200);
    assert.equal(yaml.statusCode, 200);
    assert.equal(yaml.body, json.body);
  });

  test('unknown values → 400 problem+json listing allowed values', async (t) => {
    const a = await app();
    t.after(() => a.close());
    const res = await a.inject({ method: 'GET', url: '/v1/recipe?service=ecs&os=windows', headers: { 'x-request-id': 'r1' } });
    assert.equal(res.statusCode, 400);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    const body = res.json<{ type: string; title: string; status: number; detail: string; code: string; requestId: string; errors: { path: string; message: string }[] }>();
    assert.equal(body.status, 400);
    assert.equal(body.code, 'VALIDATION_FAILED');
    assert.ok(body.type && body.title && body.requestId);
    assert.deepEqual(body.errors.map((e) => e.path), ['service', 'os']);
    assert.match(body.errors[0]?.message ?? '', /allowed: eks, gke, aks, oke, any/);
    const yaml = await a.inject({ method: 'POST', url: '/v1/recipe', headers: { 'content-type': 'application/yaml' }, payload: 'a: [unclosed' });
    assert.equal(yaml.statusCode, 400);
    assert.equal(yaml.json<{ code: string }>().code, 'VALIDATION_FAILED');
    const list = await a.inject({ method: 'POST', url: '/v1/recipe', payload: [1, 2] });
    assert.equal(list.statusCode, 400);
  });

  test('route templates stay bounded whatever the query (eidos labelled metrics by raw path)', async (t) => {
    const seen = new Set<string>();
    const a = await app(async (x) => {
      x.addHook('onResponse', async (req) => {
        seen.add(req.routeOptions.url ?? 'unmatched');
      });
    });
    t.after(() => a.close());
    for (const s of ['eks', 'gke', 'aks', 'oke', 'bogus']) await a.inject({ method: 'GET', url: `/v1/recipe?service=${s}&nodes=${s.length}` });
    assert.deepEqual([...seen], ['/v1/recipe']);
  });
});

describe('POST /v1/bundle', () => {
  test('returns a zip for criteria or for a recipe, writing nothing to disk (eidos left temp downloads behind)', async (t) => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'goman-nc-http-'));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    const a = await app();
    t.after(async () => {
      await a.close();
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    });
    const res = await a.inject({ method: 'POST', url: '/v1/bundle', payload: GB200 });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'application/zip');
    assert.equal(res.rawPayload.subarray(0, 4).toString('latin1'), 'PK\u0003\u0004');
    const fromRecipe = await a.inject({ method: 'POST', url: '/v1/bundle', payload: buildRecipe(parseCriteria(GB200)) });
    assert.deepEqual(fromRecipe.rawPayload, res.rawPayload);
    assert.deepEqual(await readdir(tmp), []);
    const bad = await a.inject({ method: 'POST', url: '/v1/bundle', payload: { accelerator: 'tpu' } });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json<{ code: string }>().code, 'VALIDATION_FAILED');
  });

  test('rate limits are per client, not one global bucket (eidos shared one limit among all clients)', async (t) => {
    // The API app registers @fastify/rate-limit keyed by identity; the same registration
    // stands in here, keyed by a header, to show the bundle route's allowance is per client.
    const a = await app(async (x) => {
      await x.register(rateLimit, { global: true, max: 1000, timeWindow: '1 minute', keyGenerator: (req) => String(req.headers['x-client'] ?? req.ip) });
    });
    t.after(() => a.close());
    let last = await a.inject({ method: 'POST', url: '/v1/bundle', headers: { 'x-client': 'a' }, payload: {} });
    for (let i = 0; i < 60; i++) last = await a.inject({ method: 'POST', url: '/v1/bundle', headers: { 'x-client': 'a' }, payload: {} });
    assert.equal(last.statusCode, 429, 'client a exhausted the bundle allowance');
    assert.equal(last.json<{ code: string }>().code, 'RATE_LIMITED');
    assert.ok(last.headers['retry-after']);
    const b = await a.inject({ method: 'POST', url: '/v1/bundle', headers: { 'x-client': 'b' }, payload: {} });
    assert.equal(b.statusCode, 200, 'client b is unaffected');
  });
});
