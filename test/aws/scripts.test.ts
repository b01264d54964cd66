// The node scripts are fixed templates: each passes shellcheck, and values that could change
// what the shell runs never reach them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { renderScript, SCRIPT_DIR, SCRIPT_NAMES } from '../../src/providers/aws/scripts.ts';

test('every node script template passes shellcheck', (t) => {
  const probe = spawnSync('shellcheck', ['--version']);
  if (probe.error) {
    // CI installs shellcheck (.ci/run); only a local run without it may skip.
    if (process.env.CI) assert.fail('shellcheck is required in CI (apt-get install shellcheck)');
    t.skip('shellcheck not installed');
    return;
  }
  const files = readdirSync(SCRIPT_DIR).filter((f) => f.endsWith('.sh'));
  assert.deepEqual(files.map((f) => f.replace(/\.sh$/, '')).sort(), [...SCRIPT_NAMES].sort());
  const out = spawnSync('shellcheck', ['-s', 'sh', ...files.map((f) => path.join(SCRIPT_DIR, f))], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stdout + out.stderr);
});

test('variables are single-quoted and validated; hostile values are refused', () => {
  const lines = renderScript('join-agent', {
    CLUSTER: 'demo',
    NODE_NAME: 'demo-workers-0',
    POOL: 'workers',
    K3S_VERSION: 'v1.31.4+k3s1',
    REGION: 'ap-south-1',
    TOKEN_PARAM: '/goman/demo/token',
    SERVER_URL: 'https://10.0.0.5:6443',
  });
  assert.equal(lines[0], `CLUSTER='demo'`);
  assert.ok(lines.at(-1)?.startsWith(`sh -s <<'GOMAN_SCRIPT_EOF'`));
  for (const [key, value] of [
    ['CLUSTER', "demo'; rm -rf / #"],
    ['NODE_NAME', '$(reboot)'],
    ['K3S_VERSION', 'v1.31.4+k3s1; curl evil'],
    ['LABELS', 'a=b;reboot'],
    ['SERVER_URL', 'https://evil.example:6443'],
  ] as const) {
    assert.throws(() => renderScript('label-node', { [key]: value }), /refusing|not declared/);
  }
});
