// The statistics family: mean and variance of one group (contiguous runs) or of every column of a
// channel-last block, built on the shared reductions in reduce.ts.
//
// The fast path is one pass of pivot-shifted sums. Its variance is exact to f32 rounding as long as the
// pivot lies within a few standard deviations of the mean; when it does not (the pivot was an outlier),
// a second pass re-centres on the first estimate while the group is still in cache. Groups whose squares
// leave the f32 range, or whose inputs are not finite, take the exact f64 path.

import {
  sum1, sum2, addShiftedSums, addSquares, columnSums, exactMoments, exactMean, exactMoment2,
} from './reduce';

/** Mean of the last group (0 for an uncentred group). */
export let groupMean: f64 = 0;
/** Biased variance of the last group (the mean square for an uncentred group). */
export let groupVar: f64 = 0;
/**
 * The f32 value the apply pass subtracts before scaling: the mean rounded to f32, so that x - pivot is
 * exact for groups far from zero and the apply's two terms are both of the output's own size.
 */
export let groupPivot: f32 = 0;

const OK = 0;
const RECENTRE = 1;
const EXACT = 2;

// Re-centre when the pivot is more than sqrt(8) standard deviations from the mean: beyond that the shifted
// sums lose more than ~3 bits of the variance to cancellation.
const RECENTRE_RATIO: f64 = 8;
// Below this mean square the f32 squares may have underflowed.
const TINY: f64 = 1e-30;

let settledMean: f64 = 0;
let settledVar: f64 = 0;

// Turns pivot-shifted sums into mean and variance, and says whether they can be trusted.
@inline
function settle(n: f64, pivot: f32, s1: f64, s2: f64, centered: bool): i32 {
  if (!isFinite<f64>(s2) || (s2 < TINY * n && (s2 != 0 || s1 != 0))) return EXACT;
  if (!centered) {
    settledMean = 0;
    settledVar = s2 / n;
    return OK;
  }
  const delta = s1 / n;
  const variance = max<f64>(0, s2 / n - delta * delta);
  settledMean = <f64>pivot + delta;
  settledVar = variance;
  return delta * delta > RECENTRE_RATIO * variance ? RECENTRE : OK;
}

function shiftedPass(p: usize, runLen: i32, runs: i32, runStride: usize, pivot: f32, centered: bool): i32 {
  sum1 = 0;
  sum2 = 0;
  for (let r = 0; r < runs; r++) {
    const q = p + <usize>r * runStride;
    if (centered) addShiftedSums(q, runLen, pivot);
    else addSquares(q, runLen);
  }
  return settle(<f64>runLen * <f64>runs, pivot, sum1, sum2, centered);
}

/**
 * Moments of one group made of `runs` contiguous runs of `runLen` elements, `runStride` bytes apart.
 * Sets groupMean, groupVar and groupPivot. `centered` false gives RMSNorm's mean square.
 */
export function groupMoments(p: usize, runLen: i32, runs: i32, runStride: usize, centered: bool): void {
  let pivot: f32 = centered ? load<f32>(p) : 0;
  let status = shiftedPass(p, runLen, runs, runStride, pivot, centered);
  if (status == RECENTRE) {
    pivot = <f32>settledMean;
    status = shiftedPass(p, runLen, runs, runStride, pivot, centered);
  }
  if (status == OK) {
    groupMean = settledMean;
    groupVar = settledVar;
  } else {
    exactMoments(p, runLen, runs, runStride, centered);
    groupMean = exactMean;
    groupVar = exactMoment2;
  }
  groupPivot = applyPivot(groupMean);
}

// A mean that is not finite comes with a NaN variance, so every output of the group is NaN anyway.
@inline function applyPivot(mean: f64): f32 {
  return isFinite<f64>(mean) ? <f32>mean : 0;
}

// Workspace of the column statistics for C channels, carved from one block the caller provides.
@inline function f32Bytes(C: i32): usize {
  return ((<usize>C << 2) + 15) & ~15;
}
@inline function f64Bytes(C: i32): usize {
  return ((<usize>C << 3) + 15) & ~15;
}
/** Per-channel f32 pivots: the sums' pivots, then the apply's (each channel's mean rounded to f32). */
@inline export function colPivot(work: usize, C: i32): usize {
  return work;
}
/** Per-channel f32 scale `a` of the apply pass. */
@inline export function colScale(work: usize, C: i32): usize {
  return work + f32Bytes(C);
}
/** Per-channel f32 offset `b` of the apply pass. */
@inline export function colShift(work: usize, C: i32): usize {
  return work + 2 * f32Bytes(C);
}
@inline function colAcc1(work: usize, C: i32): usize {
  return work + 3 * f32Bytes(C);
}
@inline function colAcc2(work: usize, C: i32): usize {
  return work + 4 * f32Bytes(C);
}
@inline function colSum1(work: usize, C: i32): usize {
  return work + 5 * f32Bytes(C);
}
@inline function colSum2(work: usize, C: i32): usize {
  return colSum1(work, C) + f64Bytes(C);
}
/** Per-channel f64 means. */
@inline export function colMean(work: usize, C: i32): usize {
  return colSum1(work, C) + 2 * f64Bytes(C);
}
/** Per-channel f64 biased variances. */
@inline export function colVar(work: usize, C: i32): usize {
  return colSum1(work, C) + 3 * f64Bytes(C);
}
/** Bytes of column workspace for C channels. */
export function columnWorkBytes(C: i32): usize {
  return 5 * f32Bytes(C) + 4 * f64Bytes(C);
}

// One column pass: settles every channel; returns true when some channel asked to be re-centred, after
// moving its pivot to its estimated mean. Channels that need the exact path get a NaN mean as the marker.
function columnPass(p: usize, rows: i32, C: i32, work: usize, lastTry: bool): bool {
  const pivots = colPivot(work, C);
  const s1 = colSum1(work, C);
  const s2 = colSum2(work, C);
  const means = colMean(work, C);
  const vars = colVar(work, C);
  columnSums(p, rows, C, pivots, colAcc1(work, C), colAcc2(work, C), s1, s2);
  let again = false;
  for (let c = 0; c < C; c++) {
    const o4 = <usize>c << 2;
    const o8 = <usize>c << 3;
    const pivot = load<f32>(pivots + o4);
    let status = settle(<f64>rows, pivot, load<f64>(s1 + o8), load<f64>(s2 + o8), true);
    if (status == RECENTRE && lastTry) status = EXACT;
    if (status == RECENTRE) {
      store<f32>(pivots + o4, <f32>settledMean);
      again = true;
    }
    store<f64>(means + o8, status == EXACT ? NaN : settledMean);
    store<f64>(vars + o8, settledVar);
  }
  return again;
}

/**
 * Per-channel moments of a row-major [rows, C] block: colMean/colVar/colPivot of `work` receive them.
 */
export function columnMoments(p: usize, rows: i32, C: i32, work: usize): void {
  const pivots = colPivot(work, C);
  memory.copy(pivots, p, <usize>C << 2);
  if (columnPass(p, rows, C, work, false)) columnPass(p, rows, C, work, true);
  const means = colMean(work, C);
  const vars = colVar(work, C);
  for (let c = 0; c < C; c++) {
    const o8 = <usize>c << 3;
    if (isNaN<f64>(load<f64>(means + o8))) {
      exactMoments(p + (<usize>c << 2), 1, rows, <usize>C << 2, true);
      store<f64>(means + o8, exactMean);
      store<f64>(vars + o8, exactMoment2);
    }
    store<f32>(pivots + (<usize>c << 2), applyPivot(load<f64>(means + o8)));
  }
}
