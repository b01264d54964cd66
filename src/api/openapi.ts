// The OpenAPI 3.1 document, generated from the route table and the very zod schemas the
// routes validate with (route.ts), so the document cannot drift from the behaviour.
import { z } from 'zod';
import type { RouteDef } from './route.ts';
import { PROBLEM_CONTENT_TYPE } from './problem.ts';
import { apiSchemas } from './schemas.ts';

type JsonObject = Record<string, unknown>;

const COMPONENT = (id: string): string => `#/components/schemas/${id}`;

const PROBLEM_TEXT: Record<number, string> = {
  400: 'invalid request (problem+json naming the fields)',
  401: 'missing or invalid credentials',
  403: 'the caller\'s role may not do this',
  404: 'no such resource (or not the caller\'s)',
  405: 'method not allowed on the path the request reached (an unencoded ? or # in a path parameter ends the path)',
  409: 'conflict (name taken, being deleted, report from a future generation)',
  410: 'resume point too old',
  412: 'If-Match does not match the current resourceVersion',
  413: 'request body over 1 MiB',
  415: 'unsupported content type',
  422: 'valid, but changes a field that cannot change after creation (problem+json naming it)',
  429: 'rate limited (see Retry-After)',
  431: 'the URL and headers together exceed 16 KiB',
  500: 'internal error',
  503: 'store or bus unavailable',
};

function strip(schema: JsonObject): JsonObject {
  const { $schema: _, ...rest } = schema;
  return rest;
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
  const id = apiSchemas.get(schema)?.id;
  if (id && io === 'output') return { $ref: COMPONENT(id) };
  return strip(z.toJSONSchema(schema, { io, unrepresentable: 'any' }));
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): JsonObject[] {
  if (!schema) return [];
  const js = jsonSchema(schema, 'input') as { properties?: Record<string, JsonObject>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, s]) => {
    const { description, ...rest } = s;
    return {
      name,
      in: where,
      required: where === 'path' || (js.required ?? []).includes(name),
      schema: rest,
      ...(typeof description === 'string' ? { description } : {}),
    };
  });
}

function operation(def: RouteDef): JsonObject {
  const responses: JsonObject = {};
  for (const [status, r] of Object.entries(def.responses)) {
    const headers: JsonObject = { 'X-Request-Id': { description: 'request id (also in logs)', schema: { type: 'string' } } };
    for (const [name, description] of Object.entries(r.headers ?? {})) headers[name] = { description, schema: { type: 'string' } };
    responses[status] = {
      description: r.description,
      headers,
      ...(r.schema || r.contentType
        ? { content: { [r.contentType ?? 'application/json']: { schema: r.schema ? jsonSchema(r.schema, 'output') : { type: 'string' } } } }
        : {}),
    };
  }
  const problems = new Set<number>([...(def.problems ?? []), 500]);
  if (def.params || def.query || def.body) problems.add(400);
  // A raw '?' or '#' in a path parameter ends the path there (HTTP, not goman): the request then
  // reaches a shorter path, whose route may not take this method.
  if (def.params) problems.add(405);
  // Node's parser answers 431 before any route runs when the URL and headers pass 16 KiB.
  problems.add(431);
  if (def.body) [413, 415].forEach((s) => problems.add(s));
  if (def.auth !== 'public') [401, 403, 429, 503].forEach((s) => problems.add(s));
  for (const status of [...problems].sort()) {
    responses[String(status)] = {
      description: PROBLEM_TEXT[status] ?? 'error',
      ...(status === 429 ? { headers: { 'Retry-After': { description: 'seconds to wait', schema: { type: 'string' } } } } : {}),
      content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: COMPONENT('Problem') } } },
    };
  }
  const op: JsonObject = {
    operationId: def.operationId,
    summary: def.summary,
    tags: [def.tag],
    parameters: [...parameters(def.params, 'path'), ...parameters(def.query, 'query')],
    responses,
  };
  if (def.description) op.description = def.description;
  if (def.auth === 'public') op.security = [];
  else op['x-roles'] = def.auth;
  if (def.body) {
    const body = jsonSchema(def.body, 'input');
    op.requestBody = {
      required: true,
      content: Object.fromEntries((def.bodyTypes ?? ['application/json']).map((t) => [t, { schema: body }])),
    };
  }
  return op;
}

export function buildOpenApi(routes: readonly RouteDef[], info: { version: string; gateway: boolean; extraPaths?: Record<string, JsonObject> | undefined }): JsonObject {
  // Other areas' routes (recipes, bundles) describe themselves in the same terms.
  const paths: Record<string, JsonObject> = { ...info.extraPaths };
  for (const def of routes) {
    const path = def.url.replace(/:(\w+)/g, '{$1}');
    (paths[path] ??= {})[def.method.toLowerCase()] = operation(def);
  }
  const components = z.toJSONSchema(apiSchemas, { io: 'output', uri: COMPONENT, unrepresentable: 'any' }) as { schemas: Record<string, JsonObject> };
  const securitySchemes: JsonObject = {
    bearerAuth: { type: 'http', scheme: 'bearer', description: 'a goman API token (gmn_…)' },
  };
  if (info.gateway) {
    securitySchemes.gatewayUser = { type: 'apiKey', in: 'header', name: 'X-User-Email', description: 'trusted only with X-Gateway-Secret' };
    securitySchemes.gatewaySecret = { type: 'apiKey', in: 'header', name: 'X-Gateway-Secret' };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'goman control-plane API',
      version: info.version,
      description: 'Declare K3s clusters; controllers make the cloud match and report status. Errors are RFC 9457 problem+json.',
    },
    security: [{ bearerAuth: [] }, ...(info.gateway ? [{ gatewayUser: [], gatewaySecret: [] }] : [])],
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(components.schemas).map(([k, v]) => [k, strip(v)])),
      securitySchemes,
    },
  };
}
