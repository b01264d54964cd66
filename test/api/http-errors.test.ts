// Errors raised below the routes (Node's HTTP parser, fastify's URL and body handling) answer in
// the same problem shape, with an X-Request-Id, as every route does.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { harness, PROBLEM } from './harness.ts';

/** One raw HTTP exchange: what the server wrote before it closed the connection. */
function exchange(port: number, request: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let raw = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (raw += d));
    // The server closes as soon as it has answered, which may reset a request still being written.
    socket.on('error', (e) => (raw ? undefined : reject(e)));
    socket.on('close', () => {
      const [head = '', body = ''] = raw.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
    });
  });
}

test('requests the HTTP parser refuses (431 long URL, 400 bad header) still answer problem+json with X-Request-Id', async (t) => {
  const h = await harness(t);
  await h.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (h.app.server.address() as net.AddressInfo).port;
  const cases = [
    { status: 431, request: `GET /api/v1/clusters?x=${'a'.repeat(70_000)} HTTP/1.1\r\nHost: x\r\n\r\n` },
    { status: 400, request: 'GET /api/v1/clusters HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n' },
  ];
  for (const c of cases) {
    const res = await exchange(port, c.request);
    assert.equal(res.status, c.status);
    assert.match(res.headers['content-type'] ?? '', PROBLEM);
    const body = JSON.parse(res.body) as { status: number; code: string; requestId: string; errors: unknown[] };
    assert.equal(body.status, c.status);
    assert.equal(body.code, 'VALIDATION_FAILED');
    assert.ok(res.headers['x-request-id'], `${c.status} carries X-Request-Id`);
    assert.equal(body.requestId, res.headers['x-request-id']);
  }
});

test('a malformed URL is a 400 problem that says so, not a complaint about the body', async (t) => {
  const h = await harness(t);
  const res = await h.call('alice', { method: 'GET', url: '/api/v1/clusters/%E0%A4%A' });
  assert.equal(res.statusCode, 400);
  assert.match(String(res.headers['content-type']), PROBLEM);
  assert.ok(res.headers['x-request-id']);
  assert.match(res.json<{ detail: string }>().detail, /URL/);
});

test('a body over the limit is a 413 problem with X-Request-Id for every content type', async (t) => {
  const h = await harness(t);
  const created = await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'big' } });
  assert.equal(created.statusCode, 201);
  const payload = JSON.stringify({ labels: { a: 'b'.repeat(1_100_000) } });
  for (const [method, url, type] of [
    ['POST', '/api/v1/clusters', 'application/json'],
    ['PATCH', '/api/v1/clusters/big', 'application/merge-patch+json'],
  ] as const) {
    const res = await h.call('alice', { method, url, payload, headers: { 'content-type': type } });
    assert.equal(res.statusCode, 413, `${method} ${type}`);
    assert.match(String(res.headers['content-type']), PROBLEM);
    assert.ok(res.headers['x-request-id']);
    assert.equal(res.json<{ code: string }>().code, 'PAYLOAD_TOO_LARGE');
  }
});
