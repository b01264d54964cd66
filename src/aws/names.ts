// Names of goman's AWS resources (DESIGN §8), derived from the account id so one account has
// exactly one goman installation and `uninit` can find everything it made.
export const FUNCTION_NAME = 'goman-cluster-controller';
/** The controller function of a namespace (the default one has no suffix). */
export const functionNameFor = (namespace?: string): string => `${FUNCTION_NAME}${namespace ? `-${namespace}` : ''}`;
/** Where Lambda writes a function's logs; `goman init` creates it with a retention, `goman logs` reads it. */
export const logGroupFor = (namespace?: string): string => `/aws/lambda/${functionNameFor(namespace)}`;
export const LOG_GROUP = logGroupFor();
/** Days CloudWatch keeps the controller's logs (a value CloudWatch accepts). */
export const LOG_RETENTION_DAYS = 14;
export const LOCK_TABLE = 'goman-resource-locks';
export const INSTANCE_ROLE = 'goman-ssm-instance-role';
export const INSTANCE_PROFILE = 'goman-ssm-instance-profile';
export const CONTROLLER_NAME = 'aws-controller';
export const MANAGED_BY_TAG = { Key: 'ManagedBy', Value: 'goman' } as const;

export interface AccountNames {
  account: string;
  region: string;
  /** The namespace (`goman init --namespace`), undefined for the default layout. */
  namespace: string | undefined;
  /** Where the namespace's objects live in the bucket: '' or `state/NAME/`. */
  root: string;
  functionName: string;
  logGroup: string;
  bucket: string;
  queue: string;
  deadLetterQueue: string;
  lambdaRole: string;
  queueArn: string;
  deadLetterQueueArn: string;
  tableArn: string;
  functionArn: string;
}

/** DNS-label-like and short: it ends up in queue, role and function names (IAM roles: 64 characters). */
export const NAMESPACE = /^[a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?$/;

/** A namespace's objects live under `state/NAME/` (its `clusters/`, `status/`, `ids/`); none: the bucket's root. */
export function namespaceRoot(namespace: string | undefined): string {
  return namespace ? `state/${namespace}/` : '';
}

/** One bucket per account; a queue, a function and its role per namespace (the default has no suffix). */
export function accountNames(account: string, region: string, namespace?: string): AccountNames {
  const suffix = namespace ? `-${namespace}` : '';
  const queue = `goman-reconcile-${account}${suffix}`;
  const deadLetterQueue = `${queue}-dlq`;
  const functionName = functionNameFor(namespace);
  return {
    account,
    region,
    namespace,
    root: namespaceRoot(namespace),
    functionName,
    logGroup: logGroupFor(namespace),
    bucket: `goman-${account}`,
    queue,
    deadLetterQueue,
    lambdaRole: `goman-lambda-role-${account}${suffix}`,
    queueArn: `arn:aws:sqs:${region}:${account}:${queue}`,
    deadLetterQueueArn: `arn:aws:sqs:${region}:${account}:${deadLetterQueue}`,
    tableArn: `arn:aws:dynamodb:${region}:${account}:table/${LOCK_TABLE}`,
    functionArn: `arn:aws:lambda:${region}:${account}:function:${functionName}`,
  };
}

/** Object keys of the serverless layout: desired state triggers, observed state does not. */
export const desiredKey = (name: string): string => `clusters/${name}.json`;
export const statusKey = (name: string): string => `status/${name}.json`;
export const DESIRED_PREFIX = 'clusters/';
export const DESIRED_SUFFIX = '.json';
export const STATUS_PREFIX = 'status/';
/** id → name, so a cluster is found by id with one GET, never a listing (never triggers either). */
export const idKey = (id: string): string => `ids/${id}.json`;

/** SSM parameter names of a cluster's secrets. */
export const tokenParameter = (cluster: string): string => `/goman/${cluster}/token`;
export const kubeconfigParameter = (cluster: string): string => `/goman/${cluster}/kubeconfig`;
export const securityGroupName = (cluster: string): string => `goman-${cluster}`;

/** Prefix of goman's bucket where SSM writes node command output (read back past 24 000 characters). */
export const SSM_OUTPUT_PREFIX = 'ssm-output/';

/**
 * Prefix of goman's bucket for etcd snapshots of clusters whose spec.backup names no bucket
 * (DESIGN §14): each cluster under its own folder; the instance role may use this prefix only.
 */
export const SNAPSHOT_PREFIX = 'snapshots/';
export const snapshotFolder = (cluster: { name: string; id: string }): string => `${SNAPSHOT_PREFIX}${cluster.name}/${cluster.id}`;
