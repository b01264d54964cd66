// The web console's files (docs/console.md): `/` is index.html, `/assets/*` the hashed bundle
// Vite built into dist/console at `npm ci` (the `prepare` script). Every answer carries a strict
// CSP; hashed assets are immutable, the page itself is revalidated. Without a build, `/` is a
// page that says how to make one (never a 500). Read once at start-up: the set is small.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

export const CONSOLE_DIST = fileURLToPath(new URL('../../dist/console/', import.meta.url));

export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>goman console: not built</title></head>
<body><main><h1>The goman console is not built</h1>
<p>This goman was installed without its web console. Build it in the goman directory with
<code>npm run build:console</code> (or reinstall with <code>npm ci</code>), then reload this page.</p>
<p>The API is unaffected: see <a href="/docs">/docs</a>.</p></main></body></html>
`;

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONSOLE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY');
}

interface Asset {
  raw: Buffer;
  gzip: Buffer;
}

async function loadAssets(dir: string): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  const assetDir = path.join(dir, 'assets');
  const names = await readdir(assetDir).catch(() => [] as string[]);
  for (const name of names) {
    if (!TYPES[path.extname(name)]) continue;
    const raw = await readFile(path.join(assetDir, name));
    assets.set(name, { raw, gzip: gzipSync(raw, { level: 9 }) });
  }
  return assets;
}

function acceptsGzip(request: FastifyRequest): boolean {
  const accept = request.headers['accept-encoding'];
  return typeof accept === 'string' && /\bgzip\b/.test(accept);
}

export function consoleRoutes(dir = CONSOLE_DIST): FastifyPluginAsync {
  return async (app) => {
    const index = await readFile(path.join(dir, 'index.html')).catch(() => null);
    const assets = await loadAssets(dir);
    const config = { public: true };

    app.get('/', { config }, async (_request, reply) => {
      secure(reply).header('cache-control', 'no-cache').type('text/html; charset=utf-8');
      return index ? reply.send(index) : reply.code(503).send(NOT_BUILT);
    });
    app.get<{ Params: { file: string } }>('/assets/:file', { config }, async (request, reply) => {
      const asset = assets.get(request.params.file);
      secure(reply).header('vary', 'accept-encoding');
      if (!asset) return reply.code(404).type('text/plain; charset=utf-8').send('not found');
      const gzip = acceptsGzip(request);
      if (gzip) void reply.header('content-encoding', 'gzip');
      // Vite puts a content hash in every asset name: a changed file is a new URL.
      return reply
        .header('cache-control', 'public, max-age=31536000, immutable')
        .type(TYPES[path.extname(request.params.file)]!)
        .send(gzip ? asset.gzip : asset.raw);
    });
  };
}
