// The TUI end to end: `goman` in a real terminal (tmux, 160x45) against a real `goman serve`.
// Create a cluster from the form, watch it become Ready live, scale it, survive a server
// restart, delete it. Every step polls the screen with a deadline; nothing sleeps blindly.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import type { ServeHandle } from '../helpers/serve.ts';
import { GOMAN_BIN, startServe } from '../helpers/serve.ts';
import { eventually } from '../helpers/eventually.ts';

const socket = `goman-tui-${randomBytes(4).toString('hex')}`;
const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
const screen = (): string => tmux('capture-pane', '-p', '-t', 'tui').stdout ?? '';
const keys = (...k: string[]): void => void tmux('send-keys', '-t', 'tui', ...k);
const text = (s: string): void => void tmux('send-keys', '-t', 'tui', '-l', s);

async function see(what: RegExp | ((s: string) => boolean), label: string, timeoutMs = 30_000): Promise<string> {
  const pred = typeof what === 'function' ? what : (s: string) => what.test(s);
  const found = await eventually(
    label,
    () => {
      const s = screen();
      if (!pred(s)) throw new Error(`screen:\n${s}`);
      return { s };
    },
    { timeoutMs, intervalMs: 100 },
  );
  return found.s;
}

let srv: ServeHandle | undefined;
after(async () => {
  tmux('kill-server');
  await srv?.stop();
});

test('TUI in tmux: create, Ready live, scale, server restart, delete', async (t) => {
  if (spawnSync('tmux', ['-V']).status !== 0) {
    if (process.env.CI) throw new Error('tmux is required in CI');
    t.skip('tmux is not installed');
    return;
  }
  srv = await startServe();
  // A clean environment (env -i): the tmux server inherits the runner's, and with CI set ink
  // renders only the last frame, as it does for logs, not a terminal.
  const env = Object.entries({ ...srv.env, TERM: 'xterm-256color' })
    .filter(([k]) => /^(GOMAN_|XDG_CONFIG_HOME|NO_COLOR|TERM|PATH|HOME)/.test(k))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(' ');
  const started = tmux('new-session', '-d', '-s', 'tui', '-x', '160', '-y', '45', `env -i ${env} ${GOMAN_BIN}; sleep 30`);
  assert.equal(started.status, 0, started.stderr);

  await see(/no clusters yet — press c to create one/, 'the empty list');
  keys('c');
  await see(/Create cluster/, 'the create form');
  text('Demo');
  await see(/must be a DNS-1123 label/, 'inline name error');
  keys('BSpace', 'BSpace', 'BSpace', 'BSpace');
  text('demo');
  await see((s) => !s.includes('DNS-1123') && /name\s+demo/.test(s), 'a valid name');
  keys('Enter');
  await see(/created demo/, 'the created message');
  await see(/demo\s+Ready\s+sim\s+dev\s+2\/2/, 'demo Ready with 2/2 nodes, live');

  keys('s');
  await see(/Scale demo/, 'the scale form');
  keys('BSpace');
  text('3');
  keys('Enter');
  await see(/scaling demo: workers 1→3/, 'the scaling message');
  await see(/demo\s+Ready\s+sim\s+dev\s+4\/4/, 'demo Ready with 4/4 nodes');

  const { dir, port } = srv;
  await srv.stop({ keepDir: true });
  srv = undefined;
  await see(/disconnected — retrying/, 'the disconnected banner');
  srv = await startServe({ reuse: { dir, port } });
  await see((s) => !s.includes('disconnected') && /demo\s+Ready/.test(s), 'reconnected by itself');

  keys('d');
  await see(/Delete cluster "demo"/, 'the delete confirmation');
  keys('y');
  await see(/deleting demo/, 'the deleting message');
  await see(/no clusters yet/, 'demo gone from the list', 60_000);
  keys('q');
  await see((s) => !s.includes('goman  local'), 'the TUI quit');
});
