// A route is declared once, with zod schemas for what it accepts and returns. `mountRoutes`
// hands those schemas to fastify (`schema.params/querystring/body/response`) with zod
// validator compiler, so fastify validates the request before the handler runs, and their
// output JSON Schema, which fastify serialises replies with; `buildOpenApi` documents the very
// same objects.
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema, FastifySchemaCompiler } from 'fastify';
import { z } from 'zod';
import { GomanError } from '../domain/index.ts';
import type { TokenRole } from '../domain/index.ts';
import type { Identity } from './auth.ts';
import { requireIdentity, roleProblem } from './auth.ts';
import { zodFieldErrors } from '../domain/zod-errors.ts';
import { HttpProblem } from './problem.ts';
import { problemSchema } from './schemas.ts';

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

const ANONYMOUS: Identity = Object.freeze({ key: 'anonymous', subject: 'anonymous', role: 'user' });

/** Whether the request carried a body at all (a length, or a chunked one). */
const bodySent = (request: FastifyRequest): boolean => Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined;

const WHERE: Record<string, string> = { body: 'body', querystring: 'query parameters', params: 'path parameters' };

/** fastify's validator compiler for zod: the parsed (defaulted, coerced) value replaces the raw one. */
// fastify types every compiler's input as FastifySchema; in our routes each part is a zod schema.
const zod = (schema: FastifySchema): z.ZodType => schema as z.ZodType;

const zodValidator: FastifySchemaCompiler<FastifySchema> = ({ schema, httpPart }) => {
  const where = WHERE[httpPart ?? ''] ?? httpPart ?? 'request';
  return (data: unknown) => {
    // fastify hands an absent body over as null; absent query or params are empty objects.
    const result = zod(schema).safeParse(data ?? (httpPart === 'body' ? undefined : {}));
    if (result.success) return { value: result.data };
    return { error: new GomanError('VALIDATION_FAILED', `invalid ${where}`, zodFieldErrors(result.error)) };
  };
};

/**
 * Response schemas go to fastify as the JSON Schema zod derives for output (the same one the
 * OpenAPI document shows), so fastify's own compiler (fast-json-stringify) serialises replies
 * from them: faster than JSON.stringify, and only declared shapes leave.
 */
function responseJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' });
  return rest;
}

function mediaType(request: FastifyRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

function fastifySchema(def: RouteDef): FastifySchema {
  const problem = responseJsonSchema(problemSchema);
  const response: Record<string, Record<string, unknown>> = { '4xx': problem, '5xx': problem };
  for (const [status, r] of Object.entries(def.responses)) if (r.schema && !r.contentType) response[status] = responseJsonSchema(r.schema);
  return {
    ...(def.params ? { params: def.params } : {}),
    ...(def.query ? { querystring: def.query } : {}),
    ...(def.body ? { body: def.body } : {}),
    response,
  };
}

/**
 * Checked before validation: a body this route does not take in that media type is a 415, not
 * field errors. Every body goman takes is a JSON object; a JSON `null` would otherwise pass as "no
 * body" (fastify hands an absent body over as null too), so what was sent is refused.
 */
function bodyProblem(request: FastifyRequest, bodyTypes: readonly string[]): HttpProblem | undefined {
  if (request.body !== undefined && request.body !== null && !bodyTypes.includes(mediaType(request))) {
    return new HttpProblem(415, 'VALIDATION_FAILED', `unsupported content type: send ${bodyTypes.join(' or ')}`, [
      { path: 'content-type', message: `must be ${bodyTypes.join(' or ')}` },
    ]);
  }
  if (request.body === null && bodySent(request)) {
    return new HttpProblem(400, 'VALIDATION_FAILED', 'invalid body: send a JSON object, or no body', [{ path: 'body', message: 'must be an object, not null' }]);
  }
  return undefined;
}

export function mountRoutes(app: FastifyInstance, routes: readonly RouteDef[]): void {
  for (const def of routes) {
    const isPublic = def.auth === 'public';
    const roles = def.auth === 'public' ? null : def.auth;
    const bodyTypes = def.bodyTypes ?? ['application/json'];
    app.route({
      method: def.method,
      url: def.url,
      config: { public: isPublic },
      schema: fastifySchema(def),
      validatorCompiler: zodValidator,
      ...(def.body
        ? {
            // A callback hook: no promise per request for checks that never wait.
            preValidation: (request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
              done(bodyProblem(request, bodyTypes));
            },
          }
        : {}),
      ...(roles
        ? {
            // A callback hook, not an async one: no promise per request for a check that never waits.
            preHandler: (request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
              const refused = roleProblem(request, roles);
              if (refused) done(refused);
              else done();
            },
          }
        : {}),
      handler: async (request, reply) =>
        def.handler({
          request,
          reply,
          params: request.params,
          query: request.query,
          body: request.body,
          identity: isPublic ? ANONYMOUS : requireIdentity(request),
        }),
    });
  }
}
