// `goman kubeconfig NAME` (DESIGN §7): the aws controller keeps each cluster's kubeconfig as the
// SecureString /goman/<cluster>/kubeconfig in the cluster's own region; this writes it to a
// local file with mode 0600 (never to S3, never to a log).
import { homedir } from 'node:os';
import path from 'node:path';
import { makeDirectory, writeFileAtomic } from '../../util/files.ts';

export { readKubeconfig } from '../../aws/kubeconfig.ts';

export function defaultKubeconfigPath(name: string, env: Record<string, string | undefined> = process.env): string {
  return path.join(env.HOME || homedir(), '.kube', `goman-${name}.yaml`);
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
