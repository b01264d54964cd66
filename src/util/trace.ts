// Spans over the OpenTelemetry API (docs/operations.md#tracing). The API alone records nothing:
// until cmd/tracing.ts registers the SDK (only when OTEL_EXPORTER_OTLP_ENDPOINT is set), every
// span here is a no-op and no trace context is written anywhere.
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context } from '@opentelemetry/api';

export { SpanKind };

let enabled = false;

/** Set by the composition root once it registered the SDK: code that would add per-request hooks or spans asks first. */
export function setTracingEnabled(on: boolean): void {
  enabled = on;
}

export function tracingEnabled(): boolean {
  return enabled;
}

export interface SpanOptions {
  attributes?: Attributes;
  kind?: SpanKind;
  /** The parent; default: the active context. */
  parent?: Context;
}

/** Runs `body` in a new span (child of the parent), recording a thrown error on it. */
export function inSpan<T>(name: string, opts: SpanOptions, body: () => Promise<T>): Promise<T> {
  // Without the SDK the span would record nothing, and there is no context to run the body in:
  // a store operation on every request need not make one.
  if (!enabled) return body();
  const tracer = trace.getTracer('goman');
  return tracer.startActiveSpan(name, { attributes: opts.attributes, kind: opts.kind }, opts.parent ?? context.active(), async (span) => {
    try {
      return await body();
    } catch (err) {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The active span as a W3C `traceparent`, to carry in an event or header (undefined when not tracing). */
export function currentTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** The context a carried `traceparent` names (a root context when there is none). */
export function contextOf(traceparent: string | null | undefined): Context {
  return traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent }) : ROOT_CONTEXT;
}

/** The context an incoming request's headers carry, if any. */
export function contextOfHeaders(headers: Record<string, string | string[] | undefined>): Context {
  return propagation.extract(ROOT_CONTEXT, headers);
}
