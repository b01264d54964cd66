// Leases with fencing tokens. Rows are never deleted (release moves expires_at into the past),
// so the token only ever grows: every acquisition of a free or expired lease adds one. Every
// time here is the database's (dbTime), never this process's clock.
import { sql } from 'kysely';
import type { Lease } from '../../lease/port.ts';
import { dbTime, type SqlContext } from './context.ts';
import { iso, num } from './rows.ts';

const RELEASED_AT = new Date(0).toISOString();

function leaseFromRow(r: { name: string; owner: string; token: string | number | bigint; expires_at: Date | string }): Lease {
  return { name: r.name, owner: r.owner, token: num(r.token), expiresAt: iso(r.expires_at) };
}

/** One atomic upsert: taken when absent, expired, or already ours (then same token, extended). */
export async function acquireLease(ctx: SqlContext, name: string, owner: string, ttlMs: number): Promise<Lease | null> {
  const now = dbTime(ctx.dialect);
  const expires = dbTime(ctx.dialect, ttlMs);
  const row = await ctx.db
    .insertInto('leases')
    .values({ name, owner, token: 1, expires_at: expires })
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet({
          owner,
          expires_at: expires,
          token: sql<number>`case when leases.owner = ${owner} and leases.expires_at > ${now} then leases.token else leases.token + 1 end`,
        })
        .where((eb) => eb.or([eb.and([eb('leases.owner', '=', owner), eb('leases.expires_at', '>', now)]), eb('leases.expires_at', '<=', now)])),
    )
    .returningAll()
    .executeTakeFirst();
  return row ? leaseFromRow(row) : null;
}

export async function renewLease(ctx: SqlContext, lease: Lease, ttlMs: number): Promise<Lease | null> {
  const row = await ctx.db
    .updateTable('leases')
    .set({ expires_at: dbTime(ctx.dialect, ttlMs) })
    .where('name', '=', lease.name)
    .where('owner', '=', lease.owner)
    .where('token', '=', lease.token)
    .where('expires_at', '>', dbTime(ctx.dialect))
    .returningAll()
    .executeTakeFirst();
  return row ? leaseFromRow(row) : null;
}

export async function releaseLease(ctx: SqlContext, lease: Lease): Promise<void> {
  await ctx.db
    .updateTable('leases')
    .set({ expires_at: RELEASED_AT })
    .where('name', '=', lease.name)
    .where('owner', '=', lease.owner)
    .where('token', '=', lease.token)
    .execute();
}

export async function checkFence(ctx: SqlContext, name: string, token: number): Promise<boolean> {
  const row = await ctx.db
    .selectFrom('leases')
    .select('name')
    .where('name', '=', name)
    .where('token', '=', token)
    .where('expires_at', '>', dbTime(ctx.dialect))
    .executeTakeFirst();
  return row !== undefined;
}
