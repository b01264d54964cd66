import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MIGRATIONS } from '../../src/store/migrations/index.ts';
import { appliedVersions } from '../../src/store/migrations/runner.ts';
import { openStore } from '../../src/store/open.ts';
import { postgresKysely } from '../../src/store/postgres/index.ts';
import { SqlClusterStore } from '../../src/store/sql/store.ts';
import { HotStatements } from '../../src/store/sql/hot-statements.ts';
import { leaseName } from '../../src/lease/port.ts';
import { clusterSpecSchema } from '../../src/domain/index.ts';
import { sql } from 'kysely';
import pg from 'pg';
import { freshPgDatabase, PG_ADMIN_URL, reachable } from '../helpers/peers.ts';
import { lockWaiters, migratedDatabase, recordingStore } from '../helpers/pg-store.ts';
import { storeContract } from './contract.ts';
import { eventually } from '../helpers/eventually.ts';
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

  // Every round trip inside a write holds the row lock and delays the write's event, whose `at`
  // is taken before it. This pins the budget: it fails if a write grows a statement.
  test('postgres: a create is one read and one write statement; so is a status report (none when it changes nothing; one more read after the registry changed); a fenced provider-state save is one statement', async () => {
    const { db, store, statements, texts } = await recordingStore();
    try {
      await store.registerController('sim', { providers: ['sim'], required: true });
      const spec = clusterSpecSchema.parse({ provider: 'sim', nodePools: [{ name: 'w', count: 1 }] });
      statements.length = 0;
      const created = await store.createCluster({ name: 'c1', labels: {}, spec, createdBy: 'test' });
      assert.deepEqual(statements, ['select', 'with']);

      statements.length = 0;
      const report = { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' as const, reason: 'Up', message: '' }] };
      const first = await store.reportStatus(created.id, 'sim', report);
      assert.notEqual(first.cluster.resourceVersion, created.resourceVersion);
      // The row and the write: the registry is the one the create read, at the version the row's read carries.
      assert.deepEqual(statements, ['select', 'with']);
      // It sets what a report changes, not the spec or labels it left alone.
      assert.match(texts.at(-1)!, /"status" = /);
      assert.doesNotMatch(texts.at(-1)!, /"spec" = |"labels" = |"name" = /);
      // The first report records who reports on the cluster, for its deregistration.
      assert.match(texts.at(-1)!, /"controller_statuses"/);

      // A report that changes nothing writes nothing.
      statements.length = 0;
      const again = await store.reportStatus(created.id, 'sim', report);
      assert.equal(again.cluster.resourceVersion, first.cluster.resourceVersion);
      assert.deepEqual(statements, ['select']);

      // A later report's record is saved in the row alone: no second copy of it anywhere.
      statements.length = 0;
      const moved = await store.reportStatus(created.id, 'sim', { ...report, conditions: [{ ...report.conditions[0]!, message: 'moved' }] });
      assert.notEqual(moved.cluster.resourceVersion, first.cluster.resourceVersion);
      assert.deepEqual(statements, ['select', 'with']);
      assert.doesNotMatch(texts.at(-1)!, /controller_statuses/);

      // A reconciler's fenced save of its provider state is one statement too.
      const lease = await store.acquireLease(leaseName(created.id), 'sim-0', 60_000);
      assert.ok(lease);
      statements.length = 0;
      await store.putProviderState('sim', created.id, { instances: 1 }, lease.token);
      assert.deepEqual(statements, ['insert']);

      const events = await store.readOutboxSince(0, 10);
      assert.deepEqual(
        events.map((e) => [e.type, String(e.seq)]),
        [
          ['cluster.created', created.resourceVersion],
          ['cluster.status', first.cluster.resourceVersion],
          ['cluster.status', moved.cluster.resourceVersion],
        ],
      );
      const read = await store.getCluster(created.id);
      assert.equal(read?.resourceVersion, moved.cluster.resourceVersion);
      assert.equal(read?.status.controllers[0]?.conditions[0]?.message, 'moved');
      assert.deepEqual((await store.listHistory(created.id, 10)).items.map((h) => h.kind).sort(), ['created', 'finalizer', 'phase']);
    } finally {
      await store.close();
      await db.drop();
    }
  });

  test('postgres: a report reads the controller registry again only after the controllers table changed, whoever changed it', async () => {
    const { db, store, statements, texts } = await recordingStore();
    const direct = postgresKysely(db.url, 1);
    try {
      await store.registerController('a', { providers: ['sim'], required: true });
      const spec = clusterSpecSchema.parse({ provider: 'sim', nodePools: [{ name: 'w', count: 1 }] });
      const created = await store.createCluster({ name: 'c1', labels: {}, spec, createdBy: 'test' });
      let n = 0;
      const ready = () => ({ observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' as const, reason: 'Up', message: `report ${++n}` }] });
      const registryReads = () => texts.filter((t) => t.includes('from "controllers"')).length;
      const since = { registeredSince: new Date(Date.now() - 60_000) };

      assert.equal((await store.reportStatus(created.id, 'a', ready(), since)).cluster.status.phase, 'Ready');
      statements.length = 0;
      texts.length = 0;
      assert.equal((await store.reportStatus(created.id, 'a', ready(), since)).cluster.status.phase, 'Ready');
      assert.deepEqual(statements, ['select', 'with']);
      assert.equal(registryReads(), 0, 'the registry as held');

      // A second required controller registers: its own first report is accepted, and the
      // aggregate waits for it to be ready.
      await store.registerController('b', { providers: ['sim'], required: true });
      texts.length = 0;
      const b = await store.reportStatus(created.id, 'b', { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'False', reason: 'Booting', message: '' }] }, since);
      assert.equal(b.cluster.status.phase, 'Provisioning');
      assert.equal(registryReads(), 1);

      // A heartbeat moves the registry too (its time is what registeredSince checks).
      await store.registerController('a', { providers: ['sim'], required: true });
      texts.length = 0;
      assert.equal((await store.reportStatus(created.id, 'a', ready(), since)).cluster.status.phase, 'Provisioning');
      assert.equal(registryReads(), 1);

      // A change made outside the store (an operator's DELETE) is seen as well.
      await sql`DELETE FROM controllers WHERE name = 'b'`.execute(direct);
      texts.length = 0;
      assert.equal((await store.reportStatus(created.id, 'a', ready(), since)).cluster.status.phase, 'Ready');
      assert.equal(registryReads(), 1);
      await assert.rejects(store.reportStatus(created.id, 'b', ready(), since), /not registered/);
    } finally {
      await direct.destroy();
      await store.close();
      await db.drop();
    }
  });

  test('postgres: a report whose row changes between its read and its save writes nothing then, is decided again under the row lock, and the next reports on that row lock at once', async () => {
    const { db, store, statements } = await recordingStore();
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    try {
      await store.registerController('sim', { providers: ['sim'], required: true });
      const spec = clusterSpecSchema.parse({ provider: 'sim', nodePools: [{ name: 'w', count: 1 }] });
      const created = await store.createCluster({ name: 'c1', labels: {}, spec, createdBy: 'test' });
      // Another writer holds the row: the report reads the committed version, and its save waits.
      await other.query('BEGIN');
      await other.query(`UPDATE clusters SET labels = '{"moved":"yes"}', resource_version = resource_version + 1000 WHERE id = $1`, [created.id]);
      statements.length = 0;
      const report = { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' as const, reason: 'Up', message: '' }] };
      const reporting = store.reportStatus(created.id, 'sim', report);
      await eventually('the report waits for the row lock', async () => (await lockWaiters(other)) === 1);
      await other.query('COMMIT');
      const result = await reporting;
      // The row (the registry as the create read it), the gated save, then the locking path.
      assert.deepEqual(statements, ['select', 'with', 'begin', 'select', 'with', 'commit']);
      assert.deepEqual(result.cluster.labels, { moved: 'yes' }, 'decided again on the row as the other writer left it');
      assert.equal(result.cluster.status.controllers.find((c) => c.name === 'sim')?.conditions[0]?.status, 'True');
      const events = await store.readOutboxSince(0, 10);
      assert.deepEqual(events.map((e) => e.type), ['cluster.created', 'cluster.status'], 'one event: the gated save appended nothing');
      assert.equal(result.cluster.resourceVersion, String(events[1]!.seq));
      assert.deepEqual((await store.listHistory(created.id, 10)).items.map((h) => h.kind).sort(), ['created', 'finalizer', 'phase'], 'history written once');
      assert.equal((await store.getCluster(created.id))?.resourceVersion, result.cluster.resourceVersion);

      // A row that lost once is contended: its next reports take the lock at once.
      statements.length = 0;
      await store.reportStatus(created.id, 'sim', { ...report, conditions: [{ ...report.conditions[0]!, message: 'again' }] });
      assert.deepEqual(statements, ['begin', 'select', 'with', 'commit']);
    } finally {
      await other.end();
      await store.close();
      await db.drop();
    }
  });

  test('postgres: the reads by id and by name, a report read and save and the relay read and mark are named statements, planned once per connection, and keep working after a migration adds a column', async () => {
    const db = await migratedDatabase();
    const names = new HotStatements();
    // One connection, so the session that prepared the statements is the one asked about them.
    const kysely = postgresKysely(db.url, 1, names);
    const store = new SqlClusterStore(kysely, 'postgres', undefined, names);
    const prepared = async () =>
      (await sql<{ name: string; statement: string }>`SELECT name, statement FROM pg_prepared_statements ORDER BY name`.execute(kysely)).rows;
    try {
      await store.registerController('sim', { providers: ['sim'], required: true });
      const spec = clusterSpecSchema.parse({ provider: 'sim', nodePools: [{ name: 'w', count: 1 }] });
      const created = await store.createCluster({ name: 'c1', labels: {}, spec, createdBy: 'test' });
      const report = (message: string) => ({ observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' as const, reason: 'Up', message }] });
      await store.getCluster(created.id);
      assert.equal((await store.getCluster('c1', 'test'))?.id, created.id);
      await store.reportStatus(created.id, 'sim', report('first'));
      await store.reportStatus(created.id, 'sim', report('second'));
      const once = await prepared();
      assert.ok(once.every((s) => /^goman_\d+$/.test(s.name)));
      const texts = once.map((s) => s.statement);
      assert.ok(texts.some((t) => /^select .* from "clusters" where "id" = \$1$/.test(t)), 'the read by id');
      assert.ok(texts.some((t) => /^select .* from "clusters" where "name" = \$1 and "created_by" = \$2$/.test(t)), "a user's read by name");
      assert.ok(texts.some((t) => /"registry_version" from "clusters" where id = any\(\$1::text\[\]\)$/.test(t)), 'the reports\' read');
      assert.ok(texts.some((t) => /"registry_version" from "controllers" order by "name"$/.test(t)), 'the registry read, with its version');
      assert.ok(texts.some((t) => /^\s*WITH "gate" AS/.test(t)), 'the first report\'s save');
      assert.ok(texts.some((t) => /^\s*WITH i AS \(\s*SELECT id, version/.test(t)), 'the save of reports that change the status alone');
      assert.ok(texts.every((t) => !/select \*/.test(t)), 'no named statement reads *');
      // The second report ran the statements the first prepared; a third adds none either.
      await store.reportStatus(created.id, 'sim', report('third'));
      assert.deepEqual(await prepared(), once);

      // The relay's read and mark are hot too, however many seqs they carry.
      for (const excluding of [[], [1], [1, 2, 3]]) {
        const unsent = await store.readUnsentOutbox(10, excluding);
        await store.markOutboxSent(unsent.slice(0, excluding.length + 1).map((r) => r.seq));
      }
      const relay = (await prepared()).filter((s) => /"outbox"/.test(s.statement) && !/^\s*WITH/.test(s.statement));
      assert.equal(relay.length, 3, relay.map((s) => s.statement).join('\n'));

      await sql`ALTER TABLE clusters ADD COLUMN added_later text`.execute(kysely);
      assert.equal((await store.getCluster(created.id))?.id, created.id);
      const after = await store.reportStatus(created.id, 'sim', report('fourth'));
      assert.equal(after.cluster.status.controllers[0]?.conditions[0]?.message, 'fourth');
    } finally {
      await store.close();
      await db.drop();
    }
  });
} else {
  test('postgres store contract', (t) => {
    t.skip(`PostgreSQL is not reachable at ${PG_ADMIN_URL}`);
  });
}

if (available) {
  test('postgres: timestamptz values read back as toISOString() would write them, in a UTC session and in any other', async () => {
    const db = await freshPgDatabase();
    const kysely = postgresKysely(db.url, 1);
    try {
      // Whole seconds, trimmed fractions, microseconds (truncated as a Date truncates them), a
      // year before 1000 and one past 9999.
      const values = ['2026-11-30T10:00:00.000Z', '2026-11-30T10:00:00.100Z', '2026-11-30T10:00:00.123Z', '2026-11-30T10:00:00.123999Z', '0999-01-02T03:04:05.006Z', '12345-01-01T00:00:00Z'];
      const expected = values.map((v) => new Date(v.startsWith('12345') ? Date.UTC(12345, 0, 1) : Date.parse(v)).toISOString());
      for (const zone of ['UTC', 'Asia/Kathmandu', 'America/St_Johns']) {
        const read = await kysely.connection().execute(async (conn) => {
          await sql`SET TIME ZONE ${sql.lit(zone)}`.execute(conn);
          const { rows } = await sql<{ t: unknown }>`SELECT unnest(${values}::timestamptz[]) AS t`.execute(conn);
          await sql`RESET TIME ZONE`.execute(conn);
          return rows.map((r) => r.t);
        });
        assert.deepEqual(read, expected, `session time zone ${zone}`);
      }
    } finally {
      await kysely.destroy();
      await db.drop();
    }
  });
}
