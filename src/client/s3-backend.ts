// The CLI/TUI backend over an S3 bucket (serverless mode). Every write is a conditional
// write, so two users — or a user and the controller — never overwrite each other silently.
import { newId } from '../util/ids.ts';
import { createAwsClients } from '../aws/clients.ts';
import { DESIRED_PREFIX, DESIRED_SUFFIX, desiredKey, idKey, namespaceRoot, statusKey } from '../aws/names.ts';
import { labelsMatch, parseLabelSelector } from '../domain/label-selector.ts';
import type { ClusterBackend, ClusterPatch, CreateClusterBody, ListClustersParams, RolloutAction, Versioned, WatchEvent } from './backend.ts';
import type { Cluster, ClusterSpec, Labels, Snapshot, SpecChange } from '../domain/index.ts';
import { pauseRollout, requestBackup, restoreSnapshot, resumeRollout, snapshotsOf, undoRollout } from '../domain/index.ts';
import {
  assertAdmissible,
  assertDay2Change,
  assertMutableSpec,
  canonicalSpec,
  clusterSpecSchema,
  conflict,

  labelsSchema,
  nameProblem,
  nameTaken,
  notFound,
  preconditionFailed,
  stableStringify,
  validationFailed,
} from '../domain/index.ts';
import type { HistoryEntry, LabelRequirement, Page } from '../domain/index.ts';
import type { DesiredDoc } from '../store/s3/documents.ts';
import { composeCluster, DOC_API_VERSION, parseDesired, parseStatusDoc } from '../store/s3/documents.ts';
import { etagValue, quoteEtag } from '../domain/etag.ts';
import { zodFieldErrors } from '../domain/zod-errors.ts';
import { JsonObjects, WriteConflict } from '../store/s3/objects.ts';
import { sleepUnlessAborted } from '../util/sleep.ts';
import { mergePatchChange, updateWithRetry, type UpdateTarget } from '../usecases/update-cluster.ts';

export interface S3BackendOptions {
  bucket: string;
  region: string;
  /** `goman init --namespace`: desired state under `state/NAME/clusters/`, status under `state/NAME/status/`. */
  namespace?: string | undefined;
  /** Who `createdBy` names; defaults to the OS user. */
  user?: string;
  pollIntervalMs?: number;
  objects?: JsonObjects;
}

const RMW_ATTEMPTS = 5;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createS3Backend(opts: S3BackendOptions): ClusterBackend {
  return new S3Backend(opts);
}

export class S3Backend implements ClusterBackend {
  readonly kind = 's3' as const;
  readonly target: string;
  readonly objects: JsonObjects;
  private readonly user: string;
  private readonly pollIntervalMs: number;

  constructor(opts: S3BackendOptions) {
    this.objects = opts.objects ?? new JsonObjects(createAwsClients(opts.region).s3(), opts.bucket, namespaceRoot(opts.namespace));
    this.target = `s3://${opts.bucket}${opts.namespace ? `/${namespaceRoot(opts.namespace)}` : ''}`;
    this.user = opts.user ?? process.env.USER ?? 'unknown';
    this.pollIntervalMs = opts.pollIntervalMs ?? 2000;
  }

  async create(body: CreateClusterBody): Promise<Cluster> {
    const problem = nameProblem(body.name);
    if (problem) throw validationFailed(`name ${problem}`, [{ path: 'name', message: problem }]);
    const spec = parseSpec({ provider: 'aws', ...body.spec });
    assertAdmissible(body.name, spec);
    const labels = parseLabels(body.labels ?? {});
    const now = new Date().toISOString();
    const doc: DesiredDoc = {
      apiVersion: DOC_API_VERSION,
      kind: 'Cluster',
      id: newId(),
      name: body.name,
      labels,
      spec,
      generation: 1,
      createdBy: this.user,
      createdAt: now,
      updatedAt: now,
    };
    // The id index first: a desired object is never findable by name but not by id.
    await this.objects.put(idKey(doc.id), { name: doc.name }, null);
    let etag: string;
    try {
      etag = await this.objects.put(desiredKey(doc.name), doc, null);
    } catch (e) {
      await this.objects.delete(idKey(doc.id)).catch(() => undefined);
      if (e instanceof WriteConflict) throw nameTaken(doc.name);
      throw e;
    }
    return composeCluster(doc, etag, null);
  }

  async list(params: ListClustersParams = {}): Promise<Page<Cluster>> {
    const limit = Math.min(Math.max(params.limit ?? 100, 1), 500);
    const selector: LabelRequirement[] = params.labelSelector ? parseLabelSelector(params.labelSelector) : [];
    const items: Cluster[] = [];
    let after = params.cursor ? desiredKey(params.cursor) : undefined;
    for (;;) {
      const page = await this.objects.listKeys(DESIRED_PREFIX, after, 200);
      const names = page.keys.filter((k) => k.endsWith(DESIRED_SUFFIX)).map((k) => k.slice(DESIRED_PREFIX.length, -DESIRED_SUFFIX.length));
      const loaded = await Promise.all(names.map((n) => this.load(n).catch(() => null)));
      for (const [i, found] of loaded.entries()) {
        after = desiredKey(names[i] ?? '');
        if (!found) continue;
        const c = found.value;
        if (params.phase && c.status.phase !== params.phase) continue;
        if (params.provider && c.spec.provider !== params.provider) continue;
        if (!labelsMatch(c.labels, selector)) continue;
        items.push(c);
        if (items.length === limit) return { items, nextCursor: c.name };
      }
      if (!page.truncated) return { items, nextCursor: null };
    }
  }

  async get(idOrName: string): Promise<Versioned<Cluster>> {
    const name = await this.resolveName(idOrName);
    const found = name ? await this.load(name) : null;
    if (!found) throw notFound(`cluster "${idOrName}"`);
    return found;
  }

  patch(idOrName: string, patch: ClusterPatch, ifMatch?: string): Promise<Cluster> {
    return updateWithRetry(this.updateTarget(idOrName), mergePatchChange(patch, parseSpec), { ifMatch });
  }

  async backup(idOrName: string): Promise<{ snapshot: string; cluster: Cluster }> {
    const snapshot = `snap-${newId()}`;
    return { snapshot, cluster: await this.day2(idOrName, () => requestBackup(snapshot)) };
  }

  async backups(idOrName: string): Promise<Snapshot[]> {
    return snapshotsOf((await this.get(idOrName)).value);
  }

  restore(idOrName: string, snapshot: string): Promise<Cluster> {
    return this.day2(idOrName, (c) => restoreSnapshot(c, snapshot, `restore-${newId()}`));
  }

  rollout(idOrName: string, action: RolloutAction): Promise<Cluster> {
    return this.day2(idOrName, (c) => (action === 'pause' ? pauseRollout : action === 'resume' ? resumeRollout(`resume-${newId()}`) : undoRollout(c)));
  }

  /** A day 2 change decided on the cluster as read (its rollout, its snapshots), applied to each retry's spec. */
  private async day2(idOrName: string, decide: (c: Cluster) => SpecChange): Promise<Cluster> {
    const change = decide((await this.get(idOrName)).value);
    return updateWithRetry(this.updateTarget(idOrName), (current) => ({ spec: change(current.spec), labels: current.labels }));
  }

  replace(idOrName: string, body: { spec: ClusterSpec | Record<string, unknown>; labels?: Labels }, ifMatch?: string): Promise<Cluster> {
    return updateWithRetry(
      this.updateTarget(idOrName),
      (current) => ({ spec: parseSpec({ provider: 'aws', ...body.spec }), labels: body.labels ? parseLabels(body.labels) : current.labels }),
      { ifMatch },
    );
  }

  /** Sets deletionTimestamp; the controller removes both objects once the cloud is clean. */
  async delete(idOrName: string): Promise<Cluster | null> {
    for (let attempt = 0; attempt < RMW_ATTEMPTS; attempt++) {
      const name = await this.resolveName(idOrName);
      const current = name ? await this.readDesired(name) : null;
      if (!current) return null;
      if (current.doc.deletionTimestamp) return this.compose(current.doc, current.etag);
      const doc: DesiredDoc = { ...current.doc, deletionTimestamp: new Date().toISOString() };
      try {
        const etag = await this.objects.put(desiredKey(doc.name), doc, current.etag);
        return this.compose(doc, etag);
      } catch (e) {
        if (!(e instanceof WriteConflict)) throw e;
      }
    }
    throw preconditionFailed(`cluster "${idOrName}" kept changing; try again`);
  }

  async events(idOrName: string, params: { limit?: number; cursor?: string } = {}): Promise<Page<HistoryEntry>> {
    const name = await this.resolveName(idOrName);
    const current = name ? await this.readDesired(name) : null;
    if (!current) throw notFound(`cluster "${idOrName}"`);
    const status = parseStatusDoc((await this.objects.get(statusKey(current.doc.name)))?.body);
    const created: HistoryEntry = {
      id: `${current.doc.id}-created`,
      clusterId: current.doc.id,
      kind: 'created',
      message: `created by ${current.doc.createdBy}`,
      generation: 1,
      at: current.doc.createdAt,
    };
    const all = [created, ...(status && status.clusterId === current.doc.id ? status.history : [])];
    const limit = Math.min(Math.max(params.limit ?? 50, 1), 500);
    const start = params.cursor ? all.findIndex((h) => h.id === params.cursor) + 1 : 0;
    const items = all.slice(start, start + limit);
    const last = items.at(-1);
    return { items, nextCursor: start + limit < all.length && last ? last.id : null };
  }

  /** Polls the bucket; S3 has no change stream a client could follow. */
  async *watch(signal: AbortSignal): AsyncIterable<WatchEvent> {
    const seen = new Map<string, { id: string; fingerprint: string }>();
    let connected = false;
    while (!signal.aborted) {
      try {
        const items = await this.listAll();
        if (!connected) {
          connected = true;
          yield { type: 'connected' };
        }
        const now = new Set<string>();
        for (const c of items) {
          now.add(c.name);
          const fingerprint = `${c.resourceVersion}|${JSON.stringify(c.status)}`;
          if (seen.get(c.name)?.fingerprint !== fingerprint) {
            seen.set(c.name, { id: c.id, fingerprint });
            yield { type: 'upsert', cluster: c };
          }
        }
        for (const [name, { id }] of seen) {
          if (!now.has(name)) {
            seen.delete(name);
            yield { type: 'deleted', id, name };
          }
        }
      } catch (e) {
        if (connected) {
          connected = false;
          yield { type: 'disconnected', reason: (e as Error).message };
        }
      }
      await sleepUnlessAborted(this.pollIntervalMs, signal);
    }
  }

  /** The update use case's view of one desired object: read it, write it back conditionally. */
  private updateTarget(idOrName: string): UpdateTarget<Cluster> {
    let current: { doc: DesiredDoc; etag: string } | null = null;
    return {
      read: async () => {
        const name = await this.resolveName(idOrName);
        current = name ? await this.readDesired(name) : null;
        if (!current) throw notFound(`cluster "${idOrName}"`);
        return { spec: current.doc.spec, labels: current.doc.labels, version: etagValue(current.etag) };
      },
      write: async (next, ifMatch) => {
        if (!current) throw notFound(`cluster "${idOrName}"`);
        const { doc: before, etag } = current;
        if (etagValue(ifMatch) !== etagValue(etag)) {
          throw preconditionFailed(`cluster "${before.name}" changed since it was read (resourceVersion ${etagValue(etag)})`);
        }
        if (before.deletionTimestamp) throw conflict(`cluster "${before.name}" is being deleted`);
        assertMutableSpec(before.spec, next.spec);
        assertAdmissible(before.name, next.spec);
        // Skew rules and "no rollout during a restore" need the status (the last rollout, a running restore).
        if (next.spec.k3sVersion !== before.spec.k3sVersion) assertDay2Change(await this.compose(before, etag), next.spec);
        const specChanged = canonicalSpec(next.spec) !== canonicalSpec(before.spec);
        if (!specChanged && stableStringify(next.labels) === stableStringify(before.labels)) return this.compose(before, etag);
        const doc: DesiredDoc = {
          ...before,
          spec: next.spec,
          labels: next.labels,
          generation: before.generation + (specChanged ? 1 : 0),
          updatedAt: new Date().toISOString(),
        };
        try {
          return await this.compose(doc, await this.objects.put(desiredKey(doc.name), doc, quoteEtag(etag)));
        } catch (e) {
          if (e instanceof WriteConflict) throw preconditionFailed(`cluster "${doc.name}" changed while it was being written`);
          throw e;
        }
      },
    };
  }

  /** Every cluster, page by page: a watch must see them all, not the first page. */
  private async listAll(): Promise<Cluster[]> {
    const all: Cluster[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.list({ limit: 500, ...(cursor ? { cursor } : {}) });
      all.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return all;
  }

  private async readDesired(name: string): Promise<{ doc: DesiredDoc; etag: string } | null> {
    const got = await this.objects.get(desiredKey(name));
    return got ? { doc: parseDesired(got.body, desiredKey(name)), etag: got.etag } : null;
  }

  private async load(name: string): Promise<Versioned<Cluster> | null> {
    const current = await this.readDesired(name);
    if (!current) return null;
    const cluster = await this.compose(current.doc, current.etag);
    return { value: cluster, etag: quoteEtag(cluster.resourceVersion) };
  }

  private async compose(doc: DesiredDoc, etag: string): Promise<Cluster> {
    const status = parseStatusDoc((await this.objects.get(statusKey(doc.name)))?.body);
    return composeCluster(doc, etag, status);
  }

  private async resolveName(idOrName: string): Promise<string | null> {
    if (!UUID.test(idOrName)) return nameProblem(idOrName) ? null : idOrName;
    const entry = (await this.objects.get(idKey(idOrName)))?.body as { name?: unknown } | undefined;
    const name = typeof entry?.name === 'string' ? entry.name : null;
    // The index may outlive its cluster (a name reused since): trust it only if the object agrees.
    if (!name || nameProblem(name)) return null;
    const got = await this.objects.get(desiredKey(name));
    return (got?.body as { id?: unknown } | undefined)?.id === idOrName ? name : null;
  }
}

function parseSpec(input: unknown): ClusterSpec {
  const parsed = clusterSpecSchema.safeParse(input);
  if (!parsed.success) {
    const errors = zodFieldErrors(parsed.error, ['spec']);
    throw validationFailed(`invalid spec: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);
  }
  if (parsed.data.provider !== 'aws') {
    throw validationFailed('the serverless (S3) mode runs the aws provider only', [{ path: 'spec.provider', message: 'must be "aws"' }]);
  }
  return parsed.data;
}

function parseLabels(input: unknown): Labels {
  const parsed = labelsSchema.safeParse(input);
  if (!parsed.success) throw validationFailed('invalid labels', zodFieldErrors(parsed.error, ['labels']));
  return parsed.data;
}
