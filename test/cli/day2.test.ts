// Day 2 from the real CLI (bin/goman subprocesses) against a real `goman serve` with the sim
// provider on fast timings: upgrade --wait (plain per-node lines in a pipe), rollout status -o
// json, backup --wait, backups, restore --yes --wait, and the one-line refusals.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ServeHandle } from '../helpers/serve.ts';
import { runGoman, startServe } from '../helpers/serve.ts';

const OLD = 'v1.30.5+k3s1';
const NEW = 'v1.31.2+k3s1';
const SIM = { GOMAN_SIM_DRAIN_SECONDS: '0.1', GOMAN_SIM_UPGRADE_SECONDS: '0.2', GOMAN_SIM_RESTORE_STEP_SECONDS: '0.1' };

let srv: ServeHandle;
before(async () => {
  srv = await startServe({ env: SIM });
});
after(async () => {
  await srv?.stop();
});

const goman = (args: string[]) => runGoman(args, { env: srv.env, timeoutMs: 90_000 });

async function ok(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await goman(args);
  assert.equal(r.code, 0, `goman ${args.join(' ')} exited ${r.code}: ${r.stderr}\nserver said: ${srv.output().slice(-2000)}`);
  return r;
}

async function fails(args: string[], message: RegExp): Promise<void> {
  const r = await goman(args);
  assert.notEqual(r.code, 0, `goman ${args.join(' ')} should fail`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0] ?? '', message);
}

test('upgrade --wait, rollout status -o json, backup --wait, backups, restore --yes --wait, and refusals in one line', async () => {
  await ok(['create', 'day2', '--k3s-version', OLD, '--pool', 'w=2', '--wait', '--timeout', '60s']);
  await fails(['upgrade', 'day2', '--k3s-version', 'v1.33.0+k3s1'], /spec\.k3sVersion.*one minor version at a time/);
  await fails(['upgrade', 'day2', '--k3s-version', '1.31'], /--k3s-version "1\.31"/);

  const backup = await ok(['backup', 'day2', '--wait', '--timeout', '60s', '-o', 'json']);
  const snapshot = JSON.parse(backup.stdout) as { id: string; k3sVersion: string };
  assert.equal(snapshot.k3sVersion, OLD);

  const up = await ok(['upgrade', 'day2', '--k3s-version', NEW, '--wait', '--timeout', '60s']);
  assert.match(up.stdout, new RegExp(`rollout ${OLD.replace(/[.+]/g, '\\$&')} → ${NEW.replace(/[.+]/g, '\\$&')} started`));
  assert.match(up.stderr, /day2-server-0 {2}v1\.31\.2\+k3s1/, 'per-node lines in a pipe');
  assert.ok(!up.stderr.includes('\u001b['), 'no cursor movement in a pipe');

  const status = JSON.parse((await ok(['rollout', 'status', 'day2', '-o', 'json'])).stdout) as {
    rollout: { fromVersion: string; toVersion: string; nodesDone: number; nodesTotal: number; finishedAt?: string; history: unknown[] };
    nodes: { k3sVersion: string }[];
  };
  assert.equal(status.rollout.fromVersion, OLD);
  assert.equal(status.rollout.toVersion, NEW);
  assert.equal(status.rollout.nodesDone, 3);
  assert.equal(status.rollout.nodesTotal, 3);
  assert.equal(status.rollout.history.length, 3);
  assert.ok(status.nodes.every((n) => n.k3sVersion === NEW));

  const list = await ok(['backups', 'day2']);
  assert.match(list.stdout, new RegExp(`${snapshot.id}.*${OLD.replace(/[.+]/g, '\\$&')}.*sim://day2/snapshots/`));

  await fails(['restore', 'day2', '--snapshot', snapshot.id], /--yes/);
  await fails(['restore', 'day2', '--snapshot', 'nope', '--yes'], /no snapshot "nope"/);
  await ok(['restore', 'day2', '--snapshot', snapshot.id, '--yes', '--wait', '--timeout', '60s']);
  const after = JSON.parse((await ok(['get', 'day2', '-o', 'json'])).stdout) as { spec: { k3sVersion: string }; status: { phase: string; nodes: { k3sVersion: string }[] } };
  assert.equal(after.spec.k3sVersion, OLD);
  assert.equal(after.status.phase, 'Ready');
  assert.ok(after.status.nodes.every((n) => n.k3sVersion === OLD));
});
