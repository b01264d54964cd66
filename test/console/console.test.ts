// The web console end to end, in Debian's headless Chromium against a real `goman serve` on the
// embedded default. The server first runs without controllers, so the new cluster stays Pending
// until the server is restarted with them: that restart is also the reconnect test, and the
// console must then show Provisioning and Ready without a reload. axe-core checks every page.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { eventually } from '../helpers/eventually.ts';
import { launchChromium, needChromium, screenshot, seriousA11yViolations, type BrowserHandle } from '../helpers/browser.ts';
import { startServe, type ServeHandle } from '../helpers/serve.ts';

// Slow enough that Provisioning lasts seconds, so the console has time to show it; a short
// active resync, so the restarted server's controller takes up the waiting cluster promptly.
const SIM = { GOMAN_SIM_BOOT_SECONDS: '2', GOMAN_SIM_INSTALL_SECONDS: '2', GOMAN_RECONCILE_ACTIVE_SECONDS: '1' };

let srv: ServeHandle | undefined;
let browser: BrowserHandle | undefined;
let ctx: BrowserContext;
let page: Page;
let available = true;
const cspViolations: string[] = [];
let navigations = 0;

before(async () => {
  srv = await startServe({ args: ['--no-controllers'], env: SIM });
});
after(async () => {
  await browser?.close();
  await srv?.stop();
});

async function admin(method: string, path: string, body?: unknown, token = srv!.token): Promise<Response> {
  return fetch(`${srv!.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function assertAccessible(p: Page, what: string): Promise<void> {
  assert.deepEqual(await seriousA11yViolations(p), [], `axe on ${what}`);
}

async function signIn(p: Page, token: string): Promise<void> {
  await p.goto(srv!.url);
  await p.getByLabel('API token').fill(token);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.getByTestId('whoami').waitFor();
}

function phaseIn(p: Page, selector: string): Promise<string | null> {
  return p.locator(selector).first().textContent({ timeout: 1000 }).catch(() => null);
}

/** The create form's own section (a region named by its heading). */
const createForm = (): Locator => page.getByRole('region', { name: 'New cluster' });

test('sign in with a pasted token: cookie only, nothing in web storage, who and role shown', async (t) => {
  if (!(available = await needChromium(t))) return;
  browser = await launchChromium();
  ctx = await browser.context();
  page = await ctx.newPage();
  page.on('console', (m) => void (/Content Security Policy/i.test(m.text()) && cspViolations.push(m.text())));
  page.on('framenavigated', (f) => void (f === page.mainFrame() && navigations++));
  await page.goto(srv!.url);
  await assertAccessible(page, 'the sign-in page');
  await signIn(page, srv!.token);
  assert.match((await page.getByTestId('whoami').textContent()) ?? '', /admin \(admin\)/);
  const [cookie] = await ctx.cookies();
  assert.equal(cookie?.name, 'goman_session');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  assert.ok(!cookie.value.includes(srv!.token));
  // Page-side code goes in as text: this program's TypeScript has no DOM types.
  assert.equal(await page.evaluate('localStorage.length + sessionStorage.length'), 0);
  assert.equal(await page.evaluate('document.cookie'), '', 'the session cookie is invisible to scripts');
  await assertAccessible(page, 'the empty fleet');
});

test('create a cluster through the form: validated as you type, previewed, then Pending', async (t) => {
  if (!available) return t.skip('chromium is not installed');
  await page.getByRole('link', { name: 'New cluster' }).click();
  // Within the form: the fleet page has a "Name" filter too, still on screen until the route changes.
  const name = createForm().getByLabel('Name', { exact: true });
  await name.fill('Web_Demo');
  await page.getByText(/must be a DNS-1123 label/).waitFor();
  assert.equal(await name.getAttribute('aria-invalid'), 'true');
  await name.fill('web-demo');
  await page.getByLabel('Worker pool nodes').fill('2');
  await eventually('the preview shows the validated spec', async () => /"name": "web-demo"[\s\S]*"count": 2/.test((await page.getByTestId('preview').textContent()) ?? ''));
  const cost = await eventually('the plan prices the cluster', async () => {
    const text = (await page.getByTestId('plan-cost').textContent({ timeout: 1000 })) ?? '';
    return /\$\d+\.\d{2}\/month|no price/.test(text) && text;
  });
  assert.ok(cost);
  assert.ok((await page.getByTestId('plan').locator('li').count()) > 0, 'the plan lists actions');
  await assertAccessible(page, 'the create form');
  // Record every phase the cluster view shows from now on, so "no reload" transitions are seen.
  await page.evaluate(`
    globalThis.phases = [];
    new MutationObserver(() => {
      const text = document.querySelector('#cluster-title .phase')?.textContent;
      if (text && globalThis.phases.at(-1) !== text) globalThis.phases.push(text);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  `);
  await page.getByRole('button', { name: 'Create cluster' }).click();
  await eventually('the cluster view shows web-demo Pending', async () => (await phaseIn(page, '#cluster-title .phase')) === 'Pending');
});

test('a server restart: banner while unreachable, reconnect, then Provisioning → Ready with no reload', { timeout: 90_000 }, async (t) => {
  if (!available) return t.skip('chromium is not installed');
  const before = navigations;
  const { dir, port } = srv!;
  await srv!.stop({ keepDir: true });
  await page.getByRole('alert').filter({ hasText: 'unreachable' }).waitFor();
  srv = await startServe({ reuse: { dir, port }, env: SIM });
  await page.getByRole('alert').filter({ hasText: 'unreachable' }).waitFor({ state: 'detached' });
  await eventually('web-demo is Ready', async () => (await phaseIn(page, '#cluster-title .phase')) === 'Ready', { timeoutMs: 45_000 });
  const phases = await page.evaluate<string[]>('globalThis.phases');
  const at = (p: string): number => phases.indexOf(p);
  assert.ok(at('Pending') >= 0 && at('Pending') < at('Provisioning') && at('Provisioning') < at('Ready'), phases.join(' → '));
  assert.equal(navigations, before, 'the page never reloaded');
  await eventually('three nodes ready', async () => (await page.locator('section[aria-labelledby="nodes-title"] tbody tr').count()) === 3);
  await eventually('the cluster view prices the cluster', async () => /\$|no price/.test((await page.getByTestId('cost').textContent()) ?? ''));
  await assertAccessible(page, 'the cluster view');
  await screenshot(page, 'console-cluster');
});

test('scale a pool from the cluster view', { timeout: 60_000 }, async (t) => {
  if (!available) return t.skip('chromium is not installed');
  await page.getByLabel('Pool workers nodes').fill('3');
  await page.getByRole('button', { name: 'Scale' }).click();
  await page.getByRole('status').filter({ hasText: 'Scale: accepted' }).waitFor();
  await eventually(
    'four ready nodes',
    async () => (await page.locator('section[aria-labelledby="nodes-title"] tbody tr').filter({ hasText: /yes$/ }).count()) === 4,
    { timeoutMs: 45_000 },
  );
});

test('the fleet: live rows, counts by phase, filters, sorting, at 1280 px and phone width', { timeout: 60_000 }, async (t) => {
  if (!available) return t.skip('chromium is not installed');
  const more = [
    { name: 'analytics', labels: { team: 'data' } },
    { name: 'batch-gpu', labels: { team: 'ml' } },
    { name: 'edge-01', labels: { team: 'edge', env: 'prod' } },
    { name: 'staging', labels: { env: 'staging' } },
  ];
  for (const c of more) assert.equal((await admin('POST', '/api/v1/clusters', { ...c, spec: { nodePools: [{ name: 'workers', count: 1 }] } })).status, 201);
  await page.getByRole('link', { name: 'Fleet' }).click();
  const rows = page.locator('[role="row"][data-cluster]');
  await eventually('five rows, live from the watch', async () => (await rows.count()) === 5);
  await eventually('every cluster Ready', async () => (await page.getByTestId('count-Ready').textContent()) === '5', { timeoutMs: 45_000 });

  await eventually('every row priced by the plan API', async () =>
    (await rows.locator('.col-cost').allTextContents()).every((text) => /^\$\d+\.\d{2}$/.test(text)),
  );
  await page.getByLabel('Name', { exact: true }).fill('edge');
  await eventually('the name filter leaves edge-01', async () => (await rows.count()) === 1 && (await rows.first().getAttribute('data-cluster')) === 'edge-01');
  await page.getByLabel('Name', { exact: true }).fill('');
  await page.getByLabel('Labels', { exact: true }).fill('team=ml');
  await eventually('the label filter leaves batch-gpu', async () => (await rows.count()) === 1 && (await rows.first().getAttribute('data-cluster')) === 'batch-gpu');
  await page.getByLabel('Labels', { exact: true }).fill('');
  await page.getByLabel('Provider', { exact: true }).selectOption('sim');
  await page.getByLabel('Phase', { exact: true }).selectOption('Ready');
  await eventually('phase and provider filters keep all five', async () => (await rows.count()) === 5);

  await page.getByRole('button', { name: 'Name' }).click();
  assert.equal(await page.getByRole('columnheader', { name: 'Name' }).getAttribute('aria-sort'), 'descending');
  await eventually('sorted by name, descending', async () => (await rows.first().getAttribute('data-cluster')) === 'web-demo');
  await page.getByRole('button', { name: 'Name' }).click();
  await eventually('sorted by name, ascending', async () => (await rows.first().getAttribute('data-cluster')) === 'analytics');
  await assertAccessible(page, 'the fleet');
  await screenshot(page, 'console-fleet');

  await page.setViewportSize({ width: 390, height: 844 });
  assert.equal(await page.evaluate('document.documentElement.scrollWidth <= 390'), true, 'no sideways scrolling at phone width');
  await assertAccessible(page, 'the fleet at phone width');
  await screenshot(page, 'console-fleet-phone');
  await page.setViewportSize({ width: 1280, height: 800 });
});

test("the server's refusal (problem+json) is shown at the field it names", async (t) => {
  if (!available) return t.skip('chromium is not installed');
  await page.getByRole('link', { name: 'New cluster' }).click();
  const name = createForm().getByLabel('Name', { exact: true });
  await name.fill('analytics');
  await page.getByRole('button', { name: 'Create cluster' }).click();
  await page.locator('#f-name-error').filter({ hasText: /already exists/ }).waitFor();
  assert.equal(await name.getAttribute('aria-invalid'), 'true');
  await page.getByRole('link', { name: 'Fleet' }).click();
});

test('open a cluster from the fleet and delete it, confirmed by typing its name', { timeout: 60_000 }, async (t) => {
  if (!available) return t.skip('chromium is not installed');
  await page.getByRole('link', { name: 'staging' }).click();
  await page.locator('#cluster-title').filter({ hasText: 'staging' }).waitFor();
  const remove = page.getByRole('button', { name: 'Delete' });
  assert.equal(await remove.isDisabled(), true);
  await page.getByLabel(/to delete it/).fill('stagin');
  assert.equal(await remove.isDisabled(), true);
  await page.getByLabel(/to delete it/).fill('staging');
  await remove.click();
  await page.locator('#fleet-title').waitFor();
  await eventually('staging is gone from the fleet', async () => (await page.locator('[data-cluster="staging"]').count()) === 0, { timeoutMs: 30_000 });
});

test('a user sees only their own clusters, and no admin pages', { timeout: 60_000 }, async (t) => {
  if (!available) return t.skip('chromium is not installed');
  const created = (await (await admin('POST', '/api/v1/tokens', { subject: 'alice', role: 'user', expiresIn: '1h' })).json()) as { token: string };
  assert.equal((await admin('POST', '/api/v1/clusters', { name: 'alice-one' }, created.token)).status, 201);
  const aliceCtx = await browser!.context();
  const alice = await aliceCtx.newPage();
  await signIn(alice, created.token);
  assert.match((await alice.getByTestId('whoami').textContent()) ?? '', /alice \(user\)/);
  const rows = alice.locator('[role="row"][data-cluster]');
  await eventually('alice sees alice-one', async () => (await rows.count()) === 1 && (await rows.first().getAttribute('data-cluster')) === 'alice-one');
  assert.equal(await alice.getByRole('link', { name: 'Admin' }).count(), 0);
  await alice.goto(`${srv!.url}/#/clusters/analytics`);
  await alice.getByRole('alert').filter({ hasText: /not found/ }).waitFor();
  await aliceCtx.close();
});

test('admin: create a token (secret shown once), list, revoke; controllers with heartbeat age', async (t) => {
  if (!available) return t.skip('chromium is not installed');
  await page.getByRole('link', { name: 'Admin' }).click();
  await page.getByLabel('Subject').fill('bob');
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = await page.getByTestId('new-token').inputValue();
  assert.match(secret, /^gmn_/);
  await assertAccessible(page, 'the admin page');
  await page.getByRole('button', { name: 'Done' }).click();
  assert.equal(await page.getByTestId('new-token').count(), 0, 'the secret is not shown again');
  const bobRow = page.getByRole('row').filter({ hasText: 'bob' });
  await bobRow.waitFor();
  await page.getByRole('button', { name: 'Revoke the token of bob' }).click();
  await bobRow.waitFor({ state: 'detached' });
  assert.equal((await admin('GET', '/api/v1/whoami', undefined, secret)).status, 401);
  const controllers = page.locator('table').nth(1).locator('tbody tr');
  await eventually('the sim controller is listed', async () => (await controllers.count()) >= 1);
});

test('recipe explorer: components, constraints, order, and the Helm bundle download', async (t) => {
  if (!available) return t.skip('chromium is not installed');
  await page.getByRole('link', { name: 'Recipes' }).click();
  await page.getByLabel('accelerator').selectOption('h100');
  await page.getByLabel('service').selectOption('eks');
  await eventually('components listed', async () => (await page.locator('tbody tr').count()) > 0);
  assert.ok((await page.locator('ol li').count()) > 0, 'a deployment order');
  await assertAccessible(page, 'the recipe explorer');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download Helm bundle' }).click()]);
  assert.match(download.suggestedFilename(), /^goman-bundle-eks-h100\.zip$/);
});

test('sign out: the cookie is cleared and the API no longer knows the browser', async (t) => {
  if (!available) return t.skip('chromium is not installed');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('API token').waitFor();
  assert.deepEqual(await ctx.cookies(), []);
  assert.equal(await page.evaluate(`fetch('/api/v1/whoami').then((r) => r.status)`), 401);
  assert.deepEqual(cspViolations, [], 'no Content-Security-Policy violations');
});
