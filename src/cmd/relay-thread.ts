// The outbox relay in a thread of its own, for the service topology (PostgreSQL + NATS).
// In the API's event loop each step of a round (read, publish) waited behind request handling:
// under a creation burst on 2 cores a round took 17 ms at p50 and 96 ms at p99. In a thread
// with its own event loop, its own PostgreSQL connections and its own NATS connection, the OS
// runs it as soon as a row is there, as it does any thread that mostly sleeps. The API thread
// only pokes it after a write; the thread reports leadership and lag back once a second.
//
// The thread runs goman's own entry module (src/cmd/main.ts, or the bundle of the single
// executable), which hands over to runRelayThread when it finds RELAY_THREAD (threads.ts) in
// workerData.
import { once } from 'node:events';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { openBus } from '../events/open.ts';
import { LAG_METRIC, registerLagGauge, startOutboxRelay, type OutboxRelay } from '../events/outbox-relay.ts';
import { openStore } from '../store/open.ts';
import { createLogger, type LogFormat } from './logger.ts';
import { RELAY_THREAD } from './threads.ts';
import { startTracing } from './tracing.ts';

export interface RelayThreadSettings {
  databaseUrl: string;
  busUrl: string;
  owner: string;
  pollMs: number;
  gatherMs: number;
  logLevel: string;
  logFormat: LogFormat;
}

type ToThread = { type: 'poke' } | { type: 'stop' };
type FromThread = { type: 'ready' } | { type: 'state'; leader: boolean; lagSeconds: number } | { type: 'stopped' };

const STATE_EVERY_MS = 1_000;
const STOP_DEADLINE_MS = 20_000;

/**
 * goman's entry module, and what the single executable's bundle needs to find its files in a
 * thread: there the bundle sets __gomanBundleUrl and __gomanRootUrl (scripts/build-binary.ts).
 */
function entry(): { url: URL; data: Record<string, string> } {
  const { __gomanBundleUrl: bundle, __gomanRootUrl: root } = globalThis as { __gomanBundleUrl?: unknown; __gomanRootUrl?: unknown };
  if (typeof bundle !== 'string') return { url: new URL('./main.ts', import.meta.url), data: {} };
  return { url: new URL(bundle), data: typeof root === 'string' ? { gomanRootUrl: root } : {} };
}

/**
 * Starts the relay thread and resolves once it is relaying. If the thread dies, the process
 * shuts down (SIGTERM to itself): a replica that would go on serving writes without its relay
 * is worse than one its supervisor restarts.
 */
export async function startRelayThread(settings: RelayThreadSettings, opts: { metrics: Registry; logger: Pick<Logger, 'error'> }): Promise<OutboxRelay> {
  const { url, data } = entry();
  // Set by a write, cleared by the thread when the poke arrives: a burst of writes sends one
  // message per relay round, not one per write.
  const pokePending = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(url, { workerData: { ...data, ...settings, pokePending, thread: RELAY_THREAD }, name: 'outbox-relay' });
  let state = { leader: false, lagSeconds: 0 };
  let stopping = false;
  const stopped = new Promise<void>((resolve) => {
    worker.on('message', (m: FromThread) => {
      if (m.type === 'state') state = { leader: m.leader, lagSeconds: m.lagSeconds };
      else if (m.type === 'stopped') resolve();
    });
    worker.once('exit', () => resolve());
  });
  worker.on('error', (err) => opts.logger.error({ err }, 'outbox relay thread failed'));
  const [first] = (await Promise.race([once(worker, 'message'), once(worker, 'exit').then(() => [null])])) as [FromThread | null];
  if (first?.type !== 'ready') {
    await worker.terminate();
    throw new Error('the outbox relay thread did not start (see the log above)');
  }
  // From here on a thread that ends unasked takes the process down with it (see above).
  worker.once('exit', (code) => {
    if (stopping) return;
    opts.logger.error({ code }, 'outbox relay thread exited; shutting down');
    process.kill(process.pid, 'SIGTERM');
  });
  registerLagGauge(opts.metrics, () => state.lagSeconds);
  const send = (m: ToThread): void => worker.postMessage(m);
  return {
    poke: () => {
      if (Atomics.exchange(pokePending, 0, 1) === 0) send({ type: 'poke' });
    },
    isLeader: () => state.leader,
    lagSeconds: () => state.lagSeconds,
    async stop() {
      stopping = true;
      send({ type: 'stop' });
      const deadline = setTimeout(() => void worker.terminate(), STOP_DEADLINE_MS);
      await stopped;
      clearTimeout(deadline);
      opts.metrics.removeSingleMetric(LAG_METRIC);
      await worker.terminate();
    },
  };
}

/** The thread's side: its own store, bus, tracing and logger; run by main.ts in the worker. */
export async function runRelayThread(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('runRelayThread runs in a worker thread');
  const settings = workerData as RelayThreadSettings & { pokePending: Int32Array };
  const logger = createLogger(settings.logLevel, { format: settings.logFormat });
  const tracing = await startTracing('goman');
  const store = await openStore({ databaseUrl: settings.databaseUrl, dataDir: '', poolSize: 2 });
  const bus = await openBus(settings.busUrl);
  const { owner, pollMs, gatherMs } = settings;
  const relay = startOutboxRelay({ store, bus, leases: store, owner, pollMs, gatherMs, logger });
  const post = (m: FromThread): void => port.postMessage(m);
  const timer = setInterval(() => post({ type: 'state', leader: relay.isLeader(), lagSeconds: relay.lagSeconds() }), STATE_EVERY_MS);
  port.on('message', (m: ToThread) => {
    if (m.type === 'poke') {
      // Cleared before the round's read: a write after this sends a poke of its own.
      Atomics.store(settings.pokePending, 0, 0);
      relay.poke();
      return;
    }
    clearInterval(timer);
    void (async () => {
      await relay.stop();
      await Promise.allSettled([bus.close()]);
      await store.close();
      await tracing.shutdown();
      post({ type: 'stopped' });
      port.close();
    })();
  });
  post({ type: 'ready' });
}
