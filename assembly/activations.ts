// Activations for the apply pass's epilogue: relu, silu, gelu (the erf form, PyTorch's default) and
// gelu_tanh (PyTorch's approximate='tanh'), on f32x4 lanes. Plain SIMD128 and scalar operations only,
// so that every engine computes the same bits (no relaxed SIMD, no Math.* in the vector path): each exp
// below is a Cody-Waite range reduction and a fixed polynomial, written out here.
//
// Accuracy against the float64 function rounded to float32, checked over all 2^32 float32 inputs
// (test/activations.node.test.ts; NORMKIT_EXHAUSTIVE=1 runs the full sweep):
//   relu exact; silu <= 2 ulps; gelu <= 3 ulps; gelu_tanh <= 2 ulps
// wherever the result is at least 1e-7 in magnitude (the bound is 4 ulps there), and within
// 1.5e-14 absolute below that. In ulps: gelu holds its 3 down to the smallest normal result; silu and
// gelu_tanh stay within 4 for every result above 4e-37 and 5e-38, below which their clamps flush to -0.
// Vector operations per 4 lanes: relu 1; silu 25; gelu_tanh 43 (its exponent's argument is formed in
// f64); gelu 60 (two forms joined by a select, see gelu). silu, gelu_tanh and gelu have one division each.
//
// Special values (the limit wherever the textbook formula would give NaN; NaN only from NaN):
//   relu(x) = x < 0 ? +0 : x: relu(-0) = -0, relu(NaN) = the same NaN (its bits kept), relu(-Inf) = +0.
//   silu(±0) = ±0, silu(+Inf) = +Inf, silu(-Inf) = -0 (x/(1 + exp(-x)) would be -Inf/Inf = NaN);
//     silu(x) = -0 for x below about -88.4, where |silu(x)| < 4e-37.
//   gelu(±0) = ±0, gelu(+Inf) = +Inf, gelu(-Inf) = -0 (0.5·x·(1 + erf(x/√2)) would be -Inf·0 = NaN);
//     gelu(x) = -0 for x <= -13.25, where |gelu(x)| < 1e-38.
//   gelu_tanh(±0) = ±0, gelu_tanh(+Inf) = +Inf, gelu_tanh(-Inf) = -0; -0 for x <= -10.06 (|result| < 4e-38).
//   NaN in gives NaN out for every kind. Arithmetic on a NaN may set its payload and sign as the hardware
//   propagates NaNs (as in any wasm float operation), so only relu promises the input's NaN bits.
//
// activateScalar is the vector function on a splatted lane: a loop's tail gets the same bits for an
// element as its vector body would.

import {
  EPILOGUE_IDENTITY as ACTIVATION_NONE, EPILOGUE_RELU as ACTIVATION_RELU, EPILOGUE_SILU as ACTIVATION_SILU,
  EPILOGUE_GELU as ACTIVATION_GELU, EPILOGUE_GELU_TANH as ACTIVATION_GELU_TANH,
} from './abi';
export { ACTIVATION_NONE, ACTIVATION_RELU, ACTIVATION_SILU, ACTIVATION_GELU, ACTIVATION_GELU_TANH };

/** f32x4 lanes through the activation `kind`; a literal `kind` folds the dispatch away when inlined. */
@inline export function activate(v: v128, kind: i32): v128 {
  if (kind == ACTIVATION_RELU) return relu(v);
  if (kind == ACTIVATION_SILU) return silu(v);
  if (kind == ACTIVATION_GELU) return gelu(v);
  if (kind == ACTIVATION_GELU_TANH) return geluTanh(v);
  return v;
}

/** One value through the activation `kind`: lane 0 of `activate`, so bit for bit the vector result. */
@inline export function activateScalar(x: f32, kind: i32): f32 {
  if (kind == ACTIVATION_NONE) return x;
  return f32x4.extract_lane(activate(f32x4.splat(x), kind), 0);
}

// ---- shared pieces ----------------------------------------------------------------------------------

// 1.5·2^23 + 127: adding it to |u| < 2^22 rounds u to the nearest integer k and leaves k + 127 (the
// exponent field of 2^k) in the low bits, so that shifting the sum's bits left by 23 gives 2^k for
// k in [-127, 128] (k = -127 gives +0 and k = 128 gives +Inf, both wanted at the clamps).
const MAGIC: f32 = 12583039.0;
const MAGIC64: f64 = 6755399441055871.0; // 1.5·2^52 + 127, the same in f64 (k + 127 in the low word)
const NLOG2E: f32 = -1.4426950216293335; // -log2(e)
const LN2_HI: f32 = 0.693145751953125; // 15 significant bits: k·LN2_HI is exact for |k| <= 256
const LN2_LO: f32 = 1.428606765330187e-6; // ln 2 - LN2_HI

// e^(-r) for |r| <= 0.35 (minimax with the first two coefficients fixed at 1 and -1; 0.06 ulp from the
// fit, about 1 from the evaluation).
const E0: f32 = 1.0;
const E1: f32 = -1.0;
const E2: f32 = 0.4999999403953552;
const E3: f32 = -0.16666515171527863;
const E4: f32 = 0.04166845604777336;
const E5: f32 = -0.00836941134184599;
const E6: f32 = 0.0013813161058351398;

@inline function expNegPoly(r: v128): v128 {
  let p = f32x4.add(f32x4.mul(f32x4.splat(E6), r), f32x4.splat(E5));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(E4));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(E3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(E2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(E1));
  return f32x4.add(f32x4.mul(p, r), f32x4.splat(E0));
}

// ---- relu -------------------------------------------------------------------------------------------

@inline function relu(x: v128): v128 {
  return f32x4.pmax(x, f32x4.splat(0)); // x < 0 ? +0 : x, keeping -0 and any NaN as they are
}

// ---- silu = x / (1 + e^-x) -----------------------------------------------------------------------------

const SILU_LO: f32 = -89.0; // e^89 rounds to k = 128: +Inf, and x / Inf = -0
const SILU_HI: f32 = 87.3; // e^-87.3 still has k = -126 (a normal 2^k)

@inline function silu(x: v128): v128 {
  const xc = f32x4.pmax(x, f32x4.splat(SILU_LO)); // the numerator too: -Inf becomes a finite -89
  const xe = f32x4.pmin(xc, f32x4.splat(SILU_HI));
  // e^-xe = 2^k · e^-r, k = round(-xe·log2 e), r = xe + k·ln 2 (in two steps, the first exact)
  const n = f32x4.add(f32x4.mul(xe, f32x4.splat(NLOG2E)), f32x4.splat(MAGIC));
  const k = f32x4.sub(n, f32x4.splat(MAGIC));
  let r = f32x4.add(xe, f32x4.mul(k, f32x4.splat(LN2_HI)));
  r = f32x4.add(r, f32x4.mul(k, f32x4.splat(LN2_LO)));
  const e = f32x4.mul(expNegPoly(r), i32x4.shl(n, 23));
  return f32x4.div(xc, f32x4.add(e, f32x4.splat(1)));
}

// ---- gelu_tanh = x / (1 + e^-z), z = √(8/π)·(x + 0.044715·x³) --------------------------------------------
// 0.5·x·(1 + tanh(z/2)) without its cancellation at negative x. There, x / (1 + e^-z) has the relative
// error of e^-z, which is z's absolute error: z reaches -18 while the result is still above 1e-7, so z is
// formed and reduced in f64 (exact to far below an f32 ulp), and only the reduced r comes back to f32.

const GT_LO: f32 = -10.06; // z(-10.06) = -88.7: k = 128, e^-z = +Inf, and the result -0
const GT_HI: f32 = 10.0; // z(10) = 87.3: k = -126
const GT_C1: f64 = 1.5957691216057308; // 2·√(2/π)
const GT_C3: f64 = 0.07135481627260025; // 2·√(2/π)·0.044715
const NLOG2E64: f64 = -1.4426950408889634;
const LN2_64: f64 = 0.6931471805599453;

@inline function geluTanh(x: v128): v128 {
  const xn = f32x4.pmax(x, f32x4.splat(GT_LO));
  const xe = f32x4.pmin(xn, f32x4.splat(GT_HI));
  const lo = f64x2.promote_low_f32x4(xe);
  const hi = f64x2.promote_low_f32x4(i32x4.shuffle(xe, xe, 2, 3, 2, 3));
  const c1 = f64x2.splat(GT_C1);
  const c3 = f64x2.splat(GT_C3);
  const zl = f64x2.mul(f64x2.add(f64x2.mul(f64x2.mul(lo, lo), c3), c1), lo);
  const zh = f64x2.mul(f64x2.add(f64x2.mul(f64x2.mul(hi, hi), c3), c1), hi);
  // e^-z = 2^k · e^-r, k = round(-z·log2 e), r = z + k·ln 2
  const nl = f64x2.add(f64x2.mul(zl, f64x2.splat(NLOG2E64)), f64x2.splat(MAGIC64));
  const nh = f64x2.add(f64x2.mul(zh, f64x2.splat(NLOG2E64)), f64x2.splat(MAGIC64));
  const rl = f64x2.add(zl, f64x2.mul(f64x2.sub(nl, f64x2.splat(MAGIC64)), f64x2.splat(LN2_64)));
  const rh = f64x2.add(zh, f64x2.mul(f64x2.sub(nh, f64x2.splat(MAGIC64)), f64x2.splat(LN2_64)));
  const r = i32x4.shuffle(f32x4.demote_f64x2_zero(rl), f32x4.demote_f64x2_zero(rh), 0, 1, 4, 5);
  const k = i32x4.shuffle(nl, nh, 0, 2, 4, 6); // the low words: k + 127
  const e = f32x4.mul(expNegPoly(r), i32x4.shl(k, 23));
  return f32x4.div(xn, f32x4.add(e, f32x4.splat(1)));
}

// ---- gelu = x·Φ(x) ---------------------------------------------------------------------------------------
// With a = |x| and Q(a) = Φ(-a): gelu(x) = relu(x) - a·Q(a), where a·Q(a) = K·e^(-a²/2)·a·M(a), M the
// Mills ratio and K = 1/√(2π). For a negative x that product is the result, so it must be accurate
// relative to itself however small: e^(-a²/2) takes a² exactly as a sum of two floats (a split at 12
// bits), and a·M(a) = t/(t + N(a)) with t = a·D(a) is a rational fit (N of degree 3, D monic of degree 4)
// whose rounding errors mostly cancel as a grows. Near 0 that form piles up six roundings (5 ulps at
// worst), so |x| < 0.5 takes the erf form x·(0.5 + x·G(x²)) instead, G a cubic: a select between the two.

const GELU_AMAX: f32 = 13.25; // a²/2 = 87.8 rounds to k = -127: e^(-a²/2) is +0 from here on
const GELU_SPLIT: i32 = 0xfffff000; // keeps 12 significant bits: their square is exact
const GELU_HLOG2E: f32 = -0.7213475108146667; // -log2(e)/2
const GELU_L2H: f32 = 1.38629150390625; // 2·LN2_HI
const GELU_L2L: f32 = 2.857213530660374e-6; // 2·LN2_LO
// K·e^(-s/2) for |s| <= 0.8: the exp polynomial above (fitted on ±0.4) rescaled, with K in f32 (its
// rounding is folded into the fit of N and D).
const G0: f32 = 0.3989422917366028;
const G1: f32 = -0.1994711458683014;
const G2: f32 = 0.049867771565914154;
const G3: f32 = -0.008311168290674686;
const G4: f32 = 0.001038988004438579;
const G5: f32 = -0.00010447816021041945;
const G6: f32 = 8.59625288285315e-6;
// a·M(a)·(K / f32(K)) = t / (t + N(a)), t = a·D(a), fitted on [0.5, 13.3] (0.18 ulp)
const N0: f32 = 56.43623352050781;
const N1: f32 = 30.234270095825195;
const N2: f32 = 8.155706405639648;
const N3: f32 = 0.9996227622032166;
const D0: f32 = 70.73346710205078;
const D1: f32 = 70.09941101074219;
const D2: f32 = 32.505550384521484;
const D3: f32 = 8.139935493469238;
// Φ(x) = 0.5 + x·G(x²) for |x| < 0.5 (0.14 ulp from the fit)
const GELU_SMALL: f32 = 0.5;
const S0: f32 = 0.3989422917366028;
const S1: f32 = -0.06648994237184525;
const S2: f32 = 0.0099648367613554;
const S3: f32 = -0.0011311304988339543;

@inline function gelu(x: v128): v128 {
  const a = v128.and(x, i32x4.splat(0x7fffffff));
  const ac = f32x4.pmin(a, f32x4.splat(GELU_AMAX)); // NaN stays NaN; +Inf becomes 13.25
  // a² = sh + sl, sh exact
  const ah = v128.and(ac, i32x4.splat(GELU_SPLIT));
  const al = f32x4.sub(ac, ah);
  const sh = f32x4.mul(ah, ah);
  const sl = f32x4.mul(al, f32x4.add(ac, ah));
  // K·e^(-a²/2) = 2^k · K·e^(-s/2), k = round(-sh/2·log2 e), s = sh + 2k·ln 2 + sl (sh + 2k·LN2_HI exact)
  const n = f32x4.add(f32x4.mul(sh, f32x4.splat(GELU_HLOG2E)), f32x4.splat(MAGIC));
  const k = f32x4.sub(n, f32x4.splat(MAGIC));
  const v = f32x4.add(sh, f32x4.mul(k, f32x4.splat(GELU_L2H)));
  const s = f32x4.add(v, f32x4.add(sl, f32x4.mul(k, f32x4.splat(GELU_L2L))));
  let p = f32x4.add(f32x4.mul(f32x4.splat(G6), s), f32x4.splat(G5));
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(G4));
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(G3));
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(G2));
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(G1));
  p = f32x4.add(f32x4.mul(p, s), f32x4.splat(G0));
  const e = f32x4.mul(p, i32x4.shl(n, 23));
  // a·M(a) = t / (t + N(a))
  let d = f32x4.add(ac, f32x4.splat(D3));
  d = f32x4.add(f32x4.mul(d, ac), f32x4.splat(D2));
  d = f32x4.add(f32x4.mul(d, ac), f32x4.splat(D1));
  d = f32x4.add(f32x4.mul(d, ac), f32x4.splat(D0));
  const t = f32x4.mul(ac, d);
  let q = f32x4.add(f32x4.mul(f32x4.splat(N3), ac), f32x4.splat(N2));
  q = f32x4.add(f32x4.mul(q, ac), f32x4.splat(N1));
  q = f32x4.add(f32x4.mul(q, ac), f32x4.splat(N0));
  const aq = f32x4.mul(e, f32x4.div(t, f32x4.add(t, q)));
  // relu(x) - a·Q(a), where relu keeps -0 for every negative x: gelu(-Inf) = -0 - +0 = -0
  const large = f32x4.sub(f32x4.pmax(x, f32x4.splat(-0.0)), aq);
  // x·(0.5 + x·G(x²)) near 0
  const w = f32x4.mul(x, x);
  let g = f32x4.add(f32x4.mul(f32x4.splat(S3), w), f32x4.splat(S2));
  g = f32x4.add(f32x4.mul(g, w), f32x4.splat(S1));
  g = f32x4.add(f32x4.mul(g, w), f32x4.splat(S0));
  const small = f32x4.mul(x, f32x4.add(f32x4.splat(GELU_SMALL), f32x4.mul(x, g)));
  return v128.bitselect(small, large, f32x4.lt(a, f32x4.splat(GELU_SMALL)));
}
