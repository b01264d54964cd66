// Admission rules: what a provider could never build is refused up front, naming the field.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { admissionProblems, assertAdmissible, clusterSpecSchema, isGomanError, UnprocessableError } from '../../src/domain/index.ts';

const spec = (over: Record<string, unknown>) => clusterSpecSchema.parse(over);
const paths = (name: string, over: Record<string, unknown>): string[] => admissionProblems(name, spec(over)).map((p) => p.path);

test('aws: node names longer than a Kubernetes label value (63) are refused', () => {
  const longName = 'a'.repeat(30);
  const longPool = 'p'.repeat(30);
  assert.deepEqual(paths(longName, { provider: 'aws', nodePools: [{ name: longPool, count: 2 }] }), ['spec.nodePools.0.name']);
  assert.throws(
    () => assertAdmissible(longName, spec({ provider: 'aws', nodePools: [{ name: longPool, count: 2 }] })),
    (e: unknown) => e instanceof UnprocessableError && isGomanError(e, 'VALIDATION_FAILED') && e.errors?.[0]?.path === 'spec.nodePools.0.name',
  );
  assert.deepEqual(paths('demo', { provider: 'aws', nodePools: [{ name: longPool, count: 100 }] }), []);
  assert.deepEqual(paths(longName, { provider: 'sim', nodePools: [{ name: longPool, count: 2 }] }), [], 'sim runs no K3s');
  assert.deepEqual(paths('demo', { provider: 'aws', nodePools: [{ name: 'server', count: 1 }] }), [], 'agent names never collide with servers');
});

test('aws: subnets without their VPC are refused', () => {
  assert.deepEqual(paths('demo', { provider: 'aws', network: { subnetIds: ['subnet-0123456789abcdef0'] } }), ['spec.network.vpcId']);
  assert.deepEqual(paths('demo', { provider: 'aws', network: { vpcId: 'vpc-0123abcd', subnetIds: ['subnet-0123456789abcdef0'] } }), []);
});

test('CIDRs K3s would refuse: impossible octets or prefixes, and pod/service ranges that overlap', () => {
  assert.deepEqual(paths('demo', { network: { podCIDR: '10.300.0.0/16' } }), ['spec.network.podCIDR']);
  assert.deepEqual(paths('demo', { network: { serviceCIDR: '10.43.0.0/40' } }), ['spec.network.serviceCIDR']);
  assert.deepEqual(paths('demo', { network: { podCIDR: '10.0.0.0/8', serviceCIDR: '10.43.0.0/16' } }), ['spec.network.serviceCIDR']);
  assert.deepEqual(paths('demo', { network: { podCIDR: '10.42.0.0/16', serviceCIDR: '10.43.0.0/16' } }), []);
});
