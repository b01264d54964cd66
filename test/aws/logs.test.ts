// `goman logs` on an S3 context (issue 15), on moto: `init` creates the controller's log group
// with a retention, `goman logs --since` reads it, `uninit` removes it. moto cannot run the
// Lambda function, so this test writes the log events the function would write (pino JSON
// lines in a `[$LATEST]` stream of /aws/lambda/goman-cluster-controller) itself.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CreateLogStreamCommand, DescribeLogGroupsCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { createAwsClients } from '../../src/aws/clients.ts';
import { LOG_GROUP } from '../../src/aws/names.ts';
import { initAws } from '../../src/cli/aws/init.ts';
import { bundleLambda } from '../../src/cli/aws/lambda-zip.ts';
import { uninitAws } from '../../src/cli/aws/uninit.ts';
import { startMoto, useMotoEnv } from '../helpers/moto.ts';
import { cleanEnv, runGoman } from '../helpers/serve.ts';

test('init makes the log group with a retention, goman logs --since reads it, uninit removes it', { timeout: 120_000 }, async (t) => {
  const moto = await startMoto(t);
  if (!moto) return;
  t.after(() => moto.stop());
  useMotoEnv(moto);
  const dir = await mkdtemp(path.join(tmpdir(), 'goman-logs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const configFile = path.join(dir, 'goman', 'config.yaml');
  const clients = createAwsClients('ap-south-1');
  await initAws({ clients, configFile, lambdaZip: bundleLambda });

  const groups = await clients.logs().send(new DescribeLogGroupsCommand({ logGroupNamePrefix: LOG_GROUP }));
  assert.deepEqual(
    groups.logGroups?.map((g) => [g.logGroupName, g.retentionInDays]),
    [[LOG_GROUP, 14]],
  );

  // What the function would have logged: two recent lines and one from before --since.
  const stream = '2026/01/01/[$LATEST]0123456789abcdef';
  await clients.logs().send(new CreateLogStreamCommand({ logGroupName: LOG_GROUP, logStreamName: stream }));
  const now = Date.now();
  const line = (cluster: string, msg: string): string => JSON.stringify({ level: 30, name: 'goman-lambda', cluster, msg });
  await clients.logs().send(
    new PutLogEventsCommand({
      logGroupName: LOG_GROUP,
      logStreamName: stream,
      logEvents: [
        { timestamp: now - 3 * 3_600_000, message: line('alpha', 'too old to show') },
        { timestamp: now - 10 * 60_000, message: line('alpha', 'reconciled alpha') },
        { timestamp: now - 5 * 60_000, message: line('beta', 'reconciled beta') },
      ],
    }),
  );

  const env = cleanEnv({ ...moto.env, XDG_CONFIG_HOME: dir, NO_COLOR: '1' });
  const all = await runGoman(['logs', '--since', '1h'], { env });
  assert.equal(all.code, 0, all.stderr);
  const lines = all.stdout.trim().split('\n');
  assert.equal(lines.length, 2, all.stdout);
  assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT[\d:.]+Z .*reconciled alpha/);
  assert.match(lines[1]!, /reconciled beta/);
  const beta = await runGoman(['logs', '--since', '1h', '--cluster', 'beta'], { env });
  assert.equal(beta.code, 0, beta.stderr);
  assert.deepEqual(beta.stdout.trim().split('\n').map((l) => /reconciled \w+/.exec(l)?.[0]), ['reconciled beta']);
  const bad = await runGoman(['logs', '--since', 'yesterday'], { env });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--since "yesterday"/);

  await uninitAws({ clients, configFile });
  const after = await clients.logs().send(new DescribeLogGroupsCommand({ logGroupNamePrefix: LOG_GROUP }));
  assert.deepEqual(after.logGroups ?? [], []);
});
