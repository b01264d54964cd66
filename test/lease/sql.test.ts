// The lease contract on the SQL stores, and what only they promise: expiry judged by the
// database's clock, so a process whose own clock is wrong cannot steal a live lease.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { LeaseStore } from '../../src/lease/port.ts';
import { openStore } from '../../src/store/open.ts';
import { freshPgDatabase, needPeer, PG_ADMIN_URL, reachable } from '../helpers/peers.ts';
import { leaseContract, type OpenLeases } from './contract.ts';

const sqlite: OpenLeases = async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'goman-lease-'));
  const store = await openStore({ dataDir: path.join(root, 'data') });
  return {
    leases: store,
    cleanup: async () => {
      await store.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
};

const postgres: OpenLeases = async () => {
  const db = await freshPgDatabase();
  const store = await openStore({ databaseUrl: db.url, dataDir: '/nonexistent' });
  return {
    leases: store,
    cleanup: async () => {
      await store.close();
      await db.drop();
    },
  };
};

leaseContract('sqlite', sqlite);
// Outside CI a missing PostgreSQL skips (visibly, below); in CI it fails.
if ((await reachable(PG_ADMIN_URL)) || process.env.CI) leaseContract('postgres', postgres);

/** Runs `fn` while this process's wall clock reads an hour ahead. */
async function withClockAhead<T>(fn: () => Promise<T>): Promise<T> {
  const realNow = Date.now;
  Date.now = () => realNow() + 3_600_000;
  try {
    return await fn();
  } finally {
    Date.now = realNow;
  }
}

async function clockSkewCannotStealALease(leases: LeaseStore): Promise<void> {
  const name = `cluster/skew-${process.hrtime.bigint()}`;
  const a = await leases.acquireLease(name, 'a', 60_000);
  assert.ok(a);
  await withClockAhead(async () => {
    assert.equal(await leases.acquireLease(name, 'b', 60_000), null, 'a live lease stays held whatever the acquirer’s clock says');
    assert.ok(await leases.checkFence(name, a.token), 'the fence holds whatever the checker’s clock says');
  });
  assert.ok(await leases.renewLease(a, 60_000));
}

test('sqlite: lease expiry is judged by the database clock, not the process clock', async () => {
  const { leases, cleanup } = await sqlite();
  try {
    await clockSkewCannotStealALease(leases);
  } finally {
    await cleanup();
  }
});

test('postgres: lease expiry is judged by the database clock, not the process clock', async (t) => {
  if (!(await needPeer(t, 'PostgreSQL', PG_ADMIN_URL))) return;
  const { leases, cleanup } = await postgres();
  try {
    await clockSkewCannotStealALease(leases);
  } finally {
    await cleanup();
  }
});
