// OpenTelemetry tracing (docs/operations.md#tracing): when OTEL_EXPORTER_OTLP_ENDPOINT is set,
// spans go to it over OTLP/HTTP; when it is not, the SDK is never loaded and every span in
// util/trace.ts stays a no-op of the bare API.
import type { Env } from '../domain/env.ts';
import { setTracingEnabled } from '../util/trace.ts';

export interface Tracing {
  /** Sends what is buffered and stops. */
  shutdown(): Promise<void>;
}

export async function startTracing(serviceName: string, env: Env = process.env): Promise<Tracing> {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT) return { shutdown: async () => {} };
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  // The exporter reads the endpoint (and OTEL_EXPORTER_OTLP_HEADERS etc.) from the environment.
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  // W3C trace context and an AsyncLocalStorage context manager: the active span follows awaits.
  provider.register();
  setTracingEnabled(true);
  return {
    shutdown: async () => {
      setTracingEnabled(false);
      await provider.shutdown();
    },
  };
}
