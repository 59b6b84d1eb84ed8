import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's chromium; Playwright never downloads a browser here. */
export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** Screenshots go here (gitignored); CI keeps them as artifacts. */
export const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test-artifacts', 'dashboard');

let shared: Promise<Browser> | undefined;

/** One headless Chromium for every browser test of a run: launching costs more than the tests. */
export function browser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH`);
  shared ??= chromium.launch({ executablePath: CHROMIUM, headless: true });
  return shared;
}

export async function closeBrowser(): Promise<void> {
  const b = shared;
  shared = undefined;
  await (await b)?.close();
}

/** A fresh context (axe needs one, and it isolates sessionStorage), at a phone or desktop size. */
export async function newPage(opts: { phone?: boolean; dark?: boolean } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await (await browser()).newContext({
    viewport: opts.phone ? { width: 390, height: 844 } : { width: 1280, height: 900 },
    ...(opts.phone ? { deviceScaleFactor: 2, isMobile: true, hasTouch: true } : {}),
    colorScheme: opts.dark ? 'dark' : 'light',
    acceptDownloads: true,
  });
  // Shorter than mocha's timeout, so a failure names the element that never came.
  context.setDefaultTimeout(10000);
  return { context, page: await context.newPage() };
}

export async function screenshot(page: Page, name: string, fullPage = true): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage, animations: 'disabled' });
  return path;
}

export async function signIn(page: Page, base: string, user: { username: string; password: string }): Promise<void> {
  await page.goto(`${base}/`);
  await page.fill('#username', user.username);
  await page.fill('#password', user.password);
  await page.click('button[type=submit]');
  await page.locator('header.top').waitFor();
}
