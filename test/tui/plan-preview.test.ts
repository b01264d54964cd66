// The create and scale forms show the plan and the cost of what enter would do (issue 11),
// rendered by ink-testing-library from the real components over the fake backend (the TUI's
// port; no server is involved in what these forms display).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { until } from './frames.ts';

process.env.FORCE_COLOR = '0';
// Prices: the shipped table (no cache in this empty data dir).
process.env.GOMAN_DATA_DIR = '/nonexistent/goman-tui-test';
const { cleanup, openScaleForm, start } = await import('./render.ts');
const { FakeBackend, cluster } = await import('./fake-backend.ts');

after(() => cleanup());


test('the create form shows the launches and the monthly cost before enter', async () => {
  const b = new FakeBackend();
  const { frame, type, app } = start(b, false);
  await until(frame, (x) => x.includes('no clusters yet'), 'empty list');
  await type('c', 'd', 'e', 'm', 'o');
  const f = await until(frame, (x) => x.includes('Cost'), 'the plan');
  assert.match(f, /launch 1 × t3\.medium in pool control-plane/);
  assert.match(f, /launch 1 × t3\.medium in pool workers/);
  // ap-south-1 t3.medium at $0.0448/h (shipped table), two instances, 730 h.
  assert.match(f, /Cost \$0\.00 → \$65\.41\/month \(\+\$65\.41\)/);
  assert.deepEqual(b.calls, [], 'nothing was created while planning');
  app.unmount();
});

test('the scale form shows the drain and the cost change before enter', async () => {
  const b = new FakeBackend([cluster('alpha')]);
  const started = start(b, false);
  const { frame, type, app } = started;
  await openScaleForm(started, 'alpha');
  await type('\x7f', '1');
  const f = await until(frame, (x) => x.includes('cordon and drain'), 'the drain');
  assert.match(f, /cordon and drain alpha-workers-agent-1/);
  assert.match(f, /1 drained, 0 replaced, downtime no/);
  assert.match(f, /Cost \$98\.11 → \$65\.41\/month \(-\$32\.70\)/);
  assert.deepEqual(b.calls, []);
  app.unmount();
});
