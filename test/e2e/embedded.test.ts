// The README's promise for the embedded default: `goman serve` plus three HTTP calls (create,
// watch, get) take a cluster to Ready, and a delete removes it. Plain fetch, as curl would.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Cluster } from '../../src/domain/index.ts';
import { startServe, type ServeHandle } from '../helpers/serve.ts';
import { eventually } from '../helpers/eventually.ts';

let srv: ServeHandle | undefined;
after(() => srv?.stop());

test('create, watch until Ready, get, delete: on the embedded default', { timeout: 60_000 }, async () => {
  srv = await startServe();
  const auth = { authorization: `Bearer ${srv.token}` };
  const created = await fetch(`${srv.url}/api/v1/clusters`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'demo', spec: { nodePools: [{ name: 'workers', count: 2 }] } }),
  });
  assert.equal(created.status, 201);
  assert.match(created.headers.get('location') ?? '', /^\/api\/v1\/clusters\/[0-9a-f-]{36}$/);

  // Watch from the beginning until the cluster says Ready.
  const watch = await fetch(`${srv.url}/api/v1/watch?resourceVersion=0`, { headers: { ...auth, accept: 'text/event-stream' } });
  assert.equal(watch.status, 200);
  assert.match(watch.headers.get('content-type') ?? '', /text\/event-stream/);
  const phases: string[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  const reader = (watch.body as ReadableStream<Uint8Array>).getReader();
  while (!phases.includes('Ready')) {
    const { value, done } = await reader.read();
    assert.equal(done, false, `stream ended before Ready; saw ${phases.join(' → ')}`);
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = frame.split('\n').find((l) => l.startsWith('data: '));
      if (!data) continue;
      const event = JSON.parse(data.slice(6)) as { cluster?: Cluster };
      const phase = event.cluster?.status.phase;
      if (phase && phases.at(-1) !== phase) phases.push(phase);
    }
  }
  await reader.cancel();
  assert.equal(phases.at(-1), 'Ready');
  assert.ok(phases.includes('Provisioning'), phases.join(' → '));

  const got = await fetch(`${srv.url}/api/v1/clusters/demo`, { headers: auth });
  assert.equal(got.status, 200);
  const cluster = (await got.json()) as Cluster;
  assert.equal(cluster.status.phase, 'Ready');
  assert.equal(cluster.status.nodes.filter((n) => n.ready).length, 3);
  assert.equal(got.headers.get('etag'), `"${cluster.resourceVersion}"`);

  const deleted = await fetch(`${srv.url}/api/v1/clusters/demo`, { method: 'DELETE', headers: auth });
  assert.equal(deleted.status, 202);
  const url = `${srv.url}/api/v1/clusters/demo`;
  await eventually(
    'the cluster gone once the sim controller released its finalizer',
    async () => (await fetch(url, { headers: auth })).status === 404,
    { timeoutMs: 30_000, intervalMs: 200 },
  );
});
