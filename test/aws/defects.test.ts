// One test per Goman defect (reference/prior-art-defects.md, "Goman") not already covered by
// e2e.test.ts, each against moto with the real SDK clients.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { GetBucketNotificationConfigurationCommand, HeadBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import type { AwsClients } from '../../src/aws/clients.ts';
import { createAwsClients } from '../../src/aws/clients.ts';
import { leaseName } from '../../src/lease/port.ts';
import { DynamoLeaseStore } from '../../src/lease/dynamo-leases.ts';
import type { InitResult } from '../../src/cli/aws/init.ts';
import { initAws } from '../../src/cli/aws/init.ts';
import { parseMessage, ServerlessRunner } from '../../src/reconcile/serverless-runner.ts';
import { TerminalError } from '../../src/reconcile/types.ts';
import { uninitAws } from '../../src/cli/aws/uninit.ts';
import { isGomanError } from '../../src/domain/index.ts';
import { SERVER_POOL } from '../../src/domain/index.ts';
import { slotKey } from '../../src/domain/slots.ts';
import { clientToken } from '../../src/providers/aws/ec2.ts';
import { AwsReconciler } from '../../src/providers/aws/reconciler.ts';
import { S3Backend } from '../../src/client/s3-backend.ts';
import { parseDesired } from '../../src/store/s3/documents.ts';
import { JsonObjects } from '../../src/store/s3/objects.ts';
import { StatusWriter } from '../../src/store/s3/status-writer.ts';
import type { Moto } from '../helpers/moto.ts';
import { serverlessAccount, type FakeK3s } from './fixtures.ts';

let moto: Moto | null;
let clients: AwsClients;
let init: InitResult;
let backend: S3Backend;
let k3s: FakeK3s;

before(async () => {
  const account = await serverlessAccount();
  if (!account) return;
  ({ moto, clients, init, backend, k3s } = account);
});
after(async () => moto?.stop());

function runner(opts: { afterLaunch?: () => void; owner?: string } = {}): ServerlessRunner {
  return new ServerlessRunner({
    clients,
    bucket: init.names.bucket,
    queueUrl: init.queueUrl,
    owner: opts.owner ?? 'worker-a',
    leaseTtlMs: 5000,
    reconciler: new AwsReconciler({ clients, agent: k3s, requeue: { waitingMs: 0 }, ...(opts.afterLaunch ? { afterLaunch: opts.afterLaunch } : {}) }),
  });
}

/** Messages on the reconcile queue, visible or delayed (a requeue is a delayed message). */
async function queueDepth(): Promise<number> {
  const out = await clients.sqs().send(
    new GetQueueAttributesCommand({ QueueUrl: init.queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesDelayed'] }),
  );
  return Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(out.Attributes?.ApproximateNumberOfMessagesDelayed ?? 0);
}

async function allInstances(cluster: string) {
  const out = await clients.ec2('ap-south-1').send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:goman:cluster', Values: [cluster] }] }));
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
}

async function reconcileUntil(name: string, phase: string, r = runner()): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await r.handle({ name });
    if ((await backend.get(name)).value.status.phase === phase) return;
  }
  assert.fail(`${name} never reached ${phase}: ${JSON.stringify((await backend.get(name)).value.status)}`);
}

const tokenOf = async (name: string) =>
  (await clients.ssm('ap-south-1').send(new GetParameterCommand({ Name: `/goman/${name}/token`, WithDecryption: true }))).Parameter?.Value;

test('trigger: the notification filters clusters/*.json — the suffix the store writes — and never status/', async () => {
  const cfg = await clients.s3().send(new GetBucketNotificationConfigurationCommand({ Bucket: init.names.bucket }));
  const rules = cfg.QueueConfigurations?.[0]?.Filter?.Key?.FilterRules ?? [];
  const byName = Object.fromEntries(rules.map((r): [string, string] => [r.Name?.toLowerCase() ?? '', r.Value ?? '']));
  assert.deepEqual(byName, { prefix: 'clusters/', suffix: '.json' });
  const c = await backend.create({ name: 'trig' });
  assert.equal((await backend.objects.get('clusters/trig.json'))?.body !== undefined, true, `the store writes clusters/${c.name}.json`);
  assert.deepEqual(parseMessage(JSON.stringify({ Records: [{ s3: { object: { key: 'clusters/trig.json' } } }] })), [{ name: 'trig' }]);
  assert.deepEqual(parseMessage(JSON.stringify({ Records: [{ s3: { object: { key: 'status/trig.json' } } }] })), []);
  assert.deepEqual(parseMessage(JSON.stringify({ Records: [{ s3: { object: { key: 'clusters%2Ftrig.json' } } }] })), [{ name: 'trig' }]);
  assert.deepEqual(parseMessage('{"Service":"Amazon S3","Event":"s3:TestEvent"}'), []);
  await backend.delete('trig');
});

test('init creates the bucket; --dry-run changes nothing', async () => {
  await clients.s3().send(new HeadBucketCommand({ Bucket: init.names.bucket }));
  const lines: string[] = [];
  await initAws({ clients, dryRun: true, region: 'eu-central-1', configFile: false, progress: { step: (a, r) => lines.push(`${a} ${r}`) } });
  assert.ok(lines.length >= 8 && lines.every((l) => l.startsWith('would create')));
  const euClients = createAwsClients('eu-central-1');
  // The names a real init would use there (same account): a dry run must have created none of them.
  await assert.rejects(euClients.sqs().send(new GetQueueUrlCommand({ QueueName: init.names.queue })), 'no queue in eu-central-1');
  await assert.rejects(euClients.dynamo().send(new DescribeTableCommand({ TableName: 'goman-resource-locks' })), 'no lock table in eu-central-1');
  // ...and the check can fail: the real init did create them in its own region.
  await clients.sqs().send(new GetQueueUrlCommand({ QueueName: init.names.queue }));
});

test('a crash between RunInstances and saving status never doubles a node (tag discovery + ClientToken)', async () => {
  await backend.create({ name: 'crash' });
  await runner({
    afterLaunch: () => {
      throw new Error('worker killed right after RunInstances');
    },
  }).handle({ name: 'crash' });
  const launched = await allInstances('crash');
  assert.equal(launched.length, 1);
  assert.equal((await backend.get('crash')).value.status.controllers[0]?.metadata?.nodes, undefined, 'nothing about the launch was saved');
  await reconcileUntil('crash', 'Ready', runner({ owner: 'worker-b' }));
  const after = await allInstances('crash');
  assert.equal(after.length, 1, 'the restarted worker adopted the instance it found by tag');
  const id = (await backend.get('crash')).value.id;
  const token = clientToken(id, { key: slotKey({ role: 'server', index: 0 }), role: 'server', pool: SERVER_POOL, index: 0 }, 0);
  assert.equal(after[0]?.ClientToken, token, 'deterministic ClientToken per (cluster, slot, attempt)');
});

test('a failed cluster is never reset: same join token, same first server', async () => {
  // Long enough that a 30-character pool name makes aws node names over 63 characters.
  const flaky = `flaky-${'f'.repeat(24)}`;
  await backend.create({ name: flaky, spec: { nodePools: [{ name: 'workers', count: 1 }] } });
  k3s.failNext.set('install-server', 'curl: (6) Could not resolve host: get.k3s.io');
  await runner().handle({ name: flaky }); // launch
  await runner().handle({ name: flaky }); // install fails: retryable
  let c = (await backend.get(flaky)).value;
  assert.equal(c.status.controllers[0]?.lastError?.code, 'ScriptFailed');
  assert.equal(c.status.controllers[0]?.lastError?.retryable, true);
  assert.notEqual(c.status.phase, 'Ready');
  const token = await tokenOf(flaky);
  assert.ok(token);
  const servers = (await allInstances(flaky)).filter((i) => i.Tags?.some((t) => t.Key === 'goman:role' && t.Value === 'server'));
  assert.equal(servers.length, 1);
  const instancesBefore = (await allInstances(flaky)).map((i) => i.InstanceId).sort();

  // Someone with bucket access writes a spec no provider could build (admission never saw it).
  const edited = { ...((await backend.objects.get(`clusters/${flaky}.json`))?.body as object), spec: { ...c.spec, nodePools: [{ name: 'p'.repeat(30), count: 1 }] } };
  await clients.s3().send(new PutObjectCommand({ Bucket: init.names.bucket, Key: `clusters/${flaky}.json`, Body: JSON.stringify(edited) }));
  await runner().handle({ name: flaky });
  c = (await backend.get(flaky)).value;
  assert.equal(c.status.phase, 'Failed');
  assert.match(c.status.message, /spec\.nodePools\.0\.name/);
  assert.deepEqual((await allInstances(flaky)).map((i) => i.InstanceId).sort(), instancesBefore, 'a Failed spec changes nothing in the cloud');

  await backend.patch(flaky, { spec: { nodePools: [{ name: 'workers', count: 1 }] } });
  await reconcileUntil(flaky, 'Ready');
  assert.equal(await tokenOf(flaky), token, 'the join token is never regenerated');
  const serversAfter = (await allInstances(flaky)).filter((i) => i.Tags?.some((t) => t.Key === 'goman:role' && t.Value === 'server'));
  assert.deepEqual(serversAfter.map((i) => i.InstanceId), servers.map((i) => i.InstanceId), 'no new master');
});

test('a permanent cloud refusal is a TerminalError: reported once as non-retryable (Failed), never requeued', async () => {
  const cluster = await backend.create({ name: 'refused' });
  const refusing = new ServerlessRunner({
    clients,
    bucket: init.names.bucket,
    queueUrl: init.queueUrl,
    owner: 'worker-t',
    reconciler: {
      name: 'aws-controller',
      registration: { providers: ['aws'], required: true },
      reconcile: async () => {
        throw new TerminalError('InvalidParameterValue', 'no such instance type');
      },
    },
  });
  const before = await queueDepth();
  await refusing.handle({ name: cluster.name });
  const c = (await backend.get('refused')).value;
  assert.equal(c.status.phase, 'Failed');
  assert.deepEqual(c.status.controllers[0]?.lastError, { code: 'InvalidParameterValue', message: 'no such instance type', retryable: false });
  assert.equal(await queueDepth(), before, 'no retry message was queued');
});

test('locks: conditional writes recognised, TTL on expires_at, renewal keeps the lease, fencing refuses a stale holder', async () => {
  const ttl = await clients.dynamo().send(new DescribeTimeToLiveCommand({ TableName: 'goman-resource-locks' }));
  assert.equal(ttl.TimeToLiveDescription?.AttributeName, 'expires_at');
  assert.equal(ttl.TimeToLiveDescription?.TimeToLiveStatus, 'ENABLED');
  let now = Date.now();
  const leases = new DynamoLeaseStore(clients.dynamo(), { now: () => now });
  const a = await leases.acquireLease('cluster/fence', 'a', 3000);
  assert.ok(a);
  assert.equal(await leases.acquireLease('cluster/fence', 'b', 3000), null, 'ConditionalCheckFailed means "held", not an error');
  now += 2000;
  const renewed = await leases.renewLease(a, 3000);
  assert.equal(renewed?.token, a.token);
  now += 2000;
  assert.equal(await leases.acquireLease('cluster/fence', 'b', 3000), null, 'renewal kept it');
  now += 5000;
  const b = await leases.acquireLease('cluster/fence', 'b', 3000);
  assert.ok(b && b.token > a.token, 'a new holder gets a higher fencing token');
  assert.equal(await leases.renewLease(a, 3000), null);
  assert.equal(await leases.checkFence('cluster/fence', a.token), false);
  assert.equal(await leases.checkFence('cluster/fence', b.token), true);

  // Two workers on one cluster: only the holder acts; the stale holder's status write is refused.
  const cluster = await backend.create({ name: 'fence' });
  const objects = new JsonObjects(clients.s3(), init.names.bucket);
  const desired = parseDesired((await objects.get('clusters/fence.json'))?.body, 'clusters/fence.json');
  const report = { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'False' as const, reason: 'x', message: '' }] };
  await new StatusWriter(objects, { leases, leaseName: 'cluster/fence', token: b.token }).report(desired, 'aws-controller', report);
  await assert.rejects(new StatusWriter(objects, { leases, leaseName: 'cluster/fence', token: a.token }).report(desired, 'aws-controller', report), (e: unknown) => isGomanError(e, 'CONFLICT'));
  await leases.releaseLease(b);
  const realLeases = new DynamoLeaseStore(clients.dynamo());
  // Leases are keyed by cluster id, as in every topology (a reused name is another cluster).
  const held = await realLeases.acquireLease(leaseName(cluster.id), 'someone-else', 60_000);
  assert.ok(held);
  await runner({ owner: 'worker-c' }).handle({ name: cluster.name });
  assert.equal((await allInstances('fence')).length, 0, 'a worker without the lease changes nothing');
  await realLeases.releaseLease(held);
});

test('an invalid hand-edited spec gets a clear status error and no cloud change', async () => {
  const good = await backend.create({ name: 'handmade' });
  const doc = { ...(await backend.objects.get('clusters/handmade.json'))?.body as object, spec: { provider: 'aws', k3sVersion: '$(curl evil)' } };
  await clients.s3().send(new PutObjectCommand({ Bucket: init.names.bucket, Key: 'clusters/handmade.json', Body: JSON.stringify(doc) }));
  await runner().handleMessage(JSON.stringify({ Records: [{ s3: { object: { key: 'clusters/handmade.json' } } }] }));
  const status = (await backend.objects.get('status/handmade.json'))?.body as { status: { phase: string; reason: string; message: string } };
  assert.equal(status.status.phase, 'Failed');
  assert.equal(status.status.reason, 'InvalidSpec');
  assert.match(status.status.message, /spec\.k3sVersion/);
  assert.equal((await allInstances('handmade')).length, 0);
  assert.ok(good.id);
});

test('store: create of an existing name is refused, stale If-Match refused, deleting cluster not editable, concurrent edits both land', async () => {
  await backend.create({ name: 'rmw' });
  await assert.rejects(backend.create({ name: 'rmw' }), (e: unknown) => isGomanError(e, 'NAME_TAKEN'));
  const v1 = await backend.get('rmw');
  await backend.patch('rmw', { labels: { team: 'a' } }, v1.etag);
  await assert.rejects(backend.patch('rmw', { labels: { team: 'b' } }, v1.etag), (e: unknown) => isGomanError(e, 'PRECONDITION_FAILED'));
  const same = await backend.patch('rmw', { spec: { mode: 'dev' } });
  assert.equal(same.generation, 1, 'a no-op spec change does not bump generation');
  await Promise.all([backend.patch('rmw', { labels: { x: '1' } }), backend.patch('rmw', { labels: { y: '2' } })]);
  const both = (await backend.get('rmw')).value;
  assert.equal(both.labels.x, '1');
  assert.equal(both.labels.y, '2');
  await assert.rejects(backend.create({ name: 'Bad_Name' }), (e: unknown) => isGomanError(e, 'VALIDATION_FAILED'));
  await assert.rejects(backend.patch('rmw', { spec: { k3sVersion: 'nope' } }), (e: unknown) => isGomanError(e, 'VALIDATION_FAILED'));
  await backend.delete('rmw');
  await assert.rejects(backend.patch('rmw', { spec: { desiredState: 'stopped' } }), (e: unknown) => isGomanError(e, 'CONFLICT'));
  assert.ok((await backend.get('rmw')).value.deletionTimestamp, 'the delete was not cancelled');
});

test('a missing bucket is one line naming `goman init`', async () => {
  const nowhere = new S3Backend({ bucket: 'goman-000000000000', region: 'ap-south-1' });
  await assert.rejects(nowhere.list(), /^GomanError: bucket goman-000000000000 not found — run `goman init`$/m);
});

test('uninit refuses while clusters exist, and --force removes their instances too', async () => {
  await assert.rejects(uninitAws({ clients, configFile: false }), /delete them first or run `goman uninit --force`/);
  assert.ok((await allInstances('crash')).some((i) => i.State?.Name === 'running'));
  await uninitAws({ clients, configFile: false, force: true });
  assert.ok((await allInstances('crash')).every((i) => i.State?.Name === 'terminated'));
  await assert.rejects(clients.s3().send(new HeadBucketCommand({ Bucket: init.names.bucket })));
});
