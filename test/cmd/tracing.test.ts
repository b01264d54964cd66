// OpenTelemetry (issue 15): with OTEL_EXPORTER_OTLP_ENDPOINT set, one cluster create is one
// trace from the API request through the store transaction, the outbox relay's publish and
// the bus delivery to the sim controller's reconcile, each span the child of the one before.
// The OTLP/HTTP receiver is this test's own HTTP server (JSON encoding, as the exporter sends).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { startTracing } from '../../src/cmd/tracing.ts';
import { tracingEnabled } from '../../src/util/trace.ts';
import { eventually } from '../helpers/eventually.ts';
import { startServe } from '../helpers/serve.ts';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: { stringValue?: string } }[];
}

function otlpReceiver(): Promise<{ url: string; spans: OtlpSpan[]; close(): Promise<void> }> {
  const spans: OtlpSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
        for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}`, spans, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

const attr = (span: OtlpSpan, key: string): string | undefined => span.attributes?.find((a) => a.key === key)?.value.stringValue;

test('one cluster create is one trace: API → store → relay publish → bus delivery → sim reconcile', { timeout: 60_000 }, async (t) => {
  const receiver = await otlpReceiver();
  t.after(() => receiver.close());
  const srv = await startServe({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '50' } });
  t.after(() => srv.stop());
  const created = await fetch(`${srv.url}/api/v1/clusters`, {
    method: 'POST',
    headers: { authorization: `Bearer ${srv.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'traced' }),
  });
  assert.equal(created.status, 201);
  const clusterId = ((await created.json()) as { id: string }).id;

  const chain = await eventually('the create trace down to a sim reconcile', () => {
    const api = receiver.spans.find((s) => s.name === 'POST /api/v1/clusters');
    if (!api) return undefined;
    const inTrace = receiver.spans.filter((s) => s.traceId === api.traceId);
    const childOf = (parent: OtlpSpan, name: string): OtlpSpan | undefined => inTrace.find((s) => s.name === name && s.parentSpanId === parent.spanId);
    const store = childOf(api, 'store createCluster');
    const publish = store && childOf(store, 'outbox publish');
    const deliver = publish && childOf(publish, 'bus deliver');
    const reconcile = deliver && childOf(deliver, 'reconcile');
    return reconcile && { api, store, publish, deliver, reconcile };
  });
  assert.equal(attr(chain.reconcile, 'goman.cluster.id'), clusterId);
  assert.equal(attr(chain.reconcile, 'goman.controller'), 'sim-controller');
  assert.match(attr(chain.reconcile, 'goman.reconcile.id') ?? '', /^[0-9a-f]{12}$/);
  assert.equal(attr(chain.publish, 'goman.event.type'), 'cluster.created');
  // The API span has no parent: the request started the trace.
  assert.ok(!chain.api.parentSpanId);
});

test('without OTEL_EXPORTER_OTLP_ENDPOINT tracing stays off: no SDK registered, no trace context written', async () => {
  const tracing = await startTracing('goman', {});
  assert.equal(tracingEnabled(), false);
  const { currentTraceparent, inSpan } = await import('../../src/util/trace.ts');
  assert.equal(await inSpan('noop', {}, async () => currentTraceparent()), undefined);
  await tracing.shutdown();
});
