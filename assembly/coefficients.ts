// Folding a group's statistics and the affine parameters into the apply pass's coefficients.

import {
  colPivot, colScale, colShift, colMean, colVar,
} from './stats';

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
@inline export function pivotFor(mean: f64, variance: f64, scale: f64): f32 {
  if (variance > 0 && Math.abs(mean * scale) <= FOLD_LIMIT) return 0;
  return isFinite<f64>(mean) ? <f32>mean : 0;
}

@inline export function gammaAt(w: usize, c: i32): f64 {
  return w != 0 ? <f64>load<f32>(w + (<usize>c << 2)) : 1;
}

@inline export function betaAt(b: usize, c: i32): f64 {
  return b != 0 ? <f64>load<f32>(b + (<usize>c << 2)) : 0;
}

/**
 * From per-channel moments (colMean/colVar) to per-channel apply coefficients (colPivot/colScale/
 * colShift) for G groups of C / G consecutive channels, with per-channel gamma and beta. Groups are
 * merged with Chan's formula, relative to their first channel's mean so that equal means merge exactly.
 * Returns whether any pivot is nonzero (the apply pass must subtract them).
 */
export function groupCoefficients(work: usize, C: i32, G: i32, w: usize, b: usize, eps: f64): bool {
  const cpg = C / G;
  const means = colMean(work, C);
  const vars = colVar(work, C);
  const pivots = colPivot(work, C);
  const scales = colScale(work, C);
  const shifts = colShift(work, C);
  let shifted = false;
  for (let g = 0; g < G; g++) {
    const c0 = g * cpg;
    const m0 = load<f64>(means + (<usize>c0 << 3));
    let dm: f64 = 0;
    for (let c = c0; c < c0 + cpg; c++) dm += load<f64>(means + (<usize>c << 3)) - m0;
    const mean = m0 + dm / <f64>cpg;
    let m2: f64 = 0;
    for (let c = c0; c < c0 + cpg; c++) {
      const d = load<f64>(means + (<usize>c << 3)) - mean;
      m2 += load<f64>(vars + (<usize>c << 3)) + d * d;
    }
    const variance = m2 / <f64>cpg;
    const scale = scaleOf(variance, eps);
    const pivot = pivotFor(mean, variance, scale);
    shifted = shifted || pivot != 0;
    for (let c = c0; c < c0 + cpg; c++) {
      const a = scale * gammaAt(w, c);
      store<f32>(pivots + (<usize>c << 2), pivot);
      store<f32>(scales + (<usize>c << 2), <f32>a);
      store<f32>(shifts + (<usize>c << 2), <f32>(betaAt(b, c) - (mean - <f64>pivot) * a));
    }
  }
  return shifted;
}
