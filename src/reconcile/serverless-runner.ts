// The serverless reconcile loop (DESIGN §1.3, §8): one SQS message says "look at cluster X"
// (an S3 event for clusters/X.json, or goman's own requeue {name}). The handler locks X in
// DynamoDB, reads the desired object, runs the provider's reconcile and requeues with
// DelaySeconds. The Lambda handler and `goman controller --source sqs` both call it.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { admissionProblems, isGomanError, isValidName } from '../domain/index.ts';
import { TerminalError, terminalReport, type Reconciler, type ReconcileContext } from './types.ts';
import { acquireKept } from '../lease/keeper.ts';
import { Backoff, type BackoffOptions } from '../util/backoff.ts';
import { leaseName, type LeaseStore } from '../lease/port.ts';
import { composeCluster, parseDesired, parseStatusDoc } from '../store/s3/documents.ts';
import { JsonObjects } from '../store/s3/objects.ts';
import { StatusWriter } from '../store/s3/status-writer.ts';
import type { AwsClients } from '../aws/clients.ts';
import { DynamoLeaseStore } from '../lease/dynamo-leases.ts';
import { DESIRED_PREFIX, DESIRED_SUFFIX, desiredKey, idKey, namespaceRoot, statusKey } from '../aws/names.ts';

export interface ServerlessOptions {
  clients: AwsClients;
  bucket: string;
  /** `goman init --namespace`: the objects under `state/NAME/`. */
  namespace?: string | undefined;
  queueUrl: string;
  reconciler: Reconciler;
  leases?: LeaseStore;
  owner?: string;
  leaseTtlMs?: number;
  /** Delay before looking again at a cluster another worker holds. */
  busyRetryMs?: number;
  /** Retries after a failure, per cluster (1 s → 5 min by default, as in the controller host). */
  backoff?: BackoffOptions;
  log?: (entry: Record<string, unknown>) => void;
}

export interface WorkItem {
  name: string;
  /** Set on goman's own requeues; an S3 event always counts. */
  requeueId?: string | undefined;
}

const MAX_DELAY_S = 900;

/** Names a message asks about; anything else (s3:TestEvent, foreign keys) asks about nothing. */
export function parseMessage(body: string, root = ''): WorkItem[] {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return [];
  }
  if (!raw || typeof raw !== 'object') return [];
  const o = raw as { Records?: unknown; name?: unknown; requeueId?: unknown };
  if (Array.isArray(o.Records)) {
    const items: WorkItem[] = [];
    for (const r of o.Records as { s3?: { object?: { key?: unknown } } }[]) {
      const key = r.s3?.object?.key;
      if (typeof key !== 'string') continue;
      // S3 event keys are URL-encoded with '+' for spaces.
      const decoded = decodeURIComponent(key.replace(/\+/g, ' '));
      const prefix = root + DESIRED_PREFIX;
      if (!decoded.startsWith(prefix) || !decoded.endsWith(DESIRED_SUFFIX)) continue;
      const name = decoded.slice(prefix.length, -DESIRED_SUFFIX.length);
      if (isValidName(name)) items.push({ name });
    }
    return items;
  }
  if (typeof o.name === 'string' && isValidName(o.name)) {
    return [{ name: o.name, requeueId: typeof o.requeueId === 'string' ? o.requeueId : undefined }];
  }
  return [];
}

/** The cluster id a desired document claims, or a stand-in for a document too broken to say. */
function idOf(body: unknown, name: string): string {
  const id = (body as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id : `invalid:${name}`;
}

export class ServerlessRunner {
  private readonly opts: ServerlessOptions;
  private readonly objects: JsonObjects;
  private readonly leases: LeaseStore;
  private readonly owner: string;
  private readonly ttlMs: number;
  private readonly backoff: Backoff;

  constructor(opts: ServerlessOptions) {
    this.opts = opts;
    this.objects = new JsonObjects(opts.clients.s3(), opts.bucket, namespaceRoot(opts.namespace));
    this.leases = opts.leases ?? new DynamoLeaseStore(opts.clients.dynamo());
    this.owner = opts.owner ?? `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
    this.ttlMs = opts.leaseTtlMs ?? 60_000;
    this.backoff = new Backoff(opts.backoff);
  }

  /** Throws only when the message should be delivered again (SQS redrive handles poison). */
  async handleMessage(body: string): Promise<void> {
    for (const item of parseMessage(body, this.objects.root)) await this.handle(item);
  }

  async handle(item: WorkItem): Promise<void> {
    const first = await this.objects.get(desiredKey(item.name));
    if (!first) return;
    // Keyed by id, as in every topology: a name reused after a delete is another cluster.
    const clusterId = idOf(first.body, item.name);
    const held = await acquireKept(this.leases, leaseName(clusterId), this.owner, {
      ttlMs: this.ttlMs,
      onRenewError: (e) => this.log({ msg: 'lease renewal failed; will retry', cluster: item.name, error: (e as Error).message }),
    });
    if (!held) {
      this.log({ msg: 'cluster busy, requeued', cluster: item.name });
      await this.requeue({ name: item.name }, this.opts.busyRetryMs ?? 10_000);
      return;
    }
    const writer = new StatusWriter(this.objects, { leases: this.leases, leaseName: leaseName(clusterId), token: held.fence });
    try {
      await this.reconcileOne(item, clusterId, writer, held.fence, held.signal);
      this.backoff.reset(item.name);
    } catch (e) {
      if (held.signal.aborted || isGomanError(e, 'CONFLICT')) {
        // Another worker holds the cluster now; it will look again itself.
        this.log({ msg: 'lease lost during reconcile', cluster: item.name });
        return;
      }
      const retryInMs = this.backoff.next(item.name);
      this.log({ msg: 'reconcile failed', cluster: item.name, error: (e as Error).message, retryInMs: Math.round(retryInMs) });
      await this.requeue({ name: item.name }, retryInMs);
    } finally {
      await held.release().catch(() => {});
    }
  }

  private async reconcileOne(item: WorkItem, clusterId: string, writer: StatusWriter, fence: number, signal: AbortSignal): Promise<void> {
    const got = await this.objects.get(desiredKey(item.name));
    if (!got) return;
    if (idOf(got.body, item.name) !== clusterId) {
      // The name now belongs to a new cluster, which holds another lease: look again at once.
      await this.requeue({ name: item.name }, 0);
      return;
    }
    const statusDoc = parseStatusDoc((await this.objects.get(statusKey(item.name)))?.body);
    if (item.requeueId && statusDoc?.requeueId !== item.requeueId) return; // superseded chain
    let desired;
    try {
      desired = parseDesired(got.body, desiredKey(item.name));
    } catch (e) {
      if (!isGomanError(e, 'VALIDATION_FAILED')) throw e;
      await writer.invalid(item.name, clusterId, e.message, e.errors ?? []);
      this.log({ msg: 'invalid desired state; no cloud change', cluster: item.name });
      return;
    }
    // A hand-edited object skipped admission: what the provider could never build fails for good
    // here, before any cloud change (a cluster being deleted is still torn down).
    const problems = desired.deletionTimestamp ? [] : admissionProblems(desired.name, desired.spec);
    if (problems.length > 0) {
      const refused = new TerminalError('InvalidSpec', problems.map((p) => `${p.path} ${p.message}`).join('; '));
      await writer.report(desired, this.opts.reconciler.name, terminalReport(desired.generation, refused));
      this.log({ msg: 'desired state refused at admission; no cloud change', cluster: item.name });
      return;
    }
    const cluster = composeCluster(desired, got.etag, statusDoc);
    let finalized = false;
    const ctx: ReconcileContext = {
      fence,
      signal,
      report: (r) => writer.report(desired, this.opts.reconciler.name, r),
      releaseFinalizer: async () => {
        await writer.update(desired.name, desired.id, () => null); // fence check
        const now = await this.objects.get(desiredKey(desired.name));
        const doc = now ? parseDesired(now.body, desiredKey(desired.name)) : null;
        if (doc && doc.id === desired.id && doc.deletionTimestamp) {
          await this.objects.delete(desiredKey(desired.name));
          await this.objects.delete(statusKey(desired.name));
          await this.objects.delete(idKey(desired.id));
        }
        finalized = true;
      },
    };
    let result;
    try {
      result = await this.opts.reconciler.reconcile(cluster, ctx);
    } catch (e) {
      if (!(e instanceof TerminalError) || signal.aborted) throw e;
      // Retrying cannot help: say so once, and wait for the desired state to change.
      this.log({ msg: 'reconcile failed for good; not retrying', cluster: item.name, code: e.code, error: e.message });
      await writer.report(desired, this.opts.reconciler.name, terminalReport(desired.generation, e));
      return;
    }
    this.log({ msg: 'reconciled', cluster: item.name, generation: desired.generation, requeueAfterMs: result.requeueAfterMs });
    if (finalized || result.requeueAfterMs === undefined) return;
    const requeueId = randomUUID();
    await writer.setRequeueId(desired.name, desired.id, requeueId);
    await this.requeue({ name: desired.name, requeueId }, result.requeueAfterMs);
  }

  private async requeue(item: WorkItem, delayMs: number): Promise<void> {
    await this.opts.clients.sqs().send(
      new SendMessageCommand({
        QueueUrl: this.opts.queueUrl,
        MessageBody: JSON.stringify(item),
        DelaySeconds: Math.min(MAX_DELAY_S, Math.max(0, Math.ceil(delayMs / 1000))),
      }),
    );
  }

  private log(entry: Record<string, unknown>): void {
    this.opts.log?.(entry);
  }
}

export interface SqsControllerOptions extends ServerlessOptions {
  signal: AbortSignal;
  waitTimeSeconds?: number;
  maxMessages?: number;
}

/** `goman controller --source sqs`: long-poll the queue and run each message through the runner. */
export async function runSqsController(opts: SqsControllerOptions): Promise<void> {
  const runner = new ServerlessRunner(opts);
  const sqs = opts.clients.sqs();
  while (!opts.signal.aborted) {
    let messages;
    try {
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: opts.queueUrl, MaxNumberOfMessages: opts.maxMessages ?? 10, WaitTimeSeconds: opts.waitTimeSeconds ?? 20 }),
        { abortSignal: opts.signal },
      );
      messages = out.Messages ?? [];
    } catch (e) {
      if (opts.signal.aborted) return;
      opts.log?.({ msg: 'receive failed', error: (e as Error).message });
      await new Promise((r) => setTimeout(r, 1000));
      continue;
    }
    await Promise.all(
      messages.map(async (m) => {
        try {
          await runner.handleMessage(m.Body ?? '');
          await sqs.send(new DeleteMessageCommand({ QueueUrl: opts.queueUrl, ReceiptHandle: m.ReceiptHandle }));
        } catch (e) {
          // Left on the queue: visible again after its timeout, dead-lettered after maxReceiveCount.
          opts.log?.({ msg: 'message failed', error: (e as Error).message });
        }
      }),
    );
  }
}
