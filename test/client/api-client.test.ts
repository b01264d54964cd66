// The client's transport against real HTTP servers that misbehave the way a proxy or a dying
// server can: silence, a refused connection, a redirect, a body that is not problem+json, a body
// cut short. (A real node:http server stands in for each; goman's own server never does these.)
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { ApiClient } from '../../src/client/api-client.ts';
import { ApiError, ServerUnreachableError } from '../../src/client/errors.ts';
import { freePort } from '../helpers/serve.ts';

async function serving(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

test('a server that never answers times out as unreachable, naming the timeout', async () => {
  const silent = await serving(() => undefined);
  try {
    const err = await new ApiClient({ baseUrl: silent.url, timeoutMs: 200 }).info().catch((e: unknown) => e);
    assert.ok(err instanceof ServerUnreachableError);
    assert.equal(err.timedOut, true);
    assert.match(err.message, /timed out/);
  } finally {
    await silent.close();
  }
});

test('nothing listening is unreachable, not a timeout', async () => {
  const err = await new ApiClient({ baseUrl: `http://127.0.0.1:${await freePort()}` }).info().catch((e: unknown) => e);
  assert.ok(err instanceof ServerUnreachableError);
  assert.equal(err.timedOut, false);
});

test('a redirect is not followed: the error says where the server points', async () => {
  const redirecting = await serving((_req, res) => res.writeHead(308, { location: 'https://goman.example/api/v1/info' }).end());
  try {
    const err = await new ApiClient({ baseUrl: redirecting.url }).info().catch((e: unknown) => e);
    assert.ok(err instanceof ApiError);
    assert.equal(err.status, 308);
    assert.match(err.message, /redirects to https:\/\/goman\.example\/api\/v1\/info/);
  } finally {
    await redirecting.close();
  }
});

test('an error body that is not problem+json falls back to the status, keeping the request id', async () => {
  const proxy = await serving((_req, res) => res.writeHead(502, { 'content-type': 'text/html', 'x-request-id': 'r-1' }).end('<h1>Bad Gateway</h1>'));
  try {
    const err = await new ApiClient({ baseUrl: proxy.url }).getCluster('c1').catch((e: unknown) => e);
    assert.ok(err instanceof ApiError);
    assert.equal(err.status, 502);
    assert.equal(err.code, 'INTERNAL');
    assert.equal(err.requestId, 'r-1');
  } finally {
    await proxy.close();
  }
});

test('a body cut short is unreachable, never half a document', async () => {
  const dying = await serving((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
    res.write('{"version":"1');
    setImmediate(() => res.socket?.destroy());
  });
  try {
    const err = await new ApiClient({ baseUrl: dying.url }).info().catch((e: unknown) => e);
    assert.ok(err instanceof ServerUnreachableError);
  } finally {
    await dying.close();
  }
});

test('a JSON answer comes back whole, with its ETag, and a body is sent with its length', async () => {
  let received = '';
  const server = await serving((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received = `${req.method} ${req.url} ${req.headers['content-length']} ${body}`;
      res.writeHead(200, { 'content-type': 'application/json', etag: '"7"' }).end(JSON.stringify({ id: 'c1', name: 'ü'.repeat(100_000) }));
    });
  });
  try {
    const client = new ApiClient({ baseUrl: server.url, token: 't' });
    const got = await client.getClusterVersioned('c1');
    assert.equal(got.etag, '"7"');
    assert.equal((got.value as { name: string }).name.length, 100_000);
    await client.reportStatus('c1', 'sim', { observedGeneration: 1, conditions: [] });
    const sent = JSON.stringify({ observedGeneration: 1, conditions: [] });
    assert.equal(received, `PUT /api/v1/clusters/c1/status/sim ${Buffer.byteLength(sent)} ${sent}`);
  } finally {
    await server.close();
  }
});
