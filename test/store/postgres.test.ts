import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MIGRATIONS } from '../../src/store/migrations/index.ts';
import { appliedVersions } from '../../src/store/migrations/runner.ts';
import { openStore } from '../../src/store/open.ts';
import { postgresKysely } from '../../src/store/postgres/index.ts';
import { freshPgDatabase, PG_ADMIN_URL, reachable } from '../helpers/peers.ts';
import { storeContract } from './contract.ts';
import { migrationContract } from './migrations.ts';

// needPeer wants a TestContext; the suites below open their database in before() hooks, so
// decide once here, with the same rule: outside CI a missing PostgreSQL skips, in CI it fails.
const available = (await reachable(PG_ADMIN_URL)) || Boolean(process.env.CI);

if (available) {
  storeContract('postgres', async () => {
    const db = await freshPgDatabase();
    const store = await openStore({ databaseUrl: db.url, dataDir: '/nonexistent' });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await db.drop();
      },
    };
  });

  migrationContract('postgres', async () => {
    const db = await freshPgDatabase();
    return { options: { databaseUrl: db.url, dataDir: '/nonexistent' }, kysely: () => postgresKysely(db.url, 2), cleanup: db.drop };
  });

  test('postgres: two processes opening one fresh database at once both succeed', async () => {
    const db = await freshPgDatabase();
    try {
      const stores = await Promise.all([0, 1, 2].map(() => openStore({ databaseUrl: db.url, dataDir: '/nonexistent' })));
      const check = postgresKysely(db.url, 1);
      assert.deepEqual(await appliedVersions(check), MIGRATIONS.map((m) => m.version));
      await check.destroy();
      await Promise.all(stores.map((s) => s.close()));
    } finally {
      await db.drop();
    }
  });
} else {
  test('postgres store contract', (t) => {
    t.skip(`PostgreSQL is not reachable at ${PG_ADMIN_URL}`);
  });
}
