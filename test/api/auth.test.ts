// Authentication, roles, tokens, gateway mode and rate limits (CLS Backend's auth defects).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { Cluster } from '../../src/domain/index.ts';
import { ensureAdminToken } from '../../src/api/tokens.ts';
import { harness, PROBLEM } from './harness.ts';

test('no or bad credentials: 401 problem; a bad token never reaches the body', async (t) => {
  const h = await harness(t);
  for (const authorization of [undefined, 'Bearer gmn_nope', 'Basic YWRtaW46YWRtaW4=', `Bearer ${h.tokens.admin}x`]) {
    const res = await h.app.inject({ method: 'POST', url: '/api/v1/clusters', payload: { name: 'x' }, headers: authorization ? { authorization } : {} });
    assert.equal(res.statusCode, 401, String(authorization));
    assert.match(String(res.headers['content-type']), PROBLEM);
    assert.equal(res.json<{ code: string }>().code, 'UNAUTHENTICATED');
  }
  const malformed = await h.app.inject({ method: 'POST', url: '/api/v1/clusters', payload: '{oops', headers: { 'content-type': 'application/json' } });
  assert.equal(malformed.statusCode, 401, 'anonymous bodies are not even parsed');
  assert.equal((await h.store.listClusters({ limit: 10 })).items.length, 0);
});

test('users see only their own clusters: another user\'s cluster is a 404, never a 403', async (t) => {
  const h = await harness(t);
  const mine = (await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'alices' } })).json<Cluster>();
  for (const req of [
    { method: 'GET' as const, url: `/api/v1/clusters/${mine.id}` },
    { method: 'GET' as const, url: '/api/v1/clusters/alices' },
    { method: 'GET' as const, url: '/api/v1/clusters/alices/status' },
    { method: 'GET' as const, url: '/api/v1/clusters/alices/events' },
    { method: 'PATCH' as const, url: '/api/v1/clusters/alices', payload: { labels: { x: 'y' } } },
    { method: 'PUT' as const, url: '/api/v1/clusters/alices', payload: { spec: {} } },
    { method: 'DELETE' as const, url: '/api/v1/clusters/alices' },
  ]) {
    const res = await h.call('bob', req);
    assert.equal(res.statusCode, 404, `${req.method} ${req.url}`);
  }
  assert.deepEqual((await h.call('bob', { method: 'GET', url: '/api/v1/clusters' })).json(), { items: [], nextCursor: null });
  assert.equal((await h.call('alice', { method: 'GET', url: '/api/v1/clusters' })).json<{ items: unknown[] }>().items.length, 1);
  assert.equal((await h.call('admin', { method: 'GET', url: '/api/v1/clusters/alices' })).statusCode, 200);
  assert.equal((await h.call('controller', { method: 'GET', url: '/api/v1/clusters/alices' })).statusCode, 200);
  assert.equal((await h.store.getCluster(mine.id))?.deletionTimestamp, undefined, "bob's delete did nothing");
});

test('roles: controllers cannot create, change or delete; users cannot report, register or manage tokens', async (t) => {
  const h = await harness(t);
  const c = (await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'demo' } })).json<Cluster>();
  const forbidden = async (who: 'controller' | 'alice', opts: { method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'; url: string; payload?: object }): Promise<void> => {
    const res = await h.call(who, opts);
    assert.equal(res.statusCode, 403, `${who} ${opts.method} ${opts.url}: ${res.body}`);
    assert.equal(res.json<{ code: string }>().code, 'FORBIDDEN');
  };
  await forbidden('controller', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'ctl' } });
  await forbidden('controller', { method: 'PATCH', url: '/api/v1/clusters/demo', payload: { spec: { mode: 'ha' } } });
  await forbidden('controller', { method: 'PUT', url: '/api/v1/clusters/demo', payload: { spec: {} } });
  await forbidden('controller', { method: 'DELETE', url: '/api/v1/clusters/demo' });
  await forbidden('controller', { method: 'POST', url: '/api/v1/tokens', payload: { subject: 'x', role: 'admin' } });
  await forbidden('alice', { method: 'PUT', url: `/api/v1/clusters/${c.id}/status/sim`, payload: { observedGeneration: 1, conditions: [] } });
  await forbidden('alice', { method: 'DELETE', url: `/api/v1/clusters/${c.id}/finalizers/sim` });
  await forbidden('alice', { method: 'PUT', url: '/api/v1/controllers/sim', payload: { providers: ['sim'] } });
  await forbidden('alice', { method: 'GET', url: '/api/v1/controllers' });
  await forbidden('alice', { method: 'POST', url: '/api/v1/tokens', payload: { subject: 'x', role: 'admin' } });
  await forbidden('alice', { method: 'GET', url: '/api/v1/tokens' });
  await forbidden('alice', { method: 'DELETE', url: `/api/v1/tokens/${randomUUID()}` });
  assert.equal((await h.store.listClusters({ limit: 10 })).items.length, 1);
  const info = await h.call('alice', { method: 'GET', url: '/api/v1/info' });
  assert.deepEqual(info.json(), { version: 'test', topology: 'embedded', providers: ['sim'] });
});

test('tokens: admin creates (shown once), lists without secrets, revokes at once', async (t) => {
  const h = await harness(t);
  const created = await h.call('admin', { method: 'POST', url: '/api/v1/tokens', payload: { subject: 'carol@example.com', role: 'user', expiresIn: '24h' } });
  assert.equal(created.statusCode, 201);
  const tok = created.json<{ id: string; subject: string; role: string; token: string; expiresAt: string }>();
  assert.match(tok.token, /^gmn_/);
  assert.equal(tok.role, 'user');
  assert.ok(Math.abs(Date.parse(tok.expiresAt) - Date.now() - 86_400_000) < 60_000);
  const carol = { authorization: `Bearer ${tok.token}` };
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/v1/clusters', headers: carol })).statusCode, 200);

  const list = await h.call('admin', { method: 'GET', url: '/api/v1/tokens' });
  assert.equal(list.statusCode, 200);
  assert.ok(list.json<{ items: { id: string }[] }>().items.some((i) => i.id === tok.id));
  assert.ok(!list.body.includes(tok.token), 'no secret in the list');
  assert.doesNotMatch(list.body, /"(token|hash)"/);

  assert.equal((await h.call('admin', { method: 'DELETE', url: `/api/v1/tokens/${tok.id}` })).statusCode, 204);
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/v1/clusters', headers: carol })).statusCode, 401, 'revocation is immediate here');
  assert.equal((await h.call('admin', { method: 'DELETE', url: `/api/v1/tokens/${tok.id}` })).statusCode, 404);

  const bad = await h.call('admin', { method: 'POST', url: '/api/v1/tokens', payload: { subject: 'x', role: 'root', expiresIn: '1w' } });
  assert.equal(bad.statusCode, 400);
  assert.deepEqual(bad.json<{ errors: { path: string }[] }>().errors.map((e) => e.path).sort(), ['expiresIn', 'role']);
});

test('an expired token is refused', async (t) => {
  const h = await harness(t);
  const { issueToken } = await import('../../src/api/tokens.ts');
  const past = new Date(Date.now() - 3_600_000);
  const tok = await issueToken(h.store, { subject: 'old', role: 'admin', expiresInMs: 60_000 }, past);
  const res = await h.app.inject({ method: 'GET', url: '/api/v1/info', headers: { authorization: `Bearer ${tok.token}` } });
  assert.equal(res.statusCode, 401);
});

test('a token answered from memory: only once the store was asked, never past its expiry, never once revoked', async (t) => {
  const h = await harness(t);
  const { issueToken, TokenVerifier } = await import('../../src/api/tokens.ts');
  const verifier = new TokenVerifier(h.store, 60_000);
  const tok = await issueToken(h.store, { subject: 'soon', role: 'user', expiresInMs: 1_000 });
  const issued = Date.parse(tok.createdAt);
  assert.equal(verifier.known(tok.token, issued), undefined, 'not asked yet: only the store can answer');
  assert.equal(verifier.known('gmn_not-a-token', issued), null, 'not token-shaped: no need to ask');
  assert.equal((await verifier.verify(tok.token, issued))?.id, tok.id);
  assert.equal(verifier.known(tok.token, issued + 500)?.id, tok.id, 'within the cache TTL: from memory');
  assert.equal(verifier.known(tok.token, issued + 1_000), null, 'expired, though the cached entry is fresh');
  assert.equal(verifier.known(tok.token, issued + 60_000), undefined, 'an entry as old as the TTL: the store is asked again');
  verifier.forget(tok.id);
  assert.equal(verifier.known(tok.token, issued + 500), undefined, 'forgotten (revoked here): the store is asked again');
});

test('ensureAdminToken creates one admin token on an empty store only', async (t) => {
  const h = await harness(t);
  assert.equal(await ensureAdminToken(h.store), null, 'the harness store already has tokens');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { openStore } = await import('../../src/store/open.ts');
  const dir = mkdtempSync(`${tmpdir()}/goman-api-admin-`);
  const store = await openStore({ dataDir: dir });
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const token = await ensureAdminToken(store);
  assert.match(String(token), /^gmn_/);
  assert.equal(await ensureAdminToken(store), null);
  assert.equal((await store.listTokens())[0]?.role, 'admin');
});

test('gateway mode: X-User-Email counts only with the right secret, and only as a user', async (t) => {
  const secret = 's3cret-value';
  const h = await harness(t, { auth: { mode: 'gateway', gatewaySecret: secret } });
  const asGateway = (email: string, headers: Record<string, string> = {}) =>
    h.app.inject({ method: 'POST', url: '/api/v1/clusters', payload: { name: `g${Math.floor(Math.random() * 1e6)}` }, headers: { 'x-user-email': email, ...headers } });

  assert.equal((await asGateway('dave@example.com')).statusCode, 401, 'no secret: header ignored');
  assert.equal((await asGateway('dave@example.com', { 'x-gateway-secret': 'wrong' })).statusCode, 401, 'wrong secret');
  assert.equal((await asGateway('dave@example.com', { 'x-gateway-secret': `${secret}x` })).statusCode, 401, 'longer secret');
  const ok = await asGateway('dave@example.com', { 'x-gateway-secret': secret });
  assert.equal(ok.statusCode, 201);
  assert.equal(ok.json<Cluster>().createdBy, 'dave@example.com');

  // CLS Backend: `controller@system.local` was all-powerful. Here it is just another user.
  const sys = { 'x-user-email': 'controller@system.local', 'x-gateway-secret': secret };
  const report = await h.app.inject({ method: 'PUT', url: `/api/v1/clusters/${ok.json<Cluster>().id}/status/sim`, payload: { observedGeneration: 1, conditions: [] }, headers: sys });
  assert.equal(report.statusCode, 403);
  assert.equal((await h.app.inject({ method: 'GET', url: '/api/v1/tokens', headers: sys })).statusCode, 403);
  assert.equal((await h.app.inject({ method: 'GET', url: `/api/v1/clusters/${ok.json<Cluster>().id}`, headers: sys })).statusCode, 404, "not dave's");
  const withoutSecret = await h.app.inject({ method: 'GET', url: '/api/v1/clusters', headers: { 'x-user-email': 'controller@system.local' } });
  assert.equal(withoutSecret.statusCode, 401);
  // A bearer token still works in gateway mode.
  assert.equal((await h.call('admin', { method: 'GET', url: '/api/v1/tokens' })).statusCode, 200);
});

test('no CORS headers, ever', async (t) => {
  const h = await harness(t);
  const res = await h.call('alice', { method: 'GET', url: '/api/v1/clusters', headers: { origin: 'https://evil.example' } });
  assert.equal(res.headers['access-control-allow-origin'], undefined);
  assert.equal(res.headers['access-control-allow-credentials'], undefined);
});

test('rate limit per identity: 429 problem with Retry-After; others and health checks unaffected', async (t) => {
  const h = await harness(t, { rateLimit: { max: 3, windowMs: 60_000 } });
  for (let i = 0; i < 3; i++) assert.equal((await h.call('alice', { method: 'GET', url: '/api/v1/clusters' })).statusCode, 200);
  const limited = await h.call('alice', { method: 'GET', url: '/api/v1/clusters' });
  assert.equal(limited.statusCode, 429);
  assert.match(String(limited.headers['content-type']), PROBLEM);
  assert.equal(limited.json<{ code: string }>().code, 'RATE_LIMITED');
  assert.ok(Number(limited.headers['retry-after']) > 0, `Retry-After: ${String(limited.headers['retry-after'])}`);
  assert.equal((await h.call('bob', { method: 'GET', url: '/api/v1/clusters' })).statusCode, 200, 'bob has his own bucket');
  for (let i = 0; i < 5; i++) assert.equal((await h.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  for (let i = 0; i < 5; i++) assert.equal((await h.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 200);
});

test('a controller token has its own, larger allowance: a fleet\'s resyncs are not throttled like a user', async (t) => {
  const h = await harness(t, { rateLimit: { max: 3, controllerMax: 6, windowMs: 60_000 } });
  for (let i = 0; i < 6; i++) assert.equal((await h.call('controller', { method: 'GET', url: '/api/v1/clusters' })).statusCode, 200, `controller request ${i + 1}`);
  assert.equal((await h.call('controller', { method: 'GET', url: '/api/v1/clusters' })).statusCode, 429, 'bounded all the same');
  for (let i = 0; i < 3; i++) assert.equal((await h.call('alice', { method: 'GET', url: '/api/v1/clusters' })).statusCode, 200);
  assert.equal((await h.call('alice', { method: 'GET', url: '/api/v1/clusters' })).statusCode, 429, 'a user keeps the user limit');
});

test('cluster names are global: another user\'s name is a 409 that reveals nothing else, and stays invisible to them', async (t) => {
  const h = await harness(t);
  const alices = (await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'shared', labels: { secret: 'x' } } })).json<Cluster>();
  const own = await h.call('alice', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'shared' } });
  const other = await h.call('bob', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'shared' } });
  for (const res of [own, other]) {
    assert.equal(res.statusCode, 409);
    assert.equal(res.json<{ code: string }>().code, 'NAME_TAKEN');
    assert.match(res.json<{ detail: string }>().detail, /unique across this control plane/);
    for (const secret of [alices.id, 'alice', 'secret', alices.createdAt]) assert.ok(!res.body.includes(secret), `the 409 does not mention ${secret}`);
  }
  // Whoever holds the name, the refusal reads the same: it does not tell bob whose it is.
  assert.equal(own.json<{ detail: string }>().detail, other.json<{ detail: string }>().detail);
  assert.equal((await h.call('bob', { method: 'GET', url: '/api/v1/clusters/shared' })).statusCode, 404);
  assert.deepEqual((await h.call('bob', { method: 'GET', url: '/api/v1/clusters' })).json<{ items: unknown[] }>().items, []);
  // Once alice's cluster is gone, the name is free for anyone.
  assert.equal((await h.call('alice', { method: 'DELETE', url: '/api/v1/clusters/shared' })).statusCode, 202);
  assert.equal((await h.call('bob', { method: 'POST', url: '/api/v1/clusters', payload: { name: 'shared' } })).statusCode, 201);
});
