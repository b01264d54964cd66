// Names of goman's worker threads. A thread runs goman's own entry module (main.ts, or the
// bundle of the single executable) with its name in workerData; kept apart from the threads'
// code so the entry module can tell without loading it.
export const RELAY_THREAD = 'goman-outbox-relay';

export function isRelayThread(data: unknown): boolean {
  return typeof data === 'object' && data !== null && (data as { thread?: unknown }).thread === RELAY_THREAD;
}
