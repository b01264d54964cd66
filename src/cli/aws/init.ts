// `goman init`: create every account-level resource of the serverless mode (DESIGN §8),
// idempotently, saying what it did. Re-running it converges (and updates the Lambda code).
import { CreateTableCommand, DescribeTableCommand, DescribeTimeToLiveCommand, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import {
  AddRoleToInstanceProfileCommand,
  AttachRolePolicyCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  GetInstanceProfileCommand,
  GetRoleCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import {
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  GetFunctionCommand,
  ListEventSourceMappingsCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import {
  CreateBucketCommand,
  HeadBucketCommand,
  GetBucketNotificationConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
} from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueUrlCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { AwsClients } from '../../aws/clients.ts';
import { accountId, awsErrorName, createAwsClients, gomanRegion } from '../../aws/clients.ts';
import {
  assumeRolePolicy,
  INSTANCE_POLICY_NAME,
  instanceParameterPolicy,
  LAMBDA_POLICY_NAME,
  lambdaPolicy,
  queuePolicy,
  SSM_MANAGED_POLICY_ARN,
} from './iam-policies.ts';
import { LAMBDA_RUNTIME, loadLambdaZip } from './lambda-zip.ts';
import type { AccountNames } from '../../aws/names.ts';
import { validationFailed } from '../../domain/index.ts';
import { accountNames, DESIRED_PREFIX, DESIRED_SUFFIX, NAMESPACE, INSTANCE_PROFILE, INSTANCE_ROLE, LOCK_TABLE, LOG_RETENTION_DAYS } from '../../aws/names.ts';
import { CreateLogGroupCommand, PutRetentionPolicyCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { Progress } from './progress.ts';
import { silentProgress } from './progress.ts';

export interface InitOptions {
  region?: string;
  dryRun?: boolean;
  progress?: Progress;
  clients?: AwsClients;
  /** The Lambda package; defaults to dist/lambda.zip or a fresh bundle. */
  lambdaZip?: () => Promise<Buffer>;
  /** Write the CLI context `aws` and make it current (the CLI does; tests pass a temp file). */
  configFile?: string | false;
  /** Keep this environment's state under `state/NAME/` with its own queue, function and role (context `aws-NAME`). */
  namespace?: string;
}

export interface InitResult {
  names: AccountNames;
  queueUrl: string;
}

/** Lambda may run for 15 minutes; SQS must hide a message at least that long. */
const LAMBDA_TIMEOUT_S = 900;
const QUEUE_VISIBILITY_S = 960;
const MAX_RECEIVE_COUNT = 5;

const TAGS = { ManagedBy: 'goman' };
const tagList = [{ Key: 'ManagedBy', Value: 'goman' }];

/** The namespace, checked: it becomes part of queue, function and role names. */
export function checkedNamespace(namespace: string | undefined): string | undefined {
  if (namespace === undefined) return undefined;
  if (!NAMESPACE.test(namespace)) throw validationFailed(`--namespace "${namespace}": use 1-20 lowercase letters, digits and '-', starting and ending with a letter or digit`);
  return namespace;
}

/** The bucket notification entry of one namespace. */
export const notificationId = (n: AccountNames): string => (n.namespace ? `goman-desired-state-${n.namespace}` : 'goman-desired-state');

export async function initAws(opts: InitOptions = {}): Promise<InitResult> {
  const region = opts.region ?? gomanRegion();
  const clients = opts.clients ?? createAwsClients(region);
  const progress = opts.progress ?? silentProgress;
  const n = accountNames(await accountId(clients), region, checkedNamespace(opts.namespace));
  if (opts.dryRun) {
    for (const r of planned(n)) progress.step('would create', r);
    return { names: n, queueUrl: '' };
  }

  await ensureBucket(clients, n, progress);
  const dlqUrl = await ensureQueue(clients, n.deadLetterQueue, { MessageRetentionPeriod: String(14 * 24 * 3600) }, progress);
  void dlqUrl;
  const queueUrl = await ensureQueue(
    clients,
    n.queue,
    {
      VisibilityTimeout: String(QUEUE_VISIBILITY_S),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: n.deadLetterQueueArn, maxReceiveCount: MAX_RECEIVE_COUNT }),
      Policy: JSON.stringify(queuePolicy(n)),
    },
    progress,
  );
  // The bucket has one notification configuration for every namespace: replace only ours.
  const current = await clients.s3().send(new GetBucketNotificationConfigurationCommand({ Bucket: n.bucket }));
  const others = (current.QueueConfigurations ?? []).filter((q) => q.Id !== notificationId(n));
  await clients.s3().send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: n.bucket,
      NotificationConfiguration: {
        QueueConfigurations: [
          ...others,
          {
            Id: notificationId(n),
            QueueArn: n.queueArn,
            Events: ['s3:ObjectCreated:*'],
            // Only desired state triggers; the controller's own status/ writes never do.
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: n.root + DESIRED_PREFIX }, { Name: 'suffix', Value: DESIRED_SUFFIX }] } },
          },
        ],
      },
    }),
  );
  progress.step('updated', `s3 notification ${n.bucket}/${n.root}${DESIRED_PREFIX}*${DESIRED_SUFFIX} -> ${n.queue}`);
  await ensureLockTable(clients, progress);
  await ensureInstanceRole(clients, n, progress);
  const roleArn = await ensureLambdaRole(clients, n, progress);
  await ensureLogGroup(clients, n, progress);
  await ensureFunction(clients, n, roleArn, queueUrl, opts.lambdaZip ?? loadLambdaZip, progress);

  if (opts.configFile !== false) {
    const { addContextKeepingOthers } = await import('../config.ts');
    const wanted = n.namespace ? `aws-${n.namespace}` : 'aws';
    const context = { name: wanted, kind: 's3' as const, bucket: n.bucket, region, ...(n.namespace ? { namespace: n.namespace } : {}) };
    const name = await addContextKeepingOthers(context, { makeCurrent: true, ...(opts.configFile ? { file: opts.configFile } : {}) });
    progress.step('updated', name === wanted ? `CLI context ${name} (current)` : `CLI context ${name} (context "${wanted}" points at another bucket and was kept)`);
  }
  return { names: n, queueUrl };
}

function planned(n: AccountNames): string[] {
  return [
    `s3 bucket ${n.bucket} (versioning on, public access blocked)`,
    `sqs queue ${n.deadLetterQueue}`,
    `sqs queue ${n.queue} (dead-letter ${n.deadLetterQueue}, policy: bucket ${n.bucket} only)`,
    `s3 notification ${n.bucket}/${DESIRED_PREFIX}*${DESIRED_SUFFIX} -> ${n.queue}`,
    `dynamodb table ${LOCK_TABLE} (key resource_id, TTL expires_at)`,
    `iam role ${INSTANCE_ROLE} + instance profile ${INSTANCE_PROFILE}`,
    `iam role ${n.lambdaRole} (least privilege)`,
    `log group ${n.logGroup} (${LOG_RETENTION_DAYS} days retention)`,
    `lambda function ${n.functionName} (${LAMBDA_RUNTIME}) + event source ${n.queue}`,
    'CLI context aws (current)',
  ];
}

async function exists(probe: () => Promise<unknown>, missing: readonly string[]): Promise<boolean> {
  try {
    await probe();
    return true;
  } catch (e) {
    if (missing.includes(awsErrorName(e))) return false;
    throw e;
  }
}

async function ensureBucket(clients: AwsClients, n: AccountNames, progress: Progress): Promise<void> {
  const s3 = clients.s3();
  const there = await exists(() => s3.send(new HeadBucketCommand({ Bucket: n.bucket })), ['NotFound', 'NoSuchBucket']);
  if (!there) {
    await s3.send(
      new CreateBucketCommand({
        Bucket: n.bucket,
        ...(n.region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: n.region as 'ap-south-1' } }),
      }),
    );
  }
  await s3.send(new PutBucketVersioningCommand({ Bucket: n.bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  await s3.send(
    new PutPublicAccessBlockCommand({
      Bucket: n.bucket,
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true },
    }),
  );
  progress.step(there ? 'exists' : 'created', `s3 bucket ${n.bucket}`, 'versioning on');
}

async function ensureQueue(clients: AwsClients, name: string, attributes: Record<string, string>, progress: Progress): Promise<string> {
  const sqs = clients.sqs();
  let url: string | undefined;
  try {
    url = (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
  } catch (e) {
    if (!['QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue'].includes(awsErrorName(e))) throw e;
  }
  if (url) {
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes }));
    progress.step('exists', `sqs queue ${name}`);
    return url;
  }
  const created = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes, tags: TAGS }));
  if (!created.QueueUrl) throw new Error(`CreateQueue ${name} returned no URL`);
  progress.step('created', `sqs queue ${name}`);
  return created.QueueUrl;
}

async function ensureLockTable(clients: AwsClients, progress: Progress): Promise<void> {
  const ddb = clients.dynamo();
  const there = await exists(() => ddb.send(new DescribeTableCommand({ TableName: LOCK_TABLE })), ['ResourceNotFoundException']);
  if (!there) {
    await ddb.send(
      new CreateTableCommand({
        TableName: LOCK_TABLE,
        AttributeDefinitions: [{ AttributeName: 'resource_id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'resource_id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        Tags: tagList,
      }),
    );
  }
  for (let i = 0; i < 60; i++) {
    const t = await ddb.send(new DescribeTableCommand({ TableName: LOCK_TABLE }));
    if (t.Table?.TableStatus === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const ttl = await ddb.send(new DescribeTimeToLiveCommand({ TableName: LOCK_TABLE }));
  if (ttl.TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLED' || ttl.TimeToLiveDescription.AttributeName !== 'expires_at') {
    await ddb.send(new UpdateTimeToLiveCommand({ TableName: LOCK_TABLE, TimeToLiveSpecification: { Enabled: true, AttributeName: 'expires_at' } }));
  }
  progress.step(there ? 'exists' : 'created', `dynamodb table ${LOCK_TABLE}`, 'TTL on expires_at');
}

async function ensureRole(clients: AwsClients, name: string, service: 'lambda.amazonaws.com' | 'ec2.amazonaws.com', progress: Progress): Promise<string> {
  const iam = clients.iam();
  try {
    const arn = (await iam.send(new GetRoleCommand({ RoleName: name }))).Role?.Arn;
    if (arn) {
      progress.step('exists', `iam role ${name}`);
      return arn;
    }
  } catch (e) {
    if (awsErrorName(e) !== 'NoSuchEntity' && awsErrorName(e) !== 'NoSuchEntityException') throw e;
  }
  const created = await iam.send(
    new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: JSON.stringify(assumeRolePolicy(service)), Tags: tagList }),
  );
  progress.step('created', `iam role ${name}`);
  return created.Role?.Arn ?? '';
}

async function ensureInstanceRole(clients: AwsClients, n: AccountNames, progress: Progress): Promise<void> {
  const iam = clients.iam();
  await ensureRole(clients, INSTANCE_ROLE, 'ec2.amazonaws.com', progress);
  await iam.send(new AttachRolePolicyCommand({ RoleName: INSTANCE_ROLE, PolicyArn: SSM_MANAGED_POLICY_ARN }));
  await iam.send(
    new PutRolePolicyCommand({ RoleName: INSTANCE_ROLE, PolicyName: INSTANCE_POLICY_NAME, PolicyDocument: JSON.stringify(instanceParameterPolicy(n.account)) }),
  );
  let roles: string[] = [];
  let there = true;
  try {
    roles = ((await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: INSTANCE_PROFILE }))).InstanceProfile?.Roles ?? []).map((r) => r.RoleName ?? '');
  } catch (e) {
    if (awsErrorName(e) !== 'NoSuchEntity' && awsErrorName(e) !== 'NoSuchEntityException') throw e;
    there = false;
    await iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: INSTANCE_PROFILE, Tags: tagList }));
  }
  if (!roles.includes(INSTANCE_ROLE)) {
    await iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: INSTANCE_PROFILE, RoleName: INSTANCE_ROLE }));
  }
  progress.step(there ? 'exists' : 'created', `iam instance profile ${INSTANCE_PROFILE}`);
}

async function ensureLambdaRole(clients: AwsClients, n: AccountNames, progress: Progress): Promise<string> {
  const arn = await ensureRole(clients, n.lambdaRole, 'lambda.amazonaws.com', progress);
  await clients.iam().send(new PutRolePolicyCommand({ RoleName: n.lambdaRole, PolicyName: LAMBDA_POLICY_NAME, PolicyDocument: JSON.stringify(lambdaPolicy(n)) }));
  return arn;
}

/** Made before the function, so Lambda never creates it without a retention (kept for ever). */
async function ensureLogGroup(clients: AwsClients, n: AccountNames, progress: Progress): Promise<void> {
  const logs = clients.logs();
  let created = true;
  try {
    await logs.send(new CreateLogGroupCommand({ logGroupName: n.logGroup }));
  } catch (e) {
    if (awsErrorName(e) !== 'ResourceAlreadyExistsException') throw e;
    created = false;
  }
  await logs.send(new PutRetentionPolicyCommand({ logGroupName: n.logGroup, retentionInDays: LOG_RETENTION_DAYS }));
  progress.step(created ? 'created' : 'exists', `log group ${n.logGroup}`, `${LOG_RETENTION_DAYS} days retention`);
}

async function ensureFunction(
  clients: AwsClients,
  n: AccountNames,
  roleArn: string,
  queueUrl: string,
  zip: () => Promise<Buffer>,
  progress: Progress,
): Promise<void> {
  const lambda = clients.lambda();
  const code = await zip();
  const Environment = { Variables: { GOMAN_BUCKET: n.bucket, GOMAN_QUEUE_URL: queueUrl, GOMAN_REGION: n.region, ...(n.namespace ? { GOMAN_NAMESPACE: n.namespace } : {}) } };
  const there = await exists(() => lambda.send(new GetFunctionCommand({ FunctionName: n.functionName })), ['ResourceNotFoundException']);
  if (there) {
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: n.functionName, ZipFile: code }));
    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: n.functionName, Environment, Timeout: LAMBDA_TIMEOUT_S, Role: roleArn }));
  } else {
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: n.functionName,
        Runtime: LAMBDA_RUNTIME,
        Handler: 'index.handler',
        Role: roleArn,
        Code: { ZipFile: code },
        Timeout: LAMBDA_TIMEOUT_S,
        MemorySize: 512,
        Environment,
        Tags: TAGS,
      }),
    );
  }
  progress.step(there ? 'updated' : 'created', `lambda function ${n.functionName}`, `${(code.length / 1024).toFixed(0)} KiB`);
  const mappings = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: n.functionName, EventSourceArn: n.queueArn }));
  if ((mappings.EventSourceMappings ?? []).length === 0) {
    await lambda.send(
      new CreateEventSourceMappingCommand({
        FunctionName: n.functionName,
        EventSourceArn: n.queueArn,
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      }),
    );
    progress.step('created', `event source ${n.queue} -> ${n.functionName}`);
  } else {
    progress.step('exists', `event source ${n.queue} -> ${n.functionName}`);
  }
}
