// bench:scale's event-latency probe, run in a worker thread of its own: a durable JetStream
// consumer, as a controller's is, that notes when each event arrives. In the bench's main thread
// the 32 create clients and the readiness poll held its callbacks back (by up to ~60 ms at p99
// under the burst), and that wait was the load generator's, not the event pipeline's.
import { parentPort, workerData } from 'node:worker_threads';
import { createNatsBus } from '../src/events/nats-bus.ts';

export interface Arrival {
  type: string;
  name: string;
  /** The outbox row's `at` (the write), epoch ms. */
  at: number;
  arrived: number;
}

const port = parentPort;
if (port === null) throw new Error('bench/latency-probe.ts runs as a worker thread of bench/scale.ts');
const { busUrl } = workerData as { busUrl: string };
const arrivals: Arrival[] = [];
let measuring = true;
const bus = await createNatsBus({ url: busUrl, concurrency: 256 });
await bus.subscribe('bench-latency', async (e) => {
  if (measuring) arrivals.push({ type: e.type, name: e.name, at: Date.parse(e.at), arrived: Date.now() });
});
// 'count': how many have arrived. 'stop': stop counting, close the consumer's connection and
// hand the arrivals over.
port.on('message', (m: 'count' | 'stop') => {
  if (m === 'count') {
    port.postMessage(arrivals.length);
    return;
  }
  measuring = false;
  void bus.close().finally(() => port.postMessage(arrivals));
});
port.postMessage('ready');
