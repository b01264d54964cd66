// Picks the store for a topology (DESIGN §1): PostgreSQL for a postgres:// URL, otherwise
// SQLite in the data directory. Migrations run before the store is handed out.
import type { Kysely } from 'kysely';
import { MIGRATIONS, migrate, type Migration } from './migrations/index.ts';
import type { ClusterStore } from './port.ts';
import { isPostgresUrl, postgresKysely } from './postgres/index.ts';
import type { Database, SqlDialect } from './sql/schema.ts';
import { HotStatements } from './sql/hot-statements.ts';
import { DEFAULT_ACTIVE_MS, SqlClusterStore } from './sql/store.ts';
import { sqliteKysely } from './sqlite/index.ts';

export interface OpenStoreOptions {
  databaseUrl?: string | undefined;
  dataDir: string;
  /** Scheduler interval a write schedules the next reconcile after (default 30 s). */
  activeReconcileMs?: number | undefined;
  /** PostgreSQL connections at most (default POOL_SIZE); SQLite has one. */
  poolSize?: number | undefined;
  /** Tests only: the schema steps to apply (default: all of them). */
  migrations?: readonly Migration[] | undefined;
}

export async function openStore(opts: OpenStoreOptions): Promise<ClusterStore> {
  const dialect: SqlDialect = isPostgresUrl(opts.databaseUrl) ? 'postgres' : 'sqlite';
  const hot = new HotStatements();
  const db: Kysely<Database> = isPostgresUrl(opts.databaseUrl) ? postgresKysely(opts.databaseUrl, opts.poolSize, hot) : sqliteKysely(opts.dataDir);
  try {
    await migrate(db, dialect, opts.migrations ?? MIGRATIONS);
  } catch (e) {
    await db.destroy();
    throw e;
  }
  return new SqlClusterStore(db, dialect, opts.activeReconcileMs ?? DEFAULT_ACTIVE_MS, hot);
}
