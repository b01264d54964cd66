// AWS SDK v3 clients, one per (service, region), honouring AWS_ENDPOINT_URL so the whole flow
// runs against a local emulator (DESIGN §8). Account-level resources live in GOMAN_REGION;
// cluster resources in each cluster's spec.region.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DEFAULT_REGION } from '../domain/index.ts';
import { inSpan, SpanKind, tracingEnabled } from '../util/trace.ts';

type Env = Record<string, string | undefined>;

/** The region of the account-level resources (bucket, queue, table, function). */
export function gomanRegion(env: Env = process.env): string {
  return env.GOMAN_REGION || DEFAULT_REGION;
}

export interface AwsClients {
  readonly region: string;
  s3(): S3Client;
  sqs(): SQSClient;
  dynamo(): DynamoDBClient;
  lambda(): LambdaClient;
  iam(): IAMClient;
  sts(): STSClient;
  ec2(region?: string): EC2Client;
  ssm(region?: string): SSMClient;
  logs(): CloudWatchLogsClient;
}

/** The slice of an SDK client's middleware stack a tracing step needs (every v3 client has it). */
interface MiddlewareStackOwner {
  middlewareStack: {
    add(
      middleware: (next: (args: unknown) => Promise<unknown>, context: { clientName?: string; commandName?: string }) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize'; name: string },
    ): void;
  };
}

/** Every AWS call in a client span named after it (`aws EC2Client.RunInstancesCommand`), only when tracing is on. */
function traced<T>(client: T): T {
  if (!tracingEnabled()) return client;
  (client as unknown as MiddlewareStackOwner).middlewareStack.add(
    (next, context) => (args) => {
      const attributes = { 'rpc.system': 'aws-api', 'rpc.service': context.clientName ?? '', 'rpc.method': context.commandName ?? '' };
      return inSpan(`aws ${context.clientName ?? ''}.${context.commandName ?? ''}`, { kind: SpanKind.CLIENT, attributes }, () => next(args));
    },
    { step: 'initialize', name: 'gomanTrace' },
  );
  return client;
}

export function createAwsClients(region: string = gomanRegion(), env: Env = process.env): AwsClients {
  const endpoint = env.AWS_ENDPOINT_URL || undefined;
  const cache = new Map<string, unknown>();
  const memo = <T>(key: string, make: () => T): T => {
    let c = cache.get(key) as T | undefined;
    if (c === undefined) {
      c = traced(make());
      cache.set(key, c);
    }
    return c;
  };
  const base = (r: string) => ({ region: r, ...(endpoint ? { endpoint } : {}) });
  return {
    region,
    // Path-style addressing for emulators, which do not serve bucket sub-domains.
    s3: () => memo('s3', () => new S3Client({ ...base(region), forcePathStyle: Boolean(endpoint) })),
    sqs: () => memo('sqs', () => new SQSClient(base(region))),
    dynamo: () => memo('dynamo', () => new DynamoDBClient(base(region))),
    lambda: () => memo('lambda', () => new LambdaClient(base(region))),
    iam: () => memo('iam', () => new IAMClient(base(region))),
    sts: () => memo('sts', () => new STSClient(base(region))),
    ec2: (r = region) => memo(`ec2:${r}`, () => new EC2Client(base(r))),
    ssm: (r = region) => memo(`ssm:${r}`, () => new SSMClient(base(r))),
    logs: () => memo('logs', () => new CloudWatchLogsClient(base(region))),
  };
}

export async function accountId(clients: AwsClients): Promise<string> {
  const id = (await clients.sts().send(new GetCallerIdentityCommand({}))).Account;
  if (!id) throw new Error('STS GetCallerIdentity returned no account id');
  return id;
}

/** The AWS error name (SDK v3 puts it on `name`), for recognising expected failures. */
export function awsErrorName(e: unknown): string {
  if (e && typeof e === 'object') {
    const o = e as { name?: unknown; Code?: unknown };
    if (typeof o.Code === 'string') return o.Code;
    if (typeof o.name === 'string') return o.name;
  }
  return '';
}

export function httpStatusOf(e: unknown): number | undefined {
  const meta = (e as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata;
  return meta?.httpStatusCode;
}
