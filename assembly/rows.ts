// LayerNorm and RMSNorm: each row of LENGTH contiguous elements is one group, normalized right after its
// statistics are taken, while it is still in cache.

import {
  P_X, P_Y, P_RESIDUAL, P_INPUT_BIAS, P_SUM_OUT, P_WEIGHT, P_BIAS, P_MEAN_OUT, P_INV_STD_OUT, P_UNITS, P_LENGTH,
  P_FLAGS, P_EPS, P_EPILOGUE, P_SCRATCH, P_WORK, P_RESIDUAL_ROWS, P_INPUT_BIAS_ROWS, P_WEIGHT_ROWS, P_BIAS_ROWS,
  P_WEIGHT_INDEX, P_BIAS_INDEX, P_RESIDUAL_STEP, P_INPUT_BIAS_STEP, P_WEIGHT_STEP, P_BIAS_STEP, P_WEIGHT_INNER,
  P_BIAS_INNER, FLAG_CENTERED, INNER_FULL, INNER_SCALAR,
} from './abi';
import { groupMoments } from './stats';
import { RECORD_BYTES, meanOf, varianceOf } from './moments';
import { fold, FOLD_EXACT, pivots, scales, shifts, exactMean, exactScale } from './fold';
import { applyAffineRow, addInto, exactRow } from './apply';

// A broadcast operand of the row ops: its pointer, and where row r of it starts (an i32 table of element
// offsets, or r * step without one).
@inline function rowOf(p: usize, table: usize, step: i32, r: i32): usize {
  if (p == 0) return 0;
  const e = table != 0 ? load<i32>(table + (<usize>r << 2)) : r * step;
  return p + (<usize>e << 2);
}

// A weight or bias row as the apply reads it, one value per position: in place where the operand has one
// (INNER_FULL), else gathered into `scratch` (one value for the row, or positions through an offset table),
// and gathered again only when the row's start changes (a shared scale is gathered once per call).
@inline
function affineRow(row: usize, inner: i32, index: usize, n: i32, scratch: usize, cached: usize): usize {
  if (row == 0 || inner == INNER_FULL) return row;
  if (load<usize>(cached) == row) return scratch;
  store<usize>(cached, row);
  if (inner == INNER_SCALAR) {
    const v = f32x4.splat(load<f32>(row));
    let i = 0;
    for (; i + 4 <= n; i += 4) v128.store(scratch + (<usize>i << 2), v);
    for (; i < n; i++) store<f32>(scratch + (<usize>i << 2), load<f32>(row));
  } else {
    for (let i = 0; i < n; i++) {
      store<f32>(scratch + (<usize>i << 2), load<f32>(row + (<usize>load<i32>(index + (<usize>i << 2)) << 2)));
    }
  }
  return scratch;
}

/** Bytes of workspace the row ops need for rows of n elements: two gathered rows and their cache keys. */
export function rowWorkspaceBytes(n: i32): usize {
  return 2 * (((<usize>n << 2) + 15) & ~15) + 16;
}

/**
 * Normalizes UNITS rows of LENGTH elements from X into Y (which may equal X). With RESIDUAL or INPUT_BIAS,
 * each row of (X + RESIDUAL) + INPUT_BIAS is normalized instead, and written to SUM_OUT when given.
 * MEAN_OUT/INV_STD_OUT receive one value per row. FLAG_CENTERED unset gives RMSNorm (no mean, no bias).
 */
export function normalizeRows(params: usize): void {
  const x = load<usize>(params + P_X);
  const y = load<usize>(params + P_Y);
  const res = load<usize>(params + P_RESIDUAL);
  const inputBias = load<usize>(params + P_INPUT_BIAS);
  const sumOut = load<usize>(params + P_SUM_OUT);
  const w = load<usize>(params + P_WEIGHT);
  const b = load<usize>(params + P_BIAS);
  const meanOut = load<usize>(params + P_MEAN_OUT);
  const rstdOut = load<usize>(params + P_INV_STD_OUT);
  const rows = load<i32>(params + P_UNITS);
  const n = load<i32>(params + P_LENGTH);
  const centered = (load<i32>(params + P_FLAGS) & FLAG_CENTERED) != 0;
  const eps = load<f64>(params + P_EPS);
  const kind = load<i32>(params + P_EPILOGUE);
  const resRows = load<usize>(params + P_RESIDUAL_ROWS);
  const biasInRows = load<usize>(params + P_INPUT_BIAS_ROWS);
  const wRows = load<usize>(params + P_WEIGHT_ROWS);
  const bRows = load<usize>(params + P_BIAS_ROWS);
  const wIndex = load<usize>(params + P_WEIGHT_INDEX);
  const bIndex = load<usize>(params + P_BIAS_INDEX);
  const resStep = load<i32>(params + P_RESIDUAL_STEP);
  const biasInStep = load<i32>(params + P_INPUT_BIAS_STEP);
  const wStep = load<i32>(params + P_WEIGHT_STEP);
  const bStep = load<i32>(params + P_BIAS_STEP);
  const wInner = load<i32>(params + P_WEIGHT_INNER);
  const bInner = load<i32>(params + P_BIAS_INNER);
  // Gathered weight and bias rows, and the operand rows they were gathered from.
  const work = load<usize>(params + P_WORK);
  const rowBytes = <usize>n << 2;
  const wScratch = work;
  const bScratch = work + ((rowBytes + 15) & ~15);
  const wCached = bScratch + ((rowBytes + 15) & ~15);
  const bCached = wCached + 8;
  if (work != 0) {
    store<usize>(wCached, 0);
    store<usize>(bCached, 0);
  }
  const m = params + P_SCRATCH;
  const coef = m + RECORD_BYTES;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * rowBytes;
    let src = x + off;
    const dst = y + off;
    if (res != 0 || inputBias != 0) {
      const sum = sumOut != 0 ? sumOut + off : dst;
      if (res != 0) {
        addInto(src, rowOf(res, resRows, resStep, r), sum, n);
        src = sum;
      }
      if (inputBias != 0) {
        addInto(src, rowOf(inputBias, biasInRows, biasInStep, r), sum, n);
        src = sum;
      }
    }
    groupMoments(src, n, 1, 0, centered, m);
    const variance = varianceOf(m);
    if (meanOut != 0) store<f32>(meanOut + (<usize>r << 2), <f32>meanOf(m));
    if (rstdOut != 0) store<f32>(rstdOut + (<usize>r << 2), <f32>(1 / Math.sqrt(variance + eps)));
    const wr = affineRow(rowOf(w, wRows, wStep, r), wInner, wIndex, n, wScratch, wCached);
    const br = affineRow(rowOf(b, bRows, bStep, r), bInner, bIndex, n, bScratch, bCached);
    // The row's scale and shift; the per-position weight and bias follow in the apply.
    if ((fold(m, eps, 1, 0, coef, 1, 0) & FOLD_EXACT) != 0) {
      exactRow(src, dst, n, exactMean(coef, 1, 0), exactScale(coef, 1, 0), wr, br, kind);
    } else {
      applyAffineRow(src, dst, n, load<f32>(pivots(coef, 1)), load<f32>(scales(coef, 1)), load<f32>(shifts(coef, 1)), wr, br, kind);
    }
  }
}
