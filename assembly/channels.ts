// The channel ops: GroupNorm (InstanceNorm is G = C), BatchNorm and AdaIN, in both layouts.
//
// Channel-first data (NCHW) is a sequence of contiguous planes of HW elements; a group is normalized
// right after its statistics while it is in cache. Channel-last data (NHWC) is rows of C channels;
// statistics are taken for all channels at once across rows (vectorized over channels), then one pass
// applies per-channel coefficients. A tensor with HW = 1 is rows of C in either layout.

import {
  P_X, P_Y, P_WEIGHT, P_BIAS, P_RUNNING_MEAN, P_RUNNING_VAR, P_STYLE, P_WORK, P_UNITS, P_C, P_HW, P_GROUPS,
  P_STYLE_UNITS, P_STYLE_HW, P_FLAGS, P_EPILOGUE, P_EPS, P_MOMENTUM, P_SCRATCH, P_RESIDUAL, P_INPUT_BIAS, P_SUM_OUT,
  P_MEAN_OUT, P_INV_STD_OUT, P_CHANNEL_STRIDE, P_RESIDUAL_STEP, P_INPUT_BIAS_STEP, P_WEIGHT_STEP, P_BIAS_STEP, FLAG_CHANNELS_LAST,
  FLAG_UNBIASED, FLAG_RESIDUAL_PER_CHANNEL, FLAG_INPUT_BIAS_PER_CHANNEL,
} from './abi';
import { groupMoments, columnMoments } from './stats';
import { RECORD_BYTES, meanOf, varianceOf } from './moments';
import {
  fold, foldRunning, foldGroups, saveStats, clearExact, coefficientBytes, FOLD_EXACT, FOLD_SHIFTED, isExact, pivots, scales, shifts, exactMean, exactScale,
  exactShift, gammaAt, betaAt,
} from './fold';
import { applyRuns, applyColumns, exactRuns, addInto, addChannels } from './apply';

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

// ---- skip inputs ---------------------------------------------------------------------------------------

/** Whether the call has a skip input (residual or inputBias) to add to x first. */
@inline function hasSkip(params: usize): bool {
  return load<usize>(params + P_RESIDUAL) != 0 || load<usize>(params + P_INPUT_BIAS) != 0;
}

/**
 * The tensor's channel count (CHANNEL_STRIDE), of which the call may take a block of C (a thread's share):
 * it sets the distance between samples and, channel-last, between rows.
 */
@inline function channelStride(params: usize, C: i32): i32 {
  const stride = load<i32>(params + P_CHANNEL_STRIDE);
  return stride != 0 ? stride : C;
}

// out = a + b over one sample's block of C channels: contiguous, unless channel-last rows are wider.
function addSample(a: usize, b: usize, out: usize, C: i32, HW: i32, channelsLast: bool, rowBytes: usize): void {
  if (!channelsLast || rowBytes == <usize>C << 2) {
    addInto(a, b, out, C * HW);
    return;
  }
  for (let p = 0; p < HW; p++) {
    const o = <usize>p * rowBytes;
    addInto(a + o, b + o, out + o, C);
  }
}

// Forms sample n's (x + residual) + inputBias at `off` bytes into SUM_OUT (or y, when no SUM_OUT is
// given, to be normalized in place there) and returns where the sum is. A skip input shaped like x is read
// at the sample's own offset; a per-channel one at n * its step.
function addSkip(params: usize, x: usize, y: usize, off: usize, n: i32, C: i32, HW: i32, channelsLast: bool): usize {
  const flags = load<i32>(params + P_FLAGS);
  const res = load<usize>(params + P_RESIDUAL);
  const inputBias = load<usize>(params + P_INPUT_BIAS);
  const sumOut = load<usize>(params + P_SUM_OUT);
  const dst = (sumOut != 0 ? sumOut : y) + off;
  const rowBytes = <usize>channelStride(params, C) << 2;
  let src = x + off;
  if (res != 0) {
    if ((flags & FLAG_RESIDUAL_PER_CHANNEL) != 0) {
      addChannels(src, ofSample(res, load<i32>(params + P_RESIDUAL_STEP), n), dst, C, HW, channelsLast, rowBytes);
    } else {
      addSample(src, res + off, dst, C, HW, channelsLast, rowBytes);
    }
    src = dst;
  }
  if (inputBias != 0) {
    if ((flags & FLAG_INPUT_BIAS_PER_CHANNEL) != 0) {
      addChannels(src, ofSample(inputBias, load<i32>(params + P_INPUT_BIAS_STEP), n), dst, C, HW, channelsLast, rowBytes);
    } else {
      addSample(src, inputBias + off, dst, C, HW, channelsLast, rowBytes);
    }
  }
  return dst;
}

// A per-channel operand (weight, bias) of sample n: n * step channels in.
@inline function ofSample(p: usize, step: i32, n: i32): usize {
  return p == 0 ? 0 : p + (<usize>(n * step) << 2);
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
function applyRows(x: usize, y: usize, rows: i32, C: i32, rowBytes: usize, coef: usize, bits: i32, kind: i32): void {
  const exact = (bits & FOLD_EXACT) != 0;
  const inPlace = x == y;
  if (exact && inPlace) exactColumns(x, y, rows, C, rowBytes, coef, kind);
  const pivot = (bits & FOLD_SHIFTED) != 0 ? pivots(coef, C) : 0;
  applyColumns(x, y, rows, C, rowBytes, pivot, scales(coef, C), shifts(coef, C), kind);
  if (exact && !inPlace) exactColumns(x, y, rows, C, rowBytes, coef, kind);
}

function exactColumns(x: usize, y: usize, rows: i32, C: i32, rowBytes: usize, coef: usize, kind: i32): void {
  for (let c = 0; c < C; c++) {
    if (!isExact(coef, C, c)) continue;
    const o = <usize>c << 2;
    exactRuns(
      x + o, y + o, 1, rows, rowBytes, exactMean(coef, C, c), exactScale(coef, C, c), exactShift(coef, C, c),
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
  const rowBytes = <usize>channelStride(params, C) << 2;
  const sampleBytes = rowBytes * <usize>HW;
  const skip = hasSkip(params);
  const wStep = load<i32>(params + P_WEIGHT_STEP);
  const bStep = load<i32>(params + P_BIAS_STEP);
  const meanOut = load<usize>(params + P_MEAN_OUT);
  const invStdOut = load<usize>(params + P_INV_STD_OUT);
  if (channelsLast || HW == 1) {
    const coef = coefOf(work);
    const records = recordsOf(work, C);
    for (let n = 0; n < N; n++) {
      const off = <usize>n * sampleBytes;
      const src = skip ? addSkip(params, x, y, off, n, C, HW, channelsLast) : x + off;
      columnMoments(src, HW, C, rowBytes, pivots(coef, C), accOf(work, C), records);
      const bits = foldGroups(
        records, C, G, ofSample(w, wStep, n), ofSample(b, bStep, n), eps, coef, records + <usize>C * RECORD_BYTES,
        ofSample(meanOut, G, n), ofSample(invStdOut, G, n),
      );
      applyRows(src, y + off, HW, C, rowBytes, coef, bits, kind);
    }
    return;
  }
  const m = params + P_SCRATCH;
  const coef = m + RECORD_BYTES;
  const planeBytes = <usize>HW << 2;
  for (let n = 0; n < N; n++) {
    const sample = <usize>n * sampleBytes;
    const src = skip ? addSkip(params, x, y, sample, n, C, HW, false) : x + sample;
    const ws = ofSample(w, wStep, n);
    const bs = ofSample(b, bStep, n);
    for (let g = 0; g < G; g++) {
      const base = <usize>(g * cpg) * planeBytes;
      groupMoments(src + base, cpg * HW, 1, 0, true, m);
      saveStats(m, eps, meanOut, invStdOut, n * G + g);
      for (let j = 0; j < cpg; j++) {
        const c = g * cpg + j;
        const off = base + <usize>j * planeBytes;
        const bits = fold(m, eps, gammaAt(ws, c), betaAt(bs, c), coef, 1, 0);
        applyPlanes(src + off, y + sample + off, HW, 1, 0, coef, 1, 0, (bits & FOLD_EXACT) != 0, kind);
      }
    }
  }
}

// Forms (x + residual) + inputBias for all N samples (into SUM_OUT or y) and returns where the sum is, or
// x when there is no skip input: for the kernels whose statistics or apply span the batch.
function addSkipAll(params: usize, x: usize, y: usize, N: i32, C: i32, HW: i32, channelsLast: bool): usize {
  if (!hasSkip(params)) return x;
  const sampleBytes = <usize>channelStride(params, C) * <usize>HW << 2;
  for (let n = 0; n < N; n++) addSkip(params, x, y, <usize>n * sampleBytes, n, C, HW, channelsLast);
  const sumOut = load<usize>(params + P_SUM_OUT);
  return sumOut != 0 ? sumOut : y;
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
  const bits = foldRunning(mean, variance, eps, w, b, coef, C);
  const src = addSkipAll(params, x, y, N, C, HW, channelsLast);
  const CS = channelStride(params, C);
  if (channelsLast || HW == 1) {
    applyRows(src, y, N * HW, C, <usize>CS << 2, coef, bits, kind);
    return;
  }
  const planeBytes = <usize>HW << 2;
  for (let c = 0; c < C; c++) {
    const off = <usize>c * planeBytes;
    applyPlanes(src + off, y + off, HW, N, <usize>CS * planeBytes, coef, C, c, isExact(coef, C, c), kind);
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
  const meanOut = load<usize>(params + P_MEAN_OUT);
  const invStdOut = load<usize>(params + P_INV_STD_OUT);
  const src = addSkipAll(params, x, y, N, C, HW, channelsLast);
  const CS = channelStride(params, C);
  if (channelsLast || HW == 1) {
    const coef = coefOf(work);
    const records = recordsOf(work, C);
    const rowBytes = <usize>CS << 2;
    columnMoments(src, N * HW, C, rowBytes, pivots(coef, C), accOf(work, C), records);
    const bits = foldGroups(records, C, C, w, b, eps, coef, records + <usize>C * RECORD_BYTES, meanOut, invStdOut);
    applyRows(src, y, N * HW, C, rowBytes, coef, bits, kind);
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
  const sampleBytes = <usize>CS * planeBytes;
  for (let c = 0; c < C; c++) {
    const base = <usize>c * planeBytes;
    groupMoments(src + base, HW, N, sampleBytes, true, m);
    saveStats(m, eps, meanOut, invStdOut, c);
    const bits = fold(m, eps, gammaAt(w, c), betaAt(b, c), coef, 1, 0);
    applyPlanes(src + base, y + base, HW, N, sampleBytes, coef, 1, 0, (bits & FOLD_EXACT) != 0, kind);
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
  const rowBytes = <usize>channelStride(params, C) << 2;
  const styleSample = rowBytes * <usize>styleHW;
  for (let n = 0; n < styleN; n++) {
    if (channelsLast) columnMoments(s + <usize>n * styleSample, styleHW, C, rowBytes, pivots(coef, C), accOf(work, C), records);
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
  const sampleBytes = rowBytes * <usize>HW;
  const skip = hasSkip(params);
  const meanOut = load<usize>(params + P_MEAN_OUT);
  const invStdOut = load<usize>(params + P_INV_STD_OUT);
  for (let n = 0; n < N; n++) {
    const sn = styleN == 1 ? 0 : n;
    const off = <usize>n * sampleBytes;
    const src = skip ? addSkip(params, x, y, off, n, C, HW, channelsLast) : x + off;
    if (channelsLast) {
      columnMoments(src, HW, C, rowBytes, pivots(coef, C), accOf(work, C), records);
      let bits = 0;
      clearExact(coef, C);
      for (let c = 0; c < C; c++) {
        const o = style + (<usize>(sn * C + c) << 4);
        const rec = records + <usize>c * RECORD_BYTES;
        saveStats(rec, eps, meanOut, invStdOut, n * C + c);
        bits |= fold(rec, eps, load<f64>(o, 8), load<f64>(o), coef, C, c);
      }
      applyRows(src, y + off, HW, C, rowBytes, coef, bits, kind);
      continue;
    }
    for (let c = 0; c < C; c++) {
      const plane = <usize>(c * HW) << 2;
      groupMoments(src + plane, HW, 1, 0, true, m);
      saveStats(m, eps, meanOut, invStdOut, n * C + c);
      const o = style + (<usize>(sn * C + c) << 4);
      const bits = fold(m, eps, load<f64>(o, 8), load<f64>(o), one, 1, 0);
      applyPlanes(src + plane, y + off + plane, HW, 1, 0, one, 1, 0, (bits & FOLD_EXACT) != 0, kind);
    }
  }
}
