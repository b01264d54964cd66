// Day 2 rules (DESIGN §14), pure: K3s version skew, maxUnavailable as a number or a percentage,
// spec defaults, and the refusals shared by the API and the serverless backend.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Cluster } from '../../src/domain/index.ts';
import { nextFire, parseCron } from '../../src/domain/cron.ts';
import { assertDay2Change, clusterSpecSchema, emptyStatus, isGomanError, maxUnavailableOf, skewProblem, undoRollout, UnprocessableError, upgradeSettings } from '../../src/domain/index.ts';

test('skew: one minor version up at a time, patches either way within a minor, no downgrade across a minor, channels unchecked', () => {
  assert.equal(skewProblem('v1.30.5+k3s1', 'v1.31.0+k3s1'), undefined);
  assert.equal(skewProblem('v1.30.5+k3s1', 'v1.30.2+k3s1'), undefined);
  assert.match(skewProblem('v1.30.5+k3s1', 'v1.32.0+k3s1') ?? '', /one minor version at a time/);
  assert.match(skewProblem('v1.31.0+k3s1', 'v1.30.5+k3s1') ?? '', /cannot downgrade across a minor version/);
  assert.equal(skewProblem('stable', 'v1.33.0+k3s1'), undefined);
});

test('maxUnavailable: a number as is, a percentage of the agents rounded down and at least 1', () => {
  assert.equal(maxUnavailableOf(2, 6), 2);
  assert.equal(maxUnavailableOf('50%', 6), 3);
  assert.equal(maxUnavailableOf('10%', 6), 1);
});

test('spec.upgrade defaults: maxUnavailable 1, drainTimeout 5m, nodeTimeout 10m, force false; a bad duration is refused', () => {
  assert.deepEqual(upgradeSettings(clusterSpecSchema.parse({})), { maxUnavailable: 1, drainTimeout: '5m', nodeTimeout: '10m', force: false, paused: false });
  assert.equal(clusterSpecSchema.safeParse({ upgrade: { drainTimeout: 'soon' } }).success, false);
  assert.equal(clusterSpecSchema.safeParse({ upgrade: { maxUnavailable: '150%' } }).success, false);
  assert.equal(clusterSpecSchema.parse({ backup: {} }).backup?.retention, 5);
});

test('a version change is 422 naming spec.k3sVersion past the skew rules, allowed back to the rollout\'s fromVersion (undo), and 409 while a restore runs', () => {
  const spec = clusterSpecSchema.parse({ k3sVersion: 'v1.31.2+k3s1' });
  const before: Pick<Cluster, 'spec' | 'status'> = { spec, status: emptyStatus() };
  assert.throws(() => assertDay2Change(before, { ...spec, k3sVersion: 'v1.30.1+k3s1' }), (e) => e instanceof UnprocessableError && e.errors?.[0]?.path === 'spec.k3sVersion');
  const rolled = { ...before, status: { ...emptyStatus(), rollout: { fromVersion: 'v1.30.1+k3s1', toVersion: 'v1.31.2+k3s1', startedAt: '', nodesDone: 1, nodesTotal: 1, current: [], paused: false, reason: '', history: [] } } };
  assertDay2Change(rolled, undoRollout({ name: 'x', status: rolled.status })(spec));
  const restoring = { ...before, status: { ...emptyStatus(), restore: { snapshot: 's', k3sVersion: 'v1.31.2+k3s1', startedAt: '', stepsDone: [] } } };
  assert.throws(() => assertDay2Change(restoring, { ...spec, k3sVersion: 'v1.31.3+k3s1' }), (e) => isGomanError(e, 'CONFLICT'));
});

test('cron: five fields with *, ranges, steps and lists; the next fire in UTC; what never parses is refused by the schema', () => {
  const every5 = parseCron('*/5 * * * *');
  assert.ok(every5);
  assert.equal(new Date(nextFire(every5, Date.parse('2026-01-01T00:03:10Z')) ?? 0).toISOString(), '2026-01-01T00:05:00.000Z');
  const noon = parseCron('0 12 * * 1-5');
  assert.ok(noon);
  assert.equal(new Date(nextFire(noon, Date.parse('2026-01-03T13:00:00Z')) ?? 0).toISOString(), '2026-01-05T12:00:00.000Z', 'Saturday → Monday noon');
  for (const bad of ['* * * *', '61 * * * *', 'a b c d e', '*/0 * * * *']) assert.equal(parseCron(bad), undefined, bad);
  assert.equal(clusterSpecSchema.safeParse({ backup: { schedule: '99 * * * *' } }).success, false);
});
