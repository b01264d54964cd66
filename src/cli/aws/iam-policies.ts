// IAM documents for goman's roles and queue (DESIGN §8): least privilege, scoped to the
// resources goman made. EC2 actions that AWS cannot scope to a resource ARN at create time
// (RunInstances on new ids, Describe*) are limited by region/tag conditions where AWS allows.
import type { AccountNames } from '../../aws/names.ts';
import { INSTANCE_ROLE, LOCK_TABLE, SNAPSHOT_PREFIX, SSM_OUTPUT_PREFIX } from '../../aws/names.ts';

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: Record<string, unknown>[];
}

const doc = (...Statement: Record<string, unknown>[]): PolicyDocument => ({ Version: '2012-10-17', Statement });

export function assumeRolePolicy(service: 'lambda.amazonaws.com' | 'ec2.amazonaws.com'): PolicyDocument {
  return doc({ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' });
}

/** The controller's permissions: its bucket, queue, lock table, its parameters, goman-tagged EC2. */
export function lambdaPolicy(n: AccountNames): PolicyDocument {
  const managed = { StringEquals: { 'aws:ResourceTag/ManagedBy': 'goman' } };
  const tagging = { StringEquals: { 'aws:RequestTag/ManagedBy': 'goman' } };
  return doc(
    // A namespace's controller reaches only its own `state/NAME/` objects.
    { Sid: 'StateBucket', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], Resource: `arn:aws:s3:::${n.bucket}/${n.root}*` },
    {
      Sid: 'StateBucketList',
      Effect: 'Allow',
      Action: ['s3:ListBucket'],
      Resource: `arn:aws:s3:::${n.bucket}`,
      ...(n.root ? { Condition: { StringLike: { 's3:prefix': [`${n.root}*`] } } } : {}),
    },
    {
      Sid: 'ReconcileQueue',
      Effect: 'Allow',
      Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl'],
      Resource: n.queueArn,
    },
    {
      Sid: 'Locks',
      Effect: 'Allow',
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      Resource: `arn:aws:dynamodb:${n.region}:${n.account}:table/${LOCK_TABLE}`,
    },
    {
      Sid: 'ClusterParameters',
      Effect: 'Allow',
      Action: ['ssm:GetParameter', 'ssm:PutParameter', 'ssm:DeleteParameter', 'ssm:DeleteParameters', 'ssm:AddTagsToResource'],
      Resource: `arn:aws:ssm:*:${n.account}:parameter/goman/*`,
    },
    { Sid: 'PublicAmiParameters', Effect: 'Allow', Action: ['ssm:GetParameter'], Resource: 'arn:aws:ssm:*::parameter/aws/service/*' },
    {
      Sid: 'RunCommandOnGomanInstances',
      Effect: 'Allow',
      Action: ['ssm:SendCommand'],
      Resource: `arn:aws:ec2:*:${n.account}:instance/*`,
      Condition: { StringEquals: { 'ssm:resourceTag/ManagedBy': 'goman' } },
    },
    { Sid: 'RunShellScriptDocument', Effect: 'Allow', Action: ['ssm:SendCommand'], Resource: 'arn:aws:ssm:*::document/AWS-RunShellScript' },
    { Sid: 'CommandResults', Effect: 'Allow', Action: ['ssm:GetCommandInvocation', 'ssm:ListCommandInvocations'], Resource: '*' },
    // Describe calls cannot be resource-scoped in IAM at all.
    { Sid: 'Describe', Effect: 'Allow', Action: ['ec2:DescribeInstances', 'ec2:DescribeSecurityGroups', 'ec2:DescribeVpcs', 'ec2:DescribeSubnets', 'ec2:DescribeImages'], Resource: '*' },
    {
      Sid: 'LaunchTagged',
      Effect: 'Allow',
      Action: ['ec2:RunInstances', 'ec2:CreateSecurityGroup'],
      Resource: [`arn:aws:ec2:*:${n.account}:instance/*`, `arn:aws:ec2:*:${n.account}:security-group/*`, `arn:aws:ec2:*:${n.account}:volume/*`, `arn:aws:ec2:*:${n.account}:network-interface/*`],
      Condition: tagging,
    },
    {
      Sid: 'LaunchFrom',
      Effect: 'Allow',
      Action: ['ec2:RunInstances', 'ec2:CreateSecurityGroup'],
      Resource: ['arn:aws:ec2:*::image/*', `arn:aws:ec2:*:${n.account}:subnet/*`, `arn:aws:ec2:*:${n.account}:vpc/*`, `arn:aws:ec2:*:${n.account}:security-group/*`],
    },
    { Sid: 'TagOnCreate', Effect: 'Allow', Action: ['ec2:CreateTags'], Resource: '*', Condition: { StringEquals: { 'ec2:CreateAction': ['RunInstances', 'CreateSecurityGroup'] } } },
    {
      Sid: 'ManageGomanResources',
      Effect: 'Allow',
      Action: ['ec2:StartInstances', 'ec2:StopInstances', 'ec2:TerminateInstances', 'ec2:AuthorizeSecurityGroupIngress', 'ec2:DeleteSecurityGroup'],
      Resource: [`arn:aws:ec2:*:${n.account}:instance/*`, `arn:aws:ec2:*:${n.account}:security-group/*`],
      Condition: managed,
    },
    { Sid: 'PassInstanceRole', Effect: 'Allow', Action: ['iam:PassRole'], Resource: `arn:aws:iam::${n.account}:role/${INSTANCE_ROLE}` },
    {
      Sid: 'Logs',
      Effect: 'Allow',
      Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: `arn:aws:logs:${n.region}:${n.account}:log-group:${n.logGroup}:*`,
    },
  );
}

/**
 * Nodes read only the join tokens (never kubeconfigs) of goman clusters, and K3s servers keep
 * etcd snapshots under the snapshot prefix of goman's bucket — that prefix only.
 */
export function instanceParameterPolicy(account: string, bucket = `goman-${account}`): PolicyDocument {
  return doc(
    { Effect: 'Allow', Action: ['ssm:GetParameter'], Resource: `arn:aws:ssm:*:${account}:parameter/goman/*/token` },
    { Sid: 'EtcdSnapshots', Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'], Resource: `arn:aws:s3:::${bucket}/${SNAPSHOT_PREFIX}*` },
    // SSM writes command output as the instance: there and nowhere else.
    { Sid: 'CommandOutput', Effect: 'Allow', Action: ['s3:PutObject'], Resource: `arn:aws:s3:::${bucket}/${SSM_OUTPUT_PREFIX}*` },
    { Sid: 'EtcdSnapshotList', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: `arn:aws:s3:::${bucket}`, Condition: { StringLike: { 's3:prefix': [`${SNAPSHOT_PREFIX}*`] } } },
  );
}

/** Only the state bucket may send to the reconcile queue. */
export function queuePolicy(n: AccountNames): PolicyDocument {
  return doc({
    Sid: 'StateBucketNotifications',
    Effect: 'Allow',
    Principal: { Service: 's3.amazonaws.com' },
    Action: 'sqs:SendMessage',
    Resource: n.queueArn,
    Condition: { ArnEquals: { 'aws:SourceArn': `arn:aws:s3:::${n.bucket}` }, StringEquals: { 'aws:SourceAccount': n.account } },
  });
}

export const SSM_MANAGED_POLICY_ARN = 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore';
export const LAMBDA_POLICY_NAME = 'goman-controller';
export const INSTANCE_POLICY_NAME = 'goman-read-join-token';
