// Wakes the outbox relay right after a write commits in this process, so an event reaches the
// controllers in milliseconds instead of at the next poll. Writes from other replicas are
// still picked up by polling.
import type { ClusterStore } from '../store/port.ts';

type Method = Exclude<keyof ClusterStore, 'kind'>;

/**
 * Every store method, and whether it appends to the outbox. The table must name each method of
 * the port: one added to the store fails the type check here until someone decides, so a new
 * write cannot silently skip the wake-up.
 */
const APPENDS_TO_OUTBOX = {
  createCluster: true,
  updateCluster: true,
  deleteCluster: true,
  reportStatus: true,
  removeFinalizer: true,
  enqueueReconcile: true,
  deregisterController: true,
  expireControllers: true,
  getCluster: false,
  listClusters: false,
  listHistory: false,
  countClusters: false,
  registerController: false,
  listControllers: false,
  readUnsentOutbox: false,
  markOutboxSent: false,
  readOutboxSince: false,
  oldestRetainedSeq: false,
  pruneOutbox: false,
  claimDueClusters: false,
  createToken: false,
  findTokenByHash: false,
  listTokens: false,
  revokeToken: false,
  countTokens: false,
  getProviderState: false,
  putProviderState: false,
  deleteProviderState: false,
  acquireLease: false,
  renewLease: false,
  releaseLease: false,
  checkFence: false,
  ping: false,
  close: false,
} as const satisfies Record<Method, boolean>;

type AnyMethod = (...args: unknown[]) => Promise<unknown>;

export function afterWrites(store: ClusterStore, onWrite: () => void): ClusterStore {
  const methods: Partial<Record<Method, AnyMethod>> = {};
  for (const name of Object.keys(APPENDS_TO_OUTBOX) as Method[]) {
    // Bound to the real store: its methods use private fields, which another receiver lacks.
    const method = (store[name] as AnyMethod).bind(store);
    methods[name] = APPENDS_TO_OUTBOX[name]
      ? async (...args) => {
          const result = await method(...args);
          onWrite();
          return result;
        }
      : method;
  }
  return { ...(methods as Record<Method, AnyMethod>), kind: store.kind } as ClusterStore;
}
