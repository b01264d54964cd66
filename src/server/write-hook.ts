// Wakes the outbox relay right after a write commits in this process, so an event reaches the
// controllers in milliseconds instead of at the next poll. Writes from other replicas are
// still picked up by polling.
import type { ClusterStore } from '../store/port.ts';

const WRITES = new Set<string | symbol>([
  'createCluster',
  'updateCluster',
  'deleteCluster',
  'reportStatus',
  'removeFinalizer',
  'enqueueReconcile',
]);

export function afterWrites(store: ClusterStore, onWrite: () => void): ClusterStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || !WRITES.has(prop)) return value;
      return async (...args: unknown[]) => {
        const result: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        onWrite();
        return result;
      };
    },
  });
}
