// Issue 10's options on every op, against the float64 reference (src/reference.ts) and against themselves:
// 1. differential: random calls of every op of the registry with the new options (`generate(rng, { issue10:
//    true })`: an activation, weight/bias broadcast from another shape (scalar, per sample, inside the group,
//    per (sample, channel)), a residual broadcast over what the op allows, inputBias, sumOut, mean/invStd),
//    every output compared with the suite criterion |a - e| <= 1e-4 * max(1, |e|); the same harness first runs
//    on the reference itself rounded to float32, so that a failure below is normkit's, not the harness's;
// 2. the models the options come from (SD UNet GroupNorm + SiLU, SkipGroupNorm, DiT AdaLN, BERT skip layer
//    norm, saved batch statistics, SimplifiedLayerNormalization's inverse RMS), and a broadcast operand giving
//    the same bits as its expanded form;
// 3. each activation over the whole float32 range (batchNorm inference with mean 0, variance 1 and eps 0 is the
//    identity, so y is the activation of x): within 4 ulps of the float64 value rounded to float32, or 1e-7
//    absolute near zero (the issue's bound), with ±0, ±Inf and NaN;
// 4. zero-copy (Tensors), mixed and in-place calls give the same bits as copy mode, also over several passes;
// 5. validation: lengths against the shape options (LENGTH_MISMATCH), shapes that do not broadcast or vary
//    where the op cannot (INVALID_BROADCAST), unknown activations, sumOut without a skip input and statistics
//    for batchNorm inference (INVALID_OPTION); nothing is written by a refused call.
// Runs in Node and in the browsers.
import { beforeAll, describe, expect, it } from 'vitest';
import * as normkit from '../src/index.js';
import { batchNorm, groupNorm, layerNorm, NormkitError, ready, rmsNorm, tensor, type Tensor } from '../src/index.js';
import { activate, type Activation } from '../src/reference.js';
import { assertClose, compare, describeComparison, ErrorTracker } from './support/compare.js';
import { refOps } from './support/ops.js';
import {
  ACTIVATIONS, argValue, cloneCall, comparedOutputs, ENTRIES, lengthOf, outputsOf, presentArgs, REGISTRY, setArg,
  tensorCall, type Call, type NormkitLike, type OpEntry, type OpId,
} from './support/registry.js';
import { makeRng } from './support/rng.js';
import { diffBits } from './adversarial/harness.js';
import { randn } from './support/tensors.js';

const IN_BROWSER = typeof window !== 'undefined' && typeof document !== 'undefined';
const nk = normkit as unknown as NormkitLike;

beforeAll(async () => {
  await ready();
});

/** Tensors made by a test, freed at its end. */
const live: Tensor[] = [];
const T = (a: Float32Array): Tensor => {
  const t = tensor(a);
  live.push(t);
  return t;
};
const freeLive = () => {
  for (const t of live.splice(0)) t.free();
};

/** Fails unless the arrays hold the same float32 bits, naming how many differ and the first. */
function sameBits(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  const { count, first } = diffBits(Float32Array.from(actual), Float32Array.from(expected));
  if (count) expect.fail(`${label}: ${count} of ${actual.length} differ in bits; first [${first}]: ${actual[first]} instead of ${expected[first]}`);
}

// ---------------------------------------------------------------------------------------------------------
// 1. Differential.

/**
 * The float64 reference as a normkit stand-in (plain Float32Arrays only): outputs rounded to float32, written
 * into `out`, sumOut, mean, invStd and the running statistics as normkit writes them.
 */
const REFERENCE_F32: NormkitLike = (() => {
  type O = Record<string, unknown>;
  const put = (y: ArrayLike<number>, o: O = {}) => {
    const out = (o.out as Float32Array | undefined) ?? new Float32Array(y.length);
    out.set(y);
    return out;
  };
  return {
    layerNorm: (x: Float32Array, shape: number[], o?: O) => put(refOps.layerNorm(x, shape, o), o),
    rmsNorm: (x: Float32Array, shape: number[], o?: O) => put(refOps.rmsNorm(x, shape, o), o),
    batchNorm: (x: Float32Array, shape: number[], o?: O) => put(refOps.batchNorm(x, shape, o), o),
    instanceNorm: (x: Float32Array, shape: number[], o?: O) => put(refOps.instanceNorm(x, shape, o), o),
    groupNorm: (x: Float32Array, shape: number[], g: number, o?: O) => put(refOps.groupNorm(x, shape, g, o), o),
    adaIN: (x: Float32Array, shape: number[], s: Float32Array, sShape: number[], o?: O) => put(refOps.adaIN(x, shape, s, sShape, o), o),
  };
})();

const SMALL = IN_BROWSER ? 120 : 300;
const LARGE = IN_BROWSER ? 2 : 4;

/**
 * `count` random calls of `e` with the issue-10 options (plus `large` of up to 40,000 values) on `impl`, every
 * output compared with the reference's; returns the failures (at most 8) and the largest scaled error.
 */
function differential(impl: NormkitLike, e: OpEntry, seed: number, count: number, large: number) {
  const rng = makeRng(seed);
  const failures: string[] = [];
  const tracker = new ErrorTracker();
  for (let k = 0; k < count + large; k++) {
    const g = e.generate(rng, { maxSize: k < count ? 600 : 40_000, issue10: true });
    const mine = cloneCall(g.call);
    let returned: ArrayLike<number>;
    try {
      returned = e.run(impl, mine);
    } catch (err) {
      if (failures.length < 8) failures.push(`#${k} ${g.label}: threw ${err instanceof NormkitError ? `${err.code}: ` : ''}${(err as Error).message}`);
      continue;
    }
    if (mine.options.out !== undefined && returned !== mine.options.out && failures.length < 8) failures.push(`#${k} ${g.label}: did not return out`);
    const theirs = cloneCall(g.call);
    const want = comparedOutputs(e.id, theirs, e.reference(theirs), g.scale);
    comparedOutputs(e.id, mine, returned, g.scale).forEach((actual, j) => {
      const c = compare(actual, want[j]);
      tracker.record(c.maxError, `#${k} ${g.label} output ${j}`);
      if (!c.ok && failures.length < 8) failures.push(describeComparison(c, `#${k} ${g.label} output ${j}`));
    });
  }
  return { failures, tracker };
}

describe('issue 10 options: the harness on the float64 reference rounded to float32', () => {
  ENTRIES.forEach((e, k) => {
    it(`${e.id}: 60 random calls`, () => {
      const { failures } = differential(REFERENCE_F32, e, 0x10_000 + k, 60, 0);
      expect(failures, failures.join('\n')).toEqual([]);
    });
  });
});

describe('issue 10 options: differential against the float64 reference', () => {
  ENTRIES.forEach((e, k) => {
    it(`${e.id}: ${SMALL + LARGE} random calls with activations, broadcast operands, skip inputs and statistics`, () => {
      const { failures, tracker } = differential(nk, e, 0x10_100 + k, SMALL, LARGE);
      console.log(`options differential ${e.id}: max scaled error ${tracker.max.toExponential(3)} over ${tracker.count} outputs`);
      expect(failures, failures.join('\n')).toEqual([]);
    });
  });
});

// ---------------------------------------------------------------------------------------------------------
// 2. The models the options come from.

/** Runs a call on normkit (plain arrays) and on the reference; compares every output. */
function againstReference(id: OpId, call: Call, label: string): ArrayLike<number>[] {
  const e = REGISTRY[id];
  const mine = cloneCall(call);
  const got = outputsOf(id, mine, e.run(nk, mine));
  const theirs = cloneCall(call);
  const want = outputsOf(id, theirs, e.reference(theirs));
  got.forEach((a, j) => assertClose(a, want[j], `${label} output ${j}`));
  return got;
}

describe('issue 10 options: the models they come from', () => {
  const rng = makeRng(0x10_200);

  it('SD UNet block: groupNorm NCHW [2, 32, 8, 8], 8 groups, then SiLU', () => {
    const x = randn(rng, 2 * 32 * 64, 0.5, 2);
    againstReference('groupNorm', { x, shape: [2, 32, 8, 8], numGroups: 8, options: { weight: randn(rng, 32), bias: randn(rng, 32), activation: 'silu' } }, 'GroupNorm + SiLU');
  });

  it('SkipGroupNorm: NHWC [2, 4, 4, 16] + skip [2, 1, 1, 16] + bias [16], SiLU, the sum returned', () => {
    const call: Call = {
      x: randn(rng, 2 * 16 * 16), shape: [2, 4, 4, 16], numGroups: 4,
      options: {
        layout: 'NHWC', weight: randn(rng, 16), bias: randn(rng, 16), residual: randn(rng, 32), residualShape: [2, 1, 1, 16],
        inputBias: randn(rng, 16), sumOut: new Float32Array(2 * 16 * 16), activation: 'silu', mean: new Float32Array(8), invStd: new Float32Array(8),
      },
    };
    againstReference('groupNorm', call, 'SkipGroupNorm');
  });

  it('DiT AdaLN: layerNorm [2, 5, 16] with a per-sample [2, 1, 16] scale and shift, GELU (tanh)', () => {
    const call: Call = {
      x: randn(rng, 160, 1, 3), shape: [2, 5, 16],
      options: { weight: randn(rng, 32), weightShape: [2, 1, 16], bias: randn(rng, 32), biasShape: [2, 1, 16], activation: 'gelu_tanh' },
    };
    againstReference('layerNorm', call, 'AdaLN');
  });

  it('BERT SkipLayerNormalization: skip [S, H] broadcast over the batch, a bias input, the sum, mean and invStd', () => {
    const call: Call = {
      x: randn(rng, 2 * 3 * 8), shape: [2, 3, 8],
      options: {
        residual: randn(rng, 24), residualShape: [3, 8], inputBias: randn(rng, 8), weight: randn(rng, 8), bias: randn(rng, 8),
        sumOut: new Float32Array(48), mean: new Float32Array(6), invStd: new Float32Array(6), eps: 1e-12,
      },
    };
    againstReference('layerNorm', call, 'SkipLayerNorm');
  });

  it('SimplifiedLayerNormalization: rmsNorm invStd; SkipSimplifiedLayerNormalization: with skip, bias and sum', () => {
    againstReference('rmsNorm', { x: randn(rng, 40, 2, 1), shape: [4, 10], options: { weight: randn(rng, 10), invStd: new Float32Array(4) } }, 'rmsNorm invStd');
    const call: Call = {
      x: randn(rng, 40), shape: [4, 10],
      options: { residual: randn(rng, 40), inputBias: randn(rng, 10), weight: randn(rng, 10), sumOut: new Float32Array(40), invStd: new Float32Array(4) },
    };
    againstReference('rmsNorm', call, 'SkipSimplifiedLayerNorm');
  });

  it("batchNorm training saves the batch mean and 1 / sqrt(biased var + eps) (PyTorch's save_mean / save_invstd)", () => {
    for (const layout of ['NCHW', 'NHWC'] as const) {
      const shape = layout === 'NCHW' ? [3, 5, 4, 2] : [3, 4, 2, 5];
      const call: Call = {
        x: randn(rng, 120, 4, 2), shape,
        options: { layout, training: true, runningMean: new Float32Array(5), runningVar: new Float32Array(5).fill(1), mean: new Float32Array(5), invStd: new Float32Array(5) },
      };
      againstReference('batchNormTraining', call, `batchNorm training ${layout}`);
    }
  });

  it('instanceNorm, groupNorm and adaIN save one mean and invStd per (sample, group)', () => {
    const x = randn(rng, 2 * 6 * 5, -2, 3);
    againstReference('instanceNorm', { x, shape: [2, 6, 5], options: { mean: new Float32Array(12), invStd: new Float32Array(12) } }, 'instanceNorm stats');
    againstReference('groupNorm', { x, shape: [2, 6, 5], numGroups: 3, options: { mean: new Float32Array(6), invStd: new Float32Array(6) } }, 'groupNorm stats');
    const style = randn(rng, 6 * 7, 1, 2);
    againstReference('adaIN', { x, shape: [2, 6, 5], style, styleShape: [1, 6, 7], options: { mean: new Float32Array(12), invStd: new Float32Array(12), activation: 'relu' } }, 'adaIN stats');
  });

  it('a broadcast operand gives the same bits as its expanded form (per sample, scalar, per channel)', () => {
    const x = randn(rng, 2 * 5 * 16, 1, 2);
    const w = randn(rng, 32);
    const b = randn(rng, 32);
    const expandRows = (v: Float32Array, perSample: number, n = 160) => Float32Array.from({ length: n }, (_, i) => v[Math.floor(i / 80) * perSample + (i % perSample)]);
    const broadcast = layerNorm(x, [2, 5, 16], { weight: w, weightShape: [2, 1, 16], bias: b, biasShape: [2, 1, 16] });
    const full = layerNorm(x, [2, 5, 16], { weight: expandRows(w, 16), weightShape: [2, 5, 16], bias: expandRows(b, 16), biasShape: [2, 5, 16] });
    sameBits(broadcast, full, 'layerNorm [2, 1, 16] vs [2, 5, 16]');
    const scalar = rmsNorm(x, [10, 16], { weight: new Float32Array([1.5]), weightShape: [1] });
    const filled = rmsNorm(x, [10, 16], { weight: new Float32Array(16).fill(1.5) });
    sameBits(scalar, filled, 'rmsNorm [1] vs [16]');
    const c = randn(rng, 4);
    const perChannel = groupNorm(x, [2, 4, 20], 2, { weight: c, weightShape: [1, 4, 1] });
    const plain = groupNorm(x, [2, 4, 20], 2, { weight: c });
    sameBits(perChannel, plain, 'groupNorm [1, 4, 1] vs default [4]');
    const perSample = groupNorm(x, [2, 4, 20], 2, { weight: Float32Array.from([...c, ...c]), weightShape: [2, 4, 1] });
    sameBits(perSample, plain, 'groupNorm [2, 4, 1] with equal samples vs default [4]');
  });
});

// ---------------------------------------------------------------------------------------------------------
// 3. Activations over the whole float32 range.

/** Ordered integer of a float32 (adjacent floats differ by 1, -0 and +0 both 0). */
const ordered = (v: number): number => {
  const u = new Uint32Array(new Float32Array([v]).buffer)[0];
  return u >= 0x8000_0000 ? -(u - 0x8000_0000) : u;
};

/** Finite float32 values over every binade, both signs, dense near 0 and the activations' transitions. */
function rangeValues(): Float32Array {
  const v: number[] = [];
  for (let e = -149; e <= 127; e++) {
    for (const m of [1, 1.1, 1.25, 1.5, 1.75, 1.99]) {
      const x = Math.fround(m * 2 ** e);
      if (Number.isFinite(x) && x !== 0) v.push(x, -x);
    }
  }
  for (let k = -8000; k <= 8000; k++) v.push(Math.fround(k / 400)); // [-20, 20] in steps of 1/400
  for (const x of [3.4028234663852886e38, 1.4e-45, 1.1754943508222875e-38, 88, 89, 100, 1e4, 1e6, 9.5, 10.5, 13, 14, 26, 27]) {
    v.push(Math.fround(x), Math.fround(-x));
  }
  return Float32Array.from(v);
}

/** y = x exactly: batchNorm inference with runningMean 0, runningVar 1, eps 0 and no affine (rstd = 1). */
const identity = (x: Float32Array, activation?: Activation) =>
  batchNorm(x, [x.length, 1], { runningMean: new Float32Array(1), runningVar: new Float32Array([1]), eps: 0, ...(activation ? { activation } : {}) });

describe('issue 10 options: activations over the whole float32 range', () => {
  const xs = rangeValues();

  it('batchNorm inference with mean 0, variance 1 and eps 0 is the identity (the carrier of these tests)', () => {
    const y = identity(xs);
    for (let i = 0; i < xs.length; i++) if (y[i] !== xs[i]) expect.fail(`y[${i}] = ${y[i]} for x = ${xs[i]}`);
  });

  for (const name of ACTIVATIONS) {
    it(`${name}: within 4 ulps of float64 rounded to float32, or 1e-7 absolute, over ${xs.length} values`, () => {
      const y = identity(xs, name);
      const bad: string[] = [];
      let worstUlps = 0;
      for (let i = 0; i < xs.length; i++) {
        const e = Math.fround(activate(name, xs[i]));
        const a = y[i];
        const ulps = Number.isFinite(e) && Number.isFinite(a) ? Math.abs(ordered(a) - ordered(e)) : a === e ? 0 : Infinity;
        const ok = ulps <= 4 || Math.abs(a - e) <= 1e-7;
        if (ok && Math.abs(a - e) > 1e-7) worstUlps = Math.max(worstUlps, ulps);
        if (!ok && bad.length < 10) bad.push(`${name}(${xs[i]}) = ${a}, float64 ${e} (${ulps} ulps)`);
      }
      console.log(`${name}: worst ${worstUlps} ulps where the absolute bound does not apply`);
      expect(bad, bad.join('\n')).toEqual([]);
    });
  }

  it('±0, +Inf and NaN: act(0) = 0, act(+Inf) = +Inf, NaN stays NaN', () => {
    const x = Float32Array.from([0, -0, Infinity, NaN]);
    for (const name of ACTIVATIONS) {
      const y = identity(x, name);
      expect(y[0], name).toBe(0);
      expect(Math.abs(y[1]), name).toBe(0);
      expect(y[2], name).toBe(Infinity);
      expect(y[3], name).toBeNaN();
    }
  });

  // The float64 limit of y * sigmoid(y) and y * Phi(y) at -Inf is 0; PyTorch computes -Inf * 0 = NaN there.
  it('-Inf gives the limit 0 (the reference), not NaN', () => {
    for (const name of ACTIVATIONS) expect(Math.abs(identity(Float32Array.from([-Infinity]), name)[0]), name).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------------------
// 4. Zero-copy, mixed and in place against copy mode.

/** Copy mode, every argument a Tensor, every other one a Tensor, and out = x (a Tensor): the same bits. */
function modesAgree(e: OpEntry, call: Call, label: string): void {
  const plain = cloneCall(call);
  const got = outputsOf(e.id, plain, e.run(nk, plain)).map((a) => Float32Array.from(a));
  const zero = tensorCall(e.id, cloneCall(call), tensor, live);
  outputsOf(e.id, zero, e.run(nk, zero)).forEach((a, k) => sameBits(a, got[k], `${label}: zero-copy output ${k}`));
  const mixed = cloneCall(call);
  presentArgs(e.id, mixed).forEach((spec, k) => {
    if (k % 2 === 1) setArg(mixed, spec.name, T(argValue(mixed, spec.name) as Float32Array));
  });
  outputsOf(e.id, mixed, e.run(nk, mixed)).forEach((a, k) => sameBits(a, got[k], `${label}: mixed output ${k}`));
  const inPlace = tensorCall(e.id, cloneCall(call), tensor, live, { outIsX: true });
  outputsOf(e.id, inPlace, e.run(nk, inPlace)).forEach((a, k) => sameBits(a, got[k], `${label}: in place output ${k}`));
  freeLive();
}

describe('issue 10 options: zero-copy, mixed and in place give the bits of copy mode', () => {
  ENTRIES.forEach((e, k) => {
    it(`${e.id}: 30 random calls`, () => {
      const rng = makeRng(0x10_300 + k);
      for (let j = 0; j < 30; j++) {
        const g = e.generate(rng, { maxSize: 3000, issue10: true });
        modesAgree(e, g.call, `#${j} ${g.label}`);
      }
    });

    const layouts = e.kind === 'rows' ? [undefined] : (['NCHW', 'NHWC'] as const);
    for (const layout of layouts) {
      // Larger than one copy-mode pass (128 Ki floats): passes end mid-tensor.
      const [N, C, H, W] = [5, 38, 24, 40];
      const shape = e.kind === 'rows' ? [401, 769] : layout === 'NCHW' ? [N, C, H, W] : [N, H, W, C];
      it(`${e.id}${layout ? ` ${layout}` : ''} [${shape}], every option: several passes`, () => {
        const rng = makeRng(0x10_400 + k);
        const styleShape = layout === 'NCHW' ? [N, C, 9, 11] : [N, 9, 11, C];
        for (const activation of ['silu', 'gelu'] as const) {
          const g = e.generate(rng, { shape, layout, numGroups: 19, styleShape, optional: 'all', issue10: true, activation, data: { offset: -1, scale: 3 } });
          modesAgree(e, g.call, `${g.label}`);
        }
      });
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// 5. Validation.

/** A valid call of `op` at `shape` (x, and what the op requires: running statistics, style, numGroups 2). */
function base(op: OpId, shape: number[], layout?: 'NCHW' | 'NHWC', axis = -1): Call {
  const g = REGISTRY[op].generate(makeRng(7), { shape, layout, axis, numGroups: 2, styleShape: shape, optional: 'none', eps: 1e-5, issue10: false });
  return g.call;
}

interface Misuse {
  label: string;
  code: string;
  ops: readonly OpId[];
  /** The call, from a valid one of the op. */
  make(op: OpId): Call;
}

const ROW_OPS: OpId[] = ['layerNorm', 'rmsNorm'];
const CHANNEL_AFFINE: OpId[] = ['batchNorm', 'batchNormTraining', 'instanceNorm', 'groupNorm'];
/** The channel ops whose weight and bias may vary by sample (batchNorm's coefficients are per channel). */
const PER_SAMPLE_AFFINE: OpId[] = ['instanceNorm', 'groupNorm'];
const CHANNEL_OPS: OpId[] = [...CHANNEL_AFFINE, 'adaIN'];
const ALL_OPS: OpId[] = [...ROW_OPS, ...CHANNEL_OPS];
const STATS_OPS: OpId[] = ['layerNorm', 'batchNormTraining', 'instanceNorm', 'groupNorm', 'adaIN'];
const isRows = (op: OpId) => REGISTRY[op].kind === 'rows';
const f32 = (n: number) => Float32Array.from({ length: n }, (_, i) => 0.5 + i / 8);

/** x [2, 3, 5] (row ops, axis -1) or [2, 4, 3] NCHW (channel ops, C 4, groupNorm 2 groups), plus `options`. */
function example(op: OpId, options: Record<string, unknown>): Call {
  const c = base(op, isRows(op) ? [2, 3, 5] : [2, 4, 3]);
  c.options = { ...c.options, ...options };
  return c;
}
/** The per-sample shape of the examples: [2, 1, 5] (rows) or [2, 4, 1] (channels), and its length. */
// batchNorm's weight and bias are per channel (its coefficients span the batch): a shape option there
// may not vary over the samples.
const perSample = (op: OpId) =>
  isRows(op) ? { shape: [2, 1, 5], n: 10, group: 5 }
  : op === 'batchNorm' || op === 'batchNormTraining' ? { shape: [1, 4, 1], n: 4, group: 4 }
  : { shape: [2, 4, 1], n: 8, group: 4 };

const MISUSES: Misuse[] = [
  // Lengths against the shape options.
  ...(['weight', 'bias'] as const).map((name): Misuse => ({
    label: `${name} of the default length with a per-sample ${name}Shape`, code: 'LENGTH_MISMATCH',
    ops: name === 'weight' ? [...ROW_OPS, ...PER_SAMPLE_AFFINE] : ['layerNorm', ...PER_SAMPLE_AFFINE],
    make: (op) => example(op, { [name]: f32(perSample(op).group), [`${name}Shape`]: perSample(op).shape }),
  })),
  ...(['weight', 'bias'] as const).map((name): Misuse => ({
    label: `batchNorm with a ${name}Shape that varies over the samples`, code: 'INVALID_BROADCAST',
    ops: ['batchNorm', 'batchNormTraining'],
    make: (op) => example(op, { [name]: f32(8), [`${name}Shape`]: [2, 4, 1] }),
  })),
  {
    label: 'residual of x\'s length with a per-sample residualShape', code: 'LENGTH_MISMATCH', ops: ALL_OPS,
    make: (op) => example(op, { residual: f32(30 - (isRows(op) ? 0 : 6)), residualShape: isRows(op) ? [3, 5] : [2, 4, 1] }),
  },
  {
    label: 'inputBias one longer than its default shape', code: 'LENGTH_MISMATCH', ops: ALL_OPS,
    make: (op) => example(op, { inputBias: f32(perSample(op).group + 1) }),
  },
  {
    label: 'inputBias of the default length with an inputBiasShape of x', code: 'LENGTH_MISMATCH', ops: ALL_OPS,
    make: (op) => example(op, { inputBias: f32(perSample(op).group), inputBiasShape: isRows(op) ? [2, 3, 5] : [2, 4, 3] }),
  },
  {
    label: 'mean one too long', code: 'LENGTH_MISMATCH', ops: STATS_OPS,
    make: (op) => {
      const c = example(op, {});
      c.options.mean = f32(lengthOf(op, c, 'mean') + 1);
      return c;
    },
  },
  {
    label: 'invStd one too short', code: 'LENGTH_MISMATCH', ops: [...STATS_OPS, 'rmsNorm'],
    make: (op) => {
      const c = example(op, {});
      c.options.invStd = f32(lengthOf(op, c, 'invStd') - 1);
      return c;
    },
  },
  // Shapes that do not broadcast.
  {
    label: 'weightShape not broadcastable (an extent neither 1 nor x\'s)', code: 'INVALID_BROADCAST', ops: [...ROW_OPS, ...CHANNEL_AFFINE],
    make: (op) => example(op, isRows(op) ? { weight: f32(4), weightShape: [4] } : { weight: f32(10), weightShape: [5, 2] }),
  },
  {
    label: 'biasShape not broadcastable (right-aligned: [2, 5] against [3, 5])', code: 'INVALID_BROADCAST', ops: ['layerNorm', ...CHANNEL_AFFINE],
    make: (op) => example(op, isRows(op) ? { bias: f32(10), biasShape: [2, 5] } : { bias: f32(6), biasShape: [2, 3] }),
  },
  {
    label: 'weightShape with more axes than x', code: 'INVALID_BROADCAST', ops: [...ROW_OPS, ...CHANNEL_AFFINE],
    make: (op) => example(op, isRows(op) ? { weight: f32(5), weightShape: [1, 1, 1, 5] } : { weight: f32(4), weightShape: [1, 1, 4, 1] }),
  },
  {
    label: 'residualShape not broadcastable', code: 'INVALID_BROADCAST', ops: ALL_OPS,
    make: (op) => example(op, isRows(op) ? { residual: f32(10), residualShape: [2, 5] } : { residual: f32(12), residualShape: [2, 2, 3] }),
  },
  {
    label: 'inputBiasShape not broadcastable', code: 'INVALID_BROADCAST', ops: ALL_OPS,
    make: (op) => example(op, isRows(op) ? { inputBias: f32(4), inputBiasShape: [4] } : { inputBias: f32(5), inputBiasShape: [5, 1] }),
  },
  // Shapes that vary where the op cannot.
  {
    label: 'channel ops: weight varying over a spatial axis (NCHW [1, C, 3])', code: 'INVALID_BROADCAST', ops: CHANNEL_AFFINE,
    make: (op) => example(op, { weight: f32(12), weightShape: [1, 4, 3] }),
  },
  {
    label: 'channel ops: bias varying over a spatial axis (NHWC [1, 3, C])', code: 'INVALID_BROADCAST', ops: CHANNEL_AFFINE,
    make: (op) => {
      const c = base(op, [2, 3, 4], 'NHWC');
      c.options = { ...c.options, bias: f32(12), biasShape: [1, 3, 4] };
      return c;
    },
  },
  {
    label: 'channel ops: a scale that varies over space only ([3] against NCHW [2, 4, 3])', code: 'INVALID_BROADCAST', ops: CHANNEL_AFFINE,
    make: (op) => example(op, { weight: f32(3), weightShape: [3] }),
  },
  {
    label: 'row ops: residual broadcast over the normalized axes ([2, 3, 1])', code: 'INVALID_BROADCAST', ops: ROW_OPS,
    make: (op) => example(op, { residual: f32(6), residualShape: [2, 3, 1] }),
  },
  {
    label: 'row ops: residual broadcast over a normalized axis from axis 1 ([2, 1, 5])', code: 'INVALID_BROADCAST', ops: ROW_OPS,
    make: (op) => {
      const c = base(op, [2, 3, 5], undefined, 1);
      c.options = { ...c.options, residual: f32(10), residualShape: [2, 1, 5] };
      return c;
    },
  },
  {
    label: 'row ops: a scalar inputBias ([1]: broadcast over the normalized axes)', code: 'INVALID_BROADCAST', ops: ROW_OPS,
    make: (op) => example(op, { inputBias: f32(1), inputBiasShape: [1] }),
  },
  {
    label: 'channel ops: residual over part of the spatial axes (NCHW [2, 4, 2, 1] against [2, 4, 2, 3])', code: 'INVALID_BROADCAST', ops: CHANNEL_OPS,
    make: (op) => {
      const c = base(op, [2, 4, 2, 3]);
      c.options = { ...c.options, residual: f32(16), residualShape: [2, 4, 2, 1] };
      return c;
    },
  },
  {
    label: 'channel ops: inputBias over part of the spatial axes (NHWC [1, 2, 1, 4] against [2, 2, 3, 4])', code: 'INVALID_BROADCAST', ops: CHANNEL_OPS,
    make: (op) => {
      const c = base(op, [2, 2, 3, 4], 'NHWC');
      c.options = { ...c.options, inputBias: f32(8), inputBiasShape: [1, 2, 1, 4] };
      return c;
    },
  },
  // Options.
  ...['tanh', 'GELU', 'swish', 'gelu_erf', ''].map((name): Misuse => ({
    label: `activation ${JSON.stringify(name)}`, code: 'INVALID_OPTION', ops: ALL_OPS, make: (op) => example(op, { activation: name }),
  })),
  {
    label: 'activation not a string (1)', code: 'INVALID_OPTION', ops: ALL_OPS, make: (op) => example(op, { activation: 1 }),
  },
  {
    label: 'sumOut without residual or inputBias', code: 'INVALID_OPTION', ops: ALL_OPS,
    make: (op) => example(op, { sumOut: new Float32Array(isRows(op) ? 30 : 24) }),
  },
  ...(['mean', 'invStd'] as const).map((name): Misuse => ({
    label: `batchNorm inference with ${name}`, code: 'INVALID_OPTION', ops: ['batchNorm'], make: (op) => example(op, { [name]: new Float32Array(4) }),
  })),
  {
    label: 'weightShape not an array of integers', code: 'INVALID_SHAPE', ops: [...ROW_OPS, ...CHANNEL_AFFINE],
    make: (op) => example(op, { weight: f32(perSample(op).group), weightShape: [perSample(op).group + 0.5] }),
  },
  {
    label: 'residualShape not an array', code: 'INVALID_SHAPE', ops: ALL_OPS,
    make: (op) => example(op, { residual: f32(isRows(op) ? 30 : 24), residualShape: 'x' }),
  },
  // Options an op does not take stay unknown.
  { label: 'rmsNorm mean', code: 'UNKNOWN_OPTION', ops: ['rmsNorm'], make: (op) => example(op, { mean: new Float32Array(6) }) },
  { label: 'rmsNorm biasShape', code: 'UNKNOWN_OPTION', ops: ['rmsNorm'], make: (op) => example(op, { biasShape: [5] }) },
  { label: 'adaIN weightShape', code: 'UNKNOWN_OPTION', ops: ['adaIN'], make: (op) => example(op, { weightShape: [4] }) },
];

describe('issue 10 options: validation', () => {
  for (const m of MISUSES) {
    for (const op of m.ops) {
      it(`${op}: ${m.label} -> ${m.code}`, () => {
        const call = m.make(op);
        // Nothing is written: x and a sentinel out stay as they were.
        const out = new Float32Array((call.x as Float32Array).length).fill(7);
        call.options = { ...call.options, out };
        const x0 = (call.x as Float32Array).slice();
        let error: unknown;
        try {
          REGISTRY[op].run(nk, call);
        } catch (err) {
          error = err;
        }
        expect(error, 'no error').toBeInstanceOf(NormkitError);
        const e = error as NormkitError;
        expect(e.code, e.message).toBe(m.code);
        sameBits(call.x as Float32Array, x0, 'x after the refused call');
        expect(out.every((v) => v === 7), 'out untouched').toBe(true);
      });
    }
  }

  it('the valid twins of the shape misuses are accepted', () => {
    for (const op of ALL_OPS) {
      const ps = perSample(op);
      const affine = op !== 'adaIN' ? { weight: f32(ps.n), weightShape: ps.shape } : {};
      const bias = op !== 'adaIN' && op !== 'rmsNorm' ? { bias: f32(ps.n), biasShape: ps.shape } : {};
      const call = example(op, {
        ...affine, ...bias, residual: f32(isRows(op) ? 15 : 8), residualShape: isRows(op) ? [3, 5] : [2, 4, 1],
        inputBias: f32(ps.group), sumOut: new Float32Array(isRows(op) ? 30 : 24), activation: 'gelu',
      });
      againstReference(op, call, `${op} valid twin`);
    }
  });
});
