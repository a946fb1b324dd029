// assembly/half.ts: float16 and bfloat16 widening and narrowing, every path (8-wide, 4-wide, scalar) of
// buffer loops compiled from it at test time, against exact JS references (test/support/half.ts: a
// decoder, a rounding of the exact value in integers, and a step table from the exact midpoints, the two
// roundings checked against each other at every boundary):
// - widening: all 65,536 patterns of each format;
// - narrowing: every f32 bit pattern of the bands where rounding happens: for float16 every positive
//   pattern of the exponents from below half the smallest subnormal to past the overflow threshold, and
//   for the negative ones all 2^14 low mantissa bits (those that decide the rounding) under 8 patterns of
//   the top 9; for bfloat16, whose rounding is the same bit operation at every exponent, every positive
//   pattern of the subnormal, smallest-normal, around-1 and overflow exponents and the low 16 bits of every
//   exponent of both signs; all f32 subnormals, Infs and NaNs; random and edge mantissas of every exponent
//   of both signs. NORMKIT_EXHAUSTIVE=1 runs all 2^32 patterns through every path of both formats instead
//   (a minute and a half on two busy cores; it prints the count and the time).
// - round trip half -> f32 -> half: the identity on every non-NaN pattern, NaNs come back canonical;
// - every length 0..20 at unaligned offsets (the vector bodies and the tails), writing nothing outside;
// - where the engine has a Float16Array (Chromium), the same bits as its conversions.
// Runs in Node, Chromium and Firefox: the same bits in every engine.
import { describe, it, expect, beforeAll } from 'vitest';
import {
  BFLOAT16,
  FLOAT16,
  compileHalfKernels,
  fillExpectedNarrow,
  instantiateHalfKernels,
  narrowBoundaries,
  refNarrow,
  refWiden,
  type HalfFormat,
  type HalfKernels,
  type Loop,
} from './support/half.js';

const env: Record<string, string | undefined> =
  (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
const EXHAUSTIVE = env.NORMKIT_EXHAUSTIVE === '1';
const CHUNK = 1 << 15; // f32 patterns per sweep step: in and out stay in L2
const N = 1 << 20; // the largest array of any test
const SRC = 65536; // N f32 (or u16) in
const OUT = SRC + N * 4; // three u16 outputs, one per path (or three f32 of 65,536: widening)
const EXP = OUT + 3 * N * 2; // the expected narrowing
const END = EXP + N * 2;
const WDST = OUT;

let k: HalfKernels;
const formats = [FLOAT16, BFLOAT16];
const narrowPaths = (f: HalfFormat): [string, Loop][] =>
  f === FLOAT16
    ? [['8-wide', k.narrowF16], ['4-wide', k.narrowF16x4], ['scalar', k.narrowF16Scalar]]
    : [['8-wide', k.narrowBF16], ['4-wide', k.narrowBF16x4], ['scalar', k.narrowBF16Scalar]];
const widenPaths = (f: HalfFormat): [string, Loop][] =>
  f === FLOAT16
    ? [['8-wide', k.widenF16], ['4-wide', k.widenF16x4], ['scalar', k.widenF16Scalar]]
    : [['8-wide', k.widenBF16], ['4-wide', k.widenBF16x4], ['scalar', k.widenBF16Scalar]];

const hex = (v: number, w = 8) => '0x' + (v >>> 0).toString(16).padStart(w, '0');

beforeAll(async () => {
  k = await instantiateHalfKernels(await compileHalfKernels(), END);
}, 60_000);

/** Sweeps f32 patterns [start, start + count) (one sign) through every narrowing path of fmt. */
function sweepNarrow(fmt: HalfFormat, bounds: Uint32Array, start: number, count: number): number {
  const u16 = () => new Uint16Array(k.memory.buffer);
  let checked = 0;
  for (let base = start; base < start + count; base += CHUNK) {
    const n = Math.min(CHUNK, start + count - base);
    k.iota(SRC, base >>> 0, n);
    fillExpectedNarrow(u16().subarray(EXP / 2, EXP / 2 + n), base >>> 0, n, fmt, bounds);
    narrowPaths(fmt).forEach(([path, loop], j) => {
      const out = OUT + j * N * 2;
      loop(SRC, out, n);
      const at = k.firstDiff16(out, EXP, n);
      if (at >= 0) {
        const bits = (base + at) >>> 0;
        const got = u16()[out / 2 + at];
        throw new Error(
          `${fmt.name} ${path}: ${hex(bits)} -> ${hex(got, 4)}, expected ${hex(u16()[EXP / 2 + at], 4)} ` +
            `(refNarrow ${hex(refNarrow(bits, fmt), 4)})`,
        );
      }
    });
    checked += n;
  }
  return checked;
}

// Where the engine has Float16Array (Chromium), its own conversions are a second, independent reference.
const F16 = (globalThis as { Float16Array?: new (b: ArrayBufferLike) => ArrayLike<number> & { buffer: ArrayBufferLike } }).Float16Array;

describe("the engine's Float16Array, where there is one", () => {
  it('widens all 65,536 float16 patterns and narrows the rounding bands like the 8-wide loops (NaNs aside)', (ctx) => {
    if (F16 === undefined) ctx.skip();
    const all = Uint16Array.from({ length: 65536 }, (_, h) => h);
    new Uint16Array(k.memory.buffer, SRC, 65536).set(all);
    k.widenF16(SRC, WDST, 65536);
    const mine = new Float32Array(k.memory.buffer, WDST, 65536);
    const theirs = new F16!(all.buffer);
    for (let h = 0; h < 65536; h++) {
      if (Number.isNaN(theirs[h])) expect(Number.isNaN(mine[h]), hex(h, 4)).toBe(true);
      else expect(Object.is(mine[h], theirs[h]), hex(h, 4)).toBe(true);
    }
    // One f32 pattern in 337 of the exponents 102..144: below half the smallest subnormal to past overflow.
    const n = 1 << 20;
    const bits = Uint32Array.from({ length: n }, (_, i) => ((102 << 23) + i * 337) >>> 0);
    new Uint32Array(k.memory.buffer, SRC, n).set(bits);
    k.narrowF16(SRC, OUT, n);
    const got = new Uint16Array(k.memory.buffer, OUT, n);
    const want = new Uint16Array(new F16!(new Float32Array(bits.buffer) as unknown as ArrayBufferLike).buffer);
    const first = [...got].findIndex((v, i) => v !== want[i]);
    expect(first, first < 0 ? '' : `${hex(bits[first])} -> ${hex(got[first], 4)}, the engine ${hex(want[first], 4)}`).toBe(-1);
  });
});

describe('the JS references', () => {
  it('refWiden decodes every non-NaN half to the f32 of the value (-1)^s 2^(e-bias) 1.m', () => {
    const dv = new DataView(new ArrayBuffer(4));
    for (const fmt of formats) {
      const mb = fmt.p - 1;
      for (let h = 0; h < 65536; h++) {
        const e = (h >>> mb) & (2 * fmt.bias + 1);
        const m = h & ((1 << mb) - 1);
        const s = h >>> 15 ? -1 : 1;
        dv.setUint32(0, refWiden(h, fmt));
        const got = dv.getFloat32(0);
        if (e === 2 * fmt.bias + 1) {
          expect(m ? Number.isNaN(got) : got === s * Infinity).toBe(true);
          continue;
        }
        const want = e === 0 ? s * m * 2 ** (1 - fmt.bias - mb) : s * (1 + m / 2 ** mb) * 2 ** (e - fmt.bias);
        if (!Object.is(got, want)) throw new Error(`${fmt.name} ${hex(h, 4)}: ${got} vs ${want}`);
      }
    }
  });

  it('refNarrow agrees with the midpoint table on both sides of every boundary, and on known values', () => {
    for (const fmt of formats) {
      const b = narrowBoundaries(fmt);
      for (let h = 0; h < b.length; h++) {
        for (const sign of [0, 0x80000000]) {
          for (const [bits, want] of [[(b[h] - 1) | sign, h], [b[h] | sign, h + 1]]) {
            const got = refNarrow(bits, fmt);
            if (got !== ((sign >>> 16) | want)) {
              throw new Error(`${fmt.name} ${hex(bits)}: refNarrow ${hex(got, 4)}, table ${hex(want, 4)}`);
            }
          }
        }
      }
    }
    const f16 = (x: number) => {
      const dv = new DataView(new ArrayBuffer(4));
      dv.setFloat32(0, x);
      return refNarrow(dv.getUint32(0), FLOAT16);
    };
    expect(f16(65504)).toBe(0x7bff);
    expect(f16(65519.996)).toBe(0x7bff);
    expect(f16(65520)).toBe(0x7c00); // the tie at the overflow threshold goes to Inf
    expect(f16(-1e9)).toBe(0xfc00);
    expect(f16(2 ** -25)).toBe(0); // a tie between 0 and the smallest subnormal: 0 is even
    expect(f16(-(2 ** -25) * (1 + 2 ** -23))).toBe(0x8001);
    expect(f16(2 ** -24 * 1.5)).toBe(2); // tie between subnormals 1 and 2
    expect(f16(2 ** -24 * 2.5)).toBe(2);
    expect(f16(2 ** -14 - 2 ** -25)).toBe(0x0400); // tie between the largest subnormal and the smallest normal
    expect(f16(1 + 2 ** -11)).toBe(0x3c00);
    expect(f16(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(f16(-0)).toBe(0x8000);
    expect(refNarrow(0x7f7fffff, BFLOAT16)).toBe(0x7f80); // the largest f32 rounds up to Inf
    expect(refNarrow(0x7f7f7fff, BFLOAT16)).toBe(0x7f7f);
    expect(refNarrow(0x00008000, BFLOAT16)).toBe(0x0000); // tie, to the even (zero) subnormal
    expect(refNarrow(0x00018000, BFLOAT16)).toBe(0x0002);
    expect(refNarrow(0xffc00001, BFLOAT16)).toBe(0xffc0);
    expect(refNarrow(0x7f800001, FLOAT16)).toBe(0x7e00);
  });
});

describe.each(formats)('$name', (fmt) => {
  const bounds = narrowBoundaries(fmt);

  it('widens all 65,536 patterns exactly, in every path', () => {
    new Uint16Array(k.memory.buffer, SRC, 65536).forEach((_, i, a) => (a[i] = i));
    for (const [path, loop] of widenPaths(fmt)) {
      loop(SRC, WDST, 65536);
      const got = new Uint32Array(k.memory.buffer, WDST, 65536);
      for (let h = 0; h < 65536; h++) {
        const want = refWiden(h, fmt);
        if (got[h] !== want) throw new Error(`${fmt.name} ${path}: ${hex(h, 4)} -> ${hex(got[h])}, expected ${hex(want)}`);
      }
    }
  });

  it('round trip half -> f32 -> half is the identity on every non-NaN pattern; NaNs come back canonical', () => {
    const u16 = new Uint16Array(k.memory.buffer);
    u16.subarray(SRC / 2, SRC / 2 + 65536).forEach((_, i, a) => (a[i] = i));
    const widen = widenPaths(fmt)[0][1];
    widen(SRC, WDST, 65536);
    for (const [path, narrow] of narrowPaths(fmt)) {
      narrow(WDST, EXP, 65536);
      for (let h = 0; h < 65536; h++) {
        const back = u16[EXP / 2 + h];
        const nan = ((h & 0x7fff) > (fmt === FLOAT16 ? 0x7c00 : 0x7f80));
        const want = nan ? (h & 0x8000) | fmt.qnan : h;
        if (back !== want) throw new Error(`${fmt.name} ${path}: ${hex(h, 4)} came back as ${hex(back, 4)}`);
      }
    }
  });

  it('narrows random and edge mantissas of every sign and exponent like refNarrow, in every path', () => {
    let seed = 12345;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0), seed >>> 9); // 23 bits
    const edges = [
      0, 1, 2, 0x7fffff, 0x7ffffe, 0x400000, 0x3fffff, 0x000fff, 0x001000, 0x001001, 0x001fff, 0x002000, 0x002001,
      0x003000, 0x007fff, 0x008000, 0x008001, 0x00ffff, 0x010000, 0x018000, 0x7fe000, 0x7fefff, 0x7ff000, 0x7ff001,
    ];
    const bits: number[] = [];
    for (let se = 0; se < 512; se++) {
      for (const m of edges) bits.push(((se << 23) | m) >>> 0);
      for (let j = 0; j < 1000; j++) bits.push(((se << 23) | rand()) >>> 0);
    }
    const n = bits.length;
    new Uint32Array(k.memory.buffer, SRC, n).set(bits);
    const want = bits.map((b) => refNarrow(b, fmt));
    for (const [path, loop] of narrowPaths(fmt)) {
      loop(SRC, OUT, n);
      const got = new Uint16Array(k.memory.buffer, OUT, n);
      for (let i = 0; i < n; i++) {
        if (got[i] !== want[i]) {
          throw new Error(`${fmt.name} ${path}: ${hex(bits[i])} -> ${hex(got[i], 4)}, expected ${hex(want[i], 4)}`);
        }
      }
    }
  });

  // [start, count] ranges of f32 patterns, each of one sign.
  const bands: [number, number][] = [];
  const exps = (lo: number, hi: number) => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  if (EXHAUSTIVE) bands.push([0, 2 ** 31], [2 ** 31, 2 ** 31]);
  else if (fmt === FLOAT16) {
    // Exponents 101..143: from below 2^-25 (half the smallest subnormal) to 2^17 (past 65520), positive.
    bands.push([101 << 23, 43 << 23]);
    // Negative: all 2^14 low mantissa bits (which decide the rounding) under 8 patterns of the top 9.
    for (const e of exps(101, 143)) {
      for (const top of [0, 1, 0x55, 0xaa, 0x100, 0x1f0, 0x1fe, 0x1ff]) {
        bands.push([(0x100 + e) * 2 ** 23 + top * 2 ** 14, 2 ** 14]);
      }
    }
    // f32 subnormals and zeros, Infs and NaNs, both signs.
    for (const se of [0, 0x100, 0xff, 0x1ff]) bands.push([se * 2 ** 23, 2 ** 23]);
  } else {
    // Rounding is the same bit operation at every exponent: every pattern of the exponents where it
    // meets a boundary (subnormals and the smallest normals, around 1, overflow, Inf and NaN), positive.
    for (const e of [0, 1, 2, 126, 127, 254, 255]) bands.push([e << 23, 1 << 23]);
    // Every exponent of both signs: the 2^16 low bits (which decide the rounding) under the top 7 bits
    // all clear and all set (where rounding up carries into the exponent).
    for (let se = 0; se < 512; se++) for (const top of [0, 0x7f]) bands.push([se * 2 ** 23 + top * 2 ** 16, 2 ** 16]);
  }
  const what = EXHAUSTIVE ? 'all 2^32' : 'the rounding bands';
  it(`narrows every f32 pattern of ${what} like the midpoint table, in every path`, () => {
    const t0 = performance.now();
    let checked = 0;
    for (const [start, count] of bands) checked += sweepNarrow(fmt, bounds, start, count);
    if (EXHAUSTIVE) {
      expect(checked).toBe(2 ** 32);
      const seconds = ((performance.now() - t0) / 1000).toFixed(1);
      console.log(
        `${fmt.name}: all ${checked} f32 patterns narrowed identically by the 8-wide, 4-wide and scalar paths ` +
          `and the reference (${seconds} s)`,
      );
    }
  }, EXHAUSTIVE ? 3_600_000 : 60_000);

  it('every length 0..20 at every 2-byte offset: right values, nothing written outside', () => {
    const u16 = new Uint16Array(k.memory.buffer);
    const u32 = new Uint32Array(k.memory.buffer);
    const inputs = [0x3f800000, 0xc0490fdb, 0x477ff000, 0x33000001, 0x7fc00000, 0x00000001, 0x80000000, 0x387fc000,
      0x7f7fffff, 0xff800000, 0x3f808000, 0x3f818000, 0x38000000, 0x2f000000, 0x477fe000, 0xbf7fffff,
      0x42f6e979, 0x00800000, 0x7f800001, 0x3eaaaaab, 0x40490fdb];
    for (let n = 0; n <= 20; n++) {
      for (let off = 0; off < 4; off++) {
        for (const [path, loop] of narrowPaths(fmt)) {
          // narrowing: src f32 at SRC + 4 * off, dst u16 at OUT + 2 * off, guards around dst
          const src = SRC / 4 + off;
          for (let i = 0; i < n; i++) u32[src + i] = inputs[i];
          const dst = OUT / 2 + off;
          u16.fill(0xabcd, dst - 8, dst + n + 8);
          loop(SRC + 4 * off, OUT + 2 * off, n);
          for (let i = -8; i < n + 8; i++) {
            const want = i < 0 || i >= n ? 0xabcd : refNarrow(inputs[i], fmt);
            if (u16[dst + i] !== want) {
              throw new Error(`${fmt.name} narrow ${path} n=${n} off=${off} i=${i}: ${hex(u16[dst + i], 4)} vs ${hex(want, 4)}`);
            }
          }
        }
        for (const [path, loop] of widenPaths(fmt)) {
          // widening: src u16 at SRC + 2 * off (any 2-byte alignment), dst f32, guards around dst
          const src = SRC / 2 + off;
          for (let i = 0; i < n; i++) u16[src + i] = refNarrow(inputs[i], fmt) ^ (i & 1);
          const dst = EXP / 4 + off;
          u32.fill(0xdeadbeef, dst - 4, dst + n + 4);
          loop(SRC + 2 * off, EXP + 4 * off, n);
          for (let i = -4; i < n + 4; i++) {
            const want = i < 0 || i >= n ? 0xdeadbeef : refWiden(u16[src + i], fmt);
            if (u32[dst + i] !== want) {
              throw new Error(`${fmt.name} widen ${path} n=${n} off=${off} i=${i}: ${hex(u32[dst + i])} vs ${hex(want)}`);
            }
          }
        }
      }
    }
  });
});
