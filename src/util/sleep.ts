import { setTimeout as delay } from 'node:timers/promises';

/** Waits ms, or less when the signal aborts first; never throws (loops check the signal next). */
export async function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  await delay(ms, undefined, { signal }).catch(() => undefined);
}
