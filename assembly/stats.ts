// The statistics family: mean and variance of one group (contiguous runs) or of every column of a
// channel-last block, built on the shared reductions in reduce.ts.
//
// The fast path is one pass of sums about a pivot, first 0. The variance is exact to f32 rounding as long
// as the pivot lies within a few standard deviations of the mean; when it does not, the pass is repeated
// while the group is still in cache: about the group's first element (which makes a constant group's
// variance exactly 0), then about the estimated mean. Groups whose squares leave the f32 range, or whose
// inputs are not finite, take the exact f64 path.

import {
  sum1, sum2, shiftedSums, squareSums, columnSums, exactMoments, exactMean, exactMoment2,
} from './reduce';

/** Mean of the last group (0 for an uncentred group). */
export let groupMean: f64 = 0;
/** Biased variance of the last group (the mean square for an uncentred group). */
export let groupVar: f64 = 0;

const OK = 0;
const RECENTRE = 1;
const EXACT = 2;

// Re-centre when the pivot is more than sqrt(8) standard deviations from the mean: beyond that the sums
// lose more than ~3 bits of the variance to cancellation.
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
  if (centered) shiftedSums(p, runLen, runs, runStride, pivot);
  else squareSums(p, runLen, runs, runStride);
  return settle(<f64>runLen * <f64>runs, pivot, sum1, sum2, centered);
}

/**
 * Moments of one group made of `runs` contiguous runs of `runLen` elements, `runStride` bytes apart.
 * Sets groupMean and groupVar. `centered` false gives RMSNorm's mean square.
 */
export function groupMoments(p: usize, runLen: i32, runs: i32, runStride: usize, centered: bool): void {
  let status = shiftedPass(p, runLen, runs, runStride, 0, centered);
  if (status == RECENTRE) status = shiftedPass(p, runLen, runs, runStride, load<f32>(p), true);
  if (status == RECENTRE) status = shiftedPass(p, runLen, runs, runStride, <f32>settledMean, true);
  if (status == OK) {
    groupMean = settledMean;
    groupVar = settledVar;
    return;
  }
  exactMoments(p, runLen, runs, runStride, centered);
  groupMean = exactMean;
  groupVar = exactMoment2;
}

// Workspace of the column statistics for C channels, carved from one block the caller provides.
@inline function f32Bytes(C: i32): usize {
  return ((<usize>C << 2) + 15) & ~15;
}
@inline function f64Bytes(C: i32): usize {
  return ((<usize>C << 3) + 15) & ~15;
}
/** Per-channel f32 pivots: the sums' pivots while statistics are taken, then the apply's. */
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

// Sums about the current pivots, then settles every channel. A channel that asks to be re-centred gets
// the next pivot of the sequence 0, first element, estimated mean; after the last, the exact path (a NaN
// mean marks it). Returns whether another pass is needed.
function columnPass(p: usize, rows: i32, C: i32, work: usize, pass: i32): bool {
  const pivots = colPivot(work, C);
  const s1 = colSum1(work, C);
  const s2 = colSum2(work, C);
  const means = colMean(work, C);
  const vars = colVar(work, C);
  columnSums(p, rows, C, pivots, colAcc1(work, C), colAcc2(work, C), s1, s2, pass > 0);
  let again = false;
  for (let c = 0; c < C; c++) {
    const o4 = <usize>c << 2;
    const o8 = <usize>c << 3;
    let status = settle(<f64>rows, load<f32>(pivots + o4), load<f64>(s1 + o8), load<f64>(s2 + o8), true);
    if (status == RECENTRE) {
      if (pass == 2) status = EXACT;
      else {
        store<f32>(pivots + o4, pass == 0 ? load<f32>(p + o4) : <f32>settledMean);
        again = true;
      }
    }
    store<f64>(means + o8, status == EXACT ? NaN : settledMean);
    store<f64>(vars + o8, settledVar);
  }
  return again;
}

/** Per-channel moments of a row-major [rows, C] block: colMean/colVar of `work` receive them. */
export function columnMoments(p: usize, rows: i32, C: i32, work: usize): void {
  memory.fill(colPivot(work, C), 0, <usize>C << 2);
  for (let pass = 0; pass < 3 && columnPass(p, rows, C, work, pass); pass++);
  const means = colMean(work, C);
  const vars = colVar(work, C);
  for (let c = 0; c < C; c++) {
    const o8 = <usize>c << 3;
    if (!isNaN<f64>(load<f64>(means + o8))) continue;
    exactMoments(p + (<usize>c << 2), 1, rows, <usize>C << 2, true);
    store<f64>(means + o8, exactMean);
    store<f64>(vars + o8, exactMoment2);
  }
}
