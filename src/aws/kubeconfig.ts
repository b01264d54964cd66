// An aws cluster's kubeconfig: the aws controller keeps it as the SecureString
// /goman/<cluster>/kubeconfig in the cluster's own region. Read by `goman kubeconfig NAME`
// and by the API's kubeconfig download; never written to S3 or a log.
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import type { Cluster } from '../domain/index.ts';
import { GomanError, noKubeconfigYet } from '../domain/index.ts';
import { awsErrorName, createAwsClients } from './clients.ts';
import { kubeconfigParameter } from './names.ts';

export async function readKubeconfig(cluster: Cluster): Promise<string> {
  if (cluster.spec.provider !== 'aws') {
    throw new GomanError('VALIDATION_FAILED', `cluster ${cluster.name} uses the ${cluster.spec.provider} provider, which has no real Kubernetes API to connect to`);
  }
  const ssm = createAwsClients(cluster.spec.region).ssm(cluster.spec.region);
  try {
    const out = await ssm.send(new GetParameterCommand({ Name: kubeconfigParameter(cluster.name), WithDecryption: true }));
    const value = out.Parameter?.Value;
    if (value) return value;
  } catch (e) {
    if (awsErrorName(e) !== 'ParameterNotFound') throw e;
  }
  throw noKubeconfigYet(cluster.name, cluster.status.phase);
}
