// Validates the float64 reference itself on small hand-computed cases, so the other suites can trust it.
import { describe, expect, it } from 'vitest';
import { refAdaIN, refBatchNorm, refGroupNorm, refInstanceNorm, refLayerNorm, refRmsNorm } from '../src/reference.js';
import { makeRng } from './support/rng.js';
import { randn, toNCHW, toNHWC } from './support/tensors.js';

const close = (actual: ArrayLike<number>, expected: readonly number[], digits = 12) => {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => {
    if (Number.isNaN(e)) expect(actual[i]).toBeNaN();
    else expect(actual[i]).toBeCloseTo(e, digits);
  });
};

describe('refLayerNorm', () => {
  it('normalizes the last axis: x = [1, 2, 3, 4], eps = 0', () => {
    // mean 2.5, var (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25
    const r = refLayerNorm([1, 2, 3, 4], [1, 4], { eps: 0 });
    const s = 1 / Math.sqrt(1.25);
    close(r.y, [-1.5 * s, -0.5 * s, 0.5 * s, 1.5 * s]);
    close(r.mean, [2.5]);
    close(r.invStd, [s]);
  });

  it('applies eps, weight and bias per position', () => {
    // row [0, 2]: mean 1, var 1; eps 3 -> rstd 1/2
    const r = refLayerNorm([0, 2, 5, 5], [2, 2], { eps: 3, weight: [2, 10], bias: [1, -1] });
    close(r.y, [-1 * 0.5 * 2 + 1, 1 * 0.5 * 10 - 1, 1, -1]);
    close(r.invStd, [0.5, 1 / Math.sqrt(3)]);
  });

  it('axis selects the trailing axes; negative axes count from the end', () => {
    const x = [1, 3, 5, 7, 0, 0, 4, 4]; // shape [2, 2, 2]
    const whole = refLayerNorm(x, [2, 2, 2], { axis: 0, eps: 0 });
    const m = 3;
    const v = [4, 0, 4, 16, 9, 9, 1, 1].reduce((a, b) => a + b) / 8; // (x - 3)^2
    close(whole.mean, [m]);
    close(whole.y, x.map((xi) => (xi - m) / Math.sqrt(v)));
    const a1 = refLayerNorm(x, [2, 2, 2], { axis: 1, eps: 0 });
    const aNeg2 = refLayerNorm(x, [2, 2, 2], { axis: -2, eps: 0 });
    close(a1.mean, [4, 2]);
    close(aNeg2.y, Array.from(a1.y));
    // axis 1: second group [0, 0, 4, 4]: mean 2, var 4 -> +-1
    close(a1.y.slice(4), [-1, -1, 1, 1]);
    const last = refLayerNorm(x, [2, 2, 2], { axis: -1, eps: 0 });
    close(last.mean, [2, 6, 0, 4]);
    close(last.y, [-1, 1, -1, 1, 0, 0, 0, 0]);
  });

  it('residual: normalizes the float32 sum x + residual and returns it', () => {
    const r = refLayerNorm([1, 2], [1, 2], { residual: [0.1, 10], eps: 0 });
    close(r.sum, [Math.fround(1.1), 12]);
    close(r.y, [-1, 1]);
  });

  it('constant rows give exactly the bias, also with eps = 0', () => {
    for (const eps of [1e-5, 0]) {
      const r = refLayerNorm([7, 7, 7, 1e6, 1e6, 1e6], [2, 3], { eps, weight: [3, -2, 5], bias: [0.25, -0.5, -0] });
      expect(Array.from(r.y)).toEqual([0.25, -0.5, -0, 0.25, -0.5, -0]);
      expect(Object.is(r.y[2], -0)).toBe(true);
      expect(Array.from(r.mean)).toEqual([7, 1e6]);
    }
    const noBias = refLayerNorm([3, 3], [1, 2], { eps: 0 });
    expect(Array.from(noBias.y)).toEqual([0, 0]);
    expect(noBias.invStd[0]).toBe(Infinity);
  });

  it('NaN and Inf poison only their own row', () => {
    const r = refLayerNorm([1, NaN, 3, 1, 2, 3, Infinity, 0, 0, -Infinity, 1, 2], [4, 3]);
    expect(Array.from(r.y.slice(0, 3)).every(Number.isNaN)).toBe(true);
    expect(Array.from(r.y.slice(6)).every(Number.isNaN)).toBe(true);
    // Statistics follow IEEE arithmetic: mean NaN with a NaN, +-Inf with one infinity; variance NaN.
    expect(Array.from(r.mean.slice(0, 1))).toEqual([NaN]);
    expect(r.mean[2]).toBe(Infinity);
    expect(r.mean[3]).toBe(-Infinity);
    expect([0, 2, 3].every((k) => Number.isNaN(r.invStd[k]))).toBe(true);
    expect(r.invStd[1]).toBeCloseTo(1 / Math.sqrt(2 / 3 + 1e-5), 12);
    close(r.y.slice(3, 6), [-1, 0, 1].map((d) => d / Math.sqrt(2 / 3 + 1e-5)));
  });

  it('is exact for a huge offset (two-pass in float64)', () => {
    const r = refLayerNorm([1e6 - 1, 1e6 + 1, 1e8 - 0.5, 1e8 + 0.5], [2, 2], { eps: 0 });
    close(r.y, [-1, 1, -1, 1], 15);
    close(r.mean, [1e6, 1e8]);
  });

  it('does not modify its inputs', () => {
    const x = new Float32Array([1, 2, 3, 4]);
    const w = new Float32Array([1, 2]);
    const res = new Float32Array([1, 1, 1, 1]);
    refLayerNorm(x, [2, 2], { weight: w, bias: w, residual: res });
    expect(Array.from(x)).toEqual([1, 2, 3, 4]);
    expect(Array.from(res)).toEqual([1, 1, 1, 1]);
  });
});

describe('refRmsNorm', () => {
  it('divides by the root mean square: [3, 4] -> rms sqrt(12.5)', () => {
    const s = Math.sqrt(12.5);
    close(refRmsNorm([3, 4], [1, 2], { eps: 0 }), [3 / s, 4 / s]);
    close(refRmsNorm([3, 4, 1, 1], [2, 2], { eps: 1, weight: [2, -1] }), [
      (3 / Math.sqrt(13.5)) * 2,
      -4 / Math.sqrt(13.5),
      (1 / Math.sqrt(2)) * 2,
      -1 / Math.sqrt(2),
    ]);
  });

  it('axis 0 normalizes the whole tensor; no mean subtraction', () => {
    const x = [1, 1, 1, 1, 1, 1, 1, 5]; // mean square (7 + 25) / 8 = 4
    close(refRmsNorm(x, [2, 4], { axis: 0, eps: 0 }), x.map((v) => v / 2));
    close(refRmsNorm(x, [2, 2, 2], { axis: -3, eps: 0 }), x.map((v) => v / 2));
  });

  it('a zero row stays 0 (also with eps = 0); NaN stays in its row', () => {
    expect(Array.from(refRmsNorm([0, 0, 0], [1, 3], { eps: 0 }))).toEqual([0, 0, 0]);
    const r = refRmsNorm([2, 2, NaN, 0, Infinity, 1, 0, -Infinity], [4, 2], { eps: 0 });
    close(r, [1, 1, NaN, NaN, NaN, NaN, NaN, NaN]);
  });

  it('handles |x| ~ 1e20 and ~1e-20 (float64 squares)', () => {
    close(refRmsNorm([3e20, 4e20], [1, 2], { eps: 0 }), [3 / Math.sqrt(12.5), 4 / Math.sqrt(12.5)]);
    close(refRmsNorm([3e-20, 4e-20], [1, 2], { eps: 0 }), [3 / Math.sqrt(12.5), 4 / Math.sqrt(12.5)]);
  });
});

describe('refBatchNorm', () => {
  it('inference uses the running statistics per channel (NCHW [1, 2, 2])', () => {
    const r = refBatchNorm([1, 3, 10, 20], [1, 2, 2], {
      runningMean: [2, 10],
      runningVar: [4 - 1e-5, 100 - 1e-5],
      weight: [2, 1],
      bias: [0, 1],
    });
    close(r.y, [-1, 1, 1, 2], 9);
  });

  it('training: biased batch variance for y; unbiased (PyTorch) or biased (ONNX) running update', () => {
    // shape [2, 2] (N = 2, C = 2): channel 0 = {1, 3}: mean 2, var 1 (unbiased 2); channel 1 = {2, 6}: mean 4, var 4 (8)
    const x = [1, 2, 3, 6];
    const torch = refBatchNorm(x, [2, 2], { training: true, eps: 0, runningMean: [0, 1], runningVar: [1, 1] });
    close(torch.y, [-1, -1, 1, 1]);
    close(torch.runningMean!, [0.9 * 0 + 0.1 * 2, 0.9 * 1 + 0.1 * 4]);
    close(torch.runningVar!, [0.9 + 0.1 * 2, 0.9 + 0.1 * 8]);
    const onnx = refBatchNorm(x, [2, 2], {
      training: true,
      eps: 0,
      runningMean: [0, 1],
      runningVar: [1, 1],
      momentum: 1 - 0.9,
      unbiasedRunningVar: false,
    });
    close(onnx.runningMean!, [0.9 * 0 + 0.1 * 2, 0.9 * 1 + 0.1 * 4]);
    close(onnx.runningVar!, [0.9 + 0.1 * 1, 0.9 + 0.1 * 4]);
    expect(refBatchNorm(x, [2, 2], { training: true }).runningMean).toBeUndefined();
  });

  it('training statistics span batch and spatial axes, in both layouts', () => {
    // NCHW [2, 1, 2]: one channel, values {0, 2, 4, 6}: mean 3, var 5
    const r = refBatchNorm([0, 2, 4, 6], [2, 1, 2], { training: true, eps: 0, weight: [2], bias: [1] });
    close(r.y, [-3, -1, 1, 3].map((d) => (d / Math.sqrt(5)) * 2 + 1));
    const rng = makeRng(1);
    const x = randn(rng, 2 * 3 * 4 * 5);
    const nchw = refBatchNorm(x, [2, 3, 4, 5], { training: true, runningMean: [0, 0, 0], runningVar: [1, 1, 1] });
    const t = toNHWC(x, [2, 3, 4, 5]);
    const nhwc = refBatchNorm(t.data, t.shape, {
      layout: 'NHWC',
      training: true,
      runningMean: [0, 0, 0],
      runningVar: [1, 1, 1],
    });
    close(toNCHW(nhwc.y, t.shape).data, Array.from(nchw.y).map(Math.fround), 6);
    close(nhwc.runningVar!, Array.from(nchw.runningVar!));
  });

  it('training with an infinity: that channel is NaN, its running mean Inf and running var NaN', () => {
    const r = refBatchNorm([1, 5, Infinity, 7], [2, 2], { training: true, runningMean: [0, 0], runningVar: [1, 1] });
    close(r.y, [NaN, -1 / Math.sqrt(1 + 1e-5), NaN, 1 / Math.sqrt(1 + 1e-5)]);
    expect(r.runningMean![0]).toBe(Infinity);
    expect(r.runningVar![0]).toBeNaN();
    close([r.runningMean![1], r.runningVar![1]], [0.6, 0.9 + 0.1 * 2]);
  });

  it('does not modify the running buffers it is given', () => {
    const rm = [0.5];
    const rv = [2];
    refBatchNorm([1, 2], [2, 1], { training: true, runningMean: rm, runningVar: rv });
    expect(rm).toEqual([0.5]);
    expect(rv).toEqual([2]);
  });
});

describe('refInstanceNorm / refGroupNorm', () => {
  it('instance norm: per (sample, channel) plane', () => {
    // [1, 2, 2]: plane 0 = [1, 3] -> +-1/sqrt(1+eps); plane 1 = [5, 5] -> bias
    const r = refInstanceNorm([1, 3, 5, 5], [1, 2, 2], { weight: [3, 4], bias: [0.5, -1] });
    const s = 1 / Math.sqrt(1 + 1e-5);
    close(r, [-3 * s + 0.5, 3 * s + 0.5, -1, -1]);
  });

  it('group norm: one group = C/G consecutive channels x spatial; per-channel affine', () => {
    // [1, 4, 1], G = 2: groups {c0, c1} = [0, 2] and {c2, c3} = [10, 20]
    const r = refGroupNorm([0, 2, 10, 20], [1, 4, 1], 2, { eps: 0, weight: [1, 2, 3, 4], bias: [0, 0, 1, 1] });
    close(r, [-1, 2, -3 + 1, 4 + 1]);
    // NHWC [1, 1, 4] is the same tensor with C last
    close(refGroupNorm([0, 2, 10, 20], [1, 1, 4], 2, { eps: 0, layout: 'NHWC' }), [-1, 1, -1, 1]);
  });

  it('G = C equals instance norm; G = 1 equals layer norm over axis 1 with per-channel affine', () => {
    const rng = makeRng(2);
    const shape = [3, 4, 5];
    const x = randn(rng, 60);
    const w = randn(rng, 4);
    const b = randn(rng, 4);
    close(refGroupNorm(x, shape, 4, { weight: w, bias: b }), Array.from(refInstanceNorm(x, shape, { weight: w, bias: b })));
    const ln = refLayerNorm(x, shape, {
      axis: 1,
      weight: Array.from({ length: 20 }, (_, i) => w[Math.floor(i / 5)]),
      bias: Array.from({ length: 20 }, (_, i) => b[Math.floor(i / 5)]),
    });
    close(refGroupNorm(x, shape, 1, { weight: w, bias: b }), Array.from(ln.y));
  });

  it('NHWC equals NCHW after transposition (rank 5)', () => {
    const rng = makeRng(3);
    const shape = [2, 6, 3, 2, 5];
    const x = randn(rng, 360);
    const t = toNHWC(x, shape);
    const a = refGroupNorm(x, shape, 3);
    const b = refGroupNorm(t.data, t.shape, 3, { layout: 'NHWC' });
    close(toNCHW(b, t.shape).data, Array.from(a).map(Math.fround), 6);
  });
});

describe('refAdaIN', () => {
  it('moves the content plane statistics onto the style ones', () => {
    // content [0, 2]: mu 1, var 1; style [10, 14, 10, 14]: mu 12, var 4
    const y = refAdaIN([0, 2], [1, 1, 2], [10, 14, 10, 14], [1, 1, 4], { eps: 0 });
    close(y, [10, 14]);
    const withEps = refAdaIN([0, 2], [1, 1, 2], [10, 14], [1, 1, 2]);
    const k = Math.sqrt(4 + 1e-5) / Math.sqrt(1 + 1e-5);
    close(withEps, [12 - k, 12 + k]);
  });

  it('broadcasts a batch-1 style over the content batch; constant planes give the style mean', () => {
    const y = refAdaIN([0, 2, 5, 5, 1, 3, 7, 7], [2, 2, 2], [10, 14, -1, 1], [1, 2, 2], { eps: 0 });
    close(y, [10, 14, 0, 0, 10, 14, 0, 0]);
    const c = refAdaIN([4, 4], [1, 1, 2], [3, 3, 3], [1, 1, 3], { eps: 0 });
    expect(Array.from(c)).toEqual([3, 3]);
  });

  it('NaN in a style plane poisons only the matching content plane', () => {
    const y = refAdaIN([0, 2, 0, 2], [1, 2, 2], [NaN, 1, 10, 14], [1, 2, 2], { eps: 0 });
    close(y, [NaN, NaN, 10, 14]);
  });
});
