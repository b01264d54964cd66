// The one lease keeper, over a real SQLite store. Where a test needs a store that is slow or
// down, it wraps the real one (nothing else can make a local database slow on cue).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { acquireKept, LeaseLostError } from '../../src/lease/keeper.ts';
import type { LeaseStore } from '../../src/lease/port.ts';
import { openStore } from '../../src/store/open.ts';
import type { ClusterStore } from '../../src/store/port.ts';
import { consistently, eventually } from '../helpers/eventually.ts';

let store: ClusterStore;
let root: string;
let n = 0;
const fresh = (): string => `keeper/${process.pid}-${n++}`;

before(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'goman-keeper-'));
  store = await openStore({ dataDir: path.join(root, 'data') });
});
after(async () => {
  await store.close();
  rmSync(root, { recursive: true, force: true });
});

test('a kept lease outlives its ttl: nobody else gets it while the holder works', async () => {
  const name = fresh();
  // A ttl of 2 s tolerates event-loop stalls of over a second (test files run side by side on
  // few cores) while the window still spans more than two ttls.
  const held = await acquireKept(store, name, 'holder', { ttlMs: 2_000 });
  assert.ok(held);
  await consistently('the lease to stay with its holder', async () => !held.signal.aborted && (await store.acquireLease(name, 'other', 60_000)) === null, {
    timeoutMs: 4_500,
  });
  await held.release();
});

test('renewals never overlap, even when one takes longer than the renewal interval', async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  let renewals = 0;
  const slow: LeaseStore = {
    acquireLease: (name, owner, ttl) => store.acquireLease(name, owner, ttl),
    renewLease: async (lease, ttl) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await sleep(550); // longer than ttl/3 = 500 ms
        renewals++;
        return await store.renewLease(lease, ttl);
      } finally {
        inFlight--;
      }
    },
    releaseLease: (lease) => store.releaseLease(lease),
    checkFence: (name, token) => store.checkFence(name, token),
  };
  const held = await acquireKept(slow, fresh(), 'holder', { ttlMs: 1_500, marginMs: 50 });
  assert.ok(held);
  await eventually('three renewals', () => renewals >= 3, { timeoutMs: 10_000 });
  assert.equal(held.signal.aborted, false, 'slow renewals that land in time keep the lease');
  await held.release();
  assert.equal(maxInFlight, 1, 'one renewal at a time');
});

test('the signal fires when the lease is taken in the store', async () => {
  const name = fresh();
  const held = await acquireKept(store, name, 'holder', { ttlMs: 90 });
  assert.ok(held);
  const mine = await store.acquireLease(name, 'holder', 90);
  assert.ok(mine);
  await store.releaseLease(mine);
  assert.ok(await store.acquireLease(name, 'thief', 60_000));
  await eventually('the holder to learn it lost the lease', () => held.signal.aborted, { timeoutMs: 5_000 });
  assert.ok(held.signal.reason instanceof LeaseLostError);
  assert.match(String(held.signal.reason), /lost/);
  await held.release();
  assert.equal(await store.acquireLease(name, 'other', 60_000), null, 'releasing a lost lease leaves the new holder alone');
});

test('the signal fires a safety margin before expiry when renewals keep failing', async () => {
  const down: LeaseStore = {
    acquireLease: (name, owner, ttl) => store.acquireLease(name, owner, ttl),
    renewLease: () => Promise.reject(new Error('connection refused')),
    releaseLease: (lease) => store.releaseLease(lease),
    checkFence: (name, token) => store.checkFence(name, token),
  };
  const errors: unknown[] = [];
  const name = fresh();
  const asked = performance.now();
  const held = await acquireKept(down, name, 'holder', { ttlMs: 2_000, onRenewError: (e) => errors.push(e) });
  assert.ok(held);
  let stillOursAtAbort: boolean | undefined;
  held.signal.addEventListener('abort', () => void store.checkFence(name, held.fence).then((ok) => (stillOursAtAbort = ok)));
  await eventually('the holder to give up', () => held.signal.aborted, { timeoutMs: 5_000 });
  const gaveUpAfter = performance.now() - asked;
  assert.ok(gaveUpAfter < 2_000, `gave up after ${Math.round(gaveUpAfter)} ms, before the ttl`);
  assert.match(String(held.signal.reason), /not renewed in time/);
  assert.ok(errors.length >= 2, 'store errors were retried before giving up');
  await eventually('the fence check', () => stillOursAtAbort !== undefined);
  assert.equal(stillOursAtAbort, true, 'the holder stopped while the store still counted it the holder');
  await held.release();
});

test('release frees the lease at once and aborts the signal', async () => {
  const name = fresh();
  const held = await acquireKept(store, name, 'holder', { ttlMs: 60_000 });
  assert.ok(held);
  await held.release();
  assert.ok(held.signal.aborted);
  assert.ok(await store.acquireLease(name, 'next', 60_000));
});

test('a lease someone else holds is not acquired', async () => {
  const name = fresh();
  assert.ok(await store.acquireLease(name, 'other', 60_000));
  assert.equal(await acquireKept(store, name, 'holder', { ttlMs: 60_000 }), null);
});
