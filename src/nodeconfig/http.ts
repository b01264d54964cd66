// HTTP endpoints for recipes and bundles (DESIGN §9): GET|POST /v1/recipe, POST /v1/bundle.
// Registered by the API app under its auth, per-identity rate limit and per-route metrics.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { parse as parseYaml, YAMLError } from 'yaml';
import { ifNoneMatchHits } from '../domain/etag.ts';
import { zodFieldErrors } from '../domain/zod-errors.ts';
import { GomanError, validationFailed } from '../domain/errors.ts';
import { MAX_JSON_DEPTH, jsonDepth } from '../domain/json-bounds.ts';
import { bundleFiles, bundleZip } from './bundle.ts';
import { parseCriteria } from './recipe/criteria.ts';
import { buildRecipe, cachedRecipe } from './recipe/engine.ts';
import { recipeResultSchema, type RecipeResult } from './types.ts';

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];
const BODY_LIMIT = 1024 * 1024;
/** What a YAML body may expand to through its aliases (as JSON): no more than a JSON body may be. */
const MAX_EXPANDED_BYTES = BODY_LIMIT;
/** YAML aliases a body may use (yaml's own guard against "billion laughs"; recipes need few). */
const MAX_YAML_ALIASES = 100;
/** A real recipe's bundle is tens of KiB; a crafted recipe must not make a zip of hundreds of MiB. */
export const MAX_BUNDLE_BYTES = 8 * 1024 * 1024;
/** Recipes change only with a goman release, so clients and proxies may keep them a while. */
const RECIPE_CACHE_CONTROL = 'public, max-age=300';

/** YAML text → a value that is as bounded as a JSON body: expanded size first (it stops early), then depth. */
export function parseBoundedYaml(text: string): unknown {
  let value: unknown;
  try {
    value = parseYaml(text, { maxAliasCount: MAX_YAML_ALIASES });
  } catch (e) {
    const where = e instanceof YAMLError && e.linePos ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
    if (e instanceof Error && /call stack|alias/i.test(e.message)) {
      throw validationFailed(`the YAML body${where} nests too deep or repeats its aliases too often (at most ${MAX_JSON_DEPTH} levels, ${MAX_YAML_ALIASES} aliases)`);
    }
    throw validationFailed(`the body is not YAML${where}; send application/yaml or application/json`);
  }
  if (!jsonFitsIn(value, MAX_EXPANDED_BYTES)) {
    throw new GomanError('PAYLOAD_TOO_LARGE', `the YAML body expands (through its aliases) to more than ${MAX_EXPANDED_BYTES} bytes`);
  }
  if (jsonDepth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    const message = `must not nest deeper than ${MAX_JSON_DEPTH} levels`;
    throw validationFailed(`the request body ${message}`, [{ path: '(body)', message }]);
  }
  return value;
}

/**
 * Whether the JSON text of a value is at most `limit` bytes, without writing it: a walk that
 * stops as soon as the budget is spent, so a value that aliases one large string or object
 * many times costs no more than `limit` to reject. (Counts UTF-16 units, close enough for a bound.)
 */
function jsonFitsIn(value: unknown, limit: number): boolean {
  let budget = limit;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') budget -= v.length + 2;
    else if (v === null || typeof v !== 'object') budget -= String(v).length;
    else {
      budget -= 2;
      for (const [key, child] of Object.entries(v)) {
        budget -= key.length + 4;
        stack.push(child);
      }
    }
    if (budget < 0) return false;
  }
  return true;
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

/**
 * GET|POST /v1/recipe and POST /v1/bundle, registered inside the API app: its auth (any role;
 * no anonymous calls), per-identity rate limit, JSON parsers (depth-bounded), metrics and its
 * one problem+json error handler apply here too. `nodeConfigOpenApi` describes them.
 */
export const nodeConfigRoutes: FastifyPluginAsync = async (app) => {
  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => {
    try {
      done(null, parseBoundedYaml(body as string));
    } catch (e) {
      done(e as Error);
    }
  });

  app.get('/v1/recipe', async (request, reply) => sendRecipe(request, reply, request.query));
  app.post('/v1/recipe', { bodyLimit: BODY_LIMIT }, async (request, reply) => sendRecipe(request, reply, request.body));

  app.post(
    '/v1/bundle',
    // Building a zip costs more than a cached recipe: a tighter per-client allowance when the
    // app's @fastify/rate-limit is registered (it keys by identity); ignored otherwise.
    { bodyLimit: BODY_LIMIT, config: { rateLimit: { max: 60, timeWindow: '1 minute' } } },
    async (request, reply) => {
      const files = bundleFiles(recipeFromBody(request.body));
      let bytes = 0;
      for (const content of files.values()) bytes += content.length;
      if (bytes > MAX_BUNDLE_BYTES) throw new GomanError('PAYLOAD_TOO_LARGE', `the bundle would hold ${bytes} bytes; at most ${MAX_BUNDLE_BYTES}`);
      const zip = await bundleZip(files);
      return reply.type('application/zip').header('content-disposition', 'attachment; filename="goman-bundle.zip"').send(zip);
    },
  );
};
