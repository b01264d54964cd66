// The ClusterBackend contract over S3 (the serverless mode), against moto; and what only the S3
// adapter has to prove: ids resolve without a listing, and a watch is not cut at one page.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { createAwsClients } from '../../src/aws/clients.ts';
import { S3Backend } from '../../src/client/s3-backend.ts';
import { JsonObjects } from '../../src/store/s3/objects.ts';
import { eventually } from '../helpers/eventually.ts';
import { AtomicPerKeyObjects, startMoto, useMotoEnv, type Moto } from '../helpers/moto.ts';
import { backendContract } from './backend-contract.ts';

let bucketSeq = 0;
async function bucket(moto: Moto): Promise<{ objects: JsonObjects; name: string }> {
  useMotoEnv(moto);
  const s3 = createAwsClients('ap-south-1').s3();
  const name = `goman-test-${process.pid}-${++bucketSeq}`;
  await s3.send(new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: 'ap-south-1' } }));
  return { objects: new JsonObjects(s3, name), name };
}

backendContract('s3 (moto)', async () => {
  const moto = await startMoto();
  if (!moto) throw new Error('moto is required');
  const { name } = await bucket(moto);
  const objects = new AtomicPerKeyObjects(createAwsClients('ap-south-1').s3(), name);
  return { backend: new S3Backend({ bucket: name, region: 'ap-south-1', objects, pollIntervalMs: 100 }), provider: 'aws', cleanup: () => moto.stop() };
});

/** Counts listings: the one thing these tests need to see that the real object store does. */
class CountingObjects extends JsonObjects {
  listings = 0;
  override listKeys(...args: Parameters<JsonObjects['listKeys']>): ReturnType<JsonObjects['listKeys']> {
    this.listings++;
    return super.listKeys(...args);
  }
}

test('s3: a cluster is found by id with no listing, and a watch sees past the first 500', async (t) => {
  const moto = await startMoto(t);
  if (!moto) return;
  t.after(() => moto.stop());
  const { name } = await bucket(moto);
  const s3 = createAwsClients('ap-south-1').s3();
  const objects = new CountingObjects(s3, name);
  const backend = new S3Backend({ bucket: name, region: 'ap-south-1', objects, pollIntervalMs: 100 });
  const made = await Promise.all(Array.from({ length: 501 }, (_, i) => backend.create({ name: `c${String(i).padStart(3, '0')}` })));
  const last = made.at(-1)!;
  objects.listings = 0;
  assert.equal((await backend.get(last.id)).value.name, 'c500');
  assert.equal((await backend.patch(last.id, { labels: { found: 'by-id' } })).labels.found, 'by-id');
  assert.equal(objects.listings, 0, 'no listing to resolve an id');

  const stop = new AbortController();
  const seen = new Set<string>();
  const reading = (async () => {
    for await (const e of backend.watch(stop.signal)) if (e.type === 'upsert') seen.add(e.cluster.name);
  })();
  try {
    await eventually('all 501 clusters in the watch', () => seen.size === 501, { timeoutMs: 60_000 });
  } finally {
    stop.abort();
    await reading;
  }
});

test('s3: the day 2 rules hold in serverless mode too — a skipped minor version is refused naming spec.k3sVersion; pause and undo are spec changes', async (t) => {
  const moto = await startMoto(t);
  if (!moto) return;
  t.after(() => moto.stop());
  const { name } = await bucket(moto);
  const backend = new S3Backend({ bucket: name, region: 'ap-south-1', pollIntervalMs: 100 });
  await backend.create({ name: 'skew', spec: { k3sVersion: 'v1.30.5+k3s1' } });
  await assert.rejects(backend.patch('skew', { spec: { k3sVersion: 'v1.32.0+k3s1' } }), (e: unknown) => e instanceof Error && /spec\.k3sVersion/.test(e.message));
  assert.equal((await backend.patch('skew', { spec: { k3sVersion: 'v1.31.0+k3s1' } })).spec.k3sVersion, 'v1.31.0+k3s1');
  assert.equal((await backend.rollout('skew', 'pause')).spec.upgrade?.paused, true);
  await assert.rejects(backend.rollout('skew', 'undo'), /no rollout to undo/);
  await assert.rejects(backend.restore('skew', 'nope'), /no snapshot "nope"/);
  assert.deepEqual(await backend.backups('skew'), []);
});
