import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { isGomanError } from '../../src/domain/errors.ts';
import { compare, parseConstraint } from '../../src/nodeconfig/constraints.ts';
import { parseCriteria } from '../../src/nodeconfig/recipe/criteria.ts';
import { buildRecipe } from '../../src/nodeconfig/recipe/engine.ts';
import type { Snapshot } from '../../src/nodeconfig/types.ts';
import { validate } from '../../src/nodeconfig/validate.ts';
import { ENTRY, NODE, REPO, tempDir } from './helpers.ts';

const run = promisify(execFile);

function node(k8s: string | undefined, osId: string, versionId: string, kernel: string): Snapshot {
  const measurements: Snapshot['measurements'] = [
    { type: 'OS', subtypes: [{ subtype: 'release', data: { ID: osId, VERSION_ID: versionId } }, { subtype: 'kernel', data: { version: kernel, arch: 'aarch64' } }, { subtype: 'sysctl', data: { 'net.ipv4.ip_forward': '1' } }] },
  ];
  measurements.push(k8s ? { type: 'K8s', subtypes: [{ subtype: 'server', data: { version: k8s } }] } : { type: 'K8s', subtypes: [], reason: 'no kubeconfig' });
  return { kind: 'Snapshot', apiVersion: 'goman.io/v1', metadata: { timestamp: '2026-01-01T00:00:00.000Z', version: '0.1.0', node: 'n' }, measurements };
}

const gb200 = buildRecipe(parseCriteria({ service: 'eks', accelerator: 'gb200', intent: 'training', os: 'ubuntu' }));

describe('constraints', () => {
  test('parse Type.subtype.key <op> value, keys may hold dots', () => {
    assert.deepEqual(parseConstraint('OS.sysctl.net.ipv4.ip_forward == 1'), { name: 'OS.sysctl.net.ipv4.ip_forward', operator: '==', value: '1' });
    assert.deepEqual(parseConstraint('K8s.server.version>=1.30'), { name: 'K8s.server.version', operator: '>=', value: '1.30' });
    assert.throws(() => parseConstraint('K8s.version >= 1'), (e) => isGomanError(e, 'VALIDATION_FAILED'));
    assert.throws(() => parseConstraint('K8s.server.version ~= 1'), (e) => isGomanError(e, 'VALIDATION_FAILED'));
  });

  test('version-aware comparison with vendor suffixes', () => {
    const ok = (a: string, op: '>=' | '<=' | '>' | '<' | '==' | '!=', e: string) => compare(a, op, e);
    assert.deepEqual(ok('v1.32.4-eks-1a2b', '>=', '1.32.4'), { ok: true });
    assert.deepEqual(ok('v1.31.4-eks-1a2b', '>=', '1.32.4'), { ok: false });
    assert.deepEqual(ok('6.8.0-45-generic', '>=', '6.8'), { ok: true });
    assert.deepEqual(ok('6.5.0-1022-aws', '>=', '6.8'), { ok: false });
    assert.deepEqual(ok('1.10', '>', '1.9'), { ok: true }, 'numeric, not lexical');
    assert.deepEqual(ok('24.04', '==', '24.04'), { ok: true });
    assert.deepEqual(ok('580.105.08', '>', '580.82.07'), { ok: true });
    assert.deepEqual(ok('v1.31.2-gke.1200000', '>=', '1.31'), { ok: true });
    assert.deepEqual(ok('22.04', '<', '24.04'), { ok: true });
    assert.deepEqual(ok('ubuntu', '==', 'ubuntu'), { ok: true });
    assert.deepEqual(ok('rhel', '!=', 'ubuntu'), { ok: true });
    assert.ok('error' in ok('ubuntu', '>=', '1.0'));
  });
});

describe('validate', () => {
  test('all pass on a matching node', () => {
    const r = validate(gb200, node('v1.32.4-eks-1a2b', 'ubuntu', '24.04', '6.8.0-1021-nvidia-64k'));
    assert.deepEqual(r.summary, { passed: 4, failed: 0, skipped: 0 });
    const k = r.checks.find((c) => c.constraint.startsWith('K8s'));
    assert.deepEqual(k, { constraint: 'K8s.server.version >= 1.32.4', status: 'passed', expected: '>= 1.32.4', actual: 'v1.32.4-eks-1a2b' });
  });

  test('failures carry expected and actual; missing values are skipped', () => {
    const r = validate(gb200, node(undefined, 'ubuntu', '22.04', '6.5.0-1022-aws'));
    assert.deepEqual(r.summary, { passed: 1, failed: 2, skipped: 1 });
    assert.deepEqual(r.checks.find((c) => c.constraint.startsWith('OS.release.VERSION_ID')), { constraint: 'OS.release.VERSION_ID == 24.04', status: 'failed', expected: '== 24.04', actual: '22.04' });
    assert.equal(r.checks.find((c) => c.constraint.startsWith('K8s'))?.status, 'skipped');
  });

  test('`goman validate` prints a table and exits 1 on any failure, 0 otherwise', async () => {
    const dir = await tempDir();
    const recipe = path.join(dir, 'recipe.yaml');
    const { stdout } = await run(NODE, [ENTRY, 'recipe', '--service', 'eks', '--accelerator', 'gb200', '--intent', 'training', '--os', 'ubuntu'], { cwd: REPO });
    await writeFile(recipe, stdout);
    const good = path.join(dir, 'good.json');
    const bad = path.join(dir, 'bad.yaml');
    await writeFile(good, JSON.stringify(node('v1.33.0-eks-1', 'ubuntu', '24.04', '6.8.0-45-generic')));
    await writeFile(bad, JSON.stringify(node(undefined, 'rhel', '9.4', '5.14.0-427.el9.x86_64')));
    const ok = await run(NODE, [ENTRY, 'validate', '--recipe', recipe, '--snapshot', good], { cwd: REPO });
    assert.match(ok.stdout, /^RESULT\s+CONSTRAINT/);
    assert.match(ok.stdout, /4 passed, 0 failed, 0 skipped/);
    await assert.rejects(run(NODE, [ENTRY, 'validate', '--recipe', recipe, '--snapshot', bad], { cwd: REPO }), (e: { code: number; stdout: string }) => {
      assert.equal(e.code, 1);
      assert.match(e.stdout, /FAILED\s+OS\.release\.ID == ubuntu\s+rhel/);
      assert.match(e.stdout, /0 passed, 3 failed, 1 skipped/);
      return true;
    });
    await writeFile(bad, 'kind: Snapshot\n');
    await assert.rejects(run(NODE, [ENTRY, 'validate', '--recipe', recipe, '--snapshot', bad], { cwd: REPO }), (e: { code: number }) => e.code === 2);
  });
});
