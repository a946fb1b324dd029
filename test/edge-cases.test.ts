// Edge semantics (issue 5), as documented in docs/semantics.md: zero-size tensors, groups of size 1, constant
// groups (exactly bias), NaN/Inf confined to their group, momentum 0 and 1, eps = 0, batchNorm inference
// with runningVar + eps = 0, and batchNorm training with one value per channel. Runs in Node and Chromium.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  adaIN, batchNorm, groupNorm, instanceNorm, layerNorm, NormkitError, ready, rmsNorm, tensor,
} from '../src/index.js';
import * as normkit from '../src/index.js';
import type { Layout } from '../src/reference.js';
import { assertClose, compare, describeComparison } from './support/compare.js';
import { refOps } from './support/ops.js';
import {
  argValue, compact, ENTRIES, hasArg, lengthOf, presentArgs, type Call as RegistryCall, type NormkitLike,
} from './support/registry.js';
import { makeRng } from './support/rng.js';
import { channelIndex, randn, randu, sizeOf } from './support/tensors.js';

const rng = makeRng(0xed6e);

beforeAll(async () => {
  await ready();
});

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof NormkitError) return e.code;
    throw e;
  }
  return undefined;
}

describe('zero-size tensors: an empty output, no error, nothing else touched', () => {
  const shapes: Array<[string, number[]]> = [
    ['N = 0', [0, 4, 3]],
    ['C = 0', [2, 0, 3]],
    ['spatial 0', [2, 4, 0]],
    ['spatial 0 in rank 4', [2, 4, 5, 0]],
  ];
  it.each(shapes)('channel ops, %s, both layouts, copy and zero-copy', (_label, shape) => {
    for (const layout of ['NCHW', 'NHWC'] as const) {
      const s = layout === 'NCHW' ? shape : [shape[0], ...shape.slice(2), shape[1]];
      const C = shape[1];
      const x = new Float32Array(0);
      // Every channel op of the registry, with every optional input and output.
      for (const e of ENTRIES.filter((entry) => entry.kind === 'channels')) {
        const { call } = e.generate(rng, { shape: s, layout, styleShape: s, optional: 'all' });
        const updated = presentArgs(e.id, call).filter((a) => a.role === 'in-out');
        const before = updated.map((a) => (argValue(call, a.name) as Float32Array).slice());
        const y = e.run(normkit as unknown as NormkitLike, call);
        expect(y, e.id).toBeInstanceOf(Float32Array);
        expect(y.length, e.id).toBe(0);
        // an empty batch leaves the running statistics alone
        updated.forEach((a, k) => expect(Array.from(argValue(call, a.name) as Float32Array), `${e.id} ${a.name}`).toEqual(Array.from(before[k])));
      }
      const out = new Float32Array(0);
      expect(instanceNorm(x, s, { layout, out })).toBe(out);
      const t = tensor(0);
      expect(groupNorm(t, s, C === 0 ? 3 : 1, { layout, out: t }).length).toBe(0);
      t.free();
    }
  });

  it('adaIN: an empty content needs no style statistics (the style may be empty too)', () => {
    expect(adaIN(new Float32Array(0), [0, 3, 4], new Float32Array(0), [1, 3, 0]).length).toBe(0);
    expect(adaIN(new Float32Array(0), [2, 3, 0], randn(rng, 6), [2, 3, 1]).length).toBe(0);
  });

  it('layerNorm and rmsNorm: no groups, or empty groups whose mean and invStd are NaN', () => {
    expect(layerNorm(new Float32Array(0), [0, 5], { weight: randn(rng, 5), mean: new Float32Array(0) }).length).toBe(0);
    const mean = new Float32Array(5).fill(1);
    const invStd = new Float32Array(5).fill(1);
    expect(layerNorm(new Float32Array(0), [5, 0], { mean, invStd, weight: new Float32Array(0) }).length).toBe(0);
    expect(Array.from(mean).every(Number.isNaN)).toBe(true);
    expect(Array.from(invStd).every(Number.isNaN)).toBe(true);
    // Tensor outputs too.
    const tm = tensor(3);
    layerNorm(new Float32Array(0), [3, 2, 0], { axis: 1, mean: tm });
    expect(Array.from(tm.array).every(Number.isNaN)).toBe(true);
    tm.free();
    expect(rmsNorm(new Float32Array(0), [4, 0, 2], { residual: new Float32Array(0), sumOut: new Float32Array(0) }).length).toBe(0);
    expect(layerNorm(new Float32Array(0), [0]).length).toBe(0);
  });

  it('an empty tensor is still validated: wrong weight length, axis or layout are refused', () => {
    expect(codeOf(() => layerNorm(new Float32Array(0), [0, 5], { weight: new Float32Array(4) }))).toBe('LENGTH_MISMATCH');
    expect(codeOf(() => layerNorm(new Float32Array(0), [0, 5], { axis: 2 }))).toBe('INVALID_AXIS');
    expect(codeOf(() => instanceNorm(new Float32Array(0), [0, 5], { layout: 'CHW' as Layout }))).toBe('INVALID_LAYOUT');
    expect(codeOf(() => groupNorm(new Float32Array(0), [0, 6], 4))).toBe('INVALID_GROUPS');
    expect(codeOf(() => batchNorm(new Float32Array(0), [0, 5]))).toBe('MISSING_RUNNING_STATS');
  });
});

/** Every op of the registry that takes statistics, with the group of each element, for the group-wise properties below. */
interface GroupCase {
  name: string;
  shape: number[];
  /** Subtracts a group mean, so a constant group gives exactly its bias. */
  centered: boolean;
  /** Has a bias argument (adaIN's "bias" is the style mean). */
  hasBias: boolean;
  groupOf(i: number): number;
  /** The bias each element gets when its group is constant. */
  biasOf(i: number): number;
  run(x: Float32Array, eps: number, withBias?: boolean): ArrayLike<number>;
  ref(x: Float32Array, eps: number, withBias?: boolean): ArrayLike<number>;
}

function groupCases(): GroupCase[] {
  const cases: GroupCase[] = [];
  for (const e of ENTRIES.filter((entry) => entry.hasStats)) {
    const layouts: Array<Layout | undefined> = e.kind === 'rows' ? [undefined] : ['NCHW', 'NHWC'];
    for (const layout of layouts) {
      const [N, C, H, W] = [2, 6, 3, 5];
      const shape = e.kind === 'rows' ? [3, 4, 9] : layout === 'NCHW' ? [N, C, H, W] : [N, H, W, C];
      const styleShape = layout === 'NCHW' ? [N, C, 2, 2] : [N, 2, 2, C];
      const { call } = e.generate(rng, { shape, layout, axis: -1, numGroups: 3, styleShape, optional: 'none' });
      if (hasArg(e.id, 'weight')) call.options.weight = randn(rng, lengthOf(e.id, call, 'weight'));
      const b = hasArg(e.id, 'bias') ? randn(rng, lengthOf(e.id, call, 'bias')) : undefined;
      // adaIN's "bias" is the style mean: a constant style makes it exact.
      if (hasArg(e.id, 'style')) call.style = new Float32Array(sizeOf(styleShape)).fill(-2.5);
      const with_ = (x: Float32Array, eps: number, withBias: boolean): RegistryCall => ({
        ...call, x, options: compact({ ...call.options, eps, bias: withBias ? b : undefined }),
      });
      cases.push({
        name: `${e.id}${layout ? ` ${layout}` : ''}${e.numGroups ? ' G=3' : ''}`,
        shape, centered: e.centered, hasBias: b !== undefined,
        groupOf: e.groupOf(call),
        biasOf: e.constantOutput({ ...call, options: { ...call.options, bias: b } }),
        run: (x, eps, withBias = true) => e.run(normkit as unknown as NormkitLike, with_(x, eps, withBias)),
        ref: (x, eps, withBias = true) => e.reference(with_(x, eps, withBias)),
      });
    }
  }
  return cases;
}

describe.each(groupCases().map((c) => [c.name, c] as const))('%s', (_name, c) => {
  const size = sizeOf(c.shape);

  if (c.centered) {
    it('constant groups give exactly the bias (0 without one), with eps = 1e-5 and with eps = 0', () => {
      const values = [0, 1, -3.75, 1e6 + 0.5, Math.fround(1e-30), Math.fround(-7.1e20)];
      const x = Float32Array.from({ length: size }, (_, i) => values[c.groupOf(i) % values.length]);
      for (const eps of [1e-5, 0]) {
        const y = c.run(x, eps);
        for (let i = 0; i < size; i++) {
          if (!Object.is(y[i], Math.fround(c.biasOf(i)))) throw new Error(`eps ${eps}: [${i}] = ${y[i]}, expected exactly ${Math.fround(c.biasOf(i))}`);
        }
        if (c.hasBias) {
          const y0 = c.run(x, eps, false);
          for (let i = 0; i < size; i++) if (y0[i] !== 0) throw new Error(`eps ${eps}, no bias: [${i}] = ${y0[i]}`);
        }
      }
    });
  }

  for (const [label, bad] of [['NaN', NaN], ['+Infinity', Infinity], ['-Infinity', -Infinity]] as const) {
    it(`${label} makes its own group NaN and leaves every other group as the reference`, () => {
      const x = randn(rng, size, 1, 2);
      const target = 1;
      const members = [...Array(size).keys()].filter((i) => c.groupOf(i) === target);
      x[members[Math.floor(members.length / 2)]] = bad;
      const y = c.run(x, 1e-5);
      const want = c.ref(x, 1e-5);
      for (let i = 0; i < size; i++) {
        if (c.groupOf(i) === target) expect(y[i], `[${i}] in the poisoned group`).toBeNaN();
        else expect(Number.isFinite(y[i]), `[${i}] outside the poisoned group`).toBe(true);
      }
      const r = compare(y, want);
      expect(r.ok, describeComparison(r)).toBe(true);
    });
  }

  it('eps = 0 on ordinary data matches the reference', () => {
    const x = randn(rng, size, -1, 3);
    assertClose(c.run(x, 0), c.ref(x, 0));
  });
});

describe('groups of size 1', () => {
  it('layerNorm over a last axis of 1, instanceNorm and groupNorm(C) over one spatial position: exactly the bias', () => {
    const x = randn(rng, 7, 5, 3);
    const b = Float32Array.of(0.25);
    const y = layerNorm(x, [7, 1], { bias: b, weight: Float32Array.of(3) });
    expect(Array.from(y)).toEqual(new Array(7).fill(0.25));
    const x2 = randn(rng, 2 * 3, 5, 3);
    const b3 = randn(rng, 3);
    for (const [layout, shape] of [['NCHW', [2, 3, 1]], ['NHWC', [2, 1, 3]], ['NCHW', [2, 3]]] as const) {
      const want = Array.from({ length: 6 }, (_, i) => Math.fround(b3[i % 3]));
      expect(Array.from(instanceNorm(x2, [...shape], { layout, bias: b3 })), `instanceNorm ${layout} ${shape}`).toEqual(want);
      expect(Array.from(groupNorm(x2, [...shape], 3, { layout, bias: b3 })), `groupNorm ${layout} ${shape}`).toEqual(want);
    }
  });

  it('rmsNorm of single values: x / sqrt(x^2 + eps) * weight (about ±weight; 0 stays 0)', () => {
    const x = Float32Array.of(0, -2, 3, 1e-3);
    const w = Float32Array.of(2);
    const y = rmsNorm(x, [4, 1], { weight: w });
    assertClose(y, refOps.rmsNorm(x, [4, 1], { weight: w }));
    expect(y[0]).toBe(0);
  });

  it('adaIN with one content value per plane: exactly the style mean', () => {
    const style = randn(rng, 2 * 3 * 4, 2, 3);
    const y = adaIN(randn(rng, 6), [2, 3, 1], style, [2, 3, 4]);
    const want = refOps.adaIN(new Float32Array(6), [2, 3, 1], style, [2, 3, 4]);
    expect(Array.from(y)).toEqual(Array.from(want, Math.fround));
  });

  it('batchNorm training needs two values per channel: [1, C] is refused, [2, C] and [1, C, 2] work', () => {
    expect(codeOf(() => batchNorm(randn(rng, 3), [1, 3], { training: true }))).toBe('BATCH_TOO_SMALL');
    expect(codeOf(() => batchNorm(randn(rng, 3), [1, 1, 1, 3], { training: true, layout: 'NHWC' }))).toBe('BATCH_TOO_SMALL');
    for (const shape of [[2, 3], [1, 3, 2]]) {
      const x = randn(rng, 6, 1, 2);
      const rm = new Float32Array(3);
      const rv = new Float32Array(3).fill(1);
      const ref = { runningMean: rm.slice(), runningVar: rv.slice() };
      assertClose(batchNorm(x, shape, { training: true, runningMean: rm, runningVar: rv }), refOps.batchNorm(x, shape, { training: true, ...ref }));
      assertClose(rv, ref.runningVar, 'unbiased variance of two values');
    }
    // Inference has no statistics to take: one value per channel is fine.
    const rv = randu(rng, 3, 0.5, 2);
    const rm = randn(rng, 3);
    const x = randn(rng, 3);
    assertClose(batchNorm(x, [1, 3], { runningMean: rm, runningVar: rv }), refOps.batchNorm(x, [1, 3], { runningMean: rm, runningVar: rv }));
  });
});

describe('batchNorm: momentum 0 and 1, non-finite values, runningVar + eps = 0', () => {
  const shape = [4, 3, 5];
  const C = 3;

  it('momentum 0 leaves the running statistics bit for bit; momentum 1 replaces them by the batch statistics', () => {
    const x = randn(rng, sizeOf(shape), 2, 3);
    const rm = randn(rng, C);
    const rv = randu(rng, C, 0.5, 2);
    const rm0 = rm.slice();
    const rv0 = rv.slice();
    batchNorm(x, shape, { training: true, momentum: 0, runningMean: rm, runningVar: rv });
    expect(Array.from(rm)).toEqual(Array.from(rm0));
    expect(Array.from(rv)).toEqual(Array.from(rv0));
    for (const unbiasedRunningVar of [true, false]) {
      const rm1 = randn(rng, C);
      const rv1 = randu(rng, C, 0.5, 2);
      const ref = { runningMean: new Float32Array(C), runningVar: new Float32Array(C) };
      refOps.batchNorm(x, shape, { training: true, momentum: 1, unbiasedRunningVar, ...ref });
      batchNorm(x, shape, { training: true, momentum: 1, unbiasedRunningVar, runningMean: rm1, runningVar: rv1 });
      assertClose(rm1, ref.runningMean, 'runningMean = batch mean');
      assertClose(rv1, ref.runningVar, `runningVar = ${unbiasedRunningVar ? 'unbiased' : 'biased'} batch variance`);
    }
  });

  it('a NaN in one channel of the batch: that channel of y and of the running statistics is NaN (even with momentum 0)', () => {
    for (const momentum of [0, 0.1, 1]) {
      const x = randn(rng, sizeOf(shape));
      x[channelIndex('NCHW', C, 5, 2, 1, 3)] = NaN;
      const rm = randn(rng, C);
      const rv = randu(rng, C, 0.5, 2);
      const ref = { runningMean: rm.slice(), runningVar: rv.slice() };
      const want = refOps.batchNorm(x, shape, { training: true, momentum, ...ref });
      const y = batchNorm(x, shape, { training: true, momentum, runningMean: rm, runningVar: rv });
      assertClose(y, want, `y, momentum ${momentum}`);
      expect(rm[1]).toBeNaN();
      expect(rv[1]).toBeNaN();
      assertClose(rm, ref.runningMean, `runningMean, momentum ${momentum}`);
      assertClose(rv, ref.runningVar, `runningVar, momentum ${momentum}`);
    }
  });

  it('inference is element-wise: a NaN or Inf in x stays in its element; a NaN running statistic poisons its channel', () => {
    const x = randn(rng, sizeOf(shape));
    x[3] = NaN;
    x[20] = Infinity;
    const rm = randn(rng, C);
    const rv = randu(rng, C, 0.5, 2);
    const y = batchNorm(x, shape, { runningMean: rm, runningVar: rv });
    assertClose(y, refOps.batchNorm(x, shape, { runningMean: rm, runningVar: rv }));
    expect(y[3]).toBeNaN();
    expect(y[20]).toBe(Infinity);
    expect(Array.from(y).filter((v) => !Number.isFinite(v)).length).toBe(2);
    const rvNaN = rv.slice();
    rvNaN[2] = NaN;
    const x2 = randn(rng, sizeOf(shape));
    const y2 = batchNorm(x2, shape, { runningMean: rm, runningVar: rvNaN });
    for (let i = 0; i < y2.length; i++) expect(Number.isNaN(y2[i])).toBe(Math.floor(i / 5) % C === 2);
  });

  it('inference with runningVar + eps = 0: IEEE arithmetic, that channel is non-finite (±Infinity or NaN), the others are right', () => {
    const x = randn(rng, sizeOf(shape), 1, 1);
    const rm = randn(rng, C);
    const rv = randu(rng, C, 0.5, 2);
    rv[0] = 0;
    const y = batchNorm(x, shape, { runningMean: rm, runningVar: rv, eps: 0, bias: Float32Array.of(1, 2, 3) });
    const want = refOps.batchNorm(x, shape, { runningMean: rm, runningVar: rv, eps: 0, bias: Float32Array.of(1, 2, 3) });
    for (let i = 0; i < y.length; i++) {
      const c = Math.floor(i / 5) % C;
      if (c === 0) expect(Number.isFinite(y[i]), `[${i}] in the zero-variance channel`).toBe(false);
      else expect(Math.abs(y[i] - want[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(want[i])));
    }
    // With eps > 0 the same statistics are fine.
    assertClose(batchNorm(x, shape, { runningMean: rm, runningVar: rv, eps: 1e-5 }), refOps.batchNorm(x, shape, { runningMean: rm, runningVar: rv, eps: 1e-5 }));
  });
});

describe('eps = 0', () => {
  it('layerNorm of a constant group: exactly the bias, mean = the value, invStd = Infinity', () => {
    const x = Float32Array.of(2, 2, 2, 1, 2, 3);
    const bias = Float32Array.of(7, 8, 9);
    const mean = new Float32Array(2);
    const invStd = new Float32Array(2);
    const y = layerNorm(x, [2, 3], { eps: 0, bias, mean, invStd });
    expect(Array.from(y.subarray(0, 3))).toEqual([7, 8, 9]);
    assertClose(y.subarray(3), Array.from(refOps.layerNorm(x, [2, 3], { eps: 0, bias })).slice(3));
    expect(mean[0]).toBe(2);
    expect(invStd[0]).toBe(Infinity);
    expect(Number.isFinite(invStd[1])).toBe(true);
  });

  it('rmsNorm of an all-zero row: zeros (not NaN)', () => {
    const y = rmsNorm(Float32Array.of(0, 0, 0, 1, 2, 3), [2, 3], { eps: 0 });
    expect(Array.from(y.subarray(0, 3))).toEqual([0, 0, 0]);
    assertClose(y, refOps.rmsNorm(Float32Array.of(0, 0, 0, 1, 2, 3), [2, 3], { eps: 0 }));
  });
});

it('inputs are never modified unless they are also out', () => {
  // Every op of the registry, with every optional argument; its inputs (role "in") keep their bits.
  for (const e of ENTRIES) {
    const { call, label } = e.generate(rng, { optional: 'all', maxSize: 400 });
    const inputs = presentArgs(e.id, call).filter((a) => a.role === 'in');
    const before = inputs.map((a) => (argValue(call, a.name) as Float32Array).slice());
    e.run(normkit as unknown as NormkitLike, call);
    inputs.forEach((a, k) => expect(Array.from(argValue(call, a.name) as Float32Array), `${label}: input ${a.name}`).toEqual(Array.from(before[k])));
  }
});
