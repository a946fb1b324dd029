import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import type { Reporter } from 'vitest/node';
import { browserRequired, CHROMIUM_ARGS, findChromium, INSTALL_HINT, listTestFiles } from './test/browser/chromium.mjs';
import { browserCommands } from './test/browser/commands.js';

// Test files named *.node.test.ts need Node APIs; every other test/**/*.test.ts also runs in headless
// Chromium (project "chromium"). *.browser.test.ts run only in Chromium. test/e2e/** drive Chromium from
// Node with playwright against built pages (the Vite example, the plain-ESM pages and the demo).
const NODE_ONLY = 'test/**/*.node.test.ts';
const BROWSER_ONLY = 'test/**/*.browser.test.ts';
const E2E = 'test/e2e/**';

const chromium = findChromium();

let skipNotice: string | undefined;
if (!chromium) {
  const skipped = listTestFiles('test').filter((f) => !f.endsWith('.node.test.ts'));
  skipNotice = [
    '',
    '!'.repeat(100),
    '!! normkit: NO CHROMIUM FOUND -- BROWSER TESTS SKIPPED. Only the Node suite ran.',
    `!! Skipped: the Chromium project (${skipped.filter((f) => !f.startsWith('test/e2e/')).length} files) and the e2e project:`,
    ...skipped.map((f) => `!!   ${f}${f.startsWith('test/e2e/') ? '  (e2e)' : '  (chromium)'}`),
    `!! ${INSTALL_HINT}`,
    '!'.repeat(100),
    '',
  ].join('\n');
  if (browserRequired()) {
    throw new Error(
      `normkit: Chromium is required here (CI or NORMKIT_REQUIRE_BROWSER is set) but none was found. ${INSTALL_HINT}`,
    );
  }
  console.warn(skipNotice);
}

/** Repeats the skip notice after the summary, where it cannot scroll away. */
const skipNoticeReporter: Reporter = {
  onTestRunEnd() {
    if (skipNotice) console.warn(skipNotice);
  },
};

export default defineConfig({
  server: { fs: { allow: ['..'] } },
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
    ],
  },
});
