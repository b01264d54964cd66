// `goman controller` (DESIGN §1): a provider controller outside the server. With the default
// source it takes events from the bus and talks to a goman server through the current context
// (a token with role controller); with `--source sqs` it is the serverless worker, the same
// code the Lambda function runs, reading the bucket and queue of an `s3` context.
import { GomanError, validationFailed } from '../domain/index.ts';
import { resolveContext } from '../cli/config.ts';
import { runControllerProcess } from './controller-process.ts';
import { createLogger, logFormat } from './logger.ts';
import { startTracing } from './tracing.ts';
import { controllerSettings, type ControllerFlags } from './settings.ts';
import { untilSignal } from './signals.ts';

export async function runController(flags: ControllerFlags): Promise<void> {
  // Settings first: a misconfigured worker stops before it touches anything.
  const settings = controllerSettings(flags);
  const context = await resolveContext({ context: settings.context });
  const deadlineMs = settings.shutdownDeadlineMs;
  const logger = createLogger(settings.logLevel, { name: `goman-controller-${flags.provider}`, format: logFormat(process.env, Boolean(process.stdout.isTTY)) });

  const tracing = await startTracing(`goman-controller-${flags.provider}`);
  if (settings.source === 'sqs') {
    if (context.kind !== 's3') throw validationFailed(`--source sqs needs a context of kind s3 (run \`goman init\`); "${context.name}" is a server context`);
    const [{ runSqsController }, { AwsReconciler }, { createAwsClients, accountId }, { accountNames }] = await Promise.all([
      import('../reconcile/serverless-runner.ts'),
      import('../providers/aws/reconciler.ts'),
      import('../aws/clients.ts'),
      import('../aws/names.ts'),
    ]);
    const clients = createAwsClients(context.region);
    const names = accountNames(await accountId(clients), context.region, context.namespace);
    const queueUrl = (await clients.sqs().send(new (await import('@aws-sdk/client-sqs')).GetQueueUrlCommand({ QueueName: names.queue }))).QueueUrl;
    if (!queueUrl) throw new GomanError('NOT_FOUND', `queue ${names.queue} not found — run \`goman init\``);
    const abort = new AbortController();
    void untilSignal().then(() => abort.abort());
    logger.info({ bucket: context.bucket, queue: names.queue }, 'serverless worker started');
    await runSqsController({ clients, bucket: context.bucket, namespace: context.namespace, queueUrl, reconciler: new AwsReconciler({ clients, outputBucket: context.bucket }), signal: abort.signal });
    await tracing.shutdown();
    return;
  }

  if (context.kind !== 'server') throw validationFailed(`context "${context.name}" is an s3 context; a bus controller needs a goman server context (or use --source sqs)`);
  if (!context.token) throw validationFailed(`context "${context.name}" has no token; create one with \`goman token create --role controller\``);
  const proc = await runControllerProcess({
    serverUrl: context.server,
    token: context.token,
    databaseUrl: settings.databaseUrl,
    busUrl: settings.busUrl,
    provider: settings.provider,
    leaseTtlMs: settings.leaseTtlMs,
    concurrency: settings.concurrency,
    logger,
  });
  logger.info({ owner: proc.owner, provider: flags.provider }, 'controller started');
  await untilSignal();
  await proc.stop(deadlineMs);
  await tracing.shutdown();
}
