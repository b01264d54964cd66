// The TUI end to end: `goman` in a real terminal (tmux, 160x45) against a real `goman serve`.
// Create a cluster from the form, watch it become Ready live, scale it, survive a server
// restart, delete it. Every step polls the screen with a deadline; nothing sleeps blindly.
import { after, test } from 'node:test';
import type { ServeHandle } from '../helpers/serve.ts';
import { GOMAN_BIN, startServe } from '../helpers/serve.ts';
import { needTmux, openTerminal } from '../helpers/terminal.ts';

let srv: ServeHandle | undefined;
after(async () => {
  await srv?.stop();
});

test('TUI in tmux: create, Ready live, scale, server restart, delete', async (t) => {
  if (!needTmux(t)) return;
  srv = await startServe();
  const { see, keys, text } = openTerminal(t, `${GOMAN_BIN}; sleep 30`, srv.env);

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
