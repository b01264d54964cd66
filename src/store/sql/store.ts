// ClusterStore over kysely: one implementation for SQLite and PostgreSQL. Each concern lives
// in its own module; this class only binds them to one SqlContext.
import { sql, type Kysely } from 'kysely';
import type { Cluster, ControllerRegistration, ControllerRegistrationInput, ControllerReport, Phase } from '../../domain/index.ts';
import type { HistoryEntry, Page, TokenRecord } from '../../domain/index.ts';
import type { Lease } from '../../lease/port.ts';
import type { ClusterStore, CreateClusterInput, ListQuery, OutboxRow, ReportOptions, ReportResult, UpdateClusterInput } from '../port.ts';
import * as clusters from './clusters.ts';
import type { SqlContext } from './context.ts';
import * as history from './history.ts';
import * as leases from './leases.ts';
import * as outbox from './outbox.ts';
import * as providerState from './provider-state.ts';
import * as reports from './reports.ts';
import type { Database, SqlDialect } from './schema.ts';
import * as scheduler from './scheduler.ts';
import { HotStatements } from './hot-statements.ts';
import { RegistryCache } from './registry-cache.ts';
import { ContendedClusters } from './contended-clusters.ts';
import { ReportBatches } from './report-batches.ts';
import * as tokens from './tokens.ts';

export const DEFAULT_ACTIVE_MS = 30_000;

export class SqlClusterStore implements ClusterStore {
  readonly kind: SqlDialect;
  readonly #ctx: SqlContext;

  /** `hot`: the same object the PostgreSQL pool under `db` names statements by (postgresKysely). */
  constructor(db: Kysely<Database>, dialect: SqlDialect, activeMs = DEFAULT_ACTIVE_MS, hot = new HotStatements()) {
    this.kind = dialect;
    const ctx: SqlContext = {
      db,
      dialect,
      activeMs,
      hot,
      registry: new RegistryCache(),
      contended: new ContendedClusters(),
      reports: new ReportBatches((batch) => reports.reportBatch(ctx, batch)),
    };
    this.#ctx = ctx;
  }

  createCluster(input: CreateClusterInput): Promise<Cluster> {
    return clusters.createCluster(this.#ctx, input);
  }
  getCluster(idOrName: string, owner?: string): Promise<Cluster | null> {
    return clusters.getCluster(this.#ctx, idOrName, owner);
  }
  listClusters(query: ListQuery): Promise<Page<Cluster>> {
    return clusters.listClusters(this.#ctx, query);
  }
  updateCluster(id: string, input: UpdateClusterInput): Promise<Cluster> {
    return clusters.updateCluster(this.#ctx, id, input);
  }
  deleteCluster(id: string, ifMatch?: string): Promise<Cluster | null> {
    return clusters.deleteCluster(this.#ctx, id, ifMatch);
  }

  reportStatus(clusterId: string, controller: string, report: ControllerReport, opts?: ReportOptions): Promise<ReportResult> {
    return reports.reportStatus(this.#ctx, clusterId, controller, report, opts);
  }
  removeFinalizer(clusterId: string, controller: string): Promise<Cluster | null> {
    return reports.removeFinalizer(this.#ctx, clusterId, controller);
  }
  registerController(name: string, input: ControllerRegistrationInput): Promise<ControllerRegistration> {
    return reports.registerController(this.#ctx, name, input);
  }
  listControllers(): Promise<ControllerRegistration[]> {
    return reports.listControllers(this.#ctx);
  }
  deregisterController(name: string): Promise<boolean> {
    return reports.deregisterController(this.#ctx, name);
  }
  expireControllers(heartbeatBefore: Date): Promise<string[]> {
    return reports.expireControllers(this.#ctx, heartbeatBefore);
  }

  listHistory(clusterId: string, limit: number, cursor?: string): Promise<Page<HistoryEntry>> {
    return history.listHistory(this.#ctx, clusterId, limit, cursor);
  }

  readUnsentOutbox(limit: number, excluding?: readonly number[]): Promise<OutboxRow[]> {
    return outbox.readUnsentOutbox(this.#ctx, limit, excluding);
  }
  markOutboxSent(seqs: readonly number[]): Promise<void> {
    return outbox.markOutboxSent(this.#ctx, seqs);
  }
  readOutboxSince(afterSeq: number, limit: number): Promise<OutboxRow[]> {
    return outbox.readOutboxSince(this.#ctx, afterSeq, limit);
  }
  oldestRetainedSeq(): Promise<number> {
    return outbox.oldestRetainedSeq(this.#ctx);
  }
  pruneOutbox(sentBefore: Date): Promise<number> {
    return outbox.pruneOutbox(this.#ctx, sentBefore);
  }
  enqueueReconcile(clusterIds: readonly string[]): Promise<number> {
    return outbox.enqueueReconcile(this.#ctx, clusterIds);
  }
  countClusters(): Promise<{ phase: Phase; provider: string; count: number }[]> {
    return outbox.countClusters(this.#ctx);
  }

  claimDueClusters(now: Date, limit: number, intervals: { activeMs: number; stableMs: number }): Promise<string[]> {
    return scheduler.claimDueClusters(this.#ctx, now, limit, intervals);
  }

  acquireLease(name: string, owner: string, ttlMs: number): Promise<Lease | null> {
    return leases.acquireLease(this.#ctx, name, owner, ttlMs);
  }
  renewLease(lease: Lease, ttlMs: number): Promise<Lease | null> {
    return leases.renewLease(this.#ctx, lease, ttlMs);
  }
  releaseLease(lease: Lease): Promise<void> {
    return leases.releaseLease(this.#ctx, lease);
  }
  checkFence(name: string, token: number): Promise<boolean> {
    return leases.checkFence(this.#ctx, name, token);
  }

  getProviderState(provider: string, clusterId: string): Promise<unknown> {
    return providerState.getProviderState(this.#ctx, provider, clusterId);
  }
  putProviderState(provider: string, clusterId: string, state: unknown, fence?: number): Promise<void> {
    return providerState.putProviderState(this.#ctx, provider, clusterId, state, fence);
  }
  deleteProviderState(provider: string, clusterId: string): Promise<void> {
    return providerState.deleteProviderState(this.#ctx, provider, clusterId);
  }

  createToken(rec: TokenRecord & { hash: string }): Promise<TokenRecord> {
    return tokens.createToken(this.#ctx, rec);
  }
  findTokenByHash(hash: string): Promise<TokenRecord | null> {
    return tokens.findTokenByHash(this.#ctx, hash);
  }
  listTokens(): Promise<TokenRecord[]> {
    return tokens.listTokens(this.#ctx);
  }
  revokeToken(id: string): Promise<boolean> {
    return tokens.revokeToken(this.#ctx, id);
  }
  countTokens(): Promise<number> {
    return tokens.countTokens(this.#ctx);
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.#ctx.db);
  }
  async close(): Promise<void> {
    await this.#ctx.db.destroy();
  }
}
