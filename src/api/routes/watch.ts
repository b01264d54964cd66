// GET /api/v1/watch (Server-Sent Events); the streaming itself lives in ../watch.ts.
import { bearerToken } from '../auth.ts';
import type { RouteDef } from '../route.ts';
import { defineRoute } from '../route.ts';
import { watchQuery } from '../schemas.ts';
import type { TokenVerifier } from '../tokens.ts';
import type { WatchHub } from '../watch.ts';

export function watchRoutes(hub: WatchHub, verifier: TokenVerifier): RouteDef[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/v1/watch',
      operationId: 'watch',
      summary: 'Server-Sent Events of cluster changes',
      description:
        'Events `created`, `updated`, `status`, `deleting` (data `{"type", "cluster"}`) and `deleted` (data `{"type", "id", "name"}`) ' +
        'for the clusters the caller may see. The SSE `id` is the outbox position: reconnect with `?resourceVersion=<last id>` ' +
        '(or the largest resourceVersion of a list) to resume; 410 when that is no longer retained or newer than the latest event ' +
        '(list again, then watch). The backlog after a resume point streams at the pace the client reads. Comment heartbeats every 15 s; ' +
        'a stream ends within the token cache TTL (5 s) once its token is revoked or expires.',
      tag: 'clusters',
      auth: ['user', 'controller', 'admin'],
      query: watchQuery,
      responses: { 200: { description: 'an event stream', contentType: 'text/event-stream' } },
      problems: [410],
      handler: async ({ request, reply, query, identity }) => {
        const cursor = await hub.prepare(query.resourceVersion);
        // Gateway identities are vouched for per request; a token (or the one behind a console
        // session) can be revoked mid-stream.
        const token = bearerToken(request);
        reply.hijack();
        await hub.open(reply.raw, identity, cursor, String(request.id), token ? verifier.stillValid(token) : identity.stillValid);
      },
    }),
  ];
}
