// API tokens: only the hash is stored; expired and revoked tokens never authenticate.
import type { TokenRecord, TokenRole } from '../../domain/index.ts';
import type { SqlContext } from './context.ts';
import { iso, isoOrNull } from './rows.ts';

type TokenSelect = { id: string; subject: string; role: string; created_at: Date | string; expires_at: Date | string | null };

function tokenFromRow(r: TokenSelect): TokenRecord {
  return { id: r.id, subject: r.subject, role: r.role as TokenRole, createdAt: iso(r.created_at), expiresAt: isoOrNull(r.expires_at) };
}

function active(ctx: SqlContext) {
  const now = new Date().toISOString();
  return ctx.db
    .selectFrom('tokens')
    .where('revoked', '=', false)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]));
}

export async function createToken(ctx: SqlContext, rec: TokenRecord & { hash: string }): Promise<TokenRecord> {
  await ctx.db
    .insertInto('tokens')
    .values({
      id: rec.id,
      subject: rec.subject,
      role: rec.role,
      hash: rec.hash,
      created_at: rec.createdAt,
      expires_at: rec.expiresAt,
      revoked: false,
    })
    .execute();
  return { id: rec.id, subject: rec.subject, role: rec.role, createdAt: rec.createdAt, expiresAt: rec.expiresAt };
}

export async function findTokenByHash(ctx: SqlContext, hash: string): Promise<TokenRecord | null> {
  const row = await active(ctx).selectAll().where('hash', '=', hash).executeTakeFirst();
  return row ? tokenFromRow(row) : null;
}

/** Tokens that can still authenticate, oldest first. */
export async function listTokens(ctx: SqlContext): Promise<TokenRecord[]> {
  const rows = await active(ctx).selectAll().orderBy('created_at').orderBy('id').execute();
  return rows.map(tokenFromRow);
}

export async function revokeToken(ctx: SqlContext, id: string): Promise<boolean> {
  const result = await ctx.db.updateTable('tokens').set({ revoked: true }).where('id', '=', id).where('revoked', '=', false).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Tokens that can still authenticate (`goman serve` mints an admin token when there are none). */
export async function countTokens(ctx: SqlContext): Promise<number> {
  const row = await active(ctx).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}
