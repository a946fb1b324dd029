// Half-precision storage: float16 (IEEE binary16) and bfloat16 bits widened to f32 on load and narrowed
// from f32 on store, exactly, with plain wasm SIMD128 only (no relaxed SIMD: V8 and SpiderMonkey give the
// same bits, tested). wasm has no half-precision arithmetic: the kernels do their maths in f32 (or better)
// and these functions convert in registers.
//
// Widening is exact for every one of the 65,536 patterns of each format: ±0, subnormals, normals and ±Inf
// become the f32 of the same value; a NaN keeps its sign and its payload, shifted to the top of the f32
// payload (a quiet NaN stays quiet, a signalling one signalling): NaN lanes are built with integer
// operations, never by a float operation, whose NaN bits wasm leaves to the engine.
//
// Narrowing rounds to nearest, ties to even, at every boundary (subnormal, normal, overflow): from the
// largest finite half plus half an ulp up (float16: 65520; bfloat16: 0x7F7F8000) it gives ±Inf, it makes
// subnormals and ±0 with the sign kept. A NaN becomes the canonical quiet NaN with its sign: float16
// 0x7E00 | sign, bfloat16 0x7FC0 | sign (the payload is dropped), as Eigen (onnxruntime's conversions)
// does. So half -> f32 -> half is the identity on every non-NaN pattern, and on the canonical NaNs.
//
// Vector API (all @inline; element i of memory is lane i):
//   widenF16(h) / widenBF16(h)        i32x4 whose lanes hold half bits in their low 16 bits (the high 16
//                                     are ignored) -> f32x4
//   widenF16x8Lo(v) / widenF16x8Hi(v) i16x8 of 8 halves (one v128.load) -> f32x4 of halves 0..3 / 4..7;
//   widenBF16x8Lo / widenBF16x8Hi     the same for bfloat16. Call both on the same v: once inlined, their
//                                     common i16 work is done once (asc -O3 merges it in the wasm)
//   loadF16x4(p) / loadBF16x4(p)      4 halves (8 bytes) at p -> f32x4
//   narrowF16(x) / narrowBF16(x)      f32x4 -> i32x4 of half bits (0..0xFFFF, high 16 bits zero)
//   narrowF16x8(a, b) / narrowBF16x8  two f32x4 -> i16x8 of 8 halves (a in lanes 0..3)
//   storeF16x4(p, x) / storeBF16x4    4 halves (8 bytes) to p
//   storeF16x8(p, a, b) / storeBF16x8 8 halves (16 bytes) to p
// Scalar API, giving the same bits as the vector lanes (for tails):
//   f16ToF32(h) / bf16ToF32(h), f32ToF16(x) / f32ToBF16(x) (bits in the low 16 of a u32),
//   loadF16(p) / loadBF16(p), storeF16(p, x) / storeBF16(p, x)
// p needs no alignment (2 bytes is natural). For 16 elements a loop does two v128.load and four widens,
// or two storeF16x8.
//
// Cost, in wasm operations per 4 elements, the load or store included (x64 instructions from V8 in
// parentheses where they differ: v128.bitselect is 3), against 1 for an f32 load or store:
//   widen float16    8-wide 10.5 (v128.load + widenF16x8Lo + widenF16x8Hi: 21 per 8); 4-wide 13
//   widen bfloat16   8-wide 1.5 (a load and two zero-interleaves per 8); 4-wide 2
//   narrow float16   8-wide 18 (two v128.load + storeF16x8: 36 per 8); 4-wide 19
//   narrow bfloat16  8-wide 11 (13); 4-wide 12 (14)
// Measured in Node 20 (V8) on a loop summing widened values from L1: f32 0.1 ns per element, bfloat16
// 0.16, float16 0.47 (8-wide) and 0.53 (4-wide); narrowing f32 to float16 0.8, to bfloat16 0.5, an f32
// copy 0.16. Subnormal halves cost the same as normal ones.
//
// Loops: TurboFan (V8) hoists the helpers' v128 constants out of a loop only when the loop body dominates
// its exit, as in a guarded do-while (`if (n >= 8) do { ... } while (i + 8 <= n)`); in a `for` loop it
// rebuilds every constant (3 instructions each) on every iteration: 15 more instructions per iteration for
// widenF16's five, against its 13.

// ---- float16 -> f32 -----------------------------------------------------------------------------------
// With e the half's exponent and mantissa bits moved to where an f32's go (bits 27..13 of the magnitude):
// - a normal half (exponent 1..30) is e + (112 << 23): the exponent rebiased, exact, in integers;
// - a subnormal (or zero) half, m * 2^-24, is (e + (113 << 23)) - 2^-14 in f32: 2^-14 * (1 + m/1024)
//   minus 2^-14, an exact subtraction of two normal floats.
// For a normal half the second formula gives 2 * value - 2^-14 >= value and for a subnormal the first
// gives 2^-15 * (1 + m/1024) > value: the right one is always the smaller, so an unsigned min of the
// two bit patterns picks it (both are positive floats, whose bits order like their values). No float
// operation makes an f32 subnormal or multiplies one, which costs a hundred cycles or more on x86 cores
// (the classic multiply of the bits, an f32 subnormal for a half subnormal, by 2^112 does: 16x to 26x
// slower on such data here).
// The exponent 31 (Inf, NaN) comes out of the first formula as exponent 143 with the mantissa intact:
// OR-ing the exponent field full makes it Inf or the NaN with the same payload, and the sign goes back
// in last. The f32 subtraction never sees a NaN either: NaN lanes are integer-built, bit-exact.

const TWO_M14: f32 = reinterpret<f32>(0x38800000); // 2^-14

// f32 bits from t: lanes with the float16 bits in their high 16 bits and zeros in the low 16.
@inline function widenF16Top(t: v128): v128 {
  const e = i32x4.shr_u(i32x4.add(t, t), 4); // exponent and mantissa at 27..13
  const normal = i32x4.add(e, i32x4.splat(0x38000000));
  const subnormal = f32x4.sub(i32x4.add(e, i32x4.splat(0x38800000)), f32x4.splat(TWO_M14));
  const special = v128.and(i32x4.gt_s(e, i32x4.splat(0x0f7fffff)), i32x4.splat(0x7f800000));
  const sign = v128.and(t, i32x4.splat(0x80000000));
  return v128.or(i32x4.min_u(normal, subnormal), v128.or(special, sign));
}

/** lanes whose low 16 bits hold float16 bits -> f32x4 (exact). */
@inline export function widenF16(h: v128): v128 {
  return widenF16Top(i32x4.shl(h, 16));
}

// The 8-wide form does the per-half work once for 8 halves in i16 lanes: the high 16 bits of the first
// formula's result, the special exponent fixed there (31 + 112 + 112 = 255), and the low 16 bits. The
// second formula is computed from the first's bits, e + (112 << 23) + (1 << 23): on Inf/NaN lanes that
// carries into the sign bit, so it is a negative float, larger as bits than the Inf/NaN, and the min
// keeps the latter. (Its subtraction may then see a negative f32 subnormal: only results, not operands,
// of an add or subtract are slow as subnormals.) widenF16x8Lo and widenF16x8Hi of the same vector share
// these i16 operations once inlined (Binaryen's -O3 merges them).

// i16x8: the high halves of the first formula's f32 bits (no sign), exponent 31 already made 255.
@inline function f16x8High(v: v128): v128 {
  const e = v128.and(v, i16x8.splat(0x7fff));
  const special = v128.and(i16x8.gt_s(e, i16x8.splat(0x7bff)), i16x8.splat(0x3800));
  return i16x8.add(i16x8.add(i16x8.shr_u(e, 3), i16x8.splat(0x3800)), special);
}

// f32 bits from the first formula's bits n (the exponent 31 already made 255) and the sign bits s.
@inline function f16Finish(n: v128, s: v128): v128 {
  const subnormal = f32x4.sub(i32x4.add(n, i32x4.splat(0x00800000)), f32x4.splat(TWO_M14));
  return v128.or(i32x4.min_u(n, subnormal), s);
}

/** Halves 0..3 of an i16x8 of float16 bits -> f32x4. */
@inline export function widenF16x8Lo(v: v128): v128 {
  const n = v128.shuffle<i16>(i16x8.shl(v, 13), f16x8High(v), 0, 8, 1, 9, 2, 10, 3, 11);
  const s = v128.shuffle<i16>(i16x8.splat(0), v128.and(v, i16x8.splat(<i16>0x8000)), 0, 8, 1, 9, 2, 10, 3, 11);
  return f16Finish(n, s);
}

/** Halves 4..7 of an i16x8 of float16 bits -> f32x4. */
@inline export function widenF16x8Hi(v: v128): v128 {
  const n = v128.shuffle<i16>(i16x8.shl(v, 13), f16x8High(v), 4, 12, 5, 13, 6, 14, 7, 15);
  const s = v128.shuffle<i16>(i16x8.splat(0), v128.and(v, i16x8.splat(<i16>0x8000)), 4, 12, 5, 13, 6, 14, 7, 15);
  return f16Finish(n, s);
}

/** The 4 float16 values at p (8 bytes) as f32x4. */
@inline export function loadF16x4(p: usize): v128 {
  return widenF16(v128.load16x4_u(p));
}

/** The float16 bits h (low 16 bits) as f32: the same bits as widenF16's lanes. */
@inline export function f16ToF32(h: u32): f32 {
  const e = (h & 0x7fff) << 13;
  let r = min(e + 0x38000000, reinterpret<u32>(reinterpret<f32>(e + 0x38800000) - TWO_M14));
  if (e > 0x0f7fffff) r |= 0x7f800000;
  return reinterpret<f32>(r | (h & 0x8000) << 16);
}

/** The float16 value at p. */
@inline export function loadF16(p: usize): f32 {
  return f16ToF32(<u32>load<u16>(p));
}

// ---- bfloat16 -> f32 ----------------------------------------------------------------------------------
// bfloat16 bits are the top 16 bits of the f32 of the same value: a shift.

/** lanes whose low 16 bits hold bfloat16 bits -> f32x4 (exact). */
@inline export function widenBF16(h: v128): v128 {
  return i32x4.shl(h, 16);
}

/** Halves 0..3 of an i16x8 of bfloat16 bits -> f32x4. */
@inline export function widenBF16x8Lo(v: v128): v128 {
  return v128.shuffle<i16>(i16x8.splat(0), v, 0, 8, 1, 9, 2, 10, 3, 11);
}

/** Halves 4..7 of an i16x8 of bfloat16 bits -> f32x4. */
@inline export function widenBF16x8Hi(v: v128): v128 {
  return v128.shuffle<i16>(i16x8.splat(0), v, 4, 12, 5, 13, 6, 14, 7, 15);
}

/** The 4 bfloat16 values at p (8 bytes) as f32x4. */
@inline export function loadBF16x4(p: usize): v128 {
  return i32x4.shl(v128.load16x4_u(p), 16);
}

/** The bfloat16 bits h (low 16 bits) as f32. */
@inline export function bf16ToF32(h: u32): f32 {
  return reinterpret<f32>(h << 16);
}

/** The bfloat16 value at p. */
@inline export function loadBF16(p: usize): f32 {
  return reinterpret<f32>(<u32>load<u16>(p) << 16);
}

// ---- f32 -> float16 -----------------------------------------------------------------------------------
// The magnitude c = |x|, clamped to 2^16 (where Inf starts; 65520 and up round up to it on their own), is
// rounded by the FPU: adding magic = 2^(E+13), E = max(exponent of c, -14), puts c's half-precision ulp
// (2^(E-10); 2^-24 for half subnormals) at the last place of the sum, so the f32 add rounds c to
// nearest-even at exactly the right bit, subnormals included (there E = -14 and magic = 0.5). The sum's
// bits minus magic's bits are then c in half ulps, k (1024 + mantissa for a normal, 2048 when it rounds up
// into the next binade; the half's own bits below 2^-13), and the half is k + (E + 14) << 10, a carry into
// the exponent included, up to 0x7C00 (Inf) for the clamped values. A NaN is first replaced by 1.5 * 2^16,
// which comes out as 0x7E00. The sign goes back in last. The add sees only finite values (never a NaN) and
// makes no f32 subnormal (f32 subnormal inputs are fine: adding one costs nothing extra).

// f32x4 -> lanes of float16 bits without the sign (0..0x7E00).
@inline function narrowF16Abs(x: v128): v128 {
  const a = v128.and(x, i32x4.splat(0x7fffffff));
  const nan = v128.and(i32x4.gt_s(a, i32x4.splat(0x7f800000)), i32x4.splat(0x00400000));
  const c = v128.or(i32x4.min_u(a, i32x4.splat(0x47800000)), nan); // NaN: 0x47C00000
  const e = i32x4.max_u(v128.and(c, i32x4.splat(0x7f800000)), i32x4.splat(0x38800000)); // 2^E
  const magic = i32x4.add(e, i32x4.splat(0x06800000)); // 2^(E+13)
  const k = i32x4.sub(f32x4.add(c, magic), magic);
  return i32x4.add(k, i32x4.sub(i32x4.shr_u(e, 13), i32x4.splat(0x1c400))); // + (E + 14) << 10
}

/** f32x4 -> lanes of float16 bits (0..0xFFFF). */
@inline export function narrowF16(x: v128): v128 {
  return v128.or(narrowF16Abs(x), v128.and(i32x4.shr_u(x, 16), i32x4.splat(0x8000)));
}

/** Two f32x4 (a: elements 0..3, b: 4..7) -> i16x8 of float16 bits. */
@inline export function narrowF16x8(a: v128, b: v128): v128 {
  return i16x8.narrow_i32x4_u(narrowF16(a), narrowF16(b)); // lanes are 0..0xFFFF: nothing saturates
}

/** Stores 4 float16 values (8 bytes) at p. */
@inline export function storeF16x4(p: usize, x: v128): void {
  const h = narrowF16(x);
  v128.store64_lane(p, i16x8.narrow_i32x4_u(h, h), 0);
}

/** Stores 8 float16 values (16 bytes) at p: a then b. */
@inline export function storeF16x8(p: usize, a: v128, b: v128): void {
  v128.store(p, narrowF16x8(a, b));
}

/** x as float16 bits: the same bits as narrowF16's lanes. */
@inline export function f32ToF16(x: f32): u32 {
  const bits = reinterpret<u32>(x);
  const a = bits & 0x7fffffff;
  const c = a > 0x7f800000 ? <u32>0x47c00000 : min(a, <u32>0x47800000);
  const e = max(c & 0x7f800000, <u32>0x38800000);
  const magic = e + 0x06800000;
  const k = reinterpret<u32>(reinterpret<f32>(c) + reinterpret<f32>(magic)) - magic;
  return (k + (e >> 13) - 0x1c400) | ((bits >> 16) & 0x8000);
}

/** Stores x as float16 at p. */
@inline export function storeF16(p: usize, x: f32): void {
  store<u16>(p, <u16>f32ToF16(x));
}

// ---- f32 -> bfloat16 ----------------------------------------------------------------------------------
// Round to nearest-even at bit 16: add 0x7FFF plus the kept lsb and drop the low 16 bits; the carry goes
// into the exponent, and from the largest finite f32s into Inf, as it should (no finite f32 carries into
// the sign). A NaN would: it is replaced by the canonical quiet NaN of its sign, 0x7FC0 | sign.

// f32x4 -> lanes whose high 16 bits are the bfloat16 bits.
@inline function narrowBF16Top(x: v128): v128 {
  const lsb = v128.and(i32x4.shr_u(x, 16), i32x4.splat(1));
  const r = i32x4.add(i32x4.add(x, i32x4.splat(0x7fff)), lsb);
  const nan = v128.or(v128.and(x, i32x4.splat(0x80000000)), i32x4.splat(0x7fc00000));
  return v128.bitselect(nan, r, f32x4.ne(x, x));
}

/** f32x4 -> lanes of bfloat16 bits (0..0xFFFF). */
@inline export function narrowBF16(x: v128): v128 {
  return i32x4.shr_u(narrowBF16Top(x), 16);
}

/** Two f32x4 (a: elements 0..3, b: 4..7) -> i16x8 of bfloat16 bits. */
@inline export function narrowBF16x8(a: v128, b: v128): v128 {
  return i16x8.narrow_i32x4_u(narrowBF16(a), narrowBF16(b));
}

/** Stores 4 bfloat16 values (8 bytes) at p. */
@inline export function storeBF16x4(p: usize, x: v128): void {
  const h = narrowBF16(x);
  v128.store64_lane(p, i16x8.narrow_i32x4_u(h, h), 0);
}

/** Stores 8 bfloat16 values (16 bytes) at p: a then b. */
@inline export function storeBF16x8(p: usize, a: v128, b: v128): void {
  v128.store(p, narrowBF16x8(a, b));
}

/** x as bfloat16 bits: the same bits as narrowBF16's lanes. */
@inline export function f32ToBF16(x: f32): u32 {
  const bits = reinterpret<u32>(x);
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >> 16) & 0x8000) | 0x7fc0;
  return (bits + 0x7fff + ((bits >> 16) & 1)) >> 16;
}

/** Stores x as bfloat16 at p. */
@inline export function storeBF16(p: usize, x: f32): void {
  store<u16>(p, <u16>f32ToBF16(x));
}

// ---- arrays -------------------------------------------------------------------------------------------
// The conversions of the executor's staging (src/staging.ts): n elements from src to dst, 2-byte aligned
// pointers. Each body loads its vector before it stores, so both run in place over one f32 buffer:
// - widening from half bits stored in the buffer's upper half (src = dst + 2n): the step at element i
//   stores up to byte 4(i + 8) of dst and has read up to byte 2n + 2(i + 8), and 4(i + 8) <= 2n + 2(i + 8)
//   while i + 8 <= n (likewise for the 4-wide step and the scalar tail), so no unread half is overwritten;
// - narrowing to the buffer's lower half (src = dst): the stores at bytes [2i, 2i + 16) trail the loads at
//   [4i, 4i + 32).
// Tested exhaustively with the helpers (test/half.test.ts), and in place (test/half-storage.test.ts).

// One loop per direction, the format a literal at each call site: once inlined, -O3 keeps only its branch.
@inline function widenLoop(src: usize, dst: usize, n: i32, float16: bool): void {
  let i = 0;
  if (n >= 8) do {
    const h = v128.load(src + (<usize>i << 1));
    v128.store(dst + (<usize>i << 2), float16 ? widenF16x8Lo(h) : widenBF16x8Lo(h));
    v128.store(dst + (<usize>i << 2), float16 ? widenF16x8Hi(h) : widenBF16x8Hi(h), 16);
    i += 8;
  } while (i + 8 <= n);
  if (i + 4 <= n) {
    const p = src + (<usize>i << 1);
    v128.store(dst + (<usize>i << 2), float16 ? loadF16x4(p) : loadBF16x4(p));
    i += 4;
  }
  for (; i < n; i++) {
    const p = src + (<usize>i << 1);
    store<f32>(dst + (<usize>i << 2), float16 ? loadF16(p) : loadBF16(p));
  }
}

@inline function narrowLoop(src: usize, dst: usize, n: i32, float16: bool): void {
  let i = 0;
  if (n >= 8) do {
    const p = src + (<usize>i << 2);
    const q = dst + (<usize>i << 1);
    if (float16) storeF16x8(q, v128.load(p), v128.load(p, 16));
    else storeBF16x8(q, v128.load(p), v128.load(p, 16));
    i += 8;
  } while (i + 8 <= n);
  if (i + 4 <= n) {
    const v = v128.load(src + (<usize>i << 2));
    if (float16) storeF16x4(dst + (<usize>i << 1), v);
    else storeBF16x4(dst + (<usize>i << 1), v);
    i += 4;
  }
  for (; i < n; i++) {
    const x = load<f32>(src + (<usize>i << 2));
    if (float16) storeF16(dst + (<usize>i << 1), x);
    else storeBF16(dst + (<usize>i << 1), x);
  }
}

/** n float16 values at src -> f32 at dst. */
export function widenF16Array(src: usize, dst: usize, n: i32): void {
  widenLoop(src, dst, n, true);
}

/** n bfloat16 values at src -> f32 at dst. */
export function widenBF16Array(src: usize, dst: usize, n: i32): void {
  widenLoop(src, dst, n, false);
}

/** n f32 at src -> float16 at dst. */
export function narrowF16Array(src: usize, dst: usize, n: i32): void {
  narrowLoop(src, dst, n, true);
}

/** n f32 at src -> bfloat16 at dst. */
export function narrowBF16Array(src: usize, dst: usize, n: i32): void {
  narrowLoop(src, dst, n, false);
}
