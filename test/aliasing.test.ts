// Aliasing rules (issue 5), each either supported (checked against the float64 reference) or refused with
// NormkitError ALIASING before anything is written:
// - plain Float32Arrays may overlap each other in any way: every input is copied into wasm scratch before
//   any output is written, so the op behaves as if out-of-place (out === x, out overlapping weight, a
//   subarray of x's buffer as out, residual === sumOut, ...). Two *outputs* must not overlap;
// - a Tensor is read and written in place: an output Tensor may be the very Tensor x (and, for layerNorm and
//   rmsNorm, out or sumOut may be the residual Tensor, sumOut may be x); any other output/input Tensor pair
//   sharing memory is refused;
// - a Float32Array view of wasm memory (Tensor.array) passed as a plain array works (it is staged like any
//   plain array), unless the memory grows during the call, which detaches it: then INVALID_TENSOR.
// Runs in Node and in Chromium.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  adaIN, batchNorm, groupNorm, instanceNorm, layerNorm, memoryStats, NormkitError, ready, rmsNorm, tensor,
  type Tensor,
} from '../src/index.js';
import * as normkit from '../src/index.js';
import type { Layout } from '../src/reference.js';
import { assertClose } from './support/compare.js';
import { refOps } from './support/ops.js';
import { cloneCall, ENTRIES, outputsOf, tensorCall, type NormkitLike } from './support/registry.js';
import { makeRng } from './support/rng.js';
import { randn, randu } from './support/tensors.js';

const rng = makeRng(0xa11a5);

function expectAliasing(f: () => unknown, watched: Array<Float32Array | Tensor>, name?: string): void {
  const snapshot = watched.map((a) => (a instanceof Float32Array ? a : a.array).slice());
  let error: unknown;
  try {
    f();
  } catch (e) {
    error = e;
  }
  expect(error, 'expected a NormkitError ALIASING').toBeInstanceOf(NormkitError);
  expect((error as NormkitError).code, (error as Error).message).toBe('ALIASING');
  if (name) expect((error as Error).message).toContain(name);
  watched.forEach((a, k) => expect(Array.from(a instanceof Float32Array ? a : a.array), `argument ${k} was written`).toEqual(Array.from(snapshot[k])));
}

const live: Tensor[] = [];
const t = (data: Float32Array | number): Tensor => {
  const x = tensor(data);
  live.push(x);
  return x;
};

beforeAll(async () => {
  await ready();
});

/**
 * A Tensor of at least `minLength` values, large enough that `bytesPerValue * length` more bytes cannot
 * fit in the wasm memory as it is: a call that needs that much must grow the memory.
 */
function tensorFillingMemory(minLength: number, bytesPerValue: number): Tensor {
  for (let length = minLength; ; length *= 2) {
    const t = tensor(length);
    if (bytesPerValue * length > memoryStats().memoryBytes) return t;
    t.free();
  }
}

describe('plain arrays may overlap each other freely (inputs are staged before outputs are written)', () => {
  const shapes = { rows: [3, 67], big: [2, 5003], nchw: [2, 5, 3, 7], nhwc: [2, 3, 7, 5] } as const;

  it('out === x for every op (in place), small and large', () => {
    for (const e of ENTRIES) {
      const cases: Array<[Layout | undefined, readonly number[]]> =
        e.kind === 'rows' ? [[undefined, shapes.rows], [undefined, shapes.big]] : [['NCHW', shapes.nchw], ['NHWC', shapes.nhwc]];
      for (const [layout, shape] of cases) {
        // Every optional input and output (residual, sumOut, mean, invStd, running statistics) beside out = x.
        const { call } = e.generate(rng, { shape: [...shape], layout, optional: 'all', data: { offset: 3, scale: 2 }, eps: 1e-5 });
        const ref = cloneCall(call);
        const want = outputsOf(e.id, ref, e.reference(ref));
        call.options.out = call.x;
        const y = e.run(normkit as unknown as NormkitLike, call);
        const label = `${e.id} ${layout ?? ''} [${shape}]`;
        expect(y, label).toBe(call.x);
        outputsOf(e.id, call, y).forEach((got, k) => assertClose(got, want[k], `${label} output ${k}`));
      }
    }
  });

  it('out is a shifted view of the buffer that holds x (a partial overlap), forwards and backwards', () => {
    for (const shift of [1, 4, 33, -1, -5]) {
      const n = 4 * 71;
      const buffer = randn(rng, n + 80, 1, 2);
      const xStart = 40;
      const x = buffer.subarray(xStart, xStart + n);
      const out = buffer.subarray(xStart + shift, xStart + shift + n);
      const want = refOps.groupNorm(x.slice(), [4, 71], 1);
      groupNorm(x, [4, 71], 1, { out });
      assertClose(out, want, `groupNorm shift ${shift}`);
      const x2 = buffer.subarray(xStart, xStart + n);
      x2.set(randn(rng, n));
      const want2 = refOps.layerNorm(x2.slice(), [4, 71]);
      layerNorm(x2, [4, 71], { out: buffer.subarray(xStart + shift, xStart + shift + n) });
      assertClose(buffer.subarray(xStart + shift, xStart + shift + n), want2, `layerNorm shift ${shift}`);
    }
  });

  it('out may be the weight, bias or residual array; sumOut may be x or residual; style may be out', () => {
    const n = 37;
    // One group over the whole tensor, so weight, bias and out have the same length.
    const x = randn(rng, n, 2, 1);
    const w = randn(rng, n);
    const b = randn(rng, n);
    let want = refOps.layerNorm(x, [n], { weight: w, bias: b });
    assertClose(layerNorm(x, [n], { weight: w, bias: b, out: w }), want, 'out = weight');
    const w2 = randn(rng, n);
    want = refOps.layerNorm(x, [n], { weight: w2, bias: b });
    assertClose(layerNorm(x, [n], { weight: w2, bias: b, out: b }), want, 'out = bias');

    const x3 = randn(rng, 3 * n, 1, 2);
    const res = randn(rng, 3 * n);
    const sum = Float32Array.from(x3, (v, i) => v + res[i]);
    const wantY = refOps.layerNorm(x3, [3, n], { residual: res });
    const sumOut = new Float32Array(3 * n);
    assertClose(layerNorm(x3, [3, n], { residual: res, out: res, sumOut }), wantY, 'out = residual');
    assertClose(sumOut, sum, 'sumOut beside out = residual');

    const x4 = randn(rng, 3 * n, 1, 2);
    const res4 = randn(rng, 3 * n);
    const sum4 = Float32Array.from(x4, (v, i) => v + res4[i]);
    const want4 = refOps.rmsNorm(x4, [3, n], { residual: res4 });
    const y4 = rmsNorm(x4, [3, n], { residual: res4, sumOut: x4 });
    assertClose(y4, want4, 'sumOut = x: y');
    assertClose(x4, sum4, 'sumOut = x: sum');

    const x5 = randn(rng, 3 * n, 1, 2);
    const res5 = randn(rng, 3 * n);
    const sum5 = Float32Array.from(x5, (v, i) => v + res5[i]);
    const want5 = refOps.layerNorm(x5, [3, n], { residual: res5 });
    assertClose(layerNorm(x5, [3, n], { residual: res5, sumOut: res5, out: x5 }), want5, 'sumOut = residual, out = x: y');
    assertClose(res5, sum5, 'sumOut = residual, out = x: sum');

    // adaIN with out = style (same shape).
    const c = randn(rng, 2 * 3 * 10);
    const s = randn(rng, 2 * 3 * 10, 4, 2);
    const want6 = refOps.adaIN(c, [2, 3, 10], s, [2, 3, 10]);
    assertClose(adaIN(c, [2, 3, 10], s, [2, 3, 10], { out: s }), want6, 'adaIN out = style');
    // and content = style, the same array.
    const cs = randn(rng, 2 * 3 * 10, 1, 3);
    assertClose(adaIN(cs, [2, 3, 10], cs, [2, 3, 10]), refOps.adaIN(cs, [2, 3, 10], cs, [2, 3, 10]), 'adaIN content = style');
  });

  it('batchNorm: inputs may overlap the running buffers; out may overlap them in inference', () => {
    const C = 4;
    const x = randn(rng, 3 * C * 5, 1, 2);
    // Training: weight and runningMean are the same array. The op reads the old weight, then updates it.
    const shared = randu(rng, C, 0.5, 1.5);
    const rv = new Float32Array(C).fill(1);
    const ref = { runningMean: shared.slice(), runningVar: rv.slice() };
    const want = refOps.batchNorm(x, [3, C, 5], { training: true, weight: shared.slice(), ...ref });
    const y = batchNorm(x, [3, C, 5], { training: true, weight: shared, runningMean: shared, runningVar: rv });
    assertClose(y, want, 'y');
    assertClose(shared, ref.runningMean, 'runningMean (= weight)');
    assertClose(rv, ref.runningVar, 'runningVar');
    // Inference: x of [1, C] and out is runningMean itself.
    const x1 = randn(rng, C);
    const rm = randn(rng, C);
    const rv1 = randu(rng, C, 0.5, 2);
    const want1 = refOps.batchNorm(x1, [1, C], { runningMean: rm.slice(), runningVar: rv1 });
    assertClose(batchNorm(x1, [1, C], { runningMean: rm, runningVar: rv1, out: rm }), want1, 'inference out = runningMean');
  });

  it('layerNorm: mean and invStd may overlap the inputs (they are outputs, the inputs are staged)', () => {
    const x = randn(rng, 6 * 4, 1, 2);
    const xCopy = x.slice();
    const mean = x.subarray(0, 6); // the first 6 values of x receive the means
    const invStd = new Float32Array(6);
    const ref = { mean: new Float32Array(6), invStd: new Float32Array(6) };
    const want = refOps.layerNorm(xCopy, [6, 4], ref);
    const y = layerNorm(x, [6, 4], { mean, invStd });
    assertClose(y, want, 'y from the original x');
    assertClose(mean, ref.mean, 'mean');
    assertClose(invStd, ref.invStd, 'invStd');
  });
});

describe('Tensors: in place where supported', () => {
  it('layerNorm and rmsNorm: every pairing of out and sumOut with x and residual', () => {
    for (const [rows, n] of [[3, 37], [2, 4099]] as const) {
      const xs = randn(rng, rows * n, 1, 3);
      const rs = randn(rng, rows * n);
      const w = randn(rng, n);
      const b = randn(rng, n);
      const sum = Float32Array.from(xs, (v, i) => v + rs[i]);
      for (const op of ['layerNorm', 'rmsNorm'] as const) {
        const want = op === 'layerNorm'
          ? refOps.layerNorm(xs, [rows, n], { weight: w, bias: b, residual: rs })
          : refOps.rmsNorm(xs, [rows, n], { weight: w, residual: rs });
        for (const [outTo, sumTo] of [['x', 'new'], ['new', 'residual'], ['residual', 'new'], ['new', 'x'], ['x', 'residual'], ['residual', 'x'], ['x', undefined], ['residual', undefined]] as const) {
          const X = t(xs);
          const R = t(rs);
          const pick = (k: string) => (k === 'x' ? X : k === 'residual' ? R : t(rows * n));
          const out = pick(outTo);
          const sumOut = sumTo === undefined ? undefined : pick(sumTo);
          const weight = t(w);
          const y = op === 'layerNorm'
            ? layerNorm(X, [rows, n], { weight, bias: t(b), residual: R, out, sumOut })
            : rmsNorm(X, [rows, n], { weight, residual: R, out, sumOut });
          const label = `${op} [${rows}, ${n}] out = ${outTo}, sumOut = ${sumTo}`;
          expect(y.buffer).toBe(out.array.buffer);
          assertClose(y, want, `${label}: y`);
          if (sumOut) assertClose(sumOut.array, sum, `${label}: sum`);
        }
      }
    }
    for (const x of live.splice(0)) x.free();
  });

  it('channel ops: out is the x Tensor, in both layouts', () => {
    for (const [layout, shape] of [['NCHW', [2, 6, 5, 9]], ['NHWC', [2, 5, 9, 6]], ['NHWC', [3, 1031, 6]]] as const) {
      for (const e of ENTRIES.filter((entry) => entry.kind === 'channels')) {
        const { call } = e.generate(rng, { shape: [...shape], layout, numGroups: 2, optional: 'all', data: { offset: 3, scale: 2 } });
        const ref = cloneCall(call);
        const want = outputsOf(e.id, ref, e.reference(ref));
        const tc = tensorCall(e.id, call, tensor, live, { outIsX: true });
        const y = e.run(normkit as unknown as NormkitLike, tc);
        const X = tc.x as Tensor;
        expect(y.buffer).toBe(X.array.buffer);
        outputsOf(e.id, tc, X.array).forEach((got, k) => assertClose(got, want[k], `${e.id} ${layout} ${shape} output ${k}`));
      }
    }
    for (const x of live.splice(0)) x.free();
  });

  it('plain views of Tensor memory are staged like any plain array', () => {
    const xs = randn(rng, 5 * 40, 1, 2);
    const w = randn(rng, 40);
    const want = refOps.layerNorm(xs, [5, 40], { weight: w });
    // x a Tensor, out a plain view of that same Tensor's memory.
    const X = t(xs);
    assertClose(layerNorm(X, [5, 40], { weight: w, out: X.array }), want, 'out = x.array');
    // x a plain view of the out Tensor's memory.
    const O = t(xs);
    assertClose(layerNorm(O.array, [5, 40], { weight: w, out: O }), want, 'x = out.array');
    // weight a Tensor, out a plain view of it (one group of 40).
    const x1 = randn(rng, 40, 1, 2);
    const W = t(w);
    const want1 = refOps.layerNorm(x1, [40], { weight: w });
    assertClose(layerNorm(x1, [40], { weight: W, out: W.array }), want1, 'out = weight.array');
    for (const x of live.splice(0)) x.free();
  });
});

describe('refused: ALIASING, with nothing written', () => {
  it('an output Tensor that is an input Tensor other than x (or residual for layerNorm/rmsNorm)', () => {
    const n = 24;
    const x = randn(rng, n);
    // Shapes where out and the parameter have the same length: one group / one sample of C channels.
    const W = t(randn(rng, n));
    const B = t(randn(rng, n));
    const X = t(x);
    expectAliasing(() => layerNorm(x, [n], { weight: W, out: W }), [x, W], 'weight');
    expectAliasing(() => layerNorm(X, [n], { bias: B, out: B }), [X, B], 'bias');
    expectAliasing(() => rmsNorm(x, [n], { weight: W, out: W }), [x, W], 'weight');
    expectAliasing(() => instanceNorm(X, [1, n], { weight: W, out: W }), [X, W], 'weight');
    expectAliasing(() => groupNorm(x, [1, n], 4, { bias: B, out: B }), [x, B], 'bias');
    expectAliasing(() => batchNorm(x, [1, n], { runningMean: W, runningVar: B, out: W }), [x, W, B], 'runningMean');
    expectAliasing(() => batchNorm(x, [1, n], { runningMean: W, runningVar: B, out: B }), [x, W, B], 'runningVar');
    // adaIN: out is the style Tensor.
    const S = t(randn(rng, n));
    expectAliasing(() => adaIN(x, [2, 3, 4], S, [2, 3, 4], { out: S }), [x, S], 'style');
    for (const a of live.splice(0)) a.free();
  });

  it('layerNorm/rmsNorm outputs on inputs they cannot share', () => {
    const rows = 4;
    const n = 4;
    const X = t(randn(rng, rows * n));
    const R = t(randn(rng, rows * n));
    const W = t(randn(rng, n));
    const M = t(rows);
    expectAliasing(() => layerNorm(X, [rows, n], { mean: M, invStd: M }), [X, M], 'invStd');
    // mean/invStd on x, residual or weight Tensors (all of length 4 here).
    const X4 = t(randn(rng, 4));
    const R4 = t(randn(rng, 4));
    const W4 = t(randn(rng, 4));
    expectAliasing(() => layerNorm(X4, [4, 1], { mean: X4 }), [X4], 'x');
    expectAliasing(() => layerNorm(X4, [4, 1], { residual: R4, invStd: R4 }), [X4, R4], 'residual');
    expectAliasing(() => layerNorm(X4, [1, 4], { weight: W4, axis: 0, mean: t(1), invStd: t(1), out: W4 }), [X4, W4], 'weight');
    // sumOut on weight.
    expectAliasing(() => rmsNorm(X4, [4], { weight: W4, residual: R4, sumOut: W4 }), [X4, R4, W4], 'weight');
    // Two outputs: out and sumOut the same Tensor, or out the residual Tensor and sumOut too.
    expectAliasing(() => layerNorm(X, [rows, n], { residual: R, out: R, sumOut: R }), [X, R], 'sumOut');
    const O = t(rows * n);
    expectAliasing(() => rmsNorm(X, [rows, n], { residual: R, out: O, sumOut: O }), [X, R, O], 'sumOut');
    // A plain output that views a Tensor output's memory.
    expectAliasing(() => layerNorm(X, [rows, n], { residual: R, out: O, sumOut: O.array }), [X, R, O]);
    // Plain outputs overlapping each other.
    const buffer = new Float32Array(rows * n + 8);
    const x = randn(rng, rows * n);
    expectAliasing(() => layerNorm(x, [rows, n], { residual: x, out: buffer.subarray(0, rows * n), sumOut: buffer.subarray(2, 2 + rows * n) }), [x, buffer], 'sumOut');
    expectAliasing(() => layerNorm(x, [rows, n], { mean: buffer.subarray(0, rows), invStd: buffer.subarray(rows - 1, 2 * rows - 1) }), [x, buffer], 'invStd');
    expectAliasing(() => layerNorm(x, [rows, n], { out: buffer.subarray(0, rows * n), mean: buffer.subarray(rows * n - 1, rows * n + 3) }), [x, buffer], 'mean');
    expectAliasing(() => layerNorm(X, [rows, n], { weight: W, invStd: W }), [X, W], 'weight');
    for (const a of live.splice(0)) a.free();
  });

  it('batchNorm training: the running buffers are outputs', () => {
    const C = 3;
    const x = randn(rng, 2 * C * 4);
    const rm = new Float32Array(C);
    const buf = new Float32Array(2 * C + 1);
    expectAliasing(() => batchNorm(x, [2, C, 4], { training: true, runningMean: rm, runningVar: rm }), [x, rm], 'runningVar');
    expectAliasing(
      () => batchNorm(x, [2, C, 4], { training: true, runningMean: buf.subarray(0, C), runningVar: buf.subarray(C - 1, 2 * C - 1) }),
      [x, buf], 'runningVar',
    );
    // out overlapping a running buffer (views of one buffer).
    const big = new Float32Array(x.length + C);
    expectAliasing(
      () => batchNorm(x, [2, C, 4], { training: true, runningMean: big.subarray(x.length - 1, x.length - 1 + C), runningVar: new Float32Array(C), out: big.subarray(0, x.length) }),
      [x, big], 'runningMean',
    );
    // Tensor running buffers on the weight, bias or x Tensors.
    const W = t(randn(rng, C));
    const B = t(randn(rng, C));
    expectAliasing(() => batchNorm(x, [2, C, 4], { training: true, weight: W, runningMean: W, runningVar: t(C) }), [x, W], 'weight');
    expectAliasing(() => batchNorm(x, [2, C, 4], { training: true, bias: B, runningMean: t(C), runningVar: B }), [x, B], 'bias');
    for (const a of live.splice(0)) a.free();
  });

  it('the next valid call after a refusal is right', () => {
    const x = randn(rng, 24, 1, 2);
    assertClose(layerNorm(x, [4, 6]), refOps.layerNorm(x, [4, 6]));
  });
});

describe('plain views of wasm memory and memory growth', () => {
  // In shared memory (threads) growth detaches no view, so such a call simply works.
  it('a Tensor.array view passed as a plain array goes stale if the call grows memory: INVALID_TENSOR, nothing written (or, in shared memory, the right result)', () => {
    // Find a size whose staging (x and residual, 8 bytes a value) cannot fit in what is free, so the call grows memory.
    const T = tensorFillingMemory(1 << 18, 12);
    const length = T.length;
    const data = T.array;
    for (let i = 0; i < length; i += 97) data[i] = i % 13;
    const snapshot = T.array.slice();
    const residual = new Float32Array(length).fill(1);
    const sumOut = new Float32Array(length).fill(-1);
    const before = memoryStats().memoryBytes;
    let error: unknown;
    try {
      layerNorm(T.array, [length / 64, 64], { residual, sumOut, out: T });
    } catch (e) {
      error = e;
    }
    expect(memoryStats().memoryBytes, 'the call should have grown memory').toBeGreaterThan(before);
    const want = refOps.layerNorm(snapshot, [length / 64, 64], { residual });
    if (memoryStats().shared) {
      expect(error).toBeUndefined();
      assertClose(T.array, want);
    } else {
      expect(error).toBeInstanceOf(NormkitError);
      expect((error as NormkitError).code).toBe('INVALID_TENSOR');
      expect((error as Error).message).toMatch(/\.array/);
      expect(T.array.every((v, i) => Object.is(v, snapshot[i]))).toBe(true);
      expect(sumOut.every((v) => v === -1)).toBe(true);
    }
    // With the memory now large enough, the same call with a fresh view works.
    T.array.set(snapshot);
    assertClose(layerNorm(T.array, [length / 64, 64], { residual, sumOut, out: T }), want);
    T.free();
  });

  it('tensor(t.array) clones a Tensor even when the new allocation grows memory', () => {
    const T = tensorFillingMemory(1 << 16, 8);
    const length = T.length;
    T.array.fill(3);
    T.array[length - 1] = 5;
    const before = memoryStats();
    const clone = tensor(T.array);
    expect(memoryStats().memoryBytes, 'the clone should have grown memory').toBeGreaterThan(before.memoryBytes);
    expect(clone.array[0]).toBe(3);
    expect(clone.array[length - 1]).toBe(5);
    clone.free();
    T.free();
  });

  it('a stale plain output view is refused the same way (or, in shared memory, written)', () => {
    const T = tensorFillingMemory(1 << 18, 12);
    const length = T.length;
    T.array.fill(3);
    const x = randn(rng, length);
    const residual = randn(rng, length);
    let error: unknown;
    try {
      rmsNorm(x, [length], { residual, out: T.array, sumOut: new Float32Array(length) });
    } catch (e) {
      error = e;
    }
    if (memoryStats().shared) {
      expect(error).toBeUndefined();
      assertClose(T.array, refOps.rmsNorm(x, [length], { residual }));
    } else {
      expect((error as NormkitError).code).toBe('INVALID_TENSOR');
      expect(T.array.every((v) => v === 3)).toBe(true);
    }
    T.free();
  });
});
