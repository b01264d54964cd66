import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import yauzl from 'yauzl';
import { parse as parseYaml } from 'yaml';
import { isGomanError } from '../../src/domain/errors.ts';
import { bundleFiles, bundleZip, CHECKSUMS } from '../../src/nodeconfig/bundle.ts';
import { parseCriteria } from '../../src/nodeconfig/recipe/criteria.ts';
import { buildRecipe } from '../../src/nodeconfig/recipe/engine.ts';
import { recipeResultSchema, type RecipeResult } from '../../src/nodeconfig/types.ts';
import { ENTRY, NODE, REPO, tempDir } from './helpers.ts';

const run = promisify(execFile);
const recipe = buildRecipe(parseCriteria({ service: 'eks', accelerator: 'gb200', intent: 'training', os: 'ubuntu' }));

interface ChartDep {
  name: string;
  version: string;
  repository: string;
  alias?: string;
  condition: string;
}

/**
 * helm is not installable here (not in Debian), so this checks what `helm dependency build`
 * and `helm template` rely on: each dependency's values live under its alias, else its name.
 */
function checkChart(files: Map<string, Buffer>): { deps: ChartDep[]; values: Record<string, Record<string, unknown>> } {
  const chart = parseYaml(files.get('Chart.yaml')?.toString() ?? '') as { apiVersion: string; name: string; version: string; dependencies: ChartDep[] };
  const values = parseYaml(files.get('values.yaml')?.toString() ?? '') as Record<string, Record<string, unknown>>;
  assert.equal(chart.apiVersion, 'v2');
  assert.ok(chart.name && chart.version);
  const keys = chart.dependencies.map((d) => d.alias ?? d.name);
  assert.deepEqual(Object.keys(values).sort(), [...keys].sort(), 'one values key per dependency, exactly');
  for (const d of chart.dependencies) {
    const key = d.alias ?? d.name;
    assert.equal(d.condition, `${key}.enabled`);
    assert.equal(values[key]?.enabled, true);
    assert.ok(d.version && d.repository);
  }
  return { deps: chart.dependencies, values };
}

function unzip(buf: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buf, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      const out = new Map<string, Buffer>();
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e) return reject(e);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            out.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolve(out));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

describe('bundle', () => {
  test('Chart.yaml dependencies in deployment order, values keyed by dependency name', () => {
    const files = bundleFiles(recipe);
    assert.deepEqual([...files.keys()].sort(), ['Chart.yaml', 'README.md', 'checksums.txt', 'recipe.yaml', 'values.yaml']);
    const { deps, values } = checkChart(files);
    assert.deepEqual(deps.map((d) => d.alias ?? d.name), recipe.deploymentOrder);
    assert.equal(deps.find((d) => d.name === 'gpu-operator')?.version, 'v25.3.3');
    assert.equal((values['gpu-operator']?.driver as { version: string }).version, '580.82.07');
    assert.deepEqual(recipeResultSchema.parse(parseYaml(files.get('recipe.yaml')?.toString() ?? '')), recipe);
  });

  test('a component whose name differs from its chart gets an alias, and values under that alias (eidos ignored mismatched keys)', () => {
    const renamed: RecipeResult = structuredClone(recipe);
    const op = renamed.components.find((c) => c.name === 'gpu-operator');
    assert.ok(op);
    op.name = 'gpu';
    renamed.deploymentOrder = renamed.deploymentOrder.map((n) => (n === 'gpu-operator' ? 'gpu' : n));
    const { deps, values } = checkChart(bundleFiles(renamed));
    const dep = deps.find((d) => d.name === 'gpu-operator');
    assert.equal(dep?.alias, 'gpu');
    assert.equal(dep?.condition, 'gpu.enabled');
    assert.ok(values.gpu);
    assert.equal(values['gpu-operator'], undefined);
  });

  test('checksums.txt covers every other file, sorted, with correct sha256 (eidos left one out)', async () => {
    const dir = await tempDir();
    const recipeFile = path.join(dir, 'recipe.json');
    await writeFile(recipeFile, JSON.stringify(recipe));
    const out = path.join(dir, 'bundle');
    await run(NODE, [ENTRY, 'bundle', '--recipe', recipeFile, '--dir', out], { cwd: REPO });
    const onDisk = (await readdir(out, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => path.relative(out, path.join(e.parentPath, e.name))).sort();
    const lines = (await readFile(path.join(out, CHECKSUMS), 'utf8')).trimEnd().split('\n');
    const listed = lines.map((l) => l.split('  ')[1] ?? '');
    assert.deepEqual(listed, onDisk.filter((f) => f !== CHECKSUMS));
    assert.deepEqual(listed, [...listed].sort());
    for (const l of lines) {
      const [sum, file] = l.split('  ');
      assert.equal(sum, createHash('sha256').update(await readFile(path.join(out, file ?? ''))).digest('hex'), file);
    }
    const files = new Map<string, Buffer>();
    for (const f of onDisk) files.set(f, await readFile(path.join(out, f)));
    checkChart(files);
  });

  test('no toleration or node selector unless asked (eidos tolerated every taint by default)', () => {
    const plain = bundleFiles(recipe);
    assert.doesNotMatch(plain.get('values.yaml')?.toString() ?? '', /tolerations|nodeSelector/);
    const { values } = checkChart(bundleFiles(recipe, { nodeSelector: { 'nvidia.com/gpu.present': 'true' }, tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] }));
    assert.deepEqual(values['gpu-operator']?.nodeSelector, { 'nvidia.com/gpu.present': 'true' });
    assert.deepEqual(values['gpu-operator']?.tolerations, [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    assert.throws(() => bundleFiles(recipe, { tolerations: [{ operator: 'Exists' }] }), (e) => isGomanError(e, 'VALIDATION_FAILED'));
  });

  test('the zip holds the same files, byte for byte, and is deterministic', async () => {
    const files = bundleFiles(recipe);
    const zip = await bundleZip(files);
    assert.deepEqual(await bundleZip(bundleFiles(recipe)), zip);
    const entries = await unzip(zip);
    assert.deepEqual([...entries.keys()].sort(), [...files.keys()].map((f) => `bundle/${f}`).sort());
    for (const [f, b] of files) assert.deepEqual(entries.get(`bundle/${f}`), b);
  });
});
