// The Lambda entry (DESIGN §8): an SQS batch in, the serverless runner per message, failed
// messages reported back so only they are retried (ReportBatchItemFailures).
import { createAwsClients } from '../aws/clients.ts';
import { ServerlessRunner } from '../reconcile/serverless-runner.ts';
import { AwsReconciler } from '../providers/aws/reconciler.ts';

interface SqsEvent {
  Records: { messageId: string; body: string }[];
}

let runner: ServerlessRunner | undefined;

function fromEnvironment(): ServerlessRunner {
  const bucket = process.env.GOMAN_BUCKET;
  const queueUrl = process.env.GOMAN_QUEUE_URL;
  if (!bucket || !queueUrl) throw new Error('GOMAN_BUCKET and GOMAN_QUEUE_URL must be set (goman init sets them)');
  const clients = createAwsClients(process.env.GOMAN_REGION);
  return new ServerlessRunner({
    clients,
    bucket,
    namespace: process.env.GOMAN_NAMESPACE || undefined,
    queueUrl,
    reconciler: new AwsReconciler({ clients, outputBucket: bucket }),
    log: (entry) => console.log(JSON.stringify(entry)),
  });
}

export async function handler(event: SqsEvent): Promise<{ batchItemFailures: { itemIdentifier: string }[] }> {
  runner ??= fromEnvironment();
  const active = runner;
  const failures: { itemIdentifier: string }[] = [];
  await Promise.all(
    event.Records.map(async (record) => {
      try {
        await active.handleMessage(record.body);
      } catch (e) {
        console.log(JSON.stringify({ msg: 'message failed', messageId: record.messageId, error: (e as Error).message }));
        failures.push({ itemIdentifier: record.messageId });
      }
    }),
  );
  return { batchItemFailures: failures };
}
