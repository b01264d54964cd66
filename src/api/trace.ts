// One server span per HTTP request (docs/operations.md#tracing), child of an incoming
// `traceparent`. The hook hands the rest of the request to fastify inside the span's context,
// so the store transaction it runs (and the outbox row it writes) are children of it.
import { context, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { contextOfHeaders, tracingEnabled } from '../util/trace.ts';

export function traceRequests(app: FastifyInstance): void {
  if (!tracingEnabled()) return;
  const spans = new WeakMap<FastifyRequest, Span>();
  app.addHook('onRequest', (request, _reply, done) => {
    const parent = contextOfHeaders(request.headers);
    const route = request.routeOptions.url ?? 'unmatched';
    const span = trace.getTracer('goman').startSpan(
      `${request.method} ${route}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method, 'http.route': route, 'url.path': request.url.split('?')[0], 'goman.request.id': request.id } },
      parent,
    );
    spans.set(request, span);
    context.with(trace.setSpan(parent, span), done);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = spans.get(request);
    span?.setAttribute('http.response.status_code', reply.statusCode);
    if (reply.statusCode >= 500) span?.setStatus({ code: SpanStatusCode.ERROR });
    span?.end();
    done();
  });
}
