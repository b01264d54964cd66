// What travels between the outbox and the consumers: the event as JSON, under a subject per
// event type, and the names the buses accept for consumers (the controller names).
import { z } from 'zod';
import { nameProblem, validationFailed } from '../domain/index.ts';
import { EVENT_TYPES } from '../domain/index.ts';
import type { ClusterEvent, EventType } from '../domain/index.ts';

const eventSchema = z.object({
  eventId: z.string().min(1),
  type: z.enum(EVENT_TYPES),
  clusterId: z.string().min(1),
  name: z.string(),
  provider: z.string(),
  generation: z.number().int(),
  at: z.string(),
  traceparent: z.string().max(128).optional(),
});

export function encodeEvent(event: ClusterEvent): string {
  // Only the event's own fields: an OutboxRow's seq is the store's business, not the bus's.
  const { eventId, type, clusterId, name, provider, generation, at, traceparent } = event;
  return JSON.stringify({ eventId, type, clusterId, name, provider, generation, at, traceparent });
}

/** Null for a payload that is not one of ours (it is dropped, never retried forever). */
export function decodeEvent(payload: string): ClusterEvent | null {
  try {
    const parsed = eventSchema.safeParse(JSON.parse(payload));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** `goman.cluster.created` for `cluster.created` under the default prefix. */
export function subjectFor(prefix: string, type: EventType): string {
  return `${prefix}.${type}`;
}

/** Consumer names are controller names: DNS-1123 labels, which are also valid NATS durable names. */
export function assertConsumerName(consumer: string): void {
  const problem = nameProblem(consumer);
  if (problem !== null) throw validationFailed(`consumer name "${consumer}" ${problem}`);
}
