// The service store: PostgreSQL through a pg Pool, through the shared kysely layer.
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from '../sql/schema.ts';
import { postgresTypes } from './timestamps.ts';

export const POOL_SIZE = 10;

export function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && /^postgres(ql)?:\/\//.test(url);
}

export function postgresKysely(connectionString: string, poolSize = POOL_SIZE): Kysely<Database> {
  const pool = new pg.Pool({ connectionString, max: poolSize, idleTimeoutMillis: 30_000, types: postgresTypes });
  // An idle client dying (server restart) must not crash the process: the pool drops it and
  // the next query reports the outage through ping() and /readyz.
  pool.on('error', () => undefined);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
