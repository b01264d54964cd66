// The Lambda deployment package itself: the zip `goman init` uploads is unpacked and its
// bundled handler called with the SQS message that moto delivered for a new cluster. moto
// cannot run Lambda code (that needs Docker), so the test invokes the handler the way the
// Lambda runtime would; everything it does goes over the wire to moto.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import yauzl from 'yauzl';
import { createAwsClients } from '../../src/aws/clients.ts';
import { initAws } from '../../src/cli/aws/init.ts';
import { bundleLambda } from '../../src/cli/aws/lambda-zip.ts';
import { statusKey } from '../../src/aws/names.ts';
import { createS3Backend } from '../../src/client/s3-backend.ts';
import type { Moto } from '../helpers/moto.ts';
import { startMoto, useMotoEnv } from '../helpers/moto.ts';

let moto: Moto | null;
let dir: string | undefined;
after(async () => {
  await moto?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function unzip(zip: Buffer, into: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true }, (err, file) => {
      if (err) return reject(err);
      const names: string[] = [];
      file.on('entry', (entry: yauzl.Entry) => {
        file.openReadStream(entry, (e, stream) => {
          if (e) return reject(e);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            const target = path.join(into, entry.fileName);
            names.push(entry.fileName);
            void mkdir(path.dirname(target), { recursive: true })
              .then(() => writeFile(target, Buffer.concat(chunks)))
              .then(() => file.readEntry(), reject);
          });
        });
      });
      file.on('end', () => resolve(names));
      file.readEntry();
    });
  });
}

test('the bundled Lambda handler reconciles a cluster from its S3 notification', { timeout: 120_000 }, async (t) => {
  moto = await startMoto(t);
  if (!moto) return;
  useMotoEnv(moto);
  dir = await mkdtemp(path.join(tmpdir(), 'goman-lambda-'));
  const clients = createAwsClients('ap-south-1');
  const init = await initAws({ clients, configFile: path.join(dir, 'config.yaml'), lambdaZip: bundleLambda });

  const files = await unzip(await bundleLambda(), path.join(dir, 'package'));
  assert.ok(files.includes('index.mjs'));
  assert.ok(files.some((f) => f.startsWith('scripts/') && f.endsWith('.sh')));
  const { handler } = (await import(pathToFileURL(path.join(dir, 'package', 'index.mjs')).href)) as {
    handler: (e: { Records: { messageId: string; body: string }[] }) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;
  };

  await createS3Backend({ bucket: init.names.bucket, region: 'ap-south-1' }).create({ name: 'lam', spec: { provider: 'aws' } });
  const records: { messageId: string; body: string }[] = [];
  for (let i = 0; i < 10 && !records.some((r) => r.body.includes('lam.json')); i++) {
    const received = await clients.sqs().send(new ReceiveMessageCommand({ QueueUrl: init.queueUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }));
    records.push(...(received.Messages ?? []).map((m) => ({ messageId: m.MessageId ?? '', body: m.Body ?? '' })));
  }
  assert.ok(records.some((r) => r.body.includes('lam.json')), `moto delivered the S3 notification: ${JSON.stringify(records).slice(0, 600)}`);

  Object.assign(process.env, { GOMAN_BUCKET: init.names.bucket, GOMAN_QUEUE_URL: init.queueUrl, GOMAN_REGION: 'ap-south-1' });
  const result = await handler({ Records: records });
  assert.deepEqual(result.batchItemFailures, []);

  const instances = await clients.ec2('ap-south-1').send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:goman:cluster', Values: ['lam'] }] }));
  assert.equal((instances.Reservations ?? []).flatMap((r) => r.Instances ?? []).length, 1, 'one server launched by the handler');
  const status = await clients.s3().send(new GetObjectCommand({ Bucket: init.names.bucket, Key: statusKey('lam') }));
  const body = JSON.parse(await status.Body!.transformToString()) as { status?: { controllers?: { name: string }[] } };
  assert.ok(JSON.stringify(body).includes('aws-controller'), 'the handler wrote status/lam.json');
});
