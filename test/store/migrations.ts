// Migration runner behaviour, shared by the SQLite and PostgreSQL test files.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { MIGRATIONS, migrate, type Migration } from '../../src/store/migrations/index.ts';
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
