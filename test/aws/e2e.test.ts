// The serverless flow end to end against moto: init -> create (S3) -> S3 notification -> SQS
// -> worker -> EC2/SSM -> status Ready -> scale -> stop -> start -> delete -> uninit.
// moto delivers S3 notifications to SQS itself, so no hop is stood in for except node
// output (see fixtures.ts).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { DescribeInstanceAttributeCommand, DescribeInstancesCommand, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { GetRolePolicyCommand, ListRolesCommand, ListInstanceProfilesCommand } from '@aws-sdk/client-iam';
import { INSTANCE_ROLE } from '../../src/aws/names.ts';
import { INSTANCE_POLICY_NAME } from '../../src/cli/aws/iam-policies.ts';
import { ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, GetObjectCommand, ListBucketsCommand, ListObjectsV2Command, ListObjectVersionsCommand, PutObjectCommand, GetBucketVersioningCommand } from '@aws-sdk/client-s3';
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import { GetParameterCommand, GetParametersByPathCommand } from '@aws-sdk/client-ssm';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { AwsClients } from '../../src/aws/clients.ts';
import { createAwsClients } from '../../src/aws/clients.ts';
import { initAws } from '../../src/cli/aws/init.ts';
import type { InitResult } from '../../src/cli/aws/init.ts';
import { bundleLambda } from '../../src/cli/aws/lambda-zip.ts';
import { runSqsController } from '../../src/reconcile/serverless-runner.ts';
import { uninitAws } from '../../src/cli/aws/uninit.ts';
import { AwsReconciler } from '../../src/providers/aws/reconciler.ts';
import { createS3Backend } from '../../src/client/s3-backend.ts';
import type { ClusterBackend } from '../../src/client/backend.ts';
import { isGomanError } from '../../src/domain/index.ts';
import type { Moto } from '../helpers/moto.ts';
import { startMoto, useMotoEnv } from '../helpers/moto.ts';
import { FakeK3s, KUBECONFIG_SECRET, recordedCommands } from './fixtures.ts';
import { consistently, eventually } from '../helpers/eventually.ts';

let moto: Moto | null;
let clients: AwsClients;
let init: InitResult;
let backend: ClusterBackend;
let k3s: FakeK3s;
const logs: string[] = [];
const progressLines: string[] = [];
const worker = new AbortController();
let workerDone: Promise<void>;
const configFile = path.join(mkdtempSync(path.join(tmpdir(), 'goman-aws-e2e-')), 'config.yaml');

before(async () => {
  moto = await startMoto();
  if (!moto) return;
  useMotoEnv(moto);
  clients = createAwsClients('ap-south-1');
  init = await initAws({ clients, configFile, lambdaZip: bundleLambda, progress: { step: (a, r) => progressLines.push(`${a} ${r}`) } });
  backend = createS3Backend({ bucket: init.names.bucket, region: 'ap-south-1', pollIntervalMs: 100 });
  k3s = new FakeK3s(clients);
  workerDone = runSqsController({
    clients,
    bucket: init.names.bucket,
    queueUrl: init.queueUrl,
    reconciler: new AwsReconciler({ clients, agent: k3s, requeue: { waitingMs: 0, stableMs: 3_600_000 } }),
    backoff: { baseMs: 50, maxMs: 500 },
    signal: worker.signal,
    waitTimeSeconds: 1,
    log: (e) => logs.push(JSON.stringify(e)),
  });
});

after(async () => {
  worker.abort();
  await workerDone?.catch(() => {});
  await moto?.stop();
});

async function liveInstances(region: string, cluster: string) {
  const out = await clients.ec2(region).send(
    new DescribeInstancesCommand({ Filters: [{ Name: 'tag:goman:cluster', Values: [cluster] }, { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }] }),
  );
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
}

const phaseAt = (name: string, phase: string, generation: number) =>
  eventually(`${name} ${phase} at generation ${generation}`, async () => {
    const c = (await backend.get(name)).value;
    return c.status.phase === phase && c.generation === generation && c.status.observedGeneration === generation ? c : null;
  }, { timeoutMs: 60_000, intervalMs: 100 });

test('init created every resource with the documented names and settings', async () => {
  const s3 = clients.s3();
  assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: init.names.bucket }))).Status, 'Enabled');
  for (const want of ['s3 bucket goman-123456789012', 'sqs queue goman-reconcile-123456789012', 'dynamodb table goman-resource-locks', 'lambda function goman-cluster-controller', 'iam role goman-lambda-role-123456789012', 'iam instance profile goman-ssm-instance-profile']) {
    assert.ok(progressLines.some((l) => l === `created ${want}`), `progress names ${want}: ${progressLines.join('\n')}`);
  }
  // The instance role may use the bucket's snapshots/ prefix and write command output under ssm-output/, nowhere else in it.
  const inline = await clients.iam().send(new GetRolePolicyCommand({ RoleName: INSTANCE_ROLE, PolicyName: INSTANCE_POLICY_NAME }));
  const statements = (JSON.parse(decodeURIComponent(inline.PolicyDocument ?? '{}')) as { Statement: { Action: string[]; Resource: string }[] }).Statement;
  const s3Resources = statements.filter((st) => st.Action.some((a) => a.startsWith('s3:'))).map((st) => st.Resource);
  assert.deepEqual(s3Resources, [`arn:aws:s3:::${init.names.bucket}/snapshots/*`, `arn:aws:s3:::${init.names.bucket}/ssm-output/*`, `arn:aws:s3:::${init.names.bucket}`]);
  const again: string[] = [];
  await initAws({ clients, configFile, lambdaZip: bundleLambda, progress: { step: (a, r) => again.push(`${a} ${r}`) } });
  assert.ok(again.some((l) => l === 'exists s3 bucket goman-123456789012'), 'a second init converges instead of failing');
});

test('a cluster goes from create to Ready, scales with drain, stops, starts, and is deleted without leftovers (two regions)', async () => {
  const created = await backend.create({
    name: 'demo',
    spec: {
      region: 'ap-south-1',
      k3sVersion: 'v1.31.4+k3s1',
      nodePools: [{ name: 'workers', count: 2, labels: { tier: 'web' }, taints: [{ key: 'dedicated', value: 'web', effect: 'NoSchedule' }] }],
    },
  });
  await backend.create({ name: 'edge', spec: { region: 'eu-west-1', mode: 'ha' } });
  assert.equal(created.status.phase, 'Pending');

  const ready = await phaseAt('demo', 'Ready', 1);
  assert.equal(ready.status.nodes.length, 3);
  assert.ok(ready.status.nodes.every((n) => n.ready && n.instanceId));
  assert.match(ready.status.endpoint ?? '', /^https:\/\/\d+\.\d+\.\d+\.\d+:6443$/);
  const instances = await liveInstances('ap-south-1', 'demo');
  assert.equal(instances.length, 3);
  for (const i of instances) {
    const tags = Object.fromEntries((i.Tags ?? []).map((t): [string, string] => [t.Key ?? '', t.Value ?? '']));
    assert.equal(tags.ManagedBy, 'goman');
    assert.equal(tags['goman:cluster-id'], created.id);
    assert.ok(['server', 'agent'].includes(tags['goman:role'] ?? ''));
    assert.equal(i.IamInstanceProfile?.Arn?.endsWith('/goman-ssm-instance-profile'), true);
    assert.equal(i.SecurityGroups?.[0]?.GroupName, 'goman-demo');
  }
  const sg = (await clients.ec2('ap-south-1').send(new DescribeSecurityGroupsCommand({ GroupNames: ['goman-demo'] }))).SecurityGroups?.[0];
  const ports = (sg?.IpPermissions ?? []).map((p) => `${p.IpProtocol}/${p.FromPort}-${p.ToPort}`).sort();
  assert.deepEqual(ports, ['tcp/10250-10250', 'tcp/2379-2380', 'tcp/6443-6443', 'udp/51820-51821', 'udp/8472-8472']);
  for (const p of sg?.IpPermissions ?? []) {
    assert.deepEqual(p.IpRanges ?? [], [], 'no CIDR source: the group itself only');
    assert.equal(p.UserIdGroupPairs?.[0]?.GroupId, sg?.GroupId);
  }
  const sent = await recordedCommands(clients, 'ap-south-1');
  assert.ok(sent.length > 0 && sent.every((c) => c.document === 'AWS-RunShellScript'));
  const install = sent.find((c) => c.comment === 'goman install-server');
  assert.ok(install?.commands.includes(`CLUSTER='demo'`) && install.commands.includes(`K3S_VERSION='v1.31.4+k3s1'`), 'variables are passed quoted');
  assert.ok(sent.some((c) => c.comment === 'goman join-agent'));
  const worker0 = k3s.nodeByName('demo-workers-agent-0');
  assert.equal(worker0?.labels.tier, 'web', 'pool labels applied');
  assert.deepEqual(worker0?.taints, [{ key: 'dedicated', value: 'web', effect: 'NoSchedule' }], 'pool taints applied');
  const ssm = clients.ssm('ap-south-1');
  const token = (await ssm.send(new GetParameterCommand({ Name: '/goman/demo/token', WithDecryption: true }))).Parameter;
  assert.equal(token?.Type, 'SecureString');
  const kubeconfig = (await ssm.send(new GetParameterCommand({ Name: '/goman/demo/kubeconfig', WithDecryption: true }))).Parameter;
  assert.equal(kubeconfig?.Type, 'SecureString');
  assert.match(kubeconfig?.Value ?? '', /server: https:\/\/\d+\.\d+\.\d+\.\d+:6443/, 'kubeconfig points at the private endpoint');

  // The second region, in ha mode: three servers there, none of them in the default region.
  const edge = await phaseAt('edge', 'Ready', 1);
  assert.deepEqual(edge.status.nodes.map((n) => n.role), ['server', 'server', 'server']);
  assert.equal((await liveInstances('eu-west-1', 'edge')).length, 3);
  const edgeInstalls = (await recordedCommands(clients, 'eu-west-1')).filter((c) => c.comment === 'goman install-server');
  assert.ok(edgeInstalls.some((c) => c.commands.includes(`CLUSTER_INIT='true'`)), 'the first server initialises the embedded etcd');
  assert.ok(edgeInstalls.some((c) => c.commands.some((line) => /^SERVER_URL='https:\/\/[\d.]+:6443'$/.test(line))), 'the other servers join it');
  assert.equal((await liveInstances('ap-south-1', 'edge')).length, 0);

  // Scale down: the node is drained before its instance goes.
  await backend.patch('demo', { spec: { nodePools: [{ name: 'workers', count: 1, labels: { tier: 'web' }, taints: [{ key: 'dedicated', value: 'web', effect: 'NoSchedule' }] }] } });
  await phaseAt('demo', 'Ready', 2);
  assert.deepEqual(k3s.drained, ['demo-workers-agent-1']);
  assert.equal((await liveInstances('ap-south-1', 'demo')).length, 2);

  await backend.patch('demo', { spec: { desiredState: 'stopped' } });
  await phaseAt('demo', 'Stopped', 3);
  assert.ok((await liveInstances('ap-south-1', 'demo')).every((i) => i.State?.Name === 'stopped'));
  await backend.patch('demo', { spec: { desiredState: 'running' } });
  await phaseAt('demo', 'Ready', 4);
  assert.ok((await liveInstances('ap-south-1', 'demo')).every((i) => i.State?.Name === 'running'));

  // k3sVersion honoured: a new pinned version rolls out node by node, as the SSM commands show:
  // each node cordoned and drained before its upgrade, servers first, uncordoned after.
  const before = k3s.day2.length;
  await backend.patch('demo', { spec: { k3sVersion: 'v1.32.1+k3s1' } });
  await phaseAt('demo', 'Ready', 5);
  const demoNodes = [...k3s.nodes.values()].filter((n) => n.name.startsWith('demo-'));
  assert.equal(demoNodes.length, 2);
  assert.ok(demoNodes.every((n) => n.version === 'v1.32.1+k3s1'));
  const rolled = (await backend.get('demo')).value.status.rollout;
  assert.deepEqual(rolled && [rolled.fromVersion, rolled.toVersion, rolled.nodesDone, rolled.nodesTotal, rolled.finishedAt !== undefined], ['v1.31.4+k3s1', 'v1.32.1+k3s1', 2, 2, true]);
  const steps = k3s.day2.slice(before).filter((l) => / demo-/.test(l));
  const order = [...new Set(steps.map((l) => l.split(' ')[1]))];
  assert.equal(order[0], 'demo-server-0', 'the server goes first');
  for (const node of order) {
    const mine = steps.filter((l) => l.endsWith(` ${node}`)).map((l) => l.split(' ')[0]);
    assert.deepEqual(mine.slice(0, 3), ['cordon', 'drain', 'upgrade'], `${node} is cordoned and drained before its upgrade`);
    assert.equal(mine.at(-1), 'uncordon', `${node} is uncordoned last`);
  }
  const firstAgentStep = steps.findIndex((l) => !l.endsWith(' demo-server-0'));
  assert.ok(steps.slice(firstAgentStep).every((l) => !l.endsWith(' demo-server-0')), 'no agent starts before the server is done');

  // Backup: the snapshot object lands under spec.backup.s3's prefix; restore: the reset runs on the first server only.
  await clients.s3().send(new CreateBucketCommand({ Bucket: 'e2e-etcd-snapshots', CreateBucketConfiguration: { LocationConstraint: 'ap-south-1' } }));
  await backend.patch('demo', { spec: { backup: { s3: { bucket: 'e2e-etcd-snapshots', prefix: 'demo/etcd', region: 'ap-south-1' } } } });
  await phaseAt('demo', 'Ready', 6);
  const { snapshot } = await backend.backup('demo');
  await phaseAt('demo', 'Ready', 7);
  const objects = await clients.s3().send(new ListObjectsV2Command({ Bucket: 'e2e-etcd-snapshots', Prefix: 'demo/etcd/' }));
  assert.deepEqual((objects.Contents ?? []).map((o) => o.Key), [`demo/etcd/${snapshot}-demo-server-0-1767225600`]);
  const listed = await backend.backups('demo');
  assert.equal(listed[0]?.id, snapshot);
  assert.equal(listed[0]?.location, `s3://e2e-etcd-snapshots/demo/etcd/${snapshot}-demo-server-0-1767225600`);
  assert.equal(listed[0]?.k3sVersion, 'v1.32.1+k3s1');
  const beforeRestore = k3s.day2.length;
  await backend.restore('demo', snapshot);
  await phaseAt('demo', 'Ready', 8);
  const restoreSteps = k3s.day2.slice(beforeRestore);
  assert.deepEqual(restoreSteps.filter((l) => l.startsWith('restore-snapshot')), ['restore-snapshot demo-server-0'], 'the reset runs on the first server only');
  const stopped = restoreSteps.indexOf('stop-k3s demo-workers-agent-0');
  assert.ok(stopped >= 0 && stopped < restoreSteps.indexOf('restore-snapshot demo-server-0'), 'K3s stops on the agent before the reset');
  assert.ok(restoreSteps.includes('restart-k3s demo-workers-agent-0'), 'the agent restarts after');

  // Secrets scan, before the objects go: every version of every object, tags, user-data, logs.
  const secrets = [token?.Value ?? 'missing-token', KUBECONFIG_SECRET];
  assert.ok((token?.Value ?? '').length >= 32);
  const s3 = clients.s3();
  const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: init.names.bucket }));
  assert.ok((versions.Versions ?? []).length > 3);
  const haystack: string[] = [...logs];
  for (const v of versions.Versions ?? []) {
    const obj = await s3.send(new GetObjectCommand({ Bucket: init.names.bucket, Key: v.Key, VersionId: v.VersionId }));
    haystack.push(await obj.Body!.transformToString());
  }
  for (const region of ['ap-south-1', 'eu-west-1']) {
    const all = await clients.ec2(region).send(new DescribeInstancesCommand({}));
    for (const i of (all.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
      haystack.push(JSON.stringify(i.Tags ?? []));
      const ud = await clients.ec2(region).send(new DescribeInstanceAttributeCommand({ InstanceId: i.InstanceId, Attribute: 'userData' }));
      haystack.push(ud.UserData?.Value ? Buffer.from(ud.UserData.Value, 'base64').toString() : '');
    }
    for (const c of await recordedCommands(clients, region)) haystack.push(c.commands.join('\n'));
  }
  for (const secret of secrets) {
    assert.ok(!haystack.some((h) => h.includes(secret)), 'no secret in S3 (any version), tags, user-data, SSM command parameters or logs');
  }

  await backend.delete('demo');
  await backend.delete('edge');
  await assert.rejects(backend.patch('demo', { spec: { desiredState: 'stopped' } }).then(
    () => {},
    (e: unknown) => {
      // Editing a deleting cluster is refused — or it is already gone.
      if (isGomanError(e, 'CONFLICT') || isGomanError(e, 'NOT_FOUND')) throw e;
    },
  ));
  for (const name of ['demo', 'edge']) {
    await eventually(`${name} gone`, async () => {
      try {
        await backend.get(name);
        return false;
      } catch (e) {
        return isGomanError(e, 'NOT_FOUND');
      }
    }, { timeoutMs: 60_000, intervalMs: 100 });
  }
  assert.equal((await liveInstances('ap-south-1', 'demo')).length, 0);
  assert.equal((await liveInstances('eu-west-1', 'edge')).length, 0);
  for (const region of ['ap-south-1', 'eu-west-1']) {
    const groups = await clients.ec2(region).send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:ManagedBy', Values: ['goman'] }] }));
    assert.deepEqual(groups.SecurityGroups ?? [], []);
    const params = await clients.ssm(region).send(new GetParametersByPathCommand({ Path: '/goman/', Recursive: true }));
    assert.deepEqual(params.Parameters ?? [], []);
  }
  assert.deepEqual((await backend.list()).items, []);
});

test('status writes and non-.json keys never trigger the controller', async () => {
  const s3 = clients.s3();
  const before = logs.length;
  await s3.send(new PutObjectCommand({ Bucket: init.names.bucket, Key: 'status/ghost.json', Body: '{}' }));
  await s3.send(new PutObjectCommand({ Bucket: init.names.bucket, Key: 'clusters/ghost.yaml', Body: 'a: 1' }));
  await consistently('no reconcile of status/ or non-JSON keys', () => !logs.slice(before).some((l) => l.includes('ghost')), { timeoutMs: 1500 });
});

test('uninit removes every goman resource from the account', async () => {
  worker.abort();
  await workerDone;
  await uninitAws({ clients, configFile });
  const s3 = clients.s3();
  assert.ok(!((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).some((b) => b.Name?.startsWith('goman-')));
  assert.deepEqual((await clients.sqs().send(new ListQueuesCommand({ QueueNamePrefix: 'goman-' }))).QueueUrls ?? [], []);
  assert.ok(!((await clients.dynamo().send(new ListTablesCommand({}))).TableNames ?? []).includes('goman-resource-locks'));
  assert.ok(!((await clients.lambda().send(new ListFunctionsCommand({}))).Functions ?? []).some((f) => f.FunctionName?.startsWith('goman-')));
  assert.ok(!((await clients.iam().send(new ListRolesCommand({}))).Roles ?? []).some((r) => r.RoleName?.startsWith('goman-')));
  assert.ok(!((await clients.iam().send(new ListInstanceProfilesCommand({}))).InstanceProfiles ?? []).some((p) => p.InstanceProfileName?.startsWith('goman-')));
});
