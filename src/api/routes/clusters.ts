// /api/v1/clusters: create, list, read, merge-patch, replace, delete, status and history.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Cluster } from '../../domain/index.ts';
import { GomanError } from '../../domain/index.ts';
import type { ClusterRecords } from '../../store/port.ts';
import type { Identity } from '../auth.ts';
import { ownerFilter } from '../auth.ts';
import { parseLabelSelector } from '../../domain/label-selector.ts';
import { ifMatchVersion, quoteEtag } from '../../domain/etag.ts';
import { mergePatchChange, storeTarget, updateWithRetry } from '../../usecases/update-cluster.ts';
import type { PlanService } from './plan.ts';
import { clusterWithPlanSchema, dryRunCreate, dryRunDelete, dryRunQuery, dryRunUpdate, isDryRun } from './plan.ts';
import type { RouteDef } from '../route.ts';
import { itemsWithin } from '../paging.ts';
import { defineRoute } from '../route.ts';
import {
  clusterListSchema,
  clusterSchema,
  clusterStatusSchema,
  createClusterBody,
  historyPageSchema,
  idOrNameParams,
  listClustersQuery,
  pageQuery,
  patchClusterBody,
  replaceClusterBody,
} from '../schemas.ts';

const ETAG = { ETag: 'the resourceVersion, quoted' };
const WRITERS = ['user', 'admin'] as const;
const READERS = ['user', 'controller', 'admin'] as const;

/** `If-Match: "12"` (or W/"12", or bare 12) → "12"; `*` or absent → undefined. */
function parseIfMatch(request: FastifyRequest): string | undefined {
  return ifMatchVersion(request.headers['if-match']);
}

function withEtag(reply: FastifyReply, cluster: Cluster): Cluster {
  void reply.header('etag', quoteEtag(cluster.resourceVersion));
  return cluster;
}

async function findCluster(store: ClusterRecords, idOrName: string, identity: Identity): Promise<Cluster> {
  const cluster = await store.getCluster(idOrName, ownerFilter(identity));
  // Another user's cluster is a 404 too: its existence is not theirs to learn.
  if (!cluster) throw new GomanError('NOT_FOUND', `cluster "${idOrName}" not found`);
  return cluster;
}

/** The cluster as it was when a delete removed its row at once (no finalizers to wait for). */
function goneSnapshot(before: Cluster): Cluster {
  const now = new Date().toISOString();
  return {
    ...before,
    deletionTimestamp: before.deletionTimestamp ?? now,
    finalizers: [],
    status: { ...before.status, phase: 'Deleting', reason: 'Deleted', message: 'deleted: no controller held a finalizer' },
  };
}

export function clusterRoutes(store: ClusterRecords, plans: PlanService): RouteDef[] {
  return [
    defineRoute({
      method: 'POST',
      url: '/api/v1/clusters',
      operationId: 'createCluster',
      summary: 'Create a cluster',
      description: 'Spec defaults are filled in. The name must not belong to a live cluster.',
      tag: 'clusters',
      auth: WRITERS,
      query: dryRunQuery,
      body: createClusterBody,
      responses: {
        201: { description: 'created', schema: clusterSchema, headers: { Location: 'the new cluster', ...ETAG } },
        200: { description: 'dry run: the cluster as it would be, with its plan; nothing written', schema: clusterWithPlanSchema },
      },
      problems: [409, 422],
      handler: async ({ reply, query, body, identity }) => {
        if (isDryRun(query)) return dryRunCreate(plans, store, body, identity.subject);
        const cluster = await store.createCluster({ name: body.name, labels: body.labels, spec: body.spec, createdBy: identity.subject });
        void reply.code(201).header('location', `/api/v1/clusters/${cluster.id}`);
        return withEtag(reply, cluster);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/clusters',
      operationId: 'listClusters',
      summary: 'List clusters',
      description: 'Pages of at most `limit` clusters and about 4 MiB (a page may stop short; follow `nextCursor` until it is null).',
      tag: 'clusters',
      auth: READERS,
      query: listClustersQuery,
      responses: { 200: { description: 'a page of clusters', schema: clusterListSchema } },
      handler: async ({ query, identity }) => {
        const filter = {
          cursor: query.cursor,
          phase: query.phase,
          provider: query.provider,
          labelSelector: query.labelSelector === undefined ? undefined : parseLabelSelector(query.labelSelector),
          owner: ownerFilter(identity),
        };
        const page = await store.listClusters({ limit: query.limit, ...filter });
        const fit = itemsWithin(page.items);
        // Over the byte budget: the page ends early, and its cursor resumes right after what was sent.
        const sent = fit < page.items.length ? await store.listClusters({ limit: fit, ...filter }) : page;
        return { items: sent.items, nextCursor: sent.nextCursor ?? null };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/clusters/:idOrName',
      operationId: 'getCluster',
      summary: 'Read a cluster',
      tag: 'clusters',
      auth: READERS,
      params: idOrNameParams,
      responses: { 200: { description: 'the cluster', schema: clusterSchema, headers: ETAG } },
      problems: [404],
      handler: async ({ reply, params, identity }) => withEtag(reply, await findCluster(store, params.idOrName, identity)),
    }),
    defineRoute({
      method: 'PATCH',
      url: '/api/v1/clusters/:idOrName',
      operationId: 'patchCluster',
      summary: 'Change spec and labels with a JSON merge patch (RFC 7386)',
      description: 'The merged spec is validated in full. `If-Match` is honoured (412 on mismatch); the generation moves only when the spec changes.',
      tag: 'clusters',
      auth: WRITERS,
      params: idOrNameParams,
      query: dryRunQuery,
      body: patchClusterBody,
      bodyTypes: ['application/merge-patch+json', 'application/json'],
      responses: { 200: { description: 'the updated cluster (on a dry run: as it would be, with its plan)', schema: clusterWithPlanSchema, headers: ETAG } },
      problems: [404, 409, 412, 422],
      handler: async ({ request, reply, params, query, body, identity }) => {
        const ifMatch = parseIfMatch(request);
        const change = mergePatchChange(body);
        if (isDryRun(query)) {
          const cluster = await findCluster(store, params.idOrName, identity);
          return dryRunUpdate(plans, cluster, change(cluster), ifMatch);
        }
        return withEtag(reply, await updateWithRetry(storeTarget(store, params.idOrName, ownerFilter(identity)), change, { ifMatch }));
      },
    }),
    defineRoute({
      method: 'PUT',
      url: '/api/v1/clusters/:idOrName',
      operationId: 'replaceCluster',
      summary: 'Replace the spec (and labels, when given)',
      description: 'Defaults are filled in for absent spec fields. `If-Match` is honoured (412 on mismatch).',
      tag: 'clusters',
      auth: WRITERS,
      params: idOrNameParams,
      query: dryRunQuery,
      body: replaceClusterBody,
      responses: { 200: { description: 'the updated cluster (on a dry run: as it would be, with its plan)', schema: clusterWithPlanSchema, headers: ETAG } },
      problems: [404, 409, 412, 422],
      handler: async ({ request, reply, params, query, body, identity }) => {
        const cluster = await findCluster(store, params.idOrName, identity);
        if (isDryRun(query)) return dryRunUpdate(plans, cluster, { spec: body.spec, labels: body.labels ?? cluster.labels }, parseIfMatch(request));
        const updated = await store.updateCluster(cluster.id, { spec: body.spec, labels: body.labels, ifMatch: parseIfMatch(request) });
        return withEtag(reply, updated);
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/api/v1/clusters/:idOrName',
      operationId: 'deleteCluster',
      summary: 'Start deleting a cluster',
      description:
        'Sets `deletionTimestamp`; controllers clean up and release their finalizers, then the row goes and the name is free. ' +
        'Idempotent. The body is the cluster; when no finalizer held it, the row is gone at once and the body is its final state.',
      tag: 'clusters',
      auth: WRITERS,
      params: idOrNameParams,
      query: dryRunQuery,
      responses: {
        202: { description: 'deletion started (or done)', schema: clusterSchema },
        200: { description: 'dry run: the cluster as the delete would leave it, with its plan; nothing written', schema: clusterWithPlanSchema },
      },
      problems: [404, 412],
      handler: async ({ request, reply, params, query, identity }) => {
        const cluster = await findCluster(store, params.idOrName, identity);
        if (isDryRun(query)) return dryRunDelete(plans, cluster, parseIfMatch(request));
        const after = await store.deleteCluster(cluster.id, parseIfMatch(request));
        void reply.code(202);
        return after ? withEtag(reply, after) : goneSnapshot(cluster);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/clusters/:idOrName/status',
      operationId: 'getClusterStatus',
      summary: 'Aggregated and per-controller status',
      tag: 'clusters',
      auth: READERS,
      params: idOrNameParams,
      responses: { 200: { description: 'the status', schema: clusterStatusSchema } },
      problems: [404],
      handler: async ({ params, identity }) => (await findCluster(store, params.idOrName, identity)).status,
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/clusters/:idOrName/events',
      operationId: 'listClusterEvents',
      summary: 'History: spec changes, phase transitions, controller errors',
      tag: 'clusters',
      auth: READERS,
      params: idOrNameParams,
      query: pageQuery,
      responses: { 200: { description: 'a page of history entries', schema: historyPageSchema } },
      problems: [404],
      handler: async ({ params, query, identity }) => {
        const cluster = await findCluster(store, params.idOrName, identity);
        const page = await store.listHistory(cluster.id, query.limit, query.cursor);
        return { items: page.items, nextCursor: page.nextCursor ?? null };
      },
    }),
  ];
}
