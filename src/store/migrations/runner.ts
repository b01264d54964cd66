// A small migration runner (kysely's Migrator takes no cross-process lock on SQLite and keeps
// its own lock table; this is shorter than adapting it). Each migration runs in its own
// transaction together with the row that records it, so a failed one is never recorded; the
// runner stops at the first failure and rethrows it. Two processes starting at once serialise
// on pg_advisory_xact_lock (PostgreSQL) or BEGIN IMMEDIATE (SQLite) and the second finds the
// work done.
import { sql, type Kysely } from 'kysely';
import type { Database, SqlDialect } from '../sql/schema.ts';
import type { Migration } from './types.ts';

const TABLE = 'goman_migrations';
// Arbitrary constant naming "goman schema migrations" among advisory locks.
const PG_LOCK_KEY = 0x676f6d61;

export async function migrate(db: Kysely<Database>, dialect: SqlDialect, migrations: readonly Migration[]): Promise<number[]> {
  const applied: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    try {
      const ran = await db.transaction().execute(async (trx) => {
        if (dialect === 'postgres') await sql`SELECT pg_advisory_xact_lock(${PG_LOCK_KEY})`.execute(trx);
        await sql
          .raw(`CREATE TABLE IF NOT EXISTS ${TABLE} (version integer PRIMARY KEY, name text NOT NULL, applied_at text NOT NULL)`)
          .execute(trx);
        const found = await sql`SELECT version FROM ${sql.table(TABLE)} WHERE version = ${m.version}`.execute(trx);
        if (found.rows.length > 0) return false;
        for (const statement of m.statements[dialect]) await sql.raw(statement).execute(trx);
        await sql`INSERT INTO ${sql.table(TABLE)} (version, name, applied_at) VALUES (${m.version}, ${m.name}, ${new Date().toISOString()})`.execute(
          trx,
        );
        return true;
      });
      if (ran) applied.push(m.version);
    } catch (e) {
      throw new Error(`store migration ${m.version} (${m.name}) failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
  return applied;
}

export async function appliedVersions(db: Kysely<Database>): Promise<number[]> {
  const rows = await sql<{ version: number }>`SELECT version FROM ${sql.table(TABLE)} ORDER BY version`.execute(db);
  return rows.rows.map((r) => Number(r.version));
}
