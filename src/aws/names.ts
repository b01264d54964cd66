// Names of goman's AWS resources (DESIGN §8), derived from the account id so one account has
// exactly one goman installation and `uninit` can find everything it made.
export const FUNCTION_NAME = 'goman-cluster-controller';
/** Where Lambda writes the function's logs; `goman init` creates it with a retention, `goman logs` reads it. */
export const LOG_GROUP = `/aws/lambda/${FUNCTION_NAME}`;
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
  bucket: string;
  queue: string;
  deadLetterQueue: string;
  lambdaRole: string;
  queueArn: string;
  deadLetterQueueArn: string;
  tableArn: string;
  functionArn: string;
}

export function accountNames(account: string, region: string): AccountNames {
  const queue = `goman-reconcile-${account}`;
  const deadLetterQueue = `${queue}-dlq`;
  return {
    account,
    region,
    bucket: `goman-${account}`,
    queue,
    deadLetterQueue,
    lambdaRole: `goman-lambda-role-${account}`,
    queueArn: `arn:aws:sqs:${region}:${account}:${queue}`,
    deadLetterQueueArn: `arn:aws:sqs:${region}:${account}:${deadLetterQueue}`,
    tableArn: `arn:aws:dynamodb:${region}:${account}:table/${LOCK_TABLE}`,
    functionArn: `arn:aws:lambda:${region}:${account}:function:${FUNCTION_NAME}`,
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
