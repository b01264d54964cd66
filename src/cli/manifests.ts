// Cluster manifests (DESIGN §13): `{apiVersion: goman.io/v1, kind: Cluster, metadata: {name,
// labels}, spec}` in YAML (several documents per file) or JSON, from files or folders. Every
// problem is one line naming the file and line, found through the YAML CST positions.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Document, Node } from 'yaml';
import { isMap, isScalar, LineCounter, parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import type { Cluster } from '../domain/cluster.ts';
import type { ClusterSpec, ClusterSpecInput, Labels } from '../domain/spec.ts';
import { clusterSpecSchema, labelsSchema, nameSchema } from '../domain/spec.ts';
import { UsageError } from './errors.ts';

export const MANIFEST_API_VERSION = 'goman.io/v1';
export const MANIFEST_KIND = 'Cluster';
const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
/** No manifest set is larger than this; a folder with more files is a mistake (e.g. -R on /). */
const MAX_FILES = 1000;
const MAX_FILE_BYTES = 1024 * 1024;

export interface Manifest {
  name: string;
  labels: Labels;
  /** The spec with defaults filled in for the default provider. */
  spec: ClusterSpec;
  /** The spec as written: a backend fills in its own defaults (an S3 context's provider is aws). */
  input: ClusterSpecInput;
  /** Where it was read, for messages: "dir/a.yaml:12". */
  where: string;
  /** Where a field was written (its key's line), else where the manifest starts. */
  whereOf(field: readonly string[]): string;
}

/** The manifest of a cluster: what `goman get NAME -o yaml` prints and `goman apply` reads back. */
export function toManifest(cluster: Pick<Cluster, 'name' | 'labels' | 'spec'>): Record<string, unknown> {
  return { apiVersion: MANIFEST_API_VERSION, kind: MANIFEST_KIND, metadata: { name: cluster.name, labels: cluster.labels }, spec: cluster.spec };
}

/** Every manifest in `paths` (files, folders; `-` is stdin), in path order; names unique across all. */
export async function readManifests(paths: readonly string[], opts: { recursive?: boolean; stdin?: () => Promise<string> } = {}): Promise<Manifest[]> {
  if (paths.length === 0) throw new UsageError('-f is required: give manifest files or folders, e.g. goman apply -f clusters/');
  const files: string[] = [];
  for (const p of paths) files.push(...(p === '-' ? ['-'] : await expand(p, opts.recursive ?? false)));
  const out: Manifest[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    const text = file === '-' ? await (opts.stdin ?? readStdin)() : await readText(file);
    for (const m of parseManifests(text, file === '-' ? '<stdin>' : file)) {
      const other = seen.get(m.name);
      if (other) throw new UsageError(`${m.where}: cluster "${m.name}" is also defined at ${other}; each cluster may appear once`);
      seen.set(m.name, m.where);
      out.push(m);
    }
  }
  return out;
}

async function expand(p: string, recursive: boolean, depth = 0): Promise<string[]> {
  let info;
  try {
    info = await stat(p);
  } catch (e) {
    throw new UsageError(`-f ${p}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (e as Error).message}`);
  }
  if (!info.isDirectory()) return [p];
  const entries = (await readdir(p, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  const files: string[] = [];
  for (const e of entries) {
    const full = path.join(p, e.name);
    if (e.isDirectory()) {
      if (recursive && depth < 32) files.push(...(await expand(full, true, depth + 1)));
    } else if (EXTENSIONS.has(path.extname(e.name).toLowerCase())) {
      files.push(full);
    }
    if (files.length > MAX_FILES) throw new UsageError(`-f ${p}: more than ${MAX_FILES} manifest files; point -f at the folder that holds them`);
  }
  return files;
}

async function readText(file: string): Promise<string> {
  try {
    if ((await stat(file)).size > MAX_FILE_BYTES) throw new UsageError(`${file}: larger than 1 MiB; is it a manifest?`);
    return await readFile(file, 'utf8');
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin) {
    size += (c as Buffer).length;
    if (size > MAX_FILE_BYTES) throw new UsageError('stdin: more than 1 MiB of manifests');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The manifests of one file's text; `file` only names it in messages. */
export function parseManifests(text: string, file: string): Manifest[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (!Array.isArray(docs)) return []; // an empty stream
  const at = (offset: number | undefined): string => `${file}:${offset === undefined ? 1 : lines.linePos(offset).line}`;
  const out: Manifest[] = [];
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) throw new UsageError(`${at(err.pos[0])}: not valid YAML or JSON: ${err.message.split('\n')[0]}`);
    // An empty document (a stray `---`) holds nothing to apply.
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) continue;
    out.push(oneManifest(doc, at));
  }
  return out;
}

function oneManifest(doc: Document.Parsed, at: (offset: number | undefined) => string): Manifest {
  const root = doc.contents;
  const start = root?.range?.[0];
  if (!isMap(root)) throw new UsageError(`${at(start)}: a manifest must be a mapping with apiVersion, kind, metadata and spec`);
  const keyLine = (parent: Node | null | undefined, key: string): number | undefined => {
    if (!isMap(parent)) return parent?.range?.[0];
    const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === key);
    return (pair?.key as Node | undefined)?.range?.[0];
  };
  const nodeAt = (p: readonly PropertyKey[]): Node | null | undefined => doc.getIn(p.map((k) => (typeof k === 'symbol' ? String(k) : k)), true) as Node | null | undefined;
  const raw = doc.toJS() as Record<string, unknown>;
  for (const k of Object.keys(raw)) {
    if (!['apiVersion', 'kind', 'metadata', 'spec'].includes(k)) {
      throw new UsageError(`${at(keyLine(root, k))}: unknown field "${k}" (a manifest has apiVersion, kind, metadata and spec)`);
    }
  }
  if (raw.apiVersion !== MANIFEST_API_VERSION) {
    throw new UsageError(`${at(keyLine(root, 'apiVersion') ?? start)}: apiVersion must be "${MANIFEST_API_VERSION}" (got ${JSON.stringify(raw.apiVersion ?? null)})`);
  }
  if (raw.kind !== MANIFEST_KIND) throw new UsageError(`${at(keyLine(root, 'kind') ?? start)}: kind must be "${MANIFEST_KIND}" (got ${JSON.stringify(raw.kind ?? null)})`);
  const meta = raw.metadata;
  const metaNode = nodeAt(['metadata']);
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) throw new UsageError(`${at(keyLine(root, 'metadata') ?? start)}: metadata must be a mapping with name (and labels)`);
  for (const k of Object.keys(meta)) {
    if (k !== 'name' && k !== 'labels') throw new UsageError(`${at(keyLine(metaNode, k))}: unknown field "metadata.${k}" (metadata has name and labels)`);
  }
  const m = meta as { name?: unknown; labels?: unknown };
  const name = nameSchema.safeParse(m.name);
  if (!name.success) {
    throw new UsageError(`${at(keyLine(metaNode, 'name') ?? metaNode?.range?.[0])}: metadata.name ${m.name === undefined ? 'is required' : `${JSON.stringify(m.name)} ${name.error.issues[0]?.message ?? 'is invalid'}`}`);
  }
  const labels = labelsSchema.safeParse(m.labels ?? {});
  if (!labels.success) throw new UsageError(`${issueWhere(labels.error, ['metadata', 'labels'], nodeAt, keyLine, at)}`);
  if (raw.spec === undefined) throw new UsageError(`${at(start)}: spec is required`);
  const spec = clusterSpecSchema.safeParse(raw.spec);
  if (!spec.success) throw new UsageError(issueWhere(spec.error, ['spec'], nodeAt, keyLine, at));
  const whereOf = (field: readonly string[]): string => {
    const offset = keyLine(nodeAt(field.slice(0, -1)), field.at(-1) ?? '');
    return at(offset ?? start);
  };
  return { name: name.data, labels: labels.data, spec: spec.data, input: raw.spec as ClusterSpecInput, where: at(start), whereOf };
}

/** "file:line: spec.nodePools.0.count: message" for the first issue, at the node it is about. */
function issueWhere(
  error: z.ZodError,
  prefix: readonly PropertyKey[],
  nodeAt: (p: readonly PropertyKey[]) => Node | null | undefined,
  keyLine: (parent: Node | null | undefined, key: string) => number | undefined,
  at: (offset: number | undefined) => string,
): string {
  const issue = error.issues[0]!;
  const full = [...prefix, ...issue.path];
  const field = full.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    return `${at(keyLine(nodeAt(full), key))}: unknown field "${field}.${key}"`;
  }
  // The deepest node that exists: a missing field is reported at its parent.
  for (let n = full.length; n >= 0; n--) {
    const node = nodeAt(full.slice(0, n));
    const parent = n > 0 ? nodeAt(full.slice(0, n - 1)) : undefined;
    const offset = n > 0 ? (keyLine(parent, String(full[n - 1])) ?? node?.range?.[0]) : node?.range?.[0];
    if (node !== undefined || offset !== undefined) return `${at(offset)}: ${field}: ${issue.message}`;
  }
  return `${at(undefined)}: ${field}: ${issue.message}`;
}
