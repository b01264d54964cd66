import assert from 'node:assert/strict';
import { mkdtemp, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { ApiDeps } from '../../src/api/app.ts';
import { nodeConfigRoutes } from '../../src/nodeconfig/http.ts';
import { nodeConfigOpenApi } from '../../src/nodeconfig/openapi.ts';
import { parseCriteria } from '../../src/nodeconfig/recipe/criteria.ts';
import { buildRecipe } from '../../src/nodeconfig/recipe/engine.ts';
import { harness, type Harness } from '../api/harness.ts';

/** The routes inside the real API app (its auth, limits, parsers and error handler), called as a user. */
interface Client {
  h: Harness;
  inject(opts: InjectOptions): Promise<LightMyRequestResponse>;
}

async function app(t: TestContext, deps: Partial<ApiDeps> = {}): Promise<Client> {
  const h = await harness(t, { extraRoutes: [nodeConfigRoutes], extraOpenApiPaths: nodeConfigOpenApi, ...deps });
  return { h, inject: (opts) => h.call('alice', opts) };
}

const GB200 = { service: 'eks', accelerator: 'gb200', intent: 'training', os: 'ubuntu' };

describe('GET/POST /v1/recipe', () => {
  test('GET returns the recipe with Cache-Control and an ETag; If-None-Match gives 304', async (t) => {
    const a = await app(t);
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
    const a = await app(t);
    const json = await a.inject({ method: 'POST', url: '/v1/recipe', payload: GB200 });
    const yaml = await a.inject({ method: 'POST', url: '/v1/recipe', headers: { 'content-type': 'application/yaml' }, payload: 'service: eks\naccelerator: gb200\nintent: training\nos: ubuntu\n' });
    assert.equal(json.statusCode, 200);
    assert.equal(yaml.statusCode, 200);
    assert.equal(yaml.body, json.body);
  });

  test('unknown values → 400 problem+json listing allowed values', async (t) => {
    const a = await app(t);
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
    const a = await app(t);
    for (const s of ['eks', 'gke', 'aks', 'oke', 'bogus']) await a.inject({ method: 'GET', url: `/v1/recipe?service=${s}&nodes=${s.length}` });
    const metrics = (await a.h.app.inject('/metrics')).body;
    const routes = new Set([...metrics.matchAll(/goman_http_requests_total\{[^}]*route="([^"]*recipe[^"]*)"/g)].map((m) => m[1]));
    assert.deepEqual([...routes], ['/v1/recipe']);
  });
});

describe('POST /v1/bundle', () => {
  test('returns a zip for criteria or for a recipe, writing nothing to disk (eidos left temp downloads behind)', async (t) => {
    const a = await app(t);
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'goman-nc-http-'));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    t.after(async () => {
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
    // The API app's @fastify/rate-limit keys by identity: alice's allowance is not bob's.
    const a = await app(t, { rateLimit: { max: 1000, windowMs: 60_000 } });
    let last = await a.h.call('alice', { method: 'POST', url: '/v1/bundle', payload: {} });
    for (let i = 0; i < 60; i++) last = await a.h.call('alice', { method: 'POST', url: '/v1/bundle', payload: {} });
    assert.equal(last.statusCode, 429, 'alice exhausted the bundle allowance');
    assert.equal(last.json<{ code: string }>().code, 'RATE_LIMITED');
    assert.ok(last.headers['retry-after']);
    const b = await a.h.call('bob', { method: 'POST', url: '/v1/bundle', payload: {} });
    assert.equal(b.statusCode, 200, 'bob is unaffected');
  });
});

describe('recipe and bundle under the API\'s rules', () => {
  test('they need the same credentials as the API: none, garbage or Basic is 401 problem+json', async (t) => {
    const a = await app(t);
    const calls: (InjectOptions & { url: string })[] = [
      { method: 'GET', url: '/v1/recipe', query: GB200 },
      { method: 'POST', url: '/v1/recipe', payload: GB200 },
      { method: 'POST', url: '/v1/bundle', payload: GB200 },
    ];
    for (const call of calls) {
      for (const authorization of [undefined, 'Bearer garbage', 'Basic YWRtaW46YWRtaW4=']) {
        const res = await a.h.app.inject({ ...call, headers: authorization ? { authorization } : {} });
        assert.equal(res.statusCode, 401, `${call.method} ${call.url} with ${authorization ?? 'no credentials'}`);
        assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
        assert.ok(res.headers['x-request-id']);
      }
      for (const who of ['alice', 'controller', 'admin'] as const) assert.equal((await a.h.call(who, call)).statusCode, 200, `${call.url} as ${who}`);
    }
  });

  test('their problems come from the one API error path, with the one type host', async (t) => {
    const a = await app(t);
    const api = (await a.h.call('alice', { method: 'GET', url: '/api/v1/clusters/nope' })).json<{ type: string }>();
    const res = await a.inject({ method: 'GET', url: '/v1/recipe?service=ecs', headers: { 'x-request-id': 'r2' } });
    const body = res.json<{ type: string; title: string; requestId: string }>();
    assert.equal(new URL(body.type).host, new URL(api.type).host);
    assert.equal(body.title, 'Invalid request');
    assert.equal(body.requestId, 'r2');
    assert.equal(res.headers['x-request-id'], 'r2');
    // Known to the app's 405 logic like its own routes (before: 404 "no route").
    const put = await a.inject({ method: 'PUT', url: '/v1/recipe' });
    assert.equal(put.statusCode, 405);
    assert.equal(put.headers.allow, 'GET, HEAD, POST');
  });

  test('a YAML body is bounded after alias expansion and in depth; a JSON body in depth; the bundle in size', async (t) => {
    const a = await app(t);
    const yaml = (payload: string): Promise<LightMyRequestResponse> => a.inject({ method: 'POST', url: '/v1/bundle', headers: { 'content-type': 'application/yaml' }, payload });
    // ~900 KB of text whose aliases repeat a 100 KB string 90 times (before: a 126 MB zip, seconds of blocked event loop).
    const big = 'x'.repeat(100_000);
    const amplifying = `kind: RecipeResult\nbig: &s "${big}"\nrefs:\n${Array.from({ length: 90 }, () => '  - *s').join('\n')}\n`;
    const started = performance.now();
    const amplified = await yaml(amplifying);
    assert.equal(amplified.statusCode, 413, amplified.body);
    assert.match(amplified.json<{ detail: string }>().detail, /expands .* to more than 1048576 bytes/);
    assert.ok(performance.now() - started < 2000, 'refused without building anything');

    const deepYaml = await yaml(`${'['.repeat(10_000)}${']'.repeat(10_000)}`);
    assert.equal(deepYaml.statusCode, 400, deepYaml.body);
    assert.doesNotMatch(deepYaml.json<{ detail: string }>().detail, /call stack/i, 'no raw library text');
    const nested = await yaml(`${Array.from({ length: 40 }, (_, i) => `${' '.repeat(i)}k:`).join('\n')} 1\n`);
    assert.equal(nested.statusCode, 400, 'block YAML nested past 32 levels');
    const deepJson = await a.inject({ method: 'POST', url: '/v1/recipe', headers: { 'content-type': 'application/json' }, payload: `${'['.repeat(10_000)}${']'.repeat(10_000)}` });
    assert.equal(deepJson.statusCode, 400, deepJson.body);

    // A recipe naming a large component again and again used to copy its values per repetition.
    const recipe = buildRecipe(parseCriteria(GB200));
    const first = recipe.components[0]!;
    const repeated = { ...recipe, components: [{ ...first, values: { blob: 'v'.repeat(200_000) } }], deploymentOrder: Array.from({ length: 1000 }, () => first.name) };
    const res = await a.inject({ method: 'POST', url: '/v1/bundle', payload: repeated });
    assert.equal(res.statusCode, 400, res.body);
    assert.match(res.json<{ detail: string }>().detail, /names .* twice/);
    const huge = { ...recipe, components: recipe.components.map((c) => ({ ...c, values: { blob: 'v'.repeat(400_000) } })) };
    assert.equal((await a.inject({ method: 'POST', url: '/v1/bundle', payload: huge })).statusCode, 413, 'a JSON body over 1 MiB');
  });

  test('/openapi.json describes them, so clients and the fuzzer know them', async (t) => {
    const a = await app(t);
    const doc = (await a.h.app.inject('/openapi.json')).json<{ paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>> }>();
    assert.equal(doc.paths['/v1/recipe']?.get?.operationId, 'getRecipe');
    assert.equal(doc.paths['/v1/recipe']?.post?.operationId, 'postRecipe');
    assert.equal(doc.paths['/v1/bundle']?.post?.operationId, 'postBundle');
    for (const op of [doc.paths['/v1/recipe'].get, doc.paths['/v1/bundle'].post]) assert.ok(op.responses['401'] && op.responses['429']);
  });
});
