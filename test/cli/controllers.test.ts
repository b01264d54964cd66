// `goman controllers list|remove` against a real `goman serve`: an admin retires a controller
// that is gone, and a deletion it held completes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Cluster } from '../../src/domain/cluster.ts';
import type { ServeHandle } from '../helpers/serve.ts';
import { runGoman, startServe } from '../helpers/serve.ts';

let srv: ServeHandle;
before(async () => {
  srv = await startServe();
});
after(async () => {
  await srv?.stop();
});

async function api(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${srv.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${srv.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
}

test('goman controllers remove retires a controller that is gone; the deletion it held completes', async () => {
  // A controller that registered, reported (planting its finalizer), then went away.
  assert.equal((await api('PUT', '/api/v1/controllers/vanished', { providers: ['aws'] })).status, 200);
  const c = (await (await api('POST', '/api/v1/clusters', { name: 'orphan', spec: { provider: 'aws' } })).json()) as Cluster;
  assert.equal((await api('PUT', `/api/v1/clusters/${c.id}/status/vanished`, { observedGeneration: 1, conditions: [] })).status, 200);
  assert.equal((await api('DELETE', '/api/v1/clusters/orphan')).status, 202);
  assert.equal((await api('GET', '/api/v1/clusters/orphan')).status, 200, 'held by the finalizer');

  const listed = await runGoman(['controllers', 'list'], { env: srv.env });
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /^vanished\s+aws\s+yes/m);

  const removed = await runGoman(['controllers', 'remove', 'vanished'], { env: srv.env });
  assert.equal(removed.code, 0, removed.stderr);
  assert.match(removed.stdout, /controller vanished removed/);
  assert.equal((await api('GET', '/api/v1/clusters/orphan')).status, 404, 'the deletion completed');

  const again = await runGoman(['controllers', 'remove', 'vanished'], { env: srv.env });
  assert.equal(again.code, 3);
  assert.equal(again.stderr.trimEnd().split('\n').length, 1);
  assert.match(again.stderr, /controller "vanished" not found/);
});
