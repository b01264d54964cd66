// `goman uninit`: remove everything `goman init` made and everything clusters left behind
// (instances, security groups, parameters), refusing while clusters exist unless forced.
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, DescribeSecurityGroupsCommand, DeleteSecurityGroupCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import {
  DeleteInstanceProfileCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  RemoveRoleFromInstanceProfileCommand,
} from '@aws-sdk/client-iam';
import { DeleteEventSourceMappingCommand, DeleteFunctionCommand, ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import { DeleteBucketCommand, DeleteObjectsCommand, GetBucketNotificationConfigurationCommand, ListObjectVersionsCommand, PutBucketNotificationConfigurationCommand } from '@aws-sdk/client-s3';
import { DeleteQueueCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { DeleteParametersCommand, GetParametersByPathCommand } from '@aws-sdk/client-ssm';
import { GomanError } from '../../domain/index.ts';
import { JsonObjects } from '../../store/s3/objects.ts';
import type { AwsClients } from '../../aws/clients.ts';
import { accountId, awsErrorName, createAwsClients, gomanRegion } from '../../aws/clients.ts';
import type { AccountNames } from '../../aws/names.ts';
import { accountNames, DESIRED_PREFIX, DESIRED_SUFFIX, INSTANCE_PROFILE, INSTANCE_ROLE, LOCK_TABLE } from '../../aws/names.ts';
import type { Context } from '../config.ts';
import { checkedNamespace, notificationId } from './init.ts';
import { DeleteLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { Progress } from './progress.ts';
import { silentProgress } from './progress.ts';

export interface UninitOptions {
  region?: string;
  force?: boolean;
  /** Regions to sweep for cluster leftovers besides the goman region and the clusters' own. */
  extraRegions?: string[];
  progress?: Progress;
  clients?: AwsClients;
  configFile?: string | false;
  /** Remove only this namespace (`goman init --namespace`); shared resources go with the last one. */
  namespace?: string;
}

const GONE = ['NoSuchEntity', 'NoSuchEntityException', 'ResourceNotFoundException', 'NoSuchBucket', 'QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'NotFound'];

async function ignoreGone(p: Promise<unknown>): Promise<boolean> {
  try {
    await p;
    return true;
  } catch (e) {
    if (GONE.includes(awsErrorName(e))) return false;
    throw e;
  }
}

export async function uninitAws(opts: UninitOptions = {}): Promise<void> {
  const region = opts.region ?? gomanRegion();
  const clients = opts.clients ?? createAwsClients(region);
  const progress = opts.progress ?? silentProgress;
  const n = accountNames(await accountId(clients), region, checkedNamespace(opts.namespace));

  const regions = new Set([region, ...(opts.extraRegions ?? []), ...(await clusterRegions(clients, n))]);
  const clusters = await clusterNames(clients, n);
  if (clusters.length && (!opts.force || n.namespace)) {
    // The sweep of --force finds instances by goman's tag, not by namespace: it would reach other namespaces' clusters.
    const how = n.namespace ? `delete them first (\`goman --context aws-${n.namespace} delete NAME\`)` : 'delete them first or run `goman uninit --force`';
    throw new GomanError('CONFLICT', `${clusters.length} cluster(s) still exist (${clusters.slice(0, 5).join(', ')}) — ${how}`);
  }
  // Other namespaces still in the bucket keep the shared resources (bucket, lock table, instance role).
  const othersLeft = await removeNotification(clients, n);
  if (!n.namespace || othersLeft === 0) for (const r of regions) await sweepRegion(clients, r, progress);

  const lambda = clients.lambda();
  try {
    const maps = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: n.functionName }));
    for (const m of maps.EventSourceMappings ?? []) {
      if (m.UUID) await ignoreGone(lambda.send(new DeleteEventSourceMappingCommand({ UUID: m.UUID })));
    }
  } catch (e) {
    if (!GONE.includes(awsErrorName(e))) throw e;
  }
  step(progress, await ignoreGone(lambda.send(new DeleteFunctionCommand({ FunctionName: n.functionName }))), `lambda function ${n.functionName}`);
  step(progress, await ignoreGone(clients.logs().send(new DeleteLogGroupCommand({ logGroupName: n.logGroup }))), `log group ${n.logGroup}`);
  for (const q of [n.queue, n.deadLetterQueue]) {
    let url: string | undefined;
    try {
      url = (await clients.sqs().send(new GetQueueUrlCommand({ QueueName: q }))).QueueUrl;
    } catch (e) {
      if (!GONE.includes(awsErrorName(e))) throw e;
    }
    if (url) await clients.sqs().send(new DeleteQueueCommand({ QueueUrl: url }));
    step(progress, Boolean(url), `sqs queue ${q}`);
  }
  step(progress, await deleteRole(clients, n.lambdaRole), `iam role ${n.lambdaRole}`);
  if (othersLeft > 0) {
    step(progress, await emptyBucket(clients, n.bucket, n.root || undefined), `state ${n.bucket}/${n.root}`);
    progress.step('exists', `s3 bucket ${n.bucket}, dynamodb table ${LOCK_TABLE}, iam role ${INSTANCE_ROLE}`, `${othersLeft} other namespace(s) use them`);
  } else {
    step(progress, await ignoreGone(clients.dynamo().send(new DeleteTableCommand({ TableName: LOCK_TABLE }))), `dynamodb table ${LOCK_TABLE}`);
    step(progress, await emptyAndDeleteBucket(clients, n.bucket), `s3 bucket ${n.bucket}`);
    const iam = clients.iam();
    await ignoreGone(iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: INSTANCE_PROFILE, RoleName: INSTANCE_ROLE })));
    step(progress, await ignoreGone(iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: INSTANCE_PROFILE }))), `iam instance profile ${INSTANCE_PROFILE}`);
    step(progress, await deleteRole(clients, INSTANCE_ROLE), `iam role ${INSTANCE_ROLE}`);
  }

  if (opts.configFile !== false) {
    // The contexts of this bucket and namespace, whatever their names; an `aws` context of another account stays.
    const { removeContextsWhere } = await import('../config.ts');
    const mine = (c: Context): boolean => c.kind === 's3' && c.bucket === n.bucket && (othersLeft === 0 || c.namespace === n.namespace);
    const removed = await removeContextsWhere(mine, ...(opts.configFile ? [opts.configFile] : []));
    for (const name of removed) progress.step('deleted', `CLI context ${name}`);
  }
}

function step(progress: Progress, deleted: boolean, resource: string): void {
  progress.step(deleted ? 'deleted' : 'absent', resource);
}

async function clusterNames(clients: AwsClients, n: AccountNames): Promise<string[]> {
  try {
    const { keys } = await new JsonObjects(clients.s3(), n.bucket, n.root).listKeys(DESIRED_PREFIX);
    return keys.filter((k) => k.endsWith(DESIRED_SUFFIX)).map((k) => k.slice(DESIRED_PREFIX.length, -DESIRED_SUFFIX.length));
  } catch (e) {
    if (e instanceof GomanError && e.code === 'UNAVAILABLE') return [];
    throw e;
  }
}

async function clusterRegions(clients: AwsClients, n: AccountNames): Promise<string[]> {
  const objects = new JsonObjects(clients.s3(), n.bucket, n.root);
  const regions: string[] = [];
  for (const name of await clusterNames(clients, n)) {
    const body = (await objects.get(`${DESIRED_PREFIX}${name}.json`).catch(() => null))?.body as { spec?: { region?: unknown } } | undefined;
    if (typeof body?.spec?.region === 'string' && /^[a-z]{2}(-[a-z]+)+-\d$/.test(body.spec.region)) regions.push(body.spec.region);
  }
  return regions;
}

/** Instances, security groups and parameters goman made in one region. */
async function sweepRegion(clients: AwsClients, region: string, progress: Progress): Promise<void> {
  const ec2 = clients.ec2(region);
  const filters = [{ Name: 'tag:ManagedBy', Values: ['goman'] }];
  const ids: string[] = [];
  const out = await ec2.send(new DescribeInstancesCommand({ Filters: [...filters, { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped', 'shutting-down'] }] }));
  for (const r of out.Reservations ?? []) for (const i of r.Instances ?? []) if (i.InstanceId) ids.push(i.InstanceId);
  if (ids.length) {
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }));
    for (const id of ids) progress.step('deleted', `ec2 instance ${id} (${region})`);
    for (let i = 0; i < 120; i++) {
      const left = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
      const alive = (left.Reservations ?? []).flatMap((r) => r.Instances ?? []).filter((x) => x.State?.Name !== 'terminated');
      if (!alive.length) break;
      progress.step('waiting', `${alive.length} instance(s) terminating (${region})`);
      await new Promise((r) => setTimeout(r, 5000));
    }
  }
  const groups = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: filters }));
  for (const g of groups.SecurityGroups ?? []) {
    if (!g.GroupId) continue;
    await ec2.send(new DeleteSecurityGroupCommand({ GroupId: g.GroupId }));
    progress.step('deleted', `security group ${g.GroupName ?? g.GroupId} (${region})`);
  }
  const ssm = clients.ssm(region);
  let NextToken: string | undefined;
  do {
    const page = await ssm.send(new GetParametersByPathCommand({ Path: '/goman/', Recursive: true, NextToken }));
    const names = (page.Parameters ?? []).map((p) => p.Name ?? '').filter(Boolean);
    for (let i = 0; i < names.length; i += 10) {
      await ssm.send(new DeleteParametersCommand({ Names: names.slice(i, i + 10) }));
    }
    for (const name of names) progress.step('deleted', `ssm parameter ${name} (${region})`);
    NextToken = page.NextToken;
  } while (NextToken);
}

/** Takes this namespace's entry out of the bucket's notifications; returns how many others remain. */
async function removeNotification(clients: AwsClients, n: AccountNames): Promise<number> {
  const s3 = clients.s3();
  let current;
  try {
    current = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: n.bucket }));
  } catch (e) {
    if (GONE.includes(awsErrorName(e))) return 0;
    throw e;
  }
  const queues = current.QueueConfigurations ?? [];
  const others = queues.filter((q) => q.Id !== notificationId(n));
  if (others.length !== queues.length) await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: n.bucket, NotificationConfiguration: { QueueConfigurations: others } }));
  return others.length;
}

/** Deletes every version of every object (under `prefix` when given); false when the bucket is gone. */
async function emptyBucket(clients: AwsClients, bucket: string, prefix?: string): Promise<boolean> {
  const s3 = clients.s3();
  try {
    for (;;) {
      const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, ...(prefix ? { Prefix: prefix } : {}) }));
      const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key ?? '', VersionId: v.VersionId }));
      if (!objects.length) return true;
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }));
    }
  } catch (e) {
    if (GONE.includes(awsErrorName(e))) return false;
    throw e;
  }
}

async function emptyAndDeleteBucket(clients: AwsClients, bucket: string): Promise<boolean> {
  const s3 = clients.s3();
  try {
    if (!(await emptyBucket(clients, bucket))) return false;
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    return true;
  } catch (e) {
    if (GONE.includes(awsErrorName(e))) return false;
    throw e;
  }
}

async function deleteRole(clients: AwsClients, role: string): Promise<boolean> {
  const iam = clients.iam();
  try {
    for (const p of (await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: role }))).AttachedPolicies ?? []) {
      await iam.send(new DetachRolePolicyCommand({ RoleName: role, PolicyArn: p.PolicyArn }));
    }
    for (const name of (await iam.send(new ListRolePoliciesCommand({ RoleName: role }))).PolicyNames ?? []) {
      await iam.send(new DeleteRolePolicyCommand({ RoleName: role, PolicyName: name }));
    }
    await iam.send(new DeleteRoleCommand({ RoleName: role }));
    return true;
  } catch (e) {
    if (GONE.includes(awsErrorName(e))) return false;
    throw e;
  }
}
