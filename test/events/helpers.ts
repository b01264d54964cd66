// Small helpers shared by the event and scheduler tests.
import { randomBytes, randomUUID } from 'node:crypto';
import type { ClusterEvent, EventType } from '../../src/domain/index.ts';

/** A unique lower-case token for names (consumers, streams, owners). */
export const uniq = (): string => randomBytes(4).toString('hex');

export function makeEvent(clusterId: string, generation = 1, type: EventType = 'cluster.updated'): ClusterEvent {
  return { eventId: randomUUID(), type, clusterId, name: `c-${clusterId.slice(0, 8)}`, provider: 'sim', generation, at: new Date().toISOString() };
}
