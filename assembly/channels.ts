// The channel ops: GroupNorm (InstanceNorm is G = C), BatchNorm and AdaIN, in both layouts.
//
// Channel-first data (NCHW) is a sequence of contiguous planes of HW elements; a group is normalized
// right after its statistics while it is in cache. Channel-last data (NHWC) is rows of C channels;
// statistics are taken for all channels at once across rows (vectorized over channels), then one pass
// applies per-channel coefficients. A tensor with HW = 1 is rows of C in either layout.

import {
  P_X, P_Y, P_WEIGHT, P_BIAS, P_RUNNING_MEAN, P_RUNNING_VAR, P_STYLE, P_WORK, P_UNITS, P_C, P_HW, P_GROUPS,
  P_STYLE_UNITS, P_STYLE_HW, P_FLAGS, P_EPILOGUE, P_EPS, P_MOMENTUM, P_SCRATCH, FLAG_CHANNELS_LAST, FLAG_UNBIASED,
} from './abi';
import { groupMoments, columnMoments } from './stats';
import { RECORD_BYTES, meanOf, varianceOf } from './moments';
import {
  fold, foldRunning, foldGroups, clearExact, coefficientBytes, FOLD_EXACT, FOLD_SHIFTED, isExact, pivots, scales, shifts, exactMean, exactScale,
  exactShift, gammaAt, betaAt,
} from './fold';
import { applyRuns, applyColumns, exactRuns } from './apply';

// ---- workspace -----------------------------------------------------------------------------------------
// For C channels: a coefficient set (fold.ts), f32[2C] of column sums, C moments records and, for AdaIN,
// `styleGroups` (mean, std) pairs of the style.

@inline function coefOf(work: usize): usize {
  return work;
}
@inline function accOf(work: usize, C: i32): usize {
  return work + coefficientBytes(C);
}
@inline function recordsOf(work: usize, C: i32): usize {
  return accOf(work, C) + ((<usize>C << 3) + 15 & ~15);
}
@inline function styleOf(work: usize, C: i32): usize {
  return recordsOf(work, C) + <usize>(C + 1) * RECORD_BYTES;
}

/** Bytes of workspace the channel ops need for C channels and `styleGroups` AdaIN style statistics. */
export function workspaceBytes(C: i32, styleGroups: i32): usize {
  return styleOf(0, C) + (<usize>styleGroups << 4);
}

// ---- the two apply shapes ------------------------------------------------------------------------------

// Channel c's planes (`runs` of HW elements, `stride` bytes apart) with coefficient c of the set, which
// the fold marked `exact` or not.
@inline
function applyPlanes(
  src: usize, dst: usize, HW: i32, runs: i32, stride: usize, coef: usize, K: i32, c: i32, exact: bool, kind: i32,
): void {
  if (exact) {
    exactRuns(src, dst, HW, runs, stride, exactMean(coef, K, c), exactScale(coef, K, c), exactShift(coef, K, c), kind);
    return;
  }
  const o = <usize>c << 2;
  applyRuns(
    src, dst, HW, runs, stride, load<f32>(pivots(coef, K) + o), load<f32>(scales(coef, K) + o),
    load<f32>(shifts(coef, K) + o), kind,
  );
}

// Channel-last rows with the per-channel set, whose fold returned `bits`: the pivots are subtracted only
// when some are nonzero. The fold gives exact channels identity coefficients (x * 1 + -0 = x); their exact
// pass writes the column before the vector pass when that pass runs in place (it then keeps it), and after
// it otherwise.
@inline
function applyRows(x: usize, y: usize, rows: i32, C: i32, coef: usize, bits: i32, kind: i32): void {
  const exact = (bits & FOLD_EXACT) != 0;
  const inPlace = x == y;
  if (exact && inPlace) exactColumns(x, y, rows, C, coef, kind);
  const pivot = (bits & FOLD_SHIFTED) != 0 ? pivots(coef, C) : 0;
  applyColumns(x, y, rows, C, pivot, scales(coef, C), shifts(coef, C), kind);
  if (exact && !inPlace) exactColumns(x, y, rows, C, coef, kind);
}

function exactColumns(x: usize, y: usize, rows: i32, C: i32, coef: usize, kind: i32): void {
  for (let c = 0; c < C; c++) {
    if (!isExact(coef, C, c)) continue;
    const o = <usize>c << 2;
    exactRuns(
      x + o, y + o, 1, rows, <usize>C << 2, exactMean(coef, C, c), exactScale(coef, C, c), exactShift(coef, C, c),
      kind,
    );
  }
}

// ---- kernels -------------------------------------------------------------------------------------------

/** GroupNorm (InstanceNorm with GROUPS = C) over UNITS samples. */
export function groupNorm(params: usize): void {
  const x = load<usize>(params + P_X);
  const y = load<usize>(params + P_Y);
  const w = load<usize>(params + P_WEIGHT);
  const b = load<usize>(params + P_BIAS);
  const work = load<usize>(params + P_WORK);
  const N = load<i32>(params + P_UNITS);
  const C = load<i32>(params + P_C);
  const HW = load<i32>(params + P_HW);
  const G = load<i32>(params + P_GROUPS);
  const channelsLast = (load<i32>(params + P_FLAGS) & FLAG_CHANNELS_LAST) != 0;
  const eps = load<f64>(params + P_EPS);
  const kind = load<i32>(params + P_EPILOGUE);
  const cpg = C / G;
  const sampleBytes = <usize>C * <usize>HW << 2;
  if (channelsLast || HW == 1) {
    const coef = coefOf(work);
    const records = recordsOf(work, C);
    for (let n = 0; n < N; n++) {
      const off = <usize>n * sampleBytes;
      columnMoments(x + off, HW, C, pivots(coef, C), accOf(work, C), records);
      const bits = foldGroups(records, C, G, w, b, eps, coef, records + <usize>C * RECORD_BYTES);
      applyRows(x + off, y + off, HW, C, coef, bits, kind);
    }
    return;
  }
  const m = params + P_SCRATCH;
  const coef = m + RECORD_BYTES;
  const planeBytes = <usize>HW << 2;
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < G; g++) {
      const base = <usize>n * sampleBytes + <usize>(g * cpg) * planeBytes;
      groupMoments(x + base, cpg * HW, 1, 0, true, m);
      for (let j = 0; j < cpg; j++) {
        const c = g * cpg + j;
        const off = base + <usize>j * planeBytes;
        const bits = fold(m, eps, gammaAt(w, c), betaAt(b, c), coef, 1, 0);
        applyPlanes(x + off, y + off, HW, 1, 0, coef, 1, 0, (bits & FOLD_EXACT) != 0, kind);
      }
    }
  }
}

/** BatchNorm with RUNNING_MEAN/RUNNING_VAR: one pass of per-channel coefficients. */
export function batchNormInference(params: usize): void {
  const x = load<usize>(params + P_X);
  const y = load<usize>(params + P_Y);
  const w = load<usize>(params + P_WEIGHT);
  const b = load<usize>(params + P_BIAS);
  const mean = load<usize>(params + P_RUNNING_MEAN);
  const variance = load<usize>(params + P_RUNNING_VAR);
  const work = load<usize>(params + P_WORK);
  const N = load<i32>(params + P_UNITS);
  const C = load<i32>(params + P_C);
  const HW = load<i32>(params + P_HW);
  const channelsLast = (load<i32>(params + P_FLAGS) & FLAG_CHANNELS_LAST) != 0;
  const eps = load<f64>(params + P_EPS);
  const kind = load<i32>(params + P_EPILOGUE);
  const coef = coefOf(work);
  let bits = 0;
  clearExact(coef, C);
  for (let c = 0; c < C; c++) {
    const o = <usize>c << 2;
    bits |= foldRunning(<f64>load<f32>(mean + o), <f64>load<f32>(variance + o), eps, gammaAt(w, c), betaAt(b, c), coef, C, c);
  }
  if (channelsLast || HW == 1) {
    applyRows(x, y, N * HW, C, coef, bits, kind);
    return;
  }
  const planeBytes = <usize>HW << 2;
  for (let c = 0; c < C; c++) {
    const off = <usize>c * planeBytes;
    applyPlanes(x + off, y + off, HW, N, <usize>C * planeBytes, coef, C, c, isExact(coef, C, c), kind);
  }
}

// r = (1 - momentum) * r + momentum * stat, in f64.
@inline
function updateRunning(p: usize, c: i32, momentum: f64, stat: f64): void {
  const o = <usize>c << 2;
  store<f32>(p + o, <f32>((1 - momentum) * <f64>load<f32>(p + o) + momentum * stat));
}

/** BatchNorm with the batch's statistics over all UNITS samples; updates the running statistics if given. */
export function batchNormTraining(params: usize): void {
  const x = load<usize>(params + P_X);
  const y = load<usize>(params + P_Y);
  const w = load<usize>(params + P_WEIGHT);
  const b = load<usize>(params + P_BIAS);
  const runningMean = load<usize>(params + P_RUNNING_MEAN);
  const runningVar = load<usize>(params + P_RUNNING_VAR);
  const work = load<usize>(params + P_WORK);
  const N = load<i32>(params + P_UNITS);
  const C = load<i32>(params + P_C);
  const HW = load<i32>(params + P_HW);
  const flags = load<i32>(params + P_FLAGS);
  const channelsLast = (flags & FLAG_CHANNELS_LAST) != 0;
  const eps = load<f64>(params + P_EPS);
  const momentum = load<f64>(params + P_MOMENTUM);
  const kind = load<i32>(params + P_EPILOGUE);
  const count = <f64>N * <f64>HW;
  const correction = (flags & FLAG_UNBIASED) != 0 ? count / (count - 1) : 1;
  if (channelsLast || HW == 1) {
    const coef = coefOf(work);
    const records = recordsOf(work, C);
    columnMoments(x, N * HW, C, pivots(coef, C), accOf(work, C), records);
    const bits = foldGroups(records, C, C, w, b, eps, coef, records + <usize>C * RECORD_BYTES);
    applyRows(x, y, N * HW, C, coef, bits, kind);
    if (runningMean != 0) {
      for (let c = 0; c < C; c++) {
        const rec = records + <usize>c * RECORD_BYTES;
        updateRunning(runningMean, c, momentum, meanOf(rec));
        updateRunning(runningVar, c, momentum, varianceOf(rec) * correction);
      }
    }
    return;
  }
  const m = params + P_SCRATCH;
  const coef = m + RECORD_BYTES;
  const planeBytes = <usize>HW << 2;
  const sampleBytes = <usize>C * planeBytes;
  for (let c = 0; c < C; c++) {
    const base = <usize>c * planeBytes;
    groupMoments(x + base, HW, N, sampleBytes, true, m);
    const bits = fold(m, eps, gammaAt(w, c), betaAt(b, c), coef, 1, 0);
    applyPlanes(x + base, y + base, HW, N, sampleBytes, coef, 1, 0, (bits & FOLD_EXACT) != 0, kind);
    if (runningMean != 0) {
      updateRunning(runningMean, c, momentum, meanOf(m));
      updateRunning(runningVar, c, momentum, varianceOf(m) * correction);
    }
  }
}

/**
 * AdaIN: each (sample, channel) plane of the content is normalized by its own statistics and takes the
 * style plane's standard deviation and mean; a style batch of 1 (STYLE_UNITS) is broadcast over the
 * content batch.
 */
export function adaIN(params: usize): void {
  const x = load<usize>(params + P_X);
  const y = load<usize>(params + P_Y);
  const s = load<usize>(params + P_STYLE);
  const work = load<usize>(params + P_WORK);
  const N = load<i32>(params + P_UNITS);
  const C = load<i32>(params + P_C);
  const HW = load<i32>(params + P_HW);
  const styleN = load<i32>(params + P_STYLE_UNITS);
  const styleHW = load<i32>(params + P_STYLE_HW);
  const channelsLast = (load<i32>(params + P_FLAGS) & FLAG_CHANNELS_LAST) != 0;
  const eps = load<f64>(params + P_EPS);
  const kind = load<i32>(params + P_EPILOGUE);
  const coef = coefOf(work);
  const records = recordsOf(work, C);
  const m = params + P_SCRATCH;
  const one = m + RECORD_BYTES;
  // The style's (mean, std) per (sample, channel).
  const style = styleOf(work, C);
  const styleSample = <usize>C * <usize>styleHW << 2;
  for (let n = 0; n < styleN; n++) {
    if (channelsLast) columnMoments(s + <usize>n * styleSample, styleHW, C, pivots(coef, C), accOf(work, C), records);
    for (let c = 0; c < C; c++) {
      let rec = records + <usize>c * RECORD_BYTES;
      if (!channelsLast) {
        rec = m;
        groupMoments(s + <usize>n * styleSample + (<usize>(c * styleHW) << 2), styleHW, 1, 0, true, rec);
      }
      const o = style + (<usize>(n * C + c) << 4);
      store<f64>(o, meanOf(rec));
      store<f64>(o, Math.sqrt(varianceOf(rec) + eps), 8);
    }
  }
  const sampleBytes = <usize>C * <usize>HW << 2;
  for (let n = 0; n < N; n++) {
    const sn = styleN == 1 ? 0 : n;
    const off = <usize>n * sampleBytes;
    if (channelsLast) {
      columnMoments(x + off, HW, C, pivots(coef, C), accOf(work, C), records);
      let bits = 0;
      clearExact(coef, C);
      for (let c = 0; c < C; c++) {
        const o = style + (<usize>(sn * C + c) << 4);
        bits |= fold(records + <usize>c * RECORD_BYTES, eps, load<f64>(o, 8), load<f64>(o), coef, C, c);
      }
      applyRows(x + off, y + off, HW, C, coef, bits, kind);
      continue;
    }
    for (let c = 0; c < C; c++) {
      const plane = off + (<usize>(c * HW) << 2);
      groupMoments(x + plane, HW, 1, 0, true, m);
      const o = style + (<usize>(sn * C + c) << 4);
      const bits = fold(m, eps, load<f64>(o, 8), load<f64>(o), one, 1, 0);
      applyPlanes(x + plane, y + plane, HW, 1, 0, one, 1, 0, (bits & FOLD_EXACT) != 0, kind);
    }
  }
}
