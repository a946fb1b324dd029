// The built demo served by `vite preview` (with its COOP/COEP headers) and a headless Debian Chromium to
// open it: shared by the scripts that drive the demo from Node.
import { chromium } from 'playwright';
import { preview } from 'vite';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_ARGS, findChromium, INSTALL_HINT } from '../test/browser/chromium.mjs';

/** Starts the server and the browser, or exits with status 2 when there is no Chromium. */
export async function openDemo() {
  const executablePath = findChromium();
  if (!executablePath) {
    console.error(`No Chromium found. ${INSTALL_HINT}`);
    process.exit(2);
  }
  const server = await preview({
    configFile: fileURLToPath(new URL('./vite.config.ts', import.meta.url)),
    preview: { host: '127.0.0.1', port: 0 },
    logLevel: 'warn',
  });
  const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
  return {
    browser,
    url: server.resolvedUrls.local[0],
    async close() {
      await browser.close();
      await server.close();
    },
  };
}
