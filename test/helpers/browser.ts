// Headless Chromium for the console tests: Debian's `chromium` package (.ci/run installs it),
// driven by playwright-core through executablePath, never a downloaded browser. Outside CI a
// missing chromium skips the test with a visible reason; in CI (CI=true) it fails it.
import { access, mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';

export const CHROMIUM = process.env.GOMAN_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const TEST_OUTPUT = fileURLToPath(new URL('../../test-output/', import.meta.url));

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Call at the top of a browser test: false (and skipped) when chromium is absent outside CI. */
export async function needChromium(t: TestContext): Promise<boolean> {
  try {
    await access(CHROMIUM);
    return true;
  } catch {
    const msg = `chromium is not installed at ${CHROMIUM} (apt-get install -y chromium)`;
    if (process.env.CI) throw new Error(`${msg}; CI requires it (.ci/run installs it)`);
    t.skip(msg);
    return false;
  }
}

export interface BrowserHandle {
  /** A fresh, isolated browser context (its own cookies). */
  context(opts?: { width?: number; height?: number }): Promise<BrowserContext>;
  close(): Promise<void>;
}

/** Chromium; playwright gives every launch a fresh temporary user-data dir and removes it on close. */
export async function launchChromium(): Promise<BrowserHandle> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  return {
    context: async (opts = {}) => {
      const context = await browser.newContext({ viewport: { width: opts.width ?? 1280, height: opts.height ?? 800 } });
      // CI runs test files side by side on few cores: patience, not luck, for each browser action.
      context.setDefaultTimeout(60_000);
      return context;
    },
    close: () => browser.close(),
  };
}

const axeSource = readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/**
 * Runs axe-core in the page (injected through the devtools protocol, which the page's CSP does
 * not govern) and returns the serious and critical violations, as readable lines.
 */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  await page.evaluate(await axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: AxeViolation[] }> } }).axe;
    return (await axe.run()).violations;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact}: ${v.id} (${v.help}) at ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);
}

/** Saves a full-page PNG under test-output/ and prints its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(TEST_OUTPUT, { recursive: true });
  const file = path.join(TEST_OUTPUT, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  console.log(`screenshot: ${file}`);
  return file;
}
