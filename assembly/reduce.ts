// SIMD reductions shared by every statistics kernel.
//
// Sums are taken of d = x - pivot. The first pass uses no pivot at all (d = x: the cheapest loop, and
// exact enough whenever the mean lies within a few standard deviations of zero, as it does for most
// activations); stats.ts checks that condition on the result and repeats the pass with a pivot taken from
// the group when it fails, so a variance is never taken from E[x²] - E[x]² where that cancels. f32 lanes
// are flushed into f64 totals every BLOCK elements so that rounding stays local to a block however long
// the group is. Results go to a moments record (moments.ts) as raw sums; stats.ts settles them there.

import { M_SUM1, M_SUM2, M_MEAN, M_VAR, RECORD_BYTES } from './moments';

const BLOCK: i32 = 1024; // a multiple of 16, so only the last block has a tail

@inline function hsum(v: v128): f64 {
  return (
    <f64>f32x4.extract_lane(v, 0) +
    <f64>f32x4.extract_lane(v, 1) +
    <f64>f32x4.extract_lane(v, 2) +
    <f64>f32x4.extract_lane(v, 3)
  );
}

// One body for the three reductions, over a group of `runs` runs of `runLen` elements `runStride` bytes
// apart; the vector accumulators carry over from run to run, so short strided runs (BatchNorm's planes)
// cost no reduction of their own. `shifted` and `centered` are literals at every call site, so inlining
// folds the branches away; centered false keeps only Σx² (RMSNorm).
@inline
function addSums(
  p: usize, runLen: i32, runs: i32, runStride: usize, pivot: f32, shifted: bool, centered: bool, m: usize,
): void {
  const k = f32x4.splat(pivot);
  const zero = f32x4.splat(0);
  let t1: f64 = 0;
  let t2: f64 = 0;
  let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
  let q0 = zero, q1 = zero, q2 = zero, q3 = zero;
  let s: f32 = 0;
  let ss: f32 = 0;
  let pending = 0; // elements in the vector accumulators since the last flush (a multiple of 4)
  let scalars = 0; // elements in s and ss since the last flush
  const vecBytes = <usize>(runLen & ~3) << 2;
  const runBytes = <usize>runLen << 2;
  for (let r = 0; r < runs; r++) {
    let q = p + <usize>r * runStride;
    const vecEnd = q + vecBytes;
    while (q < vecEnd) {
      const chunkEnd = min(vecEnd, q + (<usize>(BLOCK - pending) << 2));
      pending += <i32>(chunkEnd - q) >> 2;
      for (; q + 64 <= chunkEnd; q += 64) {
        let d0 = v128.load(q);
        let d1 = v128.load(q, 16);
        let d2 = v128.load(q, 32);
        let d3 = v128.load(q, 48);
        if (shifted) {
          d0 = f32x4.sub(d0, k);
          d1 = f32x4.sub(d1, k);
          d2 = f32x4.sub(d2, k);
          d3 = f32x4.sub(d3, k);
        }
        if (centered) {
          a0 = f32x4.add(a0, d0);
          a1 = f32x4.add(a1, d1);
          a2 = f32x4.add(a2, d2);
          a3 = f32x4.add(a3, d3);
        }
        q0 = f32x4.add(q0, f32x4.mul(d0, d0));
        q1 = f32x4.add(q1, f32x4.mul(d1, d1));
        q2 = f32x4.add(q2, f32x4.mul(d2, d2));
        q3 = f32x4.add(q3, f32x4.mul(d3, d3));
      }
      for (; q < chunkEnd; q += 16) {
        let d = v128.load(q);
        if (shifted) d = f32x4.sub(d, k);
        if (centered) a0 = f32x4.add(a0, d);
        q0 = f32x4.add(q0, f32x4.mul(d, d));
      }
      if (pending >= BLOCK) {
        if (centered) t1 += hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
        t2 += hsum(f32x4.add(f32x4.add(q0, q1), f32x4.add(q2, q3)));
        a0 = a1 = a2 = a3 = q0 = q1 = q2 = q3 = zero;
        pending = 0;
      }
    }
    const end = p + <usize>r * runStride + runBytes;
    for (; q < end; q += 4) {
      const d = load<f32>(q) - pivot;
      s += d;
      ss += d * d;
      scalars++;
    }
    if (scalars >= BLOCK) {
      t1 += <f64>s;
      t2 += <f64>ss;
      s = ss = 0;
      scalars = 0;
    }
  }
  if (centered) t1 += hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3))) + <f64>s;
  t2 += hsum(f32x4.add(f32x4.add(q0, q1), f32x4.add(q2, q3))) + <f64>ss;
  store<f64>(m + M_SUM1, t1);
  store<f64>(m + M_SUM2, t2);
}

/**
 * Σ(x - pivot) and Σ(x - pivot)² into record m's raw sums, over a group of `runs` runs of `runLen`
 * elements, `runStride` bytes apart; pivot 0 skips the subtraction.
 */
export function shiftedSums(p: usize, runLen: i32, runs: i32, runStride: usize, pivot: f32, m: usize): void {
  if (pivot == 0) addSums(p, runLen, runs, runStride, 0, false, true, m);
  else addSums(p, runLen, runs, runStride, pivot, true, true, m);
}

/** Σx² into record m (Σx left 0) over a group laid out as for {@link shiftedSums}. */
export function squareSums(p: usize, runLen: i32, runs: i32, runStride: usize, m: usize): void {
  addSums(p, runLen, runs, runStride, 0, false, false, m);
}

/**
 * Whether every element of the group equals `value`. Sums of squares that are exactly 0 come from such a
 * group or from one whose squares all underflowed; this tells the two apart.
 */
export function allEqual(p: usize, runLen: i32, runs: i32, runStride: usize, value: f32): bool {
  const k = f32x4.splat(value);
  for (let r = 0; r < runs; r++) {
    const q = p + <usize>r * runStride;
    let i = 0;
    for (; i + 4 <= runLen; i += 4) {
      if (v128.any_true(f32x4.ne(v128.load(q + (<usize>i << 2)), k))) return false;
    }
    for (; i < runLen; i++) if (load<f32>(q + (<usize>i << 2)) != value) return false;
  }
  return true;
}

const ROW_BLOCK: i32 = 256; // rows of one apply tile at most
const TILE_BYTES: i32 = 16384; // rows per tile: what stays in L1 while every channel block walks it
// Rows whose column sums are taken in f32 before the flush into f64: as many values per f32 accumulator
// as the contiguous reduction's lanes take (BLOCK / 16), so that channel-last statistics are as accurate.
const STAT_ROWS: i32 = 64;

/** Rows per tile for rows of `rowBytes`, shared by the column statistics and the column apply. */
@inline export function tileRows(rowBytes: usize): i32 {
  return max(1, min(ROW_BLOCK, TILE_BYTES / <i32>rowBytes));
}

// Adds the column sums of rows [r0, r1) to the f32 accumulators acc1/acc2. Channels are taken 16 at a
// time (a whole cache line of each row) with their pivots and sums in registers while the tile's rows
// stream past; 16 measured markedly faster than 8. Each tile continues the sums the last one stored, so
// a channel's sum is the same sequence of additions whatever the tile size, that is whatever C is.
// `shifted` false skips the pivots (all zero).
@inline
function columnTileSums(
  p: usize, r0: i32, r1: i32, rowBytes: usize, C: i32, pivot: usize, acc1: usize, acc2: usize, shifted: bool,
): void {
  const zero = f32x4.splat(0);
  let c = 0;
  for (; c + 16 <= C; c += 16) {
    const o = <usize>c << 2;
    const k0 = shifted ? v128.load(pivot + o) : zero;
    const k1 = shifted ? v128.load(pivot + o, 16) : zero;
    const k2 = shifted ? v128.load(pivot + o, 32) : zero;
    const k3 = shifted ? v128.load(pivot + o, 48) : zero;
    let a0 = v128.load(acc1 + o), a1 = v128.load(acc1 + o, 16);
    let a2 = v128.load(acc1 + o, 32), a3 = v128.load(acc1 + o, 48);
    let q0 = v128.load(acc2 + o), q1 = v128.load(acc2 + o, 16);
    let q2 = v128.load(acc2 + o, 32), q3 = v128.load(acc2 + o, 48);
    let row = p + <usize>r0 * rowBytes + o;
    for (let r = r0; r < r1; r++) {
      let d0 = v128.load(row);
      let d1 = v128.load(row, 16);
      let d2 = v128.load(row, 32);
      let d3 = v128.load(row, 48);
      if (shifted) {
        d0 = f32x4.sub(d0, k0);
        d1 = f32x4.sub(d1, k1);
        d2 = f32x4.sub(d2, k2);
        d3 = f32x4.sub(d3, k3);
      }
      a0 = f32x4.add(a0, d0);
      a1 = f32x4.add(a1, d1);
      a2 = f32x4.add(a2, d2);
      a3 = f32x4.add(a3, d3);
      q0 = f32x4.add(q0, f32x4.mul(d0, d0));
      q1 = f32x4.add(q1, f32x4.mul(d1, d1));
      q2 = f32x4.add(q2, f32x4.mul(d2, d2));
      q3 = f32x4.add(q3, f32x4.mul(d3, d3));
      row += rowBytes;
    }
    v128.store(acc1 + o, a0);
    v128.store(acc1 + o, a1, 16);
    v128.store(acc1 + o, a2, 32);
    v128.store(acc1 + o, a3, 48);
    v128.store(acc2 + o, q0);
    v128.store(acc2 + o, q1, 16);
    v128.store(acc2 + o, q2, 32);
    v128.store(acc2 + o, q3, 48);
  }
  for (; c + 4 <= C; c += 4) {
    const o = <usize>c << 2;
    const k = shifted ? v128.load(pivot + o) : zero;
    let a = v128.load(acc1 + o), q = v128.load(acc2 + o);
    let row = p + <usize>r0 * rowBytes + o;
    for (let r = r0; r < r1; r++) {
      const d = shifted ? f32x4.sub(v128.load(row), k) : v128.load(row);
      a = f32x4.add(a, d);
      q = f32x4.add(q, f32x4.mul(d, d));
      row += rowBytes;
    }
    v128.store(acc1 + o, a);
    v128.store(acc2 + o, q);
  }
  for (; c < C; c++) {
    const o = <usize>c << 2;
    const k = load<f32>(pivot + o);
    let a = load<f32>(acc1 + o), q = load<f32>(acc2 + o);
    let row = p + <usize>r0 * rowBytes + o;
    for (let r = r0; r < r1; r++) {
      const d = load<f32>(row) - k;
      a += d;
      q += d * d;
      row += rowBytes;
    }
    store<f32>(acc1 + o, a);
    store<f32>(acc2 + o, q);
  }
}

/**
 * Column sums of C channels of a row-major block of `rows` rows, `rowBytes` apart (channel-last data),
 * vectorized across channels: Σ_r (x[r,c] - pivot[c]) and Σ_r (x[r,c] - pivot[c])² into the raw sums of
 * C moments records at m; `shifted` false means all pivots are 0. acc1/acc2 are f32[C] scratch, flushed
 * into the records every STAT_ROWS rows.
 */
export function columnSums(
  p: usize, rows: i32, C: i32, rowBytes: usize, pivot: usize, acc1: usize, acc2: usize, m: usize, shifted: bool,
): void {
  const tile = min(STAT_ROWS, tileRows(<usize>C << 2));
  for (let c = 0; c < C; c++) {
    const rec = m + <usize>c * RECORD_BYTES;
    store<f64>(rec + M_SUM1, 0);
    store<f64>(rec + M_SUM2, 0);
  }
  let r = 0;
  while (r < rows) {
    const end = min(rows, r + STAT_ROWS);
    memory.fill(acc1, 0, <usize>C << 2);
    memory.fill(acc2, 0, <usize>C << 2);
    for (; r < end; r += tile) {
      if (shifted) columnTileSums(p, r, min(end, r + tile), rowBytes, C, pivot, acc1, acc2, true);
      else columnTileSums(p, r, min(end, r + tile), rowBytes, C, pivot, acc1, acc2, false);
    }
    r = end;
    for (let c = 0; c < C; c++) {
      const o = <usize>c << 2;
      const rec = m + <usize>c * RECORD_BYTES;
      store<f64>(rec + M_SUM1, load<f64>(rec + M_SUM1) + <f64>load<f32>(acc1 + o));
      store<f64>(rec + M_SUM2, load<f64>(rec + M_SUM2) + <f64>load<f32>(acc2 + o));
    }
  }
}

/** Whether column c of a row-major block of `rows` rows, `rowBytes` apart, holds any value other than `value`. */
export function columnDiffers(p: usize, rows: i32, rowBytes: usize, c: i32, value: f32): bool {
  let q = p + (<usize>c << 2);
  for (let r = 0; r < rows; r++, q += rowBytes) if (load<f32>(q) != value) return true;
  return false;
}

/**
 * Plain two-pass moments in f64 into record m, over `runs` runs of `runLen` elements, `runStride` bytes
 * apart. The fallback for what the f32 fast path cannot represent: squares beyond the f32 range, squares
 * that underflow, and non-finite inputs (whose NaN it propagates). Slow, and needed only for such groups.
 */
export function exactMoments(p: usize, runLen: i32, runs: i32, runStride: usize, centered: bool, m: usize): void {
  const n = <f64>runLen * <f64>runs;
  let s: f64 = 0;
  for (let r = 0; r < runs; r++) {
    const q = p + <usize>r * runStride;
    for (let i = 0; i < runLen; i++) s += <f64>load<f32>(q + (<usize>i << 2));
  }
  const mean = centered ? s / n : 0;
  let m2: f64 = 0;
  for (let r = 0; r < runs; r++) {
    const q = p + <usize>r * runStride;
    for (let i = 0; i < runLen; i++) {
      const d = <f64>load<f32>(q + (<usize>i << 2)) - mean;
      m2 += d * d;
    }
  }
  store<f64>(m + M_MEAN, mean);
  // An infinite input makes an uncentred group's mean square infinite, which would scale every finite
  // output of the group to 0: poison the group instead, as a centred group's Inf - Inf does.
  store<f64>(m + M_VAR, isFinite<f64>(m2) ? m2 / n : NaN);
}
