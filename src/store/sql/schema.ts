// Table shapes shared by both dialects. Values read back differ by driver (pg gives Date for
// timestamptz, parsed objects for jsonb, strings for bigint; SQLite gives text and numbers), so
// the select types are unions and src/store/sql/rows.ts normalises them. Writes always send
// ISO strings for times and JSON text for JSON columns, which both engines accept.
import type { ColumnType } from 'kysely';

export type SqlDialect = 'sqlite' | 'postgres';

type Time = ColumnType<Date | string, string, string>;
type NullableTime = ColumnType<Date | string | null, string | null, string | null>;
type Json = ColumnType<unknown, string, string>;
type BigInt8 = ColumnType<string | number | bigint, number, number>;
type Bool = ColumnType<boolean | number, boolean, boolean>;
type Seq = ColumnType<string | number | bigint, never, never>;

export interface ClustersTable {
  id: string;
  name: string;
  labels: Json;
  spec: Json;
  status: Json;
  /** Copy of status.phase in a real column, so the phase filter and the scheduler use an index. */
  phase: string;
  provider: string;
  generation: number;
  observed_generation: number;
  resource_version: BigInt8;
  created_by: string;
  created_at: Time;
  updated_at: Time;
  deletion_timestamp: NullableTime;
  finalizers: Json;
}

/** Which controllers have reported on which cluster (migration 006); the records are in `clusters.status`. */
export interface ControllerStatusesTable {
  cluster_id: string;
  controller: string;
}

export interface ControllersTable {
  name: string;
  providers: Json;
  required: Bool;
  registered_at: Time;
  last_heartbeat: Time;
}

export interface HistoryTable {
  seq: Seq;
  cluster_id: string;
  kind: string;
  message: string;
  generation: number;
  at: Time;
  data: ColumnType<unknown, string | null, string | null>;
}

export interface OutboxTable {
  seq: Seq;
  event_id: string;
  type: string;
  cluster_id: string;
  name: string;
  provider: string;
  generation: number;
  at: Time;
  sent_at: NullableTime;
  traceparent: string | null;
}

export interface LeasesTable {
  name: string;
  owner: string;
  token: BigInt8;
  expires_at: Time;
}

export interface ProviderStateTable {
  provider: string;
  cluster_id: string;
  state: Json;
  updated_at: Time;
}

export interface TokensTable {
  id: string;
  subject: string;
  role: string;
  hash: string;
  created_at: Time;
  expires_at: NullableTime;
  revoked: Bool;
}

export interface Database {
  clusters: ClustersTable;
  controller_statuses: ControllerStatusesTable;
  controllers: ControllersTable;
  history: HistoryTable;
  outbox: OutboxTable;
  leases: LeasesTable;
  provider_state: ProviderStateTable;
  tokens: TokensTable;
  reconcile_schedule: ReconcileScheduleTable;
}

/** A cluster's due time, and the copies of its row that the scheduler reads (migration 004). */
export interface ReconcileScheduleTable {
  cluster_id: string;
  next_reconcile_at: Time;
  name: string;
  provider: string;
  generation: number;
  created_at: Time;
  /** Ready or Stopped at its current generation: not in need of attention, unless young. */
  settled: Bool;
}
