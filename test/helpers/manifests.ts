// The manifest folder the apply end-to-end tests share (embedded and serverless): three
// clusters in us-east-1 labelled fleet=demo, in YAML and JSON files. No provider is written,
// so each backend fills in its own (sim on a server, aws in an S3 context).
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export function manifestsFixture(opts: { webWorkers?: number } = {}): Record<string, string> {
  return {
    'db.yaml': [
      'apiVersion: goman.io/v1',
      'kind: Cluster',
      'metadata:',
      '  name: db',
      '  labels: {fleet: demo}',
      'spec:',
      '  region: us-east-1',
      '  nodePools:',
      '    - {name: data, count: 1}',
      '',
    ].join('\n'),
    'ml.json': JSON.stringify(
      { apiVersion: 'goman.io/v1', kind: 'Cluster', metadata: { name: 'ml', labels: { fleet: 'demo' } }, spec: { region: 'us-east-1', nodePools: [{ name: 'gpu', count: 1, instanceType: 'g5.xlarge' }] } },
      null,
      2,
    ),
    'web.yaml': [
      '# the web tier',
      'apiVersion: goman.io/v1',
      'kind: Cluster',
      'metadata:',
      '  name: web',
      '  labels:',
      '    fleet: demo',
      'spec:',
      '  region: us-east-1',
      '  nodePools:',
      '    - name: workers',
      `      count: ${opts.webWorkers ?? 3}`,
      '      instanceType: t3.large',
      '',
    ].join('\n'),
  };
}

export async function writeManifests(dir: string, files: Record<string, string>, opts: { drop?: string[] } = {}): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    if (opts.drop?.includes(name)) await rm(path.join(dir, name), { force: true });
    else await writeFile(path.join(dir, name), text);
  }
}
