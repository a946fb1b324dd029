// The fold: a group's moments and its affine source (gamma and beta, a style's statistics, or BatchNorm's
// running statistics) become the coefficients of the apply pass, y = (x - pivot) * a + b, per channel or
// per group, in a coefficient set.
//
// Where f32 coefficients cannot carry the result (a scale beyond the f32 range, as for subnormal data
// with eps = 0; or a pivot so large that x - pivot could overflow, as near the f32 maximum), the fold
// marks the channel exact instead, and the apply takes it in f64: y = (x - mean) * a + b.

import { RECORD_BYTES, countOf, meanOf, varianceOf, mergeMoments } from './moments';

// ---- coefficient sets ----------------------------------------------------------------------------------
// For K channels: f32 pivot[K], a[K], b[K], an i32 exact flag[K], and for exact channels f64 mean[K],
// a[K], b[K]. Arrays are 16-byte aligned so the apply loads them as vectors.

@inline function f32Bytes(K: i32): usize {
  return ((<usize>K << 2) + 15) & ~15;
}
@inline function f64Bytes(K: i32): usize {
  return ((<usize>K << 3) + 15) & ~15;
}
@inline export function pivots(coef: usize, K: i32): usize {
  return coef;
}
@inline export function scales(coef: usize, K: i32): usize {
  return coef + f32Bytes(K);
}
@inline export function shifts(coef: usize, K: i32): usize {
  return coef + 2 * f32Bytes(K);
}
@inline function flags(coef: usize, K: i32): usize {
  return coef + 3 * f32Bytes(K);
}
@inline function exactBase(coef: usize, K: i32): usize {
  return coef + 4 * f32Bytes(K);
}
export function coefficientBytes(K: i32): usize {
  return 4 * f32Bytes(K) + 3 * f64Bytes(K);
}

/** Clears the exact flags of a set before its channels are folded (a fold only sets them). */
export function clearExact(coef: usize, K: i32): void {
  // A loop, not memory.fill: engines run bulk memory operations out of line, which costs more than a
  // few hundred flags.
  const f = flags(coef, K);
  const zero = i32x4.splat(0);
  for (let c = 0; c < K; c += 4) v128.store(f + (<usize>c << 2), zero);
}

/** Whether channel c of the set is applied in f64 (after clearExact and the fold). */
@inline export function isExact(coef: usize, K: i32, c: i32): bool {
  return load<i32>(flags(coef, K) + (<usize>c << 2)) != 0;
}
@inline export function exactMean(coef: usize, K: i32, c: i32): f64 {
  return load<f64>(exactBase(coef, K) + (<usize>c << 3));
}
@inline export function exactScale(coef: usize, K: i32, c: i32): f64 {
  return load<f64>(exactBase(coef, K) + f64Bytes(K) + (<usize>c << 3));
}
@inline export function exactShift(coef: usize, K: i32, c: i32): f64 {
  return load<f64>(exactBase(coef, K) + 2 * f64Bytes(K) + (<usize>c << 3));
}

// ---- folding -------------------------------------------------------------------------------------------

/** What a fold returns: bits of these, OR-ed over a set by its callers. */
export const FOLD_EXACT: i32 = 1; // the channel is applied in f64
export const FOLD_SHIFTED: i32 = 2; // the channel's f32 pivot is nonzero: the vector apply must subtract it

/**
 * 1 / sqrt(var + eps) for a group normalized by its own statistics. A constant group with eps = 0 has
 * var + eps = 0; every x - mean in it is exactly 0, and scale 0 makes it give exactly beta (the limit as
 * eps -> 0) instead of 0 * Inf = NaN.
 */
@inline export function scaleOf(variance: f64, eps: f64): f64 {
  const v = variance + eps;
  return v == 0 ? 0 : 1 / Math.sqrt(v);
}

// Largest |mean| * scale for which the apply pass may skip subtracting a pivot: y = x * a + b then carries
// terms of at most FOLD_LIMIT + |z| output units, so it loses at most ~3 bits against (x - mean) * a + b.
const FOLD_LIMIT: f64 = 4;

/**
 * The f32 pivot the apply pass subtracts: 0 (one operation less per element) where that is accurate,
 * else the mean rounded to f32, which makes x - pivot exact for groups far from zero. A constant group
 * always gets its mean, so that x - pivot is exactly 0 and the output exactly beta.
 */
@inline function pivotFor(mean: f64, variance: f64, scale: f64): f32 {
  if (variance > 0 && Math.abs(mean * scale) <= FOLD_LIMIT) return 0;
  return isFinite<f64>(mean) ? <f32>mean : 0;
}

const F32_MAX: f64 = 3.4028234663852886e38;
const F32_MIN_NORMAL: f64 = 1.1754943508222875e-38;
// Intermediates of the f32 apply must stay below this (a margin for its three roundings).
const F32_SAFE: f64 = 0.99 * F32_MAX;
// With |pivot| below 2^102, x - pivot cannot round past the f32 maximum for any finite f32 x.
const PIVOT_LIMIT: f64 = 5.070602400912918e30;

// Whether f32 coefficients would lose the result: a or b outside the f32 range (or a subnormal, which
// keeps few bits), or an intermediate of (x - pivot) * a + b that could overflow. `reach` bounds
// |x - pivot| over the group (Infinity where nothing bounds it: the apply then needs a pivot that x - pivot
// cannot overflow against). Non-finite a or b come from non-finite statistics, whose NaN the f32 path
// propagates as well.
@inline function needsExact(pivot: f32, a: f64, b: f64, reach: f64): bool {
  // Branch-free: this runs once per channel, beside a division and a square root.
  const abs = Math.abs(a);
  const absB = Math.abs(b);
  const finite = <i32>(a - a == 0) & <i32>(b - b == 0);
  const range = <i32>(abs > F32_MAX) | (<i32>(abs != 0) & <i32>(abs < F32_MIN_NORMAL)) | <i32>(absB > F32_MAX);
  const overflow = reach == Infinity
    ? <i32>(Math.abs(<f64>pivot) >= PIVOT_LIMIT)
    : <i32>(reach >= F32_SAFE) | <i32>(reach * abs + absB >= F32_SAFE);
  return (finite & (range | overflow)) != 0;
}

// Stores channel c's coefficients. b is folded as beta - (mean - pivot) * a; an exact pivot skips the
// product, so that a = Inf (BatchNorm's runningVar + eps = 0) gives IEEE's (x - mean) * Inf + beta rather
// than NaN everywhere, as in PyTorch.
@inline
function store3(
  coef: usize, K: i32, c: i32, mean: f64, pivot: f32, a: f64, beta: f64, reach: f64, guardExactPivot: bool,
): i32 {
  const off = mean - <f64>pivot;
  const b = guardExactPivot && off == 0 ? beta : beta - off * a;
  const o4 = <usize>c << 2;
  const a32 = <f32>a;
  const b32 = <f32>b;
  const exact = needsExact(pivot, a, b, reach);
  store<f32>(pivots(coef, K) + o4, pivot);
  store<f32>(scales(coef, K) + o4, a32);
  store<f32>(shifts(coef, K) + o4, b32);
  if (exact) {
    store<i32>(flags(coef, K) + o4, 1);
    // Identity coefficients (x * 1 + -0 is x, -0 included) for the vector apply that passes over an exact
    // channel in channel-last data.
    store<f32>(pivots(coef, K) + o4, 0);
    store<f32>(scales(coef, K) + o4, 1);
    store<f32>(shifts(coef, K) + o4, -0.0);
    const o8 = <usize>c << 3;
    const e = exactBase(coef, K);
    store<f64>(e + o8, mean);
    store<f64>(e + f64Bytes(K) + o8, a);
    store<f64>(e + 2 * f64Bytes(K) + o8, beta);
    return FOLD_EXACT;
  }
  return pivot != 0 ? FOLD_SHIFTED : 0;
}

/**
 * Channel c of the set from the moments record m of its group (normalized by its own statistics) and
 * gamma/beta. Returns FOLD_ bits.
 */
export function fold(m: usize, eps: f64, gamma: f64, beta: f64, coef: usize, K: i32, c: i32): i32 {
  const mean = meanOf(m);
  const variance = varianceOf(m);
  const scale = scaleOf(variance, eps);
  const pivot = pivotFor(mean, variance, scale);
  // No element lies further than sqrt(count * variance) from the mean.
  const reach = Math.sqrt(countOf(m) * variance) + Math.abs(mean - <f64>pivot);
  return store3(coef, K, c, mean, pivot, scale * gamma, beta, reach, false);
}

// Running statistics are arbitrary numbers, not a group's own: plain IEEE 1/sqrt(var + eps), as PyTorch.
@inline function runningScale(variance: f64, eps: f64): f64 {
  return 1 / Math.sqrt(variance + eps);
}

/**
 * Channels [0, C) of the set from BatchNorm's running statistics (f32 mean and variance arrays) and
 * gamma/beta. Returns FOLD_ bits. The exact check runs apart from the fold, on the f32 coefficients'
 * exponents: a channel whose scale is 0, subnormal or not finite, whose shift is not finite or whose pivot
 * is 2^102 or more is folded again in f64 and judged there; the fold loop itself stays as short as it can.
 */
@inline export function foldRunning(mean: usize, variance: usize, eps: f64, w: usize, b: usize, coef: usize, C: i32): i32 {
  let bits = 0;
  for (let c = 0; c < C; c++) {
    const o = <usize>c << 2;
    const m = <f64>load<f32>(mean + o);
    const v = <f64>load<f32>(variance + o);
    const scale = runningScale(v, eps);
    const a = gammaAt(w, c) * scale;
    const pivot = pivotFor(m, v, scale);
    // An exact pivot skips the product, so that a = Inf (runningVar + eps = 0) gives IEEE's
    // (x - mean) * Inf + beta rather than NaN everywhere, as in PyTorch.
    const off = m - <f64>pivot;
    store<f32>(pivots(coef, C) + o, pivot);
    store<f32>(scales(coef, C) + o, <f32>a);
    store<f32>(shifts(coef, C) + o, <f32>(off == 0 ? betaAt(b, c) : betaAt(b, c) - off * a));
    bits |= pivot != 0 ? FOLD_SHIFTED : 0;
  }
  clearExact(coef, C);
  for (let c = 0; c < C; c++) {
    const o = <usize>c << 2;
    const a32 = load<u32>(scales(coef, C) + o);
    const ea = (a32 >> 23) & 0xff;
    const eb = (load<u32>(shifts(coef, C) + o) >> 23) & 0xff;
    const ep = (load<u32>(pivots(coef, C) + o) >> 23) & 0xff;
    // A scale of 0 from a weight of 0 is exact; one that underflowed is not.
    const scaleOk = ea - 1 < 0xfe || ((a32 << 1) == 0 && gammaAt(w, c) == 0);
    if (scaleOk && eb != 0xff && ep < 127 + 102) continue;
    const m = <f64>load<f32>(mean + o);
    const v = <f64>load<f32>(variance + o);
    const scale = runningScale(v, eps);
    bits |= store3(coef, C, c, m, pivotFor(m, v, scale), gammaAt(w, c) * scale, betaAt(b, c), Infinity, true);
  }
  return bits;
}

/**
 * Folds G groups of C / G consecutive channels whose per-channel records are at m: each group's channels
 * are merged (moments.ts), then every channel of it gets its gamma/beta. Returns the FOLD_ bits of all
 * channels; `merged` is one record of scratch. meanOut/invStdOut (0: absent) receive each group's mean and
 * 1 / sqrt(var + eps).
 */
export function foldGroups(
  m: usize, C: i32, G: i32, w: usize, bias: usize, eps: f64, coef: usize, merged: usize, meanOut: usize,
  invStdOut: usize,
): i32 {
  const cpg = C / G;
  let bits = 0;
  clearExact(coef, C);
  for (let g = 0; g < G; g++) {
    const c0 = g * cpg;
    mergeMoments(m + <usize>c0 * RECORD_BYTES, cpg, merged);
    saveStats(merged, eps, meanOut, invStdOut, g);
    for (let c = c0; c < c0 + cpg; c++) bits |= fold(merged, eps, gammaAt(w, c), betaAt(bias, c), coef, C, c);
  }
  return bits;
}

/** Group i's mean and 1 / sqrt(var + eps) from record m into meanOut/invStdOut (either may be 0: absent). */
@inline export function saveStats(m: usize, eps: f64, meanOut: usize, invStdOut: usize, i: i32): void {
  if (meanOut != 0) store<f32>(meanOut + (<usize>i << 2), <f32>meanOf(m));
  if (invStdOut != 0) store<f32>(invStdOut + (<usize>i << 2), <f32>(1 / Math.sqrt(varianceOf(m) + eps)));
}

@inline export function gammaAt(w: usize, c: i32): f64 {
  return w != 0 ? <f64>load<f32>(w + (<usize>c << 2)) : 1;
}

@inline export function betaAt(b: usize, c: i32): f64 {
  return b != 0 ? <f64>load<f32>(b + (<usize>c << 2)) : 0;
}
