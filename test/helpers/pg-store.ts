// PostgreSQL stores for the store's own tests: a fresh database with goman's schema, and a store
// that records every statement it sends.
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { openStore } from '../../src/store/open.ts';
import type { Database } from '../../src/store/sql/schema.ts';
import { SqlClusterStore } from '../../src/store/sql/store.ts';
import { freshPgDatabase } from './peers.ts';

/** A fresh database with goman's schema. */
export async function migratedDatabase() {
  const db = await freshPgDatabase();
  const migrated = await openStore({ databaseUrl: db.url, dataDir: '/nonexistent' });
  await migrated.close();
  return db;
}

/**
 * A store on a fresh, migrated database that records each statement it sends: its first word
 * (`statements`) and its whole text (`texts`).
 */
export async function recordingStore() {
  const db = await migratedDatabase();
  const statements: string[] = [];
  const texts: string[] = [];
  const kysely = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: db.url, max: 2 }) }),
    log: (event) => {
      statements.push(event.query.sql.trim().split(/\s+/)[0]!.toLowerCase());
      texts.push(event.query.sql);
    },
  });
  return { db, store: new SqlClusterStore(kysely, 'postgres'), statements, texts };
}


/**
 * How many sessions of the client's database wait for a lock. The client may be inside a
 * transaction, where PostgreSQL would keep showing the activity as it first read it.
 */
export async function lockWaiters(client: pg.Client): Promise<number> {
  await client.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
  return Number(rows[0]?.n);
}
