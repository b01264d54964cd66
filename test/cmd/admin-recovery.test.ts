// Lock-out and leftovers: nobody can revoke the last admin token, a data dir that lost its admin
// anyway gets one back with `goman serve --reset-admin-token`, and the embedded controller's
// credential lives only in the serving process (before, each start stored a 30-day controller
// token, and each kill -9 left one behind).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { harness } from '../api/harness.ts';
import { eventually } from '../helpers/eventually.ts';
import { runGoman, startServe } from '../helpers/serve.ts';

interface TokenList {
  items: { id: string; subject: string; role: string }[];
}

test('the last admin token cannot be revoked; with another admin it can', async (t) => {
  const h = await harness(t);
  const list = async (): Promise<TokenList['items']> => (await h.call('admin', { method: 'GET', url: '/api/v1/tokens' })).json<TokenList>().items;
  const admin = (await list()).find((r) => r.role === 'admin')!;

  const refused = await h.call('admin', { method: 'DELETE', url: `/api/v1/tokens/${admin.id}` });
  assert.equal(refused.statusCode, 409, refused.body);
  assert.match(refused.json<{ detail: string }>().detail, /last admin token; create another/);
  assert.ok((await list()).some((r) => r.id === admin.id), 'still there');

  const second = await h.call('admin', { method: 'POST', url: '/api/v1/tokens', payload: { subject: 'ops', role: 'admin' } });
  assert.equal(second.statusCode, 201);
  assert.equal((await h.call('admin', { method: 'DELETE', url: `/api/v1/tokens/${admin.id}` })).statusCode, 204, 'another admin remains');
});

test('the embedded controller stores no token, and --reset-admin-token lets a locked-out admin back in', async (t) => {
  const srv = await startServe();
  let stopped = false;
  t.after(() => (stopped ? undefined : srv.stop()));
  const api = (token: string, pathname: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${srv.url}${pathname}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers } });

  // The embedded controller works (a cluster gets to Ready) without any stored token.
  assert.equal((await api(srv.token, '/api/v1/clusters', { method: 'POST', body: JSON.stringify({ name: 'demo' }) })).status, 201);
  await eventually('demo is Ready', async () => ((await (await api(srv.token, '/api/v1/clusters/demo')).json()) as { status?: { phase?: string } }).status?.phase === 'Ready', {
    timeoutMs: 30_000,
  });
  const stored = ((await (await api(srv.token, '/api/v1/tokens')).json()) as TokenList).items;
  assert.deepEqual(stored.map((r) => r.subject), ['admin'], 'only the admin token is stored: a kill -9 leaks nothing');

  // Lock-out: a user token exists (so no admin is minted on restart) and the admin token is lost.
  assert.equal((await api(srv.token, '/api/v1/tokens', { method: 'POST', body: JSON.stringify({ subject: 'alice@example.com', role: 'user' }) })).status, 201);
  await srv.stop({ keepDir: true });
  stopped = true;

  const reset = await runGoman(['serve', '--reset-admin-token', '--listen', `127.0.0.1:${srv.port}`], { env: srv.env, timeoutMs: 30_000 });
  assert.equal(reset.code, 0, reset.stderr);
  const fresh = reset.stdout.trim();
  assert.match(fresh, /^gmn_[A-Za-z0-9_-]{43}$/, 'the new token, alone on stdout');
  assert.notEqual(fresh, srv.token);
  assert.match(reset.stderr, /new admin token .* as context "local"/);
  const config = parse(await readFile(path.join(srv.env.XDG_CONFIG_HOME!, 'goman', 'config.yaml'), 'utf8')) as { contexts: { name: string; token?: string }[] };
  assert.equal(config.contexts.find((c) => c.name === 'local')?.token, fresh, 'context local now holds the new token');

  const again = await startServe({ reuse: { dir: srv.dir, port: srv.port } });
  t.after(() => again.stop());
  assert.equal(again.token, fresh);
  const res = await fetch(`${again.url}/api/v1/tokens`, { headers: { authorization: `Bearer ${fresh}` } });
  assert.equal(res.status, 200, 'the new token is an admin');
  const subjects = ((await res.json()) as TokenList).items.map((r) => `${r.subject}/${r.role}`).sort();
  assert.deepEqual(subjects, ['admin/admin', 'admin/admin', 'alice@example.com/user'], 'other tokens untouched, still no controller token');
});
