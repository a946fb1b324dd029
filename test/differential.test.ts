// Random differential test: normkit against the float64 reference over thousands of shapes (fixed seed).
// Odd extents, ranks 2-5, both layouts, every axis, optional affine, residual/sumOut, mean/invStd,
// batch-norm inference and training (both running-stat conventions), group counts, AdaIN style batch N and 1,
// offsets and scales. Every output buffer is compared with |a - e| <= 1e-4 * max(1, |e|).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as normkit from '../src/index.js';
import type { Layout } from '../src/reference.js';
import { compare, describeComparison, ErrorTracker } from './support/compare.js';
import { refOps, type NormOps } from './support/ops.js';
import { makeRng, type Rng } from './support/rng.js';
import { randn, randShape, randu, sizeOf } from './support/tensors.js';

const SEED = 0x5eed_2024;
const nk = normkit as unknown as NormOps;
const overall = new ErrorTracker();
let shapesRun = 0;
const perOp: string[] = [];

/** Input data: offset + scale * N(0, 1), with offsets/scales ranging over several magnitudes. */
function sample(rng: Rng, length: number, scales: readonly number[] = [1, 1, 1, 0.5, 2, 1e-3, 1e3]) {
  const offset = rng.pick([0, 0, 0, 1, -3, 10, -100, 1000, 1e4]);
  const scale = rng.pick(scales);
  return { x: randn(rng, length, offset, scale), offset, scale };
}

/**
 * AdaIN's output has the style's scale, and the suite criterion is absolute below |y| = 1: with a style
 * spread of 1e3, float32 rounding alone (ulp(1e3) = 6e-5) reaches it. Keep the style spread modest.
 */
const STYLE_SCALES = [1, 1, 0.5, 2, 5, 1e-3] as const;

const maybe = (rng: Rng, p: number, make: () => Float32Array): Float32Array | undefined =>
  rng.chance(p) ? make() : undefined;

/** Drops undefined values so the API only sees options that were chosen. */
function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const describeArgs = (o: object) =>
  JSON.stringify(o, (_k, v) => (v instanceof Float32Array ? `f32[${v.length}]` : v));

/** One random scenario: `call` runs an op on either implementation and returns every output to compare. */
interface Scenario {
  label: string;
  size: number;
  call(ops: NormOps): { outputs: ArrayLike<number>[]; returned: ArrayLike<number>; out?: Float32Array };
}

const copy = (a: Float32Array | undefined) => a?.slice();

/**
 * Statistics outputs (mean, invStd, running stats) are in data units; the criterion is meant for O(1)
 * quantities, so compare them in units of the data's spread (e.g. mean / scale, invStd * scale).
 */
const inUnits = (a: ArrayLike<number>, factor: number) => Float64Array.from(a, (v) => v * factor);

function layerOrRms(rng: Rng, op: 'layerNorm' | 'rmsNorm', maxSize: number): Scenario {
  const rank = rng.int(2, 5);
  const shape = randShape(rng, rank, maxSize);
  const axis = rng.int(-rank, rank - 1);
  const a = axis < 0 ? axis + rank : axis;
  const inner = sizeOf(shape.slice(a));
  const groups = sizeOf(shape.slice(0, a));
  const { x, offset, scale } = sample(rng, sizeOf(shape));
  const weight = maybe(rng, 0.6, () => randn(rng, inner));
  const bias = op === 'layerNorm' ? maybe(rng, 0.6, () => randn(rng, inner)) : undefined;
  const residual = maybe(rng, 0.3, () => randn(rng, x.length, 0, scale));
  const wantSum = residual !== undefined && rng.chance(0.6);
  const wantStats = op === 'layerNorm' && rng.chance(0.5);
  const eps = rng.pick(inner > 1 ? [1e-5, 1e-5, 1e-6, 1e-3, 0.1, 0] : [1e-5, 0.1]);
  const useOut = rng.chance(0.3);
  const defaultAxis = axis === -1 && rng.chance(0.5);
  const label = `${op} shape [${shape}] axis ${axis} eps ${eps} offset ${offset} scale ${scale} ${describeArgs({ weight, bias, residual, wantSum, wantStats, useOut })}`;
  return {
    label,
    size: x.length,
    call(ops) {
      const sumOut = wantSum ? new Float32Array(x.length) : undefined;
      const mean = wantStats ? new Float32Array(groups) : undefined;
      const invStd = wantStats ? new Float32Array(groups) : undefined;
      const out = useOut ? new Float32Array(x.length) : undefined;
      const o = compact({ axis: defaultAxis ? undefined : axis, weight: copy(weight), eps, residual: copy(residual), sumOut, out });
      const returned =
        op === 'layerNorm'
          ? ops.layerNorm(x.slice(), shape, { ...o, bias: copy(bias), ...compact({ mean, invStd }) })
          : ops.rmsNorm(x.slice(), shape, o);
      const stats = wantStats ? [inUnits(mean!, 1 / scale), inUnits(invStd!, scale)] : [];
      return { outputs: [returned, ...(sumOut ? [sumOut] : []), ...stats], returned, out };
    },
  };
}

/** Shapes for channel ops: C from a list with many divisors, a random layout, rank 2-5. */
function channelShape(rng: Rng, maxSize: number) {
  const layout: Layout = rng.pick(['NCHW', 'NHWC'] as const);
  const C = rng.pick([1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 24, 32]);
  const rest = randShape(rng, rng.int(1, 4), Math.max(1, Math.floor(maxSize / C)));
  const shape = layout === 'NCHW' ? [rest[0], C, ...rest.slice(1)] : [...rest, C];
  return { layout, shape, C, N: shape[0], S: sizeOf(rest) / rest[0] };
}

function batchNormScenario(rng: Rng, maxSize: number): Scenario {
  let s = channelShape(rng, maxSize);
  const training = rng.chance(0.6);
  while (training && s.N * s.S < 2) s = channelShape(rng, maxSize);
  const { layout, shape, C } = s;
  const { x, offset, scale } = sample(rng, sizeOf(shape));
  const weight = maybe(rng, 0.7, () => randn(rng, C));
  const bias = maybe(rng, 0.7, () => randn(rng, C));
  const withRunning = !training || rng.chance(0.7);
  const runningMean = withRunning ? randn(rng, C, offset, scale) : undefined;
  const runningVar = withRunning ? randu(rng, C, 0.2, 3).map((v) => v * scale * scale) : undefined;
  // Both conventions: PyTorch (momentum, unbiased) and ONNX (momentum = 1 - m, biased); defaults sometimes.
  const convention = rng.pick(['default', 'torch', 'onnx'] as const);
  const momentum = convention === 'default' ? undefined : convention === 'onnx' ? 1 - rng.pick([0.9, 0.99, 0.5]) : rng.pick([0.1, 0.01, 0.5, 1, 0]);
  const unbiasedRunningVar = convention === 'default' ? undefined : convention === 'torch';
  const eps = rng.pick([1e-5, 1e-5, 1e-3, 0.1]);
  const useOut = rng.chance(0.3);
  const label = `batchNorm ${layout} shape [${shape}] training ${training} ${convention} momentum ${momentum} eps ${eps} offset ${offset} scale ${scale} ${describeArgs({ weight, bias, runningMean, useOut })}`;
  return {
    label,
    size: x.length,
    call(ops) {
      const rm = copy(runningMean);
      const rv = copy(runningVar);
      const out = useOut ? new Float32Array(x.length) : undefined;
      const o = compact({ layout, weight: copy(weight), bias: copy(bias), runningMean: rm, runningVar: rv, training, momentum, unbiasedRunningVar, eps, out });
      const returned = ops.batchNorm(x.slice(), shape, o);
      // In inference the running buffers must come back unchanged (the reference leaves them alone).
      const running = rm && rv ? [inUnits(rm, 1 / scale), inUnits(rv, 1 / (scale * scale))] : [];
      return { outputs: [returned, ...running], returned, out };
    },
  };
}

function channelNormScenario(rng: Rng, op: 'instanceNorm' | 'groupNorm', maxSize: number): Scenario {
  const { layout, shape, C } = channelShape(rng, maxSize);
  const divisors = Array.from({ length: C }, (_, i) => i + 1).filter((g) => C % g === 0);
  const G = rng.pick(divisors);
  const { x, offset, scale } = sample(rng, sizeOf(shape));
  const weight = maybe(rng, 0.6, () => randn(rng, C));
  const bias = maybe(rng, 0.6, () => randn(rng, C));
  const eps = rng.pick([1e-5, 1e-5, 1e-3, 0.1]);
  const useOut = rng.chance(0.3);
  const defaultLayout = layout === 'NCHW' && rng.chance(0.5);
  const label = `${op} ${layout} shape [${shape}]${op === 'groupNorm' ? ` groups ${G}` : ''} eps ${eps} offset ${offset} scale ${scale} ${describeArgs({ weight, bias, useOut })}`;
  return {
    label,
    size: x.length,
    call(ops) {
      const out = useOut ? new Float32Array(x.length) : undefined;
      const o = compact({ layout: defaultLayout ? undefined : layout, weight: copy(weight), bias: copy(bias), eps, out });
      const returned = op === 'groupNorm' ? ops.groupNorm(x.slice(), shape, G, o) : ops.instanceNorm(x.slice(), shape, o);
      return { outputs: [returned], returned, out };
    },
  };
}

function adaINScenario(rng: Rng, maxSize: number): Scenario {
  const { layout, shape, C, N } = channelShape(rng, maxSize);
  const rank = shape.length;
  const styleN = rng.chance(0.4) ? 1 : N;
  const styleShape = randShape(rng, rank, maxSize);
  styleShape[0] = styleN;
  styleShape[layout === 'NCHW' ? 1 : rank - 1] = C;
  const content = sample(rng, sizeOf(shape));
  const style = sample(rng, sizeOf(styleShape), STYLE_SCALES);
  const eps = rng.pick([1e-5, 1e-5, 1e-3, 0.1]);
  const useOut = rng.chance(0.3);
  const label = `adaIN ${layout} content [${shape}] style [${styleShape}] eps ${eps} content offset ${content.offset} scale ${content.scale}, style offset ${style.offset} scale ${style.scale} out ${useOut}`;
  return {
    label,
    size: content.x.length,
    call(ops) {
      const out = useOut ? new Float32Array(content.x.length) : undefined;
      const returned = ops.adaIN(content.x.slice(), shape, style.x.slice(), styleShape, compact({ layout, eps, out }));
      return { outputs: [returned], returned, out };
    },
  };
}

/** Runs `count` small scenarios plus `large` big ones; asserts every output within 1e-4. */
function runMany(name: string, seed: number, count: number, large: number, make: (rng: Rng, maxSize: number) => Scenario) {
  it(`${name}: ${count + large} random shapes`, () => {
    const rng = makeRng(seed);
    const failures: string[] = [];
    const local = new ErrorTracker();
    for (let k = 0; k < count + large; k++) {
      const scenario = make(rng, k < count ? 600 : 40_000);
      const got = scenario.call(nk);
      const want = scenario.call(refOps);
      if (got.out && got.returned !== got.out && failures.length < 8) failures.push(`#${k} ${scenario.label}: did not return \`out\``);
      got.outputs.forEach((actual, j) => {
        const c = compare(actual, want.outputs[j]);
        local.record(c.maxError, `#${k} ${scenario.label} output ${j}`);
        if (!c.ok && failures.length < 8) failures.push(describeComparison(c, `#${k} ${scenario.label} output ${j}`));
      });
    }
    shapesRun += count + large;
    perOp.push(`${name} ${local.max.toExponential(2)}`);
    overall.count += local.count;
    if (local.max > overall.max) {
      overall.max = local.max;
      overall.where = local.where;
    }
    expect(failures, failures.join('\n')).toEqual([]);
  });
}

describe('differential vs float64 reference', () => {
  beforeAll(async () => {
    await normkit.ready();
  });

  afterAll(() => {
    console.log(
      `differential: max scaled error ${overall.max.toExponential(3)} over ${shapesRun} random shapes ` +
        `(${overall.count} output comparisons)` +
        (overall.where ? ` (at ${overall.where})` : '') +
        `; per op: ${perOp.join(', ')}`,
    );
  });

  runMany('layerNorm', SEED + 1, 900, 12, (rng, m) => layerOrRms(rng, 'layerNorm', m));
  runMany('rmsNorm', SEED + 2, 600, 12, (rng, m) => layerOrRms(rng, 'rmsNorm', m));
  runMany('batchNorm', SEED + 3, 700, 10, batchNormScenario);
  runMany('instanceNorm', SEED + 4, 400, 8, (rng, m) => channelNormScenario(rng, 'instanceNorm', m));
  runMany('groupNorm', SEED + 5, 500, 8, (rng, m) => channelNormScenario(rng, 'groupNorm', m));
  runMany('adaIN', SEED + 6, 400, 8, adaINScenario);
});
