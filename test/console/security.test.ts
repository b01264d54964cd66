// The console's security promises, checked over plain HTTP against a real `goman serve` (no
// browser needed): the session cookie's flags and lifetime, the Origin check on cookie-borne
// writes, the CSP on console responses, and that no response but token creation holds a token.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import Fastify from 'fastify';
import { CONSOLE_CSP, consoleRoutes } from '../../src/api/console.ts';
import { startServe, type ServeHandle } from '../helpers/serve.ts';

let srv: ServeHandle;
before(async () => {
  srv = await startServe({ args: ['--no-controllers'] });
});
after(() => srv.stop());

function bearer(token: string, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${token}`, ...extra };
}

async function signIn(token: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${srv.url}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: srv.url, ...headers },
    body: JSON.stringify({ token }),
  });
}

function cookieOf(res: Response): string {
  const set = res.headers.get('set-cookie') ?? '';
  return set.split(';')[0]!;
}

async function createToken(subject: string, role: string, expiresIn?: string): Promise<string> {
  const res = await fetch(`${srv.url}/api/v1/tokens`, {
    method: 'POST',
    headers: bearer(srv.token, { 'content-type': 'application/json' }),
    body: JSON.stringify({ subject, role, ...(expiresIn ? { expiresIn } : {}) }),
  });
  assert.equal(res.status, 201);
  return ((await res.json()) as { token: string }).token;
}

test('the session cookie is HttpOnly, SameSite=Strict, Path=/, holds no token and ends with its token', async () => {
  const token = await createToken('short-lived', 'user', '30m');
  const res = await signIn(token);
  assert.equal(res.status, 201);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const set = res.headers.get('set-cookie') ?? '';
  assert.match(set, /^goman_session=[A-Za-z0-9_-]+; /);
  assert.match(set, /; HttpOnly/);
  assert.match(set, /; SameSite=Strict/);
  assert.match(set, /; Path=\//);
  assert.doesNotMatch(set, /; Secure/, 'plain HTTP on localhost: a Secure cookie would never come back');
  const maxAge = Number(/Max-Age=(\d+)/.exec(set)?.[1]);
  assert.ok(maxAge > 0 && maxAge <= 30 * 60, `Max-Age ${maxAge} is within the token's 30 minutes`);
  assert.ok(!set.includes(token) && !set.includes(token.slice(4)), 'the cookie is not the token');
  assert.deepEqual(await res.json(), { subject: 'short-lived', role: 'user', via: 'session', expiresAt: (await (await fetch(`${srv.url}/api/v1/whoami`, { headers: { cookie: cookieOf(res) } })).json() as { expiresAt: string }).expiresAt });
});

test('behind TLS (X-Forwarded-Proto: https) the cookie is Secure too', async () => {
  const res = await signIn(srv.token, { 'x-forwarded-proto': 'https', origin: srv.url.replace('http:', 'https:') });
  assert.equal(res.status, 201);
  assert.match(res.headers.get('set-cookie') ?? '', /; Secure/);
});

test('a cookie-borne write from another origin, or with no Origin, is refused with 403 problem+json', async () => {
  const cookie = cookieOf(await signIn(srv.token));
  const post = (headers: Record<string, string>): Promise<Response> =>
    fetch(`${srv.url}/api/v1/clusters`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ name: 'csrf-target' }) });
  const refused: Record<string, string>[] = [{ origin: 'http://evil.example' }, {}];
  for (const headers of refused) {
    const res = await post(headers);
    assert.equal(res.status, 403);
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal(((await res.json()) as { code: string }).code, 'FORBIDDEN');
  }
  assert.equal((await fetch(`${srv.url}/api/v1/clusters/csrf-target`, { headers: bearer(srv.token) })).status, 404, 'nothing was created');
  assert.equal((await post({ origin: srv.url })).status, 201, 'the same origin may write');
  // Reads need no Origin; the console's own GETs (and EventSource) send none.
  assert.equal((await fetch(`${srv.url}/api/v1/clusters`, { headers: { cookie } })).status, 200);
});

test('sign-in tells a mis-pasted token (400, field token) from an unknown one (401)', async () => {
  const garbled = await signIn('not a token');
  assert.equal(garbled.status, 400);
  assert.deepEqual(((await garbled.json()) as { errors: { path: string }[] }).errors.map((e) => e.path), ['token']);
  const unknown = await signIn(`gmn_${'A'.repeat(43)}`);
  assert.equal(unknown.status, 401);
  assert.equal(unknown.headers.get('set-cookie'), null);
});

test('signing in from another origin is refused', async () => {
  const res = await signIn(srv.token, { origin: 'http://evil.example' });
  assert.equal(res.status, 403);
  assert.equal(res.headers.get('set-cookie'), null);
});

test('a tampered, forged or revoked session is not signed in', async () => {
  const token = await createToken('revokee', 'user');
  const cookie = cookieOf(await signIn(token));
  const whoami = (c: string): Promise<number> => fetch(`${srv.url}/api/v1/whoami`, { headers: { cookie: c } }).then((r) => r.status);
  assert.equal(await whoami(cookie), 200);
  const value = cookie.split('=')[1]!;
  const flipped = `${value.slice(0, 20)}${value[20] === 'A' ? 'B' : 'A'}${value.slice(21)}`;
  assert.equal(await whoami(`goman_session=${flipped}`), 401);
  assert.equal(await whoami('goman_session=forged'), 401);
  const tokens = (await (await fetch(`${srv.url}/api/v1/tokens`, { headers: bearer(srv.token) })).json()) as { items: { id: string; subject: string }[] };
  const id = tokens.items.find((t) => t.subject === 'revokee')!.id;
  assert.equal((await fetch(`${srv.url}/api/v1/tokens/${id}`, { method: 'DELETE', headers: bearer(srv.token) })).status, 204);
  assert.equal(await whoami(cookie), 401, 'revoking the token ends its sessions');
});

test("a console session's watch stream ends once its token is revoked", { timeout: 30_000 }, async () => {
  const token = await createToken('watcher', 'user');
  const cookie = cookieOf(await signIn(token));
  const watch = await fetch(`${srv.url}/api/v1/watch`, { headers: { cookie, accept: 'text/event-stream' } });
  assert.equal(watch.status, 200);
  const reader = (watch.body as ReadableStream<Uint8Array>).getReader();
  const tokens = (await (await fetch(`${srv.url}/api/v1/tokens`, { headers: bearer(srv.token) })).json()) as { items: { id: string; subject: string }[] };
  const id = tokens.items.find((t) => t.subject === 'watcher')!.id;
  assert.equal((await fetch(`${srv.url}/api/v1/tokens/${id}`, { method: 'DELETE', headers: bearer(srv.token) })).status, 204);
  // Reads until the server closes the stream (heartbeats and the connect comment may come first).
  for (;;) if ((await reader.read()).done) break;
});

test('sign-out clears the cookie', async () => {
  const res = await fetch(`${srv.url}/api/v1/session`, { method: 'DELETE', headers: { origin: srv.url } });
  assert.equal(res.status, 204);
  assert.match(res.headers.get('set-cookie') ?? '', /^goman_session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict/);
});

test('the console page and its assets carry the strict CSP; hashed assets are immutable', async () => {
  const page = await fetch(`${srv.url}/`);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('content-security-policy'), CONSOLE_CSP);
  assert.match(CONSOLE_CSP, /script-src 'self';/);
  assert.equal(page.headers.get('cache-control'), 'no-cache');
  const html = await page.text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
  assert.doesNotMatch(html, /<style|style=/, 'no inline style');
  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
  assert.ok(assets.some((a) => a.endsWith('.js')), html);
  for (const a of assets) {
    const res = await fetch(`${srv.url}${a}`);
    assert.equal(res.status, 200, a);
    assert.equal(res.headers.get('content-security-policy'), CONSOLE_CSP);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  }
});

test('no response but token creation contains a token', async () => {
  const user = await createToken('carol', 'user');
  const session = await signIn(user);
  const cookie = cookieOf(session);
  const bodies: [string, string][] = [['POST /api/v1/session', `${JSON.stringify([...session.headers])}${await session.text()}`]];
  const page = await (await fetch(`${srv.url}/`)).text();
  const assets = [...page.matchAll(/src="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
  const gets = ['/', ...assets, '/api/v1/whoami', '/api/v1/clusters', '/api/v1/info', '/openapi.json', '/docs'];
  for (const p of gets) {
    for (const headers of [{ cookie }, bearer(srv.token)]) {
      const res = await fetch(`${srv.url}${p}`, { headers });
      bodies.push([`GET ${p}`, `${JSON.stringify([...res.headers])}${await res.text()}`]);
    }
  }
  const list = await fetch(`${srv.url}/api/v1/tokens`, { headers: bearer(srv.token) });
  bodies.push(['GET /api/v1/tokens', `${JSON.stringify([...list.headers])}${await list.text()}`]);
  for (const [what, text] of bodies) {
    for (const secret of [user, srv.token]) assert.ok(!text.includes(secret) && !text.includes(secret.slice(4)), `${what} contains a token`);
    assert.doesNotMatch(text, /gmn_[A-Za-z0-9_-]{43}/, `${what} contains something token-shaped`);
  }
  const created = await fetch(`${srv.url}/api/v1/tokens`, {
    method: 'POST',
    headers: bearer(srv.token, { 'content-type': 'application/json' }),
    body: JSON.stringify({ subject: 'dave', role: 'user' }),
  });
  assert.match(await created.text(), /"token":"gmn_[A-Za-z0-9_-]{43}"/, 'creation is the one place a token is shown');
});

test('session, whoami and kubeconfig are in the OpenAPI document', async () => {
  const doc = (await (await fetch(`${srv.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
  assert.deepEqual(Object.keys(doc.paths['/api/v1/session'] ?? {}).sort(), ['delete', 'post']);
  assert.ok(doc.paths['/api/v1/whoami']?.get);
  assert.ok(doc.paths['/api/v1/clusters/{idOrName}/kubeconfig']?.get);
});

test('without a console build, / says how to build one (503 HTML, never a 500)', async () => {
  const empty = await mkdtemp(path.join(tmpdir(), 'goman-no-console-'));
  const app = Fastify();
  await app.register(consoleRoutes(empty));
  try {
    const res = await app.inject({ method: 'GET', url: '/' });
    assert.equal(res.statusCode, 503);
    assert.match(res.headers['content-type'] as string, /text\/html/);
    assert.match(res.body, /npm run build:console/);
    assert.equal(res.headers['content-security-policy'], CONSOLE_CSP);
  } finally {
    await app.close();
    await rm(empty, { recursive: true, force: true });
  }
});

test('gateway mode: the console knows the gateway user; whoami says so', async () => {
  const secret = 'a-gateway-secret-of-sufficient-length';
  const gw = await startServe({ args: ['--no-controllers'], env: { GOMAN_AUTH: 'gateway', GOMAN_GATEWAY_SECRET: secret } });
  try {
    assert.equal((await fetch(`${gw.url}/`)).status, 200);
    const res = await fetch(`${gw.url}/api/v1/whoami`, { headers: { 'x-user-email': 'Erin@Example.com', 'x-gateway-secret': secret } });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { subject: 'erin@example.com', role: 'user', via: 'gateway', expiresAt: null });
    assert.equal((await fetch(`${gw.url}/api/v1/whoami`, { headers: { 'x-user-email': 'erin@example.com' } })).status, 401);
  } finally {
    await gw.stop();
  }
});
