// Issue 16, defects 3 and 4: the whole float32 range. For every op, data from subnormal (1e-45..1e-38)
// through tiny (1e-30, 1e-25, 1e-20) and ordinary to near the float32 maximum (1e20, 1e30, 1e38..3.4e38),
// in three patterns (centred noise, a large offset with a small spread, and one far outlier of the other
// sign, which makes x - mean overflow float32 near the maximum), with eps = 0, tiny (1e-50, 1e-30) and the
// default 1e-5, against the float64 reference (src/reference.ts): wherever the true result is finite in
// float32, the output must be finite and within 1e-5 of it, scaled by max(1, |expected|) as
// test/support/compare.ts does, with |expected| taken over the outputs that share a scale (the group). The other outputs (layerNorm's mean and invStd, batchNorm training's
// running statistics) are held to the same bound. batchNorm inference also runs with runningMean near ±2e38
// (PyTorch's folded form x * a + b stays finite there).
import { beforeAll, describe, expect, it } from 'vitest';
import { batchNorm, ready } from '../../src/index.js';
import { refOps } from '../support/ops.js';
import { makeRng, type Rng } from '../support/rng.js';
import { attempt, describeError } from './harness.js';
import { adaINCase, call, channelCase, NORMKIT, REFERENCE, rowsCase, type Case } from './table.js';

beforeAll(ready);

const F32_MAX = 3.4028234663852886e38;
const TOL = 1e-5;

const CASES: Case[] = [
  rowsCase('layerNorm', [4, 67]),
  rowsCase('layerNorm', [2, 2053]),
  rowsCase('rmsNorm', [4, 67]),
  rowsCase('rmsNorm', [3, 4, 33], 1),
  channelCase('batchNorm', 'NCHW', [3, 4, 5, 7]),
  channelCase('batchNorm', 'NHWC', [3, 5, 7, 4]),
  channelCase('batchNormTraining', 'NCHW', [3, 4, 5, 7]),
  channelCase('batchNormTraining', 'NHWC', [3, 5, 7, 4]),
  channelCase('instanceNorm', 'NCHW', [2, 3, 5, 7]),
  channelCase('instanceNorm', 'NHWC', [2, 5, 7, 3]),
  channelCase('groupNorm', 'NHWC', [2, 5, 7, 6], { numGroups: 2 }),
  channelCase('groupNorm', 'NCHW', [2, 6, 35], { numGroups: 3 }),
  adaINCase('NCHW', [2, 3, 5, 7], [2, 3, 4, 6]),
  adaINCase('NHWC', [2, 5, 7, 3], [1, 4, 6, 3]),
];

const SCALES = [1e-45, 1e-42, 1e-40, 1e-38, 1e-30, 1e-25, 1e-20, 1, 1e20, 1e30, 1e38];
const EPSES = [0, 1e-50, 1e-30, 1e-5];
type Pattern = 'centred' | 'offset' | 'outlier';
const PATTERNS: Pattern[] = ['centred', 'offset', 'outlier'];

const clampF32 = (v: number) => Math.fround(Math.max(-F32_MAX, Math.min(F32_MAX, v)));

/** Data of magnitude `s` in the given pattern; `groupOf` places one outlier per group. */
function data(rng: Rng, c: Case, length: number, s: number, pattern: Pattern): Float32Array {
  const x = new Float32Array(length);
  const seen = new Set<number>();
  for (let i = 0; i < length; i++) {
    const u = Math.max(-3, Math.min(3, rng.normal()));
    if (pattern === 'centred') x[i] = clampF32(s * u);
    else if (pattern === 'offset') x[i] = clampF32(s * (3 + 0.1 * u));
    else {
      const g = c.groupOf(i);
      x[i] = clampF32(seen.has(g) ? s * 2 * (1 + 0.01 * u) : -1.5 * s);
      seen.add(g);
    }
  }
  return x;
}

/**
 * Checks `actual` against the float64 `expected` where the true result is finite in float32: the error of
 * each element, over max(1, the largest |expected| among the outputs that share its scale (`scaleOf`: its
 * group; per channel for batchNorm inference)), must be at most 1e-5. (Scaling by the element alone would
 * demand more than float32 can hold where an output cancels, e.g. adaIN's sigma * z + mu near 0.)
 * Returns a message for the worst element, or undefined.
 */
function check(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string, scaleOf?: (i: number) => number): string | undefined {
  const inF32 = (e: number) => Number.isFinite(e) && Number.isFinite(Math.fround(e));
  const scale = new Map<number, number>();
  for (let i = 0; i < expected.length; i++) {
    const g = scaleOf ? scaleOf(i) : i;
    if (inF32(expected[i])) scale.set(g, Math.max(scale.get(g) ?? 1, Math.abs(expected[i])));
  }
  let failures = 0;
  let worst = -1;
  let worstError = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    if (!inF32(e)) continue; // the true result does not fit float32
    const a = actual[i];
    const err = Number.isFinite(a) ? Math.abs(a - e) / scale.get(scaleOf ? scaleOf(i) : i)! : Infinity;
    if (!(err <= TOL)) failures++;
    if (!(err <= worstError)) {
      worstError = err;
      worst = i;
    }
  }
  if (!failures) return undefined;
  return `${label}: ${failures} of ${expected.length} wrong; worst [${worst}]: ${actual[worst]} instead of ${expected[worst]} (scaled error ${worstError.toExponential(2)})`;
}

const rng = makeRng(0x3a9e);

/** The arguments of one call: x at magnitude s, ordinary affine, statistics and style as the op needs. */
function argsFor(c: Case, s: number, pattern: Pattern, styleScale: number): Record<string, Float32Array> {
  const a: Record<string, Float32Array> = {};
  for (const spec of c.args) {
    switch (spec.name) {
      case 'x':
        a.x = data(rng, c, spec.length, s, pattern);
        break;
      case 'weight':
        a.weight = Float32Array.from({ length: spec.length }, () => rng.uniform(0.5, 1.5) * (rng.chance(0.5) ? -1 : 1));
        break;
      case 'bias':
        a.bias = Float32Array.from({ length: spec.length }, () => rng.uniform(-2, 2));
        break;
      case 'style':
        a.style = data(rng, c, spec.length, styleScale, 'centred');
        break;
      case 'runningMean':
        // Inference: the running mean at the data's magnitude (2e38 at the top); training: ordinary.
        a.runningMean = Float32Array.from({ length: spec.length }, () =>
          spec.role === 'in' ? clampF32(s * (pattern === 'centred' ? rng.uniform(-1, 1) : 2 * (rng.chance(0.5) ? 1 : -1))) : rng.uniform(-1, 1));
        break;
      case 'runningVar':
        a.runningVar = Float32Array.from({ length: spec.length }, () => {
          if (spec.role !== 'in') return rng.uniform(0.5, 2);
          // A variance of s² does not fit float32 above ~1e19, and underflows to 0 below ~1e-23: there it is a
          // small subnormal (runningVar + eps = 0 is the README's IEEE edge case, tested in edge-cases.test.ts).
          const v = Math.fround(s * s * rng.uniform(0.5, 2));
          return !Number.isFinite(v) ? rng.uniform(1, 4) : v === 0 ? Math.fround(1e-44 * rng.uniform(0.5, 2)) : v;
        });
        break;
      case 'mean':
      case 'invStd':
      case 'out':
        a[spec.name] = new Float32Array(spec.length);
        break;
      // residual and sumOut are left out: x + residual near the maximum overflows by design.
    }
  }
  return a;
}

describe.each(CASES.map((c) => [c.name, c] as const))('%s', (_n, c) => {
  for (const eps of EPSES) {
    it(`eps = ${eps}: magnitudes 1e-45 to 3.4e38, against float64`, () => {
      const problems: string[] = [];
      for (const s of SCALES) {
        for (const pattern of PATTERNS) {
          for (const styleScale of c.op === 'adaIN' ? [s, 1] : [1]) {
            const a = argsFor(c, s, pattern, styleScale);
            const label = `x ~ ${s} (${pattern})${c.op === 'adaIN' ? `, style ~ ${styleScale}` : ''}`;
            const mine: Record<string, Float32Array> = Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v.slice()]));
            const theirs: Record<string, Float32Array> = Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v.slice()]));
            const want = call(REFERENCE, c, theirs, eps);
            const r = attempt(() => call(NORMKIT, c, mine, eps));
            if (!r.ok) {
              problems.push(`${label}: threw ${describeError(r.error)}`);
              continue;
            }
            const m = check(mine.out, want, `${label}: y`, c.scaleGroupOf);
            if (m) problems.push(m);
            for (const k of ['mean', 'invStd', 'runningMean', 'runningVar']) {
              if (!mine[k] || (k.startsWith('running') && c.op === 'batchNorm')) continue;
              const mk = check(mine[k], theirs[k], `${label}: ${k}`);
              if (mk) problems.push(mk);
            }
          }
        }
      }
      expect(problems, problems.join('\n')).toEqual([]);
    });
  }
});

describe('batchNorm inference near the float32 maximum (PyTorch\'s folded form stays finite)', () => {
  it.each([['NCHW'], ['NHWC']] as const)('%s: runningMean ±2e38, x of the other sign, runningVar 3 and 1e30', (layout) => {
    const C = 3;
    const shape = layout === 'NCHW' ? [2, C, 4] : [2, 4, C];
    const runningMean = new Float32Array([2e38, -2e38, 1.7e38]);
    const runningVar = new Float32Array([3, 3, 1e30]);
    const x = new Float32Array(24);
    for (let i = 0; i < x.length; i++) {
      const ch = layout === 'NCHW' ? Math.floor(i / 4) % C : i % C;
      x[i] = Math.fround(-runningMean[ch] * (0.5 + (i % 5) / 10));
    }
    const weight = new Float32Array([1, 0.5, -1]), bias = new Float32Array([1, -1, 3]);
    const o = { layout, runningMean, runningVar, weight, bias };
    const want = refOps.batchNorm(x, shape, o);
    const y = batchNorm(x, shape, o);
    const m = check(y, want, 'y', (i) => (layout === 'NCHW' ? Math.floor(i / 4) % C : i % C));
    expect(m, m).toBeUndefined();
  });
});
