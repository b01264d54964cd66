import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalSpec, clusterSpecSchema, MAX_CLUSTER_NODES } from '../../src/domain/index.ts';

test('spec defaults are filled in', () => {
  const spec = clusterSpecSchema.parse({});
  assert.deepEqual(spec, {
    provider: 'sim',
    region: 'ap-south-1',
    mode: 'dev',
    k3sVersion: 'stable',
    instanceType: 't3.medium',
    desiredState: 'running',
    nodePools: [],
  });
});

test('unknown fields, bad names and out-of-range counts are refused with a path', () => {
  const bad = [
    [{ provider: 'gcp' }, 'provider'],
    [{ extra: 1 }, ''],
    [{ nodePools: [{ name: 'Bad_Name', count: 1 }] }, 'nodePools.0.name'],
    [{ nodePools: [{ name: 'gpu', count: 101 }] }, 'nodePools.0.count'],
    [{ nodePools: [{ name: 'gpu', count: 1.5 }] }, 'nodePools.0.count'],
    [{ nodePools: [{ name: 'gpu', count: 1 }, { name: 'gpu', count: 2 }] }, 'nodePools.1.name'],
    [{ k3sVersion: 'v1.31; curl evil' }, 'k3sVersion'],
    [{ region: 'us-east-1; rm' }, 'region'],
    [{ nodePools: [{ name: 'gpu', count: 1, taints: [{ key: 'nvidia.com/gpu', effect: 'Sometimes' }] }] }, 'nodePools.0.taints.0.effect'],
  ] as const;
  for (const [input, path] of bad) {
    const r = clusterSpecSchema.safeParse(input);
    assert.equal(r.success, false, JSON.stringify(input));
    assert.ok(r.error?.issues.some((i) => i.path.join('.') === path), `${JSON.stringify(input)} → ${JSON.stringify(r.error?.issues)}`);
  }
});

test('canonical form ignores key order, so a reordered spec is no change', () => {
  const a = clusterSpecSchema.parse({ mode: 'ha', nodePools: [{ name: 'gpu', count: 2, labels: { a: '1', b: '2' } }] });
  const b = clusterSpecSchema.parse({ nodePools: [{ labels: { b: '2', a: '1' }, count: 2, name: 'gpu' }], mode: 'ha' });
  assert.equal(canonicalSpec(a), canonicalSpec(b));
  assert.notEqual(canonicalSpec(a), canonicalSpec({ ...a, mode: 'dev' }));
});

test('a cluster has at most MAX_CLUSTER_NODES nodes, servers included: more is refused on nodePools', () => {
  const pools = (counts: number[]) => counts.map((count, i) => ({ name: `p${i}`, count }));
  // 3 HA servers + 997 agents is the largest cluster; one more agent is refused.
  assert.equal(clusterSpecSchema.safeParse({ mode: 'ha', nodePools: pools([100, 100, 100, 100, 100, 100, 100, 100, 100, 97]) }).success, true);
  const over = clusterSpecSchema.safeParse({ mode: 'ha', nodePools: pools([100, 100, 100, 100, 100, 100, 100, 100, 100, 98]) });
  assert.equal(over.success, false);
  assert.deepEqual(over.error?.issues.map((i) => i.path.join('.')), ['nodePools']);
  assert.match(over.error?.issues[0]?.message ?? '', new RegExp(`at most ${MAX_CLUSTER_NODES} nodes.*asks for 1001`));
  // 20 pools of 100, each valid alone, are 2001 nodes together.
  assert.equal(clusterSpecSchema.safeParse({ nodePools: pools(Array.from({ length: 20 }, () => 100)) }).success, false);
});
