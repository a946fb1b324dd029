// Half-precision storage (issue 12): float16 and bfloat16 arguments, mixed freely with float32 ones, in
// plain Uint16Arrays (with the dtype option), half Tensors and, where the runtime has one, Float16Arrays.
// 1. every op of the registry with random calls (the issue-10 options included), each array argument
//    float32 or half in a random container: against the float64 reference of the rounded inputs, within the
//    output's rounding plus float32 maths; and bit for bit the float32 call on the same values, narrowed
//    once (the conversions at the staging boundary are exact and the kernels are the float32 ones);
// 2. the in-place conversions of a plain array (widened front to back from the slot's upper half, narrowed
//    into its lower half) at every length around the vector widths, and calls of several passes;
// 3. aliasing across element sizes: a Uint16Array and a Float32Array over the same bytes;
// 4. Tensor dtypes, Float16Array, empty statistics.
// Runs in Node, Chromium and Firefox.
import { beforeAll, describe, expect, it } from 'vitest';
import * as normkit from '../src/index.js';
import { groupNorm, layerNorm, NormkitError, ready, tensor, Tensor, type Dtype, type Float16ArrayLike } from '../src/index.js';
import { compare, describeComparison, TOL } from './support/compare.js';
import { fromBfloat16Bits, fromFloat16Bits } from './support/peers.js';
import {
  argValue, cloneCall, ENTRIES, presentArgs, REGISTRY, setArg, unitFactor, type ArgSpec, type Call, type NormkitLike,
  type OpEntry,
} from './support/registry.js';
import { makeRng, type Rng } from './support/rng.js';
import { randn } from './support/tensors.js';

type HalfDtype = 'float16' | 'bfloat16';
const DTYPES: readonly HalfDtype[] = ['float16', 'bfloat16'];
const IN_BROWSER = typeof window !== 'undefined';
const nk = normkit as unknown as NormkitLike;
/** Relative rounding error of one rounding to nearest: 2^-p, p the significand bits. */
const UNIT = { float16: 2 ** -11, bfloat16: 2 ** -8 } as const;
/** Absolute rounding error among the subnormals: half the smallest subnormal. */
const SUBNORMAL = { float16: 2 ** -25, bfloat16: 2 ** -134 } as const;
const F16 = (globalThis as {
  Float16Array?: new (a: number | ArrayLike<number> | ArrayBuffer, offset?: number, length?: number) => Float16ArrayLike;
}).Float16Array;

beforeAll(async () => {
  await ready();
});

/** Tensors made by a test, freed at its end. */
const made: Tensor<Dtype>[] = [];
const freeMade = () => {
  for (const t of made.splice(0)) t.free();
};
const keep = <T extends Tensor<Dtype>>(t: T): T => {
  made.push(t);
  return t;
};

/** float32 values rounded to `dtype` (normkit's narrowing, tested exhaustively in half.test.ts), as bits. */
const bitsOf = (a: ArrayLike<number>, dtype: HalfDtype): Uint16Array => keep(tensor(a, { dtype })).array.slice();
const decode = (bits: ArrayLike<number>, dtype: HalfDtype): Float32Array =>
  Float32Array.from(bits, dtype === 'float16' ? fromFloat16Bits : fromBfloat16Bits);

/** How an argument is passed: float32 (plain or Tensor) or half precision (plain bits or Tensor). */
type Kind = 'f32' | 'f32 tensor' | 'bits' | 'tensor';
const KINDS: readonly Kind[] = ['f32', 'f32 tensor', 'bits', 'tensor'];
const isHalfKind = (k: Kind) => k === 'bits' || k === 'tensor';

/** An argument's values as numbers: float32, or half bits decoded. */
function valuesOf(v: unknown, dtype: HalfDtype): Float32Array {
  const a = v instanceof Tensor ? v.array : (v as Float32Array | Uint16Array);
  return a instanceof Uint16Array ? decode(a, dtype) : a.slice();
}

/**
 * The call with every array argument passed as `kinds` says: inputs rounded to `dtype` where they are half
 * (the float32 call `rounded` gets the same values), outputs of the kind's type. Arguments that are the same
 * array stay the same (in place).
 */
function convert(e: OpEntry, call: Call, dtype: HalfDtype, kinds: Map<string, Kind>): { half: Call; rounded: Call } {
  const half: Call = { ...call, options: { ...call.options, dtype } };
  const rounded = cloneCall(call);
  for (const spec of presentArgs(e.id, call)) {
    const v = argValue(call, spec.name) as Float32Array;
    const kind = kinds.get(spec.name)!;
    const bits = isHalfKind(kind) ? bitsOf(v, dtype) : undefined;
    if (bits) (argValue(rounded, spec.name) as Float32Array).set(decode(bits, dtype));
    const plain = bits ?? v.slice();
    setArg(half, spec.name, kind === 'tensor' ? keep(tensor(plain, { dtype })) : kind === 'f32 tensor' ? keep(tensor(plain)) : plain);
  }
  return { half, rounded };
}

/** The compared outputs of a call (y, what it writes, the statistics it reads), with their specs. */
function outputs(e: OpEntry, c: Call, y: unknown): Array<[ArgSpec | undefined, unknown]> {
  const args = presentArgs(e.id, c).filter((a) => (a.role !== 'in' && a.name !== 'out') || a.units !== undefined);
  return [[undefined, y], ...args.map((a): [ArgSpec, unknown] => [a, argValue(c, a.name)])];
}

/** Runs one random call of `e` in half precision; returns its problems. */
function runHalf(e: OpEntry, rng: Rng, dtype: HalfDtype, maxSize: number): string[] {
  const data = dtype === 'float16'
    ? { offset: rng.pick([0, 1, -3, 100]), scale: rng.pick([1, 0.01, 10]) }
    : { offset: rng.pick([0, -3, 1e4]), scale: rng.pick([1, 0.01, 100]) };
  const g = e.generate(rng, { maxSize, issue10: true, data });
  const kinds = new Map(presentArgs(e.id, g.call).map((a) => [a.name, rng.pick(KINDS)] as [string, Kind]));
  // x half most of the time: the output without `out` then is half too.
  if (rng.chance(0.7)) kinds.set('x', rng.pick(['bits', 'tensor'] as const));
  const inPlace = rng.chance(0.2);
  const label = `${e.id} ${dtype} ${g.label} [${[...kinds].map(([k, v]) => `${k}: ${v}`).join(', ')}]${inPlace ? ' in place' : ''}`;
  const { half, rounded } = convert(e, g.call, dtype, kinds);
  if (inPlace) half.options.out = half.x;
  const f32 = cloneCall(rounded);
  const want = e.reference(rounded);
  let y: unknown;
  try {
    y = e.run(nk, half);
  } catch (err) {
    return [`${label}: threw ${err instanceof NormkitError ? err.code : ''} ${(err as Error).message}`];
  }
  const y32 = e.run(nk, f32);
  const problems: string[] = [];
  const xKind = kinds.get('x')!;
  const out = half.options.out;
  const expectedType = out !== undefined ? out : isHalfKind(xKind) ? Uint16Array : Float32Array;
  if (out !== undefined ? y !== (out instanceof Tensor ? out.array : out) : !(y instanceof (expectedType as typeof Float32Array))) {
    problems.push(`${label}: returned a ${(y as object).constructor.name}, not ${out !== undefined ? 'out' : `x's type`}`);
  }
  // A Tensor's view goes stale when later calls grow the memory: read the Tensor itself from here on.
  const mine = outputs(e, half, out instanceof Tensor ? out : y);
  const theirs = outputs(e, rounded, want);
  const exact = outputs(e, f32, y32);
  mine.forEach(([spec, v], j) => {
    const isHalf = v instanceof Uint16Array || (v instanceof Tensor && v.dtype !== 'float32');
    const what = `${label} output ${spec?.name ?? 'y'}`;
    const f = spec ? unitFactor(spec, g.scale) : 1;
    const u = isHalf ? UNIT[dtype] : 0;
    const actual = Float64Array.from(valuesOf(v, dtype), (a) => a * f);
    const expected = Float64Array.from(theirs[j][1] as ArrayLike<number>, (a) => a * f);
    const r = compare(actual, expected, { atol: TOL * (1 + u) + (isHalf ? f * SUBNORMAL[dtype] : 0), rtol: u + TOL * (1 + u) });
    if (!r.ok) problems.push(describeComparison(r, what));
    // Bit for bit the float32 call narrowed once.
    const single = exact[j][1] instanceof Tensor ? (exact[j][1] as Tensor).array : (exact[j][1] as Float32Array);
    const bits = (x: unknown) => (x instanceof Tensor ? x.array : (x as Uint16Array | Float32Array));
    const narrowed = isHalf ? bitsOf(single, dtype) : single; // first: it may grow the memory
    const got = bits(v);
    const differs = got.length !== narrowed.length || got.some((b, i) => !Object.is(b, narrowed[i]) && !(Number.isNaN(b) && Number.isNaN(narrowed[i])));
    if (differs) problems.push(`${what}: not the float32 call's bits${isHalf ? ', narrowed' : ''}`);
  });
  return problems;
}

describe('every op in half precision, mixed with float32, against float64 and against the float32 call', () => {
  const SMALL = IN_BROWSER ? 25 : 60;
  for (const e of ENTRIES) {
    for (const dtype of DTYPES) {
      it(`${e.id} ${dtype}: ${SMALL} random calls and 2 of several passes`, () => {
        const rng = makeRng(0x1216 + ENTRIES.indexOf(e) * 2 + DTYPES.indexOf(dtype));
        const problems: string[] = [];
        try {
          for (let k = 0; k < SMALL + 2 && problems.length < 8; k++) problems.push(...runHalf(e, rng, dtype, k < SMALL ? 600 : 300_000));
        } finally {
          freeMade();
        }
        expect(problems, problems.join('\n')).toEqual([]);
      }, 60_000);
    }
  }
});

describe('the in-place conversions of plain arrays', () => {
  it('every row length 1..70 and 1021..1029, in place and not, float16 and bfloat16: the float32 call narrowed', () => {
    const lengths = [...Array(70).keys()].map((i) => i + 1).concat([1021, 1022, 1023, 1024, 1025, 1026, 1027, 1028, 1029]);
    try {
      for (const dtype of DTYPES) {
        for (const n of lengths) {
          const rng = makeRng(n);
          const x = bitsOf(randn(rng, 3 * n, 2, 3), dtype);
          const w = bitsOf(randn(rng, n, 1, 0.5), dtype);
          const want = bitsOf(layerNorm(decode(x, dtype), [3, n], { weight: decode(w, dtype) }), dtype);
          const y = layerNorm(x, [3, n], { weight: w, dtype });
          const inPlace = x.slice();
          layerNorm(inPlace, [3, n], { weight: w, dtype, out: inPlace });
          expect([...y], `${dtype} n = ${n}`).toEqual([...want]);
          expect([...inPlace], `${dtype} n = ${n} in place`).toEqual([...want]);
        }
      }
    } finally {
      freeMade();
    }
  });

  it('a call of several passes gives the bits of one pass (a Tensor call)', () => {
    try {
      for (const dtype of DTYPES) {
        const rng = makeRng(7);
        const x = bitsOf(randn(rng, 4 * 64 * 40 * 40, 1, 2), dtype); // 409,600 values: four passes
        const plain = groupNorm(x, [4, 64, 40, 40], 8, { dtype });
        const t = keep(tensor(x, { dtype }));
        const out = keep(tensor(x.length, { dtype }));
        groupNorm(t, [4, 64, 40, 40], 8, { out });
        expect(plain.every((b, i) => b === out.array[i]), dtype).toBe(true);
      }
    } finally {
      freeMade();
    }
  });
});

describe('aliasing across element sizes', () => {
  // x half bits and out float32 over the same bytes (and the reverse): the result is that of an
  // out-of-place call, in one pass or several.
  for (const rows of [4, 300]) {
    it(`a Uint16Array and a Float32Array over one buffer, ${rows} rows of 1000`, () => {
      const n = 1000;
      try {
        for (const dtype of DTYPES) {
          const values = randn(makeRng(rows), rows * n, 0, 2);
          const bits = bitsOf(values, dtype);
          const want32 = layerNorm(bits, [rows, n], { dtype, out: new Float32Array(rows * n) });
          const wantBits = layerNorm(decode(bits, dtype), [rows, n], { out: new Uint16Array(rows * n), dtype });
          for (const at of [0, 2 * n, rows * n]) {
            const buffer = new ArrayBuffer(4 * rows * n + 4 * at);
            const x = new Uint16Array(buffer, 2 * at, rows * n);
            x.set(bits);
            const y = new Float32Array(buffer, 0, rows * n);
            layerNorm(x, [rows, n], { dtype, out: y });
            expect(y.every((v, i) => Object.is(v, want32[i])), `${dtype} half x at byte ${2 * at}, float32 out at 0`).toBe(true);
            const x32 = new Float32Array(buffer, 0, rows * n);
            x32.set(decode(bits, dtype));
            const y16 = new Uint16Array(buffer, 2 * at, rows * n);
            layerNorm(x32, [rows, n], { dtype, out: y16 });
            expect(y16.every((v, i) => v === wantBits[i]), `${dtype} float32 x at 0, half out at byte ${2 * at}`).toBe(true);
          }
        }
      } finally {
        freeMade();
      }
    });
  }

  it('a half Tensor may be its own out (in place), and a half out may not overlap a half input Tensor', () => {
    try {
      const t = keep(tensor(randn(makeRng(3), 64, 0, 1), { dtype: 'float16' }));
      const want = layerNorm(t.array.slice(), [8, 8], { dtype: 'float16' });
      expect([...layerNorm(t, [8, 8], { out: t })]).toEqual([...want]);
      const w = keep(tensor(8, { dtype: 'float16' }));
      let code: string | undefined;
      try {
        layerNorm(t, [8, 8], { weight: w, out: w as unknown as Tensor });
      } catch (err) {
        code = (err as NormkitError).code;
      }
      expect(code).toBeDefined();
    } finally {
      freeMade();
    }
  });
});

describe('Tensors, Float16Array, empty calls', () => {
  it('tensor(n, { dtype }) and tensor(data, { dtype }): dtype, the array type, rounding of values and bits kept', () => {
    try {
      for (const dtype of DTYPES) {
        const t = keep(tensor(5, { dtype }));
        expect(t.dtype).toBe(dtype);
        expect(t.array).toBeInstanceOf(Uint16Array);
        expect([...t.array]).toEqual([0, 0, 0, 0, 0]);
        // 1 + 2^-11 is a float16 tie (rounds to even, 1); 1 + 3 * 2^-11 rounds up; 65520 overflows.
        const v = keep(tensor([1 + 2 ** -11, 1 + 3 * 2 ** -11, 65520, -0, NaN], { dtype }));
        const expected = dtype === 'float16' ? [0x3c00, 0x3c02, 0x7c00, 0x8000, 0x7e00] : [0x3f80, 0x3f80, 0x4780, 0x8000, 0x7fc0];
        expect([...v.array]).toEqual(expected);
        expect([...keep(tensor(Uint16Array.of(0x7c01, 1), { dtype })).array], 'bits are kept as they are').toEqual([0x7c01, 1]);
      }
      expect(tensor(2).dtype).toBe('float32');
      expect(keep(tensor(2, { dtype: 'float32' })).array).toBeInstanceOf(Float32Array);
    } finally {
      freeMade();
    }
  });

  it('a Float16Array is float16, and the output of a Float16Array x is one (where the runtime has Float16Array)', (ctx) => {
    if (F16 === undefined) ctx.skip();
    const values = randn(makeRng(5), 40, 1, 2);
    const x = new F16!(values);
    const y = layerNorm(x, [4, 10]);
    expect(y).toBeInstanceOf(F16!);
    const bits = layerNorm(bitsOf(x, 'float16'), [4, 10], { dtype: 'float16' });
    expect([...bitsOf(y, 'float16')]).toEqual([...bits]);
    let code: string | undefined;
    try {
      layerNorm(x, [4, 10], { dtype: 'bfloat16' });
    } catch (err) {
      code = (err as NormkitError).code;
    }
    expect(code).toBe('DTYPE_MISMATCH');
    // A Float16Array x and a Uint16Array out over the same bytes, shifted: the out-of-place result.
    const buffer = new ArrayBuffer(2 * 60);
    new Uint16Array(buffer, 0, 40).set(bitsOf(x, 'float16'));
    const out = new Uint16Array(buffer, 2 * 20, 40);
    layerNorm(new F16!(buffer, 0, 40), [4, 10], { dtype: 'float16', out });
    expect([...out]).toEqual([...bits]);
    freeMade();
  });

  it('a half Tensor x without out and without the dtype option: a new Uint16Array of its dtype', () => {
    try {
      for (const dtype of DTYPES) {
        const x = keep(tensor(randn(makeRng(9), 24, 1, 2), { dtype }));
        const want = layerNorm(x.array.slice(), [4, 6], { dtype });
        const y = groupNorm(x, [4, 6], 2);
        expect(y).toBeInstanceOf(Uint16Array);
        expect([...layerNorm(x, [4, 6])], dtype).toEqual([...want]);
        expect(y.length).toBe(24);
      }
    } finally {
      freeMade();
    }
  });

  it('empty groups give NaN statistics in their dtype', () => {
    for (const dtype of DTYPES) {
      const mean = new Uint16Array(3);
      const invStd = keep(tensor(3, { dtype }));
      layerNorm(new Uint16Array(0), [3, 0], { dtype, mean, invStd });
      const nan = dtype === 'float16' ? 0x7e00 : 0x7fc0;
      expect([...mean, ...invStd.array]).toEqual([nan, nan, nan, nan, nan, nan]);
    }
    freeMade();
  });
});

// The registry's arguments all get a kind in runHalf: a new op is covered as soon as it is in the registry.
it('the registry has every op', () => {
  expect(ENTRIES.map((e) => e.id).sort()).toEqual(Object.keys(REGISTRY).sort());
});
