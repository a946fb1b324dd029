// Half precision in plain JavaScript: what a user without normkit's half-precision storage writes around a
// float32 call (the "JS convert" alternative: widen, call, narrow), and how the benchmark rounds its inputs
// and reads half-precision outputs. Exact: widening is a table (float16) or a shift (bfloat16); narrowing
// rounds to nearest-even on the float32 bits, as normkit does.

/** float16 bits -> the value (exact). */
function f16Value(h) {
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  const v = e === 0 ? m * 2 ** -24 : e === 31 ? (m ? NaN : Infinity) : (1 + m / 1024) * 2 ** (e - 15);
  return h & 0x8000 ? -v : v;
}

const F16_TABLE = Float32Array.from({ length: 65536 }, (_, h) => f16Value(h));

/** float32 bits -> float16 bits, nearest-even; NaN -> the quiet NaN of its sign. */
function f16Bits(b) {
  const sign = (b >>> 16) & 0x8000;
  const a = b & 0x7fffffff;
  if (a > 0x7f800000) return sign | 0x7e00;
  if (a >= 0x477ff000) return sign | 0x7c00; // 65520 and up round to Inf
  if (a >= 0x38800000) return sign | ((a - 0x38000000 + 0xfff + ((a >>> 13) & 1)) >>> 13);
  if (a < 0x33000000) return sign; // below 2^-25 (2^-25 itself ties to 0)
  // A float16 subnormal: m * 2^(e - 150) in units of 2^-24, rounded to nearest-even.
  const m = (a & 0x7fffff) | 0x800000;
  const shift = 126 - (a >>> 23);
  const rem = m & ((1 << shift) - 1);
  const mid = 1 << (shift - 1);
  const k = m >>> shift;
  return sign | (rem > mid || (rem === mid && k & 1) ? k + 1 : k);
}

/** float32 bits -> bfloat16 bits, nearest-even; NaN -> the quiet NaN of its sign. */
function bf16Bits(b) {
  if ((b & 0x7fffffff) > 0x7f800000) return ((b >>> 16) & 0x8000) | 0x7fc0;
  return (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
}

/** Half-precision bits -> float32 values (into `out` when given). */
export function widen(bits, dtype, out = new Float32Array(bits.length)) {
  const n = bits.length;
  if (dtype === 'float16') {
    for (let i = 0; i < n; i++) out[i] = F16_TABLE[bits[i]];
  } else {
    const u = new Uint32Array(out.buffer, out.byteOffset, n);
    for (let i = 0; i < n; i++) u[i] = bits[i] << 16;
  }
  return out;
}

/** float32 values (a Float32Array) -> half-precision bits (into `out` when given). */
export function narrow(values, dtype, out = new Uint16Array(values.length)) {
  const n = values.length;
  const u = new Uint32Array(values.buffer, values.byteOffset, n);
  if (dtype === 'float16') for (let i = 0; i < n; i++) out[i] = f16Bits(u[i]);
  else for (let i = 0; i < n; i++) out[i] = bf16Bits(u[i]);
  return out;
}

/** Values rounded to `dtype`, as float32. */
export const round = (values, dtype) => widen(narrow(Float32Array.from(values), dtype), dtype);

/** Relative error of one rounding to nearest: 2^-p, p the significand bits (the output's rounding). */
export const UNIT = { float16: 2 ** -11, bfloat16: 2 ** -8 };
