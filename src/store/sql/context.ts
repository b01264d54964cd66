// What every concern module of the SQL store shares: the kysely handle, which dialect it
// speaks (for the few places they differ), and the scheduler interval a write schedules.
import { sql, type Expression, type Kysely, type RawBuilder, type SqlBool, type Transaction } from 'kysely';
import type { LabelRequirement } from '../../domain/index.ts';
import { inSpan } from '../../util/trace.ts';
import type { Database, SqlDialect } from './schema.ts';
import type { HotStatements } from './hot-statements.ts';
import type { RegistryCache } from './registry-cache.ts';
import type { ContendedClusters } from './contended-clusters.ts';
import type { ReportQueue } from './report-batches.ts';

export interface SqlContext {
  readonly db: Kysely<Database>;
  readonly dialect: SqlDialect;
  /** next_reconcile_at = now + activeMs after a write that changes what the scheduler reads (DESIGN §5: 30 s). */
  readonly activeMs: number;
  /** The statements compiled once and, on PostgreSQL, planned once per connection (hot-statements.ts). */
  readonly hot: HotStatements;
  /** The controller registry as last read, by version (PostgreSQL reports: registry-cache.ts). */
  readonly registry: RegistryCache;
  /** Clusters whose reports take the row lock at once for a while (PostgreSQL reports: contended-clusters.ts). */
  readonly contended: ContendedClusters;
  /** Reports waiting to be read and saved together (PostgreSQL: report-batches.ts). */
  readonly reports: ReportQueue;
}

export type Tx = Transaction<Database>;
export type Executor = Kysely<Database> | Tx;

/** A transaction in a span named after the store operation, so a trace shows the store's share of a request. */
export function transaction<T>(ctx: SqlContext, operation: string, body: (trx: Tx) => Promise<T>): Promise<T> {
  return storeSpan(ctx, operation, () => ctx.db.transaction().execute(body));
}

/**
 * A write whose changes PostgreSQL takes as one statement (saveCluster), so it needs no
 * transaction there: the reads before it see committed data either way (READ COMMITTED gives
 * each statement its own snapshot), and BEGIN and COMMIT would be two round trips more. It
 * still holds one connection throughout, so the write does not queue for the pool a second time
 * after its reads (and after stamping its event's time). On SQLite the write is several
 * statements, in a transaction.
 */
export function singleStatementWrite<T>(ctx: SqlContext, operation: string, body: (db: Executor) => Promise<T>): Promise<T> {
  if (ctx.dialect !== 'postgres') return transaction(ctx, operation, body);
  return storeSpan(ctx, operation, () => ctx.db.connection().execute(body));
}

export function storeSpan<T>(ctx: SqlContext, operation: string, body: () => Promise<T>): Promise<T> {
  const attributes = { 'db.system.name': ctx.dialect === 'postgres' ? 'postgresql' : 'sqlite', 'db.operation.name': operation };
  return inSpan(`store ${operation}`, { attributes }, body);
}

/** A time parameter in a position where PostgreSQL cannot infer the type (CASE arms). */
export function timeParam(dialect: SqlDialect, value: string): RawBuilder<string> {
  return dialect === 'postgres' ? sql<string>`cast(${value} as timestamptz)` : sql<string>`${value}`;
}

/**
 * The database's clock, `ms` from now (now without `ms`). Lease expiry is judged by this one
 * clock, so processes whose own clocks disagree still agree on who holds a lease. SQLite's text
 * form matches `toISOString()`, so text order stays time order. `ms` is the one parameter, in
 * either dialect, so that a hot statement can bind it (hot-statements.ts).
 */
export function dbTime(dialect: SqlDialect, ms?: number): RawBuilder<string> {
  if (ms === undefined) return dialect === 'postgres' ? sql<string>`now()` : sql<string>`strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`;
  if (dialect === 'postgres') return sql<string>`(now() + cast(${ms} as double precision) * interval '1 millisecond')`;
  return sql<string>`strftime('%Y-%m-%dT%H:%M:%fZ', 'now', (cast(${ms} as real) / 1000) || ' seconds')`;
}

/** Label selector terms in SQL, so filters apply before LIMIT and pagination stays right. */
export function labelPredicate(dialect: SqlDialect, req: LabelRequirement): Expression<SqlBool> {
  if (dialect === 'postgres') {
    switch (req.op) {
      case '=':
        return sql<SqlBool>`clusters.labels @> jsonb_build_object(${req.key}::text, ${req.value}::text)`;
      case '!=':
        return sql<SqlBool>`not (clusters.labels @> jsonb_build_object(${req.key}::text, ${req.value}::text))`;
      case 'exists':
        return sql<SqlBool>`(clusters.labels ->> ${req.key}::text) is not null`;
      case '!exists':
        return sql<SqlBool>`(clusters.labels ->> ${req.key}::text) is null`;
    }
  }
  // json_each binds the key as a parameter: no JSON-path quoting of user text.
  switch (req.op) {
    case '=':
      return sql<SqlBool>`exists (select 1 from json_each(clusters.labels) where key = ${req.key} and value = ${req.value})`;
    case '!=':
      return sql<SqlBool>`not exists (select 1 from json_each(clusters.labels) where key = ${req.key} and value = ${req.value})`;
    case 'exists':
      return sql<SqlBool>`exists (select 1 from json_each(clusters.labels) where key = ${req.key})`;
    case '!exists':
      return sql<SqlBool>`not exists (select 1 from json_each(clusters.labels) where key = ${req.key})`;
  }
}

export function isUniqueViolation(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const err = e as { code?: unknown; errcode?: unknown; message?: unknown };
  if (err.code === '23505') return true; // PostgreSQL unique_violation
  return err.errcode === 2067 || err.errcode === 1555 || (typeof err.message === 'string' && err.message.includes('UNIQUE constraint failed'));
}
