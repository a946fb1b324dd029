import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import type { Reporter } from 'vitest/node';
import { browserRequired, CHROMIUM_ARGS, findChromium, INSTALL_HINT, listTestFiles } from './test/browser/chromium.mjs';
import { browserCommands } from './test/browser/commands.js';
import { FIREFOX_INSTALL_HINT, FIREFOX_PREFS, findFirefox } from './test/browser/firefox.mjs';
import { puppeteerFirefox } from './test/browser/puppeteer-firefox.js';

// Test files named *.node.test.ts need Node APIs; every other test/**/*.test.ts also runs in headless
// Chromium (project "chromium", V8) and in headless Firefox (project "firefox", SpiderMonkey).
// *.browser.test.ts run only in the browsers. test/e2e/** drive Chromium from Node with playwright against
// built pages (the Vite example, the plain-ESM pages and the demo). Firefox is driven by puppeteer-core over
// WebDriver BiDi through a small vitest browser provider of our own (test/browser/puppeteer-firefox.ts).
const NODE_ONLY = 'test/**/*.node.test.ts';
const BROWSER_ONLY = 'test/**/*.browser.test.ts';
const E2E = 'test/e2e/**';
/** The files the chromium and firefox projects run (for the skip notices). */
const BROWSER_FILES = listTestFiles('test').filter((f) => !f.endsWith('.node.test.ts') && !f.startsWith('test/e2e/'));

const chromium = findChromium();
const firefox = findFirefox();

const bar = '!'.repeat(100);
const notices: string[] = [];
const missing: string[] = [];
if (!chromium) {
  const skipped = listTestFiles('test').filter((f) => !f.endsWith('.node.test.ts'));
  notices.push(
    [
      '!! normkit: NO CHROMIUM FOUND -- CHROMIUM TESTS SKIPPED.',
      `!! Skipped: the Chromium project (${skipped.filter((f) => !f.startsWith('test/e2e/')).length} files) and the e2e project:`,
      ...skipped.map((f) => `!!   ${f}${f.startsWith('test/e2e/') ? '  (e2e)' : '  (chromium)'}`),
      `!! ${INSTALL_HINT}`,
    ].join('\n'),
  );
  missing.push(`Chromium (${INSTALL_HINT})`);
}
if (!firefox) {
  notices.push(
    [
      '!! normkit: NO FIREFOX FOUND -- FIREFOX TESTS SKIPPED.',
      `!! Skipped: the Firefox project (${BROWSER_FILES.length} files):`,
      ...BROWSER_FILES.map((f) => `!!   ${f}  (firefox)`),
      `!! ${FIREFOX_INSTALL_HINT}`,
    ].join('\n'),
  );
  missing.push(`Firefox (${FIREFOX_INSTALL_HINT})`);
}
const skipNotice = notices.length ? ['', bar, ...notices.flatMap((n, i) => (i ? ['!!', n] : [n])), bar, ''].join('\n') : undefined;
if (skipNotice) {
  if (browserRequired()) {
    throw new Error(`normkit: browsers are required here (CI or NORMKIT_REQUIRE_BROWSER is set) but missing: ${missing.join('; ')}`);
  }
  // The config is loaded more than once per run (by vitest, then by each browser project's server): say it once.
  const g = globalThis as { normkitSkipNoticeShown?: boolean };
  if (!g.normkitSkipNoticeShown) console.warn(skipNotice);
  g.normkitSkipNoticeShown = true;
}

/** Repeats the skip notice after the summary, where it cannot scroll away. */
const skipNoticeReporter: Reporter = {
  onTestRunEnd() {
    if (skipNotice) console.warn(skipNotice);
  },
};

export default defineConfig({
  // Cross-origin isolation for the browser projects: shared memory, so that threads run there too
  // (test/threads.test.ts); without it ready({ threads }) resolves to 1.
  server: {
    fs: { allow: ['..'] },
    headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
  },
  test: {
    testTimeout: 60_000,
    reporters: ['default', skipNoticeReporter],
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          environment: 'node',
          include: ['test/**/*.test.ts'],
          exclude: [BROWSER_ONLY, E2E],
        },
      },
      ...(chromium
        ? [
            {
              extends: true as const,
              test: {
                name: 'chromium',
                include: ['test/**/*.test.ts'],
                exclude: [NODE_ONLY, E2E],
                browser: {
                  enabled: true,
                  headless: true,
                  screenshotFailures: false,
                  provider: playwright({
                    launchOptions: { executablePath: chromium, args: CHROMIUM_ARGS },
                  }),
                  instances: [{ browser: 'chromium' as const }],
                  commands: browserCommands,
                },
              },
            },
            {
              extends: true as const,
              test: {
                name: 'e2e',
                environment: 'node',
                include: ['test/e2e/**/*.test.ts'],
                globalSetup: ['test/e2e/global-setup.ts'],
                // Each e2e file launches its own Chromium; on 2 cores run them one after another.
                fileParallelism: false,
                testTimeout: 120_000,
                hookTimeout: 180_000,
              },
            },
          ]
        : []),
      ...(firefox
        ? [
            {
              extends: true as const,
              test: {
                name: 'firefox',
                // The same files as the chromium project (which include the bit-identity test, the conformance
                // vectors and the validation matrix), in the other engine.
                include: ['test/**/*.test.ts'],
                exclude: [NODE_ONLY, E2E],
                browser: {
                  enabled: true,
                  headless: true,
                  screenshotFailures: false,
                  provider: puppeteerFirefox({ executablePath: firefox, prefs: FIREFOX_PREFS }),
                  instances: [{ browser: 'firefox' as const }],
                  commands: browserCommands,
                },
              },
            },
          ]
        : []),
    ],
  },
});
