// Request bodies: JSON (and merge-patch JSON) parsed by fastify's own secure parser, then
// bounded in depth before any route or hook sees them, so code that recurses over a body (merge
// patch, canonical JSON, the store's JSON columns) never meets a 10 000-deep document.
import type { FastifyBodyParser, FastifyInstance } from 'fastify';
import { GomanError, MAX_JSON_DEPTH, jsonDepth } from '../domain/index.ts';

function depthBounded(parse: FastifyBodyParser<string>): FastifyBodyParser<string> {
  return (request, body, done) => {
    void parse(request, body, (error, value) => {
      if (error) return done(error);
      if (jsonDepth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
        const message = `must not nest deeper than ${MAX_JSON_DEPTH} levels`;
        return done(new GomanError('VALIDATION_FAILED', `the request body ${message}`, [{ path: '(body)', message }]));
      }
      done(null, value);
    });
  };
}

/** application/json and application/merge-patch+json, both depth-bounded, up to `bodyLimit` bytes. */
export function registerJsonParsers(app: FastifyInstance, bodyLimit: number): void {
  const parse = depthBounded(app.getDefaultJsonParser('error', 'error'));
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, parse);
  app.addContentTypeParser('application/merge-patch+json', { parseAs: 'string', bodyLimit }, parse);
}
