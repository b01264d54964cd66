// Real test peers (PostgreSQL, NATS, moto). Outside CI a missing peer skips the tests that
// need it with a visible reason; in CI (CI=true) it fails them, so nothing is skipped silently.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { TestContext } from 'node:test';
import pg from 'pg';
import { eventually } from './eventually.ts';

export const PG_ADMIN_URL = process.env.GOMAN_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const NATS_URL = process.env.GOMAN_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

export function reachable(url: string, timeoutMs = 1000): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: u.hostname, port: Number(u.port) });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Call at the top of a test that needs a peer: returns false (and skips) when it is absent outside CI. */
export async function needPeer(t: TestContext, name: string, url: string): Promise<boolean> {
  if (await reachable(url)) return true;
  const msg = `${name} is not reachable at ${url}`;
  if (process.env.CI) throw new Error(`${msg} (CI requires every test peer; .ci/run starts them)`);
  t.skip(msg);
  return false;
}

/** A fresh, empty PostgreSQL database for one test file; drop() removes it. */
export async function freshPgDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `goman_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      // A pool's end() resolves once its clients are let go, before their sessions have closed:
      // FORCE would terminate such a session, and its client reports that as an error into
      // whatever test runs next. So wait for them to leave; FORCE only ends what a failed test
      // left open.
      await eventually(`the sessions on ${name} close`, async () => {
        const { rows } = await c.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1', [name]);
        return rows[0]?.n === '0';
      }, { timeoutMs: 5_000 }).catch(() => undefined);
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
