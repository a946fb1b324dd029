/**
 * The package as users get it, in a real browser:
 *  - examples/vite-app imports 'normkit' from node_modules (installed from `npm pack`, resolved through
 *    package.json "exports") and is built by Vite in the e2e global setup; the page's result must equal,
 *    bit for bit, what the same package computes in Node;
 *  - examples/plain-esm/*.html import dist/index.js with no bundler (by path, and by an import map).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launch, openPage } from './browser.js';
import { serveDir } from './serve.js';
import type * as Normkit from '../../src/index.js';

const repo = resolve(import.meta.dirname, '../..');
const app = join(repo, 'examples/vite-app');
type NK = typeof Normkit;

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

/** The example's input generator, repeated here so Node can recompute the page's result. */
function seeded(n: number, seed: number): Float32Array {
  const x = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = ((s >>> 8) / (1 << 24)) * 8 - 4;
  }
  return x;
}

async function loadResult(url: string) {
  const { page, problems } = await openPage(browser);
  await page.goto(url);
  await page.waitForFunction(() => (window as unknown as { normkitResult?: unknown }).normkitResult !== undefined, null, {
    timeout: 30_000,
  });
  const result = await page.evaluate(() => (window as unknown as { normkitResult: Record<string, unknown> }).normkitResult);
  const status = await page.locator('#status').textContent();
  await page.close();
  return { result, status, problems };
}

describe('Vite consumer app (examples/vite-app)', () => {
  it('installed normkit from the packed tarball, with the files the package publishes', () => {
    const installed = join(app, 'node_modules/normkit');
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    expect(pkg.name).toBe('normkit');
    expect(existsSync(join(installed, pkg.exports['.'].default))).toBe(true);
    expect(existsSync(join(installed, 'src')), 'only "files" are published').toBe(false);
  });

  it('the build is one JS bundle with the wasm embedded (no .wasm asset)', () => {
    const assets = readdirSync(join(app, 'dist/assets'));
    expect(assets.filter((f) => f.endsWith('.js')).length).toBeGreaterThanOrEqual(1);
    expect(assets.filter((f) => f.endsWith('.wasm'))).toEqual([]);
  });

  it('computes on the page exactly what the same package computes in Node', async () => {
    const server = await serveDir(join(app, 'dist'));
    try {
      const { result, status, problems } = await loadResult(`${server.url}/`);
      expect(problems).toEqual([]);
      expect(result.error).toBeUndefined();
      expect(status).toBe('done');
      expect(server.requests.filter((p) => p.endsWith('.wasm'))).toEqual([]);

      const nk = (await import(pathToFileURL(join(app, 'node_modules/normkit/dist/index.js')).href)) as NK;
      await nk.ready();
      const y = nk.layerNorm(seeded(40, 7), [4, 10]);
      const g = nk.groupNorm(seeded(2 * 6 * 3 * 3, 11), [2, 6, 3, 3], 3);
      // Compare bit patterns: Chromium and Node run the same wasm and must agree exactly.
      const bits = (a: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(a).buffer));
      expect(bits(result.layerNorm as number[])).toEqual(bits(y));
      expect(bits(result.groupNorm as number[])).toEqual(bits(g));
      for (const m of result.rowMean as number[]) expect(Math.abs(m)).toBeLessThan(1e-6);
      expect(result.errorCode).toBe('LENGTH_MISMATCH');
    } finally {
      await server.close();
    }
  });
});

describe('plain <script type="module"> pages (examples/plain-esm)', () => {
  it('index.html imports dist/index.js by path and matches Node', async () => {
    const server = await serveDir(repo);
    try {
      const { result, problems } = await loadResult(`${server.url}/examples/plain-esm/index.html`);
      expect(problems).toEqual([]);
      expect(result.error).toBeUndefined();
      const nk = (await import(pathToFileURL(join(repo, 'dist/index.js')).href)) as NK;
      await nk.ready();
      const x = Float32Array.from(result.input as number[]);
      expect(Array.from(nk.layerNorm(x, [3, 8]))).toEqual(result.layerNorm);
      expect(Array.from(nk.rmsNorm(x, [3, 8]))).toEqual(result.rmsNorm);
      expect(server.requests.some((p) => p === '/dist/index.js')).toBe(true);
      expect(server.requests.filter((p) => p.endsWith('.wasm'))).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('threads: 4 in a cross-origin isolated page, 1 without isolation, the same bits as Node either way', async () => {
    const nk = (await import(pathToFileURL(join(repo, 'dist/index.js')).href)) as NK;
    await nk.ready();
    const big = nk.layerNorm(Float32Array.from({ length: 512 * 1024 }, (_, i) => (i % 13) - 6 + i / 65536), [512, 1024]);
    let hash = 0x811c9dc5;
    for (const w of new Uint32Array(big.buffer)) hash = Math.imul(hash ^ w, 16777619) >>> 0;
    for (const isolate of [true, false]) {
      const server = await serveDir(repo, { isolate });
      try {
        const { result, problems } = await loadResult(`${server.url}/examples/plain-esm/index.html`);
        expect(problems).toEqual([]);
        expect(result.error).toBeUndefined();
        expect(result.threads, `isolated: ${isolate}`).toBe(isolate ? 4 : 1);
        expect(result.bigHash).toBe(hash);
      } finally {
        await server.close();
      }
    }
  });

  it("threads under a strict Content-Security-Policy need worker-src blob: (documented in docs/browser.md)", async () => {
    const page = '/examples/plain-esm/index.html';
    const csp = "script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'";
    const strict = await serveDir(repo, { isolate: true, headers: { 'content-security-policy': `${csp}; worker-src 'self'` } });
    const allowed = await serveDir(repo, { isolate: true, headers: { 'content-security-policy': `${csp}; worker-src 'self' blob:` } });
    try {
      const blocked = await loadResult(`${strict.url}${page}`);
      expect(blocked.result.code).toBe('WORKER_FAULT');
      const ok = await loadResult(`${allowed.url}${page}`);
      expect(ok.result.error).toBeUndefined();
      expect(ok.result.threads).toBe(4);
    } finally {
      await strict.close();
      await allowed.close();
    }
  });

  it("importmap.html maps the bare name 'normkit' to dist/ and matches Node", async () => {
    const server = await serveDir(repo);
    try {
      const { result, problems } = await loadResult(`${server.url}/examples/plain-esm/importmap.html`);
      expect(problems).toEqual([]);
      expect(result.error).toBeUndefined();
      const nk = (await import(pathToFileURL(join(repo, 'dist/index.js')).href)) as NK;
      await nk.ready();
      const x = Float32Array.from(result.input as number[]);
      expect(Array.from(nk.instanceNorm(x, [2, 3, 4]))).toEqual(result.instanceNorm);
    } finally {
      await server.close();
    }
  });

  it("a page with a strict Content-Security-Policy needs 'wasm-unsafe-eval' (documented in docs/browser.md)", async () => {
    const page = '/examples/plain-esm/index.html';
    const strict = await serveDir(repo, { headers: { 'content-security-policy': "script-src 'self' 'unsafe-inline'" } });
    const allowed = await serveDir(repo, {
      headers: { 'content-security-policy': "script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'" },
    });
    try {
      const blocked = await loadResult(`${strict.url}${page}`);
      expect(String(blocked.result.error)).toContain('CompileError');
      const ok = await loadResult(`${allowed.url}${page}`);
      expect(ok.result.error).toBeUndefined();
      expect(ok.problems).toEqual([]);
    } finally {
      await strict.close();
      await allowed.close();
    }
  });
});
