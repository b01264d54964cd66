// What controllers call: status reports, finalizer release, registration and heartbeat.
import { GomanError } from '../../domain/index.ts';
import type { ClusterRecords, ReportStore } from '../../store/port.ts';
import type { RouteDef } from '../route.ts';
import { defineRoute } from '../route.ts';
import {
  clusterSchema,
  controllerListSchema,
  controllerNameParams,
  controllerParams,
  controllerRegistrationResponse,
  controllerRegistrationSchema,
  controllerReportSchema,
  reportResponseSchema,
} from '../schemas.ts';

const CONTROLLERS = ['controller', 'admin'] as const;

export function controllerRoutes(store: ReportStore & ClusterRecords): RouteDef[] {
  return [
    defineRoute({
      method: 'PUT',
      url: '/api/v1/clusters/:id/status/:controller',
      operationId: 'reportStatus',
      summary: "A controller's status report",
      description:
        'Recomputes the aggregated status in the same transaction. A report for a future generation is refused (409); ' +
        'one older than the controller\'s last report is ignored (200 with `"ignored": "stale"`). The first report adds the controller\'s finalizer.',
      tag: 'controllers',
      auth: CONTROLLERS,
      params: controllerParams,
      body: controllerReportSchema,
      responses: { 200: { description: 'the aggregated status after the report', schema: reportResponseSchema } },
      problems: [404, 409],
      handler: async ({ params, body }) => {
        const result = await store.reportStatus(params.id, params.controller, body);
        return result.ignored ? { ...result.cluster.status, ignored: result.ignored } : result.cluster.status;
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/api/v1/clusters/:id/finalizers/:controller',
      operationId: 'releaseFinalizer',
      summary: "Release a controller's finalizer",
      description: 'Once the last finalizer of a deleting cluster goes, so does the cluster (204).',
      tag: 'controllers',
      auth: CONTROLLERS,
      params: controllerParams,
      responses: {
        200: { description: 'released; the cluster remains', schema: clusterSchema },
        204: { description: 'released; the cluster is gone' },
      },
      problems: [404],
      handler: async ({ reply, params }) => {
        if (!(await store.getCluster(params.id))) throw new GomanError('NOT_FOUND', `cluster "${params.id}" not found`);
        const after = await store.removeFinalizer(params.id, params.controller);
        if (after) return after;
        return reply.code(204).send();
      },
    }),
    defineRoute({
      method: 'PUT',
      url: '/api/v1/controllers/:name',
      operationId: 'registerController',
      summary: 'Register a controller, or heartbeat',
      tag: 'controllers',
      auth: CONTROLLERS,
      params: controllerNameParams,
      body: controllerRegistrationSchema,
      responses: { 200: { description: 'the registration', schema: controllerRegistrationResponse } },
      handler: async ({ params, body }) => store.registerController(params.name, body),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/controllers',
      operationId: 'listControllers',
      summary: 'Registered controllers',
      tag: 'controllers',
      auth: CONTROLLERS,
      responses: { 200: { description: 'the registry', schema: controllerListSchema } },
      handler: async () => ({ items: await store.listControllers() }),
    }),
  ];
}

