// A recipe as a Helm umbrella chart: Chart.yaml lists the components as dependencies in
// deployment order, values.yaml holds one top-level key per dependency (its alias when the
// component's name differs from its chart's), and checksums.txt covers every other file.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { stringify } from 'yaml';
import { ZipFile } from 'yazl';
import { validationFailed } from '../domain/errors.ts';
import type { RecipeResult } from './types.ts';
import { makeDirectory, writeFileAtomic } from '../util/files.ts';

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface BundleOptions {
  name?: string;
  /** Added to every component's values only when given; nothing is scheduled specially by default. */
  nodeSelector?: Record<string, string>;
  /** Added only when given. A toleration without a key (tolerating every taint) is refused. */
  tolerations?: Toleration[];
}

export const CHECKSUMS = 'checksums.txt';

export interface Dependency {
  name: string;
  version: string;
  repository: string;
  alias?: string;
  condition: string;
}

/** The values key of a component: Helm reads a dependency's values under its alias, else its chart name. */
export function dependencyFor(component: RecipeResult['components'][number]): Dependency {
  const dep: Dependency = { name: component.source.chart, version: component.version, repository: component.source.repository, condition: `${component.name}.enabled` };
  if (component.name !== component.source.chart) dep.alias = component.name;
  return dep;
}

function checkTolerations(tolerations: Toleration[]): void {
  for (const t of tolerations) {
    if (!t.key) throw validationFailed('a toleration without a key tolerates every taint; name the taint key');
  }
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Every file of the bundle, by path, in sorted order; checksums.txt last covers all the others. */
export function bundleFiles(recipe: RecipeResult, opts: BundleOptions = {}): Map<string, Buffer> {
  if (opts.tolerations) checkTolerations(opts.tolerations);
  const name = opts.name ?? 'goman-recipe';
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) throw validationFailed(`invalid chart name "${name}"`);
  const byName = new Map(recipe.components.map((c) => [c.name, c]));
  // Each component once: a repeated name would copy its values again per repetition (a tiny
  // recipe could make a huge bundle), and Helm refuses duplicate dependencies anyway.
  const seen = new Set<string>();
  const twice = recipe.deploymentOrder.find((n) => seen.size === seen.add(n).size);
  if (twice !== undefined) throw validationFailed(`deploymentOrder names ${twice} twice; list each component once`);
  const ordered = recipe.deploymentOrder.map((n) => {
    const c = byName.get(n);
    if (!c) throw validationFailed(`deploymentOrder names ${n}, which is not among the recipe's components`);
    return c;
  });
  const chart = {
    apiVersion: 'v2',
    name,
    description: `Components recommended by goman for ${Object.entries(recipe.criteria).map(([k, v]) => `${k}=${v}`).join(', ')}`,
    type: 'application',
    version: '0.1.0',
    dependencies: ordered.map(dependencyFor),
  };
  const values: Record<string, unknown> = {};
  for (const c of ordered) {
    const v: Record<string, unknown> = { enabled: true, ...structuredClone(c.values) };
    if (opts.nodeSelector) v.nodeSelector = { ...opts.nodeSelector };
    if (opts.tolerations) v.tolerations = opts.tolerations.map((t) => ({ ...t }));
    values[c.name] = v;
  }
  const readme = [
    `# ${name}`,
    '',
    'A Helm umbrella chart written by `goman bundle` from a goman recipe.',
    '',
    `Criteria: ${Object.entries(recipe.criteria).map(([k, v]) => `${k}=${v}`).join(', ')}`,
    `Overlays applied: ${recipe.metadata.appliedOverlays.join(', ')}`,
    '',
    '| order | component | chart | version | repository |',
    '|---|---|---|---|---|',
    ...ordered.map((c, i) => `| ${i + 1} | ${c.name} | ${c.source.chart} | ${c.version} | ${c.source.repository} |`),
    '',
    'Constraints the cluster should meet (check with `goman validate --recipe recipe.yaml --snapshot S`):',
    '',
    ...recipe.constraints.map((c) => `- \`${c.name} ${c.operator} ${c.value}\``),
    '',
    'Install:',
    '',
    '```sh',
    'sha256sum -c checksums.txt',
    'helm dependency update .',
    `helm upgrade --install ${name} . --namespace ${name} --create-namespace`,
    '```',
    '',
    'Disable one component with `--set <component>.enabled=false`.',
    '',
  ].join('\n');
  const files = new Map<string, Buffer>([
    ['Chart.yaml', Buffer.from(stringify(chart))],
    ['README.md', Buffer.from(readme)],
    ['recipe.yaml', Buffer.from(stringify(recipe))],
    ['values.yaml', Buffer.from(stringify(values))],
  ]);
  const sums = [...files].sort(([a], [b]) => (a < b ? -1 : 1)).map(([p, b]) => `${sha256(b)}  ${p}\n`).join('');
  files.set(CHECKSUMS, Buffer.from(sums));
  return files;
}

/** Writes the bundle into dir; each file lands whole (temp file + rename) or not at all. */
export async function writeBundle(dir: string, files: Map<string, Buffer>): Promise<string[]> {
  await makeDirectory(dir);
  const written: string[] = [];
  for (const [rel, content] of files) {
    const target = path.join(dir, rel);
    await writeFileAtomic(target, content);
    written.push(target);
  }
  return written;
}

// A fixed mtime makes the zip depend only on its contents.
const EPOCH = new Date('2000-01-01T00:00:00Z');

/** The bundle as a zip, in memory: nothing is written to disk, so nothing is left behind. */
export function bundleZip(files: Map<string, Buffer>, folder = 'bundle'): Promise<Buffer> {
  const zip = new ZipFile();
  for (const [rel, content] of files) zip.addBuffer(content, `${folder}/${rel}`, { mtime: EPOCH, mode: 0o100644 });
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}
