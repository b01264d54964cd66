// What the CLI and TUI need from "where clusters live": a goman server (HTTP API) or, in the
// serverless mode, an S3 bucket. Contexts pick the implementation; commands never know which.
import type { Cluster, ClusterSpecInput, Labels } from '../domain/index.ts';
import type { HistoryEntry, Page, Snapshot } from '../domain/index.ts';

/** The port's data: what both adapters take and give, in the API's own shapes. */
export interface ListClustersParams {
  limit?: number;
  cursor?: string;
  phase?: string;
  provider?: string;
  labelSelector?: string;
}

export interface CreateClusterBody {
  name: string;
  labels?: Labels;
  spec?: ClusterSpecInput;
}

export interface Versioned<T> {
  value: T;
  etag: string | undefined;
}

export interface ClusterPatch {
  spec?: Partial<ClusterSpecInput>;
  labels?: Record<string, string | null>;
}

export type WatchEvent =
  | { type: 'upsert'; cluster: Cluster }
  | { type: 'deleted'; id: string; name: string }
  /** The stream (re)connected; consumers may re-list. */
  | { type: 'connected' }
  | { type: 'disconnected'; reason: string };

export type RolloutAction = 'pause' | 'resume' | 'undo';

export interface ClusterBackend {
  readonly kind: 'server' | 's3';
  /** Where it points, for messages ("http://127.0.0.1:8080", "s3://goman-123456789012"). */
  readonly target: string;
  create(body: CreateClusterBody): Promise<Cluster>;
  list(params?: ListClustersParams): Promise<Page<Cluster>>;
  /** NOT_FOUND GomanError when absent. */
  get(idOrName: string): Promise<Versioned<Cluster>>;
  patch(idOrName: string, patch: ClusterPatch, ifMatch?: string): Promise<Cluster>;
  replace(idOrName: string, body: { spec: ClusterSpecInput; labels?: Labels }, ifMatch?: string): Promise<Cluster>;
  delete(idOrName: string): Promise<Cluster | null>;
  events(idOrName: string, params?: { limit?: number; cursor?: string }): Promise<Page<HistoryEntry>>;
  /** Day 2 (DESIGN §14): an on-demand etcd snapshot; `snapshot` is the id it will have once taken. */
  backup(idOrName: string): Promise<{ snapshot: string; cluster: Cluster }>;
  /** The cluster's snapshots, newest first. */
  backups(idOrName: string): Promise<Snapshot[]>;
  /** Restore a snapshot at its K3s version; CONFLICT while a rollout runs. */
  restore(idOrName: string, snapshot: string): Promise<Cluster>;
  rollout(idOrName: string, action: RolloutAction): Promise<Cluster>;
  /** Live changes until the signal aborts; reconnects by itself and says so with connected/disconnected. */
  watch(signal: AbortSignal): AsyncIterable<WatchEvent>;
}
