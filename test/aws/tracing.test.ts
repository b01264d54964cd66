// AWS calls and SSM commands in spans (issue 15), on moto: with the SDK registered in this
// process (an in-memory exporter stands in for the OTLP endpoint), each SDK call is a client
// span named after the call, and an SSM command is a span over its send and polls.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { RunInstancesCommand } from '@aws-sdk/client-ec2';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { createAwsClients } from '../../src/aws/clients.ts';
import { SsmNodeAgent } from '../../src/providers/aws/node-agent.ts';
import { setTracingEnabled } from '../../src/util/trace.ts';
import { startMoto, useMotoEnv } from '../helpers/moto.ts';

test('every AWS call is a client span, and an SSM command a span around its calls', async (t) => {
  const moto = await startMoto(t);
  if (!moto) return;
  t.after(() => moto.stop());
  useMotoEnv(moto);
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register();
  setTracingEnabled(true);
  t.after(async () => {
    setTracingEnabled(false);
    await provider.shutdown();
  });

  const clients = createAwsClients('ap-south-1', moto.env);
  await clients.sts().send(new GetCallerIdentityCommand({}));
  const sts = exporter.getFinishedSpans().find((s) => s.name === 'aws STSClient.GetCallerIdentityCommand');
  assert.ok(sts, exporter.getFinishedSpans().map((s) => s.name).join(', '));
  assert.equal(sts.attributes['rpc.method'], 'GetCallerIdentityCommand');

  const run = await clients.ec2().send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1 }));
  const instanceId = run.Instances?.[0]?.InstanceId ?? '';
  const result = await new SsmNodeAgent((r) => clients.ssm(r), { pollMs: 10, timeoutS: 5 }).run({ region: 'ap-south-1', instanceId, script: 'get-nodes', vars: {} });
  assert.ok(result.status);
  const spans = exporter.getFinishedSpans();
  const ssm = spans.find((s) => s.name === 'ssm get-nodes');
  assert.ok(ssm, spans.map((s) => s.name).join(', '));
  assert.equal(ssm.attributes['goman.instance.id'], instanceId);
  const send = spans.find((s) => s.name === 'aws SSMClient.SendCommandCommand');
  assert.equal(send?.parentSpanContext?.spanId, ssm.spanContext().spanId);
});
