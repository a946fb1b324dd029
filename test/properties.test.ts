// Property-based tests with fast-check (issue 5), with a fixed seed so that `npm test` is reproducible:
// 1. every op against the float64 reference over random ranks, shapes (odd and zero extents included),
//    axes, layouts, group counts, options, offsets and scales, in copy mode, in place and zero-copy; the data
//    comes from a seeded generator, so a failure shrinks to a minimal shape and set of options;
// 2. zero-copy (Tensor) calls are bit-identical to copy-mode calls;
// 3. the argument space is fuzzed: a valid call with up to three arguments replaced by arbitrary values
//    (anything fast-check makes, odd numbers, wrong arrays, live / freed Tensors, aliases of other arguments)
//    either returns a Float32Array of x's length or throws a NormkitError: never another exception, and
//    afterwards nothing leaked and a canary call is still bit-exact.
// NORMKIT_FUZZ_RUNS sets the number of runs of every property (the default keeps `npm test` fast);
// NORMKIT_FUZZ_SEED changes the seed. `npm run test:fuzz` runs a long campaign.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import * as normkit from '../src/index.js';
import { layerNorm, memoryStats, NormkitError, ready, tensor, Tensor } from '../src/index.js';
import type { Layout } from '../src/reference.js';
import { compare, describeComparison, sameFloat32 } from './support/compare.js';
import { invokeOp, type Op } from './support/invoke.js';
import {
  argOf, argValue, compact, hasArg, OPS, opsWhere, optionsFor, presentArgs, REGISTRY, tensorCall, writtenArgs,
  type Call, type NormkitLike,
} from './support/registry.js';
import { makeRng } from './support/rng.js';
import { randn, randu, sizeOf } from './support/tensors.js';

const env: Record<string, string | undefined> =
  (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
const RUNS = Number(env.NORMKIT_FUZZ_RUNS) > 0 ? Number(env.NORMKIT_FUZZ_RUNS) : undefined;
const SEED = env.NORMKIT_FUZZ_SEED && Number.isInteger(Number(env.NORMKIT_FUZZ_SEED)) ? Number(env.NORMKIT_FUZZ_SEED) : 0x6e6b;
/** fast-check parameters of a property whose default run count is `runs`. */
const params = (runs: number): fc.Parameters<unknown> => ({ seed: SEED, numRuns: RUNS ?? runs });
const TIMEOUT = RUNS ? Math.max(60_000, RUNS * 40) : 60_000;

beforeAll(async () => {
  await ready();
});

// ---- shared arbitraries and helpers ------------------------------------------------------------------

/** Mostly small extents, odd ones included; now and then a larger awkward one or 0. */
const dim = fc.oneof(
  { weight: 30, arbitrary: fc.integer({ min: 1, max: 9 }) },
  { weight: 8, arbitrary: fc.constantFrom(13, 16, 17, 33, 65, 127) },
  { weight: 1, arbitrary: fc.constant(0) },
);
const MAX_SIZE = 6000;

/** Input data: a generator seed, an offset and a scale (shrinks towards seed 0, offset 0, scale 1). */
const data = fc.record({
  seed: fc.nat(),
  offset: fc.constantFrom(0, 1, -3, 100, -1e4, 1e4, 1e5),
  scale: fc.constantFrom(1, 0.01, 100, 1e-3),
});
const epsArb = fc.constantFrom<number | undefined>(undefined, 1e-5, 1e-3, 0.1, 0);
/** plain arrays; a separate out; in place (out = x); every argument a Tensor and out = x. */
const modeArb = fc.constantFrom('plain', 'out', 'inplace', 'tensor');

/** The suite criterion |a - e| <= 1e-4 * max(1, |e|); or, with `scale`, 1e-4 * (scale + |e|). */
function check(label: string, actual: ArrayLike<number>, expected: ArrayLike<number>, scale?: number): void {
  const r = compare(actual, expected, scale === undefined ? {} : { atol: 1e-4 * scale, rtol: 1e-4 });
  if (!r.ok) throw new Error(describeComparison(r, label));
}

/** Tensors made during one property run, freed at its end. */
const made: Tensor[] = [];
function asTensor(a: Float32Array): Tensor {
  const t = tensor(a);
  made.push(t);
  return t;
}
function freeMade(): void {
  for (const t of made.splice(0)) t.free();
}
const view = (a: Float32Array | Tensor): Float32Array => (a instanceof Tensor ? a.array : a);

/** The arguments as they are passed in `mode`: plain arrays, or Tensor copies of them. */
function passer(mode: string) {
  return <A extends Float32Array | undefined>(a: A): A extends Float32Array ? Float32Array | Tensor : undefined =>
    (a === undefined ? undefined : mode === 'tensor' ? asTensor(a) : a) as never;
}

// ---- 1. against the float64 reference --------------------------------------------------------------------

/** The ops of the registry by kind: a new op joins the properties of its kind. */
const ROW_OPS = opsWhere((e) => e.kind === 'rows');
const CHANNEL_OPS = opsWhere((e) => e.kind === 'channels');

const rowsCase = fc.record({
  op: fc.constantFrom(...ROW_OPS),
  shape: fc.array(dim, { minLength: 1, maxLength: 4 }).filter((s) => sizeOf(s) <= MAX_SIZE),
  axisPick: fc.nat({ max: 7 }),
  weight: fc.boolean(),
  bias: fc.boolean(),
  residual: fc.boolean(),
  sumOut: fc.boolean(),
  stats: fc.boolean(),
  eps: epsArb,
  data,
  mode: modeArb,
});

function runRows(c: typeof rowsCase extends fc.Arbitrary<infer T> ? T : never): void {
  const e = REGISTRY[c.op];
  const rank = c.shape.length;
  const axis = (c.axisPick % (2 * rank)) - rank; // every axis in [-rank, rank)
  const first = axis < 0 ? axis + rank : axis;
  const n = sizeOf(c.shape.slice(first));
  const groups = sizeOf(c.shape.slice(0, first));
  const length = sizeOf(c.shape);
  const rng = makeRng(c.data.seed);
  const x = randn(rng, length, c.data.offset, c.data.scale);
  const x0 = x.slice();
  const w = c.weight && hasArg(c.op, 'weight') ? randn(rng, n, 1, 0.5) : undefined;
  const b = c.bias && hasArg(c.op, 'bias') ? randn(rng, n) : undefined;
  const res = c.residual && hasArg(c.op, 'residual') ? randn(rng, length, 0, c.data.scale) : undefined;
  const ref = {
    sumOut: res && c.sumOut && hasArg(c.op, 'sumOut') ? new Float32Array(length) : undefined,
    mean: c.stats && hasArg(c.op, 'mean') ? new Float32Array(groups) : undefined,
    invStd: c.stats && hasArg(c.op, 'invStd') ? new Float32Array(groups) : undefined,
  };
  const refCall: Call = { x, shape: c.shape, options: compact({ axis, weight: w, bias: b, eps: c.eps, residual: res, ...ref }) };
  const want = e.reference(refCall);

  const pass = passer(c.mode);
  const xIn = c.mode === 'tensor' ? asTensor(x) : c.mode === 'inplace' ? x.slice() : x;
  const out = c.mode === 'out' ? new Float32Array(length) : c.mode === 'inplace' || c.mode === 'tensor' ? xIn : undefined;
  const options = optionsFor(c.op, {
    axis: c.axisPick === 0 && axis === -1 ? undefined : axis, weight: pass(w), bias: pass(b), eps: c.eps, residual: pass(res), out,
    sumOut: pass(ref.sumOut && new Float32Array(length)), mean: pass(ref.mean && new Float32Array(groups)),
    invStd: pass(ref.invStd && new Float32Array(groups)),
  });
  const call: Call = { x: xIn, shape: c.shape, options };
  const y = e.run(normkit as unknown as NormkitLike, call);
  expect(y.length).toBe(length);
  if (out !== undefined) expect(y).toBe(view(out));
  check('y', y, want);
  for (const a of writtenArgs(c.op, refCall)) check(a.name, view(argValue(call, a.name) as Float32Array | Tensor), argValue(refCall, a.name) as Float32Array);
  expect(sameFloat32(x, x0), 'x was modified').toBe(true);
}

const channelCase = fc.record({
  op: fc.constantFrom(...CHANNEL_OPS),
  layout: fc.constantFrom<Layout>('NCHW', 'NHWC'),
  N: dim,
  C: fc.oneof({ weight: 10, arbitrary: fc.integer({ min: 1, max: 12 }) }, { weight: 1, arbitrary: fc.constantFrom(0, 24, 65) }),
  spatial: fc.array(dim, { maxLength: 3 }),
  groupPick: fc.nat(),
  weight: fc.boolean(),
  bias: fc.boolean(),
  running: fc.boolean(),
  momentum: fc.oneof(fc.constantFrom<number | undefined>(undefined, 0, 1, 0.1), fc.double({ min: 0, max: 1, noNaN: true })),
  unbiased: fc.constantFrom<boolean | undefined>(undefined, true, false),
  styleBatch1: fc.boolean(),
  styleSpatial: fc.array(fc.integer({ min: 1, max: 9 }), { maxLength: 3 }),
  eps: epsArb,
  data,
  mode: modeArb,
}).filter((c) => c.N * c.C * sizeOf(c.spatial) <= MAX_SIZE);

function runChannels(c: typeof channelCase extends fc.Arbitrary<infer T> ? T : never): void {
  const e = REGISTRY[c.op];
  const { N, C, layout } = c;
  const shape = layout === 'NCHW' ? [N, C, ...c.spatial] : [N, ...c.spatial, C];
  const length = N * C * sizeOf(c.spatial);
  const divisors = [...Array(Math.max(C, 1)).keys()].map((k) => k + 1).filter((g) => C % g === 0);
  const G = divisors[c.groupPick % divisors.length];
  const rng = makeRng(c.data.seed);
  const x = randn(rng, length, c.data.offset, c.data.scale);
  const x0 = x.slice();
  const w = c.weight && hasArg(c.op, 'weight') ? randn(rng, C, 1, 0.5) : undefined;
  const b = c.bias && hasArg(c.op, 'bias') ? randn(rng, C) : undefined;
  const running = argOf(c.op, 'runningMean');
  const rm = running && (running.required || c.running) ? randn(rng, C, c.data.offset, c.data.scale) : undefined;
  const rv = rm ? randu(rng, C, 0.5, 2).map((v) => v * c.data.scale * c.data.scale) : undefined;
  const styleSpatial = c.spatial.map((_, i) => c.styleSpatial[i] ?? 1);
  const styleN = c.styleBatch1 ? 1 : N;
  const styleShape = layout === 'NCHW' ? [styleN, C, ...styleSpatial] : [styleN, ...styleSpatial, C];
  const style = hasArg(c.op, 'style') ? randn(rng, sizeOf(styleShape), -c.data.offset, 2 * c.data.scale) : undefined;

  const pass = passer(c.mode);
  const xIn = c.mode === 'tensor' ? asTensor(x) : c.mode === 'inplace' ? x.slice() : x;
  const out = c.mode === 'out' ? new Float32Array(length) : c.mode === 'inplace' || c.mode === 'tensor' ? xIn : undefined;
  // Scalars: training as the entry fixes it (inference sometimes by default), momentum and the variance convention.
  const fixedTraining = e.fixed.training as boolean | undefined;
  const scalars = {
    layout, eps: c.eps, training: fixedTraining === false && c.momentum === 0.1 ? undefined : fixedTraining,
    momentum: c.momentum, unbiasedRunningVar: c.unbiased,
  };
  const positional = { numGroups: e.numGroups ? G : undefined, styleShape: style ? styleShape : undefined };

  const refusal = e.refuses({ x, shape, options: { layout } });
  if (refusal) {
    let code: string | undefined;
    try {
      e.run(normkit as unknown as NormkitLike, { x: xIn, shape, ...positional, style: pass(style), options: optionsFor(c.op, { ...scalars, weight: pass(w), bias: pass(b), out }) });
    } catch (err) {
      if (!(err instanceof NormkitError)) throw err;
      code = err.code;
    }
    expect(code).toBe(refusal);
    return;
  }
  const refCall: Call = {
    x, shape, ...positional, style,
    options: optionsFor(c.op, compact({ ...scalars, training: fixedTraining, weight: w, bias: b, runningMean: rm?.slice(), runningVar: rv?.slice() })),
  };
  const want = e.reference(refCall);
  const call: Call = {
    x: xIn, shape, ...positional, style: pass(style),
    options: optionsFor(c.op, { ...scalars, weight: pass(w), bias: pass(b), out, runningMean: pass(rm), runningVar: pass(rv) }),
  };
  const y = e.run(normkit as unknown as NormkitLike, call);
  // Updated running statistics; an empty batch has no statistics: normkit leaves them as they were.
  for (const a of presentArgs(c.op, call).filter((spec) => spec.role === 'in-out')) {
    const before = a.name === 'runningMean' ? rm! : rv!;
    check(a.name, view(argValue(call, a.name) as Float32Array | Tensor), length === 0 ? before : (argValue(refCall, a.name) as Float32Array));
  }
  expect(y.length).toBe(length);
  if (out !== undefined) expect(y).toBe(view(out));
  // adaIN's output is the style's sigma * x̂ + mean: its float32 error scales with the style's spread (2 * scale),
  // which can be far above |y| where the two terms cancel.
  check('y', y, want, style ? Math.max(1, 2 * c.data.scale) : undefined);
  expect(sameFloat32(x, x0), 'x was modified').toBe(true);
}

describe('against the float64 reference', () => {
  it('layerNorm / rmsNorm: random rank, shape, axis, weight/bias, residual/sumOut, mean/invStd, eps, data, mode', () => {
    fc.assert(
      fc.property(rowsCase, (c) => {
        try {
          runRows(c);
        } finally {
          freeMade();
        }
      }),
      params(400),
    );
  }, TIMEOUT);

  it('channel ops: random layout, N, C, spatial rank and extents, group count, running stats, momentum, style, eps, data, mode', () => {
    fc.assert(
      fc.property(channelCase, (c) => {
        try {
          runChannels(c);
        } finally {
          freeMade();
        }
      }),
      params(500),
    );
  }, TIMEOUT);
});

// ---- 2. zero-copy is bit-identical to copy mode --------------------------------------------------------------

describe('zero-copy', () => {
  it('Tensor arguments give the same bits as plain arrays, for every op', () => {
    fc.assert(
      fc.property(channelCase, rowsCase, (cc, rc) => {
        try {
          const e = REGISTRY[cc.op];
          const shape = cc.layout === 'NCHW' ? [cc.N, cc.C, ...cc.spatial] : [cc.N, ...cc.spatial, cc.C];
          const length = sizeOf(shape);
          const x = randn(makeRng(cc.data.seed), length, cc.data.offset, cc.data.scale);
          if (e.refuses({ x, shape, options: { layout: cc.layout } })) return;
          const C = cc.C;
          const w = randn(makeRng(cc.data.seed + 1), C);
          const plain = sameCallBothWays(cc.op, x, shape, cc.layout, w, false);
          const zero = sameCallBothWays(cc.op, x, shape, cc.layout, w, true);
          if (!sameFloat32(plain, zero)) throw new Error(`${cc.op} ${shape}: zero-copy differs from copy mode`);
          const r = REGISTRY[rc.op];
          const rshape = rc.shape;
          const rx = randn(makeRng(rc.data.seed), sizeOf(rshape), rc.data.offset, rc.data.scale);
          const a = r.run(normkit as unknown as NormkitLike, { x: rx, shape: rshape, options: {} });
          const RX = asTensor(rx);
          const b = r.run(normkit as unknown as NormkitLike, { x: RX, shape: rshape, options: { out: RX } });
          if (!sameFloat32(a, b)) throw new Error(`${rc.op} ${rshape}: zero-copy differs from copy mode`);
        } finally {
          freeMade();
        }
      }),
      params(150),
    );
  }, TIMEOUT);
});

/**
 * One call of a channel op (weight w where it has one, running statistics of ones where it needs them, one
 * group, the content as its own style) with plain arrays, or with every argument a Tensor and out = x.
 */
function sameCallBothWays(op: Op, x: Float32Array, shape: number[], layout: Layout, w: Float32Array, tensors: boolean): Float32Array {
  const e = REGISTRY[op];
  const C = layout === 'NCHW' ? shape[1] : shape[shape.length - 1];
  const T = (a: Float32Array) => (tensors ? asTensor(a) : a);
  const X = T(x);
  const running = argOf(op, 'runningMean')?.required ? new Float32Array(C).fill(1) : undefined;
  const call: Call = {
    x: X, shape, numGroups: 1, style: hasArg(op, 'style') ? T(x) : undefined, styleShape: shape,
    options: optionsFor(op, compact({
      ...e.fixed, layout, weight: hasArg(op, 'weight') ? T(w) : undefined, out: tensors ? X : undefined,
      runningMean: running && T(running), runningVar: running && T(running),
    })),
  };
  return e.run(normkit as unknown as NormkitLike, call).slice();
}

// ---- 3. fuzzing the argument space ---------------------------------------------------------------------


interface FuzzCall {
  x: unknown;
  shape: unknown;
  numGroups?: unknown;
  style?: unknown;
  styleShape?: unknown;
  options: unknown;
}

/**
 * A valid call of `op` with every option it has set (so that a mutation of any key matters): the registry's
 * generator with every optional argument, small shapes.
 */
function fullCall(op: Op, seed: number, tensors: boolean): FuzzCall {
  const { call } = REGISTRY[op].generate(makeRng(seed), { optional: 'all', maxSize: 48 });
  return tensors ? tensorCall(op, call, asTensor, []) : call;
}

function invoke(op: Op, c: FuzzCall): Float32Array {
  return invokeOp(op, c, c.options);
}

/** Stands for an object made at run time: fresh arrays and Tensors, freed Tensors, views of wasm memory, aliases. */
class Marker {
  constructor(readonly kind: string, readonly length: number, readonly target = '') {}
  toString(): string {
    return this.kind === 'alias' ? `<same as ${this.target}>` : `<${this.kind}(${this.length})>`;
  }
}
const TOP_KEYS = ['x', 'shape', 'numGroups', 'style', 'styleShape', 'options'];
/** Every option key of every op of the registry: its scalars and its array arguments that are options. */
const ARRAY_OPTION_KEYS = [...new Set(OPS.flatMap((op) => REGISTRY[op].args.filter((a) => !a.positional).map((a) => a.name as string)))];
const SCALAR_KEYS = [...new Set(OPS.flatMap((op) => REGISTRY[op].scalars))];
const OPTION_KEYS = [...ARRAY_OPTION_KEYS, ...SCALAR_KEYS];
const marker = fc.oneof(
  fc.record({ kind: fc.constantFrom('f32', 'tensor', 'freed', 'wasmView', 'f64', 'i32'), length: fc.oneof(fc.integer({ min: 0, max: 30 }), fc.constantFrom(3, 4, 6, 24)) })
    .map((r) => new Marker(r.kind, r.length)),
  fc.constantFrom('x', 'style', ...ARRAY_OPTION_KEYS)
    .map((k) => new Marker('alias', 0, k)),
);
const oddNumber = fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, -1, 0.5, 1.5, 1, 2, 3, 4, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 31), Number.MAX_VALUE,
  Number.MIN_VALUE, Number.EPSILON);
const weird = fc.oneof(
  { weight: 3, arbitrary: fc.anything({ maxDepth: 2, maxKeys: 4, withBigInt: true, withTypedArray: true, withBoxedValues: true, withNullPrototype: true, withMap: true, withSet: true, withDate: true, withSparseArray: true }) },
  { weight: 2, arbitrary: oddNumber },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined, '', 'NCHW', 'NHWC', 'nchw', true, false) },
  { weight: 5, arbitrary: marker },
  { weight: 2, arbitrary: fc.array(fc.oneof(fc.integer({ min: -2, max: 8 }), oddNumber), { maxLength: 5 }) },
);
const mutation = fc.record({
  key: fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...TOP_KEYS) },
    { weight: 6, arbitrary: fc.constantFrom(...OPTION_KEYS) },
    { weight: 1, arbitrary: fc.constantFrom('shape[0]', 'shape[1]', 'shape[2]') },
  ),
  value: weird,
});

/** Replaces markers by real objects; `ownOptions`: c.options is an object of ours (never change generated values). */
function materialize(c: FuzzCall, rng: ReturnType<typeof makeRng>, ownOptions: boolean): void {
  const o = (ownOptions ? c.options : {}) as Record<string, unknown>;
  const make = (v: unknown): unknown => {
    if (!(v instanceof Marker) || v.kind === 'alias') return v;
    const data = randn(rng, v.length);
    switch (v.kind) {
      case 'f32':
        return data;
      case 'f64':
        return Float64Array.from(data);
      case 'i32':
        return Int32Array.from(data);
      case 'tensor':
        return asTensor(data);
      case 'freed': {
        const t = tensor(data);
        t.free();
        return t;
      }
      default: // a plain Float32Array that views wasm memory
        return asTensor(data).array;
    }
  };
  const slots = c as unknown as Record<string, unknown>;
  for (const k of ['x', 'style']) slots[k] = make(slots[k]);
  for (const k of Object.keys(o)) o[k] = make(o[k]);
  const resolve = (v: unknown): unknown => (v instanceof Marker ? (v.target in o ? o[v.target] : slots[v.target]) : v);
  for (const k of ['x', 'style']) slots[k] = resolve(slots[k]);
  for (const k of Object.keys(o)) o[k] = resolve(o[k]);
  for (const k of ['x', 'style']) if (slots[k] instanceof Marker) slots[k] = undefined;
  for (const k of Object.keys(o)) if (o[k] instanceof Marker) o[k] = undefined;
}

function lengthOrUndefined(a: unknown): number | undefined {
  if (a instanceof Float32Array) return a.length;
  if (a instanceof Tensor && !a.freed) return a.length;
  return undefined;
}

describe('fuzzing every argument', () => {
  const canaryX = Float32Array.from({ length: 16 }, (_, i) => Math.sin(i) * 3);
  let canaryY: Float32Array;
  beforeAll(() => {
    canaryY = layerNorm(canaryX, [4, 4]).slice();
  });

  it('arbitrary values in up to three arguments: a result of x\'s length or a NormkitError, nothing else; no leak, no corruption', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...OPS), fc.nat(), fc.boolean(), fc.array(mutation, { minLength: 1, maxLength: 3 }),
        (op, seed, tensors, mutations) => {
          const c = fullCall(op, seed, tensors);
          let ownOptions = true;
          for (const { key, value } of mutations) {
            if (key.startsWith('shape[')) {
              if (Array.isArray(c.shape)) c.shape = Object.assign([...c.shape], { [Number(key[6])]: value });
            } else if (TOP_KEYS.includes(key)) {
              (c as unknown as Record<string, unknown>)[key] = value;
              if (key === 'options') ownOptions = false;
            } else if (typeof c.options === 'object' && c.options !== null) {
              c.options = Object.assign(Array.isArray(c.options) ? [] : {}, c.options, { [key]: value });
              ownOptions = true;
            }
          }
          materialize(c, makeRng(seed), ownOptions);
          const xLength = lengthOrUndefined(c.x);
          try {
            let y: Float32Array | undefined;
            try {
              y = invoke(op, c);
            } catch (e) {
              if (!(e instanceof NormkitError)) throw e;
              expect(typeof e.code).toBe('string');
              expect(e.message.length).toBeGreaterThan(0);
            }
            if (y !== undefined) {
              expect(y).toBeInstanceOf(Float32Array);
              expect(y.length).toBe(xLength);
            }
          } finally {
            freeMade();
          }
          // Nothing leaked (only the scratch block may stay) and the module still computes the canary exactly.
          expect(memoryStats().blocks).toBeLessThanOrEqual(1);
          expect(sameFloat32(layerNorm(canaryX, [4, 4]), canaryY)).toBe(true);
        },
      ),
      params(1500),
    );
    expect(memoryStats().memoryBytes).toBeLessThan(256 * 1024 * 1024);
  }, TIMEOUT);
});
