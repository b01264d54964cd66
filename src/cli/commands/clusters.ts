// Cluster commands: create, list, get, scale, stop, start, delete, events, watch.
import { readFile } from 'node:fs/promises';
import type { CreateClusterBody } from '../../client/backend.ts';
import type { ClusterBackend } from '../../client/backend.ts';
import type { Cluster } from '../../domain/cluster.ts';
import { clusterSpecSchema, labelsSchema } from '../../domain/spec.ts';
import type { ClusterSpecInput, NodePool } from '../../domain/spec.ts';
import { GomanError } from '../../domain/errors.ts';
import { fieldErrorsText, zodFieldErrors } from '../../domain/zod-errors.ts';
import { UsageError } from '../errors.ts';
import { fileProblem } from '../../util/files.ts';
import { clusterName, parseDuration, parseLabel, parsePool, uniqueKeys } from '../flags.ts';
import type { Session, GlobalOptions } from '../session.ts';
import { openSession, writeList } from '../session.ts';
import { age, formatTable, paint, PHASE_COLORS, serialize, tableWidths } from '../output.ts';
import type { Column } from '../output.ts';
import { nodesText, phaseOf, statusMessage } from '../view.ts';
import type { WaitGoal } from '../wait.ts';
import { reached, waitFor } from '../wait.ts';
import { describeCluster } from './describe.ts';

interface WaitFlags {
  wait?: boolean;
  timeout?: string;
}

interface CreateFlags extends GlobalOptions, WaitFlags {
  file?: string;
  provider?: 'sim' | 'aws';
  mode?: 'dev' | 'ha';
  region?: string;
  instanceType?: string;
  k3sVersion?: string;
  pool?: string[];
  label?: string[];
}

export async function create(nameArg: string | undefined, flags: CreateFlags): Promise<void> {
  const timeoutMs = flags.wait ? parseDuration(flags.timeout ?? '10m') : 0;
  const body = await createBody(nameArg, flags);
  const s = await openSession(flags);
  const cluster = await s.backend.create(body);
  await show(s, cluster, `cluster ${cluster.name} created\n`);
  if (flags.wait) await waitGoal(s, cluster.name, 'ready', timeoutMs);
}

/** The create request from -f (optional) overlaid with flags, validated before anything is sent. */
export async function createBody(nameArg: string | undefined, flags: CreateFlags): Promise<CreateClusterBody> {
  const fromFile = flags.file ? await readSpecFile(flags.file) : {};
  const spec: ClusterSpecInput = { ...fromFile.spec };
  if (flags.provider) spec.provider = flags.provider;
  if (flags.mode) spec.mode = flags.mode;
  if (flags.region) spec.region = flags.region;
  if (flags.instanceType) spec.instanceType = flags.instanceType;
  if (flags.k3sVersion) spec.k3sVersion = flags.k3sVersion;
  if (flags.pool?.length) {
    const pools = [...(spec.nodePools ?? [])];
    const given = flags.pool.map(parsePool);
    uniqueKeys('--pool', given.map((p) => p.name));
    for (const p of given) {
      const i = pools.findIndex((q) => q.name === p.name);
      if (i >= 0) pools[i] = { ...pools[i], ...p };
      else pools.push(p);
    }
    spec.nodePools = pools;
  }
  const labelFlags = (flags.label ?? []).map(parseLabel);
  uniqueKeys('--label', labelFlags.map(([k]) => k));
  const labels = { ...fromFile.labels, ...Object.fromEntries(labelFlags) };
  const name = nameArg ?? fromFile.name;
  if (!name) throw new UsageError('a cluster name is required: goman create NAME, or "name:" in the -f file');
  if (nameArg && fromFile.name && nameArg !== fromFile.name) {
    throw new UsageError(`the name "${nameArg}" differs from "${fromFile.name}" in ${flags.file}`);
  }
  clusterName(name);
  const checked = clusterSpecSchema.safeParse(spec);
  if (!checked.success) throw new UsageError(`invalid spec: ${fieldErrorsText(zodFieldErrors(checked.error))}`);
  const checkedLabels = labelsSchema.safeParse(labels);
  if (!checkedLabels.success) throw new UsageError(`invalid labels: ${fieldErrorsText(zodFieldErrors(checkedLabels.error))}`);
  return { name, labels, spec };
}

interface SpecFile {
  name?: string;
  labels?: Record<string, string>;
  spec?: ClusterSpecInput;
}

/** `{name?, labels?, spec}` (the shape `goman get -o yaml` prints) or a bare spec. */
async function readSpecFile(file: string): Promise<SpecFile> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read spec file ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : fileProblem(e, file)}`);
  }
  const { parse } = await import('yaml');
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new UsageError(`spec file ${file} is not valid YAML or JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new UsageError(`spec file ${file} must hold a mapping`);
  const obj = doc as Record<string, unknown>;
  if ('spec' in obj) {
    const known = new Set(['name', 'labels', 'spec', 'id', 'status', 'generation', 'resourceVersion', 'createdBy', 'createdAt', 'updatedAt', 'finalizers', 'deletionTimestamp']);
    const extra = Object.keys(obj).filter((k) => !known.has(k));
    if (extra.length) throw new UsageError(`spec file ${file}: unknown field ${extra.map((k) => `"${k}"`).join(', ')}`);
    const out: SpecFile = { spec: obj.spec as ClusterSpecInput };
    if (typeof obj.name === 'string') out.name = obj.name;
    if (obj.labels && typeof obj.labels === 'object') out.labels = obj.labels as Record<string, string>;
    return out;
  }
  return { spec: obj };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}


interface ListFlags extends GlobalOptions {
  phase?: string;
  provider?: string;
  selector?: string;
}

/**
 * Prints each page as it arrives rather than the whole fleet at the end: the first output
 * comes after one round trip, and memory holds one page whatever the fleet's size. Table
 * columns take their widths from the first page; JSON and YAML are the same document
 * `{items: [...]}` a single response would give.
 */
export async function list(flags: ListFlags): Promise<void> {
  const s = await openSession(flags);
  const pages = clusterPages(s.backend, { phase: flags.phase, provider: flags.provider, labelSelector: flags.selector });
  let printed = 0;
  let widths: number[] | undefined;
  for await (const page of pages) {
    if (page.length === 0) continue;
    if (s.format === 'json') {
      const items = page.map((c) => JSON.stringify(c, null, 2).replace(/^/gm, '    '));
      s.write((printed === 0 ? '{\n  "items": [\n' : ',\n') + items.join(',\n'));
    } else if (s.format === 'yaml') {
      const text = await serialize({ items: page }, 'yaml');
      s.write(printed === 0 ? text : text.slice(text.indexOf('\n') + 1));
    } else {
      widths ??= tableWidths(CLUSTER_COLUMNS, clusterRows(page), s.term.columns);
      s.write(clusterTable(page, s.term.columns, s.term.color, new Date(), { widths, header: printed === 0 }));
    }
    printed += page.length;
  }
  if (s.format === 'json') s.write(printed === 0 ? '{\n  "items": []\n}\n' : '\n  ]\n}\n');
  else if (s.format === 'yaml') {
    if (printed === 0) s.write(await serialize({ items: [] }, 'yaml'));
  } else if (printed === 0) process.stderr.write('No clusters found.\n');
}

type ListParams = { phase?: string | undefined; provider?: string | undefined; labelSelector?: string | undefined };

/** The matching clusters page by page (500 a page), each page fetched when the caller wants it. */
export async function* clusterPages(backend: ClusterBackend, params: ListParams): AsyncGenerator<Cluster[]> {
  let cursor: string | undefined;
  do {
    const page = await backend.list({ limit: 500, ...definedOnly(params), ...(cursor ? { cursor } : {}) });
    yield page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}

export async function listAll(backend: ClusterBackend, params: ListParams): Promise<Cluster[]> {
  const items: Cluster[] = [];
  for await (const page of clusterPages(backend, params)) items.push(...page);
  return items;
}

function definedOnly<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}

const CLUSTER_COLUMNS: Column[] = [
  { header: 'NAME' },
  { header: 'PHASE' },
  { header: 'PROVIDER' },
  { header: 'MODE' },
  { header: 'NODES' },
  { header: 'VERSION' },
  { header: 'AGE' },
  { header: 'MESSAGE', flexible: true },
];

function clusterRows(items: readonly Cluster[], now = new Date()): string[][] {
  return items.map((c) => [c.name, phaseOf(c), c.spec.provider, c.spec.mode, nodesText(c), c.spec.k3sVersion, age(c.createdAt, now), statusMessage(c)]);
}

export function clusterTable(
  items: readonly Cluster[],
  width: number | undefined,
  color: boolean,
  now = new Date(),
  part: { widths?: readonly number[]; header?: boolean } = {},
): string {
  return formatTable(CLUSTER_COLUMNS, clusterRows(items, now), {
    width,
    ...part,
    color,
    colors: (row, col) => {
      const c = items[row];
      return col === 1 && c ? PHASE_COLORS[phaseOf(c)] : undefined;
    },
  });
}

export async function get(name: string, flags: GlobalOptions): Promise<void> {
  clusterName(name);
  const s = await openSession(flags);
  const { value } = await s.backend.get(name);
  if (s.format !== 'table') {
    // YAML is the manifest `goman apply` reads back (get → edit → apply); JSON stays the API object.
    const { toManifest } = await import('../manifests.ts');
    s.write(await serialize(s.format === 'yaml' ? toManifest(value) : value, s.format));
    return;
  }
  let history: Awaited<ReturnType<ClusterBackend['events']>>['items'] = [];
  try {
    history = (await s.backend.events(name, { limit: 10 })).items;
  } catch {
    // Recent events are a convenience in this view; the cluster itself was read.
  }
  const [{ localPrices }, { clusterCost, costText }] = await Promise.all([import('../plans.ts'), import('../../domain/cost.ts')]);
  const cost = clusterCost(value.spec, await localPrices([value.spec], { fetch: false }));
  s.write(describeCluster(value, history, s.term, new Date(), costText(cost)));
}

interface ScaleFlags extends GlobalOptions, WaitFlags {
  pool: string[];
}

export async function scale(name: string, flags: ScaleFlags): Promise<void> {
  clusterName(name);
  const timeoutMs = flags.wait ? parseDuration(flags.timeout ?? '10m') : 0;
  const wanted = flags.pool.map((value) => {
    const w = parsePool(value);
    if (w.instanceType) throw new UsageError(`--pool "${value}": scale changes node counts only (NAME=COUNT); change an instance type with \`goman edit ${name}\``);
    return w;
  });
  uniqueKeys('--pool', wanted.map((w) => w.name));
  const s = await openSession(flags);
  const { value, etag } = await s.backend.get(name);
  const pools: NodePool[] = value.spec.nodePools.map((p) => ({ ...p }));
  const changes: string[] = [];
  for (const w of wanted) {
    const pool = pools.find((p) => p.name === w.name);
    if (!pool) {
      const known = pools.map((p) => p.name).join(', ') || 'none';
      throw new GomanError('NOT_FOUND', `cluster ${name} has no node pool "${w.name}" (pools: ${known}); add pools with \`goman edit ${name}\``);
    }
    if (pool.count !== w.count) changes.push(`${w.name} ${pool.count}→${w.count}`);
    pool.count = w.count;
  }
  if (changes.length === 0) {
    await show(s, value, `cluster ${name} unchanged: ${wanted.map((w) => `${w.name} is already ${w.count}`).join(', ')}\n`);
  } else {
    const updated = await s.backend.patch(name, { spec: { nodePools: pools } }, etag);
    await show(s, updated, `cluster ${name} scaling: ${changes.join(', ')}\n`);
  }
  if (flags.wait) await waitGoal(s, name, 'ready', timeoutMs);
}

export async function stop(name: string, flags: GlobalOptions & WaitFlags): Promise<void> {
  await setDesiredState(name, 'stopped', flags);
}

export async function start(name: string, flags: GlobalOptions & WaitFlags): Promise<void> {
  await setDesiredState(name, 'running', flags);
}

async function setDesiredState(name: string, desiredState: 'running' | 'stopped', flags: GlobalOptions & WaitFlags): Promise<void> {
  clusterName(name);
  const timeoutMs = flags.wait ? parseDuration(flags.timeout ?? '10m') : 0;
  const s = await openSession(flags);
  const goal = desiredState === 'stopped' ? 'stopped' : 'ready';
  const { value } = await s.backend.get(name);
  if (value.spec.desiredState === desiredState && !value.deletionTimestamp) {
    // Nothing to send; say where it stands instead of announcing a change that is not happening.
    const where = reached(value, goal) ? `already ${desiredState === 'stopped' ? 'stopped' : 'running'}` : `already ${desiredState === 'stopped' ? 'stopping' : 'starting'} (phase ${phaseOf(value)})`;
    await show(s, value, `cluster ${name} ${where}\n`);
  } else {
    const updated = await s.backend.patch(name, { spec: { desiredState } });
    await show(s, updated, `cluster ${name} ${desiredState === 'stopped' ? 'stopping' : 'starting'}\n`);
  }
  if (flags.wait) await waitGoal(s, name, goal, timeoutMs);
}

export async function remove(name: string, flags: GlobalOptions & WaitFlags & { yes?: boolean }): Promise<void> {
  clusterName(name);
  const timeoutMs = flags.wait ? parseDuration(flags.timeout ?? '10m') : 0;
  if (!flags.yes) {
    if (!process.stdin.isTTY) throw new UsageError(`refusing to delete ${name} without --yes when not on a terminal`);
    const { confirm } = await import('../prompt.ts');
    if (!(await confirm(`Delete cluster "${name}" and all its cloud resources? [y/N] `))) {
      process.stderr.write('aborted; nothing deleted\n');
      return;
    }
  }
  const s = await openSession(flags);
  const result = await s.backend.delete(name);
  if (s.format !== 'table') s.write(await serialize(result, s.format));
  else s.write(`cluster ${name} ${result ? 'deleting' : 'deleted'}\n`);
  if (flags.wait && result) {
    await waitGoal(s, name, 'gone', timeoutMs);
    if (s.format === 'table') s.write(`cluster ${name} deleted\n`);
  }
}

export async function events(name: string, flags: GlobalOptions & { limit?: string }): Promise<void> {
  clusterName(name);
  const limit = Number(flags.limit ?? 50);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new UsageError(`--limit "${flags.limit}": expected 1..500`);
  const s = await openSession(flags);
  const page = await s.backend.events(name, { limit });
  if (s.format === 'table' && page.items.length === 0) {
    process.stderr.write(`No events for ${name}.\n`);
    return;
  }
  await writeList(
    s,
    page,
    page.items,
    [{ header: 'AGE' }, { header: 'KIND' }, { header: 'GEN' }, { header: 'MESSAGE', flexible: true }],
    (e, now) => [age(e.at, now), e.kind, String(e.generation), e.message],
  );
}

export async function watch(flags: GlobalOptions): Promise<void> {
  const s = await openSession(flags);
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  process.once('SIGTERM', () => abort.abort());
  for await (const ev of s.backend.watch(abort.signal)) {
    if (s.format === 'json') {
      s.write(JSON.stringify(ev) + '\n');
      continue;
    }
    if (s.format === 'yaml') {
      s.write('---\n' + (await serialize(ev, 'yaml')));
      continue;
    }
    const time = new Date().toISOString().slice(11, 19);
    if (ev.type === 'connected') process.stderr.write(`${time}  connected to ${s.backend.target}\n`);
    else if (ev.type === 'disconnected') process.stderr.write(`${time}  disconnected (${ev.reason}) — retrying\n`);
    else if (ev.type === 'deleted') s.write(`${time}  ${ev.name}  deleted\n`);
    else {
      const c = ev.cluster;
      const phase = phaseOf(c);
      s.write(`${time}  ${c.name}  ${paint(phase, PHASE_COLORS[phase], s.term.color)}  nodes ${nodesText(c)}  ${statusMessage(c)}\n`);
    }
  }
}

async function show(s: Session, cluster: Cluster, message: string): Promise<void> {
  if (s.format === 'table') s.write(message);
  else s.write(await serialize(cluster, s.format));
}

async function waitGoal(s: Session, name: string, goal: WaitGoal, timeoutMs: number): Promise<void> {
  // Progress is for people: on stderr, so `-o json` output on stdout stays machine-readable.
  const term = { isTTY: process.stderr.isTTY === true, columns: process.stderr.columns, color: s.term.color && process.stderr.isTTY === true };
  await waitFor(s.backend, name, goal, { timeoutMs, term, write: (t) => void process.stderr.write(t) });
}

export async function names(flags: GlobalOptions): Promise<void> {
  const s = await openSession(flags);
  s.write((await listAll(s.backend, {})).map((c) => `${c.name}\n`).join(''));
}
