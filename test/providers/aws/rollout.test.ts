// The aws rollout's bookkeeping, pure (src/providers/aws/rollout.ts): which in-flight nodes are
// back, when one stalls, what resume and a mid-rollout undo do. The moto run is test/aws/day2.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clusterSpecSchema } from '../../../src/domain/spec.ts';
import type { K3sNode } from '../../../src/providers/aws/k3s.ts';
import type { RolloutMemory } from '../../../src/providers/aws/rollout.ts';
import { liftStall, rolloutReport, settleInFlight } from '../../../src/providers/aws/rollout.ts';

const OLD = 'v1.30.5+k3s1';
const NEW = 'v1.31.2+k3s1';
const T0 = Date.parse('2026-01-01T00:00:00Z');
const spec = (version = NEW) => clusterSpecSchema.parse({ provider: 'aws', k3sVersion: version, nodePools: [{ name: 'w', count: 2 }], upgrade: { nodeTimeout: '60s' } });
const k3s = (...nodes: [string, boolean, string][]) => new Map<string, K3sNode>(nodes.map(([name, ready, version]) => [name, { name, ready, version, labels: {}, taints: [] }]));
const wanted = new Set(['c-server-0', 'c-w-agent-0', 'c-w-agent-1']);
const since = new Date(T0).toISOString();
// Read through a call: assert.equal(x, undefined) narrows a property to undefined for good.
const pauseOf = (m: RolloutMemory) => m.pause;

test('aws rollout: a node Ready at the new version is back; one past nodeTimeout pauses the rollout naming it; resume reruns it', () => {
  const memory: RolloutMemory = { upgrading: { 'c-w-agent-0': { role: 'agent', since, to: NEW }, 'c-w-agent-1': { role: 'agent', since, to: NEW } } };
  const seen = k3s(['c-w-agent-0', true, NEW], ['c-w-agent-1', false, OLD]);
  assert.deepEqual(settleInFlight(memory, spec(), seen, wanted, T0 + 30_000), ['c-w-agent-0']);
  assert.equal(memory.pause, undefined, 'within nodeTimeout');
  assert.deepEqual(settleInFlight(memory, spec(), seen, wanted, T0 + 61_000), []);
  assert.equal(pauseOf(memory)?.node, 'c-w-agent-1');
  assert.match(pauseOf(memory)?.reason ?? '', /c-w-agent-1: not Ready at v1\.31\.2\+k3s1 within nodeTimeout 60s \(NotReady at v1\.30\.5\+k3s1\)/);
  const report = rolloutReport({ spec: spec(), previous: undefined, memory, started: [], finished: [], outdated: 0, total: 3, from: OLD, now: T0 + 61_000 });
  assert.deepEqual([report.rollout?.paused, report.conditions[0]?.reason], [true, 'Paused']);

  liftStall(memory, T0 + 70_000);
  assert.equal(memory.pause, undefined);
  assert.deepEqual(memory.upgrading?.['c-w-agent-1'], { role: 'agent', since: new Date(T0 + 70_000).toISOString(), to: NEW, rerun: true });
});

test('aws rollout: an undo mid-rollout upgrades an in-flight node again to the old version; a node no longer wanted is forgotten', () => {
  const memory: RolloutMemory = { upgrading: { 'c-w-agent-1': { role: 'agent', since, to: NEW }, 'c-w-agent-9': { role: 'agent', since, to: NEW } } };
  const seen = k3s(['c-w-agent-1', false, NEW]);
  assert.deepEqual(settleInFlight(memory, spec(OLD), seen, wanted, T0 + 1_000), []);
  assert.deepEqual(Object.keys(memory.upgrading ?? {}), ['c-w-agent-1']);
  assert.deepEqual(memory.upgrading?.['c-w-agent-1'], { role: 'agent', since: new Date(T0 + 1_000).toISOString(), to: OLD, rerun: true });
  assert.equal(memory.pause, undefined, 'a rerun does not stall');
});
