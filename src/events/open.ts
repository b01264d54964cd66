// Picks the event bus for the topology (DESIGN §1): GOMAN_BUS_URL=nats://… is the service
// topology's JetStream; no URL is the embedded in-process bus.
import { validationFailed } from '../domain/index.ts';
import { createMemoryBus } from './memory-bus.ts';
import type { MemoryBusOptions } from './memory-bus.ts';
import { createNatsBus } from './nats-bus.ts';
import type { NatsBusOptions } from './nats-bus.ts';
import type { EventBus } from './port.ts';

export type OpenBusOptions = MemoryBusOptions & Omit<NatsBusOptions, 'url'>;

export async function openBus(url?: string, opts: OpenBusOptions = {}): Promise<EventBus> {
  if (url === undefined || url === '' || url === 'memory:' || url === 'memory://') return createMemoryBus(opts);
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw validationFailed('bus URL is not a URL (expected nats://host:port)');
  }
  if (protocol === 'nats:' || protocol === 'tls:') return createNatsBus({ ...opts, url });
  throw validationFailed(`bus URL scheme "${protocol}" is not supported (expected nats://)`);
}
