// The channel ops: GroupNorm (InstanceNorm is G = C), BatchNorm and AdaIN, in both layouts.
//
// Channel-first data (NCHW) is a sequence of contiguous planes of HW elements; a group is normalized
// right after its statistics while it is in cache. Channel-last data (NHWC) is rows of C channels;
// statistics are taken for all channels at once across rows (vectorized over channels), then one pass
// applies per-channel coefficients. A tensor with HW = 1 is rows of C in either layout.

import {
  groupMoments, groupMean, groupVar, columnMoments, columnWorkBytes,
  colPivot, colScale, colShift, colMean, colVar,
} from './stats';
import { applyRun, applyRuns, applyColumns } from './apply';
import { scaleOf, pivotFor, gammaAt, betaAt, groupCoefficients } from './coefficients';

/** Bytes of workspace the channel ops need for C channels and `styleGroups` (sample, channel) AdaIN style statistics. */
export function workspaceBytes(C: i32, styleGroups: i32): usize {
  return columnWorkBytes(C) + (<usize>styleGroups << 4);
}

// Applies channel c's planes (`runs` of HW elements, `stride` bytes apart) normalized by the statistics
// (groupMean, groupVar) of its group.
@inline
function applyPlanes(
  src: usize, dst: usize, HW: i32, runs: i32, stride: usize, scale: f64, pivot: f32, c: i32, w: usize, b: usize,
): void {
  const a = scale * gammaAt(w, c);
  applyRuns(src, dst, HW, runs, stride, pivot, <f32>a, <f32>(betaAt(b, c) - (groupMean - <f64>pivot) * a));
}

// The apply pass over channel-last rows, subtracting the pivots only when some are nonzero.
@inline
function applyRows(x: usize, y: usize, rows: i32, C: i32, work: usize, shifted: bool): void {
  applyColumns(x, y, rows, C, shifted ? colPivot(work, C) : 0, colScale(work, C), colShift(work, C));
}

export function groupNorm(
  x: usize, y: usize, N: i32, C: i32, HW: i32, G: i32, w: usize, b: usize, eps: f64,
  channelsLast: bool, work: usize,
): void {
  const cpg = C / G;
  const sampleBytes = <usize>C * <usize>HW << 2;
  if (channelsLast || HW == 1) {
    for (let n = 0; n < N; n++) {
      const off = <usize>n * sampleBytes;
      columnMoments(x + off, HW, C, work);
      applyRows(x + off, y + off, HW, C, work, groupCoefficients(work, C, G, w, b, eps));
    }
    return;
  }
  const planeBytes = <usize>HW << 2;
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < G; g++) {
      const base = <usize>n * sampleBytes + <usize>(g * cpg) * planeBytes;
      groupMoments(x + base, cpg * HW, 1, 0, true);
      const scale = scaleOf(groupVar, eps);
      const pivot = pivotFor(groupMean, groupVar, scale);
      for (let j = 0; j < cpg; j++) {
        const off = base + <usize>j * planeBytes;
        applyPlanes(x + off, y + off, HW, 1, 0, scale, pivot, g * cpg + j, w, b);
      }
    }
  }
}

export function batchNormInference(
  x: usize, y: usize, N: i32, C: i32, HW: i32, w: usize, b: usize, mean: usize, variance: usize,
  eps: f64, channelsLast: bool, work: usize,
): void {
  const pivots = colPivot(work, C);
  const scales = colScale(work, C);
  const shifts = colShift(work, C);
  let shifted = false;
  for (let c = 0; c < C; c++) {
    const o = <usize>c << 2;
    // Running statistics are arbitrary numbers, not a group's own: plain IEEE 1/sqrt(var + eps), as PyTorch.
    const m = <f64>load<f32>(mean + o);
    const v = <f64>load<f32>(variance + o);
    const scale = 1 / Math.sqrt(v + eps);
    const a = gammaAt(w, c) * scale;
    const pivot = pivotFor(m, v, scale);
    shifted = shifted || pivot != 0;
    store<f32>(pivots + o, pivot);
    store<f32>(scales + o, <f32>a);
    // With runningVar + eps = 0, a is infinite: skip the 0 * Inf of an exact pivot, so that the output is
    // IEEE's (x - mean) * Inf + beta, as in PyTorch, rather than NaN everywhere.
    const off = m - <f64>pivot;
    store<f32>(shifts + o, <f32>(off == 0 ? betaAt(b, c) : betaAt(b, c) - off * a));
  }
  if (channelsLast || HW == 1) {
    applyRows(x, y, N * HW, C, work, shifted);
    return;
  }
  const planeBytes = <usize>HW << 2;
  for (let c = 0; c < C; c++) {
    const off = <usize>c * planeBytes;
    const o = <usize>c << 2;
    applyRuns(
      x + off, y + off, HW, N, <usize>C * planeBytes, load<f32>(pivots + o), load<f32>(scales + o),
      load<f32>(shifts + o),
    );
  }
}

// r = (1 - momentum) * r + momentum * stat, in f64.
@inline
function updateRunning(p: usize, c: i32, momentum: f64, stat: f64): void {
  const o = <usize>c << 2;
  store<f32>(p + o, <f32>((1 - momentum) * <f64>load<f32>(p + o) + momentum * stat));
}

export function batchNormTraining(
  x: usize, y: usize, N: i32, C: i32, HW: i32, w: usize, b: usize, eps: f64,
  runningMean: usize, runningVar: usize, momentum: f64, unbiased: bool, channelsLast: bool, work: usize,
): void {
  const count = <f64>N * <f64>HW;
  const correction = unbiased ? count / (count - 1) : 1;
  if (channelsLast || HW == 1) {
    columnMoments(x, N * HW, C, work);
    applyRows(x, y, N * HW, C, work, groupCoefficients(work, C, C, w, b, eps));
    if (runningMean != 0) {
      for (let c = 0; c < C; c++) {
        updateRunning(runningMean, c, momentum, load<f64>(colMean(work, C) + (<usize>c << 3)));
        updateRunning(runningVar, c, momentum, load<f64>(colVar(work, C) + (<usize>c << 3)) * correction);
      }
    }
    return;
  }
  const planeBytes = <usize>HW << 2;
  const sampleBytes = <usize>C * planeBytes;
  for (let c = 0; c < C; c++) {
    const base = <usize>c * planeBytes;
    groupMoments(x + base, HW, N, sampleBytes, true);
    const scale = scaleOf(groupVar, eps);
    applyPlanes(x + base, y + base, HW, N, sampleBytes, scale, pivotFor(groupMean, groupVar, scale), c, w, b);
    if (runningMean != 0) {
      updateRunning(runningMean, c, momentum, groupMean);
      updateRunning(runningVar, c, momentum, groupVar * correction);
    }
  }
}

/**
 * AdaIN: each (sample, channel) plane of the content is normalized by its own statistics and takes the
 * style plane's standard deviation and mean; a style batch of 1 is broadcast over the content batch.
 */
export function adaIN(
  x: usize, y: usize, N: i32, C: i32, HW: i32, s: usize, styleN: i32, styleHW: i32, eps: f64,
  channelsLast: bool, work: usize,
): void {
  const styleMean = work + columnWorkBytes(C);
  const styleStd = styleMean + (<usize>(styleN * C) << 3);
  const styleSample = <usize>C * <usize>styleHW << 2;
  for (let n = 0; n < styleN; n++) {
    for (let c = 0; c < C; c++) {
      const o = <usize>(n * C + c) << 3;
      if (channelsLast) {
        if (c == 0) columnMoments(s + <usize>n * styleSample, styleHW, C, work);
        store<f64>(styleMean + o, load<f64>(colMean(work, C) + (<usize>c << 3)));
        store<f64>(styleStd + o, Math.sqrt(load<f64>(colVar(work, C) + (<usize>c << 3)) + eps));
      } else {
        groupMoments(s + <usize>n * styleSample + (<usize>(c * styleHW) << 2), styleHW, 1, 0, true);
        store<f64>(styleMean + o, groupMean);
        store<f64>(styleStd + o, Math.sqrt(groupVar + eps));
      }
    }
  }
  const sampleBytes = <usize>C * <usize>HW << 2;
  for (let n = 0; n < N; n++) {
    const sn = styleN == 1 ? 0 : n;
    const off = <usize>n * sampleBytes;
    if (channelsLast) {
      columnMoments(x + off, HW, C, work);
      let shifted = false;
      for (let c = 0; c < C; c++) {
        const o4 = <usize>c << 2;
        const o8 = <usize>c << 3;
        const so = <usize>(sn * C + c) << 3;
        const mean = load<f64>(colMean(work, C) + o8);
        const variance = load<f64>(colVar(work, C) + o8);
        const scale = scaleOf(variance, eps);
        const a = load<f64>(styleStd + so) * scale;
        const pivot = pivotFor(mean, variance, scale);
        shifted = shifted || pivot != 0;
        store<f32>(colPivot(work, C) + o4, pivot);
        store<f32>(colScale(work, C) + o4, <f32>a);
        store<f32>(colShift(work, C) + o4, <f32>(load<f64>(styleMean + so) - (mean - <f64>pivot) * a));
      }
      applyRows(x + off, y + off, HW, C, work, shifted);
      continue;
    }
    for (let c = 0; c < C; c++) {
      const plane = off + (<usize>(c * HW) << 2);
      groupMoments(x + plane, HW, 1, 0, true);
      const so = <usize>(sn * C + c) << 3;
      const scale = scaleOf(groupVar, eps);
      const a = load<f64>(styleStd + so) * scale;
      const pivot = pivotFor(groupMean, groupVar, scale);
      applyRun(x + plane, y + plane, HW, pivot, <f32>a, <f32>(load<f64>(styleMean + so) - (groupMean - <f64>pivot) * a));
    }
  }
}
