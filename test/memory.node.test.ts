// Memory behaviour on long-running processes and at the wasm32 limits (issue 5):
// - after warm-up, 100,000 copy-mode calls leave wasm memory and the process's ArrayBuffer memory flat;
// - tensors of hundreds of MiB work, in copy mode and zero-copy, and so does memory beyond 2 GiB;
// - what cannot fit under 4 GiB gets NormkitError TOO_LARGE before anything is allocated or copied, and
//   the refused call keeps no reference to the caller's arrays;
// - zero-copy Tensors stay valid across memory growth; a freed Tensor refuses every use (TENSOR_FREED).
import v8 from 'node:v8';
import vm from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  adaIN, batchNorm, groupNorm, instanceNorm, layerNorm, memoryStats, NormkitError, ready, rmsNorm, tensor,
  type Tensor,
} from '../src/index.js';
import { refBatchNorm, refGroupNorm, refLayerNorm, refRmsNorm } from '../src/reference.js';
import { assertClose } from './support/compare.js';
import { makeRng } from './support/rng.js';
import { randn } from './support/tensors.js';

// A real collector makes the ArrayBuffer measurements exact; the flag can be set at run time.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

function arrayBuffersAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().arrayBuffers;
}

function expectCode(f: () => unknown, code: string): NormkitError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(NormkitError);
    expect((e as NormkitError).code, (e as Error).message).toBe(code);
    return e as NormkitError;
  }
  throw new Error(`expected NormkitError ${code}, but the call returned`);
}

/** A cheap deterministic pattern (no RNG over hundreds of MiB): values in about [-4, 4) plus a row offset. */
function fillPattern(a: Float32Array, rowLength: number): void {
  for (let i = 0; i < a.length; i++) {
    const h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b) >>> 20; // 12 bits
    a[i] = h / 512 - 4 + ((i / rowLength) | 0) * 0.001;
  }
}

beforeAll(async () => {
  await ready();
});

describe('zero-copy tensors across growth and after free', () => {
  it('a Tensor keeps its data and a fresh view across memory growth; the old view is detached, or still valid in shared memory', () => {
    const rng = makeRng(5);
    const data = randn(rng, 4 * 2 * 9);
    const t = tensor(data);
    const view = t.array;
    const grower = tensor(64 * MiB / 4);
    expect(t.array === view).toBe(false);
    expect(Array.from(t.array)).toEqual(Array.from(data));
    const out = tensor(data.length);
    assertClose(groupNorm(t, [4, 2, 9], 1, { out }), refGroupNorm(data, [4, 2, 9], 1), 'groupNorm after growth');
    if (memoryStats().shared) {
      // Shared memory's growth detaches nothing: the old view still shows (and writes) the tensor's memory.
      expect(Array.from(view)).toEqual(Array.from(data));
      view[0] = 42;
      expect(t.array[0]).toBe(42);
      view[0] = data[0];
      assertClose(groupNorm(view, [4, 2, 9], 1), refGroupNorm(data, [4, 2, 9], 1), 'groupNorm of the old view');
    } else {
      // A detached view passed as a plain array has length 0: refused as a length mismatch.
      expect(view.length).toBe(0);
      expectCode(() => groupNorm(view, [4, 2, 9], 1), 'LENGTH_MISMATCH');
    }
    grower.free();
    out.free();
    t.free();
  });

  it('a freed Tensor refuses every use with TENSOR_FREED; free() twice is harmless', () => {
    const x = randn(makeRng(6), 2 * 3 * 4);
    const t = tensor(x);
    const w = tensor(3);
    const o = tensor(x.length);
    t.free();
    t.free();
    expect(t.freed).toBe(true);
    expectCode(() => t.array, 'TENSOR_FREED');
    expectCode(() => t.set(x), 'TENSOR_FREED');
    expectCode(() => batchNorm(t, [2, 3, 4], { training: true }), 'TENSOR_FREED');
    w.free();
    expectCode(() => batchNorm(x, [2, 3, 4], { training: true, weight: w }), 'TENSOR_FREED');
    o.free();
    expectCode(() => batchNorm(x, [2, 3, 4], { training: true, out: o }), 'TENSOR_FREED');
    // The memory is reused by the next tensor, which starts zeroed and works.
    const t2 = tensor(x);
    assertClose(batchNorm(t2, [2, 3, 4], { training: true }), refBatchNorm(x, [2, 3, 4], { training: true }).y);
    t2.free();
    // An empty tensor can be freed too.
    const e = tensor(0);
    e.free();
    expectCode(() => layerNorm(e, [0]), 'TENSOR_FREED');
  });
});

describe('long-running use stays flat', () => {
  it('100,000 copy-mode calls after warm-up: wasm memory and ArrayBuffer memory do not grow', () => {
    const rng = makeRng(0x3e3);
    const x = randn(rng, 6 * 33, 1, 2); // [6, 33] or [2, 3, 33] or [2, 33, 3]
    const res = randn(rng, x.length);
    const w33 = randn(rng, 33);
    const b33 = randn(rng, 33);
    const w3 = randn(rng, 3);
    const b3 = randn(rng, 3);
    const rm = new Float32Array(3);
    const rv = new Float32Array(3).fill(1);
    const style = randn(rng, 2 * 3 * 7, -1, 3);
    const out = new Float32Array(x.length);
    const sumOut = new Float32Array(x.length);
    const mean = new Float32Array(6);
    const invStd = new Float32Array(6);
    const calls: Array<() => unknown> = [
      () => layerNorm(x, [6, 33], { weight: w33, bias: b33, residual: res, sumOut, out, mean, invStd }),
      () => layerNorm(x, [6, 33]), // a fresh output array each call
      () => rmsNorm(x, [6, 33], { weight: w33, out }),
      () => batchNorm(x, [2, 3, 33], { weight: w3, bias: b3, runningMean: rm, runningVar: rv, training: true, out }),
      () => batchNorm(x, [2, 3, 33], { runningMean: rm, runningVar: rv }),
      () => instanceNorm(x, [2, 33, 3], { layout: 'NHWC', weight: w3, bias: b3, out }),
      () => groupNorm(x, [2, 33, 3], 3, { out }),
      () => adaIN(x, [2, 3, 33], style, [2, 3, 7], { out }),
      () => {
        // Refused calls must not leak either.
        try {
          layerNorm(x, [6, 34]);
        } catch (e) {
          if (!(e instanceof NormkitError)) throw e;
        }
      },
    ];
    const run = (n: number) => {
      for (let i = 0; i < n; i++) calls[i % calls.length]();
    };
    run(5_000);
    const wasmBefore = memoryStats();
    const abBefore = arrayBuffersAfterGc();
    const t0 = performance.now();
    run(100_000);
    const ms = performance.now() - t0;
    const wasmAfter = memoryStats();
    const abAfter = arrayBuffersAfterGc();
    expect(wasmAfter).toEqual(wasmBefore);
    // The fresh outputs of layerNorm(x, [6, 33]) are garbage; after a collection nothing may remain.
    expect(abAfter - abBefore, `ArrayBuffer memory grew by ${abAfter - abBefore} bytes over 100,000 calls`).toBeLessThan(64 * 1024);
    // The last calls still compute the right thing.
    assertClose(layerNorm(x, [6, 33], { weight: w33, bias: b33 }), refLayerNorm(x, [6, 33], { weight: w33, bias: b33 }).y);
    expect(ms).toBeLessThan(15_000);
  });

  it('10,000 tensor allocations and frees of mixed sizes return every byte (the free list coalesces)', () => {
    const before = memoryStats();
    const rng = makeRng(77);
    const liveTensors: Tensor[] = [];
    for (let i = 0; i < 10_000; i++) {
      if (liveTensors.length > 0 && rng.chance(0.5)) {
        liveTensors.splice(rng.int(0, liveTensors.length - 1), 1)[0].free();
      } else {
        liveTensors.push(tensor(rng.int(0, 5000)));
      }
    }
    for (const t of liveTensors.splice(0)) t.free();
    const after = memoryStats();
    expect(after.allocatedBytes).toBe(before.allocatedBytes);
    expect(after.blocks).toBe(before.blocks);
    // Memory may have grown to the peak of live tensors, which is bounded: at most 5000 * 4 bytes each.
    expect(after.memoryBytes).toBeLessThan(before.memoryBytes + 64 * MiB);
    // And a second identical round needs no more memory.
    const rng2 = makeRng(77);
    for (let i = 0; i < 10_000; i++) {
      if (liveTensors.length > 0 && rng2.chance(0.5)) liveTensors.splice(rng2.int(0, liveTensors.length - 1), 1)[0].free();
      else liveTensors.push(tensor(rng2.int(0, 5000)));
    }
    for (const t of liveTensors.splice(0)) t.free();
    expect(memoryStats()).toEqual(after);
  });
});

describe('large tensors', () => {
  it('a 384 MiB zero-copy tensor and a 256 MiB copy-mode array', () => {
    // Zero-copy layerNorm in place over 96 rows of 1 Mi floats.
    const rowLength = 1 << 20;
    const rows = 96;
    const t = tensor(rows * rowLength);
    fillPattern(t.array, rowLength);
    const sample = [0, 47, 95].map((r) => t.array.slice(r * rowLength, (r + 1) * rowLength));
    const y = layerNorm(t, [rows, rowLength], { out: t });
    expect(y.buffer).toBe(t.array.buffer);
    [0, 47, 95].forEach((r, k) =>
      assertClose(y.subarray(r * rowLength, (r + 1) * rowLength), refLayerNorm(sample[k], [rowLength]).y, `row ${r}`),
    );
    t.free();

    // Copy-mode batchNorm training, NHWC, on a plain 256 MiB array; C = 4, so each channel has 16 Mi values.
    const C = 4;
    const x = new Float32Array(64 * MiB);
    fillPattern(x, 1 << 30);
    const rm = new Float32Array(C);
    const rv = new Float32Array(C).fill(1);
    const out = batchNorm(x, [4, 4096, 1024, C], { layout: 'NHWC', training: true, runningMean: rm, runningVar: rv });
    // Reference statistics per channel in float64 (the full reference would need several GiB).
    const sum = new Float64Array(C);
    for (let i = 0; i < x.length; i++) sum[i % C] += x[i];
    const mu = sum.map((s) => s / (x.length / C));
    const sq = new Float64Array(C);
    for (let i = 0; i < x.length; i++) sq[i % C] += (x[i] - mu[i % C]) ** 2;
    const n = x.length / C;
    const variance = sq.map((s) => s / n);
    assertClose(rm, mu.map((m) => 0.1 * m), 'runningMean');
    assertClose(rv, variance.map((v) => 0.9 + (0.1 * v * n) / (n - 1)), 'runningVar');
    for (const i of [0, 1, 2, 3, 12345, x.length - 1, x.length - 4 - 3]) {
      const c = i % C;
      expect(Math.abs(out[i] - (x[i] - mu[c]) / Math.sqrt(variance[c] + 1e-5))).toBeLessThan(1e-4);
    }
  }, 30_000);

  it('channel counts whose kernel workspace passes 2 GiB work; past 4 GiB they are TOO_LARGE, not an engine error', () => {
    // batchNorm training over [2, C] with C = 42 Mi: about 2.2 GB of per-channel workspace (the kernel's u32 size
    // reads as a negative i32 in JS) beside a 336 MB tensor.
    const C = 42 * MiB;
    const x = tensor(2 * C);
    const a = x.array;
    for (let i = 0; i < a.length; i++) a[i] = (i % 7) - 3;
    const y = batchNorm(x, [2, C], { training: true, out: x });
    for (const c of [0, 1, 5, C - 1]) {
      const u = (c % 7) - 3;
      const v = ((C + c) % 7) - 3;
      const m = (u + v) / 2;
      const s = Math.sqrt(((u - m) ** 2 + (v - m) ** 2) / 2 + 1e-5);
      expect(Math.abs(y[c] - (u - m) / s)).toBeLessThan(1e-5);
      expect(Math.abs(y[C + c] - (v - m) / s)).toBeLessThan(1e-5);
    }
    x.free();
    // 80 Mi channels: the workspace alone exceeds 4 GiB (and the kernel's u32 size would wrap).
    const sentinel = tensor(1024).set(new Float32Array(1024).fill(5));
    const wide = tensor(80 * MiB);
    const before = memoryStats();
    const shape = [1, 80 * MiB];
    for (const call of [
      () => instanceNorm(wide, shape, { out: wide }),
      () => groupNorm(wide, shape, 1),
      () => batchNorm(wide, shape, { runningMean: wide, runningVar: wide }),
      () => adaIN(wide, shape, wide, shape),
    ]) {
      expectCode(call, 'TOO_LARGE');
    }
    expect(memoryStats()).toEqual(before);
    expect(sentinel.array.every((v) => v === 5)).toBe(true);
    wide.free();
    sentinel.free();
  }, 30_000);

  it('memory beyond 2 GiB: tensors and copy-mode staging above the 2 GiB mark read and write the right bytes', () => {
    // Fill the first ~2 GiB with one tensor so that everything allocated next sits above 2^31. (The ~2.2 GB
    // scratch block kept from the previous test gives way: it is idle between calls.)
    const filler = tensor(2 * GiB / 4 + MiB / 4);
    const rng = makeRng(2);
    const x = randn(rng, 40 * 77, 3, 2);
    const w = randn(rng, 77);
    const expected = refLayerNorm(x, [40, 77], { weight: w }).y;
    // A block above 2 GiB, dirtied, freed and allocated again must come back zero-filled.
    const dirty = tensor(1000);
    const dirtyAt = dirty.array.byteOffset;
    expect(dirtyAt).toBeGreaterThanOrEqual(2 ** 31);
    dirty.array.fill(7);
    dirty.free();
    const again = tensor(1000);
    expect(again.array.byteOffset).toBe(dirtyAt);
    expect(again.array.every((v) => v === 0)).toBe(true);
    again.free();
    // Copy mode: the scratch block is above 2 GiB.
    assertClose(layerNorm(x, [40, 77], { weight: w }), expected, 'copy mode above 2 GiB');
    // Zero-copy above 2 GiB.
    const tx = tensor(x);
    expect(tx.array.byteOffset).toBeGreaterThanOrEqual(2 ** 31);
    assertClose(layerNorm(tx, [40, 77], { weight: w, out: tx }), expected, 'zero-copy above 2 GiB');
    // The filler's first and last floats were never touched by the work above it.
    expect(filler.array[0]).toBe(0);
    expect(filler.array[filler.length - 1]).toBe(0);
    tx.free();
    filler.free();
  }, 30_000);
});

describe('TOO_LARGE: refused before anything is allocated or copied', () => {
  it('tensor(n) beyond what wasm32 can hold', () => {
    const before = memoryStats();
    for (const n of [2 ** 30, 2 ** 30 + 1, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
      const e = expectCode(() => tensor(n), 'TOO_LARGE');
      expect(e.message).toMatch(/4 GiB/);
    }
    // Nothing allocated: memory did not grow and no block was added (idle scratch may have been released).
    const after = memoryStats();
    expect(after.memoryBytes).toBe(before.memoryBytes);
    expect(after.allocatedBytes).toBeLessThanOrEqual(before.allocatedBytes);
    expect(after.blocks).toBeLessThanOrEqual(before.blocks);
    // The next allocation is fine.
    const t = tensor(16);
    expect(t.array.length).toBe(16);
    t.free();
  });

  it('a copy-mode call whose one unit cannot be staged: a row or a sample of 4 GiB + 64 bytes, or a 1.5 GiB row with residual and sumOut', () => {
    // Node allocates these lazily (zero pages): nothing is touched unless normkit copies them. Copy mode
    // stages whole rows (layerNorm, rmsNorm) or whole samples (channel ops) at a time: only a single row
    // or sample that cannot fit is refused.
    const before = memoryStats();
    const abBefore = arrayBuffersAfterGc();
    // In a function of its own, so that no stack slot of this test keeps the arrays alive afterwards.
    (() => {
      const huge = new Float32Array(2 ** 30 + 16);
      expectCode(() => layerNorm(huge, [1, 2 ** 30 + 16]), 'TOO_LARGE');
      expectCode(() => instanceNorm(huge, [1, 2 ** 26 + 1, 16]), 'TOO_LARGE');
      const x = new Float32Array(1.5 * GiB / 4);
      const sumOut = new Float32Array(x.length);
      const e = expectCode(() => layerNorm(x, [x.length], { residual: x, sumOut }), 'TOO_LARGE');
      expect(e.message).toMatch(/layerNorm/);
      // One 1.5 GiB array through scratch would fit; three together do not.
      expectCode(() => rmsNorm(x, [1, x.length], { residual: x, sumOut }), 'TOO_LARGE');
      expect(memoryStats().memoryBytes).toBe(before.memoryBytes);
    })();
    // The refused calls keep no reference to the caller's arrays (they are collectable).
    expect(arrayBuffersAfterGc() - abBefore).toBeLessThan(MiB);
    // And the next call works.
    const rng = makeRng(9);
    const x = randn(rng, 3 * 50);
    assertClose(rmsNorm(x, [3, 50]), refRmsNorm(x, [3, 50]));
  }, 30_000);

  it('copy mode takes a large plain array a slice at a time: 512 MiB need only one slice of scratch', () => {
    const before = memoryStats();
    (() => {
      const n = 1024;
      const huge = new Float32Array(2 ** 27 + n);
      const last = huge.length - n;
      for (let i = 0; i < n; i++) {
        huge[i] = i % 7;
        huge[last + i] = 2 * (i % 7);
      }
      layerNorm(huge, [huge.length / n, n], { out: huge });
      const expected = refLayerNorm(Float32Array.from({ length: n }, (_, i) => i % 7), [n]).y;
      assertClose(huge.subarray(0, n), expected, 'first row');
      assertClose(huge.subarray(last), expected, 'last row (the same values doubled)');
      expect(huge[n * 1000]).toBe(0); // a constant (zero) row gives exactly the bias, 0
    })();
    // The scratch it used is one slice's worth, not the array's size (staged whole, it would have grown
    // the scratch block and the memory by 512 MiB).
    const after = memoryStats();
    expect(after.allocatedBytes - before.allocatedBytes).toBeLessThan(64 * MiB);
    expect(after.memoryBytes - before.memoryBytes).toBeLessThan(64 * MiB);
  }, 60_000);
});
