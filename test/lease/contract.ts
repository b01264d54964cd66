// The one lease contract (DESIGN §1: every adapter of a port passes one suite): the SQL stores
// (SQLite, PostgreSQL) and DynamoDB (on moto) run these same tests.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { LeaseStore } from '../../src/lease/port.ts';
import { eventually } from '../helpers/eventually.ts';

export type OpenLeases = () => Promise<{ leases: LeaseStore; cleanup: () => Promise<void> }>;

const uid = (): string => randomBytes(6).toString('hex');

export function leaseContract(label: string, open: OpenLeases): void {
  describe(`LeaseStore contract: ${label}`, () => {
    let leases: LeaseStore;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ leases, cleanup } = await open());
    });
    after(async () => cleanup());

    test('one holder at a time; the holder acquiring again keeps its token', async () => {
      const name = `cluster/${uid()}`;
      const a = await leases.acquireLease(name, 'a', 60_000);
      assert.ok(a);
      assert.equal(a.name, name);
      assert.equal(a.owner, 'a');
      assert.equal(await leases.acquireLease(name, 'b', 60_000), null);
      const again = await leases.acquireLease(name, 'a', 60_000);
      assert.equal(again?.token, a.token, 'the holder re-acquiring keeps its token');
      assert.ok(await leases.checkFence(name, a.token));
      const renewed = await leases.renewLease(a, 60_000);
      assert.equal(renewed?.token, a.token);
      assert.ok(Date.parse(renewed?.expiresAt ?? '') > Date.now(), 'a renewed lease expires in the future');
    });

    test('release frees the lease at once; the released holder is fenced out and the token grows', async () => {
      const name = `cluster/${uid()}`;
      const a = await leases.acquireLease(name, 'a', 60_000);
      assert.ok(a);
      await leases.releaseLease(a);
      assert.equal(await leases.checkFence(name, a.token), false);
      assert.equal(await leases.renewLease(a, 60_000), null, 'a released lease cannot be renewed');
      const b = await leases.acquireLease(name, 'b', 60_000);
      assert.ok(b && b.token > a.token, 'a new holder gets a higher fencing token');
      assert.equal(await leases.acquireLease(name, 'a', 60_000), null);
      await leases.releaseLease(a);
      assert.ok(await leases.checkFence(name, b.token), 'releasing a lease you lost does not free the new holder’s');
    });

    test('an expired lease is free for anyone, and its old holder can no longer renew it', async () => {
      const name = `cluster/${uid()}`;
      const old = await leases.acquireLease(name, 'old', 50);
      assert.ok(old);
      await eventually('the short lease to expire', async () => !(await leases.checkFence(name, old.token)), { timeoutMs: 5_000 });
      assert.equal(await leases.renewLease(old, 60_000), null, 'a lapsed lease is not renewed, even by its holder');
      const next = await eventually('another owner to take the lapsed lease', () => leases.acquireLease(name, 'new', 60_000), { timeoutMs: 5_000 });
      assert.ok(next.token > old.token);
      assert.equal(await leases.checkFence(name, old.token), false);
      assert.ok(await leases.checkFence(name, next.token));
    });

    test('concurrent acquirers: exactly one wins', async () => {
      const name = `cluster/${uid()}`;
      const got = await Promise.all(Array.from({ length: 8 }, (_, i) => leases.acquireLease(name, `o${i}`, 60_000)));
      assert.equal(got.filter((l) => l !== null).length, 1);
    });

    test('leases of different names are independent', async () => {
      const [x, y] = [`cluster/${uid()}`, `cluster/${uid()}`];
      assert.ok(await leases.acquireLease(x, 'a', 60_000));
      assert.ok(await leases.acquireLease(y, 'b', 60_000));
    });
  });
}
