// The aws provider's pure plan (DESIGN §13): from the spec and an observed snapshot to the
// ordered actions its reconcile runs. The reconcile side is covered on moto by test/aws.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clusterSpecSchema } from '../../../src/domain/spec.ts';
import { slotKey } from '../../../src/domain/slots.ts';
import type { InstanceInfo } from '../../../src/providers/aws/ec2.ts';
import type { K3sNode } from '../../../src/providers/aws/k3s.ts';
import { planAws, rolloutBatch } from '../../../src/providers/aws/plan.ts';
import { upgradeSettings } from '../../../src/domain/day2.ts';

let n = 0;
function inst(role: 'server' | 'agent', pool: string, index: number, state = 'running'): InstanceInfo {
  return { id: `i-${++n}`, role, pool, index, key: slotKey({ role, pool, index }), state, privateIp: `10.0.0.${n}`, attempt: 0, launchedAt: n };
}
const node = (name: string, version = 'v1.31.4+k3s1'): [string, K3sNode] => [name, { name, ready: true, version, labels: {}, taints: [] }];
const seen = { hasSecurityGroup: true, hasToken: true, hasKubeconfig: true };
const words = (actions: { kind: string; node?: string | undefined }[]) => actions.map((a) => `${a.kind} ${a.node ?? ''}`.trim());

test('aws plan: a new cluster creates its resources, launches every slot, then installs K3s server first', () => {
  const spec = clusterSpecSchema.parse({ provider: 'aws', nodePools: [{ name: 'w', count: 1, instanceType: 't3.large', labels: { tier: 'web' } }] });
  const plan = planAws({ name: 'c', spec, deleting: false }, { instances: [], hasSecurityGroup: false, hasToken: false, k3s: null, hasKubeconfig: false });
  assert.deepEqual(words(plan), [
    'create-resources the security group and join token',
    'launch c-server-0',
    'launch c-w-agent-0',
    'install-k3s c-server-0',
    'install-k3s c-w-agent-0',
    'label-node c-w-agent-0',
    'create-resources the kubeconfig parameter',
  ]);
  assert.equal(plan[2]?.instanceType, 't3.large');
});

test('aws plan: a smaller pool drains then terminates; a new pinned version rolls out node by node (cordon, drain, upgrade, uncordon; server first)', () => {
  const spec = clusterSpecSchema.parse({ provider: 'aws', k3sVersion: 'v1.32.1+k3s1', nodePools: [{ name: 'w', count: 1 }] });
  const instances = [inst('server', 'control-plane', 0), inst('agent', 'w', 0), inst('agent', 'w', 1), inst('agent', 'w', 2, 'terminated')];
  const k3s = new Map([node('c-server-0'), node('c-w-agent-0'), node('c-w-agent-1')]);
  const plan = planAws({ name: 'c', spec, deleting: false }, { ...seen, instances, k3s });
  const steps = (node: string) => ['cordon', 'drain', 'upgrade-k3s', 'uncordon'].map((k) => `${k} ${node}`);
  assert.deepEqual(words(plan), ['drain c-w-agent-1', 'terminate c-w-agent-1', ...steps('c-server-0'), ...steps('c-w-agent-0')]);
  assert.ok(plan.filter((a) => a.kind === 'cordon').every((a) => a.reason === 'rollout to v1.32.1+k3s1'));
  assert.deepEqual([...rolloutBatch(spec, plan)], ['c-server-0'], 'the server alone first');
  assert.deepEqual([...rolloutBatch({ ...spec, upgrade: { ...upgradeSettings(spec), paused: true } }, plan)], [], 'nothing while paused');
});

test('aws plan: stop stops every running instance; delete terminates all, then deletes resources', () => {
  const instances = [inst('server', 'control-plane', 0), inst('agent', 'w', 0, 'stopped')];
  const stopped = clusterSpecSchema.parse({ provider: 'aws', desiredState: 'stopped', nodePools: [{ name: 'w', count: 1 }] });
  assert.deepEqual(words(planAws({ name: 'c', spec: stopped, deleting: false }, { ...seen, instances, k3s: null })), ['stop c-server-0']);
  const running = { ...stopped, desiredState: 'running' as const };
  assert.deepEqual(words(planAws({ name: 'c', spec: running, deleting: false }, { ...seen, instances, k3s: new Map([node('c-server-0'), node('c-w-agent-0')]) })), ['start c-w-agent-0']);
  assert.deepEqual(words(planAws({ name: 'c', spec: running, deleting: true }, { ...seen, instances, k3s: null })), [
    'terminate c-server-0',
    'terminate c-w-agent-0',
    'delete-resources the security group and the join token and kubeconfig parameters',
  ]);
});

test('aws rollout batch: upgraded nodes not yet back count against maxUnavailable; a server in flight holds every other node; a stall holds all', () => {
  const spec = clusterSpecSchema.parse({ provider: 'aws', k3sVersion: 'v1.32.1+k3s1', nodePools: [{ name: 'w', count: 4 }], upgrade: { maxUnavailable: 2 } });
  const instances = [inst('server', 'control-plane', 0), ...[0, 1, 2, 3].map((i) => inst('agent', 'w', i))];
  const agents = [0, 1, 2, 3].map((i) => `c-w-agent-${i}`);
  // The server is done; agent 0 was upgraded and is on its way back (K3s already lists the new version).
  const k3s = new Map([node('c-server-0', 'v1.32.1+k3s1'), node('c-w-agent-0', 'v1.32.1+k3s1'), ...agents.slice(1).map((a) => node(a))]);
  const plan = planAws({ name: 'c', spec, deleting: false }, { ...seen, instances, k3s });
  assert.deepEqual([...rolloutBatch(spec, plan)], ['c-w-agent-1', 'c-w-agent-2'], 'nothing in flight: two agents');
  assert.deepEqual([...rolloutBatch(spec, plan, new Map([['c-w-agent-0', 'agent']]))], ['c-w-agent-1'], 'one in flight: one more');
  assert.deepEqual([...rolloutBatch(spec, plan, new Map([['c-w-agent-0', 'agent'], ['c-w-agent-3', 'agent']]))], [], 'two in flight: none');
  assert.deepEqual([...rolloutBatch(spec, plan, new Map([['c-server-0', 'server']]))], [], 'a server in flight: no agent starts');
  assert.deepEqual([...rolloutBatch(spec, plan, new Map(), true)], [], 'stalled: nothing starts');
});
