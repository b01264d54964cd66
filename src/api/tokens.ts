// API tokens: `gmn_` + 32 random bytes (base64url), shown once, stored as a sha256 hash.
// Lookups are cached briefly so the hot path does not hit the database on every request;
// a revocation through this process drops its cache entry at once, and other replicas
// honour it within the cache's TTL.
import { newId } from '../util/ids.ts';
import { hash, randomBytes } from 'node:crypto';
import { validationFailed } from '../domain/index.ts';
import type { TokenRecord, TokenRole } from '../domain/index.ts';
import type { TokenStore } from '../store/port.ts';

export const TOKEN_PREFIX = 'gmn_';
const TOKEN_SHAPE = /^gmn_[A-Za-z0-9_-]{43}$/;

/** Whether a string has the form of a goman token at all (a mis-paste, not an unknown token). */
export function isTokenShaped(s: string): boolean {
  return TOKEN_SHAPE.test(s);
}

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return hash('sha256', token, 'hex');
}

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };
/** A lifetime: 1 to 99999 minutes, hours or days. */
export const EXPIRES_IN_PATTERN = /^[1-9][0-9]{0,4}[mhd]$/;

/** "30m", "24h", "30d" → milliseconds; VALIDATION_FAILED on anything else. */
export function parseExpiresIn(value: string): number {
  if (!EXPIRES_IN_PATTERN.test(value)) {
    throw validationFailed('invalid expiresIn', [{ path: 'expiresIn', message: 'must be a duration such as "30m", "24h" or "30d"' }]);
  }
  return Number(value.slice(0, -1)) * UNITS[value.slice(-1)]!;
}

export async function issueToken(
  store: TokenStore,
  input: { subject: string; role: TokenRole; expiresInMs?: number | undefined },
  now = new Date(),
): Promise<TokenRecord & { token: string }> {
  const token = generateToken();
  const record = await store.createToken({
    id: newId(),
    subject: input.subject,
    role: input.role,
    createdAt: now.toISOString(),
    expiresAt: input.expiresInMs === undefined ? null : new Date(now.getTime() + input.expiresInMs).toISOString(),
    hash: hashToken(token),
  });
  return { ...publicRecord(record), token };
}

/** Exactly the fields a client may see, whatever else a store row carries (never the hash). */
export function publicRecord(r: TokenRecord): TokenRecord {
  return { id: r.id, subject: r.subject, role: r.role, createdAt: r.createdAt, expiresAt: r.expiresAt };
}

/** On a store with no tokens, create an admin token and return its plaintext (else null). */
export async function ensureAdminToken(store: TokenStore): Promise<string | null> {
  if ((await store.countTokens()) > 0) return null;
  return (await issueToken(store, { subject: 'admin', role: 'admin' })).token;
}

/** A stored record as a credential: null when absent or expired. */
function usable(record: TokenRecord | null, now: number): TokenRecord | null {
  if (!record) return null;
  return record.expiresAt !== null && Date.parse(record.expiresAt) <= now ? null : record;
}

interface CacheEntry {
  record: TokenRecord | null;
  /** When it was read from the store. */
  at: number;
}

/** A token that lives only in this process's memory (never stored, so it dies with the process). */
export interface ProcessToken {
  token: string;
  subject: string;
  role: TokenRole;
}

export class TokenVerifier {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly local = new Map<string, TokenRecord>();
  private readonly store: TokenStore;
  readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(store: TokenStore, ttlMs = 5000, maxEntries = 10_000, processTokens: readonly ProcessToken[] = []) {
    this.store = store;
    this.ttlMs = ttlMs;
    this.maxEntries = maxEntries;
    for (const t of processTokens) {
      this.local.set(hashToken(t.token), { id: newId(), subject: t.subject, role: t.role, createdAt: new Date().toISOString(), expiresAt: null });
    }
  }

  /**
   * The token's record when it is known, unexpired and not revoked; null otherwise. A cached
   * answer older than `maxAgeMs` (default: the TTL) is read again.
   */
  async verify(token: string, now = Date.now(), maxAgeMs = this.ttlMs): Promise<TokenRecord | null> {
    if (!TOKEN_SHAPE.test(token)) return null;
    return this.verifyHash(hashToken(token), now, maxAgeMs);
  }

  /**
   * As verify, answered from memory alone: undefined when only the store can answer. Most
   * requests carry a token seen within the TTL, and need no promise for it.
   */
  known(token: string, now = Date.now()): TokenRecord | null | undefined {
    if (!TOKEN_SHAPE.test(token)) return null;
    return this.knownHash(hashToken(token), now, this.ttlMs);
  }

  /** As verify, from the stored hash (a console session holds the hash, never the token). */
  async verifyHash(hash: string, now = Date.now(), maxAgeMs = this.ttlMs): Promise<TokenRecord | null> {
    const known = this.knownHash(hash, now, maxAgeMs);
    if (known !== undefined) return known;
    const entry = { record: await this.store.findTokenByHash(hash), at: now };
    if (this.cache.size >= this.maxEntries) this.cache.clear();
    this.cache.set(hash, entry);
    return usable(entry.record, now);
  }

  private knownHash(hash: string, now: number, maxAgeMs: number): TokenRecord | null | undefined {
    const local = this.local.get(hash);
    if (local) return local;
    const entry = this.cache.get(hash);
    if (!entry || entry.at + maxAgeMs <= now) return undefined;
    return usable(entry.record, now);
  }

  /**
   * For a long-lived request (a watch stream) checked every TTL/2: reads at most TTL/2 old, so a
   * revocation or expiry is noticed within one TTL.
   */
  stillValid(token: string): () => Promise<boolean> {
    return this.stillValidHash(hashToken(token));
  }

  /** As stillValid, for a console session (which holds the hash), that also ends at `until`. */
  stillValidHash(hash: string, until = Infinity): () => Promise<boolean> {
    return async () => Date.now() < until && (await this.verifyHash(hash, Date.now(), this.ttlMs / 2)) !== null;
  }

  /** Forget a revoked token at once (this process); other processes within the TTL. */
  forget(id: string): void {
    for (const [hash, entry] of this.cache) if (entry.record?.id === id) this.cache.delete(hash);
  }
}
