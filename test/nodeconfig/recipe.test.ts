import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { isGomanError } from '../../src/domain/errors.ts';
import { acceleratorFromProduct, criteriaFromSnapshot, parseCriteria } from '../../src/nodeconfig/recipe/criteria.ts';
import { loadRecipeData, recipeData, type RecipeData } from '../../src/nodeconfig/recipe/data.ts';
import { applicableOverlays, buildRecipe, cachedRecipe } from '../../src/nodeconfig/recipe/engine.ts';
import { deepMerge } from '../../src/nodeconfig/recipe/merge.ts';
import { deploymentOrder } from '../../src/nodeconfig/recipe/order.ts';
import { recipeResultSchema, type Snapshot } from '../../src/nodeconfig/types.ts';
import { ENTRY, NODE, REPO, tempDir } from './helpers.ts';

const run = promisify(execFile);
const GOLDEN = fileURLToPath(new URL('./golden/', import.meta.url));

const GOLDEN_CASES: Record<string, Record<string, unknown>> = {
  'gb200-eks-training-ubuntu': { service: 'eks', accelerator: 'gb200', intent: 'training', os: 'ubuntu' },
  'h100-any-inference-ubuntu': { accelerator: 'h100', intent: 'inference', os: 'ubuntu' },
  'any-gke-any-cos': { service: 'gke', os: 'cos' },
  'l40-aks-inference-rhel-4nodes': { service: 'aks', accelerator: 'l40', intent: 'inference', os: 'rhel', nodes: 4 },
  'any': {},
};

const recipeFor = (c: Record<string, unknown>) => buildRecipe(parseCriteria(c));
const component = (r: ReturnType<typeof recipeFor>, name: string) => r.components.find((c) => c.name === name);
const constraint = (r: ReturnType<typeof recipeFor>, name: string) => r.constraints.find((c) => c.name === name);

const snapshot = (k8sVersion: string, providerID: string, product: string, osId: string): Snapshot => ({
  kind: 'Snapshot',
  apiVersion: 'goman.io/v1',
  metadata: { timestamp: '2026-01-01T00:00:00.000Z', version: '0.1.0', node: 'n' },
  measurements: [
    { type: 'OS', subtypes: [{ subtype: 'release', data: { ID: osId, VERSION_ID: '24.04' } }] },
    { type: 'GPU', subtypes: [{ subtype: 'summary', data: { count: 1 } }, { subtype: 'gpu0', data: { productName: product } }] },
    { type: 'K8s', subtypes: [{ subtype: 'server', data: { version: k8sVersion } }, { subtype: 'node', data: { providerID } }] },
  ],
});

describe('recipe golden files', () => {
  for (const [name, criteria] of Object.entries(GOLDEN_CASES)) {
    test(`${name}: byte-identical to the committed golden file, every time`, async () => {
      const text = `${JSON.stringify(recipeFor(criteria), null, 2)}\n`;
      assert.equal(`${JSON.stringify(recipeFor(criteria), null, 2)}\n`, text, 'same criteria, same bytes');
      const file = path.join(GOLDEN, `${name}.json`);
      if (process.env.GOMAN_UPDATE_GOLDEN) {
        await mkdir(GOLDEN, { recursive: true });
        await writeFile(file, text);
      }
      assert.equal(text, await readFile(file, 'utf8'));
      assert.ok(recipeResultSchema.safeParse(JSON.parse(text)).success);
    });
  }
});

describe('recipe engine', () => {
  test('gb200 + eks + training + ubuntu carries every constraint and version its overlays name', () => {
    const r = recipeFor(GOLDEN_CASES['gb200-eks-training-ubuntu'] ?? {});
    assert.deepEqual(r.metadata.appliedOverlays, ['base', 'eks', 'eks-training', 'gb200-eks-training', 'gb200-eks-ubuntu-training']);
    assert.deepEqual(constraint(r, 'K8s.server.version'), { name: 'K8s.server.version', operator: '>=', value: '1.32.4' });
    assert.equal(r.constraints.filter((c) => c.name === 'K8s.server.version').length, 1, 'later constraint replaced earlier ones');
    assert.deepEqual(constraint(r, 'OS.release.ID'), { name: 'OS.release.ID', operator: '==', value: 'ubuntu' });
    assert.deepEqual(constraint(r, 'OS.release.VERSION_ID'), { name: 'OS.release.VERSION_ID', operator: '==', value: '24.04' });
    assert.deepEqual(constraint(r, 'OS.kernel.version'), { name: 'OS.kernel.version', operator: '>=', value: '6.8' });
    const op = component(r, 'gpu-operator');
    assert.equal(op?.version, 'v25.3.3');
    const v = op?.values as { driver: Record<string, unknown>; cdi: { enabled: boolean }; gdrcopy: { enabled: boolean; version: string } };
    assert.equal(v.driver.version, '580.82.07');
    assert.equal(v.cdi.enabled, true);
    assert.equal(v.gdrcopy.enabled, true);
    assert.ok(component(r, 'nvidia-dra-driver-gpu'));
    assert.ok(r.deploymentOrder.indexOf('gpu-operator') < r.deploymentOrder.indexOf('nvidia-dra-driver-gpu'));
    assert.ok(r.deploymentOrder.indexOf('cert-manager') < r.deploymentOrder.indexOf('gpu-operator'));
  });

  test('overrides merge deeply: base values an overlay does not name survive (eidos merged shallowly)', () => {
    const r = recipeFor(GOLDEN_CASES['gb200-eks-training-ubuntu'] ?? {});
    const v = component(r, 'gpu-operator')?.values as { driver: Record<string, unknown>; gdrcopy: Record<string, unknown>; dcgmExporter: unknown };
    assert.equal(v.driver.kernelModuleType, 'open', 'kept from base next to the overlay driver.version');
    assert.deepEqual(v.driver.rdma, { enabled: true });
    assert.equal(v.gdrcopy.version, 'v2.5');
    assert.deepEqual(v.dcgmExporter, { enabled: true, serviceMonitor: { enabled: true } });
    assert.deepEqual(deepMerge({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, e: 2 }), { a: { b: 1, c: [3] }, d: 1, e: 2 });
  });

  test('equal-specificity overlays apply in name order, whatever order the data lists them (eidos: random)', () => {
    const data = recipeData();
    const reversed: RecipeData = { ...data, overlays: [...data.overlays].reverse() };
    const q = parseCriteria({ accelerator: 'l40', intent: 'inference' });
    const names = (d: RecipeData) => applicableOverlays(d, q).map((o) => o.name);
    assert.deepEqual(names(data), ['l40', 'monitoring-hpa']);
    assert.deepEqual(names(reversed), names(data));
    assert.deepEqual(buildRecipe(q, reversed), buildRecipe(q, data));
  });

  test('gke + cos: the operator installs no driver (COS ships it)', () => {
    const v = component(recipeFor({ service: 'gke', os: 'cos' }), 'gpu-operator')?.values as { driver: { enabled: boolean }; cdi: { enabled: boolean } };
    assert.equal(v.driver.enabled, false);
    assert.equal(v.cdi.enabled, true);
  });

  test('inference adds prometheus-adapter after kube-prometheus-stack; h100+ubuntu+inference adds network-operator', () => {
    const r = recipeFor({ accelerator: 'h100', intent: 'inference', os: 'ubuntu' });
    assert.ok(r.deploymentOrder.indexOf('kube-prometheus-stack') < r.deploymentOrder.indexOf('prometheus-adapter'));
    assert.ok(component(r, 'network-operator'));
    assert.deepEqual(constraint(r, 'OS.release.VERSION_ID'), { name: 'OS.release.VERSION_ID', operator: '>=', value: '24.04' });
  });

  test('`any` matches only overlays that leave the field empty', () => {
    assert.deepEqual(recipeFor({}).metadata.appliedOverlays, ['base']);
    assert.deepEqual(recipeFor({ intent: 'training', accelerator: 'gb200' }).metadata.appliedOverlays, ['base']);
    assert.deepEqual(recipeFor({ service: 'eks' }).metadata.appliedOverlays, ['base', 'eks']);
  });

  test('shared data is never mutated: a second recipe is unaffected by the first (eidos mutated its cache)', () => {
    const before = recipeFor({});
    const gb = recipeFor(GOLDEN_CASES['gb200-eks-training-ubuntu'] ?? {});
    (component(gb, 'gpu-operator')?.values as { driver: { version: string } }).driver.version = 'tampered';
    const after = recipeFor({});
    assert.deepEqual(after, before);
    assert.equal(component(after, 'gpu-operator')?.version, 'v25.10.1');
    assert.equal((component(after, 'gpu-operator')?.values as { driver: { version: string } }).driver.version, '580.105.08');
    assert.ok(Object.isFrozen(recipeData().components['gpu-operator']?.values));
    const cached = cachedRecipe(parseCriteria({ service: 'eks' }));
    assert.throws(() => {
      (cached.result.components[0] as { version: string }).version = 'x';
    }, TypeError);
  });

  test('the loaded data matches a fresh load (nothing changed it during this run)', () => {
    recipeFor(GOLDEN_CASES['gb200-eks-training-ubuntu'] ?? {});
    assert.deepEqual(JSON.parse(JSON.stringify(recipeData())), JSON.parse(JSON.stringify(loadRecipeData())));
  });

  test('deployment order: dependencies first, ties by name, a cycle is an error', () => {
    assert.deepEqual(deploymentOrder(new Map([['b', []], ['a', ['c']], ['c', []]])), ['b', 'c', 'a']);
    assert.throws(() => deploymentOrder(new Map([['a', ['b']], ['b', ['a']]])), (e) => isGomanError(e, 'VALIDATION_FAILED'));
  });
});

describe('criteria', () => {
  test('unknown values are VALIDATION_FAILED listing the allowed values', () => {
    assert.throws(
      () => parseCriteria({ service: 'ecs', accelerator: 'h200' }),
      (e) => {
        assert.ok(isGomanError(e, 'VALIDATION_FAILED'));
        assert.deepEqual(e.errors?.map((f) => f.path), ['service', 'accelerator']);
        assert.match(e.errors?.[0]?.message ?? '', /allowed: eks, gke, aks, oke, any/);
        assert.match(e.errors?.[1]?.message ?? '', /allowed: h100, gb200, a100, l40, any/);
        return true;
      },
    );
    assert.throws(() => parseCriteria({ nodes: '0' }), (e) => isGomanError(e, 'VALIDATION_FAILED'));
    assert.throws(() => parseCriteria({ color: 'red' }), (e) => isGomanError(e, 'VALIDATION_FAILED'));
    assert.deepEqual(parseCriteria({ service: 'EKS', nodes: '8' }), { service: 'eks', accelerator: 'any', intent: 'any', os: 'any', nodes: 8 });
  });

  test('accelerator from a GPU name is a whole-token match, never a subsequence (eidos: "g…b200" was gb200)', () => {
    assert.equal(acceleratorFromProduct('NVIDIA H100 80GB HBM3'), 'h100');
    assert.equal(acceleratorFromProduct('NVIDIA GB200'), 'gb200');
    assert.equal(acceleratorFromProduct('NVIDIA A100-SXM4-80GB'), 'a100');
    assert.equal(acceleratorFromProduct('NVIDIA L40'), 'l40');
    assert.equal(acceleratorFromProduct('NVIDIA GeForce RTX 4090 b200'), 'any');
    assert.equal(acceleratorFromProduct('g-fake-b200 board'), 'any');
    assert.equal(acceleratorFromProduct('NVIDIA GH200 480GB'), 'any');
    assert.equal(acceleratorFromProduct('NVIDIA L40S'), 'any');
    assert.equal(acceleratorFromProduct('NVIDIA GB2000'), 'any');
  });

  test('from a snapshot: service from version or providerID, accelerator, os; flags win', () => {
    assert.deepEqual(criteriaFromSnapshot(snapshot('v1.32.4-eks-1a2b', '', 'NVIDIA GB200', 'ubuntu'), { intent: 'training' }), { service: 'eks', accelerator: 'gb200', intent: 'training', os: 'ubuntu' });
    assert.equal(criteriaFromSnapshot(snapshot('v1.31.2-gke.1200000', '', 'x', 'cos')).service, 'gke');
    assert.equal(criteriaFromSnapshot(snapshot('v1.31.2', 'azure:///subscriptions/x', 'x', 'rhel')).service, 'aks');
    assert.equal(criteriaFromSnapshot(snapshot('v1.31.2', 'oci://ocid1.instance', 'x', 'amzn')).os, 'amazonlinux');
    assert.equal(criteriaFromSnapshot(snapshot('v1.31.2+k3s1', 'k3s://node', 'NVIDIA A100 80GB PCIe', 'debian')).service, 'any');
    assert.equal(criteriaFromSnapshot(snapshot('v1.31.2', '', 'g-b200', 'ubuntu')).accelerator, 'any');
    assert.equal(criteriaFromSnapshot(snapshot('v1.31.2', '', 'NVIDIA H100 80GB HBM3', 'ubuntu'), { accelerator: 'gb200' }).accelerator, 'gb200');
  });
});

describe('goman recipe (CLI)', () => {
  test('flags, --criteria file and --snapshot file agree; bad values exit 2', async () => {
    const dir = await tempDir();
    const args = ['--service', 'eks', '--accelerator', 'gb200', '--intent', 'training', '--os', 'ubuntu'];
    const fromFlags = (await run(NODE, [ENTRY, 'recipe', ...args, '-o', 'json'], { cwd: REPO })).stdout;
    assert.equal(fromFlags, `${JSON.stringify(recipeFor(GOLDEN_CASES['gb200-eks-training-ubuntu'] ?? {}), null, 2)}\n`);
    const crit = path.join(dir, 'criteria.yaml');
    await writeFile(crit, 'service: eks\naccelerator: gb200\nintent: training\nos: ubuntu\n');
    const fromFile = (await run(NODE, [ENTRY, 'recipe', '--criteria', crit, '-o', 'json'], { cwd: REPO })).stdout;
    assert.equal(fromFile, fromFlags);
    const snap = path.join(dir, 'snap.json');
    await writeFile(snap, JSON.stringify(snapshot('v1.33.1-eks-9f8e', 'aws:///x', 'NVIDIA GB200', 'ubuntu')));
    const fromSnap = (await run(NODE, [ENTRY, 'recipe', '--snapshot', snap, '--intent', 'training'], { cwd: REPO })).stdout;
    assert.deepEqual(parseYaml(fromSnap), JSON.parse(fromFlags));
    await assert.rejects(run(NODE, [ENTRY, 'recipe', '--accelerator', 'gb300'], { cwd: REPO }), (e: { code: number; stderr: string }) => e.code === 2 && /allowed: h100, gb200/.test(e.stderr));
    await assert.rejects(run(NODE, [ENTRY, 'recipe', '--snapshot', path.join(dir, 'nope.json')], { cwd: REPO }), (e: { code: number }) => e.code === 3);
  });
});
