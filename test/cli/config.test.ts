// The CLI config: contexts on disk with private permissions, atomic writes, and resolution
// order (--context, GOMAN_CONTEXT, current; GOMAN_SERVER/GOMAN_TOKEN overrides).
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { addContextKeepingOthers, configPath, readConfig, removeContext, removeContextsWhere, resolveContext, upsertContext, useContext } from '../../src/cli/config.ts';
import { GomanError } from '../../src/domain/errors.ts';

const root = await mkdtemp(path.join(tmpdir(), 'goman-cfg-'));
after(() => rm(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => path.join(root, String(n++), 'goman', 'config.yaml');

test('configPath follows XDG_CONFIG_HOME, else ~/.config', () => {
  assert.equal(configPath({ XDG_CONFIG_HOME: '/x/y' }), '/x/y/goman/config.yaml');
  assert.match(configPath({}), /\.config\/goman\/config\.yaml$/);
  assert.match(configPath({ XDG_CONFIG_HOME: 'relative' }), /\.config\/goman\/config\.yaml$/, 'a relative XDG path is ignored, as the spec says');
});

test('a missing file is an empty config', async () => {
  assert.deepEqual(await readConfig(fresh()), { contexts: [] });
});

test('upsertContext writes 0600 in a 0700 dir, atomically, and selects the first context', async () => {
  const file = fresh();
  await upsertContext({ name: 'local', kind: 'server', server: 'http://127.0.0.1:8080', token: 'secret' }, { file });
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.equal((await stat(path.dirname(file))).mode & 0o777, 0o700);
  assert.deepEqual(await readdir(path.dirname(file)), ['config.yaml'], 'no temp file left behind');
  const cfg = await readConfig(file);
  assert.equal(cfg.currentContext, 'local');
  await upsertContext({ name: 'aws', kind: 's3', bucket: 'goman-123', region: 'ap-south-1' }, { file });
  assert.equal((await readConfig(file)).currentContext, 'local', 'a second context does not steal current');
  await upsertContext({ name: 'local', kind: 'server', server: 'http://127.0.0.1:9090', token: 'new' }, { file, makeCurrent: true });
  const again = await readConfig(file);
  assert.equal(again.contexts.length, 2);
  assert.deepEqual(again.contexts[0], { name: 'local', kind: 'server', server: 'http://127.0.0.1:9090', token: 'new' });
});

test('useContext and removeContext; unknown names are NOT_FOUND', async () => {
  const file = fresh();
  await upsertContext({ name: 'a', kind: 'server', server: 'http://a:1' }, { file });
  await upsertContext({ name: 'b', kind: 'server', server: 'http://b:1' }, { file });
  assert.equal((await useContext('b', file)).currentContext, 'b');
  await assert.rejects(useContext('zzz', file), (e: unknown) => e instanceof GomanError && e.code === 'NOT_FOUND');
  const cfg = await removeContext('b', file);
  assert.equal(cfg.currentContext, undefined);
  assert.deepEqual(cfg.contexts.map((c) => c.name), ['a']);
  await assert.rejects(removeContext('b', file), (e: unknown) => e instanceof GomanError && e.code === 'NOT_FOUND');
});

test('invalid contexts are refused before they are written', async () => {
  const file = fresh();
  await assert.rejects(upsertContext({ name: 'bad name!', kind: 'server', server: 'http://a:1' }, { file }));
  await assert.rejects(upsertContext({ name: 'x', kind: 'server', server: 'ftp://a' }, { file }));
});

test('a corrupt config file is a one-line VALIDATION_FAILED naming the file', async () => {
  const file = fresh();
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, 'contexts: [{name: x, kind: nope}]\n');
  await assert.rejects(readConfig(file), (e: unknown) => e instanceof GomanError && e.code === 'VALIDATION_FAILED' && e.message.includes(file));
});

test('resolution: --context beats GOMAN_CONTEXT beats current; GOMAN_SERVER/GOMAN_TOKEN override', async () => {
  const file = fresh();
  await upsertContext({ name: 'one', kind: 'server', server: 'http://one:1', token: 't1' }, { file });
  await upsertContext({ name: 'two', kind: 'server', server: 'http://two:1', token: 't2' }, { file });
  assert.equal((await resolveContext({ file, env: {} })).name, 'one');
  assert.equal((await resolveContext({ file, env: { GOMAN_CONTEXT: 'two' } })).name, 'two');
  assert.equal((await resolveContext({ file, env: { GOMAN_CONTEXT: 'two' }, context: 'one' })).name, 'one');
  const over = await resolveContext({ file, env: { GOMAN_SERVER: 'http://env:2', GOMAN_TOKEN: 'te' } });
  assert.deepEqual(over, { name: 'one', kind: 'server', server: 'http://env:2', token: 'te' });
  await assert.rejects(resolveContext({ file, env: {}, context: 'nope' }), (e: unknown) => e instanceof GomanError && e.code === 'NOT_FOUND');
});

test('GOMAN_SERVER alone works without a config; nothing at all is a clear error', async () => {
  const file = fresh();
  assert.deepEqual(await resolveContext({ file, env: { GOMAN_SERVER: 'http://s:1', GOMAN_TOKEN: 'x' } }), { name: 'env', kind: 'server', server: 'http://s:1', token: 'x' });
  await assert.rejects(resolveContext({ file, env: {} }), /goman serve.*goman context add/);
});

test('the file is YAML a person can read', async () => {
  const file = fresh();
  await upsertContext({ name: 'local', kind: 'server', server: 'http://127.0.0.1:8080', token: 'tok' }, { file });
  assert.equal(await readFile(file, 'utf8'), 'currentContext: local\ncontexts:\n  - name: local\n    kind: server\n    server: http://127.0.0.1:8080\n    token: tok\n');
});

test('a context of the same name that points elsewhere is kept; the new one is written beside it', async () => {
  const file = fresh();
  await upsertContext({ name: 'aws', kind: 's3', bucket: 'goman-111', region: 'ap-south-1' }, { file });
  assert.equal(await addContextKeepingOthers({ name: 'aws', kind: 's3', bucket: 'goman-111', region: 'ap-south-1' }, { file, makeCurrent: true }), 'aws', 'the same context again keeps its name');
  assert.equal(await addContextKeepingOthers({ name: 'aws', kind: 's3', bucket: 'goman-222', region: 'ap-south-1' }, { file, makeCurrent: true }), 'aws-2');
  assert.equal(await addContextKeepingOthers({ name: 'local', kind: 'server', server: 'http://a:1', token: 't1' }, { file }), 'local');
  assert.equal(await addContextKeepingOthers({ name: 'local', kind: 'server', server: 'http://a:1', token: 't2' }, { file }), 'local-2', 'another token is another server');
  const config = await readConfig(file);
  assert.equal(config.currentContext, 'aws', 'a renamed context does not take over');
  assert.deepEqual(config.contexts.find((c) => c.name === 'aws'), { name: 'aws', kind: 's3', bucket: 'goman-111', region: 'ap-south-1' });
  assert.deepEqual(await removeContextsWhere((c) => c.kind === 's3' && c.bucket === 'goman-222', file), ['aws-2']);
  assert.deepEqual((await readConfig(file)).contexts.map((c) => c.name), ['aws', 'local', 'local-2']);
  const none = fresh();
  assert.deepEqual(await removeContextsWhere(() => true, none), []);
  await assert.rejects(stat(none), /ENOENT/, 'removing nothing writes no config');
});
