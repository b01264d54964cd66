// Small helpers shared by the event and scheduler tests.
import { randomBytes, randomUUID } from 'node:crypto';
import type { ClusterEvent, EventType } from '../../src/domain/index.ts';

/** Polls `check` until it returns true, failing with `what` after timeoutMs. */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A unique lower-case token for names (consumers, streams, owners). */
export const uniq = (): string => randomBytes(4).toString('hex');

export function makeEvent(clusterId: string, generation = 1, type: EventType = 'cluster.updated'): ClusterEvent {
  return { eventId: randomUUID(), type, clusterId, name: `c-${clusterId.slice(0, 8)}`, provider: 'sim', generation, at: new Date().toISOString() };
}
