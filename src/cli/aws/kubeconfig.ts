// `goman kubeconfig NAME` (DESIGN §7): the aws controller keeps each cluster's kubeconfig as the
// SecureString /goman/<cluster>/kubeconfig in the cluster's own region; this writes it to a
// local file with mode 0600 (never to S3, never to a log).
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { homedir } from 'node:os';
import path from 'node:path';
import type { Cluster } from '../../domain/index.ts';
import { GomanError } from '../../domain/index.ts';
import { awsErrorName, createAwsClients } from '../../aws/clients.ts';
import { kubeconfigParameter } from '../../aws/names.ts';
import { makeDirectory, writeFileAtomic } from '../../util/files.ts';

export function defaultKubeconfigPath(name: string, env: Record<string, string | undefined> = process.env): string {
  return path.join(env.HOME || homedir(), '.kube', `goman-${name}.yaml`);
}

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
  throw new GomanError('NOT_FOUND', `cluster ${cluster.name} has no kubeconfig yet (phase ${cluster.status.phase}); wait until it is Ready`);
}

/** Atomic, 0600 in a 0700 directory; `-` writes to stdout. Returns where it went. */
export async function writeKubeconfig(content: string, file: string): Promise<string> {
  if (file === '-') {
    process.stdout.write(content.endsWith('\n') ? content : `${content}\n`);
    return 'stdout';
  }
  await makeDirectory(path.dirname(file), 0o700);
  await writeFileAtomic(file, content, { mode: 0o600 });
  return file;
}
