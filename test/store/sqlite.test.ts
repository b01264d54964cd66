import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openStore } from '../../src/store/open.ts';
import { storeContract } from './contract.ts';
import { migrationContract } from './migrations.ts';
import { sqliteKysely } from '../../src/store/sqlite/index.ts';

function tempDir(): { dir: string; remove: () => void } {
  const root = mkdtempSync(path.join(tmpdir(), 'goman-store-'));
  return { dir: path.join(root, 'data'), remove: () => rmSync(root, { recursive: true, force: true }) };
}

storeContract('sqlite', async () => {
  const { dir, remove } = tempDir();
  const store = await openStore({ dataDir: dir });
  return {
    store,
    cleanup: async () => {
      await store.close();
      remove();
    },
  };
});

migrationContract('sqlite', async () => {
  const { dir, remove } = tempDir();
  return { options: { dataDir: dir }, kysely: () => sqliteKysely(dir), cleanup: async () => remove() };
});

test('sqlite: the data directory is created 0700 and holds goman.db', async () => {
  const { dir, remove } = tempDir();
  try {
    const store = await openStore({ dataDir: dir });
    await store.close();
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.ok(statSync(path.join(dir, 'goman.db')).isFile());
  } finally {
    remove();
  }
});
