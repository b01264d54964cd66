// Who is calling: a bearer token, or (gateway mode) an e-mail header that an API gateway
// vouches for with a shared secret. The header alone is never trusted (CLS Backend's
// `X-User-Email: controller@system.local` was all-powerful); a gateway user is always a `user`.
import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { GomanError } from '../domain/index.ts';
import type { TokenRecord, TokenRole } from '../domain/index.ts';
import type { SessionSealer } from './session.ts';
import { SESSION_COOKIE, assertSameOrigin, readCookie } from './session.ts';
import type { TokenVerifier } from './tokens.ts';

export interface Identity {
  /** Rate-limit and audit key: `token:<id>` or `gateway:<email>`. */
  key: string;
  subject: string;
  role: TokenRole;
  /** How the caller proved it; absent means a bearer token. */
  via?: 'token' | 'session' | 'gateway';
  /** When a console session ends (epoch ms). */
  expiresAt?: number;
  /** For long-lived requests (watch) of a console session: is it still good? */
  stillValid?: () => Promise<boolean>;
}

export interface AuthOptions {
  mode: 'token' | 'gateway';
  gatewaySecret?: string | undefined;
  /** Unseals console session cookies; without it cookies are ignored. */
  sessions?: SessionSealer | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    identity: Identity | null;
    /** Why authentication failed, when a credential was offered and refused. */
    authError: string | null;
  }
  interface FastifyContextConfig {
    /** Routes outside the API (health, metrics, docs) are public. */
    public?: boolean;
  }
}

const EMAIL = /^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,63}$/;

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time comparison that also hides the secret's length. */
export function secretMatches(offered: string, secret: string): boolean {
  return timingSafeEqual(digest(offered), digest(secret));
}

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return typeof v === 'string' ? v : undefined;
}

/** The token of an `Authorization: Bearer <token>` header, if that is what was sent. */
export function bearerToken(request: FastifyRequest): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header(request, 'authorization') ?? '')?.[1];
}

/**
 * Who the request is, in `request.identity` (or why not, in `request.authError`). A bearer token
 * seen within the cache's TTL is answered at once, with no promise: that is nearly every request.
 */
export function makeIdentify(opts: AuthOptions, verifier: TokenVerifier) {
  if (opts.mode === 'gateway' && !opts.gatewaySecret) throw new GomanError('VALIDATION_FAILED', 'gateway auth needs a gateway secret');
  const acceptToken = (request: FastifyRequest, record: TokenRecord | null): void => {
    if (record) request.identity = { key: `token:${record.id}`, subject: record.subject, role: record.role };
    else request.authError = 'the token is unknown, expired or revoked';
  };
  async function identifyWithoutToken(request: FastifyRequest): Promise<void> {
    const cookie = opts.sessions ? readCookie(request, SESSION_COOKIE) : undefined;
    if (cookie !== undefined && opts.sessions) {
      const claims = opts.sessions.open(cookie);
      const record = claims ? await verifier.verifyHash(claims.tokenHash) : null;
      if (claims && record) {
        assertSameOrigin(request);
        request.identity = {
          key: `token:${record.id}`,
          subject: record.subject,
          role: record.role,
          via: 'session',
          expiresAt: claims.expiresAt,
          stillValid: verifier.stillValidHash(claims.tokenHash, claims.expiresAt),
        };
        return;
      }
      request.authError = 'the console session has expired or its token was revoked: sign in again';
    }
    if (opts.mode !== 'gateway' || !opts.gatewaySecret) return;
    const email = header(request, 'x-user-email');
    const secret = header(request, 'x-gateway-secret');
    if (email === undefined || secret === undefined || !secretMatches(secret, opts.gatewaySecret)) return;
    if (!EMAIL.test(email)) {
      request.authError = 'X-User-Email is not an e-mail address';
      return;
    }
    request.identity = { key: `gateway:${email.toLowerCase()}`, subject: email.toLowerCase(), role: 'user', via: 'gateway' };
  }
  return function identify(request: FastifyRequest): Promise<void> | undefined {
    request.identity = null;
    request.authError = null;
    if (header(request, 'authorization') === undefined) return identifyWithoutToken(request);
    const token = bearerToken(request);
    if (!token) {
      request.authError = 'Authorization must be "Bearer <token>"';
      return undefined;
    }
    const known = verifier.known(token);
    if (known !== undefined) {
      acceptToken(request, known);
      return undefined;
    }
    return verifier.verify(token).then((record) => acceptToken(request, record));
  };
}

/** The refusal for a request that carries no identity. */
export function unauthenticated(request: FastifyRequest): GomanError {
  return new GomanError('UNAUTHENTICATED', request.authError ?? 'send "Authorization: Bearer <token>"');
}

export function requireIdentity(request: FastifyRequest): Identity {
  if (request.identity) return request.identity;
  throw unauthenticated(request);
}

/** Why `request` may not call a route open to `roles`; null when it may. */
export function roleProblem(request: FastifyRequest, roles: readonly TokenRole[]): GomanError | null {
  const identity = request.identity;
  if (!identity) return unauthenticated(request);
  return roles.includes(identity.role) ? null : new GomanError('FORBIDDEN', `role "${identity.role}" may not do this (needs ${roles.join(' or ')})`);
}

/** Users see only their own clusters; controllers and admins see all. */
export function ownerFilter(identity: Identity): string | undefined {
  return identity.role === 'user' ? identity.subject : undefined;
}
