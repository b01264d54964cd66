// One read-modify-write of a cluster's spec and labels, shared by the API (SQL stores) and the
// serverless S3 backend. With the caller's If-Match it is one conditional write: a mismatch is
// PRECONDITION_FAILED (412). Without it, a concurrent write only means "apply the change again
// to what is there now", so the change is re-read and retried until it applies: every lost race
// means another write won, so the retries always make progress.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster, ClusterSpec, Labels } from '../domain/index.ts';
import { clusterSpecSchema, GomanError, isGomanError, labelsSchema } from '../domain/index.ts';
import { mergePatch } from '../domain/merge-patch.ts';
import type { ClusterRecords } from '../store/port.ts';
import { zodFieldErrors } from '../domain/zod-errors.ts';

export interface SpecAndLabels {
  spec: ClusterSpec;
  labels: Labels;
}

/** What an adapter offers the use case: read the current state, write conditionally on it. */
export interface UpdateTarget<T> {
  /** The current state and the version a write must match; NOT_FOUND when absent. */
  read(): Promise<SpecAndLabels & { version: string }>;
  /** Writes only if the stored version is still `ifMatch`; PRECONDITION_FAILED otherwise. */
  write(next: SpecAndLabels, ifMatch: string): Promise<T>;
}

export type Change = (current: SpecAndLabels) => SpecAndLabels;

export interface UpdateOptions {
  /** The caller's If-Match: one attempt, and a mismatch is the caller's to resolve. */
  ifMatch?: string | undefined;
  /** Give up (with the last PRECONDITION_FAILED) after this long; a safety net, never reached in practice. */
  deadlineMs?: number;
}

export async function updateWithRetry<T>(target: UpdateTarget<T>, change: Change, opts: UpdateOptions = {}): Promise<T> {
  const deadline = performance.now() + (opts.deadlineMs ?? 30_000);
  for (let attempt = 0; ; attempt++) {
    const current = await target.read();
    try {
      return await target.write(change(current), opts.ifMatch ?? current.version);
    } catch (e) {
      if (opts.ifMatch !== undefined || !isGomanError(e, 'PRECONDITION_FAILED') || performance.now() > deadline) throw e;
    }
    // Jitter spreads the writers that lost together, so they do not collide again in lockstep.
    await sleep(Math.random() * Math.min(50, 2 ** attempt));
  }
}

/** A JSON merge patch (RFC 7396) of spec and labels, validated: VALIDATION_FAILED names the field. */
export interface MergePatchBody {
  spec?: Record<string, unknown> | undefined;
  labels?: Record<string, string | null> | undefined;
}

export function mergePatchChange(patch: MergePatchBody, parseSpec: (input: unknown) => ClusterSpec = parseClusterSpec): Change {
  return (current) => ({
    spec: patch.spec === undefined ? current.spec : parseSpec(mergePatch(current.spec, patch.spec)),
    labels: patch.labels === undefined ? current.labels : parseLabels(mergePatch(current.labels, patch.labels)),
  });
}

export function parseClusterSpec(input: unknown): ClusterSpec {
  const parsed = clusterSpecSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new GomanError('VALIDATION_FAILED', 'invalid spec', zodFieldErrors(parsed.error, ['spec']));
}

export function parseLabels(input: unknown): Labels {
  const parsed = labelsSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new GomanError('VALIDATION_FAILED', 'invalid labels', zodFieldErrors(parsed.error, ['labels']));
}

/** The same use case over a SQL store: what `PATCH /api/v1/clusters/{idOrName}` runs. */
export function storeTarget(store: ClusterRecords, idOrName: string, owner?: string): UpdateTarget<Cluster> {
  let id: string | undefined;
  return {
    async read() {
      const cluster = await store.getCluster(id ?? idOrName, owner);
      // Another user's cluster is a 404 too: its existence is not theirs to learn.
      if (!cluster) throw new GomanError('NOT_FOUND', `cluster "${idOrName}" not found`);
      id = cluster.id;
      return { spec: cluster.spec, labels: cluster.labels, version: cluster.resourceVersion };
    },
    write: (next, ifMatch) => store.updateCluster(id ?? idOrName, { ...next, ifMatch }),
  };
}
