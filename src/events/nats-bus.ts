// The NATS JetStream event bus of the service topology (DESIGN §1, §5). One stream holds every
// cluster event under `<prefix>.cluster.<type>`; each controller reads it through its own
// durable pull consumer (CLS Backend's "subscription per controller"), so every controller gets
// every event and replicas of one controller share the work. A publish carries the outbox
// eventId as its JetStream message id, so a relay that republishes after a crash is
// de-duplicated by the stream within its duplicate window.
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, JetStreamApiError } from '@nats-io/jetstream';
import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import { connect, nanos } from '@nats-io/transport-node';
import type { NatsConnection, Subscription as NatsSubscription } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { GomanError } from '../domain/index.ts';
import type { ClusterEvent } from '../domain/index.ts';
import type { EventBus, Subscription } from './port.ts';
import { assertConsumerName, decodeEvent, encodeEvent, subjectFor } from './wire.ts';

export interface NatsBusOptions {
  url: string;
  /** Stream name (default GOMAN). */
  stream?: string;
  /** First subject token (default goman): subjects are `<prefix>.cluster.<type>`. */
  subjectPrefix?: string;
  /** Handlers of one subscription running at once (default 16; 1 keeps stream order). */
  concurrency?: number;
  /** Delay before a rejected event is redelivered (default 1 s). */
  redeliveryDelayMs?: number;
  /** Time a consumer has to ack before the server redelivers (default 30 s; long handlers keep it alive). */
  ackWaitMs?: number;
  /** How long a publish keeps retrying (server down, reconnecting) before it fails (default 30 s). */
  publishDeadlineMs?: number;
  /** How long the stream keeps events for consumers that are away (default 1 h). */
  maxAgeMs?: number;
  /** Window in which a republished eventId is recognised as a duplicate (default 2 min). */
  duplicateWindowMs?: number;
  /** Connection name shown by the server. */
  name?: string;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
}

export type NatsBus = EventBus & { readonly stream: string };

const STREAM_NAME_TAKEN = 10058;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function unavailable(message: string, cause?: unknown): GomanError {
  const err = new GomanError('UNAVAILABLE', message);
  if (cause !== undefined) err.cause = cause;
  return err;
}

async function ensureStream(jsm: JetStreamManager, stream: string, subjects: string[], opts: { maxAgeMs: number; duplicateWindowMs: number }): Promise<void> {
  const cfg = { subjects, max_age: nanos(opts.maxAgeMs), duplicate_window: nanos(opts.duplicateWindowMs) };
  // Create, or bring an existing stream to this configuration; two replicas starting together
  // may race to create it, and the loser simply updates.
  for (let attempt = 0; ; attempt++) {
    try {
      await jsm.streams.info(stream);
      await jsm.streams.update(stream, cfg);
      return;
    } catch (err) {
      if (!(err instanceof JetStreamApiError) || attempt > 0) throw err;
    }
    try {
      await jsm.streams.add({ name: stream, ...cfg });
      return;
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === STREAM_NAME_TAKEN)) throw err;
    }
  }
}

export async function createNatsBus(opts: NatsBusOptions): Promise<NatsBus> {
  const stream = opts.stream ?? 'GOMAN';
  const prefix = opts.subjectPrefix ?? 'goman';
  const filter = `${prefix}.cluster.>`;
  const concurrency = opts.concurrency ?? 16;
  const redeliveryDelayMs = opts.redeliveryDelayMs ?? 1_000;
  const ackWaitMs = opts.ackWaitMs ?? 30_000;
  const publishDeadlineMs = opts.publishDeadlineMs ?? 30_000;
  const logger = opts.logger;
  if (!(concurrency >= 1)) throw new RangeError('concurrency must be at least 1');

  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: opts.url,
      name: opts.name ?? 'goman',
      // Keep trying for ever: a NATS restart must not end the process's bus.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
  } catch (err) {
    throw unavailable(`cannot connect to NATS at ${new URL(opts.url).host}`, err);
  }
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect') logger?.warn({ nats: s.type }, `NATS ${s.type}`);
    }
  })();

  let jsm: JetStreamManager;
  let js: JetStreamClient;
  try {
    jsm = await jetstreamManager(nc);
    js = jetstream(nc);
    await ensureStream(jsm, stream, [filter], {
      maxAgeMs: opts.maxAgeMs ?? 3_600_000,
      duplicateWindowMs: opts.duplicateWindowMs ?? 120_000,
    });
  } catch (err) {
    await nc.close();
    throw unavailable('NATS JetStream is not available', err);
  }

  const live = new Set<Subscription>();
  let closed = false;

  function assertOpen(): void {
    if (closed) throw unavailable('event bus is closed');
  }

  async function ensureConsumer(consumer: string): Promise<void> {
    const update = { ack_wait: nanos(ackWaitMs), max_deliver: -1, max_ack_pending: 1_000 };
    try {
      await jsm.consumers.add(stream, {
        durable_name: consumer,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: filter,
        ...update,
      });
    } catch (err) {
      // Exists with other settings (an older version of us): adopt the current ones.
      if (!(err instanceof JetStreamApiError)) throw err;
      await jsm.consumers.update(stream, consumer, update);
    }
  }

  async function handle(msg: JsMsg, handler: (event: ClusterEvent) => Promise<void>): Promise<void> {
    const event = decodeEvent(msg.string());
    if (event === null) {
      logger?.error({ subject: msg.subject, seq: msg.seq }, 'not a cluster event; terminated');
      msg.term('not a cluster event');
      return;
    }
    // Long handlers tell the server they are still at it, so it does not redeliver meanwhile.
    const keepAlive = setInterval(() => msg.working(), Math.max(500, ackWaitMs / 2));
    try {
      await handler(event);
      msg.ack();
    } catch (err) {
      logger?.warn({ err, eventId: event.eventId }, 'event handler rejected; redelivering');
      msg.nak(redeliveryDelayMs);
    } finally {
      clearInterval(keepAlive);
    }
  }

  return {
    kind: 'nats',
    stream,

    async publish(event) {
      assertOpen();
      const subject = subjectFor(prefix, event.type);
      const payload = encodeEvent(event);
      const deadline = Date.now() + publishDeadlineMs;
      for (let attempt = 0; ; attempt++) {
        try {
          await js.publish(subject, payload, { msgID: event.eventId, timeout: Math.min(5_000, Math.max(1, deadline - Date.now())) });
          return;
        } catch (err) {
          if (closed) throw unavailable('event bus is closed', err);
          if (Date.now() + 100 >= deadline) throw unavailable('NATS did not accept the event in time', err);
          await sleep(Math.min(2_000, 100 * 2 ** attempt, Math.max(0, deadline - Date.now())));
        }
      }
    },

    async subscribe(consumer, handler) {
      assertOpen();
      assertConsumerName(consumer);
      await ensureConsumer(consumer);
      const messages: ConsumerMessages = await (await js.consumers.get(stream, consumer)).consume({ max_messages: Math.max(2, concurrency * 2) });
      let closing = false;
      const inFlight = new Set<Promise<void>>();
      const loop = (async () => {
        try {
          for await (const msg of messages) {
            // Buffered messages left once we close go back at once rather than after ack_wait.
            if (closing) {
              msg.nak();
              continue;
            }
            while (inFlight.size >= concurrency) await Promise.race(inFlight);
            const done: Promise<void> = handle(msg, handler).finally(() => inFlight.delete(done));
            inFlight.add(done);
          }
        } catch (err) {
          if (!closing) logger?.error({ err, consumer }, 'NATS consumer stopped');
        }
      })();
      const sub: Subscription = {
        close: async () => {
          if (closing) return;
          closing = true;
          live.delete(sub);
          await messages.close();
          await loop;
          await Promise.all(inFlight);
        },
      };
      live.add(sub);
      return sub;
    },

    async tap(handler) {
      assertOpen();
      // A core subscription: new messages only, nothing stored, survives reconnects.
      const coreSub: NatsSubscription = nc.subscribe(filter, {
        callback: (err, msg) => {
          if (err !== null) return;
          const event = decodeEvent(msg.string());
          if (event === null) return;
          try {
            handler(event);
          } catch (e) {
            logger?.error({ err: e }, 'event tap threw; ignored');
          }
        },
      });
      const sub: Subscription = {
        close: async () => {
          live.delete(sub);
          coreSub.unsubscribe();
        },
      };
      live.add(sub);
      // The subscription is registered with the server once this round trip completes.
      await nc.flush();
      return sub;
    },

    async ping() {
      assertOpen();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          jsm.streams.info(stream),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error('timeout')), 2_000);
          }),
        ]);
      } catch (err) {
        throw unavailable('NATS JetStream is not reachable', err);
      } finally {
        clearTimeout(timer);
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...live].map((s) => s.close()));
      await nc.close();
    },
  };
}
