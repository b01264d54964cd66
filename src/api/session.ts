// Console sessions (docs/console.md). A pasted token is exchanged for a cookie that holds no
// token: it seals (AES-256-GCM, a server key) a reference to the token's stored hash and an
// expiry. Every request unseals it and looks the hash up again, so a revoked or expired token
// ends its sessions too; a forged or tampered cookie fails authentication. The key comes from
// GOMAN_SESSION_KEY (replicas must share one) or, embedded, from a 0600 file in the data dir.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyRequest } from 'fastify';
import { GomanError, validationFailed } from '../domain/index.ts';

export const SESSION_COOKIE = 'goman_session';
/** A session never outlives its token, nor this. */
export const SESSION_MAX_MS = 12 * 3_600_000;
const KEY_FILE = 'session.key';
const MAX_COOKIE_LENGTH = 512;

export interface SessionClaims {
  /** sha256 hex of the token, as the store keeps it. */
  tokenHash: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export class SessionSealer {
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('a session key is 32 bytes');
    this.key = key;
  }

  seal(claims: SessionClaims): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const plain = Buffer.from(`${claims.tokenHash}.${claims.expiresAt}`);
    const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
  }

  /** The claims of an authentic, unexpired cookie value; null for anything else. */
  open(value: string, now = Date.now()): SessionClaims | null {
    if (value.length > MAX_COOKIE_LENGTH || !/^[A-Za-z0-9_-]+$/.test(value)) return null;
    const raw = Buffer.from(value, 'base64url');
    if (raw.length < 29) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      const plain = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString();
      const m = /^([0-9a-f]{64})\.(\d{1,16})$/.exec(plain);
      if (!m) return null;
      const expiresAt = Number(m[2]);
      return expiresAt > now ? { tokenHash: m[1]!, expiresAt } : null;
    } catch {
      return null;
    }
  }
}

/**
 * GOMAN_SESSION_KEY (any text of at least 32 characters, hashed to a key) when set; otherwise
 * the data dir's key file, created on first use; with neither, a key for this process only.
 */
export async function loadSessionKey(opts: { envKey?: string | undefined; dataDir?: string | undefined }): Promise<Buffer> {
  if (opts.envKey !== undefined && opts.envKey !== '') {
    if (opts.envKey.length < 32) throw validationFailed('GOMAN_SESSION_KEY must be at least 32 characters');
    return createHash('sha256').update(opts.envKey).digest();
  }
  if (!opts.dataDir) return randomBytes(32);
  const file = path.join(opts.dataDir, KEY_FILE);
  try {
    const existing = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64url');
    if (existing.length === 32) return existing;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const key = randomBytes(32);
  // `wx`: two processes racing on a fresh dir cannot both win; the loser reads the winner's key.
  try {
    await writeFile(file, `${key.toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    return key;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return loadSessionKey(opts);
    throw e;
  }
}

/** One cookie's value from the Cookie header (no library: we read exactly one name). */
export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** https when the request came over TLS, directly or through a proxy that says so. */
export function requestScheme(request: FastifyRequest): 'http' | 'https' {
  const forwarded = request.headers['x-forwarded-proto'];
  return request.protocol === 'https' || forwarded === 'https' ? 'https' : 'http';
}

export function ownOrigin(request: FastifyRequest): string {
  return `${requestScheme(request)}://${request.host}`;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF defence on top of SameSite=Strict: a cookie-borne write must say it comes from this
 * very origin. Browsers always send Origin on cross-origin and on POST/PUT/PATCH/DELETE fetches.
 */
export function assertSameOrigin(request: FastifyRequest): void {
  if (SAFE_METHODS.has(request.method)) return;
  const origin = request.headers.origin;
  if (origin !== ownOrigin(request)) {
    throw new GomanError('FORBIDDEN', `a request signed in by cookie must carry Origin: ${ownOrigin(request)}`);
  }
}

export function sessionCookie(request: FastifyRequest, value: string, maxAgeSeconds: number): string {
  const secure = requestScheme(request) === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Strict${secure}`;
}
