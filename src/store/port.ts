// The cluster store port (DESIGN §1, §3, §5). Every adapter (SQLite, PostgreSQL) passes the
// one contract suite in test/store/contract.ts. Each mutating method is one transaction that
// also recomputes the aggregated status and appends to the outbox and the event history.
import type {
  Cluster,
  ClusterSpec,
  ControllerRegistration,
  ControllerRegistrationInput,
  ControllerReport,
  Labels,
  Phase,
} from '../domain/index.ts';

export const EVENT_TYPES = [
  'cluster.created',
  'cluster.updated',
  'cluster.deleting',
  'cluster.deleted',
  'cluster.status',
  'cluster.reconcile',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** What the outbox carries: "look at cluster X" (controllers are level-triggered). */
export interface ClusterEvent {
  eventId: string;
  type: EventType;
  clusterId: string;
  name: string;
  provider: string;
  generation: number;
  at: string;
}

export interface OutboxRow extends ClusterEvent {
  /** Monotonic position in the outbox; the relay publishes in this order. */
  seq: number;
}

/** A human-readable history entry (`GET /clusters/{id}/events`). */
export interface HistoryEntry {
  id: string;
  clusterId: string;
  kind: 'created' | 'spec' | 'labels' | 'phase' | 'error' | 'deleting' | 'finalizer';
  message: string;
  generation: number;
  at: string;
  data?: Record<string, unknown>;
}

/** `a=b`, `a!=b`, `a` (exists), `!a` (absent). Parsed by the API; stores only evaluate it. */
export type LabelRequirement =
  | { key: string; op: '='; value: string }
  | { key: string; op: '!='; value: string }
  | { key: string; op: 'exists' }
  | { key: string; op: '!exists' };

export interface ListQuery {
  limit: number;
  /** Opaque to callers; adapters encode the position (validated: a bad cursor is VALIDATION_FAILED). */
  cursor?: string | undefined;
  phase?: Phase | undefined;
  provider?: string | undefined;
  labelSelector?: LabelRequirement[] | undefined;
  /** Restrict to clusters created by this subject (role `user`). */
  owner?: string | undefined;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface CreateClusterInput {
  name: string;
  labels: Labels;
  spec: ClusterSpec;
  createdBy: string;
}

export interface UpdateClusterInput {
  spec?: ClusterSpec | undefined;
  labels?: Labels | undefined;
  /** resourceVersion the caller read; mismatch → PRECONDITION_FAILED. */
  ifMatch?: string | undefined;
}

export type ReportResult = { cluster: Cluster; ignored?: 'stale' };

export type TokenRole = 'user' | 'controller' | 'admin';

export interface TokenRecord {
  id: string;
  subject: string;
  role: TokenRole;
  createdAt: string;
  expiresAt: string | null;
}

export interface Lease {
  name: string;
  owner: string;
  /** Fencing token: strictly increases each time the lease changes hands. */
  token: number;
  expiresAt: string;
}

/** Leases with fencing: SQL rows here, DynamoDB items in the serverless mode. */
export interface LeaseStore {
  /** Null when someone else holds an unexpired lease. A new holder gets a higher token. */
  acquireLease(name: string, owner: string, ttlMs: number): Promise<Lease | null>;
  /** Null when the lease was lost (expired and taken, or released). */
  renewLease(lease: Lease, ttlMs: number): Promise<Lease | null>;
  releaseLease(lease: Lease): Promise<void>;
  /** True while `token` is still the current holder's fencing token for `name`. */
  checkFence(name: string, token: number): Promise<boolean>;
}

/** Opaque per-cluster state a provider keeps (the sim provider's instances). */
export interface ProviderStateStore {
  getProviderState(provider: string, clusterId: string): Promise<unknown>;
  /** With a lease token, the write is refused (CONFLICT) unless that token still holds the lease `cluster/<id>`. */
  putProviderState(provider: string, clusterId: string, state: unknown, fence?: number): Promise<void>;
  deleteProviderState(provider: string, clusterId: string): Promise<void>;
}

export interface ClusterStore extends LeaseStore, ProviderStateStore {
  readonly kind: 'sqlite' | 'postgres';

  // clusters
  createCluster(input: CreateClusterInput): Promise<Cluster>; // NAME_TAKEN
  getCluster(idOrName: string, owner?: string): Promise<Cluster | null>;
  listClusters(query: ListQuery): Promise<Page<Cluster>>;
  /** NOT_FOUND, PRECONDITION_FAILED; CONFLICT when the cluster is being deleted. Generation moves only if the spec changed. */
  updateCluster(id: string, input: UpdateClusterInput): Promise<Cluster>;
  /** Sets deletionTimestamp (idempotent); the row goes once finalizers are empty. Returns null if it is already gone. */
  deleteCluster(id: string, ifMatch?: string): Promise<Cluster | null>;

  // controllers
  /** Future generation → CONFLICT; stale → { ignored: 'stale' }; the first report adds the controller's finalizer. */
  reportStatus(clusterId: string, controller: string, report: ControllerReport): Promise<ReportResult>;
  /** Returns the cluster, or null when this release removed the row (or it was already gone). */
  removeFinalizer(clusterId: string, controller: string): Promise<Cluster | null>;
  registerController(name: string, input: ControllerRegistrationInput): Promise<ControllerRegistration>;
  listControllers(): Promise<ControllerRegistration[]>;

  // history
  listHistory(clusterId: string, limit: number, cursor?: string): Promise<Page<HistoryEntry>>;

  // outbox. A cluster's resourceVersion is the seq of the outbox row its last write appended,
  // so `GET /watch?resourceVersion=N` resumes with readOutboxSince(N).
  /** Unsent rows in seq order (the relay, one active instance, is the only reader). */
  readUnsentOutbox(limit: number): Promise<OutboxRow[]>;
  markOutboxSent(seqs: readonly number[]): Promise<void>;
  /** Rows after seq, sent or not, while still retained (watch resume). */
  readOutboxSince(afterSeq: number, limit: number): Promise<OutboxRow[]>;
  /** Lowest seq still retained (a resume point below it is too old: 410). */
  oldestRetainedSeq(): Promise<number>;
  /** Drop sent rows older than this. */
  pruneOutbox(sentBefore: Date): Promise<number>;
  /** Append a `cluster.reconcile` row for each id (the scheduler's output). */
  enqueueReconcile(clusterIds: readonly string[]): Promise<number>;
  /** For the goman_clusters{phase,provider} gauge. */
  countClusters(): Promise<{ phase: Phase; provider: string; count: number }[]>;

  // scheduler: claim due clusters by their due-time index, pushing them forward.
  claimDueClusters(now: Date, limit: number, intervals: { activeMs: number; stableMs: number }): Promise<string[]>;


  // tokens (hash only; the plaintext is never given to the store)
  createToken(rec: TokenRecord & { hash: string }): Promise<TokenRecord>;
  findTokenByHash(hash: string): Promise<TokenRecord | null>;
  listTokens(): Promise<TokenRecord[]>;
  revokeToken(id: string): Promise<boolean>;
  countTokens(): Promise<number>;

  ping(): Promise<void>;
  close(): Promise<void>;
}
