// The service store: PostgreSQL through a pg Pool, through the shared kysely layer.
import { Kysely, PostgresDialect, type PostgresCursor, type PostgresPool, type PostgresPoolClient, type PostgresQueryResult } from 'kysely';
import pg from 'pg';
import type { Database } from '../sql/schema.ts';
import type { HotStatements } from '../sql/hot-statements.ts';
import { postgresTypes } from './timestamps.ts';

export const POOL_SIZE = 10;

export function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && /^postgres(ql)?:\/\//.test(url);
}

/** `hot`: whose statements are sent under a name, so each connection plans them once (hot-statements.ts). */
export function postgresKysely(connectionString: string, poolSize = POOL_SIZE, hot?: HotStatements): Kysely<Database> {
  const pool = new pg.Pool({ connectionString, max: poolSize, idleTimeoutMillis: 30_000, types: postgresTypes });
  // An idle client dying (server restart) must not crash the process: the pool drops it and
  // the next query reports the outage through ping() and /readyz.
  pool.on('error', () => undefined);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: hot === undefined ? pool : naming(pool, hot) }) });
}

/**
 * The pool as kysely sees it, its clients sending each marked text under its name. Each pg
 * client keeps one wrapper: kysely keeps its connection object per client it is handed (a
 * WeakMap), so a new wrapper per checkout would cost a new connection object and a new WeakMap
 * entry on every query.
 */
function naming(pool: pg.Pool, hot: HotStatements): PostgresPool {
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  return {
    connect: async () => {
      const client = await pool.connect();
      let wrapper = wrappers.get(client);
      if (wrapper === undefined) {
        wrapper = namingClient(client, hot);
        wrappers.set(client, wrapper);
      }
      return wrapper;
    },
    end: () => pool.end(),
  };
}

function namingClient(client: pg.PoolClient, hot: HotStatements): PostgresPoolClient {
  function query<R>(text: string, values: readonly unknown[]): Promise<PostgresQueryResult<R>>;
  function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  function query(statement: string | PostgresCursor<unknown>, values: readonly unknown[] = []): unknown {
    // kysely passes a cursor only to stream through one, which goman's dialect configures none for.
    if (typeof statement !== 'string') throw new Error('postgres: no cursor is configured to stream through');
    const name = hot.nameOf(statement);
    return new Promise((resolve, reject) => {
      // A Query built from its text, not from a config object: pg copies a config object through
      // its property descriptors first, about 10 µs a query on the bench machine. kysely hands
      // over a fresh array of values.
      const submitted: pg.Query & { name?: string } = new pg.Query(statement, values as unknown[], (err, result) => (err ? reject(err) : resolve(result)));
      if (name !== undefined) submitted.name = name;
      client.query(submitted);
    });
  }
  return { query, release: () => client.release() };
}
