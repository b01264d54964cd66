// `goman rollout status --wait` on a real terminal (tmux) against a real `goman serve`: the
// header and one line per node are redrawn in place as the rollout moves, never appended, and
// the command exits 0 once it is complete. The rollout is held by spec.upgrade.paused until the
// first frame is on the screen, so the test sees a before and an after without racing the sim.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ServeHandle } from '../helpers/serve.ts';
import { GOMAN_BIN, runGoman, startServe } from '../helpers/serve.ts';
import { needTmux, openTerminal } from '../helpers/terminal.ts';

const OLD = 'v1.30.5+k3s1';
const NEW = 'v1.31.2+k3s1';

let srv: ServeHandle;
before(async () => {
  srv = await startServe({ env: { GOMAN_SIM_DRAIN_SECONDS: '0.2', GOMAN_SIM_UPGRADE_SECONDS: '0.3' } });
});
after(async () => {
  await srv?.stop();
});

const count = (screen: string, re: RegExp): number => screen.split('\n').filter((l) => re.test(l)).length;

test('rollout status --wait on a terminal redraws the per-node block in place and exits 0 when complete', async (t) => {
  if (!needTmux(t)) return;
  const created = await runGoman(['create', 'live', '--k3s-version', OLD, '--pool', 'w=2', '--wait', '--timeout', '60s'], { env: srv.env, timeoutMs: 90_000 });
  assert.equal(created.code, 0, created.stderr);
  // The new version and a paused rollout in one write: nothing moves until resume.
  const patched = await fetch(`${srv.url}/api/v1/clusters/live`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${srv.token}`, 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify({ spec: { k3sVersion: NEW, upgrade: { paused: true } } }),
  });
  assert.equal(patched.status, 200, await patched.text());

  const term = openTerminal(t, `${GOMAN_BIN} rollout status live --wait --timeout 90s; echo "goman exited $?"; sleep 60`, srv.env, { cols: 120, rows: 30 });
  const first = await term.see(/0\/3 nodes done, PAUSED: paused by spec\.upgrade\.paused/, 'the paused rollout, 0 of 3 nodes');
  assert.equal(count(first, /live-server-0 {2}v1\.30\.5\+k3s1 {2}pending/), 1, first);

  const resumed = await runGoman(['rollout', 'resume', 'live'], { env: srv.env, timeoutMs: 30_000 });
  assert.equal(resumed.code, 0, resumed.stderr);
  const last = await term.see(/goman exited \d+/, 'the command to end', 60_000);
  assert.match(last, /goman exited 0/);
  // Redrawn in place: one header and one line per node on the screen, all at the new version.
  assert.equal(count(last, /^rollout /), 1, last);
  assert.match(last, /rollout v1\.30\.5\+k3s1 → v1\.31\.2\+k3s1: 3\/3 nodes done, complete/);
  for (const node of ['live-server-0', 'live-w-agent-0', 'live-w-agent-1']) {
    assert.equal(count(last, new RegExp(`^ {2}${node} `)), 1, `${node} once:\n${last}`);
    assert.match(last, new RegExp(`${node} {2}v1\\.31\\.2\\+k3s1 {2}done`));
  }
  assert.ok(!last.includes('0/3 nodes done'), `the paused frame was overwritten:\n${last}`);
});
