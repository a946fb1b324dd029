/**
 * A vitest browser provider that runs the browser test files in the system Firefox, driven by
 * puppeteer-core over WebDriver BiDi. vitest ships providers for playwright (whose Firefox is a patched
 * build that must be downloaded) and webdriverio (which needs a geckodriver download); neither can run
 * here, and no puppeteer provider is published, so this is one. The provider interface is small: vitest
 * serves the tests and talks to the page over its own WebSocket; the provider only opens the page.
 *
 * What it does: launches Firefox once (headless, a fresh profile directory removed at the end, the
 * closed-network preferences of firefox.mjs), opens one page per vitest session and navigates it to
 * vitest's URL, and closes everything at the end. Browser commands (test/browser/commands.ts) run in the
 * Node process and work as with any provider; playwright-only APIs (locators, userEvent, CDP, module
 * mocking through request interception) are not provided and the suites do not use them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineBrowserProvider } from '@vitest/browser';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import type { BrowserProvider, TestProject } from 'vitest/node';

export interface PuppeteerFirefoxOptions {
  /** The Firefox binary (Debian: /usr/bin/firefox-esr). */
  executablePath: string;
  /** Preferences written to the fresh profile's user.js (on top of puppeteer's own). */
  prefs?: Record<string, string | number | boolean>;
  /** Milliseconds to wait for Firefox to start and accept the BiDi connection. */
  launchTimeout?: number;
}

export function puppeteerFirefox(options: PuppeteerFirefoxOptions) {
  return defineBrowserProvider<PuppeteerFirefoxOptions>({
    name: 'puppeteer-firefox',
    supportedBrowser: ['firefox'],
    options,
    providerFactory(project) {
      return new PuppeteerFirefoxProvider(project, options);
    },
  });
}

class PuppeteerFirefoxProvider implements BrowserProvider {
  name = 'puppeteer-firefox';
  // One page at a time: the test files run one after another in it (2-core machines; one content process).
  supportsParallelism = false;
  private browser: Promise<Browser> | undefined;
  private profile: string | undefined;
  private pages = new Map<string, Page>();
  private closing = false;

  constructor(
    private project: TestProject,
    private options: PuppeteerFirefoxOptions,
  ) {}

  private launch(): Promise<Browser> {
    this.browser ??= (async () => {
      this.profile = await mkdtemp(join(tmpdir(), 'normkit-firefox-profile-'));
      const browser = await puppeteer.launch({
        browser: 'firefox',
        protocol: 'webDriverBiDi',
        executablePath: this.options.executablePath,
        headless: this.project.config.browser.headless !== false,
        userDataDir: this.profile,
        extraPrefsFirefox: this.options.prefs ?? {},
        timeout: this.options.launchTimeout ?? 90_000,
        env: { ...process.env, MOZ_CRASHREPORTER_DISABLE: '1', MOZ_DISABLE_AUTO_SAFE_MODE: '1' },
      });
      if (this.closing) {
        await browser.close();
        throw new Error('[normkit firefox provider] closed while Firefox was starting');
      }
      return browser;
    })();
    return this.browser;
  }

  getCommandsContext(sessionId: string): Record<string, unknown> {
    return { page: this.pages.get(sessionId), browser: this.browser };
  }

  async openPage(sessionId: string, url: string): Promise<void> {
    if (this.closing) throw new Error('[normkit firefox provider] the provider was closed');
    const old = this.pages.get(sessionId);
    if (old) {
      this.pages.delete(sessionId);
      await old.close().catch(() => {});
    }
    const browser = await this.launch();
    const page = await browser.newPage();
    this.pages.set(sessionId, page);
    page.on('pageerror', (e) => this.project.vitest.logger.error(`[firefox page error] ${String(e)}`));
    await page.goto(url, { timeout: 0 });
  }

  async close(): Promise<void> {
    this.closing = true;
    const pending = this.browser;
    this.browser = undefined;
    const pages = [...this.pages.values()];
    this.pages.clear();
    try {
      const browser = await pending?.catch(() => undefined);
      await Promise.all(pages.map((p) => p.close().catch(() => {})));
      await browser?.close();
    } finally {
      if (this.profile) await rm(this.profile, { recursive: true, force: true });
      this.profile = undefined;
    }
  }
}
