// `goman apply`, `goman diff` and `--prune` in the serverless topology: the real CLI against
// an S3 context on a real moto server, with the same manifest folder as the embedded test
// (test/e2e/apply.test.ts). The manifests name no provider, so the S3 backend makes them aws
// clusters. No controller runs here: this is about the desired state in the bucket.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CreateBucketCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import type { Cluster } from '../../src/domain/cluster.ts';
import { manifestsFixture, writeManifests } from '../helpers/manifests.ts';
import type { Moto } from '../helpers/moto.ts';
import { startMoto } from '../helpers/moto.ts';
import { cleanEnv, runGoman } from '../helpers/serve.ts';

let moto: Moto | null;
let tmp: string;
let env: Record<string, string>;
const BUCKET = 'goman-apply-e2e';

before(async () => {
  moto = await startMoto();
  if (!moto) return;
  tmp = await mkdtemp(path.join(tmpdir(), 'goman-apply-s3-'));
  const s3 = new S3Client({ region: 'ap-south-1', endpoint: moto.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: 'ap-south-1' } }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
  s3.destroy();
  env = cleanEnv({ ...moto.env, XDG_CONFIG_HOME: path.join(tmp, 'config'), GOMAN_DATA_DIR: path.join(tmp, 'data'), GOMAN_PRICE_SOURCE: 'table', GOMAN_PRICE_MAX_AGE_DAYS: '100000' });
  const added = await runGoman(['context', 'add', 'bucket', '--bucket', BUCKET, '--region', 'ap-south-1'], { env });
  assert.equal(added.code, 0, added.stderr);
});
after(async () => {
  await moto?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const goman = (args: string[]) => runGoman(args, { env, timeoutMs: 90_000 });
async function ok(args: string[]): Promise<string> {
  const r = await goman(args);
  assert.equal(r.code, 0, `goman ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

test('serverless: the same folder applies to the bucket, is idempotent, diffs, shrinks and prunes', { timeout: 180_000 }, async () => {
  const dir = path.join(tmp, 'fleet');
  await writeManifests(dir, manifestsFixture());
  assert.equal(await ok(['apply', '-f', dir]), 'cluster/db created\ncluster/ml created\ncluster/web created\n');
  const list = async () => (JSON.parse(await ok(['list', '-o', 'json'])) as { items: Cluster[] }).items;
  const first = await list();
  assert.deepEqual(first.map((c) => [c.name, c.spec.provider]), [['db', 'aws'], ['ml', 'aws'], ['web', 'aws']]);
  assert.equal(await ok(['apply', '-f', dir]), 'cluster/db unchanged\ncluster/ml unchanged\ncluster/web unchanged\n');
  assert.deepEqual((await list()).map((c) => c.resourceVersion), first.map((c) => c.resourceVersion), 'a second apply writes nothing');

  await writeManifests(dir, manifestsFixture({ webWorkers: 1 }), { drop: ['ml.json'] });
  const diff = await goman(['diff', '-f', dir]);
  assert.equal(diff.code, 1, diff.stderr);
  assert.match(diff.stdout, /cordon and drain web-workers-agent-1, web-workers-agent-2/);
  assert.match(diff.stdout, /Cost: \$212\.58 → \$91.10\/month \(-\$121\.48\)/);

  assert.equal(await ok(['apply', '-f', dir, '--prune', '-l', 'fleet=demo', '--yes']), 'cluster/db unchanged\ncluster/web configured\ncluster/ml pruned\n');
  const after = await list();
  assert.deepEqual(after.find((c) => c.name === 'web')?.spec.nodePools, [{ name: 'workers', count: 1, instanceType: 't3.large' }]);
  assert.ok(after.find((c) => c.name === 'ml')?.deletionTimestamp, 'ml is marked for deletion (the controller removes it once its cloud is clean)');
  const clean = await goman(['diff', '-f', dir]);
  assert.equal(clean.code, 0, clean.stdout + clean.stderr);
});
