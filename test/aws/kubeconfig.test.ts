// `goman kubeconfig NAME` through the real CLI against moto: the cluster is found through an
// s3 context, its kubeconfig read from its region's SecureString and written 0600.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { createAwsClients } from '../../src/aws/clients.ts';
import { readKubeconfig } from '../../src/cli/aws/kubeconfig.ts';
import { kubeconfigParameter } from '../../src/aws/names.ts';
import { upsertContext } from '../../src/cli/config.ts';
import { createS3Backend } from '../../src/client/s3-backend.ts';
import type { Moto } from '../helpers/moto.ts';
import { startMoto, useMotoEnv } from '../helpers/moto.ts';
import { runGoman } from '../helpers/serve.ts';

let moto: Moto | null;
let dir: string;
const BUCKET = 'goman-123456789012';

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'goman-kubeconfig-'));
});
after(async () => {
  await moto?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('kubeconfig is written 0600 from the cluster region; a sim cluster or a missing one is an error', async (t) => {
  moto = await startMoto(t);
  if (!moto) return;
  useMotoEnv(moto);
  const clients = createAwsClients('ap-south-1');
  await clients.s3().send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: 'ap-south-1' } }));
  const configFile = path.join(dir, 'config', 'goman', 'config.yaml');
  await upsertContext({ name: 'aws', kind: 's3', bucket: BUCKET, region: 'ap-south-1' }, { makeCurrent: true, file: configFile });
  const backend = createS3Backend({ bucket: BUCKET, region: 'ap-south-1' });
  await backend.create({ name: 'gpu', spec: { provider: 'aws', region: 'eu-west-1' } });
  const env = { ...moto.env, XDG_CONFIG_HOME: path.join(dir, 'config'), HOME: dir };

  const early = await runGoman(['kubeconfig', 'gpu'], { env });
  assert.equal(early.code, 4, `exit 4 (conflict with the cluster's state), not 3 (not found): ${early.stderr}`);
  assert.match(early.stderr, /no kubeconfig yet/);

  // Stands in for the aws controller, which stores it after reading it over SSM RunCommand.
  const content = 'apiVersion: v1\nkind: Config\nclusters: []\n';
  await createAwsClients('eu-west-1')
    .ssm('eu-west-1')
    .send(new PutParameterCommand({ Name: kubeconfigParameter('gpu'), Type: 'SecureString', Value: content }));
  const ok = await runGoman(['kubeconfig', 'gpu'], { env });
  assert.equal(ok.code, 0, ok.stderr);
  const file = path.join(dir, '.kube', 'goman-gpu.yaml');
  assert.equal(await readFile(file, 'utf8'), content);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.match(ok.stderr, /export KUBECONFIG=/);

  const gpu = (await backend.get('gpu')).value;
  await assert.rejects(readKubeconfig({ ...gpu, spec: { ...gpu.spec, provider: 'sim' } }), /no real Kubernetes API/);
  const missing = await runGoman(['kubeconfig', 'nope'], { env });
  assert.equal(missing.code, 3);
});
