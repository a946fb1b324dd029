// The thread pool's life (issue 11): what ready() resolves to and refuses, resizing and close() with live
// Tensors, and a process that ends while its workers wait for work.
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { close, layerNorm, memoryStats, NormkitError, ready, tensor } from '../src/index.js';
import { makeRng } from './support/rng.js';
import { randn } from './support/tensors.js';
import { transpileSource } from './support/transpile.js';

let build: ReturnType<typeof transpileSource> | undefined;
beforeAll(() => {
  build = transpileSource();
});
afterAll(async () => {
  build?.remove();
  await close();
});

describe('ready({ threads }) and close()', () => {
  it('resolves to the count in use; without one keeps the last; auto is the available cores', async () => {
    expect(await ready()).toBe(1);
    // Unshared until threads are asked for: copies into a shared memory cost more.
    expect(memoryStats().shared).toBe(false);
    expect(await ready({ threads: 3 })).toBe(3);
    expect(memoryStats().shared).toBe(true);
    expect(await ready()).toBe(3);
    expect(await ready({})).toBe(3);
    expect(await ready({ threads: 'auto' })).toBe(Math.min(64, availableParallelism()));
    await close();
    expect(await ready()).toBe(1);
  });

  it('refuses a count that is not a positive integer up to 64 or auto, and unknown options', async () => {
    for (const threads of [0, -1, 1.5, 65, NaN, '2', null, true]) {
      await expect(ready({ threads } as never), String(threads)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    }
    await expect(ready({ thread: 2 } as never)).rejects.toMatchObject({ code: 'UNKNOWN_OPTION' });
    await expect(ready(2 as never)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    expect(await ready()).toBe(1);
  });

  it('moving to shared memory keeps every Tensor (same data, same result); the old views are detached', async () => {
    // A fresh module instance: this file's pool is shared by now, the move happens once per instance.
    const nk = await import(`${build!.indexUrl}?move`);
    await nk.ready();
    const x = randn(makeRng(2), 64 * 512);
    const t = nk.tensor(x);
    const view = t.array;
    const want = nk.layerNorm(t, [64, 512]).slice();
    expect(nk.memoryStats().shared).toBe(false);
    expect(await nk.ready({ threads: 2 })).toBe(2);
    expect(nk.memoryStats().shared).toBe(true);
    expect(view.length).toBe(0);
    expect(t.array).toEqual(x);
    expect(nk.layerNorm(t, [64, 512])).toEqual(want);
    t.free();
    await nk.close();
  });

  it('resizing and closing move no Tensor and allocate nothing', async () => {
    const x = randn(makeRng(3), 256 * 512);
    const t = tensor(x);
    const out = tensor(x.length);
    const want = layerNorm(x, [256, 512]).slice();
    const before = memoryStats();
    for (const threads of [2, 8, 1, 3]) {
      await ready({ threads });
      expect(layerNorm(t, [256, 512], { out })).toEqual(want);
      expect(t.array).toEqual(x);
    }
    await close();
    expect(layerNorm(t, [256, 512], { out })).toEqual(want);
    const after = memoryStats();
    expect([after.memoryBytes, after.allocatedBytes, after.blocks]).toEqual([before.memoryBytes, before.allocatedBytes, before.blocks]);
    t.free();
    out.free();
  });

  it('ops called while ready() resizes the pool run and give the same result', async () => {
    const x = randn(makeRng(4), 128 * 1024);
    const want = layerNorm(x, [128, 1024]).slice();
    const resizing = ready({ threads: 2 });
    expect(layerNorm(x, [128, 1024])).toEqual(want);
    expect(await resizing).toBe(2);
    expect(layerNorm(x, [128, 1024])).toEqual(want);
    await close();
  });

  it('an invalid call is refused as before while threads are on', async () => {
    await ready({ threads: 2 });
    expect(() => layerNorm(new Float32Array(6), [4])).toThrow(NormkitError);
    await close();
  });
});

describe('process exit', () => {
  it('a process whose pool is alive (workers waiting for work) exits on its own, with its exit code', () => {
    const script = `
      const nk = await import(${JSON.stringify(build!.indexUrl)});
      const threads = await nk.ready({ threads: 3 });
      const y = nk.layerNorm(new Float32Array(512 * 1024).map((_, i) => i % 7), [512, 1024]);
      console.log(threads, y.length);
      process.exitCode = 3;
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.error, 'the process did not exit within 20 s').toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(`3 ${512 * 1024}`);
    expect(r.status).toBe(3);
  });
});
