// Config writes from several goman processes at once never lose a context, and a second
// `goman serve` never overwrites a context that belongs to another server.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { readConfig } from '../../src/cli/config.ts';
import { cleanEnv, runGoman, startServe } from '../helpers/serve.ts';

const root = await mkdtemp(path.join(tmpdir(), 'goman-cfgw-'));
after(() => rm(root, { recursive: true, force: true }));

test('20 parallel `goman context add` keep all 20 contexts', async () => {
  const home = path.join(root, 'parallel');
  const env = cleanEnv({ XDG_CONFIG_HOME: home });
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) => runGoman(['context', 'add', `c${i}`, '--server', `http://host-${i}:8080`, '--token', `t${i}`, '--no-use'], { env })),
  );
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const config = await readConfig(path.join(home, 'goman', 'config.yaml'));
  assert.deepEqual(config.contexts.map((c) => c.name).sort(), Array.from({ length: 20 }, (_, i) => `c${i}`).sort());
  assert.deepEqual(await readdir(path.join(home, 'goman')), ['config.yaml'], 'no temp or lock file is left');
});

test('a second serve on a fresh data dir keeps the first server\'s context and names its own', async () => {
  const first = await startServe();
  after(() => first.stop());
  const configFile = path.join(first.env.XDG_CONFIG_HOME ?? '', 'goman', 'config.yaml');
  // Same config, a fresh data dir, the port the first one holds: this one cannot bind.
  const second = await runGoman(['serve', '--listen', `127.0.0.1:${first.port}`], {
    env: cleanEnv({ XDG_CONFIG_HOME: first.env.XDG_CONFIG_HOME ?? '', GOMAN_DATA_DIR: path.join(root, 'second-data'), GOMAN_LOG_LEVEL: 'warn' }),
  });
  assert.notEqual(second.code, 0, 'the port is taken');
  const config = await readConfig(configFile);
  const local = config.contexts.find((c) => c.name === 'local');
  assert.deepEqual(local, { name: 'local', kind: 'server', server: first.url, token: first.token }, 'the first server\'s admin token survives');
  assert.equal(config.currentContext, 'local');
  const other = config.contexts.find((c) => c.name === 'local-2');
  assert.ok(other?.kind === 'server' && other.token && other.token !== first.token, 'the second token is kept under a new name');
  assert.match(second.stderr, /as context "local-2"; context "local" points at another server and was kept/);
  // The first server still answers with the config as it is.
  const list = await runGoman(['list', '-o', 'json'], { env: first.env });
  assert.equal(list.code, 0, list.stderr);
});
