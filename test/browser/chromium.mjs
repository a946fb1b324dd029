// Finds a system Chromium for the browser tests, the e2e tests and the demo scripts.
// No test tool downloads a browser of its own: install Debian's with `apt-get install -y chromium`,
// or point NORMKIT_CHROMIUM (or CHROME_PATH) at another Chromium/Chrome binary (NORMKIT_CHROMIUM=off
// pretends none is installed).
import { existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const NAMES = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'];

/**
 * Absolute path of an installed browser: the first of the `env` variables that names an existing file, else
 * the first of `names` on PATH. The first variable set to 0/off/none/false simulates "not installed".
 */
export function findBrowser(env, names) {
  const forced = process.env[env[0]];
  if (forced && ['0', 'off', 'none', 'false'].includes(forced.toLowerCase())) return undefined;
  for (const v of env.map((e) => process.env[e])) {
    if (v && existsSync(v)) return v;
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const name of names) {
      const p = join(dir, name);
      if (existsSync(p)) return p;
    }
  }
  return undefined;
}

/** Absolute path of a Chromium binary, or undefined when none is installed. */
export function findChromium() {
  return findBrowser(['NORMKIT_CHROMIUM', 'CHROME_PATH'], NAMES);
}

/** Flags for headless Chromium on a closed network (without them it stalls on network services). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** When true, a missing Chromium fails the run instead of skipping the browser tests (CI sets CI=true). */
export function browserRequired() {
  const v = process.env.NORMKIT_REQUIRE_BROWSER ?? process.env.CI;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

export const INSTALL_HINT =
  'Install Chromium to run them: `apt-get install -y chromium` (Debian/Ubuntu), ' +
  'or set NORMKIT_CHROMIUM=/path/to/chromium.';

/** Test files under `dir` (relative, '/'-separated, sorted) whose names end in `.test.ts`. */
export function listTestFiles(dir = 'test') {
  return readdirSync(dir, { recursive: true })
    .map((f) => `${dir}/${String(f).split('\\').join('/')}`)
    .filter((f) => f.endsWith('.test.ts') && !f.includes('/node_modules/'))
    .sort();
}
