// Migration runner behaviour, shared by the SQLite and PostgreSQL test files.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { MIGRATIONS, migrate, type Migration } from '../../src/store/migrations/index.ts';
import { scheduleCopies } from '../../src/store/migrations/004-schedule-copies.ts';
import { clusterSpecSchema, type Cluster } from '../../src/domain/index.ts';
import type { ClusterStore } from '../../src/store/port.ts';
import { appliedVersions } from '../../src/store/migrations/runner.ts';
import { openStore, type OpenStoreOptions } from '../../src/store/open.ts';
import type { Database } from '../../src/store/sql/schema.ts';

export type MigrationTarget = () => Promise<{ options: OpenStoreOptions; kysely: () => Kysely<Database>; cleanup: () => Promise<void> }>;

const broken: Migration = {
  version: 9000,
  name: 'broken',
  statements: {
    postgres: ['CREATE TABLE half_done (x integer)', 'THIS IS NOT SQL'],
    sqlite: ['CREATE TABLE half_done (x integer)', 'THIS IS NOT SQL'],
  },
};

const spec = clusterSpecSchema.parse({ provider: 'sim' });

/** A cluster, with a registered controller required for its provider. */
async function clusterWithController(store: ClusterStore, name: string, controller: string): Promise<Cluster> {
  await store.registerController(controller, { providers: ['sim'], required: true });
  return store.createCluster({ name, labels: {}, spec, createdBy: 'a' });
}

export function migrationContract(label: string, target: MigrationTarget): void {
  describe(`store migrations: ${label}`, () => {
    test('the second run is a no-op and keeps the data', async () => {
      const t = await target();
      try {
        const first = await openStore(t.options);
        const c = await first.createCluster({ name: 'keep-me', labels: {}, spec: { provider: 'sim', region: 'ap-south-1', mode: 'dev', k3sVersion: 'stable', instanceType: 't3.medium', desiredState: 'running', nodePools: [] }, createdBy: 'a' });
        await first.close();
        const db = t.kysely();
        try {
          assert.deepEqual(await migrate(db, first.kind, MIGRATIONS), [], 'nothing left to apply');
          assert.deepEqual(await appliedVersions(db), MIGRATIONS.map((m) => m.version));
        } finally {
          await db.destroy();
        }
        const second = await openStore(t.options);
        assert.equal((await second.getCluster('keep-me'))?.id, c.id);
        await second.close();
      } finally {
        await t.cleanup();
      }
    });

    test('migration 4 copies what the scheduler reads of each cluster onto its schedule row', async () => {
      const t = await target();
      try {
        const store = await openStore(t.options);
        const ready = await clusterWithController(store, 'copy-ready', 'copy-ctl');
        await store.reportStatus(ready.id, 'copy-ctl', { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True', reason: 'Up', message: '' }] });
        const pending = await store.createCluster({ name: 'copy-pending', labels: {}, spec, createdBy: 'a' });
        await store.close();
        const db = t.kysely();
        try {
          // As the rows stood before the migration: the columns' defaults.
          await sql`UPDATE reconcile_schedule SET name = '', provider = '', generation = 0, settled = (1 = 0)`.execute(db);
          for (const statement of scheduleCopies.statements[store.kind].slice(5)) await sql.raw(statement).execute(db);
          const rows = await db.selectFrom('reconcile_schedule').select(['cluster_id', 'name', 'provider', 'generation', 'settled']).orderBy('name').execute();
          assert.deepEqual(
            rows.map((r) => [r.cluster_id, r.name, r.provider, r.generation, Boolean(r.settled)]),
            [
              [pending.id, 'copy-pending', 'sim', 1, false],
              [ready.id, 'copy-ready', 'sim', 1, true],
            ],
          );
        } finally {
          await db.destroy();
        }
      } finally {
        await t.cleanup();
      }
    });

    test('migration 6: a report records only who reported; on PostgreSQL a previous version still writes its copy', async () => {
      const t = await target();
      try {
        const store = await openStore(t.options);
        const c = await clusterWithController(store, 'who', 'who-ctl');
        for (const message of ['one', 'two']) {
          await store.reportStatus(c.id, 'who-ctl', { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'False', reason: 'Wait', message }] });
        }
        await store.close();
        const db = t.kysely();
        try {
          const rows = { rows: (await sql<Record<string, unknown>>`SELECT * FROM controller_statuses`.execute(db)).rows.map((r) => ({ ...r })) };
          if (store.kind === 'sqlite') {
            assert.deepEqual(rows.rows, [{ cluster_id: c.id, controller: 'who-ctl' }]);
          } else {
            assert.deepEqual(rows.rows, [{ cluster_id: c.id, controller: 'who-ctl', status: null, updated_at: null }]);
            // The write of a replica still on the previous version, during a rolling upgrade.
            await sql`INSERT INTO controller_statuses (cluster_id, controller, status, updated_at) VALUES (${c.id}, 'who-ctl', '{}', now())
              ON CONFLICT (cluster_id, controller) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at`.execute(db);
          }
        } finally {
          await db.destroy();
        }
      } finally {
        await t.cleanup();
      }
    });

    test('a failing migration is rolled back, not recorded, and surfaced', async () => {
      const t = await target();
      try {
        await assert.rejects(openStore({ ...t.options, migrations: [...MIGRATIONS, broken] }), /migration 9000 \(broken\) failed/);
        const db = t.kysely();
        try {
          assert.deepEqual(await appliedVersions(db), MIGRATIONS.map((m) => m.version));
          await assert.rejects(sql`SELECT x FROM half_done`.execute(db), 'the failed step left nothing behind');
        } finally {
          await db.destroy();
        }
        const store = await openStore(t.options);
        await store.ping();
        await store.close();
      } finally {
        await t.cleanup();
      }
    });
  });
}
