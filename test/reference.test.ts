// Validates the float64 reference itself on small hand-computed cases, so the other suites can trust it.
import { describe, expect, it } from 'vitest';
import {
  activate, broadcastIndex, erf, erfc, expand, refAdaIN, refAdaINFull, refBatchNorm, refGroupNorm, refGroupNormFull,
  refInstanceNorm, refInstanceNormFull, refLayerNorm, refRmsNorm, refRmsNormFull, type Activation,
} from '../src/reference.js';
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

// ---------------------------------------------------------------------------------------------------------
// Issue 10: activations, broadcast operands, skip inputs and saved statistics.

/** |actual - expected| <= rel * |expected| (exact match for 0, NaN for NaN). */
const relClose = (actual: number, expected: number, rel: number, label: string) => {
  if (Number.isNaN(expected)) return expect(actual, label).toBeNaN();
  expect(Math.abs(actual - expected), `${label}: ${actual} vs ${expected}`).toBeLessThanOrEqual(rel * Math.abs(expected));
};

describe('erf / erfc (Cody)', () => {
  // Values from mpmath at 60 digits.
  const ERF: [number, number][] = [
    [1e-10, 1.1283791670955126e-10], [0.3, 0.32862675945912742], [0.5, 0.52049987781304654], [1, 0.84270079294971487],
    [2, 0.99532226501895273], [3.5, 0.99999925690162766], [5, 0.99999999999846254], [-1.5, -0.96610514647531073],
  ];
  const ERFC: [number, number][] = [
    [0.2, 0.77729741078952153], [1, 0.15729920705028513], [3, 2.2090496998585441e-5], [4.5, 1.9661604415428875e-10],
    [5, 1.5374597944280349e-12], [10, 2.0884875837625448e-45], [26, 5.6631924088561428e-296], [-2, 1.9953222650189527],
  ];

  it('matches 60-digit values to a few ulps, erfc relative also far in the tail', () => {
    for (const [x, e] of ERF) relClose(erf(x), e, 4e-16, `erf(${x})`);
    for (const [x, e] of ERFC) relClose(erfc(x), e, x > 5 ? 1e-14 : 4e-16, `erfc(${x})`);
  });

  it('odd, bounded, exact at 0 and the infinities; NaN stays NaN', () => {
    expect(erf(0)).toBe(0);
    expect(Object.is(erf(-0), -0)).toBe(true);
    expect(erf(Infinity)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(erfc(Infinity)).toBe(0);
    expect(erfc(-Infinity)).toBe(2);
    expect(erf(NaN)).toBeNaN();
    expect(erfc(NaN)).toBeNaN();
    for (let x = -6; x <= 6; x += 0.0625) {
      expect(erf(-x)).toBe(-erf(x));
      expect(Math.abs(erf(x) + erfc(x) - 1)).toBeLessThan(3e-16);
    }
  });
});

describe('activations', () => {
  const POINTS = [-20, -10, -5, -3, -1, -0.5, -1e-3, 0.25, 1, 3, 10];
  // mpmath at 60 digits, in the stable forms (0.5 y erfc(-y / sqrt 2), y / (1 + e^(-2u))).
  const EXPECTED: Record<Exclude<Activation, 'relu'>, number[]> = {
    silu: [
      -4.1223072363804072e-8, -0.00045397868702434395, -0.033464254621424278, -0.14227761953270034, -0.26894142136999512,
      -0.18877033439907272, -0.00049975000002083334, 0.14054412522144953, 0.73105857863000488, 2.8577223804672997,
      9.9995460213129757,
    ],
    gelu: [
      -5.5072482372124674e-88, -7.6198530241605261e-23, -1.4332578593959696e-6, -0.0040496940948902836,
      -0.15865525393145705, -0.15426876936299345, -0.00049960105778608895, 0.14967658142073093, 0.84134474606854295,
      2.9959503059051097, 10.0,
    ],
    gelu_tanh: [
      -3.3754509563109673e-261, -1.204092348209806e-37, -2.291796196629506e-7, -0.0036373920817730188, -0.1588080093917233,
      -0.15428599017485608, -0.00049960105778641804, 0.149675350701685, 0.8411919906082767, 2.996362607918227, 10.0,
    ],
  };

  it('silu, gelu and gelu_tanh match 60-digit values (relative, also where 1 + erf or 1 + tanh cancels)', () => {
    for (const name of ['silu', 'gelu', 'gelu_tanh'] as const) {
      POINTS.forEach((y, k) => {
        // e^z and erfc(z) lose about |z| ulps to the rounding of their argument far in the tail.
        const rel = Math.abs(y) >= 10 ? 1e-12 : 1e-14;
        relClose(activate(name, y), EXPECTED[name][k], rel, `${name}(${y})`);
      });
    }
  });

  it('relu; the infinities, ±0 and NaN', () => {
    expect([-2, -0, 0, 0.5, 7].map((y) => activate('relu', y))).toEqual([0, 0, 0, 0.5, 7]);
    for (const name of ['relu', 'silu', 'gelu', 'gelu_tanh'] as const) {
      expect(activate(name, NaN), name).toBeNaN();
      expect(activate(name, Infinity), name).toBe(Infinity);
      expect(activate(name, -Infinity), name).toBe(name === 'relu' ? 0 : -0);
      expect(activate(name, 0), name).toBe(0);
      // Far below zero: the limit 0 (no NaN from Inf / Inf).
      const far = activate(name, -3e38);
      expect(far === 0, `${name}(-3e38) = ${far}`).toBe(true);
    }
    expect(() => activate('tanh' as Activation, 1)).toThrow(/activation/);
  });

  it('is applied last, after the affine: a constant row gives act(bias)', () => {
    const r = refLayerNorm([4, 4, 1, 3], [2, 2], { eps: 0, weight: [2, 2], bias: [-1, 0.5], activation: 'relu' });
    expect(Array.from(r.y)).toEqual([0, 0.5, 0, 2.5]);
    const g = refLayerNorm([1, 3], [1, 2], { eps: 0, bias: [1, 1], activation: 'gelu' });
    close(g.y, [activate('gelu', 0), activate('gelu', 2)], 15);
    // A NaN row stays NaN through every activation.
    for (const activation of ['relu', 'silu', 'gelu', 'gelu_tanh'] as const) {
      expect(Array.from(refLayerNorm([NaN, 1], [1, 2], { activation }).y).every(Number.isNaN)).toBe(true);
    }
  });
});

describe('numpy broadcasting of the operands', () => {
  it('broadcastIndex: right-aligned, 1 repeats; other extents and more axes than x refused (np.broadcast_to)', () => {
    expect(Array.from(broadcastIndex([3], [2, 3]))).toEqual([0, 1, 2, 0, 1, 2]);
    expect(Array.from(broadcastIndex([2, 1], [2, 3]))).toEqual([0, 0, 0, 1, 1, 1]);
    expect(Array.from(broadcastIndex([1], [2, 3]))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(broadcastIndex([2, 3], [2, 3]))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(() => broadcastIndex([1, 2, 3], [2, 3])).toThrow(/more axes/);
    expect(Array.from(broadcastIndex([2, 1, 2], [2, 2, 2]))).toEqual([0, 1, 0, 1, 2, 3, 2, 3]);
    expect(() => broadcastIndex([2], [2, 3])).toThrow(/broadcast/);
    expect(() => broadcastIndex([2, 2, 3], [2, 3])).toThrow(/more axes/);
    expect(() => expand([1, 2], [3], [2, 3])).toThrow(/length/);
  });

  it('layerNorm: a per-sample [B, 1, H] weight and bias equal the explicitly expanded [B, S, H] ones (AdaLN)', () => {
    const rng = makeRng(11);
    const shape = [2, 3, 5];
    const x = randn(rng, 30, 2, 3);
    const w = randn(rng, 10);
    const b = randn(rng, 10);
    const full = (v: Float32Array) => Array.from({ length: 30 }, (_, i) => v[Math.floor(i / 15) * 5 + (i % 5)]);
    const a = refLayerNorm(x, shape, { weight: w, weightShape: [2, 1, 5], bias: b, biasShape: [2, 1, 5] });
    const e = refLayerNorm(x, shape, { weight: full(w), weightShape: shape, bias: full(b), biasShape: shape });
    expect(Array.from(a.y)).toEqual(Array.from(e.y));
    // Hand-checked: rows [1, 3] normalize to [-1, 1]; weight per row [2, 3], bias per row [0, 10].
    const h = refLayerNorm([1, 3, 1, 3], [2, 2], { eps: 0, weight: [2, 3], weightShape: [2, 1], bias: [0, 10], biasShape: [2, 1] });
    expect(Array.from(h.y)).toEqual([-2, 2, 7, 13]);
  });

  it('layerNorm: scalar [1] and [1, C, 1] inside the group; the default is the group shape', () => {
    const x = [1, 3, 5, 7, 2, 2, 0, 4]; // [2, 2, 2], axis 1: groups [1, 3, 5, 7] and [2, 2, 0, 4]
    const plain = refLayerNorm(x, [2, 2, 2], { axis: 1, eps: 0 });
    const scalar = refLayerNorm(x, [2, 2, 2], { axis: 1, eps: 0, weight: [5], weightShape: [1], bias: [1], biasShape: [1] });
    close(scalar.y, Array.from(plain.y, (v) => v * 5 + 1));
    const perC = refLayerNorm(x, [2, 2, 2], { axis: 1, eps: 0, weight: [10, 20], weightShape: [1, 2, 1] });
    close(perC.y, Array.from(plain.y, (v, i) => v * (Math.floor(i / 2) % 2 ? 20 : 10)));
    const explicit = refLayerNorm(x, [2, 2, 2], { axis: 1, eps: 0, weight: [1, 2, 3, 4], weightShape: [2, 2] });
    close(explicit.y, Array.from(refLayerNorm(x, [2, 2, 2], { axis: 1, eps: 0, weight: [1, 2, 3, 4] }).y));
  });

  it('residual [1, S, H] and [S, H] equal the residual tiled over the batch', () => {
    const rng = makeRng(12);
    const x = randn(rng, 2 * 3 * 4);
    const r = randn(rng, 12);
    const tiled = Float32Array.from({ length: 24 }, (_, i) => r[i % 12]);
    const want = refLayerNorm(x, [2, 3, 4], { residual: tiled });
    for (const residualShape of [[1, 3, 4], [3, 4]]) {
      const got = refLayerNorm(x, [2, 3, 4], { residual: r, residualShape });
      expect(Array.from(got.y)).toEqual(Array.from(want.y));
      expect(Array.from(got.sum)).toEqual(Array.from(want.sum));
    }
    // Per row [B, S, 1] would vary inside a row: the reference takes it (normkit refuses it).
    const perRow = refLayerNorm([1, 2, 3, 4], [2, 2], { residual: [10, 20], residualShape: [2, 1], eps: 0 });
    close(perRow.sum, [11, 12, 23, 24]);
  });

  it('channel ops: the default [C], [1, C, 1, 1] and [C, 1, 1] (NCHW), [1, 1, 1, C] and [C] (NHWC) agree', () => {
    const rng = makeRng(13);
    const shape = [2, 3, 2, 2];
    const x = randn(rng, 24, 1, 2);
    const w = randn(rng, 3);
    const b = randn(rng, 3);
    const want = refGroupNorm(x, shape, 3, { weight: w, bias: b });
    for (const s of [[1, 3, 1, 1], [3, 1, 1]]) {
      expect(Array.from(refGroupNorm(x, shape, 3, { weight: w, weightShape: s, bias: b, biasShape: s }))).toEqual(Array.from(want));
    }
    const t = toNHWC(x, shape);
    const nhwc = refGroupNorm(t.data, t.shape, 3, { layout: 'NHWC', weight: w, bias: b });
    for (const s of [[1, 1, 1, 3], [3]]) {
      const got = refGroupNorm(t.data, t.shape, 3, { layout: 'NHWC', weight: w, weightShape: s, bias: b, biasShape: s });
      expect(Array.from(got)).toEqual(Array.from(nhwc));
    }
    close(toNCHW(nhwc, t.shape).data, Array.from(want).map(Math.fround), 6);
  });

  it('channel ops: per (sample, channel) [N, C, 1, 1] / [N, 1, 1, C] weights', () => {
    // instanceNorm [2, 1, 2]: both planes [0, 2] -> [-1, 1]; weight per sample [1, 3], bias [0, 1].
    const y = refInstanceNorm([0, 2, 0, 2], [2, 1, 2], { eps: 0, weight: [1, 3], weightShape: [2, 1, 1], bias: [0, 1], biasShape: [2, 1, 1] });
    expect(Array.from(y)).toEqual([-1, 1, -2, 4]);
    const nhwc = refInstanceNorm([0, 2, 0, 2], [2, 2, 1], { eps: 0, layout: 'NHWC', weight: [1, 3], weightShape: [2, 1, 1] });
    expect(Array.from(nhwc)).toEqual([-1, 1, -3, 3]);
    // batchNorm training: channel stats over N and spatial, then a per-(n, c) scale.
    const bn = refBatchNorm([0, 2, 4, 6], [2, 1, 2], { training: true, eps: 0, weight: [1, 2], weightShape: [2, 1, 1] });
    close(bn.y, [-3, -1, 2, 6].map((d) => d / Math.sqrt(5)));
  });
});

describe('skip inputs: residual, inputBias, the float32 sum', () => {
  it('s = fround(fround(x + residual) + inputBias): rounded after each add', () => {
    const u = 2 ** -24; // half an ulp of 1: 1 + u rounds to 1 (ties to even), 1 + 2u does not
    const r = refLayerNorm([1, 0], [1, 2], { residual: [u, 0], inputBias: [u, 0], eps: 0 });
    expect(Array.from(r.sum)).toEqual([1, 0]);
    const once = refLayerNorm([1, 0], [1, 2], { residual: [2 * u, 0], eps: 0 });
    expect(Array.from(once.sum)).toEqual([Math.fround(1 + 2 * u), 0]);
    // inputBias alone: fround(x + inputBias), per position by default.
    const ib = refLayerNorm([1, 2, 3, 4], [2, 2], { inputBias: [0.1, 10], eps: 0 });
    expect(Array.from(ib.sum)).toEqual([Math.fround(1.1), 12, Math.fround(3.1), 14]);
    close(ib.y, [-1, 1, -1, 1]);
  });

  it('inputBias defaults to the group shape (row ops) and to one value per channel (channel ops)', () => {
    const rms = refRmsNormFull([1, 1, 2, 2], [2, 2], { inputBias: [2, 3], eps: 0 });
    expect(Array.from(rms.sum)).toEqual([3, 4, 4, 5]);
    const gn = refGroupNormFull([1, 3, 5, 5], [1, 2, 2], 2, { inputBias: [10, 20] });
    expect(Array.from(gn.sum)).toEqual([11, 13, 25, 25]);
    const nhwc = refGroupNormFull([1, 3, 5, 5], [1, 2, 2], 2, { layout: 'NHWC', inputBias: [10, 20] });
    expect(Array.from(nhwc.sum)).toEqual([11, 23, 15, 25]);
    // SkipGroupNorm: a per-(sample, channel) skip [N, 1, C] (NHWC) and a per-channel bias.
    const skip = refGroupNormFull([0, 0, 0, 0, 0, 0, 0, 0], [2, 2, 2], 1, {
      layout: 'NHWC', residual: [1, 2, 3, 4], residualShape: [2, 1, 2], inputBias: [10, 20],
    });
    expect(Array.from(skip.sum)).toEqual([11, 22, 11, 22, 13, 24, 13, 24]);
  });

  it('every op normalizes the sum: equal to the op on the precomputed float32 sum', () => {
    const rng = makeRng(14);
    const shape = [2, 4, 3];
    const x = randn(rng, 24, 3, 2);
    const res = randn(rng, 24);
    const ib = randn(rng, 4);
    const s = Float32Array.from(x, (v, i) => Math.fround(Math.fround(v + res[i]) + ib[Math.floor(i / 3) % 4]));
    const o = { residual: res, inputBias: ib };
    expect(Array.from(refGroupNormFull(x, shape, 2, o).y)).toEqual(Array.from(refGroupNorm(s, shape, 2)));
    expect(Array.from(refInstanceNormFull(x, shape, o).y)).toEqual(Array.from(refInstanceNorm(s, shape)));
    expect(Array.from(refBatchNorm(x, shape, { ...o, training: true }).y)).toEqual(Array.from(refBatchNorm(s, shape, { training: true }).y));
    const run = { runningMean: [0, 1, 2, 3], runningVar: [1, 2, 3, 4] };
    expect(Array.from(refBatchNorm(x, shape, { ...o, ...run }).y)).toEqual(Array.from(refBatchNorm(s, shape, run).y));
    const style = randn(rng, 4 * 5, -1, 2);
    expect(Array.from(refAdaINFull(x, shape, style, [1, 4, 5], o).y)).toEqual(Array.from(refAdaIN(s, shape, style, [1, 4, 5])));
  });
});

describe('saved statistics', () => {
  it('rmsNorm invStd = 1 / sqrt(mean(s^2) + eps) per row', () => {
    const r = refRmsNormFull([3, 4, 1, 1], [2, 2], { eps: 1 });
    close(r.invStd!, [1 / Math.sqrt(13.5), 1 / Math.sqrt(2)]);
    expect(r.mean).toBeUndefined();
  });

  it('instanceNorm and groupNorm: one per (sample, group), index n * G + g', () => {
    // [2, 4, 1], G = 2: sample 0 groups {0, 2}, {10, 20}; sample 1 groups {1, 1}, {-4, 4}
    const g = refGroupNormFull([0, 2, 10, 20, 1, 1, -4, 4], [2, 4, 1], 2, { eps: 0 });
    close(g.mean!, [1, 15, 1, 0]);
    close(g.invStd!, [1, 1 / 5, Infinity, 1 / 4]);
    const i = refInstanceNormFull([0, 2, 10, 20], [1, 2, 2], { eps: 0 });
    close(i.mean!, [1, 15]);
    close(i.invStd!, [1, 1 / 5]);
    // NHWC: the same index order (n, then group).
    const nhwc = refGroupNormFull([0, 10, 2, 20], [1, 2, 2], 2, { eps: 0, layout: 'NHWC' });
    close(nhwc.mean!, [1, 15]);
  });

  it('adaIN: the content sum\'s mean and invStd per (sample, channel)', () => {
    const r = refAdaINFull([0, 2, 5, 9], [1, 2, 2], [1, 1, 1, 1], [1, 2, 2], { eps: 0, inputBias: [1, 0] });
    close(r.mean!, [2, 7]);
    close(r.invStd!, [1, 1 / 2]);
  });

  it('batchNorm training: batch mean and 1 / sqrt(biased var + eps) per channel; inference has none', () => {
    const t = refBatchNorm([1, 2, 3, 6], [2, 2], { training: true, eps: 0 });
    close(t.mean!, [2, 4]);
    close(t.invStd!, [1, 1 / 2]);
    const inf = refBatchNorm([1, 2, 3, 6], [2, 2], { runningMean: [0, 0], runningVar: [1, 1] });
    expect('mean' in inf).toBe(false);
    expect('invStd' in inf).toBe(false);
  });
});
