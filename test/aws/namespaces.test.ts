// Several environments in one bucket (issue 15), on moto: `goman init --namespace dev` and
// `--namespace prod` share the bucket, each with its own state prefix, queue, notification
// entry, function, role and context; neither sees the other's clusters; `uninit --namespace
// prod` removes prod's resources only and dev keeps working.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { GetBucketNotificationConfigurationCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import { parse } from 'yaml';
import { createAwsClients } from '../../src/aws/clients.ts';
import { initAws } from '../../src/cli/aws/init.ts';
import { lambdaPolicy } from '../../src/cli/aws/iam-policies.ts';
import { bundleLambda } from '../../src/cli/aws/lambda-zip.ts';
import { uninitAws } from '../../src/cli/aws/uninit.ts';
import { createS3Backend } from '../../src/client/s3-backend.ts';
import { parseMessage } from '../../src/reconcile/serverless-runner.ts';
import { startMoto, useMotoEnv } from '../helpers/moto.ts';
import { cleanEnv, runGoman } from '../helpers/serve.ts';

test('two namespaces in one bucket: separate state, queue, notification and context; uninit of one leaves the other working', { timeout: 180_000 }, async (t) => {
  const moto = await startMoto(t);
  if (!moto) return;
  t.after(() => moto.stop());
  useMotoEnv(moto);
  const dir = await mkdtemp(path.join(tmpdir(), 'goman-ns-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const configFile = path.join(dir, 'goman', 'config.yaml');
  const clients = createAwsClients('ap-south-1');
  const zip = await bundleLambda();
  const dev = await initAws({ clients, configFile, namespace: 'dev', lambdaZip: async () => zip });
  const prod = await initAws({ clients, configFile, namespace: 'prod', lambdaZip: async () => zip });
  assert.equal(dev.names.bucket, prod.names.bucket);
  await assert.rejects(initAws({ clients, configFile, namespace: 'Bad_Name' }), /--namespace "Bad_Name"/);

  const queues = (await clients.sqs().send(new ListQueuesCommand({}))).QueueUrls ?? [];
  assert.ok(queues.some((q) => q.endsWith(`${dev.names.queue}`)) && queues.some((q) => q.endsWith(`${prod.names.queue}`)), queues.join(' '));
  const notifications = await clients.s3().send(new GetBucketNotificationConfigurationCommand({ Bucket: dev.names.bucket }));
  const prefixes = (notifications.QueueConfigurations ?? []).map((q) => [q.Id, q.Filter?.Key?.FilterRules?.find((r) => r.Name?.toLowerCase() === 'prefix')?.Value]);
  assert.deepEqual(prefixes.sort(), [
    ['goman-desired-state-dev', 'state/dev/clusters/'],
    ['goman-desired-state-prod', 'state/prod/clusters/'],
  ]);
  const fn = await clients.lambda().send(new GetFunctionConfigurationCommand({ FunctionName: dev.names.functionName }));
  assert.equal(fn.Environment?.Variables?.GOMAN_NAMESPACE, 'dev');
  // The dev controller's IAM scope is dev's objects only.
  const statements = lambdaPolicy(dev.names).Statement;
  assert.equal(statements.find((s) => s.Sid === 'StateBucket')?.Resource, `arn:aws:s3:::${dev.names.bucket}/state/dev/*`);
  const config = parse(await readFile(configFile, 'utf8')) as { contexts: { name: string; namespace?: string }[] };
  assert.deepEqual(config.contexts.map((c) => [c.name, c.namespace]).sort(), [['aws-dev', 'dev'], ['aws-prod', 'prod']]);

  // Desired state under state/dev/clusters/; prod sees none of it, over the CLI too.
  const devBackend = createS3Backend({ bucket: dev.names.bucket, region: 'ap-south-1', namespace: 'dev' });
  const prodBackend = createS3Backend({ bucket: prod.names.bucket, region: 'ap-south-1', namespace: 'prod' });
  await devBackend.create({ name: 'alpha', spec: { provider: 'aws' } });
  await clients.s3().send(new HeadObjectCommand({ Bucket: dev.names.bucket, Key: 'state/dev/clusters/alpha.json' }));
  assert.deepEqual((await devBackend.list()).items.map((c) => c.name), ['alpha']);
  assert.deepEqual((await prodBackend.list()).items, []);
  const env = cleanEnv({ ...moto.env, XDG_CONFIG_HOME: dir, NO_COLOR: '1' });
  const prodList = await runGoman(['--context', 'aws-prod', 'list', '-o', 'json'], { env });
  assert.equal(prodList.code, 0, prodList.stderr);
  assert.doesNotMatch(prodList.stdout, /alpha/);
  const devList = await runGoman(['--context', 'aws-dev', 'list', '-o', 'json'], { env });
  assert.match(devList.stdout, /"alpha"/);
  // The dev function takes dev's notifications only.
  const event = (key: string): string => JSON.stringify({ Records: [{ s3: { object: { key } } }] });
  assert.deepEqual(parseMessage(event('state/dev/clusters/alpha.json'), 'state/dev/'), [{ name: 'alpha' }]);
  assert.deepEqual(parseMessage(event('state/prod/clusters/alpha.json'), 'state/dev/'), []);

  // dev still has a cluster: its uninit refuses; prod's goes, and dev keeps working.
  await assert.rejects(uninitAws({ clients, configFile, namespace: 'dev' }), /1 cluster\(s\) still exist \(alpha\)/);
  await uninitAws({ clients, configFile, namespace: 'prod' });
  const after = (await clients.sqs().send(new ListQueuesCommand({}))).QueueUrls ?? [];
  assert.ok(after.some((q) => q.endsWith(dev.names.queue)) && !after.some((q) => q.endsWith(prod.names.queue)), after.join(' '));
  const left = await clients.s3().send(new GetBucketNotificationConfigurationCommand({ Bucket: dev.names.bucket }));
  assert.deepEqual((left.QueueConfigurations ?? []).map((q) => q.Id), ['goman-desired-state-dev']);
  await devBackend.create({ name: 'beta', spec: { provider: 'aws' } });
  assert.deepEqual((await devBackend.list()).items.map((c) => c.name).sort(), ['alpha', 'beta']);
  const config2 = parse(await readFile(configFile, 'utf8')) as { contexts: { name: string }[] };
  assert.deepEqual(config2.contexts.map((c) => c.name), ['aws-dev']);
});
