/**
 * Builds what the e2e tests load, from the current dist/ (made by `npm run build`, which `npm test`
 * runs first as pretest):
 *  1. installs the package into examples/vite-app/node_modules/normkit the way npm would install it
 *     from the registry: `npm pack` (only the files the package publishes) then unpack — offline;
 *  2. builds examples/vite-app with Vite (it imports 'normkit', resolved through package.json "exports");
 *  3. builds the demo with Vite.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'vite';

const repo = resolve(import.meta.dirname, '../..');

export async function installPackedNormkit(appDir: string): Promise<string> {
  const tmp = mkdtempSync(join(tmpdir(), 'normkit-pack-'));
  try {
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], {
      cwd: repo,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const [{ filename }] = JSON.parse(out) as { filename: string }[];
    const dest = join(appDir, 'node_modules', 'normkit');
    rmSync(dest, { recursive: true, force: true });
    mkdirSync(dest, { recursive: true });
    execFileSync('tar', ['-xzf', join(tmp, filename), '-C', dest, '--strip-components=1']);
    return dest;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export default async function setup(): Promise<void> {
  if (!existsSync(join(repo, 'dist/index.js'))) {
    throw new Error('dist/index.js is missing: run `npm run build` first (`npm test` does it as pretest).');
  }
  const t0 = performance.now();
  const app = join(repo, 'examples/vite-app');
  await installPackedNormkit(app);
  await build({ root: app, configFile: join(app, 'vite.config.js'), logLevel: 'warn' });
  await build({ configFile: join(repo, 'demo/vite.config.ts'), logLevel: 'warn' });
  console.log(`e2e setup: packed + installed normkit, built examples/vite-app and demo in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
