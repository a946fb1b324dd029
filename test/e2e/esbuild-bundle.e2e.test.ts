/**
 * normkit bundled by esbuild, minified, as users bundle it: the worker code of the thread pool travels as
 * source text inside the bundle (src/worker-body.ts), so the test runs zero-copy calls large enough to be
 * shared out among the threads, in Node and in a cross-origin isolated Chromium page, and compares their
 * bits with those of the unbundled package on one thread.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright';
import { build } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launch, openPage } from './browser.js';
import { serveDir } from './serve.js';
import type * as Normkit from '../../src/index.js';

const repo = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'normkit-esbuild-'));

// The bundle's entry: a call on Tensors (the calls the threads share), its output hashed.
const ENTRY = `
import { ready, close, layerNorm, groupNorm, tensor } from 'normkit';
function hash(a) {
  let h = 0x811c9dc5;
  for (const w of new Uint32Array(a.buffer, a.byteOffset, a.length)) h = Math.imul(h ^ w, 16777619) >>> 0;
  return h;
}
export async function run(threads) {
  const used = await ready({ threads });
  const n = 512 * 1024;
  const x = tensor(Float32Array.from({ length: n }, (_, i) => (i % 13) - 6 + i / 65536));
  const y = tensor(n);
  layerNorm(x, [512, 1024], { out: y });
  const rows = hash(y.array);
  groupNorm(x, [1, 64, 64, 128], 8, { out: y });
  const groups = hash(y.array);
  x.free();
  y.free();
  close();
  return { threads: used, rows, groups };
}
`;

async function bundle(platform: 'node' | 'browser', keepNames: boolean): Promise<string> {
  const file = join(dir, `${platform}${keepNames ? '-names' : ''}.mjs`);
  await build({
    stdin: { contents: ENTRY, resolveDir: repo, loader: 'js' },
    alias: { normkit: join(repo, 'dist/index.js') },
    bundle: true,
    minify: true,
    keepNames,
    format: 'esm',
    platform,
    target: 'es2022',
    outfile: file,
    logLevel: 'silent',
  });
  return file;
}

type Run = (threads: number) => Promise<{ threads: number; rows: number; groups: number }>;

let expected: { rows: number; groups: number };
let browser: Browser;
beforeAll(async () => {
  // The reference: the package itself, one thread.
  const nk = (await import(pathToFileURL(join(repo, 'dist/index.js')).href)) as typeof Normkit;
  await nk.ready();
  const n = 512 * 1024;
  const x = nk.tensor(Float32Array.from({ length: n }, (_, i) => (i % 13) - 6 + i / 65536));
  const y = nk.tensor(n);
  const hash = (a: Float32Array): number => {
    let h = 0x811c9dc5;
    for (const w of new Uint32Array(a.buffer, a.byteOffset, a.length)) h = Math.imul(h ^ w, 16777619) >>> 0;
    return h;
  };
  nk.layerNorm(x, [512, 1024], { out: y });
  const rows = hash(y.array);
  nk.groupNorm(x, [1, 64, 64, 128], 8, { out: y });
  expected = { rows, groups: hash(y.array) };
  x.free();
  y.free();
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('an esbuild bundle (minified)', () => {
  for (const keepNames of [false, true]) {
    it(`in Node, 2 threads give the unbundled package's bits${keepNames ? ' (keepNames)' : ''}`, async () => {
      const { run } = (await import(pathToFileURL(await bundle('node', keepNames)).href)) as { run: Run };
      expect(await run(2)).toEqual({ threads: 2, ...expected });
    });
  }

  it("in a cross-origin isolated Chromium page, 4 threads give the unbundled package's bits", async () => {
    await bundle('browser', false);
    writeFileSync(
      join(dir, 'index.html'),
      `<!doctype html><meta charset="utf-8"><title>esbuild</title><link rel="icon" href="data:,"><script type="module">
import { run } from './browser.mjs';
run(4).then((r) => { window.normkitResult = r; }, (e) => { window.normkitResult = { error: String(e) }; });
</script>`,
    );
    const server = await serveDir(dir, { isolate: true });
    try {
      const { page, problems } = await openPage(browser);
      await page.goto(`${server.url}/index.html`);
      await page.waitForFunction(() => (window as unknown as { normkitResult?: unknown }).normkitResult !== undefined, null, {
        timeout: 30_000,
      });
      const result = await page.evaluate(() => (window as unknown as { normkitResult: unknown }).normkitResult);
      await page.close();
      expect(problems).toEqual([]);
      expect(result).toEqual({ threads: 4, ...expected });
    } finally {
      await server.close();
    }
  });
});
