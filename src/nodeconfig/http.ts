// HTTP endpoints for recipes and bundles (DESIGN §9): GET|POST /v1/recipe, POST /v1/bundle.
// Registered by the API app under its auth, per-identity rate limit and per-route metrics.
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { parse as parseYaml } from 'yaml';
import { ifNoneMatchHits } from '../domain/etag.ts';
import { zodFieldErrors } from '../domain/zod-errors.ts';
import type { GomanError} from '../domain/errors.ts';
import { isGomanError, validationFailed, type ErrorCode } from '../domain/errors.ts';
import { bundleFiles, bundleZip } from './bundle.ts';
import { parseCriteria } from './recipe/criteria.ts';
import { buildRecipe, cachedRecipe } from './recipe/engine.ts';
import { recipeResultSchema, type RecipeResult } from './types.ts';

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];
const BODY_LIMIT = 1024 * 1024;
/** Recipes change only with a goman release, so clients and proxies may keep them a while. */
const RECIPE_CACHE_CONTROL = 'public, max-age=300';

const STATUS: Partial<Record<ErrorCode, number>> = { VALIDATION_FAILED: 400, NOT_FOUND: 404, PAYLOAD_TOO_LARGE: 413, RATE_LIMITED: 429 };

function problem(reply: FastifyReply, request: FastifyRequest, code: ErrorCode, status: number, detail: string, errors?: { path: string; message: string }[]): FastifyReply {
  const body: Record<string, unknown> = {
    type: `https://goman.io/problems/${code.toLowerCase().replaceAll('_', '-')}`,
    title: code === 'VALIDATION_FAILED' ? 'Invalid request' : code.replaceAll('_', ' ').toLowerCase(),
    status,
    detail,
    code,
    requestId: request.id,
  };
  if (errors) body.errors = errors;
  return reply.code(status).type('application/problem+json').send(body);
}

function criteriaInput(body: unknown): Record<string, unknown> {
  if (body === null || body === undefined) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw validationFailed('the body must be a criteria object');
  return body as Record<string, unknown>;
}

function sendRecipe(request: FastifyRequest, reply: FastifyReply, input: unknown): FastifyReply {
  const recipe = cachedRecipe(parseCriteria(criteriaInput(input)));
  reply.header('cache-control', RECIPE_CACHE_CONTROL).header('etag', recipe.etag);
  const ifNoneMatch = request.headers['if-none-match'];
  if (ifNoneMatchHits(ifNoneMatch, recipe.etag)) return reply.code(304).send();
  return reply.type('application/json; charset=utf-8').send(recipe.json);
}

function recipeFromBody(body: unknown): RecipeResult {
  const input = criteriaInput(body);
  if (input.kind === 'RecipeResult') {
    const r = recipeResultSchema.safeParse(input);
    if (!r.success) throw validationFailed('invalid recipe', zodFieldErrors(r.error));
    return r.data;
  }
  return buildRecipe(parseCriteria(input));
}

export const nodeConfigRoutes: FastifyPluginAsync = async (app) => {
  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => {
    try {
      done(null, parseYaml(body as string));
    } catch (e) {
      done(validationFailed(`the body is not YAML: ${(e as Error).message.split('\n')[0]}`));
    }
  });

  app.setErrorHandler((error: FastifyError | GomanError, request, reply) => {
    if (isGomanError(error)) return problem(reply, request, error.code, STATUS[error.code] ?? 500, error.message, error.errors);
    const status = error.statusCode;
    if (status === 400 || status === 415) return problem(reply, request, 'VALIDATION_FAILED', status, error.message);
    if (status === 413) return problem(reply, request, 'PAYLOAD_TOO_LARGE', 413, error.message);
    if (status === 429) return problem(reply, request, 'RATE_LIMITED', 429, error.message); // Retry-After is already set
    throw error; // the app's own handler deals with everything else
  });

  app.get('/v1/recipe', async (request, reply) => sendRecipe(request, reply, request.query));
  app.post('/v1/recipe', { bodyLimit: BODY_LIMIT }, async (request, reply) => sendRecipe(request, reply, request.body));

  app.post(
    '/v1/bundle',
    // Building a zip costs more than a cached recipe: a tighter per-client allowance when the
    // app's @fastify/rate-limit is registered (it keys by identity); ignored otherwise.
    { bodyLimit: BODY_LIMIT, config: { rateLimit: { max: 60, timeWindow: '1 minute' } } },
    async (request, reply) => {
      const recipe = recipeFromBody(request.body);
      const zip = await bundleZip(bundleFiles(recipe));
      return reply.type('application/zip').header('content-disposition', 'attachment; filename="goman-bundle.zip"').send(zip);
    },
  );
};
