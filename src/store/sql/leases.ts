// Leases with fencing tokens. Rows are never deleted (release moves expires_at into the past),
// so the token only ever grows: every acquisition of a free or expired lease adds one. Every
// time here is the database's (dbTime), never this process's clock.
import { sql } from 'kysely';
import type { Lease } from '../../lease/port.ts';
import { dbTime, type SqlContext } from './context.ts';
import { iso, num } from './rows.ts';

const RELEASED_AT = new Date(0).toISOString();
const LEASE_COLUMNS = ['name', 'owner', 'token', 'expires_at'] as const;

function leaseFromRow(r: { name: string; owner: string; token: string | number | bigint; expires_at: Date | string }): Lease {
  return { name: r.name, owner: r.owner, token: num(r.token), expiresAt: iso(r.expires_at) };
}

// A reconcile takes, renews and releases its cluster's lease, and its provider-state save checks
// the fence: hot statements (hot-statements.ts).

/** One atomic upsert: taken when absent, expired, or already ours (then same token, extended). */
export async function acquireLease(ctx: SqlContext, name: string, owner: string, ttlMs: number): Promise<Lease | null> {
  const query = ctx.hot.shaped('acquireLease', { name, owner, ttlMs, first: 1 }, (v) => {
    const now = dbTime(ctx.dialect);
    const expires = dbTime(ctx.dialect, v.ttlMs);
    return ctx.db
      .insertInto('leases')
      .values({ name: v.name, owner: v.owner, token: v.first, expires_at: expires })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({
            owner: v.owner,
            expires_at: expires,
            token: sql<number>`case when leases.owner = ${v.owner} and leases.expires_at > ${now} then leases.token else leases.token + 1 end`,
          })
          .where((eb) => eb.or([eb.and([eb('leases.owner', '=', v.owner), eb('leases.expires_at', '>', now)]), eb('leases.expires_at', '<=', now)])),
      )
      .returning(LEASE_COLUMNS)
      .compile();
  });
  const row = (await ctx.db.executeQuery(query)).rows[0];
  return row ? leaseFromRow(row) : null;
}

export async function renewLease(ctx: SqlContext, lease: Lease, ttlMs: number): Promise<Lease | null> {
  const query = ctx.hot.shaped('renewLease', { ttlMs, name: lease.name, owner: lease.owner, token: lease.token }, (v) =>
    ctx.db
      .updateTable('leases')
      .set({ expires_at: dbTime(ctx.dialect, v.ttlMs) })
      .where('name', '=', v.name)
      .where('owner', '=', v.owner)
      .where('token', '=', v.token)
      .where('expires_at', '>', dbTime(ctx.dialect))
      .returning(LEASE_COLUMNS)
      .compile(),
  );
  const row = (await ctx.db.executeQuery(query)).rows[0];
  return row ? leaseFromRow(row) : null;
}

export async function releaseLease(ctx: SqlContext, lease: Lease): Promise<void> {
  const query = ctx.hot.shaped('releaseLease', { released: RELEASED_AT, name: lease.name, owner: lease.owner, token: lease.token }, (v) =>
    ctx.db.updateTable('leases').set({ expires_at: v.released }).where('name', '=', v.name).where('owner', '=', v.owner).where('token', '=', v.token).compile(),
  );
  await ctx.db.executeQuery(query);
}

export async function checkFence(ctx: SqlContext, name: string, token: number): Promise<boolean> {
  const query = ctx.hot.shaped('checkFence', { name, token }, (v) =>
    ctx.db.selectFrom('leases').select('name').where('name', '=', v.name).where('token', '=', v.token).where('expires_at', '>', dbTime(ctx.dialect)).compile(),
  );
  return (await ctx.db.executeQuery(query)).rows.length > 0;
}
