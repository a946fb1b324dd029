/** Launches the system Chromium with playwright for the e2e tests, and records page errors. */
import { chromium, type Browser, type Page } from 'playwright';
import { CHROMIUM_ARGS, findChromium, INSTALL_HINT } from '../browser/chromium.mjs';

export async function launch(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error(`No Chromium found. ${INSTALL_HINT}`);
  // playwright gives every launch a fresh temporary profile (--user-data-dir) and removes it on close.
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
}

/** A new page whose console errors, uncaught exceptions and failed requests are collected in `problems`. */
export async function openPage(browser: Browser): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
  });
  page.on('requestfailed', (r) => problems.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
  return { page, problems };
}
