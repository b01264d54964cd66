// POST /api/v1/clusters/{idOrName}/plan and ?dryRun=true on cluster writes (DESIGN §13),
// against a real SQLite store; the sim cluster's simulated cloud is made to converge by the
// sim reconciler itself, so the plan is computed from what the provider observes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Cluster } from '../../src/domain/index.ts';
import { SIM_CONTROLLER, SimReconciler } from '../../src/providers/sim/reconciler.ts';
import type { PlanResult } from '../../src/domain/plan-result.ts';
import { harness, reconcilePass, type Harness } from './harness.ts';

async function converge(h: Harness, name: string): Promise<Cluster> {
  await h.store.registerController(SIM_CONTROLLER, { providers: ['sim'], required: true });
  const sim = new SimReconciler({ store: h.store, bootMs: 0, installMs: 0, env: {} });
  return reconcilePass(h, sim, name);
}

test('plan: a smaller pool drains and terminates its highest nodes, with disruption and cost before → after', async (t) => {
  const h = await harness(t);
  const created = await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'p1', spec: { region: 'us-east-1', nodePools: [{ name: 'w', count: 3, instanceType: 't3.large' }] } } });
  assert.equal(created.statusCode, 201);
  const cluster = await converge(h, 'p1');
  const before = await h.snapshot();
  const res = await h.call('alice', {
    method: 'POST',
    url: '/api/v1/clusters/p1/plan',
    payload: { spec: { ...cluster.spec, nodePools: [{ name: 'w', count: 1, instanceType: 't3.large' }] } },
  });
  assert.equal(res.statusCode, 200, res.body);
  const plan = res.json<PlanResult & { name: string }>();
  assert.deepEqual(
    plan.actions.map((a) => `${a.kind} ${a.node}`),
    ['drain p1-w-agent-1', 'drain p1-w-agent-2', 'terminate p1-w-agent-1', 'terminate p1-w-agent-2'],
  );
  assert.deepEqual(plan.disruption, { nodesDrained: 2, nodesReplaced: 0, downtime: false });
  assert.equal(plan.cost.before.hourly, 0.0416 + 3 * 0.0832);
  assert.equal(plan.cost.after.hourly, 0.0416 + 0.0832);
  assert.equal(plan.cost.after.origin, 'shipped-table');
  assert.match(plan.specDiff, /^--- p1 \(current\)\n\+\+\+ p1 \(proposed\)\n/);
  assert.match(plan.specDiff, /\n-\s+count: 3\n\+\s+count: 1\n/, plan.specDiff);
  assert.equal(await h.snapshot(), before, 'planning writes nothing');

  const current = await h.call('alice', { method: 'POST', url: '/api/v1/clusters/p1/plan' });
  assert.equal(current.statusCode, 200);
  assert.deepEqual(current.json<PlanResult>().actions, [], 'a converged cluster has nothing left to do');
  assert.equal(current.json<PlanResult>().specDiff, '');
});

test('plan: a provider change is refused, an unknown cluster is 404, another user\'s cluster too', async (t) => {
  const h = await harness(t);
  await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'p2' } });
  const res = await h.call('alice', { method: 'POST', url: '/api/v1/clusters/p2/plan', payload: { spec: { provider: 'aws' } } });
  // The same 422 the PATCH itself would get: a plan admits a change as the write does.
  assert.equal(res.statusCode, 422);
  assert.deepEqual(res.json<{ errors: { path: string }[] }>().errors.map((e) => e.path), ['spec.provider']);
  assert.equal((await h.call('alice', { method: 'POST', url: '/api/v1/clusters/nope/plan' })).statusCode, 404);
  assert.equal((await h.call('bob', { method: 'POST', url: '/api/v1/clusters/p2/plan' })).statusCode, 404);
});

test('dryRun=true on create, patch, put and delete validates and plans but writes nothing', async (t) => {
  const h = await harness(t);
  const before0 = await h.snapshot();
  const dry = await h.call('alice', { method: 'POST', url: '/api/v1/clusters?dryRun=true', payload: { name: 'd1', spec: { mode: 'ha', region: 'ap-south-1' } } });
  assert.equal(dry.statusCode, 200, dry.body);
  const would = dry.json<Cluster & { plan: PlanResult }>();
  assert.equal(would.name, 'd1');
  assert.equal(would.generation, 1);
  assert.deepEqual(would.plan.actions.map((a) => a.kind), ['launch', 'launch', 'launch']);
  assert.equal(would.plan.cost.before.monthly, 0);
  assert.equal(would.plan.cost.after.monthly, Math.round(3 * 0.0448 * 730 * 100) / 100);
  assert.equal(await h.snapshot(), before0, 'a dry-run create writes nothing');
  const invalid = await h.call('alice', { method: 'POST', url: '/api/v1/clusters?dryRun=true', payload: { name: 'Bad_Name' } });
  assert.equal(invalid.statusCode, 400, 'a dry run validates like the real write');

  await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'd1' } });
  assert.equal((await h.call('alice', { method: 'POST', url: '/api/v1/clusters?dryRun=true', payload: { name: 'd1' } })).statusCode, 409);
  const cluster = await converge(h, 'd1');
  const before = await h.snapshot();

  const patch = await h.call('alice', {
    method: 'PATCH',
    url: '/api/v1/clusters/d1?dryRun=true',
    headers: { 'content-type': 'application/merge-patch+json', 'if-match': `"${cluster.resourceVersion}"` },
    payload: { spec: { desiredState: 'stopped' } },
  });
  assert.equal(patch.statusCode, 200, patch.body);
  const patched = patch.json<Cluster & { plan: PlanResult }>();
  assert.equal(patched.spec.desiredState, 'stopped');
  assert.equal(patched.generation, cluster.generation + 1);
  assert.equal(patched.resourceVersion, cluster.resourceVersion);
  assert.deepEqual(patched.plan.actions.map((a) => a.kind), ['stop']);
  assert.equal(patched.plan.disruption.downtime, true);
  const stale = await h.call('alice', { method: 'PATCH', url: '/api/v1/clusters/d1?dryRun=true', headers: { 'content-type': 'application/merge-patch+json', 'if-match': '"1"' }, payload: { spec: { desiredState: 'stopped' } } });
  assert.equal(stale.statusCode, 412, 'If-Match is checked on a dry run too');

  const moved = await h.call('alice', { method: 'PATCH', url: '/api/v1/clusters/d1?dryRun=true', headers: { 'content-type': 'application/merge-patch+json' }, payload: { spec: { region: 'eu-west-1' } } });
  assert.equal(moved.statusCode, 422, 'a dry run refuses an immutable change as the real write does');
  // aws node names (<cluster>-<pool>-agent-<i>) must fit in 63 characters: an admission rule.
  const longNames = { name: `d${'x'.repeat(39)}`, spec: { provider: 'aws', nodePools: [{ name: 'p'.repeat(30), count: 1 }] } };
  const inadmissible = await h.call('alice', { method: 'POST', url: '/api/v1/clusters?dryRun=true', payload: longNames });
  assert.equal(inadmissible.statusCode, 422, 'a dry-run create applies the admission rules');
  assert.equal((await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: longNames })).statusCode, 422, 'as the real create does');

  const put = await h.call('alice', { method: 'PUT', url: '/api/v1/clusters/d1?dryRun=All', payload: { spec: { ...cluster.spec, instanceType: 't3.large' } } });
  assert.equal(put.statusCode, 200, put.body);
  assert.deepEqual(put.json<Cluster & { plan: PlanResult }>().plan.disruption, { nodesDrained: 1, nodesReplaced: 1, downtime: true });

  const del = await h.call('alice', { method: 'DELETE', url: '/api/v1/clusters/d1?dryRun=true' });
  assert.equal(del.statusCode, 200, del.body);
  const deleted = del.json<Cluster & { plan: PlanResult }>();
  assert.ok(deleted.deletionTimestamp);
  assert.deepEqual(deleted.plan.actions.map((a) => a.kind), ['terminate', 'delete-resources']);
  assert.equal(deleted.plan.cost.after.monthly, 0);
  assert.equal(await h.snapshot(), before, 'no dry run wrote anything');
});

test('plan: a JSON null body is refused as 400 naming the body; no body at all is the current spec', async (t) => {
  const h = await harness(t);
  await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'p-null' } });
  const refused = await h.call('alice', { method: 'POST', url: '/api/v1/clusters/p-null/plan', headers: { 'content-type': 'application/json' }, payload: 'null' });
  assert.equal(refused.statusCode, 400);
  assert.deepEqual(refused.json<{ errors: { path: string }[] }>().errors.map((e) => e.path), ['body']);
  assert.equal((await h.call('alice', { method: 'POST', url: '/api/v1/clusters/p-null/plan' })).statusCode, 200);
  assert.equal((await h.call('alice', { method: 'POST', url: '/api/v1/clusters/p-null/plan', payload: {} })).statusCode, 200);
});

test('openapi: the plan route and the dryRun parameter are documented', async (t) => {
  const h = await harness(t);
  const doc = (await h.call(null, { method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, Record<string, { parameters?: { name: string }[] }>> }>();
  assert.ok(doc.paths['/api/v1/clusters/{idOrName}/plan']?.post, 'POST /plan is in the document');
  for (const [p, m] of [['/api/v1/clusters', 'post'], ['/api/v1/clusters/{idOrName}', 'patch'], ['/api/v1/clusters/{idOrName}', 'put'], ['/api/v1/clusters/{idOrName}', 'delete']] as const) {
    assert.ok(doc.paths[p]?.[m]?.parameters?.some((x) => x.name === 'dryRun'), `${m.toUpperCase()} ${p} documents dryRun`);
  }
});
