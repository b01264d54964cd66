// The lease port (DESIGN §6): per-cluster and singleton leases with fencing. SQL rows in the
// embedded and service topologies, DynamoDB items in the serverless one; every adapter passes
// test/lease/contract.ts.

export interface Lease {
  name: string;
  owner: string;
  /** Fencing token: strictly increases each time the lease changes hands. */
  token: number;
  /** The store's own idea of the expiry; holders never compare it with their local clock. */
  expiresAt: string;
}

export interface LeaseStore {
  /**
   * Null when someone else holds an unexpired lease. A new holder gets a higher token; the
   * current holder acquiring again keeps its token and gets a fresh expiry.
   */
  acquireLease(name: string, owner: string, ttlMs: number): Promise<Lease | null>;
  /** Null when the lease is no longer this holder's: expired, released, or taken. */
  renewLease(lease: Lease, ttlMs: number): Promise<Lease | null>;
  /** Frees the lease for anyone at once; a no-op when it is no longer this holder's. */
  releaseLease(lease: Lease): Promise<void>;
  /** True while `token` is still the current, unexpired fencing token for `name`. */
  checkFence(name: string, token: number): Promise<boolean>;
}

/** The one lease that guards reconciles of a cluster, in every topology. */
export function leaseName(clusterId: string): string {
  return `cluster/${clusterId}`;
}
