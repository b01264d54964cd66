// Console sign-in (docs/console.md): POST /api/v1/session trades a pasted token for a sealed,
// HttpOnly session cookie; DELETE signs out; GET /api/v1/whoami says who the caller is, however
// they proved it (bearer token, session cookie or gateway). No response here carries a token.
import { z } from 'zod';
import { GomanError, validationFailed } from '../../domain/index.ts';
import type { RouteDef } from '../route.ts';
import { defineRoute } from '../route.ts';
import { TOKEN_ROLES, apiSchemas } from '../schemas.ts';
import type { SessionSealer } from '../session.ts';
import { SESSION_MAX_MS, assertSameOrigin, sessionCookie } from '../session.ts';
import { hashToken, isTokenShaped } from '../tokens.ts';
import type { TokenVerifier } from '../tokens.ts';

const ALL = ['user', 'controller', 'admin'] as const;

export const createSessionBody = z.strictObject({
  token: z.string().min(1).max(256).describe('an API token; it is not kept, only a sealed reference to it'),
});

export const whoamiSchema = z
  .object({
    subject: z.string(),
    role: z.enum(TOKEN_ROLES),
    via: z.enum(['token', 'session', 'gateway']),
    expiresAt: z.string().nullable().describe('when this session or token stops working (RFC 3339); null = no expiry'),
  })
  .register(apiSchemas, { id: 'WhoAmI' });

export function sessionRoutes(verifier: TokenVerifier, sealer: SessionSealer): RouteDef[] {
  return [
    defineRoute({
      method: 'POST',
      url: '/api/v1/session',
      operationId: 'createSession',
      summary: 'Sign in to the console: exchange a token for a session cookie',
      description:
        'Sets `goman_session` (HttpOnly, SameSite=Strict, Path=/, Secure behind TLS), valid until the token expires and at most 12 h. ' +
        'Requests carrying the cookie instead of a bearer token must send `Origin` equal to this server for anything but GET/HEAD.',
      tag: 'session',
      auth: 'public',
      body: createSessionBody,
      responses: { 201: { description: 'signed in', schema: whoamiSchema, headers: { 'set-cookie': 'the session cookie' } } },
      problems: [401, 403],
      handler: async ({ request, reply, body }) => {
        if (request.headers.origin !== undefined) assertSameOrigin(request);
        const token = body.token.trim();
        if (!isTokenShaped(token)) {
          throw validationFailed('that is not a goman API token', [{ path: 'token', message: 'must be a goman API token (gmn_ followed by 43 characters)' }]);
        }
        const now = Date.now();
        const record = await verifier.verify(token, now);
        if (!record) throw new GomanError('UNAUTHENTICATED', 'the token is unknown, expired or revoked', [{ path: 'token', message: 'is unknown, expired or revoked' }]);
        const tokenEnds = record.expiresAt === null ? Infinity : Date.parse(record.expiresAt);
        const expiresAt = Math.min(tokenEnds, now + SESSION_MAX_MS);
        const cookie = sealer.seal({ tokenHash: hashToken(token), expiresAt });
        void reply
          .code(201)
          .header('cache-control', 'no-store')
          .header('set-cookie', sessionCookie(request, cookie, Math.floor((expiresAt - now) / 1000)));
        return { subject: record.subject, role: record.role, via: 'session' as const, expiresAt: new Date(expiresAt).toISOString() };
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: '/api/v1/session',
      operationId: 'deleteSession',
      summary: 'Sign out of the console (clears the session cookie)',
      tag: 'session',
      auth: 'public',
      responses: { 204: { description: 'signed out' } },
      problems: [403],
      handler: async ({ request, reply }) => {
        if (request.headers.origin !== undefined) assertSameOrigin(request);
        return reply.code(204).header('cache-control', 'no-store').header('set-cookie', sessionCookie(request, '', 0)).send();
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/whoami',
      operationId: 'whoami',
      summary: 'Who the caller is and with which role',
      tag: 'session',
      auth: ALL,
      responses: { 200: { description: 'the caller', schema: whoamiSchema } },
      handler: async ({ reply, identity }) => {
        void reply.header('cache-control', 'no-store');
        return {
          subject: identity.subject,
          role: identity.role,
          via: identity.via ?? 'token',
          expiresAt: identity.expiresAt === undefined ? null : new Date(identity.expiresAt).toISOString(),
        };
      },
    }),
  ];
}
