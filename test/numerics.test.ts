// Hard numerical cases for every op, against the float64 reference: large offsets (up to 1e6 standard
// deviations), constant groups (exactly the bias, bitwise), NaN/Inf confined to their own group, huge
// (~1e20) and tiny (~1e-20) magnitudes, in-place and provided outputs, zero-size tensors, untouched inputs,
// and zero-copy Tensors (identical to copy mode, and still right after wasm memory grows).
import { beforeAll, describe, expect, it } from 'vitest';
import * as normkit from '../src/index.js';
import { adaIN, batchNorm, groupNorm, instanceNorm, layerNorm, memoryStats, ready, rmsNorm, tensor } from '../src/index.js';
import type { Layout } from '../src/reference.js';
import { compare, describeComparison, sameFloat32 } from './support/compare.js';
import { refOps, type NormOps } from './support/ops.js';
import { makeRng, type Rng } from './support/rng.js';
import { randn, randu, sizeOf } from './support/tensors.js';

const nk = normkit as unknown as NormOps;

interface RunOptions {
  eps?: number;
  /** Pass weight and bias (default true). */
  affine?: boolean;
  out?: Float32Array;
  /** adaIN: the style tensor (default: the case's random style). */
  style?: Float32Array;
  /** batchNorm training: pass running buffers (default true). */
  running?: boolean;
  /** batchNorm inference: running statistics matching data of this offset and scale. */
  offset?: number;
  scale?: number;
}

interface OpCase {
  name: string;
  size: number;
  /** Statistics group of element i: outputs of one group depend only on that group's inputs. */
  groupOf(i: number): number;
  groups: number;
  /** Subtracts a group mean, so a constant group gives exactly the bias. */
  centered: boolean;
  /** Computes statistics (false for batchNorm inference). */
  hasStats: boolean;
  styleSize?: number;
  /** Runs the op; y first, then any other outputs (running statistics). */
  run(ops: NormOps, x: Float32Array, o?: RunOptions): ArrayLike<number>[];
}

const setup = makeRng(0xc0ffee);

function rowsCase(op: 'layerNorm' | 'rmsNorm', shape: number[], axis: number): OpCase {
  const a = axis < 0 ? axis + shape.length : axis;
  const inner = sizeOf(shape.slice(a));
  const weight = randn(setup, inner);
  const bias = randn(setup, inner);
  return {
    name: `${op} [${shape}] axis ${axis}`,
    size: sizeOf(shape),
    groupOf: (i) => Math.floor(i / inner),
    groups: sizeOf(shape.slice(0, a)),
    centered: op === 'layerNorm',
    hasStats: true,
    run(ops, x, o = {}) {
      const affine = o.affine ?? true;
      const base = { axis, eps: o.eps, out: o.out, weight: affine ? weight.slice() : undefined };
      return [
        op === 'layerNorm'
          ? ops.layerNorm(x, shape, clean({ ...base, bias: affine ? bias.slice() : undefined }))
          : ops.rmsNorm(x, shape, clean(base)),
      ];
    },
  };
}

type ChannelOp = 'batchNorm' | 'batchNormInference' | 'instanceNorm' | 'groupNorm' | 'adaIN';

function channelCase(op: ChannelOp, layout: Layout, shape: number[], numGroups = 1, styleShape?: number[]): OpCase {
  const rank = shape.length;
  const C = layout === 'NCHW' ? shape[1] : shape[rank - 1];
  const S = sizeOf(layout === 'NCHW' ? shape.slice(2) : shape.slice(1, -1));
  const c = (i: number) => (layout === 'NCHW' ? Math.floor(i / S) % C : i % C);
  const n = (i: number) => Math.floor(i / (C * S));
  const N = shape[0];
  const weight = randn(setup, C);
  const bias = randn(setup, C);
  const meanNoise = randn(setup, C);
  const varFactor = randu(setup, C, 0.5, 2);
  const style = styleShape ? randn(setup, sizeOf(styleShape), 1, 2) : undefined;
  const grouping = {
    batchNorm: { groupOf: c, groups: C },
    batchNormInference: { groupOf: (i: number) => i, groups: N * C * S },
    instanceNorm: { groupOf: (i: number) => n(i) * C + c(i), groups: N * C },
    groupNorm: { groupOf: (i: number) => n(i) * numGroups + Math.floor(c(i) / (C / numGroups)), groups: N * numGroups },
    adaIN: { groupOf: (i: number) => n(i) * C + c(i), groups: N * C },
  }[op];
  const extra = op === 'groupNorm' ? ` G ${numGroups}` : op === 'adaIN' ? ` style [${styleShape}]` : '';
  return {
    name: `${op} ${layout} [${shape}]${extra}`,
    size: sizeOf(shape),
    ...grouping,
    centered: op !== 'batchNormInference',
    hasStats: op !== 'batchNormInference',
    styleSize: style?.length,
    run(ops, x, o = {}) {
      const affine = o.affine ?? true;
      const common = clean({ layout, eps: o.eps, out: o.out });
      const wb = affine ? { weight: weight.slice(), bias: bias.slice() } : {};
      switch (op) {
        case 'batchNorm': {
          const running = o.running ?? true;
          const runningMean = running ? meanNoise.slice() : undefined;
          const runningVar = running ? varFactor.slice() : undefined;
          const y = ops.batchNorm(x, shape, clean({ ...common, ...wb, training: true, runningMean, runningVar }));
          return running ? [y, runningMean!, runningVar!] : [y];
        }
        case 'batchNormInference': {
          const offset = o.offset ?? 0;
          const scale = o.scale ?? 1;
          const runningMean = meanNoise.map((v) => offset + scale * v);
          const runningVar = varFactor.map((v) => v * scale * scale);
          return [ops.batchNorm(x, shape, { ...common, ...wb, runningMean, runningVar })];
        }
        case 'instanceNorm':
          return [ops.instanceNorm(x, shape, { ...common, ...wb })];
        case 'groupNorm':
          return [ops.groupNorm(x, shape, numGroups, { ...common, ...wb })];
        case 'adaIN':
          return [ops.adaIN(x, shape, (o.style ?? style!).slice(), styleShape!, common)];
      }
    },
  };
}

/** Drops undefined options. */
function clean<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const CASES: OpCase[] = [
  rowsCase('layerNorm', [5, 67], -1),
  rowsCase('layerNorm', [3, 4, 5], 1),
  rowsCase('layerNorm', [2, 3, 129], -1),
  rowsCase('rmsNorm', [5, 67], -1),
  rowsCase('rmsNorm', [3, 4, 5], 1),
  channelCase('batchNorm', 'NCHW', [3, 4, 5, 7]),
  channelCase('batchNorm', 'NHWC', [3, 5, 7, 4]),
  channelCase('batchNorm', 'NCHW', [9, 21]),
  channelCase('batchNormInference', 'NCHW', [3, 4, 5, 7]),
  channelCase('batchNormInference', 'NHWC', [3, 5, 7, 4]),
  channelCase('instanceNorm', 'NCHW', [2, 3, 5, 7]),
  channelCase('instanceNorm', 'NHWC', [2, 5, 7, 3]),
  channelCase('instanceNorm', 'NHWC', [2, 3, 24]),
  channelCase('groupNorm', 'NCHW', [2, 6, 5, 7], 3),
  channelCase('groupNorm', 'NHWC', [2, 5, 7, 6], 2),
  channelCase('groupNorm', 'NCHW', [2, 32, 3], 8),
  channelCase('adaIN', 'NCHW', [2, 3, 5, 7], 1, [2, 3, 4, 6]),
  channelCase('adaIN', 'NHWC', [2, 5, 7, 3], 1, [1, 4, 6, 3]),
];

/** Compares every output of `c.run` on normkit against the reference; returns problems (empty when fine). */
function diff(c: OpCase, x: Float32Array, o: RunOptions = {}, label = ''): string[] {
  const got = c.run(nk, x.slice(), o.out ? { ...o, out: o.out } : o);
  const want = c.run(refOps, x.slice(), { ...o, out: undefined });
  const problems: string[] = [];
  want.forEach((w, k) => {
    const r = compare(got[k], w);
    if (!r.ok) problems.push(describeComparison(r, `${c.name} ${label} output ${k}`));
  });
  return problems;
}

beforeAll(async () => {
  await ready();
});

describe.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
  const rng = makeRng(0x0ff5e7 + c.size);

  it('x = offset + N(0, 1) for offsets up to 1e6 standard deviations', () => {
    const problems: string[] = [];
    for (const [offset, scale] of [
      [1e4, 1],
      [-1e4, 1],
      [1e5, 1],
      [1e6, 1],
      [-1e6, 1],
      [1e3, 1e-3],
      [1, 1e-6],
    ]) {
      const x = randn(rng, c.size, offset, scale);
      const style = c.styleSize ? randn(rng, c.styleSize, offset, scale) : undefined;
      problems.push(...diff(c, x, { offset, scale, style }, `offset ${offset} scale ${scale}`));
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });

  if (c.centered) it('constant groups give exactly the bias (0 without bias), also with eps = 0', () => {
    const values = [0, 1, -3.75, 1e6 + 0.5, Math.fround(123.456), Math.fround(1e-20), Math.fround(-2.5e30), 7];
    const x = Float32Array.from({ length: c.size }, (_, i) => values[c.groupOf(i) % values.length]);
    // adaIN: a constant style makes the "bias" (the style mean) exact.
    const style = c.styleSize ? new Float32Array(c.styleSize).fill(7.25) : undefined;
    const problems: string[] = [];
    for (const eps of [1e-5, 0]) {
      for (const affine of [true, false]) {
        const y = c.run(nk, x.slice(), { eps, affine, style })[0];
        const expected = c.run(refOps, x.slice(), { eps, affine, style })[0];
        for (let i = 0; i < c.size; i++) {
          const ok = affine || style ? Object.is(y[i], expected[i]) : y[i] === 0;
          if (!ok) {
            problems.push(`eps ${eps} affine ${affine}: [${i}] (x = ${x[i]}) gave ${y[i]}, expected exactly ${expected[i]}`);
            break;
          }
        }
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });

  if (c.centered) it('constant groups beside ordinary ones: exact bias there, reference elsewhere', () => {
    const x = randn(rng, c.size, 2, 3);
    for (let i = 0; i < c.size; i++) if (c.groupOf(i) % 2 === 0) x[i] = 1e4 + c.groupOf(i);
    // adaIN's "bias" is the style mean: exact only for a constant style.
    const style = c.styleSize ? new Float32Array(c.styleSize).fill(-0.75) : undefined;
    const got = c.run(nk, x.slice(), { style });
    const want = c.run(refOps, x.slice(), { style });
    const exact: string[] = [];
    for (let i = 0; i < c.size; i++)
      if (c.groupOf(i) % 2 === 0 && !Object.is(got[0][i], want[0][i])) exact.push(`[${i}] ${got[0][i]} != ${want[0][i]}`);
    expect(exact.slice(0, 5), 'constant groups not exactly the bias').toEqual([]);
    const problems = want.map((w, k) => compare(got[k], w)).filter((r) => !r.ok).map((r) => describeComparison(r));
    expect(problems, problems.join('\n')).toEqual([]);
  });

  for (const [label, poison] of [
    ['NaN', [NaN]],
    ['+Inf', [Infinity]],
    ['-Inf', [-Infinity]],
    ['+Inf and -Inf in one group', [Infinity, -Infinity]],
  ] as const) {
    it(`${label} stays inside its own group`, () => {
      const x = randn(rng, c.size);
      const target = c.groups > 2 ? 1 : 0; // a middle group when there are several
      const members = Array.from({ length: c.size }, (_, i) => i).filter((i) => c.groupOf(i) === target);
      poison.forEach((v, k) => (x[members[Math.min(k * 2, members.length - 1)]] = v));
      const got = c.run(nk, x.slice());
      const want = c.run(refOps, x.slice());
      // The reference's NaN pattern is the group; compare() demands NaN exactly there.
      const nanCount = Array.from(want[0]).filter(Number.isNaN).length;
      if (c.hasStats && c.groups > 1) expect(nanCount).toBe(members.length);
      const problems = want
        .map((w, k) => describeComparison(compare(got[k], w), `output ${k}`))
        .filter((_, k) => !compare(got[k], want[k]).ok);
      expect(problems, problems.join('\n')).toEqual([]);
    });
  }

  if (c.styleSize !== undefined) it('NaN in a style plane poisons only the matching content planes', () => {
    const x = randn(rng, c.size);
    const style = randn(rng, c.styleSize!);
    style[5] = NaN;
    const got = c.run(nk, x.slice(), { style });
    const want = c.run(refOps, x.slice(), { style });
    const nanCount = Array.from(want[0]).filter(Number.isNaN).length;
    expect(nanCount).toBeGreaterThan(0);
    expect(nanCount).toBeLessThan(c.size);
    const r = compare(got[0], want[0]);
    expect(r.ok, describeComparison(r)).toBe(true);
  });

  if (c.hasStats) it('huge (~1e20) and tiny (~1e-20) magnitudes give finite, correct results', () => {
    const problems: string[] = [];
    for (const [offset, scale] of [
      [0, 1e20],
      [3e20, 1e19],
      [-1e25, 1e22],
      [0, 1e-20],
      [1e-19, 1e-20],
    ]) {
      for (const eps of [1e-5, 0]) {
        const x = randn(rng, c.size, offset, scale);
        const style = c.styleSize ? randn(rng, c.styleSize, offset, scale) : undefined;
        // Running variances of ~1e40 cannot be stored in float32: compare y only for batchNorm.
        const o = { eps, style, running: false };
        const y = c.run(nk, x.slice(), o)[0];
        const bad = Array.from(y).findIndex((v) => !Number.isFinite(v));
        if (bad >= 0) problems.push(`offset ${offset} scale ${scale} eps ${eps}: non-finite ${y[bad]} at [${bad}]`);
        else problems.push(...diff(c, x, o, `offset ${offset} scale ${scale} eps ${eps}`));
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('in place (out === x)', () => {
    const x = randn(rng, c.size, 1, 2);
    const original = x.slice();
    const got = c.run(nk, x, { out: x });
    expect(got[0]).toBe(x);
    const want = c.run(refOps, original.slice());
    const r = compare(x, want[0]);
    expect(r.ok, describeComparison(r)).toBe(true);
  });

  it('writes into a provided out and leaves every input untouched', () => {
    const x = randn(rng, c.size, -1, 2);
    const keep = x.slice();
    const out = new Float32Array(c.size).fill(42);
    const got = c.run(nk, x, { out });
    expect(got[0]).toBe(out);
    expect(sameFloat32(x, keep), 'x modified').toBe(true);
    const want = c.run(refOps, keep.slice());
    const r = compare(out, want[0]);
    expect(r.ok, describeComparison(r)).toBe(true);
    // Without out: a fresh array, x untouched.
    const fresh = c.run(nk, x)[0];
    expect(fresh).not.toBe(x);
    expect(fresh).toBeInstanceOf(Float32Array);
    expect(sameFloat32(x, keep), 'x modified').toBe(true);
    expect(sameFloat32(fresh, out), 'copy and out modes differ').toBe(true);
  });
});

describe('weights, bias, residual, style and running statistics are not modified', () => {
  it('layerNorm / rmsNorm with residual and sumOut', () => {
    const rng = makeRng(11);
    const x = randn(rng, 3 * 37);
    const residual = randn(rng, x.length);
    const weight = randn(rng, 37);
    const bias = randn(rng, 37);
    const copies = [x, residual, weight, bias].map((a) => a.slice());
    const sumOut = new Float32Array(x.length);
    const mean = new Float32Array(3);
    const invStd = new Float32Array(3);
    const y = layerNorm(x, [3, 37], { weight, bias, residual, sumOut, mean, invStd });
    [x, residual, weight, bias].forEach((a, k) => expect(sameFloat32(a, copies[k]), `input ${k} modified`).toBe(true));
    for (let i = 0; i < x.length; i++) expect(sumOut[i]).toBe(Math.fround(x[i] + residual[i]));
    const want = refOps.layerNorm(x, [3, 37], { weight, bias, residual, mean: new Float32Array(3), invStd: new Float32Array(3) });
    expect(compare(y, want).ok).toBe(true);
    const sumOut2 = new Float32Array(x.length);
    const y2 = rmsNorm(x, [3, 37], { weight, residual, sumOut: sumOut2 });
    expect(sameFloat32(sumOut2, sumOut)).toBe(true);
    [x, residual, weight].forEach((a, k) => expect(sameFloat32(a, copies[k]), `input ${k} modified`).toBe(true));
    const r = compare(y2, refOps.rmsNorm(x, [3, 37], { weight, residual }));
    expect(r.ok, describeComparison(r)).toBe(true);
  });

  it('batchNorm inference leaves running statistics alone; adaIN leaves the style alone', () => {
    const rng = makeRng(12);
    const x = randn(rng, 2 * 3 * 5);
    const rm = randn(rng, 3);
    const rv = randu(rng, 3, 0.5, 2);
    const keep = [rm.slice(), rv.slice()];
    batchNorm(x, [2, 3, 5], { runningMean: rm, runningVar: rv });
    expect(sameFloat32(rm, keep[0]) && sameFloat32(rv, keep[1])).toBe(true);
    const style = randn(rng, 3 * 4);
    const styleKeep = style.slice();
    adaIN(x, [2, 3, 5], style, [1, 3, 4]);
    expect(sameFloat32(style, styleKeep)).toBe(true);
  });
});

describe('zero-size tensors return empty output', () => {
  const empty = new Float32Array(0);
  it.each([
    ['layerNorm [0, 8]', () => layerNorm(empty, [0, 8])],
    ['layerNorm [0, 3, 4] axis 1 with weight', () => layerNorm(empty, [0, 3, 4], { axis: 1, weight: new Float32Array(12) })],
    ['layerNorm [4, 0]', () => layerNorm(empty, [4, 0])],
    ['rmsNorm [0, 8]', () => rmsNorm(empty, [0, 8])],
    ['rmsNorm [2, 0, 3]', () => rmsNorm(empty, [2, 0, 3])],
    [
      'batchNorm inference [0, 3, 4]',
      () => batchNorm(empty, [0, 3, 4], { runningMean: new Float32Array(3), runningVar: new Float32Array(3).fill(1) }),
    ],
    ['instanceNorm [0, 3, 4]', () => instanceNorm(empty, [0, 3, 4])],
    ['instanceNorm NHWC [2, 0, 3]', () => instanceNorm(empty, [2, 0, 3], { layout: 'NHWC' })],
    ['instanceNorm [2, 0, 3]', () => instanceNorm(empty, [2, 0, 3])],
    ['groupNorm [0, 4, 5] G 2', () => groupNorm(empty, [0, 4, 5], 2)],
    ['groupNorm [2, 4, 0] G 2', () => groupNorm(empty, [2, 4, 0], 2)],
    ['adaIN [0, 3, 4] style [1, 3, 5]', () => adaIN(empty, [0, 3, 4], new Float32Array(15), [1, 3, 5])],
  ] as const)('%s', (_label, call) => {
    const y = call();
    expect(y).toBeInstanceOf(Float32Array);
    expect(y.length).toBe(0);
  });
});

describe('zero-copy Tensors', () => {
  type T = ReturnType<typeof tensor>;
  interface ZeroCopyCase {
    name: string;
    /** Copy mode: every output as plain arrays. */
    copy(): Float32Array[];
    /** Zero-copy mode with the given tensors; returns the op's return value. */
    zero(t: Record<string, T>): Float32Array;
    /** Tensor inputs (data) and outputs (length) to allocate. */
    inputs: Record<string, Float32Array>;
    outputs: string[];
    /** Inputs the op updates in place (running statistics). */
    updated?: string[];
  }
  const rng = makeRng(99);
  const x = randn(rng, 4 * 6 * 5, 3, 2);
  const res = randn(rng, x.length);
  const w = randn(rng, 6);
  const b = randn(rng, 6);
  const w30 = randn(rng, 30);
  const b30 = randn(rng, 30);
  const rm = randn(rng, 6);
  const rv = randu(rng, 6, 0.5, 2);
  const style = randn(rng, 1 * 6 * 7, -1, 3);
  const NCHW = [4, 6, 5];

  const cases: ZeroCopyCase[] = [
    {
      name: 'layerNorm with residual, sumOut, mean, invStd',
      inputs: { x, res, w: w30, b: b30 },
      outputs: ['out', 'sum', 'mean', 'inv'],
      copy() {
        const [sum, mean, inv] = [new Float32Array(x.length), new Float32Array(4), new Float32Array(4)];
        const y = layerNorm(x, NCHW, { axis: 1, weight: w30, bias: b30, residual: res, sumOut: sum, mean, invStd: inv });
        return [y, sum, mean, inv];
      },
      zero: (t) =>
        layerNorm(t.x, NCHW, { axis: 1, weight: t.w, bias: t.b, residual: t.res, sumOut: t.sum, mean: t.mean, invStd: t.inv, out: t.out }),
    },
    {
      name: 'rmsNorm with residual and sumOut',
      inputs: { x, res, w: w30 },
      outputs: ['out', 'sum'],
      copy() {
        const sum = new Float32Array(x.length);
        return [rmsNorm(x, NCHW, { axis: -2, weight: w30, residual: res, sumOut: sum }), sum];
      },
      zero: (t) => rmsNorm(t.x, NCHW, { axis: -2, weight: t.w, residual: t.res, sumOut: t.sum, out: t.out }),
    },
    {
      name: 'batchNorm training with running statistics',
      inputs: { x, w, b, rm, rv },
      outputs: ['out'],
      updated: ['rm', 'rv'],
      copy() {
        const [m, v] = [rm.slice(), rv.slice()];
        return [batchNorm(x, NCHW, { weight: w, bias: b, runningMean: m, runningVar: v, training: true }), m, v];
      },
      zero: (t) => batchNorm(t.x, NCHW, { weight: t.w, bias: t.b, runningMean: t.rm, runningVar: t.rv, training: true, out: t.out }),
    },
    {
      name: 'batchNorm inference NHWC',
      inputs: { x, w, b, rm, rv },
      outputs: ['out'],
      copy: () => [batchNorm(x, [4, 5, 6], { layout: 'NHWC', weight: w, bias: b, runningMean: rm, runningVar: rv })],
      zero: (t) =>
        batchNorm(t.x, [4, 5, 6], { layout: 'NHWC', weight: t.w, bias: t.b, runningMean: t.rm, runningVar: t.rv, out: t.out }),
    },
    {
      name: 'instanceNorm',
      inputs: { x, w, b },
      outputs: ['out'],
      copy: () => [instanceNorm(x, NCHW, { weight: w, bias: b })],
      zero: (t) => instanceNorm(t.x, NCHW, { weight: t.w, bias: t.b, out: t.out }),
    },
    {
      name: 'groupNorm NHWC',
      inputs: { x, w, b },
      outputs: ['out'],
      copy: () => [groupNorm(x, [4, 5, 6], 3, { layout: 'NHWC', weight: w, bias: b })],
      zero: (t) => groupNorm(t.x, [4, 5, 6], 3, { layout: 'NHWC', weight: t.w, bias: t.b, out: t.out }),
    },
    {
      name: 'adaIN with batch-1 style',
      inputs: { x, style },
      outputs: ['out'],
      copy: () => [adaIN(x, NCHW, style, [1, 6, 7])],
      zero: (t) => adaIN(t.x, NCHW, t.style, [1, 6, 7], { out: t.out }),
    },
  ];

  const lengths: Record<string, number> = { out: x.length, sum: x.length, mean: 4, inv: 4 };

  it(`${cases.length} ops: identical to copy mode, and still right after memory grows`, () => {
    const all = cases.map((c) => {
      const t: Record<string, T> = {};
      for (const [k, v] of Object.entries(c.inputs)) t[k] = tensor(v);
      for (const k of c.outputs) t[k] = tensor(lengths[k]);
      // copy() returns y, the other outputs, then the inputs updated in place.
      return { c, t, expected: c.copy(), names: [...c.outputs, ...(c.updated ?? [])] };
    });
    const big: T[] = [];
    const reset = () =>
      all.forEach(({ c, t }) => {
        for (const k of c.updated ?? []) t[k].array.set(c.inputs[k]);
        for (const k of c.outputs) t[k].array.fill(0);
      });
    const check = (when: string) =>
      all.forEach(({ c, t, expected, names }) =>
        names.forEach((k, j) => expect(sameFloat32(t[k].array, expected[j]), `${c.name}: ${k} ${when}`).toBe(true)),
      );
    try {
      for (const { c, t, expected } of all) {
        const returned = c.zero(t);
        expect(returned, c.name).toBeInstanceOf(Float32Array);
        expect(sameFloat32(returned, expected[0]), `${c.name}: returned view vs copy mode`).toBe(true);
        for (const [k, v] of Object.entries(c.inputs))
          if (!c.updated?.includes(k)) expect(sameFloat32(t[k].array, v), `${c.name}: input ${k} modified`).toBe(true);
      }
      check('after the call');

      // Grow wasm memory (at least 64 MiB beyond what is free), then re-read every view.
      const stats = memoryStats();
      const bytes = Math.max(64 << 20, stats.memoryBytes - stats.allocatedBytes + (1 << 20));
      big.push(tensor(bytes / 4));
      expect(memoryStats().memoryBytes).toBeGreaterThan(stats.memoryBytes);
      check('after memory growth');

      // Call again after the growth with the same tensors.
      reset();
      for (const { c, t, expected } of all) expect(sameFloat32(c.zero(t), expected[0]), `${c.name} after growth`).toBe(true);
      check('on a call after growth');
    } finally {
      for (const v of [...all.flatMap(({ t }) => Object.values(t)), ...big]) v.free();
    }
  });

  it('Tensor inputs may be mixed with plain arrays, and out may be a plain array', () => {
    const tx = tensor(x);
    const tw = tensor(w);
    try {
      const out = new Float32Array(x.length);
      const y = instanceNorm(tx, NCHW, { weight: tw, bias: b, out });
      expect(y).toBe(out);
      expect(sameFloat32(out, instanceNorm(x, NCHW, { weight: w, bias: b }))).toBe(true);
    } finally {
      tx.free();
      tw.free();
    }
  });

  it('a tensor allocated before a memory growth is written and read through fresh views', () => {
    const t = tensor(8);
    const big = tensor(16 * 1024 * 1024);
    try {
      t.array.set([1, 2, 3, 4, 5, 6, 7, 8]);
      const y = rmsNorm(t, [2, 4], { eps: 0 });
      const want = refOps.rmsNorm(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), [2, 4], { eps: 0 });
      const r = compare(y, want);
      expect(r.ok, describeComparison(r)).toBe(true);
      expect(t.length).toBe(8);
    } finally {
      big.free();
      t.free();
    }
  });
});
