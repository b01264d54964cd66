// TUI component tests: ink-testing-library renders the real components into a virtual
// terminal; keys go in through stdin, frames come out of lastFrame().
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { until } from './frames.ts';

// chalk decides on colour when ink loads; the colour assertions need it on.
process.env.FORCE_COLOR = '1';
const { cleanup, openScaleForm, start } = await import('./render.ts');
const { FakeBackend, cluster } = await import('./fake-backend.ts');

after(() => cleanup());

const ESC = '\x1b';
const DOWN = '\x1b[B';
const ENTER = '\r';
const TAB = '\t';

// eslint-disable-next-line no-control-regex -- stripping ANSI colour codes
const plain = (s: string): string => s.replace(/\x1b\[[0-9;]*m/g, '');
const SGR = (code: number, text: string): RegExp => new RegExp(`\u001b\\[${code}m${text}`);

test('list shows every cluster with its phase in the phase colour', async () => {
  const b = new FakeBackend([cluster('alpha', 'Ready'), cluster('beta', 'Failed'), cluster('gamma', 'Provisioning')]);
  const { frame, app } = start(b);
  const f = await until(frame, (x) => x.includes('gamma'), 'three clusters');
  assert.match(f, SGR(32, 'Ready')); // green
  assert.match(f, SGR(31, 'Failed')); // red
  assert.match(f, SGR(36, 'Provisioning')); // cyan
  assert.match(plain(f), /alpha\s+Ready\s+sim\s+dev\s+0\/3/);
  app.unmount();
});

test('without colour (NO_COLOR) phases are plain text', async () => {
  const b = new FakeBackend([cluster('alpha', 'Ready')]);
  const { frame, app } = start(b, false);
  const f = await until(frame, (x) => x.includes('alpha'), 'the cluster');
  assert.doesNotMatch(f.split('\n').find((l) => l.includes('alpha')) ?? '', SGR(3, '\\d'));
  app.unmount();
});

test('live updates: a watch event changes the row', async () => {
  const b = new FakeBackend([cluster('alpha', 'Provisioning')]);
  const { frame, app } = start(b);
  await until(frame, (x) => plain(x).includes('Provisioning'), 'provisioning');
  b.emit({ type: 'upsert', cluster: cluster('alpha', 'Ready') });
  await until(frame, (x) => /alpha\s+Ready/.test(plain(x)), 'ready after the event');
  b.emit({ type: 'deleted', id: 'id-alpha', name: 'alpha' });
  await until(frame, (x) => plain(x).includes('no clusters yet'), 'empty list after delete');
  app.unmount();
});

test('filter by name and by phase with /, esc clears', async () => {
  const b = new FakeBackend([cluster('web-1', 'Ready'), cluster('db-1', 'Failed'), cluster('web-2', 'Stopped')]);
  const { frame, type, app } = start(b);
  await until(frame, (x) => x.includes('web-2'), 'all clusters');
  await type('/', 'w', 'e', 'b', ENTER);
  let f = plain(await until(frame, (x) => !x.includes('db-1'), 'name filter'));
  assert.match(f, /web-1/);
  assert.match(f, /web-2/);
  assert.match(f, /filter: \/web/);
  await type(ESC, '/', 'f', 'a', 'i', 'l', 'e', 'd', ENTER);
  f = plain(await until(frame, (x) => x.includes('db-1') && !x.includes('web-1'), 'phase filter'));
  assert.doesNotMatch(f, /web-2/);
  await type(ESC);
  await until(frame, (x) => x.includes('web-1') && x.includes('db-1') && x.includes('web-2'), 'filter cleared');
  app.unmount();
});

test('create form validates inline and creates only valid input', async () => {
  const b = new FakeBackend();
  const { frame, type, app } = start(b);
  await until(frame, (x) => x.includes('no clusters yet'), 'empty list');
  await type('c');
  await until(frame, (x) => x.includes('Create cluster'), 'the form');
  await type('B', 'a', 'd');
  let f = plain(await until(frame, (x) => x.includes('must be a DNS-1123 label'), 'name error'));
  assert.match(f, /BBad|Bad/);
  await type(ENTER);
  assert.equal(b.calls.length, 0, 'an invalid form is not submitted');
  for (let i = 0; i < 3; i++) await type('\x7f');
  await type('d', 'e', 'm', 'o');
  await until(frame, (x) => !x.includes('DNS-1123'), 'name error gone');
  await type(TAB, TAB, TAB, '\x7f', '5', '0', '0');
  await until(frame, (x) => x.includes('must be at most 100'), 'count error');
  await type(ENTER);
  assert.equal(b.calls.length, 0);
  await type('\x7f', '\x7f', ENTER);
  f = plain(await until(frame, (x) => x.includes('created demo'), 'created message'));
  assert.match(f, /demo\s+Pending/);
  assert.deepEqual(b.calls, ['create demo {"provider":"sim","mode":"dev","nodePools":[{"name":"workers","count":5}]}']);
  app.unmount();
});

test('a server error keeps the create form open with the message', async () => {
  const b = new FakeBackend([cluster('taken')]);
  const { frame, type, app } = start(b);
  await until(frame, (x) => x.includes('taken'), 'list');
  await type('c', 't', 'a', 'k', 'e', 'n', ENTER);
  const f = plain(await until(frame, (x) => x.includes('already exists'), 'conflict message'));
  assert.match(f, /Create cluster/);
  app.unmount();
});

test('delete asks for confirmation: n keeps, y deletes', async () => {
  const b = new FakeBackend([cluster('alpha'), cluster('beta')]);
  const { frame, type, app } = start(b);
  await until(frame, (x) => x.includes('beta'), 'list');
  await type(DOWN, 'd');
  await until(frame, (x) => x.includes('Delete cluster "beta"'), 'confirmation');
  await type('n');
  await until(frame, (x) => !x.includes('Delete cluster'), 'back to the list');
  assert.deepEqual(b.calls, []);
  await type('d', 'y');
  const f = plain(await until(frame, (x) => x.includes('deleting beta'), 'deleting'));
  assert.match(f, /beta\s+Deleting/);
  assert.deepEqual(b.calls, ['delete beta']);
  app.unmount();
});

test('scale edits pool counts and sends them with If-Match; t stops a running cluster', async () => {
  const b = new FakeBackend([cluster('alpha')]);
  const started = start(b);
  const { frame, type, app } = started;
  await openScaleForm(started, 'alpha');
  await type('\x7f', '4', ENTER);
  await until(frame, (x) => x.includes('scaling alpha: workers 2→4'), 'scaled');
  assert.equal(b.calls[0], 'patch alpha {"spec":{"nodePools":[{"name":"workers","count":4}]}} "1"');
  await type('t');
  await until(frame, (x) => x.includes('stopping alpha'), 'stopping');
  assert.equal(b.calls[1], 'patch alpha {"spec":{"desiredState":"stopped"}}');
  app.unmount();
});

test('text and Enter in one input (typed faster than the terminal is read, or pasted) are the text, then Enter', async () => {
  const b = new FakeBackend([cluster('alpha')]);
  const started = start(b);
  const { frame, type, app } = started;
  await openScaleForm(started, 'alpha');
  await type('\x7f');
  app.stdin.write('4' + ENTER);
  await until(frame, (x) => x.includes('scaling alpha: workers 2→4'), 'scaled');
  assert.equal(b.calls[0], 'patch alpha {"spec":{"nodePools":[{"name":"workers","count":4}]}} "1"');
  await type('c');
  await until(frame, (x) => x.includes('Create cluster'), 'the form');
  app.stdin.write('demo' + TAB + TAB + TAB + '\x7f3' + ENTER);
  await until(frame, (x) => x.includes('created demo'), 'created from one input');
  assert.equal(b.calls[1], 'create demo {"provider":"sim","mode":"dev","nodePools":[{"name":"workers","count":3}]}');
  app.unmount();
});

test('detail view shows spec, conditions, controllers and nodes; help overlay lists keys', async () => {
  const c = cluster('alpha', 'Ready', {
    status: {
      phase: 'Ready',
      observedGeneration: 1,
      reason: 'Reconciled',
      message: 'all good',
      conditions: [{ type: 'Ready', status: 'True', reason: 'AllControllersReady', message: 'ready at generation 1', lastTransitionTime: new Date().toISOString(), observedGeneration: 1 }],
      controllers: [{ name: 'sim', observedGeneration: 1, conditions: [], updatedAt: new Date().toISOString() }],
      nodes: [{ name: 'alpha-server-0', role: 'server', state: 'running', ready: true }],
    },
  });
  const b = new FakeBackend([c]);
  const { frame, type, app } = start(b);
  await until(frame, (x) => x.includes('alpha'), 'list');
  await type(ENTER);
  const f = plain(await until(frame, (x) => x.includes('Conditions'), 'detail'));
  assert.match(f, /Ready\s+True\s+AllControllersReady/);
  assert.match(f, /sim\s+gen 1/);
  assert.match(f, /alpha-server-0\s+server/);
  assert.match(f, /mode dev/);
  await type(ESC, '?');
  await until(frame, (x) => x.includes('goman — keys'), 'help');
  await type('x');
  await until(frame, (x) => !x.includes('goman — keys'), 'help closed');
  app.unmount();
});

test('a disconnected server shows a banner until it is back', async () => {
  const b = new FakeBackend([cluster('alpha')]);
  const { frame, app } = start(b);
  await until(frame, (x) => x.includes('alpha'), 'list');
  assert.doesNotMatch(frame() ?? '', /disconnected/);
  b.emit({ type: 'disconnected', reason: 'connection refused' });
  await until(frame, (x) => x.includes('disconnected — retrying'), 'banner');
  b.emit({ type: 'connected' });
  await until(frame, (x) => !x.includes('disconnected'), 'banner gone');
  app.unmount();
});

test('a list longer than the screen scrolls with the cursor under a position line; pasted and fast j/k move a row each', async () => {
  const names = Array.from({ length: 50 }, (_, i) => `c${String(i).padStart(2, '0')}`);
  const b = new FakeBackend(names.map((n) => cluster(n)));
  const { frame, app } = start(b, false);
  // A 12-row terminal: title, header, 6 rows, the position line, a blank line and the keys.
  Object.defineProperty(app.stdout, 'rows', { value: 12, configurable: true });
  app.stdout.emit('resize');
  const rowsOf = (f: string): string[] => f.split('\n').filter((l) => /^c\d\d /.test(plain(l)));
  const selectedRow = (f: string): string | undefined => f.split('\n').find((l) => l.includes('\x1b[7m'))?.match(/c\d\d/)?.[0];

  let f = await until(frame, (x) => x.includes('1–6 of 50 ↓'), 'the first window');
  assert.deepEqual(rowsOf(f).map((l) => plain(l).slice(0, 3)), names.slice(0, 6));
  assert.ok(f.split('\n').length < 12, `the frame fits the terminal:\n${f}`);
  assert.match(plain(f), /^goman {2}test/, 'the title stays');
  assert.match(plain(f), /NAME\s+PHASE/, 'the header stays');

  app.stdin.write('jjjjjjjjjj'); // a paste: one chunk, ten presses
  f = await until(frame, (x) => selectedRow(x) === 'c10', 'the cursor ten rows down');
  assert.match(plain(f), /↑ 6–11 of 50 ↓/);
  assert.deepEqual(rowsOf(f).map((l) => plain(l).slice(0, 3)), names.slice(5, 11), 'the window followed the cursor');

  for (const k of ['k', 'k', 'k']) app.stdin.write(k); // typed faster than a render
  f = await until(frame, (x) => selectedRow(x) === 'c07', 'three rows up');
  assert.match(plain(f), /↑ 6–11 of 50 ↓/, 'moving inside the window does not scroll it');

  app.stdin.write('G');
  f = await until(frame, (x) => selectedRow(x) === 'c49', 'the last row');
  assert.match(plain(f), /↑ 45–50 of 50\n/);
  app.stdin.write('g');
  await until(frame, (x) => selectedRow(x) === 'c00' && plain(x).includes('  1–6 of 50 ↓'), 'back to the top');
  app.unmount();
});

test('the detail view of a cluster with more nodes than the screen holds fits and says how many it left out', async () => {
  const nodes = Array.from({ length: 100 }, (_, i) => ({ name: `big-node-${i}`, role: 'agent' as const, state: 'running', ready: true }));
  const b = new FakeBackend([cluster('big', 'Ready', { status: { ...cluster('big').status, nodes } })]);
  const { frame, type, app } = start(b, false);
  Object.defineProperty(app.stdout, 'rows', { value: 24, configurable: true });
  app.stdout.emit('resize');
  await until(frame, (x) => x.includes('big'), 'list');
  await type(ENTER);
  const f = plain(await until(frame, (x) => x.includes('more nodes'), 'the cut node list'));
  assert.ok(f.split('\n').length < 24, `the frame fits the terminal:\n${f}`);
  const shown = f.split('\n').filter((l) => l.includes('big-node-')).length;
  assert.match(f, new RegExp(`… ${100 - shown} more nodes; \`goman get big\` lists them all`));
  assert.match(f, /Recent events/, 'what follows the nodes is still there');
  app.unmount();
});

test('the detail view shows a paused rollout with its reason, and each node\'s K3s version and upgrade state', async () => {
  const now = new Date().toISOString();
  const c = cluster('roll', 'Updating', {
    status: {
      phase: 'Updating',
      observedGeneration: 1,
      reason: 'SpecChanged',
      message: 'generation 2',
      conditions: [],
      controllers: [],
      nodes: [
        { name: 'roll-server-0', role: 'server', state: 'running', ready: true, k3sVersion: 'v1.31.2+k3s1', upgrade: 'done' },
        { name: 'roll-server-1', role: 'server', state: 'running', ready: false, k3sVersion: 'v1.30.5+k3s1', upgrade: 'failed', cordoned: true },
      ],
      rollout: {
        fromVersion: 'v1.30.5+k3s1',
        toVersion: 'v1.31.2+k3s1',
        startedAt: now,
        nodesDone: 1,
        nodesTotal: 2,
        current: ['roll-server-1'],
        paused: true,
        reason: 'roll-server-1: not Ready at v1.31.2+k3s1 within nodeTimeout 10m',
        history: [],
      },
    },
  });
  const { frame, type, app } = start(new FakeBackend([c]));
  await until(frame, (x) => x.includes('roll'), 'list');
  await type(ENTER);
  const f = plain(await until(frame, (x) => x.includes('Conditions'), 'detail'));
  assert.match(f, /rollout v1\.30\.5\+k3s1 → v1\.31\.2\+k3s1: 1\/2 nodes done, PAUSED: roll-server-1: not Ready/);
  assert.match(f, /roll-server-1\s+server.*not ready\s+v1\.30\.5\+k3s1 failed/);
  app.unmount();
});
