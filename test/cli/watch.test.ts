// The SSE parser and the server backend's watch: resume with ?resourceVersion=<last id>
// after the stream drops, and say connected/disconnected. The HTTP server here stands in for
// goman serve because the test must cut the stream at exact points; cli.test.ts watches the real one.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { ServerBackend, watchPayload } from '../../src/client/http-backend.ts';
import { SseParser } from '../../src/client/sse.ts';
import type { WatchEvent } from '../../src/client/backend.ts';
import { cluster } from '../tui/fake-backend.ts';

test('SSE parser: fields, multi-line data, comments, CRLF, ids carried over, split chunks', () => {
  const p = new SseParser();
  assert.deepEqual(p.push(': heartbeat\n\n'), []);
  assert.deepEqual(p.push('id: 7\nevent: updated\ndata: {"a":\ndata: 1}\n\n'), [{ event: 'updated', data: '{"a":\n1}', id: '7' }]);
  assert.deepEqual(p.push('data: x\r\n\r\n'), [{ event: 'message', data: 'x', id: '7' }]);
  assert.deepEqual(p.push('id: 8\nda'), []);
  assert.deepEqual(p.push('ta:no-space\r'), []);
  assert.deepEqual(p.push('\n\n'), [{ event: 'message', data: 'no-space', id: '8' }]);
  assert.equal(p.lastEventId, '8');
});

test('watch payloads: cluster events, deletions, nudges and noise', () => {
  const c = cluster('alpha');
  assert.deepEqual(watchPayload({ event: 'updated', data: JSON.stringify({ type: 'updated', cluster: c }), id: '1' }), { kind: 'upsert', cluster: c });
  assert.deepEqual(watchPayload({ event: 'deleted', data: '{"type":"deleted","id":"i1","name":"alpha"}', id: '2' }), { kind: 'deleted', id: 'i1', name: 'alpha' });
  assert.deepEqual(watchPayload({ event: 'cluster.status', data: '{"clusterId":"i1","name":"alpha"}', id: '3' }), { kind: 'lookup', id: 'i1', name: 'alpha' });
  assert.deepEqual(watchPayload({ event: 'cluster.reconcile', data: '{"clusterId":"i1","name":"alpha"}', id: '4' }), { kind: 'ignore' });
  assert.deepEqual(watchPayload({ event: 'message', data: 'ping', id: undefined }), { kind: 'ignore' });
});

test('watch reconnects after the stream drops and resumes from the last id', async () => {
  const c = cluster('alpha');
  const seen: (string | null)[] = [];
  let connections = 0;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push(url.searchParams.get('resourceVersion'));
    connections++;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    if (connections === 1) {
      res.write(`id: 41\nevent: created\ndata: ${JSON.stringify({ type: 'created', cluster: c })}\n\n`);
      setTimeout(() => res.destroy(), 20); // the server goes away mid-stream
    } else {
      res.write(`: heartbeat\n\nid: 42\nevent: deleted\ndata: {"type":"deleted","id":"${c.id}","name":"alpha"}\n\n`);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const backend = new ServerBackend({ server: `http://127.0.0.1:${port}`, backoffMs: { min: 10, max: 50 } });
  const abort = new AbortController();
  const events: WatchEvent['type'][] = [];
  try {
    for await (const ev of backend.watch(abort.signal)) {
      events.push(ev.type);
      if (ev.type === 'deleted') break;
    }
  } finally {
    abort.abort();
    server.closeAllConnections();
    server.close();
  }
  assert.deepEqual(events, ['connected', 'upsert', 'disconnected', 'connected', 'deleted']);
  assert.deepEqual(seen, [null, '41']);
});

test('watch keeps retrying while the server is down, and reports one disconnection', async () => {
  // A port with nothing listening: every attempt fails until the abort.
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((r) => probe.close(() => r()));
  const backend = new ServerBackend({ server: `http://127.0.0.1:${port}`, backoffMs: { min: 5, max: 10 } });
  const abort = new AbortController();
  setTimeout(() => abort.abort(), 300);
  const events: WatchEvent['type'][] = [];
  for await (const ev of backend.watch(abort.signal)) events.push(ev.type);
  assert.deepEqual(events, ['disconnected'], 'one report however many retries fail');
});

test('watch re-lists after a 410 (the resume point is gone) and carries on from the fresh stream', async () => {
  const [alpha, beta] = [cluster('alpha'), cluster('beta')];
  const seen: (string | null)[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/api/v1/clusters') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ items: [beta], nextCursor: null }));
      return;
    }
    const rv = url.searchParams.get('resourceVersion');
    seen.push(rv);
    if (seen.length === 1) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`id: 41\nevent: created\ndata: ${JSON.stringify({ type: 'created', cluster: alpha })}\n\n`);
      setTimeout(() => res.destroy(), 20);
    } else if (rv !== null) {
      res.writeHead(410, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ type: 'about:blank', title: 'Gone', status: 410, code: 'VALIDATION_FAILED', detail: 'resourceVersion 41 is too old' }));
    } else {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`id: 90\nevent: deleted\ndata: {"type":"deleted","id":"${alpha.id}","name":"alpha"}\n\n`);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const backend = new ServerBackend({ server: `http://127.0.0.1:${port}`, backoffMs: { min: 5, max: 20 } });
  const abort = new AbortController();
  const events: string[] = [];
  try {
    for await (const ev of backend.watch(abort.signal)) {
      events.push(ev.type === 'upsert' ? `upsert ${ev.cluster.name}` : ev.type);
      if (ev.type === 'deleted') break;
    }
  } finally {
    abort.abort();
    server.closeAllConnections();
    server.close();
  }
  assert.deepEqual(seen, [null, '41', null], 'resumed at 41, got 410, started afresh');
  assert.deepEqual(events, ['connected', 'upsert alpha', 'disconnected', 'connected', 'upsert beta', 'deleted']);
});
