// The console's kubeconfig download (GET /api/v1/clusters/{idOrName}/kubeconfig) against a real
// `goman serve` and moto: never cached, its owner or an admin only, nothing for sim clusters.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { createAwsClients } from '../../src/aws/clients.ts';
import { kubeconfigParameter } from '../../src/aws/names.ts';
import type { Moto } from '../helpers/moto.ts';
import { startMoto, useMotoEnv } from '../helpers/moto.ts';
import { startServe, type ServeHandle } from '../helpers/serve.ts';

let moto: Moto | null = null;
let srv: ServeHandle | undefined;
after(async () => {
  await srv?.stop();
  await moto?.stop();
});

test('kubeconfig download: owner and admin only, no-store, 409 until there is one, 400 for sim', async (t) => {
  moto = await startMoto(t);
  if (!moto) return;
  useMotoEnv(moto);
  srv = await startServe({ args: ['--no-controllers'], env: moto.env });
  const call = (method: string, path: string, token: string, body?: unknown): Promise<Response> =>
    fetch(`${srv!.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const token = async (subject: string, role: string): Promise<string> =>
    ((await (await call('POST', '/api/v1/tokens', srv!.token, { subject, role })).json()) as { token: string }).token;
  const alice = await token('alice', 'user');
  const bob = await token('bob', 'user');
  const controller = await token('ctl', 'controller');
  assert.equal((await call('POST', '/api/v1/clusters', alice, { name: 'gpu', spec: { provider: 'aws', region: 'eu-west-1' } })).status, 201);
  assert.equal((await call('POST', '/api/v1/clusters', alice, { name: 'toy' })).status, 201);

  const early = await call('GET', '/api/v1/clusters/gpu/kubeconfig', alice);
  assert.equal(early.status, 409, 'the cluster exists: 404 would tell a client it is gone');
  assert.match(((await early.json()) as { detail: string }).detail, /no kubeconfig yet/);

  // Stands in for the aws controller, which stores it after reading it over SSM RunCommand and
  // then reports the endpoint.
  const content = 'apiVersion: v1\nkind: Config\nclusters: []\n';
  await createAwsClients('eu-west-1').ssm('eu-west-1').send(new PutParameterCommand({ Name: kubeconfigParameter('gpu'), Type: 'SecureString', Value: content }));
  const stored = await call('GET', '/api/v1/clusters/gpu/kubeconfig', alice);
  assert.equal(stored.status, 409, 'no endpoint reported yet: AWS is not even asked');
  assert.equal((await call('PUT', '/api/v1/controllers/aws', controller, { providers: ['aws'] })).status, 200);
  const gpu = (await (await call('GET', '/api/v1/clusters/gpu', alice)).json()) as { id: string };
  const reported = await call('PUT', `/api/v1/clusters/${gpu.id}/status/aws`, controller, {
    observedGeneration: 1,
    conditions: [],
    metadata: { endpoint: 'https://10.0.0.10:6443' },
  });
  assert.equal(reported.status, 200);
  for (const who of [alice, srv.token]) {
    const res = await call('GET', '/api/v1/clusters/gpu/kubeconfig', who);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.match(res.headers.get('content-type') ?? '', /application\/yaml/);
    assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename="gpu.kubeconfig"/);
    assert.equal(await res.text(), content);
  }
  assert.equal((await call('GET', '/api/v1/clusters/gpu/kubeconfig', bob)).status, 404, "another user's cluster does not exist for bob");
  assert.equal((await call('GET', '/api/v1/clusters/gpu/kubeconfig', controller)).status, 403);
  assert.equal((await call('GET', '/api/v1/clusters/toy/kubeconfig', alice)).status, 400, 'a sim cluster has no kubeconfig');
});
