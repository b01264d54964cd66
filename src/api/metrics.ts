// Prometheus metrics for the HTTP face (DESIGN §11). One registry per app, never prom-client's
// global one, so tests and multiple apps in one process do not collide; controllers register
// their own metrics on the same registry. Route labels are templates, never raw paths.
import type { FastifyInstance, FastifyReply, FastifyRequest, onResponseHookHandler } from 'fastify';
import { hooksOf } from './route-hooks.ts';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ClusterRecords } from '../store/port.ts';

export function createMetricsRegistry(): Registry {
  return new Registry();
}

export function instrumentHttp(app: FastifyInstance, registry: Registry, store: ClusterRecords, watchStreams: () => number): void {
  const requests = new Counter({
    name: 'goman_http_requests_total',
    help: 'HTTP requests by route template, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'goman_http_request_duration_seconds',
    help: 'HTTP request duration by route template and method',
    labelNames: ['route', 'method'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  new Gauge({
    name: 'goman_clusters',
    help: 'Clusters by phase and provider (read from the store at scrape time)',
    labelNames: ['phase', 'provider'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await store.countClusters()) this.set({ phase: row.phase, provider: row.provider }, row.count);
    },
  });
  new Gauge({
    name: 'goman_watch_streams',
    help: 'Open /api/v1/watch event streams',
    registers: [registry],
    collect() {
      this.set(watchStreams());
    },
  });

  // Each route counts its own requests, its template known when it is added; an unmatched
  // request has no template (its raw path would be unbounded cardinality).
  const count = (route: string, request: FastifyRequest, reply: FastifyReply): void => {
    const method = request.method;
    requests.inc({ route, method, status: String(reply.statusCode) });
    duration.observe({ route, method }, reply.elapsedTime / 1000);
  };
  const observe = (route: string): onResponseHookHandler => (request, reply, done) => {
    count(route, request, reply);
    done();
  };
  app.addHook('onRoute', (route) => {
    route.onResponse = [...hooksOf(route.onResponse), observe(route.url)];
  });
  app.addHook('onResponse', (request, reply, done) => {
    if (request.is404) count('unmatched', request, reply);
    done();
  });
}
