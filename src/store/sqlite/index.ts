// The embedded store: SQLite in the data directory, through the shared kysely layer.
import { Kysely } from 'kysely';
import type { Database } from '../sql/schema.ts';
import { NodeSqliteDatabase, NodeSqliteDialect, openSqliteFile } from './node-sqlite.ts';

export function sqliteKysely(dataDir: string): Kysely<Database> {
  return new Kysely<Database>({ dialect: new NodeSqliteDialect(new NodeSqliteDatabase(openSqliteFile(dataDir))) });
}
