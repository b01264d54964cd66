// SSM's 24 000-character cap on a command's stdout (DESIGN §14): past it, the agent reads the
// whole output from the S3 copy SSM writes, and without one it fails rather than hand back half
// a document. moto runs no command and returns no output, so a stand-in for the two SSM calls
// (SendCommand, GetCommandInvocation) is the one thing mocked here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { GetCommandInvocationCommand, SendCommandCommand } from '@aws-sdk/client-ssm';
import { SSM_OUTPUT_LIMIT, SsmNodeAgent, ssmStdoutKey } from '../../../src/providers/aws/node-agent.ts';

function ssmPrinting(stdout: string): { client: SSMClient; sent: Record<string, unknown>[] } {
  const sent: Record<string, unknown>[] = [];
  const client = {
    send: async (cmd: unknown) => {
      if (cmd instanceof SendCommandCommand) {
        sent.push({ ...cmd.input });
        return { Command: { CommandId: 'cmd-1' } };
      }
      if (cmd instanceof GetCommandInvocationCommand) return { Status: 'Success', StandardOutputContent: stdout.slice(0, SSM_OUTPUT_LIMIT) };
      throw new Error('unexpected SSM call');
    },
  } as unknown as SSMClient;
  return { client, sent };
}

test('ssm output past 24 000 characters is read whole from its S3 copy; without one the command fails, never half a document', async () => {
  const whole = JSON.stringify({ items: Array.from({ length: 2000 }, (_, i) => ({ name: `node-${i}` })) });
  assert.ok(whole.length > SSM_OUTPUT_LIMIT);
  const objects = new Map([[`goman-1/${ssmStdoutKey('ssm-output/', 'cmd-1', 'i-1')}`, whole]]);
  const { client, sent } = ssmPrinting(whole);
  const agent = new SsmNodeAgent(() => client, { pollMs: 1, output: { bucket: 'goman-1', prefix: 'ssm-output/', read: async (b, k) => objects.get(`${b}/${k}`) } });
  const out = await agent.run({ region: 'ap-south-1', instanceId: 'i-1', script: 'get-nodes', vars: {} });
  assert.equal(out.status, 'Success');
  assert.equal(out.stdout, whole);
  assert.equal(sent[0]?.OutputS3BucketName, 'goman-1');
  assert.equal(sent[0]?.OutputS3KeyPrefix, 'ssm-output/');

  const bare = new SsmNodeAgent(() => ssmPrinting(whole).client, { pollMs: 1 });
  const cut = await bare.run({ region: 'ap-south-1', instanceId: 'i-1', script: 'get-nodes', vars: {} });
  assert.equal(cut.status, 'OutputTruncated');
  assert.equal(cut.stdout, '');

  const small = new SsmNodeAgent(() => ssmPrinting('{"items":[]}').client, { pollMs: 1 });
  const short = await small.run({ region: 'ap-south-1', instanceId: 'i-1', script: 'get-nodes', vars: {} });
  assert.deepEqual(short, { status: 'Success', stdout: '{"items":[]}', stderr: '' });
});
