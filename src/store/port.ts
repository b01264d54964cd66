// The store's role interfaces (DESIGN §1, §3, §5). Each caller depends on the roles it uses;
// the SQL store (SQLite, PostgreSQL) implements them all and passes test/store/contract.ts.
// Each mutating method is one transaction that also recomputes the aggregated status and
// appends to the outbox and the event history.
import type {
  Cluster,
  ClusterEvent,
  ClusterSpec,
  ControllerRegistration,
  ControllerRegistrationInput,
  ControllerReport,
  HistoryEntry,
  LabelRequirement,
  Labels,
  Page,
  Phase,
  TokenRecord,
} from '../domain/index.ts';
import type { LeaseStore } from '../lease/port.ts';

export interface OutboxRow extends ClusterEvent {
  /** Monotonic position in the outbox; the relay publishes in this order. */
  seq: number;
}

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

/** Clusters as users see them: the API's reads and writes, their history, the phase gauge. */
export interface ClusterRecords {
  createCluster(input: CreateClusterInput): Promise<Cluster>; // NAME_TAKEN
  getCluster(idOrName: string, owner?: string): Promise<Cluster | null>;
  listClusters(query: ListQuery): Promise<Page<Cluster>>;
  /** NOT_FOUND, PRECONDITION_FAILED; CONFLICT when the cluster is being deleted. Generation moves only if the spec changed. */
  updateCluster(id: string, input: UpdateClusterInput): Promise<Cluster>;
  /** Sets deletionTimestamp (idempotent); the row goes once finalizers are empty. Returns null if it is already gone. */
  deleteCluster(id: string, ifMatch?: string): Promise<Cluster | null>;
  listHistory(clusterId: string, limit: number, cursor?: string): Promise<Page<HistoryEntry>>;
  /** For the goman_clusters{phase,provider} gauge. */
  countClusters(): Promise<{ phase: Phase; provider: string; count: number }[]>;
}

export interface ReportOptions {
  registeredSince?: Date;
}

/** What controllers write: status reports, finalizers, and the controller registry. */
export interface ReportStore {
  /**
   * Future generation → CONFLICT; stale → { ignored: 'stale' }; the first report adds the
   * controller's finalizer. With `registeredSince`, a controller not registered or silent since
   * then is refused (CONFLICT naming `controller`), checked in the report's own transaction.
   */
  reportStatus(clusterId: string, controller: string, report: ControllerReport, opts?: ReportOptions): Promise<ReportResult>;
  /** Returns the cluster, or null when this release removed the row (or it was already gone). */
  removeFinalizer(clusterId: string, controller: string): Promise<Cluster | null>;
  registerController(name: string, input: ControllerRegistrationInput): Promise<ControllerRegistration>;
  listControllers(): Promise<ControllerRegistration[]>;
  /**
   * Forget a controller: its registration, its reports and its finalizers go (a deleting cluster
   * it alone held goes with them). False when it was neither registered nor holding anything.
   */
  deregisterController(name: string): Promise<boolean>;
  /** Deregister every controller whose last heartbeat is older than `heartbeatBefore`; their names. */
  expireControllers(heartbeatBefore: Date): Promise<string[]>;
}

/** The outbox as the relay (one active instance, the only reader of unsent rows) sees it. */
export interface OutboxStore {
  /** Unsent rows in seq order, leaving out `excluding` (rows the relay has in flight: being published or marked). */
  readUnsentOutbox(limit: number, excluding?: readonly number[]): Promise<OutboxRow[]>;
  markOutboxSent(seqs: readonly number[]): Promise<void>;
  /** Drop sent rows older than this. */
  pruneOutbox(sentBefore: Date): Promise<number>;
}

/**
 * The outbox as a watch stream reads it. A cluster's resourceVersion is the seq of the outbox
 * row its last write appended, so `GET /watch?resourceVersion=N` resumes with readOutboxSince(N).
 */
export interface OutboxFeed {
  /** Rows after seq, sent or not, while still retained. */
  readOutboxSince(afterSeq: number, limit: number): Promise<OutboxRow[]>;
  /** Lowest seq still retained (a resume point below it is too old: 410). */
  oldestRetainedSeq(): Promise<number>;
}

/** The scheduler's side: claim due clusters by their due-time index and ask for reconciles. */
export interface ScheduleStore {
  claimDueClusters(now: Date, limit: number, intervals: { activeMs: number; stableMs: number }): Promise<string[]>;
  /** Append a `cluster.reconcile` outbox row for each id. */
  enqueueReconcile(clusterIds: readonly string[]): Promise<number>;
}

/** API tokens, by hash only: the plaintext is never given to the store. */
export interface TokenStore {
  createToken(rec: TokenRecord & { hash: string }): Promise<TokenRecord>;
  findTokenByHash(hash: string): Promise<TokenRecord | null>;
  listTokens(): Promise<TokenRecord[]>;
  revokeToken(id: string): Promise<boolean>;
  countTokens(): Promise<number>;
}

/** Opaque per-cluster state a provider keeps (the sim provider's instances). */
export interface ProviderStateStore {
  getProviderState(provider: string, clusterId: string): Promise<unknown>;
  /** With a fence, the write is refused (CONFLICT) unless it is still the token of lease `leaseName(clusterId)`. */
  putProviderState(provider: string, clusterId: string, state: unknown, fence?: number): Promise<void>;
  deleteProviderState(provider: string, clusterId: string): Promise<void>;
}

/** Which engine, whether it answers (readiness), and shutdown. */
export interface StoreLifecycle {
  readonly kind: 'sqlite' | 'postgres';
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The whole store, as the composition root opens it and hands out its roles. */
export interface ClusterStore extends ClusterRecords, ReportStore, OutboxStore, OutboxFeed, ScheduleStore, TokenStore, ProviderStateStore, LeaseStore, StoreLifecycle {}
