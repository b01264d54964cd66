// What controllers call: status reports, finalizer release, registration and heartbeat; and the
// admin's way to retire a controller that is gone. Only a registered controller (one that has
// heartbeaten within the expiry) may report or release: an unknown name cannot plant a
// finalizer that would hold a deletion for good.
import { GomanError, notRegistered } from '../../domain/index.ts';
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

/** A controller silent this long is deregistered (its finalizers released): long past any restart or rollout. */
export const DEFAULT_CONTROLLER_EXPIRY_MS = 60 * 60_000;

/**
 * Retire silent controllers on a timer too, so a deletion held by the last controller of a
 * provider completes even when no other controller is left to heartbeat. Idempotent, so every
 * replica may run it. Returns the stop function.
 */
export function expireControllersPeriodically(store: ReportStore, expiryMs = DEFAULT_CONTROLLER_EXPIRY_MS, onError: (err: unknown) => void = () => {}): () => void {
  const timer = setInterval(() => {
    store.expireControllers(new Date(Date.now() - expiryMs)).catch(onError);
  }, Math.min(60_000, Math.max(100, expiryMs / 4)));
  timer.unref();
  return () => clearInterval(timer);
}

export function controllerRoutes(store: ReportStore & ClusterRecords, expiryMs = DEFAULT_CONTROLLER_EXPIRY_MS): RouteDef[] {
  async function requireRegistered(name: string): Promise<void> {
    const registration = (await store.listControllers()).find((c) => c.name === name);
    if (!registration || Date.parse(registration.lastHeartbeat) < Date.now() - expiryMs) {
      throw notRegistered(name);
    }
  }

  return [
    defineRoute({
      method: 'PUT',
      url: '/api/v1/clusters/:id/status/:controller',
      operationId: 'reportStatus',
      summary: "A controller's status report",
      description:
        'Recomputes the aggregated status in the same transaction. A report for a future generation is refused (409), and so is one from a ' +
        'controller that is not registered; one older than the controller\'s last report is ignored (200 with `"ignored": "stale"`). ' +
        "The first report adds the controller's finalizer.",
      tag: 'controllers',
      auth: CONTROLLERS,
      params: controllerParams,
      body: controllerReportSchema,
      responses: { 200: { description: 'the aggregated status after the report', schema: reportResponseSchema } },
      problems: [404, 409],
      handler: async ({ params, body }) => {
        // Registration is checked in the report's own transaction: one read of the registry, not two.
        const result = await store.reportStatus(params.id, params.controller, body, { registeredSince: new Date(Date.now() - expiryMs) });
        return result.ignored ? { ...result.cluster.status, ignored: result.ignored } : result.cluster.status;
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/api/v1/clusters/:id/finalizers/:controller',
      operationId: 'releaseFinalizer',
      summary: "Release a controller's finalizer",
      description: 'Once the last finalizer of a deleting cluster goes, so does the cluster (204). Only a registered controller may release.',
      tag: 'controllers',
      auth: CONTROLLERS,
      params: controllerParams,
      responses: {
        200: { description: 'released; the cluster remains', schema: clusterSchema },
        204: { description: 'released; the cluster is gone' },
      },
      problems: [404, 409],
      handler: async ({ reply, params }) => {
        if (!(await store.getCluster(params.id))) throw new GomanError('NOT_FOUND', `cluster "${params.id}" not found`);
        await requireRegistered(params.controller);
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
      description: `Heartbeat at least every few minutes: a controller silent for ${expiryMs / 60_000} minutes is deregistered and its finalizers released.`,
      tag: 'controllers',
      auth: CONTROLLERS,
      params: controllerNameParams,
      body: controllerRegistrationSchema,
      responses: { 200: { description: 'the registration', schema: controllerRegistrationResponse } },
      handler: async ({ params, body }) => {
        // Every live controller's heartbeat also retires the ones that stopped beating.
        await store.expireControllers(new Date(Date.now() - expiryMs));
        return store.registerController(params.name, body);
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/api/v1/controllers/:name',
      operationId: 'deregisterController',
      summary: 'Deregister a controller that is gone',
      description:
        'Admin only. The registration, its status reports and its finalizers go: clusters stop waiting for it, and a deleting cluster it ' +
        'alone held is removed (whatever it had not yet cleaned up in the cloud stays there). A controller that comes back registers again.',
      tag: 'controllers',
      auth: ['admin'],
      params: controllerNameParams,
      responses: { 204: { description: 'deregistered' } },
      problems: [404],
      handler: async ({ reply, params }) => {
        if (!(await store.deregisterController(params.name))) throw new GomanError('NOT_FOUND', `controller "${params.name}" not found`);
        return reply.code(204).send();
      },
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
