// The OpenAPI paths of /v1/recipe and /v1/bundle, for the API's /openapi.json (so clients and
// the fuzzer know them). Criteria are case-insensitive and trimmed, as parseCriteria reads them;
// the patterns say exactly that, so nothing the schema forbids is ever accepted.
import { z } from 'zod';
import { CRITERIA_VALUES } from './recipe/criteria.ts';
import { recipeResultSchema } from './types.ts';

type JsonObject = Record<string, unknown>;

const PROBLEM = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } };
const problem = (description: string): JsonObject => ({ description, content: PROBLEM });
const REQUEST_ID = { 'X-Request-Id': { description: 'request id (also in logs)', schema: { type: 'string' } } };

/** "eks" → "[eE][kK][sS]": one allowed value, any letter case. */
const anyCase = (value: string): string => [...value].map((ch) => (/[a-z]/.test(ch) ? `[${ch}${ch.toUpperCase()}]` : ch.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&'))).join('');

function criterionSchema(values: readonly string[]): JsonObject {
  return { type: 'string', pattern: `^(|\\s*(${values.map(anyCase).join('|')})\\s*)$`, description: `one of ${values.join(', ')} (any case; empty = any)` };
}

/** As text (a query parameter, or a string in a body): digits, trimmed; empty = unset. */
const NODES_TEXT = { type: 'string', pattern: '^(|\\s*[0-9]+\\s*)$', description: 'number of nodes, 1 to 100000' };
const NODES_NUMBER = { type: 'integer', minimum: 1, maximum: 100_000 };
const criteria = Object.entries(CRITERIA_VALUES).map(([k, v]) => [k, criterionSchema(v)] as const);
const criteriaQuery = Object.fromEntries([...criteria, ['nodes', NODES_TEXT]]);
const NULL = { type: 'null' };
const criteriaBody: JsonObject = {
  type: 'object',
  properties: Object.fromEntries([...criteria.map(([k, v]) => [k, { anyOf: [v, NULL] }]), ['nodes', { anyOf: [NODES_NUMBER, NODES_TEXT, NULL] }]]),
  additionalProperties: false,
};
const recipeSchema = (io: 'input' | 'output'): JsonObject => {
  const { $schema: _, ...rest } = z.toJSONSchema(recipeResultSchema, { io, unrepresentable: 'any' }) as JsonObject;
  return rest;
};

const COMMON = {
  '401': problem('missing or invalid credentials'),
  '429': { ...problem('rate limited (see Retry-After)'), headers: { 'Retry-After': { description: 'seconds to wait', schema: { type: 'string' } } } },
  '500': problem('internal error'),
};
const WITH_BODY = {
  '413': problem('request body over 1 MiB, a YAML body that expands past 1 MiB, or a bundle over 8 MiB'),
  '415': problem('unsupported content type'),
};
/** A body is optional; an empty one, or `null`, means "no criteria" (every field `any`). */
const bodyOf = (schema: JsonObject): JsonObject => {
  const orNull = { anyOf: [...((schema.anyOf as JsonObject[] | undefined) ?? [schema]), NULL] };
  return { required: false, content: { 'application/json': { schema: orNull }, 'application/yaml': { schema: orNull } } };
};
const recipeOk = {
  description: 'the recipe (ETag and Cache-Control set)',
  headers: { ...REQUEST_ID, ETag: { description: 'the recipe version', schema: { type: 'string' } } },
  content: { 'application/json': { schema: recipeSchema('output') } },
};
const notModified = { description: 'If-None-Match matched', headers: REQUEST_ID };
const roles = ['user', 'controller', 'admin'];

export const nodeConfigOpenApi: Record<string, JsonObject> = {
  '/v1/recipe': {
    get: {
      operationId: 'getRecipe',
      summary: 'The recipe (components, versions, constraints) for some criteria',
      tags: ['recipes'],
      'x-roles': roles,
      parameters: Object.entries(criteriaQuery).map(([name, schema]) => ({ name, in: 'query', required: false, schema })),
      responses: { '200': recipeOk, '304': notModified, '400': problem('unknown criteria or values (problem+json naming them)'), ...COMMON },
    },
    post: {
      operationId: 'postRecipe',
      summary: 'The recipe for criteria sent as JSON or YAML',
      tags: ['recipes'],
      'x-roles': roles,
      requestBody: bodyOf(criteriaBody),
      responses: { '200': recipeOk, '304': notModified, '400': problem('invalid criteria, YAML, or a body nested too deep'), ...WITH_BODY, ...COMMON },
    },
  },
  '/v1/bundle': {
    post: {
      operationId: 'postBundle',
      summary: 'A Helm umbrella chart (zip) for criteria or for a recipe',
      description: 'At most 60 per minute per caller. YAML bodies may use at most 100 aliases and expand to at most 1 MiB; the bundle is at most 8 MiB.',
      tags: ['recipes'],
      'x-roles': roles,
      requestBody: bodyOf({ anyOf: [criteriaBody, recipeSchema('input')] }),
      responses: {
        '200': { description: 'the bundle', headers: REQUEST_ID, content: { 'application/zip': { schema: { type: 'string', format: 'binary' } } } },
        '400': problem('invalid criteria or recipe'),
        ...WITH_BODY,
        ...COMMON,
      },
    },
  },
};
