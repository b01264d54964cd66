// The fleet view with 1 000 clusters: the list is virtualised (a bounded number of rows in the
// DOM whatever the fleet size), the counts cover every cluster, the last row is reachable by
// scrolling, sorting and filtering cover all 1 000. The times are printed, not asserted: they
// measure the machine as much as the console. The server runs without controllers so the
// 1 000 stay put.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { eventually } from '../helpers/eventually.ts';
import { launchChromium, needChromium, seriousA11yViolations, type BrowserHandle } from '../helpers/browser.ts';
import { startServe, type ServeHandle } from '../helpers/serve.ts';

const FLEET = 1000;
let srv: ServeHandle | undefined;
let browser: BrowserHandle | undefined;
after(async () => {
  await browser?.close();
  await srv?.stop();
});

test('1 000 clusters: counts, a virtualised list, quick scroll and sort', { timeout: 180_000 }, async (t) => {
  if (!(await needChromium(t))) return;
  srv = await startServe({ args: ['--no-controllers'] });
  const names = Array.from({ length: FLEET }, (_, i) => `c-${String(i).padStart(4, '0')}`);
  for (let i = 0; i < names.length; i += 25) {
    const batch = names.slice(i, i + 25).map((name) =>
      fetch(`${srv!.url}/api/v1/clusters`, {
        method: 'POST',
        headers: { authorization: `Bearer ${srv!.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name, labels: { shard: String(Number(name.slice(2)) % 10) } }),
      }).then((r) => assert.equal(r.status, 201, name)),
    );
    await Promise.all(batch);
  }
  browser = await launchChromium();
  const page = await (await browser.context()).newPage();
  await page.goto(srv.url);
  await page.getByLabel('API token').fill(srv.token);
  const started = Date.now();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await eventually('all 1 000 counted', async () => (await page.getByTestId('count-Pending').textContent({ timeout: 1000 })) === String(FLEET), { timeoutMs: 30_000 });
  const loadedMs = Date.now() - started;
  const rows = page.locator('[role="row"][data-cluster]');
  const inDom = await rows.count();
  assert.ok(inDom > 0 && inDom <= 60, `${inDom} rows in the DOM for ${FLEET} clusters`);
  assert.equal(await page.getByRole('table', { name: 'clusters' }).getAttribute('aria-rowcount'), String(FLEET + 1));

  const scrollStarted = Date.now();
  await page.locator('.grid-body').hover();
  await page.mouse.wheel(0, FLEET * 100);
  await page.locator('[data-cluster="c-0999"]').waitFor();
  const scrollMs = Date.now() - scrollStarted;

  const sortStarted = Date.now();
  await page.getByRole('button', { name: 'Name' }).click();
  await page.locator('.grid-body').hover();
  await page.mouse.wheel(0, -FLEET * 100);
  await eventually('sorted descending', async () => (await rows.first().getAttribute('data-cluster')) === 'c-0999');
  const sortMs = Date.now() - sortStarted;

  await page.getByLabel('Labels', { exact: true }).fill('shard=3');
  await eventually('100 rows match shard=3', async () => (await page.getByRole('table', { name: 'clusters' }).getAttribute('aria-rowcount')) === '101');
  assert.deepEqual(await seriousA11yViolations(page), []);
  console.log(`fleet of ${FLEET}: listed and rendered in ${loadedMs} ms; ${inDom} rows in the DOM; scroll to the end ${scrollMs} ms; re-sort ${sortMs} ms`);
});
