// A route is declared once, with zod schemas for what it accepts and returns; `mountRoutes`
// validates requests with those schemas and `buildOpenApi` documents the same objects.
// (This is the whole of our "zod type provider".)
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { GomanError } from '../domain/index.ts';
import type { TokenRole } from '../store/port.ts';
import type { Identity } from './auth.ts';
import { requireRole } from './auth.ts';
import { HttpProblem, zodFieldErrors } from './problem.ts';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ResponseDef {
  description: string;
  schema?: z.ZodType;
  /** Defaults to application/json when a schema is given. */
  contentType?: string;
  headers?: Record<string, string>;
}

export interface RouteContext<P, Q, B> {
  request: FastifyRequest;
  reply: FastifyReply;
  params: P;
  query: Q;
  body: B;
  identity: Identity;
}

export interface RouteDef<P extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType> {
  method: Method;
  /** Fastify syntax (`/api/v1/clusters/:idOrName`); also the metrics label. */
  url: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** Roles allowed; 'public' needs no credentials. */
  auth: readonly TokenRole[] | 'public';
  params?: P;
  query?: Q;
  body?: B;
  /** Accepted request content types (default application/json). */
  bodyTypes?: readonly string[];
  responses: Record<number, ResponseDef>;
  /** Problem statuses this route may answer besides the ones every API route may. */
  problems?: readonly number[];
  handler(ctx: RouteContext<z.output<P>, z.output<Q>, z.output<B>>): Promise<unknown>;
}

/** Identity-preserving helper so each route's handler is typed from its own schemas. */
export function defineRoute<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(def: RouteDef<P, Q, B>): RouteDef {
  return def;
}

const ALL_ROLES: readonly TokenRole[] = ['user', 'controller', 'admin'];
const ANONYMOUS: Identity = Object.freeze({ key: 'anonymous', subject: 'anonymous', role: 'user' });

function parse<S extends z.ZodType>(schema: S | undefined, value: unknown, where: string): z.output<S> | undefined {
  if (!schema) return undefined;
  const result = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (result.success) return result.data;
  throw new GomanError('VALIDATION_FAILED', `invalid ${where}`, zodFieldErrors(result.error));
}

function mediaType(request: FastifyRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

export function mountRoutes(app: FastifyInstance, routes: readonly RouteDef[]): void {
  for (const def of routes) {
    const isPublic = def.auth === 'public';
    const roles = def.auth === 'public' ? ALL_ROLES : def.auth;
    const bodyTypes = def.bodyTypes ?? ['application/json'];
    app.route({
      method: def.method,
      url: def.url,
      config: { public: isPublic },
      handler: async (request, reply) => {
        const identity = isPublic ? ANONYMOUS : requireRole(request, roles);
        if (def.body && request.body !== undefined && !bodyTypes.includes(mediaType(request))) {
          throw new HttpProblem(415, 'VALIDATION_FAILED', `unsupported content type: send ${bodyTypes.join(' or ')}`, [
            { path: 'content-type', message: `must be ${bodyTypes.join(' or ')}` },
          ]);
        }
        const params = parse(def.params, request.params, 'path parameters');
        const query = parse(def.query, request.query, 'query parameters');
        const body = parse(def.body, request.body, 'body');
        return def.handler({ request, reply, params, query, body, identity });
      },
    });
  }
}
