// /api/v1/tokens (admin only). The plaintext token appears in the create response and nowhere else.
import { conflict, GomanError } from '../../domain/index.ts';
import type { TokenStore } from '../../store/port.ts';
import type { RouteDef } from '../route.ts';
import { defineRoute } from '../route.ts';
import { createTokenBody, createdTokenSchema, tokenIdParams, tokenListSchema } from '../schemas.ts';
import type { TokenVerifier } from '../tokens.ts';
import { issueToken, parseExpiresIn, publicRecord } from '../tokens.ts';

const ADMIN = ['admin'] as const;

/** Nobody may lock every admin out: revoking the only unexpired admin token is refused. */
async function refuseLastAdmin(store: TokenStore, id: string): Promise<void> {
  const now = Date.now();
  const admins = (await store.listTokens()).filter((t) => t.role === 'admin' && (t.expiresAt === null || Date.parse(t.expiresAt) > now));
  if (admins.length === 1 && admins[0]!.id === id) {
    throw conflict(`token "${id}" is the last admin token; create another with \`goman token create --role admin\` before revoking it`);
  }
}

export function tokenRoutes(store: TokenStore, verifier: TokenVerifier): RouteDef[] {
  return [
    defineRoute({
      method: 'POST',
      url: '/api/v1/tokens',
      operationId: 'createToken',
      summary: 'Create an API token',
      tag: 'tokens',
      auth: ADMIN,
      body: createTokenBody,
      responses: { 201: { description: 'the token, shown only here', schema: createdTokenSchema } },
      handler: async ({ reply, body }) => {
        const expiresInMs = body.expiresIn === undefined ? undefined : parseExpiresIn(body.expiresIn);
        const created = await issueToken(store, { subject: body.subject, role: body.role, expiresInMs });
        void reply.code(201).header('cache-control', 'no-store');
        return created;
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/v1/tokens',
      operationId: 'listTokens',
      summary: 'List API tokens (no secrets)',
      tag: 'tokens',
      auth: ADMIN,
      responses: { 200: { description: 'the tokens', schema: tokenListSchema } },
      handler: async () => ({ items: (await store.listTokens()).map(publicRecord) }),
    }),
    defineRoute({
      method: 'DELETE',
      url: '/api/v1/tokens/:id',
      operationId: 'revokeToken',
      summary: 'Revoke an API token',
      description: 'The last unexpired admin token cannot be revoked (409): create another admin token first. Recovery when none is left: `goman serve --reset-admin-token`.',
      tag: 'tokens',
      auth: ADMIN,
      params: tokenIdParams,
      responses: { 204: { description: 'revoked' } },
      problems: [404, 409],
      handler: async ({ reply, params }) => {
        await refuseLastAdmin(store, params.id);
        if (!(await store.revokeToken(params.id))) throw new GomanError('NOT_FOUND', `token "${params.id}" not found`);
        verifier.forget(params.id);
        return reply.code(204).send();
      },
    }),
  ];
}
