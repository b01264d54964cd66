// Outside the cluster resources: info, liveness, readiness, metrics, the OpenAPI document and
// its HTML rendering.
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { GomanError } from '../../domain/index.ts';
import type { EventBus } from '../../events/port.ts';
import type { StoreLifecycle } from '../../store/port.ts';
import type { RouteDef } from '../route.ts';
import { defineRoute } from '../route.ts';
import { healthSchema, infoSchema } from '../schemas.ts';

export interface SystemDeps {
  store: StoreLifecycle;
  bus: EventBus | undefined;
  registry: Registry;
  info: { version: string; topology: 'embedded' | 'service'; providers: string[] };
  isDraining: () => boolean;
  openApi: () => Record<string, unknown>;
  docsHtml: () => string;
}

const PING_TIMEOUT_MS = 2000;

async function withTimeout(what: string, p: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new GomanError('UNAVAILABLE', `${what} did not answer in ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS);
  });
  try {
    await Promise.race([p, timeout]);
  } catch (e) {
    throw e instanceof GomanError ? e : new GomanError('UNAVAILABLE', `${what} is unreachable`);
  } finally {
    clearTimeout(timer);
  }
}

export function systemRoutes(deps: SystemDeps): RouteDef[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/v1/info',
      operationId: 'info',
      summary: 'Server version, topology and providers',
      tag: 'system',
      auth: ['user', 'controller', 'admin'],
      responses: { 200: { description: 'about this server', schema: infoSchema } },
      handler: async () => deps.info,
    }),
    defineRoute({
      method: 'GET',
      url: '/healthz',
      operationId: 'healthz',
      summary: 'Liveness: the process answers',
      tag: 'system',
      auth: 'public',
      responses: { 200: { description: 'alive', schema: healthSchema } },
      handler: async () => ({ status: 'ok' }),
    }),
    defineRoute({
      method: 'GET',
      url: '/readyz',
      operationId: 'readyz',
      summary: 'Readiness: store and bus reachable, not draining',
      tag: 'system',
      auth: 'public',
      responses: { 200: { description: 'ready', schema: healthSchema } },
      problems: [503],
      handler: async () => {
        if (deps.isDraining()) throw new GomanError('UNAVAILABLE', 'shutting down');
        await withTimeout('the store', deps.store.ping());
        if (deps.bus) await withTimeout('the event bus', deps.bus.ping());
        return { status: 'ready' };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/metrics',
      operationId: 'metrics',
      summary: 'Prometheus metrics',
      tag: 'system',
      auth: 'public',
      responses: { 200: { description: 'text exposition format', contentType: 'text/plain' } },
      handler: async ({ reply }) => {
        const text = await deps.registry.metrics();
        return reply.type(deps.registry.contentType).send(text);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/openapi.json',
      operationId: 'openapi',
      summary: 'This document',
      tag: 'system',
      auth: 'public',
      responses: { 200: { description: 'OpenAPI 3.1', schema: z.record(z.string(), z.unknown()) } },
      handler: async () => deps.openApi(),
    }),
    defineRoute({
      method: 'GET',
      url: '/docs',
      operationId: 'docs',
      summary: 'API reference (HTML)',
      tag: 'system',
      auth: 'public',
      responses: { 200: { description: 'HTML page', contentType: 'text/html' } },
      handler: async ({ reply }) => reply.type('text/html; charset=utf-8').send(deps.docsHtml()),
    }),
  ];
}
