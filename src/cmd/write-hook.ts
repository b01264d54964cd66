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
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop);
      if (typeof value !== 'function') return value;
      // Bound to the real store: its methods use private fields, which a proxy receiver lacks.
      const method = (value as (...a: unknown[]) => unknown).bind(target);
      if (!WRITES.has(prop)) return method;
      return async (...args: unknown[]) => {
        const result: unknown = await method(...args);
        onWrite();
        return result;
      };
    },
  });
}
