// The statistics family: the moments of one group (contiguous runs) or of every column of a channel-last
// block, into moments records (moments.ts), built on the shared reductions in reduce.ts.
//
// The fast path is one pass of sums about a pivot, first 0. The variance is exact to f32 rounding as long
// as the pivot lies within a few standard deviations of the mean; when it does not, the pass is repeated
// while the group is still in cache: about the group's first element (which makes a constant group's
// variance exactly 0), then about the estimated mean. Groups whose squares leave the f32 range (above, or
// below into underflow), or whose inputs are not finite, take the exact f64 path.

import {
  shiftedSums, squareSums, columnSums, exactMoments, allEqual, columnDiffers,
} from './reduce';
import { M_COUNT, M_MEAN, M_VAR, M_SUM1, M_SUM2, RECORD_BYTES, meanOf } from './moments';

const OK = 0;
const RECENTRE = 1;
const EXACT = 2;
// Σd and Σd² both exactly 0: every d is 0, or every square underflowed; only a look at the data tells.
const ZERO = 3;

// Re-centre when the pivot is more than sqrt(8) standard deviations from the mean: beyond that the sums
// lose more than ~3 bits of the variance to cancellation.
const RECENTRE_RATIO: f64 = 8;
// Below this mean square the f32 squares may have underflowed.
const TINY: f64 = 1e-30;

// Turns the raw sums in record m into (count, mean, variance) in place, and says whether they can be
// trusted.
function settle(m: usize, n: f64, pivot: f32, centered: bool): i32 {
  const s1 = load<f64>(m + M_SUM1);
  const s2 = load<f64>(m + M_SUM2);
  const zero = s2 == 0 && s1 == 0;
  store<f64>(m + M_COUNT, n);
  if (!isFinite<f64>(s2) || (s2 < TINY * n && !zero)) return EXACT;
  if (!centered) {
    store<f64>(m + M_MEAN, 0);
    store<f64>(m + M_VAR, s2 / n);
    return zero ? ZERO : OK;
  }
  const delta = s1 / n;
  const variance = max<f64>(0, s2 / n - delta * delta);
  store<f64>(m + M_MEAN, <f64>pivot + delta);
  store<f64>(m + M_VAR, variance);
  if (zero) return ZERO;
  return delta * delta > RECENTRE_RATIO * variance ? RECENTRE : OK;
}

function shiftedPass(
  p: usize, runLen: i32, runs: i32, runStride: usize, pivot: f32, centered: bool, m: usize,
): i32 {
  if (centered) shiftedSums(p, runLen, runs, runStride, pivot, m);
  else squareSums(p, runLen, runs, runStride, m);
  const status = settle(m, <f64>runLen * <f64>runs, pivot, centered);
  if (status != ZERO) return status;
  return allEqual(p, runLen, runs, runStride, pivot) ? OK : EXACT;
}

/**
 * Moments of one group made of `runs` contiguous runs of `runLen` elements, `runStride` bytes apart, into
 * record m. `centered` false gives RMSNorm's mean square (mean 0).
 */
export function groupMoments(p: usize, runLen: i32, runs: i32, runStride: usize, centered: bool, m: usize): void {
  let status = shiftedPass(p, runLen, runs, runStride, 0, centered, m);
  if (status == RECENTRE) status = shiftedPass(p, runLen, runs, runStride, load<f32>(p), true, m);
  if (status == RECENTRE) status = shiftedPass(p, runLen, runs, runStride, <f32>meanOf(m), true, m);
  if (status != OK) exactMoments(p, runLen, runs, runStride, centered, m);
}

// Sums about the current pivots, then settles every channel. A channel that asks to be re-centred gets
// the next pivot of the sequence 0, first element, estimated mean; after the last, the exact path (a NaN
// mean marks it). Returns whether another pass is needed.
function columnPass(
  p: usize, rows: i32, C: i32, rowBytes: usize, pivots: usize, acc: usize, m: usize, pass: i32,
): bool {
  columnSums(p, rows, C, rowBytes, pivots, acc, acc + (<usize>C << 2), m, pass > 0);
  let again = false;
  for (let c = 0; c < C; c++) {
    const o4 = <usize>c << 2;
    const rec = m + <usize>c * RECORD_BYTES;
    const pivot = load<f32>(pivots + o4);
    let status = settle(rec, <f64>rows, pivot, true);
    if (status == ZERO) status = columnDiffers(p, rows, rowBytes, c, pivot) ? EXACT : OK;
    if (status == RECENTRE) {
      if (pass == 2) status = EXACT;
      else {
        store<f32>(pivots + o4, pass == 0 ? load<f32>(p + o4) : <f32>meanOf(rec));
        again = true;
      }
    }
    if (status == EXACT) store<f64>(rec + M_MEAN, NaN);
  }
  return again;
}

/**
 * Per-channel moments of C channels of a row-major block of `rows` rows, `rowBytes` apart, into C records
 * at m. `pivots` is f32[C] scratch (left holding each channel's last pivot), `acc` 2 · f32[C] scratch.
 */
export function columnMoments(p: usize, rows: i32, C: i32, rowBytes: usize, pivots: usize, acc: usize, m: usize): void {
  memory.fill(pivots, 0, <usize>C << 2);
  for (let pass = 0; pass < 3 && columnPass(p, rows, C, rowBytes, pivots, acc, m, pass); pass++);
  for (let c = 0; c < C; c++) {
    const rec = m + <usize>c * RECORD_BYTES;
    if (!isNaN<f64>(meanOf(rec))) continue;
    exactMoments(p + (<usize>c << 2), 1, rows, rowBytes, true, rec);
  }
}
