// Issue 16, defect 5: a group's bits depend only on its values and the op's parameters, not on the channel
// count, its position (group, channel and sample index), the layout's stride, the copy-mode pass split
// (plain arrays in 512 KiB passes, Tensors in one) or the tensor's size. Each test computes one group alone
// and embedded among other groups, and demands identical bits, for instanceNorm, groupNorm, batchNorm
// training (with its running statistics), adaIN (content and style planes, per-sample and broadcast style),
// layerNorm (with mean and invStd) and rmsNorm. Also channels-last accuracy: two-level data (17.67 and 38.53
// in a 44/56 pattern) within a few 1e-6 of float64 in NHWC, as in NCHW.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { adaIN, batchNorm, groupNorm, instanceNorm, layerNorm, ready, rmsNorm, tensor, type Tensor } from '../../src/index.js';
import { refBatchNorm, refGroupNorm, refInstanceNorm, type Layout } from '../../src/reference.js';
import { makeRng } from '../support/rng.js';
import { checkClose, diffBits } from './harness.js';

beforeAll(ready);

const rng = makeRng(0x10ca1);
const LAYOUTS: Layout[] = ['NCHW', 'NHWC'];
const shapeOf = (layout: Layout, N: number, C: number, HW: number) => (layout === 'NCHW' ? [N, C, HW] : [N, HW, C]);
const indexer = (layout: Layout, C: number, HW: number) => (n: number, c: number, s: number) =>
  layout === 'NCHW' ? (n * C + c) * HW + s : (n * HW + s) * C + c;
const noise = (length: number, offset = 0.5, scale = 3) => Float32Array.from({ length }, () => offset + scale * rng.normal());

/** Compares the group's bits alone and embedded; returns a message when they differ. */
function same(embedded: Float32Array, alone: Float32Array, label: string): string | undefined {
  const d = diffBits(embedded, alone);
  return d.count ? `${label}: ${d.count} of ${alone.length} values differ in bits from the group alone (first [${d.first}]: ${embedded[d.first]} vs ${alone[d.first]})` : undefined;
}

const live: Tensor[] = [];
const T = (a: Float32Array | number): Tensor => {
  const t = tensor(a);
  live.push(t);
  return t;
};
afterEach(() => {
  for (const t of live.splice(0)) t.free();
});

const CHANNELS = Array.from({ length: 40 }, (_, i) => i + 1);

describe('instanceNorm: one (sample, channel) alone and among other channels and samples', () => {
  for (const layout of LAYOUTS) {
    it(`${layout}: C from 1 to 40, at varying channel and sample positions (HW 300 and 1031)`, () => {
      const problems: string[] = [];
      for (const HW of [300, 1031]) {
        for (const C of HW === 300 ? CHANNELS : [1, 3, 4, 16, 17, 33, 40]) {
          const N = 2, n = C % 2, k = (C * 7 + 3) % C;
          const col = noise(HW);
          const w = rng.uniform(0.5, 2), b = rng.uniform(-1, 1);
          const alone = instanceNorm(col, shapeOf(layout, 1, 1, HW), { layout, weight: new Float32Array([w]), bias: new Float32Array([b]) });
          const X = noise(N * C * HW, -1, 2);
          const at = indexer(layout, C, HW);
          for (let s = 0; s < HW; s++) X[at(n, k, s)] = col[s];
          const weight = noise(C, 1, 0.3), bias = noise(C, 0, 1);
          weight[k] = w;
          bias[k] = b;
          const y = instanceNorm(X, shapeOf(layout, N, C, HW), { layout, weight, bias });
          const m = same(Float32Array.from({ length: HW }, (_, s) => y[at(n, k, s)]), alone, `HW ${HW}, C ${C}, channel ${k}, sample ${n}`);
          if (m) problems.push(m);
        }
      }
      expect(problems, problems.join('\n')).toEqual([]);
    });
  }
});

describe('groupNorm: one (sample, group) alone and among other groups', () => {
  for (const layout of LAYOUTS) {
    it(`${layout}: 1 to 8 channels a group, 1 to 7 groups, last group of the last sample`, () => {
      const problems: string[] = [];
      const HW = 257, N = 2;
      for (const cpg of [1, 2, 3, 5, 8]) {
        for (const G of [1, 2, 3, 4, 7]) {
          const C = cpg * G, g = G - 1 - (G > 2 ? 1 : 0), n = N - 1;
          const block = noise(cpg * HW); // the group's values, laid out as [1, cpg, HW] or [1, HW, cpg]
          const wg = noise(cpg, 1, 0.3), bg = noise(cpg, 0, 1);
          const alone = groupNorm(block, shapeOf(layout, 1, cpg, HW), 1, { layout, weight: wg, bias: bg });
          const X = noise(N * C * HW, 2, 1);
          const at = indexer(layout, C, HW), atAlone = indexer(layout, cpg, HW);
          for (let c = 0; c < cpg; c++) for (let s = 0; s < HW; s++) X[at(n, g * cpg + c, s)] = block[atAlone(0, c, s)];
          const weight = noise(C, 1, 0.3), bias = noise(C, 0, 1);
          weight.set(wg, g * cpg);
          bias.set(bg, g * cpg);
          const y = groupNorm(X, shapeOf(layout, N, C, HW), G, { layout, weight, bias });
          const got = new Float32Array(cpg * HW);
          for (let c = 0; c < cpg; c++) for (let s = 0; s < HW; s++) got[atAlone(0, c, s)] = y[at(n, g * cpg + c, s)];
          const m = same(got, alone, `${cpg} channels a group, group ${g} of ${G}, sample ${n}`);
          if (m) problems.push(m);
        }
      }
      expect(problems, problems.join('\n')).toEqual([]);
    });
  }
});

describe('batchNorm training: one channel alone and among other channels', () => {
  for (const layout of LAYOUTS) {
    it(`${layout}: C from 1 to 40 (y, runningMean and runningVar)`, () => {
      const problems: string[] = [];
      const N = 3, HW = 101;
      for (const C of CHANNELS) {
        const k = (C * 5 + 1) % C;
        const col = noise(N * HW); // the channel's values, sample after sample
        const w = rng.uniform(0.5, 2), b = rng.uniform(-1, 1), rm = rng.uniform(-1, 1), rv = rng.uniform(0.5, 2);
        const aloneStats = { runningMean: new Float32Array([rm]), runningVar: new Float32Array([rv]) };
        const alone = batchNorm(col, shapeOf(layout, N, 1, HW), {
          layout, training: true, weight: new Float32Array([w]), bias: new Float32Array([b]), ...aloneStats,
        });
        const X = noise(N * C * HW, -2, 0.5);
        const at = indexer(layout, C, HW);
        for (let n = 0; n < N; n++) for (let s = 0; s < HW; s++) X[at(n, k, s)] = col[n * HW + s];
        const weight = noise(C, 1, 0.3), bias = noise(C), runningMean = noise(C, 0, 1), runningVar = noise(C, 2, 0.1);
        weight[k] = w;
        bias[k] = b;
        runningMean[k] = rm;
        runningVar[k] = rv;
        const y = batchNorm(X, shapeOf(layout, N, C, HW), { layout, training: true, weight, bias, runningMean, runningVar });
        const got = new Float32Array(N * HW);
        for (let n = 0; n < N; n++) for (let s = 0; s < HW; s++) got[n * HW + s] = y[at(n, k, s)];
        for (const m of [
          same(got, alone, `C ${C}, channel ${k}: y`),
          same(runningMean.subarray(k, k + 1), aloneStats.runningMean, `C ${C}, channel ${k}: runningMean`),
          same(runningVar.subarray(k, k + 1), aloneStats.runningVar, `C ${C}, channel ${k}: runningVar`),
        ]) if (m) problems.push(m);
      }
      expect(problems, problems.join('\n')).toEqual([]);
    });
  }
});

describe('adaIN: one content plane and its style plane alone and among other channels and samples', () => {
  for (const layout of LAYOUTS) {
    it(`${layout}: C in 1, 3, 16, 17, 40, per-sample and broadcast style`, () => {
      const problems: string[] = [];
      const HW = 211, SHW = 53, N = 3;
      for (const C of [1, 3, 16, 17, 40]) {
        for (const styleN of [N, 1]) {
          const n = N - 1, k = C > 2 ? C - 2 : 0;
          const plane = noise(HW), stylePlane = noise(SHW, 4, 2);
          const alone = adaIN(plane, shapeOf(layout, 1, 1, HW), stylePlane, shapeOf(layout, 1, 1, SHW), { layout });
          const X = noise(N * C * HW), S = noise(styleN * C * SHW, -3, 1);
          const at = indexer(layout, C, HW), sat = indexer(layout, C, SHW);
          for (let s = 0; s < HW; s++) X[at(n, k, s)] = plane[s];
          for (let s = 0; s < SHW; s++) S[sat(styleN === 1 ? 0 : n, k, s)] = stylePlane[s];
          const y = adaIN(X, shapeOf(layout, N, C, HW), S, shapeOf(layout, styleN, C, SHW), { layout });
          const m = same(Float32Array.from({ length: HW }, (_, s) => y[at(n, k, s)]), alone, `C ${C}, channel ${k}, sample ${n}, style batch ${styleN}`);
          if (m) problems.push(m);
        }
      }
      expect(problems, problems.join('\n')).toEqual([]);
    });
  }
});

describe('layerNorm and rmsNorm: one row alone and among other rows', () => {
  it('row lengths 1 to 4099 at the first and last row (y, mean, invStd)', () => {
    const problems: string[] = [];
    for (const n of [1, 3, 4, 15, 16, 17, 63, 64, 65, 255, 256, 257, 1023, 1024, 1025, 4099]) {
      const R = 5;
      for (const r of [0, R - 1]) {
        const row = noise(n, 3, 2), weight = noise(n, 1, 0.3), bias = noise(n);
        const mean1 = new Float32Array(1), inv1 = new Float32Array(1);
        const alone = layerNorm(row, [1, n], { weight, bias, mean: mean1, invStd: inv1 });
        const aloneRms = rmsNorm(row, [1, n], { weight });
        const X = noise(R * n, -1, 4);
        X.set(row, r * n);
        const mean = new Float32Array(R), invStd = new Float32Array(R);
        const y = layerNorm(X, [R, n], { weight, bias, mean, invStd });
        const yRms = rmsNorm(X, [R, n], { weight });
        for (const m of [
          same(y.subarray(r * n, (r + 1) * n), alone, `layerNorm n ${n}, row ${r}`),
          same(mean.subarray(r, r + 1), mean1, `layerNorm n ${n}, row ${r}: mean`),
          same(invStd.subarray(r, r + 1), inv1, `layerNorm n ${n}, row ${r}: invStd`),
          same(yRms.subarray(r * n, (r + 1) * n), aloneRms, `rmsNorm n ${n}, row ${r}`),
        ]) if (m) problems.push(m);
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });
});

describe('copy-mode pass splits: large tensors (plain arrays in 512 KiB passes, Tensors in one) against the group alone', () => {
  it('layerNorm and rmsNorm [400, 1031]: rows in the first, second and last pass, plain and Tensor', () => {
    const problems: string[] = [];
    const R = 400, n = 1031;
    const X = noise(R * n, 2, 3), weight = noise(n, 1, 0.3), bias = noise(n);
    const plain = layerNorm(X, [R, n], { weight, bias });
    const plainRms = rmsNorm(X, [R, n], { weight });
    const zero = layerNorm(T(X), [R, n], { weight: T(weight), bias: T(bias), out: T(R * n) }).slice();
    const zeroRms = rmsNorm(T(X), [R, n], { weight: T(weight), out: T(R * n) }).slice();
    for (const r of [0, 126, 127, 128, 254, 255, 399]) {
      const row = X.subarray(r * n, (r + 1) * n);
      const alone = layerNorm(row, [1, n], { weight, bias });
      const aloneRms = rmsNorm(row, [1, n], { weight });
      for (const m of [
        same(plain.subarray(r * n, (r + 1) * n), alone, `layerNorm plain, row ${r}`),
        same(zero.subarray(r * n, (r + 1) * n), alone, `layerNorm Tensor, row ${r}`),
        same(plainRms.subarray(r * n, (r + 1) * n), aloneRms, `rmsNorm plain, row ${r}`),
        same(zeroRms.subarray(r * n, (r + 1) * n), aloneRms, `rmsNorm Tensor, row ${r}`),
      ]) if (m) problems.push(m);
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });

  for (const layout of LAYOUTS) {
    it(`instanceNorm, groupNorm and adaIN ${layout} with samples of 150,000 values: the last group, plain and Tensor`, () => {
      const problems: string[] = [];
      const N = 3, C = 6, HW = 25000, G = 3, cpg = C / G, SHW = 999;
      const shape = shapeOf(layout, N, C, HW);
      const X = noise(N * C * HW), weight = noise(C, 1, 0.3), bias = noise(C);
      const at = indexer(layout, C, HW), atG = indexer(layout, cpg, HW);
      const n = N - 1, k = C - 1, g = G - 1;
      // instanceNorm: channel k of sample n.
      const plane = Float32Array.from({ length: HW }, (_, s) => X[at(n, k, s)]);
      const aloneIN = instanceNorm(plane, shapeOf(layout, 1, 1, HW), { layout, weight: weight.subarray(k, k + 1), bias: bias.subarray(k, k + 1) });
      // groupNorm: group g of sample n.
      const block = new Float32Array(cpg * HW);
      for (let c = 0; c < cpg; c++) for (let s = 0; s < HW; s++) block[atG(0, c, s)] = X[at(n, g * cpg + c, s)];
      const aloneGN = groupNorm(block, shapeOf(layout, 1, cpg, HW), 1, { layout, weight: weight.subarray(g * cpg, (g + 1) * cpg), bias: bias.subarray(g * cpg, (g + 1) * cpg) });
      // adaIN: plane k of sample n with its style plane.
      const S = noise(N * C * SHW, 3, 2), sat = indexer(layout, C, SHW);
      const stylePlane = Float32Array.from({ length: SHW }, (_, s) => S[sat(n, k, s)]);
      const aloneAda = adaIN(plane, shapeOf(layout, 1, 1, HW), stylePlane, shapeOf(layout, 1, 1, SHW), { layout });
      const pickPlane = (y: Float32Array) => Float32Array.from({ length: HW }, (_, s) => y[at(n, k, s)]);
      const pickBlock = (y: Float32Array) => {
        const b = new Float32Array(cpg * HW);
        for (let c = 0; c < cpg; c++) for (let s = 0; s < HW; s++) b[atG(0, c, s)] = y[at(n, g * cpg + c, s)];
        return b;
      };
      for (const mode of ['plain', 'Tensor'] as const) {
        const x = mode === 'plain' ? X : T(X);
        const o = (extra: object) => (mode === 'plain' ? { layout, ...extra } : { layout, ...extra, out: T(X.length) });
        const wb = mode === 'plain' ? { weight, bias } : { weight: T(weight), bias: T(bias) };
        for (const m of [
          same(pickPlane(instanceNorm(x, shape, o(wb))), aloneIN, `instanceNorm ${mode}`),
          same(pickBlock(groupNorm(x, shape, G, o(wb))), aloneGN, `groupNorm ${mode}`),
          same(pickPlane(adaIN(x, shape, mode === 'plain' ? S : T(S), shapeOf(layout, N, C, SHW), o({}))), aloneAda, `adaIN ${mode}`),
        ]) if (m) problems.push(m);
      }
      expect(problems, problems.join('\n')).toEqual([]);
    });

    it(`batchNorm training ${layout}: a channel of 160,000 values alone and as channel 2 of 3 (480,000), plain and Tensor`, () => {
      const problems: string[] = [];
      const N = 4, HW = 40000, C = 3, k = 2;
      const X = noise(N * C * HW, 1, 2);
      const at = indexer(layout, C, HW);
      const col = new Float32Array(N * HW);
      for (let n = 0; n < N; n++) for (let s = 0; s < HW; s++) col[n * HW + s] = X[at(n, k, s)];
      const weight = noise(C, 1, 0.3), bias = noise(C), rm = noise(C), rv = noise(C, 2, 0.1);
      const stats1 = { runningMean: rm.slice(k, k + 1), runningVar: rv.slice(k, k + 1) };
      const alone = batchNorm(col, shapeOf(layout, N, 1, HW), { layout, training: true, weight: weight.subarray(k, k + 1), bias: bias.subarray(k, k + 1), ...stats1 });
      const stats1T = { runningMean: T(rm.slice(k, k + 1)), runningVar: T(rv.slice(k, k + 1)) };
      const aloneT = batchNorm(T(col), shapeOf(layout, N, 1, HW), { layout, training: true, weight: T(weight.slice(k, k + 1)), bias: T(bias.slice(k, k + 1)), ...stats1T, out: T(col.length) });
      const pick = (y: Float32Array) => {
        const out = new Float32Array(N * HW);
        for (let n = 0; n < N; n++) for (let s = 0; s < HW; s++) out[n * HW + s] = y[at(n, k, s)];
        return out;
      };
      const m0 = same(aloneT, alone, 'the channel alone, Tensor vs plain');
      if (m0) problems.push(m0);
      for (const mode of ['plain', 'Tensor'] as const) {
        const runningMean = rm.slice(), runningVar = rv.slice();
        const y = mode === 'plain'
          ? batchNorm(X, shapeOf(layout, N, C, HW), { layout, training: true, weight, bias, runningMean, runningVar })
          : (() => {
            const tm = T(runningMean), tv = T(runningVar);
            const r = batchNorm(T(X), shapeOf(layout, N, C, HW), { layout, training: true, weight: T(weight), bias: T(bias), runningMean: tm, runningVar: tv, out: T(X.length) }).slice();
            runningMean.set(tm.array);
            runningVar.set(tv.array);
            return r;
          })();
        for (const m of [
          same(pick(y), alone, `${mode}: y`),
          same(runningMean.subarray(k, k + 1), stats1.runningMean, `${mode}: runningMean`),
          same(runningVar.subarray(k, k + 1), stats1.runningVar, `${mode}: runningVar`),
        ]) if (m) problems.push(m);
      }
      expect(problems, problems.join('\n')).toEqual([]);
    });
  }
});

describe('channels-last accuracy equals channels-first: two-level data within a few 1e-6 of float64', () => {
  /** 17.67 and 38.53 in a 44/56 pattern, the data. */
  const twoLevel = (length: number) => Float32Array.from({ length }, (_, i) => (i % 100 < 44 ? 17.67 : 38.53));
  const BOUND = 5e-6;

  it('the issue\'s case: instanceNorm NHWC [1, 256, 4] (the issue measured 5.4e-5; NCHW gives 1.7e-6)', () => {
    const x = twoLevel(1024);
    const m = checkClose(instanceNorm(x, [1, 256, 4], { layout: 'NHWC' }), refInstanceNorm(x, [1, 256, 4], { layout: 'NHWC' }), 'NHWC [1, 256, 4]', BOUND);
    expect(m, m).toBeUndefined();
  });

  for (const layout of LAYOUTS) {
    it(`${layout}: instanceNorm, groupNorm and batchNorm training, C in 1, 2, 4, 7, 16, 17, 40, spatial 256 and 4099`, () => {
      const problems: string[] = [];
      for (const HW of [256, 4099]) {
        for (const C of [1, 2, 4, 7, 16, 17, 40]) {
          const shape = shapeOf(layout, 2, C, HW);
          const x = twoLevel(2 * C * HW);
          const G = C % 2 === 0 ? 2 : 1;
          for (const m of [
            checkClose(instanceNorm(x, shape, { layout }), refInstanceNorm(x, shape, { layout }), `instanceNorm HW ${HW} C ${C}`, BOUND),
            checkClose(groupNorm(x, shape, G, { layout }), refGroupNorm(x, shape, G, { layout }), `groupNorm G ${G} HW ${HW} C ${C}`, BOUND),
            checkClose(batchNorm(x, shape, { layout, training: true }), refBatchNorm(x, shape, { layout, training: true }).y, `batchNorm training HW ${HW} C ${C}`, BOUND),
          ]) if (m) problems.push(m);
        }
      }
      expect(problems, problems.join('\n')).toEqual([]);
    });
  }
});
