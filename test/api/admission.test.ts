// Admission: what the API refuses before anything is stored. Fields fixed at creation, bounds
// on free-form JSON, label and spec limits, response pages bounded in bytes, and global names.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Cluster } from '../../src/domain/index.ts';
import { MAX_LABELS, MAX_METADATA_BYTES, MAX_SPEC_BYTES } from '../../src/domain/index.ts';
import { MAX_PAGE_BYTES } from '../../src/api/paging.ts';
import type { Harness } from './harness.ts';
import { harness, PROBLEM } from './harness.ts';

interface ProblemBody {
  status: number;
  code: string;
  detail: string;
  errors?: { path: string; message: string }[];
}

async function create(h: Harness, name: string, spec: Record<string, unknown> = {}): Promise<Cluster> {
  const res = await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name, spec } });
  assert.equal(res.statusCode, 201, res.body);
  return res.json<Cluster>();
}

function problem(res: { statusCode: number; headers: Record<string, unknown>; json<T>(): T }, status: number): ProblemBody {
  assert.equal(res.statusCode, status);
  assert.match(String(res.headers['content-type']), PROBLEM);
  assert.ok(res.headers['x-request-id']);
  return res.json<ProblemBody>();
}

test('provider, region and network cannot change after creation: PATCH and PUT are 422 naming the field, nothing changes', async (t) => {
  const h = await harness(t);
  const c = await create(h, 'placed', { network: { podCIDR: '10.42.0.0/16' } });
  const before = await h.snapshot();
  const changes: [Record<string, unknown>, string][] = [
    [{ provider: 'aws' }, 'spec.provider'],
    [{ region: 'eu-central-1' }, 'spec.region'],
    [{ network: { podCIDR: '10.50.0.0/16' } }, 'spec.network'],
    [{ network: null }, 'spec.network'],
  ];
  for (const [spec, path] of changes) {
    const patched = await h.call('alice', { method: 'PATCH', url: '/api/v1/clusters/placed', payload: { spec }, headers: { 'content-type': 'application/merge-patch+json' } });
    const body = problem(patched, 422);
    assert.equal(body.code, 'VALIDATION_FAILED');
    assert.deepEqual(body.errors?.map((e) => e.path), [path], JSON.stringify(spec));
    // PUT (and so `goman edit`) replaces the whole spec: the same rule.
    const replacement: Record<string, unknown> = { ...c.spec, ...spec };
    if (replacement.network === null) delete replacement.network;
    const replaced = await h.call('alice', { method: 'PUT', url: '/api/v1/clusters/placed', payload: { spec: replacement } });
    assert.deepEqual(problem(replaced, 422).errors?.map((e) => e.path), [path]);
  }
  assert.equal(await h.snapshot(), before, 'nothing was written');
  // Everything else still changes, and an unchanged placement in a PUT is fine.
  const scaled = await h.call('alice', { method: 'PUT', url: '/api/v1/clusters/placed', payload: { spec: { ...c.spec, instanceType: 't3.large' } } });
  assert.equal(scaled.statusCode, 200, scaled.body);
  assert.equal(scaled.json<Cluster>().generation, 2);
});

test('free-form JSON is bounded: 10 000-deep PATCH bodies and deep or huge status metadata are 400s, and the cluster still reads back', async (t) => {
  const h = await harness(t);
  const c = await create(h, 'deep');
  assert.equal((await h.call('controller', { method: 'PUT', url: '/api/v1/controllers/sim', payload: { providers: ['sim'] } })).statusCode, 200);
  const nested = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

  const patch = await h.call('alice', {
    method: 'PATCH',
    url: '/api/v1/clusters/deep',
    payload: `{"spec":${nested(10_000)}}`,
    headers: { 'content-type': 'application/merge-patch+json' },
  });
  assert.equal(problem(patch, 400).code, 'VALIDATION_FAILED');

  const url = `/api/v1/clusters/${c.id}/status/sim`;
  const deep = await h.call('controller', { method: 'PUT', url, payload: `{"observedGeneration":1,"conditions":[],"metadata":{"x":${nested(4000)}}}`, headers: { 'content-type': 'application/json' } });
  assert.equal(problem(deep, 400).code, 'VALIDATION_FAILED');
  // Under the body's depth bound but over the metadata's size bound.
  const huge = await h.call('controller', { method: 'PUT', url, payload: { observedGeneration: 1, conditions: [], metadata: { blob: 'x'.repeat(MAX_METADATA_BYTES + 1024) } } });
  assert.deepEqual(problem(huge, 400).errors?.map((e) => e.path), ['metadata']);
  // The store refuses too (SQLite and PostgreSQL alike), whoever calls it.
  let deepObject: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < 4000; i++) deepObject = { a: deepObject };
  await assert.rejects(h.store.reportStatus(c.id, 'sim', { observedGeneration: 1, conditions: [], metadata: deepObject }), /invalid status report/);

  for (const who of ['alice', 'admin'] as const) {
    assert.equal((await h.call(who, { method: 'GET', url: '/api/v1/clusters/deep' })).statusCode, 200);
    assert.equal((await h.call(who, { method: 'GET', url: '/api/v1/clusters' })).statusCode, 200);
  }
});

test(`labels are limited to ${MAX_LABELS} per cluster and per pool, and a spec to ${MAX_SPEC_BYTES} bytes`, async (t) => {
  const h = await harness(t);
  const labels = (n: number): Record<string, string> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
  assert.equal((await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'most', labels: labels(MAX_LABELS) } })).statusCode, 201);
  const many = await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'many', labels: labels(15_000) } });
  assert.deepEqual(problem(many, 400).errors?.map((e) => e.path), ['labels']);
  const patched = await h.call('alice', { method: 'PATCH', url: '/api/v1/clusters/most', payload: { labels: { one: 'more' } } });
  assert.deepEqual(problem(patched, 400).errors?.map((e) => e.path), ['labels']);
  const pool = await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'pool', spec: { nodePools: [{ name: 'w', count: 1, labels: labels(MAX_LABELS + 1) }] } } });
  assert.deepEqual(problem(pool, 400).errors?.map((e) => e.path), ['spec.nodePools.0.labels']);
  // 20 pools of 50 taints each: every part within its own limit, the whole over the spec's.
  const taints = Array.from({ length: 50 }, (_, i) => ({ key: `example.com/${'t'.repeat(50)}${i}`, value: 'v'.repeat(63), effect: 'NoSchedule' }));
  const nodePools = Array.from({ length: 20 }, (_, i) => ({ name: `p${i}`, count: 1, taints }));
  const big = await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'big', spec: { nodePools } } });
  assert.deepEqual(problem(big, 400).errors?.map((e) => e.path), ['spec']);
});

test('a list page stays within its byte budget whatever limit asks, and its cursor resumes right after', async (t) => {
  const h = await harness(t);
  assert.equal((await h.call('controller', { method: 'PUT', url: '/api/v1/controllers/sim', payload: { providers: ['sim'] } })).statusCode, 200);
  const names: string[] = [];
  // Each cluster carries ~450 KiB of status metadata: all 12 together are over the budget.
  for (let i = 0; i < 12; i++) {
    const c = await create(h, `fat-${String(i).padStart(2, '0')}`);
    names.push(c.name);
    const res = await h.call('controller', { method: 'PUT', url: `/api/v1/clusters/${c.id}/status/sim`, payload: { observedGeneration: 1, conditions: [], metadata: { blob: 'x'.repeat(450 * 1024) } } });
    assert.equal(res.statusCode, 200);
  }
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await h.call('alice', { method: 'GET', url: '/api/v1/clusters', query: { limit: '500', ...(cursor ? { cursor } : {}) } });
    assert.equal(res.statusCode, 200);
    assert.ok(res.rawPayload.length <= MAX_PAGE_BYTES, `page of ${res.rawPayload.length} bytes`);
    const page = res.json<{ items: Cluster[]; nextCursor: string | null }>();
    seen.push(...page.items.map((c) => c.name));
    cursor = page.nextCursor;
    pages++;
  } while (cursor);
  assert.ok(pages >= 2, 'the budget split the list');
  assert.deepEqual(seen, names, 'every cluster once, in order');
});
