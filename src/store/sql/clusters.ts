// Cluster CRUD: create, read, list (keyset pages, filters in SQL), update, delete.
import type { QueryResult } from 'kysely';
import { isId, newId } from '../../util/ids.ts';
import {
  assertAdmissible,
  assertDay2Change,
  assertMutableSpec,
  canonicalSpec,
  conflict,
  emptyStatus,
  nameProblem,
  nameTaken,
  notFound,
  stableStringify,
  validationFailed,
  type Cluster,
} from '../../domain/index.ts';
import type { Page } from '../../domain/index.ts';
import type { CreateClusterInput, ListQuery, UpdateClusterInput } from '../port.ts';
import { isUniqueViolation, labelPredicate, singleStatementWrite, type SqlContext, transaction } from './context.ts';
import { decodeCursor, encodeCursor, isIsoTime } from './cursor.ts';
import { CLUSTER_COLUMNS, clusterFromRow, iso, type ClusterRow } from './rows.ts';
import {
  checkIfMatch,
  loadRegistry,
  lockWithRegistry,
  recompute,
  removeCluster,
  saveCluster,
  type HistoryDraft,
} from './writes.ts';

export async function createCluster(ctx: SqlContext, input: CreateClusterInput): Promise<Cluster> {
  const problem = nameProblem(input.name);
  if (problem) throw validationFailed('invalid cluster name', [{ path: 'name', message: problem }]);
  assertAdmissible(input.name, input.spec);
  try {
    // No read of the name first: the unique index refuses a taken name (below), and the
    // transaction then leaves nothing behind.
    return await singleStatementWrite(ctx, 'createCluster', async (db) => {
      const registry = await loadRegistry(ctx, db);
      const now = new Date();
      const at = now.toISOString();
      const draft: Cluster = {
        id: newId(),
        name: input.name,
        labels: input.labels,
        spec: input.spec,
        status: emptyStatus(),
        generation: 1,
        resourceVersion: '0',
        createdBy: input.createdBy,
        createdAt: at,
        updatedAt: at,
        finalizers: [],
      };
      draft.status = recompute(draft, emptyStatus(), [], registry, at);
      return saveCluster(ctx, db, { before: null, next: draft, events: ['cluster.created'], history: [{ kind: 'created', message: `cluster ${input.name} created` }], now });
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw nameTaken(input.name);
    throw e;
  }
}

// Every GET's and every reconcile's read, by id or by name, a user's limited to their own
// clusters: hot statements (hot-statements.ts), one per column and filter.
function readBy(ctx: SqlContext, column: 'id' | 'name', key: string, owner: string | undefined): Promise<QueryResult<ClusterRow>> {
  const owned = owner !== undefined;
  const query = ctx.hot.shaped(`readBy:${column}:${owned ? 'owner' : 'any'}`, { key, owner: owner ?? '' }, (v) =>
    ctx.db
      .selectFrom('clusters')
      .select(CLUSTER_COLUMNS)
      .where(column, '=', v.key)
      .$if(owned, (q) => q.where('created_by', '=', v.owner))
      .compile(),
  );
  return ctx.db.executeQuery(query);
}

export async function getCluster(ctx: SqlContext, idOrName: string, owner?: string): Promise<Cluster | null> {
  // An id wins over a name that happens to spell another cluster's id, so a UUID-shaped key is
  // tried as an id first (a primary-key read: the common case); anything else is only a name.
  const byId = isId(idOrName) ? (await readBy(ctx, 'id', idOrName, owner)).rows[0] : undefined;
  const row = byId ?? (await readBy(ctx, 'name', idOrName, owner)).rows[0];
  return row ? clusterFromRow(row) : null;
}

export async function listClusters(ctx: SqlContext, query: ListQuery): Promise<Page<Cluster>> {
  const limit = Math.max(1, Math.floor(query.limit));
  const after = query.cursor
    ? decodeCursor(query.cursor, ([createdAt, id, ...rest]) =>
        isIsoTime(createdAt) && typeof id === 'string' && rest.length === 0 ? { createdAt, id } : null,
      )
    : undefined;
  let q = ctx.db.selectFrom('clusters').selectAll();
  if (query.phase !== undefined) q = q.where('phase', '=', query.phase);
  if (query.provider !== undefined) q = q.where('provider', '=', query.provider);
  if (query.owner !== undefined) q = q.where('created_by', '=', query.owner);
  for (const req of query.labelSelector ?? []) q = q.where(labelPredicate(ctx.dialect, req));
  if (after) q = q.where((eb) => eb(eb.refTuple('created_at', 'id'), '>', eb.tuple(after.createdAt, after.id)));
  const rows = await q.orderBy('created_at').orderBy('id').limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map(clusterFromRow),
    nextCursor: rows.length > limit && last ? encodeCursor([iso(last.created_at), last.id]) : null,
  };
}

export async function updateCluster(ctx: SqlContext, id: string, input: UpdateClusterInput): Promise<Cluster> {
  return transaction(ctx, 'updateCluster', async (trx) => {
    const locked = await lockWithRegistry(ctx, trx, id);
    if (!locked) throw notFound(`cluster ${id}`);
    const before = locked.cluster;
    checkIfMatch(before, input.ifMatch);
    if (before.deletionTimestamp) throw conflict(`cluster ${before.name} is being deleted`);
    if (input.spec) {
      assertMutableSpec(before.spec, input.spec);
      assertAdmissible(before.name, input.spec);
      assertDay2Change(before, input.spec);
    }
    const specChanged = input.spec !== undefined && canonicalSpec(input.spec) !== canonicalSpec(before.spec);
    const labelsChanged = input.labels !== undefined && stableStringify(input.labels) !== stableStringify(before.labels);
    // An update that changes nothing writes nothing: no new resourceVersion, no event.
    if (!specChanged && !labelsChanged) return before;

    const now = new Date();
    const at = now.toISOString();
    const next: Cluster = {
      ...before,
      spec: specChanged && input.spec ? input.spec : before.spec,
      labels: labelsChanged && input.labels ? input.labels : before.labels,
      generation: specChanged ? before.generation + 1 : before.generation,
    };
    next.status = recompute(next, before.status, before.status.controllers, locked.registry, at);
    const history: HistoryDraft[] = [];
    if (specChanged) {
      history.push({
        kind: 'spec',
        message: `spec changed: generation ${before.generation} -> ${next.generation}`,
        data: { fromGeneration: before.generation, toGeneration: next.generation },
      });
    }
    if (labelsChanged) history.push({ kind: 'labels', message: 'labels changed', data: { labels: next.labels } });
    return saveCluster(ctx, trx, { before, next, events: ['cluster.updated'], history, now });
  });
}

export async function deleteCluster(ctx: SqlContext, id: string, ifMatch?: string): Promise<Cluster | null> {
  return transaction(ctx, 'deleteCluster', async (trx) => {
    const locked = await lockWithRegistry(ctx, trx, id);
    if (!locked) return null;
    const before = locked.cluster;
    checkIfMatch(before, ifMatch);
    if (before.deletionTimestamp) return before;
    const now = new Date();
    const at = now.toISOString();
    if (before.finalizers.length === 0) {
      await removeCluster(ctx, trx, before, ['cluster.deleting', 'cluster.deleted'], at);
      return null;
    }
    const next: Cluster = { ...before, deletionTimestamp: at };
    next.status = recompute(next, before.status, before.status.controllers, locked.registry, at);
    const history: HistoryDraft[] = [
      { kind: 'deleting', message: `deletion requested; waiting for ${before.finalizers.join(', ')}`, data: { finalizers: before.finalizers } },
    ];
    return saveCluster(ctx, trx, { before, next, events: ['cluster.deleting'], history, now });
  });
}
