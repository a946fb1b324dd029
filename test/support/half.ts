/// <reference types="vite/client" />
// assembly/half.ts under test: a tiny AssemblyScript entry compiled at test time (in memory, from source
// strings, so that it compiles in Node and in the browser alike) with buffer-level widen and narrow loops
// over its helpers, and the JS references they are checked against: exact decoders and an exact rounding
// on the bits, with integer arithmetic (no Math.fround, no Float32Array, no Float16Array).
import asc from 'assemblyscript/asc';
import halfSource from '../../assembly/half.ts?raw';

// The 8-wide loops are assembly/half.ts's array conversions (an 8-wide vector body, one v128 of halves,
// then one 4-wide step if 4 or more remain, then a scalar tail); the 4-wide loops use only the 4-wide helpers and the scalar
// loops only the scalar ones. Pointers need only be 2-byte aligned. The vector bodies are guarded
// do-while loops: V8's TurboFan hoists the helpers' v128 constants out of a loop only when the body
// dominates the loop's exit (a for loop rebuilds each constant, 3 instructions, every iteration).
const ENTRY = `
import { loadF16x4, loadBF16x4, loadF16, loadBF16, storeF16x4, storeBF16x4, storeF16, storeBF16 } from './half';
// The 8-wide loops are the ones the executor calls.
export {
  widenF16Array as widenF16, widenBF16Array as widenBF16, narrowF16Array as narrowF16, narrowBF16Array as narrowBF16,
} from './half';

export function widenF16x4(src: usize, dst: usize, n: i32): void {
  let i = 0;
  if (n >= 4) do { v128.store(dst + (<usize>i << 2), loadF16x4(src + (<usize>i << 1))); i += 4; } while (i + 4 <= n);
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), loadF16(src + (<usize>i << 1)));
}
export function widenF16Scalar(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(dst + (<usize>i << 2), loadF16(src + (<usize>i << 1)));
}
export function widenBF16x4(src: usize, dst: usize, n: i32): void {
  let i = 0;
  if (n >= 4) do { v128.store(dst + (<usize>i << 2), loadBF16x4(src + (<usize>i << 1))); i += 4; } while (i + 4 <= n);
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), loadBF16(src + (<usize>i << 1)));
}
export function widenBF16Scalar(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(dst + (<usize>i << 2), loadBF16(src + (<usize>i << 1)));
}

export function narrowF16x4(src: usize, dst: usize, n: i32): void {
  let i = 0;
  if (n >= 4) do { storeF16x4(dst + (<usize>i << 1), v128.load(src + (<usize>i << 2))); i += 4; } while (i + 4 <= n);
  for (; i < n; i++) storeF16(dst + (<usize>i << 1), load<f32>(src + (<usize>i << 2)));
}
export function narrowF16Scalar(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i++) storeF16(dst + (<usize>i << 1), load<f32>(src + (<usize>i << 2)));
}
export function narrowBF16x4(src: usize, dst: usize, n: i32): void {
  let i = 0;
  if (n >= 4) do { storeBF16x4(dst + (<usize>i << 1), v128.load(src + (<usize>i << 2))); i += 4; } while (i + 4 <= n);
  for (; i < n; i++) storeBF16(dst + (<usize>i << 1), load<f32>(src + (<usize>i << 2)));
}
export function narrowBF16Scalar(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i++) storeBF16(dst + (<usize>i << 1), load<f32>(src + (<usize>i << 2)));
}

/** dst[i] = start + i (u32), the f32 bit patterns of a sweep. */
export function iota(dst: usize, start: u32, n: i32): void {
  let v = i32x4.add(i32x4.splat(start), i32x4(0, 1, 2, 3));
  const step = i32x4.splat(4);
  let i = 0;
  for (; i + 4 <= n; i += 4) { v128.store(dst + (<usize>i << 2), v); v = i32x4.add(v, step); }
  for (; i < n; i++) store<u32>(dst + (<usize>i << 2), start + <u32>i);
}

/** The first i < n where the u16 arrays a and b differ, or -1. */
export function firstDiff16(a: usize, b: usize, n: i32): i32 {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 1;
    if (!i16x8.all_true(i16x8.eq(v128.load(a + o), v128.load(b + o)))) break;
  }
  for (; i < n; i++) if (load<u16>(a + (<usize>i << 1)) != load<u16>(b + (<usize>i << 1))) return i;
  return -1;
}
`;

export type Loop = (src: number, dst: number, n: number) => void;

export interface HalfKernels {
  memory: WebAssembly.Memory;
  widenF16: Loop;
  widenF16x4: Loop;
  widenF16Scalar: Loop;
  widenBF16: Loop;
  widenBF16x4: Loop;
  widenBF16Scalar: Loop;
  narrowF16: Loop;
  narrowF16x4: Loop;
  narrowF16Scalar: Loop;
  narrowBF16: Loop;
  narrowBF16x4: Loop;
  narrowBF16Scalar: Loop;
  iota(dst: number, start: number, n: number): void;
  firstDiff16(a: number, b: number, n: number): number;
}

/** The test entry's wasm, built from assembly/half.ts as it is now (plain SIMD only); a warning fails. */
export async function compileHalfKernels(): Promise<Uint8Array<ArrayBuffer>> {
  const sources: Record<string, string> = { 'entry.ts': ENTRY, 'half.ts': halfSource };
  let binary: Uint8Array | undefined;
  const { error, stderr } = await asc.main(
    ['entry.ts', '-O3', '--runtime', 'stub', '--enable', 'simd', '--noAssert', '--outFile', 'entry.wasm'],
    {
      readFile: (name: string) => sources[name] ?? null,
      writeFile: (name: string, contents: Uint8Array | string) => {
        if (name.endsWith('.wasm')) binary = contents as Uint8Array;
      },
      listFiles: () => [],
    },
  );
  const messages = stderr.toString();
  if (error || messages.trim() || !binary) throw new Error(`asc: ${error?.message ?? ''}\n${messages}`);
  return binary as Uint8Array<ArrayBuffer>;
}

/** An instance with at least `bytes` bytes of memory past the first page (which the stub runtime owns). */
export async function instantiateHalfKernels(wasm: Uint8Array<ArrayBuffer>, bytes: number): Promise<HalfKernels> {
  const { instance } = await WebAssembly.instantiate(wasm, {});
  const k = instance.exports as unknown as HalfKernels;
  const pages = Math.ceil((65536 + bytes) / 65536);
  const have = k.memory.buffer.byteLength / 65536;
  if (pages > have) k.memory.grow(pages - have);
  return k;
}

// ---- formats ------------------------------------------------------------------------------------------

export interface HalfFormat {
  name: 'float16' | 'bfloat16';
  /** Significand bits, the implicit one included. */
  p: number;
  /** Exponent bias; the largest finite biased exponent is 2 * bias. */
  bias: number;
  /** The canonical quiet NaN narrowing produces (sign added). */
  qnan: number;
}

export const FLOAT16: HalfFormat = { name: 'float16', p: 11, bias: 15, qnan: 0x7e00 };
export const BFLOAT16: HalfFormat = { name: 'bfloat16', p: 8, bias: 127, qnan: 0x7fc0 };

const f32Enc = { p: 24, bias: 127 };

/** Bits of the value sign * sig * 2^exp in a binary format (p, bias), which must hold it exactly. */
function encodeExact(sign: number, sig: number, exp: number, fmt: { p: number; bias: number }): number {
  const mantBits = fmt.p - 1;
  const expBits = Math.round(Math.log2(fmt.bias + 1)) + 1;
  const signBit = 2 ** (mantBits + expBits);
  const s = sign ? signBit : 0;
  if (sig === 0) return s;
  while (sig >= 2 ** fmt.p) {
    if (sig % 2) throw new Error('not exact');
    sig /= 2;
    exp++;
  }
  while (sig < 2 ** mantBits && exp + mantBits + fmt.bias > 1) {
    sig *= 2;
    exp--;
  }
  while (exp + mantBits + fmt.bias < 1) {
    if (sig % 2) throw new Error('not exact');
    sig /= 2;
    exp++;
  }
  const biased = exp + mantBits + fmt.bias;
  if (sig < 2 ** mantBits) {
    // subnormal: exp must be the subnormal quantum's
    if (biased !== 1) throw new Error('not exact');
    return s + sig;
  }
  if (biased >= 2 * fmt.bias + 1) throw new Error('overflow');
  return s + biased * 2 ** mantBits + (sig - 2 ** mantBits);
}

/** float16 or bfloat16 bits -> the f32 bits of the same value. NaN: the payload shifted up, as is. */
export function refWiden(h: number, fmt: HalfFormat): number {
  const mantBits = fmt.p - 1;
  const shift = 23 - mantBits;
  const sign = h >>> 15;
  const e = (h >>> mantBits) & (2 * fmt.bias + 1);
  const m = h & (2 ** mantBits - 1);
  if (e === 2 * fmt.bias + 1) return ((sign << 31) | 0x7f800000 | (m << shift)) >>> 0;
  const sig = e === 0 ? m : 2 ** mantBits + m;
  const exp = (e === 0 ? 1 : e) - fmt.bias - mantBits;
  return encodeExact(sign, sig, exp, f32Enc) >>> 0;
}

/**
 * f32 bits -> float16 or bfloat16 bits, rounded to nearest, ties to even, by exact integer arithmetic on
 * the value sig * 2^exp: overflow to Inf, subnormals, signed zeros; NaN -> the canonical quiet NaN with
 * the sign.
 */
export function refNarrow(bits: number, fmt: HalfFormat): number {
  bits >>>= 0;
  const sign = bits >>> 31;
  const signBit = sign << 15;
  const E = (bits >>> 23) & 0xff;
  const M = bits & 0x7fffff;
  const mantBits = fmt.p - 1;
  const infBits = (2 * fmt.bias + 1) * 2 ** mantBits;
  if (E === 255) return signBit | (M ? fmt.qnan : infBits);
  const sig = E ? M + 0x800000 : M;
  const exp = (E ? E : 1) - 150;
  if (sig === 0) return signBit;
  const top = exp + 31 - Math.clz32(sig); // floor(log2 value)
  const emin = 1 - fmt.bias;
  const q = Math.max(top, emin) - mantBits; // the value's quantum in the target: 2^q
  let n: number;
  if (exp >= q) n = sig * 2 ** (exp - q);
  else {
    const shift = q - exp;
    const unit = 2 ** shift;
    n = Math.floor(sig / unit);
    const rem = sig - n * unit;
    const half = unit / 2;
    if (rem > half || (rem === half && n % 2 === 1)) n++;
  }
  if (n === 0) return signBit;
  let qq = q;
  if (n === 2 ** fmt.p) {
    n /= 2;
    qq++;
  }
  if (n < 2 ** mantBits) return signBit | n; // subnormal (qq is the subnormal quantum)
  const biased = qq + mantBits + fmt.bias;
  if (biased > 2 * fmt.bias) return signBit | infBits;
  return signBit | (biased * 2 ** mantBits + (n - 2 ** mantBits));
}

/**
 * For each finite half h >= 0 (0 .. largest finite), the smallest positive f32 bit pattern that rounds to
 * h + 1 (Inf after the largest finite), from the exact midpoints of neighbouring values, a tie going to
 * the even one: the whole rounding function of positive f32s as a step table, independent of refNarrow.
 */
export function narrowBoundaries(fmt: HalfFormat): Uint32Array {
  const mantBits = fmt.p - 1;
  const maxFinite = 2 * fmt.bias * 2 ** mantBits + (2 ** mantBits - 1);
  const value = (h: number): [number, number] => {
    // [sig, exp] of a finite positive half, value = sig * 2^exp
    const e = h >>> mantBits;
    const m = h & (2 ** mantBits - 1);
    return [e === 0 ? m : 2 ** mantBits + m, (e === 0 ? 1 : e) - fmt.bias - mantBits];
  };
  const out = new Uint32Array(maxFinite + 1);
  for (let h = 0; h <= maxFinite; h++) {
    const [s0, e0] = value(h);
    // the next value up: h + 1, or 2^(emax + 1) after the largest finite
    const [s1, e1] = h === maxFinite ? [1, fmt.bias + 1] : value(h + 1);
    const e = Math.min(e0, e1);
    const sum = s0 * 2 ** (e0 - e) + s1 * 2 ** (e1 - e); // (a + b) / 2 = sum * 2^(e - 1), exact in f32
    const midBits = encodeExact(0, sum, e - 1, f32Enc);
    const upIsEven = (h + 1) % 2 === 0;
    out[h] = upIsEven ? midBits : midBits + 1;
  }
  return out;
}

/**
 * The expected narrowing of the f32 bit patterns start .. start + n - 1 (one sign: the range must not
 * cross 0x80000000) into out[0..n), written run by run with fill.
 */
export function fillExpectedNarrow(
  out: Uint16Array,
  start: number,
  n: number,
  fmt: HalfFormat,
  bounds: Uint32Array,
): void {
  const signBit = start >= 0x80000000 ? 0x8000 : 0;
  const lo = start >>> 0 & 0x7fffffff;
  const hi = lo + n; // exclusive
  let i = 0;
  // finite and Inf part: abs in [lo, min(hi, 0x7f800001))
  const finiteEnd = Math.min(hi, 0x7f800001);
  if (lo < finiteEnd) {
    // first h whose upper boundary is above lo
    let a = 0;
    let b = bounds.length; // bounds[b] is "infinity": everything maps below
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (bounds[mid] <= lo) a = mid + 1;
      else b = mid;
    }
    let h = a;
    let pos = lo;
    while (pos < finiteEnd) {
      const end = h < bounds.length ? Math.min(bounds[h], finiteEnd) : finiteEnd;
      out.fill(signBit | h, pos - lo, end - lo);
      pos = end;
      h++;
    }
    i = finiteEnd - lo;
  }
  if (i < n) out.fill(signBit | fmt.qnan, i, n); // NaNs
}
