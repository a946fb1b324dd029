// Moments records: what the statistics family produces for each group and the fold consumes.
//
// A record is (count, mean, variance) in f64, the variance biased (divide by count). While a reduction
// runs, the mean and variance slots hold its raw sums about the pivot (Σd, Σd²) instead; stats.ts
// settles them in place. The variance is kept rather than M2 = count · variance because the fold needs
// the variance, and M2 / count would not always give back the same bits.

export const M_COUNT: usize = 0;
export const M_MEAN: usize = 8;
export const M_VAR: usize = 16;
/** Raw Σ(x - pivot) of a reduction in progress (the mean slot). */
export const M_SUM1: usize = 8;
/** Raw Σ(x - pivot)² of a reduction in progress (the variance slot). */
export const M_SUM2: usize = 16;
export const RECORD_BYTES: usize = 24;

@inline export function countOf(m: usize): f64 {
  return load<f64>(m + M_COUNT);
}
@inline export function meanOf(m: usize): f64 {
  return load<f64>(m + M_MEAN);
}
@inline export function varianceOf(m: usize): f64 {
  return load<f64>(m + M_VAR);
}
@inline export function setMoments(m: usize, count: f64, mean: f64, variance: f64): void {
  store<f64>(m + M_COUNT, count);
  store<f64>(m + M_MEAN, mean);
  store<f64>(m + M_VAR, variance);
}

/**
 * Merges `k` consecutive records at `first` into `out` (Chan et al.'s parallel formula), in their order.
 * Means are taken relative to the first record's, so that equal means merge exactly; records of equal
 * count (a group's channels) take the unweighted form, which is exact for them.
 */
export function mergeMoments(first: usize, k: i32, out: usize): void {
  const n0 = countOf(first);
  const m0 = meanOf(first);
  let equal = true;
  let total: f64 = 0;
  for (let i = 0; i < k; i++) {
    const n = countOf(first + <usize>i * RECORD_BYTES);
    equal = equal && n == n0;
    total += n;
  }
  let dm: f64 = 0;
  for (let i = 0; i < k; i++) {
    const r = first + <usize>i * RECORD_BYTES;
    dm += equal ? meanOf(r) - m0 : countOf(r) * (meanOf(r) - m0);
  }
  const mean = m0 + dm / (equal ? <f64>k : total);
  let m2: f64 = 0;
  for (let i = 0; i < k; i++) {
    const r = first + <usize>i * RECORD_BYTES;
    const d = meanOf(r) - mean;
    m2 += equal ? varianceOf(r) + d * d : countOf(r) * (varianceOf(r) + d * d);
  }
  setMoments(out, total, mean, m2 / (equal ? <f64>k : total));
}
