// Table-driven tests for the status aggregation rules of DESIGN §3.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClusterStatus, ControllerRegistration, ControllerReport, ControllerStatus } from '../../src/domain/index.ts';
import { aggregateStatus, applyReport, emptyStatus, findCondition, nameList, requiredControllers } from '../../src/domain/index.ts';

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-01T00:01:00.000Z';
const T2 = '2026-01-01T00:02:00.000Z';

function reg(name: string, providers: string[], required = true): ControllerRegistration {
  return { name, providers, required, registeredAt: T0, lastHeartbeat: T0 };
}

function ctl(name: string, gen: number, ready: boolean, extra: Partial<ControllerStatus> = {}): ControllerStatus {
  return {
    name,
    observedGeneration: gen,
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: '', message: '', lastTransitionTime: T0, observedGeneration: gen }],
    updatedAt: T0,
    ...extra,
  };
}

const registry = [reg('sim-controller', ['sim']), reg('dns', ['sim', 'aws']), reg('audit', ['sim'], false), reg('aws-controller', ['aws'])];

describe('required set', () => {
  test('is every registered, required controller whose providers include the spec provider', () => {
    assert.deepEqual(requiredControllers(registry, 'sim'), ['dns', 'sim-controller']);
    assert.deepEqual(requiredControllers(registry, 'aws'), ['aws-controller', 'dns']);
    assert.deepEqual(requiredControllers([], 'sim'), []);
  });
});

describe('phase', () => {
  const base = { spec: { provider: 'sim' as const, desiredState: 'running' as const }, registry, now: T1 };
  const readyAt1: ClusterStatus = { ...emptyStatus(), phase: 'Ready', observedGeneration: 1 };
  const cases: { name: string; input: Partial<Parameters<typeof aggregateStatus>[0]>; phase: string }[] = [
    { name: 'no controller registered for the provider → Pending', input: { registry: [], controllers: [] }, phase: 'Pending' },
    { name: 'nobody reported yet → Pending', input: { controllers: [] }, phase: 'Pending' },
    { name: 'one of two required reported → Provisioning', input: { controllers: [ctl('sim-controller', 1, false)] }, phase: 'Provisioning' },
    {
      name: 'first controller ready does not make the cluster Ready',
      input: { controllers: [ctl('sim-controller', 1, true)] },
      phase: 'Provisioning',
    },
    {
      name: 'every required controller Ready at the generation → Ready',
      input: { controllers: [ctl('sim-controller', 1, true), ctl('dns', 1, true)] },
      phase: 'Ready',
    },
    {
      name: 'an optional controller never holds Ready back',
      input: { controllers: [ctl('sim-controller', 1, true), ctl('dns', 1, true), ctl('audit', 1, false)] },
      phase: 'Ready',
    },
    {
      name: 'Ready at an older generation only → Updating',
      input: { generation: 2, previous: readyAt1, controllers: [ctl('sim-controller', 1, true), ctl('dns', 1, true)] },
      phase: 'Updating',
    },
    {
      name: 'Updating stays Updating while one controller caught up',
      input: { generation: 2, previous: { ...readyAt1, phase: 'Updating' }, controllers: [ctl('sim-controller', 2, true), ctl('dns', 1, true)] },
      phase: 'Updating',
    },
    {
      name: 'desiredState stopped and not yet stopped → Stopping',
      input: { spec: { provider: 'sim', desiredState: 'stopped' }, generation: 2, previous: readyAt1, controllers: [ctl('sim-controller', 2, false), ctl('dns', 2, true)] },
      phase: 'Stopping',
    },
    {
      name: 'desiredState stopped and every controller Ready → Stopped',
      input: { spec: { provider: 'sim', desiredState: 'stopped' }, generation: 2, controllers: [ctl('sim-controller', 2, true), ctl('dns', 2, true)] },
      phase: 'Stopped',
    },
    {
      name: 'non-retryable error at the current generation → Failed',
      input: { controllers: [ctl('sim-controller', 1, false, { lastError: { code: 'QuotaExceeded', message: 'no', retryable: false } }), ctl('dns', 1, true)] },
      phase: 'Failed',
    },
    {
      name: 'retryable error is not Failed',
      input: { controllers: [ctl('sim-controller', 1, false, { lastError: { code: 'Throttled', message: 'slow down', retryable: true } })] },
      phase: 'Provisioning',
    },
    {
      name: 'Failed=True condition → Failed',
      input: {
        controllers: [
          {
            ...ctl('sim-controller', 1, false),
            conditions: [{ type: 'Failed', status: 'True', reason: 'Boom', message: 'boom', lastTransitionTime: T0, observedGeneration: 1 }],
          },
        ],
      },
      phase: 'Failed',
    },
    {
      name: 'a failure at an older generation does not fail the new one',
      input: { generation: 2, controllers: [ctl('sim-controller', 1, false, { lastError: { code: 'X', message: 'x', retryable: false } })] },
      phase: 'Pending',
    },
    {
      name: 'deletionTimestamp wins over everything → Deleting',
      input: { deletionTimestamp: T1, controllers: [ctl('sim-controller', 1, true), ctl('dns', 1, true)] },
      phase: 'Deleting',
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const status = aggregateStatus({ generation: 1, previous: emptyStatus(), controllers: [], ...base, ...c.input });
      assert.equal(status.phase, c.phase, status.message);
    });
  }

  test('the Ready condition names the controllers that hold it back', () => {
    const status = aggregateStatus({ ...base, generation: 1, previous: emptyStatus(), controllers: [ctl('sim-controller', 1, true)] });
    const ready = findCondition(status.conditions, 'Ready');
    assert.equal(ready?.status, 'False');
    assert.match(ready?.message ?? '', /dns/);
    assert.doesNotMatch(ready?.message ?? '', /sim-controller/);
  });

  test('observedGeneration records the last fully reconciled generation', () => {
    const ready = aggregateStatus({ ...base, generation: 3, previous: emptyStatus(), controllers: [ctl('sim-controller', 3, true), ctl('dns', 3, true)] });
    assert.equal(ready.observedGeneration, 3);
    const next = aggregateStatus({ ...base, generation: 4, previous: ready, controllers: [ctl('sim-controller', 3, true), ctl('dns', 3, true)] });
    assert.equal(next.observedGeneration, 3);
  });
});

describe('conditions', () => {
  test('lastTransitionTime moves only when a status changes', () => {
    const input = { spec: { provider: 'sim' as const, desiredState: 'running' as const }, registry, generation: 1, controllers: [ctl('sim-controller', 1, false)] };
    const first = aggregateStatus({ ...input, previous: emptyStatus(), now: T0 });
    const same = aggregateStatus({ ...input, previous: first, now: T1 });
    assert.equal(findCondition(same.conditions, 'Ready')?.lastTransitionTime, T0);
    const flipped = aggregateStatus({ ...input, controllers: [ctl('sim-controller', 1, true), ctl('dns', 1, true)], previous: same, now: T2 });
    assert.equal(findCondition(flipped.conditions, 'Ready')?.status, 'True');
    assert.equal(findCondition(flipped.conditions, 'Ready')?.lastTransitionTime, T2);
  });
});

describe('reports', () => {
  const report = (gen: number, ready: boolean): ControllerReport => ({
    observedGeneration: gen,
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: 'R', message: '' }],
  });

  test('a report from the future is refused', () => {
    assert.equal(applyReport(undefined, 'c', report(3, true), 2, T0).kind, 'future');
  });

  test('a report older than the last one is ignored, so status never moves backwards', () => {
    const first = applyReport(undefined, 'c', report(2, true), 2, T0);
    assert.equal(first.kind, 'accepted');
    if (first.kind !== 'accepted') return;
    assert.equal(applyReport(first.status, 'c', report(1, false), 2, T1).kind, 'stale');
  });

  test('a duplicate report keeps transition times', () => {
    const first = applyReport(undefined, 'c', report(1, true), 1, T0);
    if (first.kind !== 'accepted') throw new Error('not accepted');
    const again = applyReport(first.status, 'c', report(1, true), 1, T1);
    if (again.kind !== 'accepted') throw new Error('not accepted');
    assert.equal(again.status.conditions[0]?.lastTransitionTime, T0);
    assert.equal(again.status.updatedAt, T1);
  });

  test('metadata from an earlier report is kept when a report omits it', () => {
    const first = applyReport(undefined, 'c', { ...report(1, true), metadata: { endpoint: 'https://10.0.0.1:6443' } }, 1, T0);
    if (first.kind !== 'accepted') throw new Error('not accepted');
    const again = applyReport(first.status, 'c', report(1, true), 1, T1);
    if (again.kind !== 'accepted') throw new Error('not accepted');
    assert.equal(again.status.metadata?.endpoint, 'https://10.0.0.1:6443');
  });
});

describe('sameStatus', () => {
  test('ignores key order (jsonb reorders keys) but not values', async () => {
    const { sameStatus } = await import('../../src/domain/index.ts');
    const a = emptyStatus();
    const reordered = JSON.parse(JSON.stringify({ nodes: a.nodes, message: a.message, phase: a.phase, reason: a.reason, conditions: a.conditions, controllers: a.controllers, observedGeneration: a.observedGeneration })) as ClusterStatus;
    assert.equal(sameStatus(a, reordered), true);
    assert.equal(sameStatus(a, { ...a, phase: 'Ready' }), false);
  });
});

test('condition messages name at most 10 nodes or controllers, then a count', () => {
  assert.equal(nameList([]), '');
  assert.equal(nameList(['a', 'b']), 'a, b');
  const many = Array.from({ length: 1000 }, (_, i) => `cluster-pool-agent-${i}`);
  assert.equal(nameList(many), `${many.slice(0, 10).join(', ')} and 990 more`);
  assert.ok(nameList(many).length < 2000);
});
