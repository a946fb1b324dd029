// LayerNorm and RMSNorm: each row of LENGTH contiguous elements is one group, normalized right after its
// statistics are taken, while it is still in cache.

import {
  P_X, P_Y, P_RESIDUAL, P_SUM_OUT, P_WEIGHT, P_BIAS, P_MEAN_OUT, P_INV_STD_OUT, P_UNITS, P_LENGTH, P_FLAGS,
  P_EPS, P_EPILOGUE, P_SCRATCH, FLAG_CENTERED,
} from './abi';
import { groupMoments } from './stats';
import { RECORD_BYTES, meanOf, varianceOf } from './moments';
import { fold, FOLD_EXACT, pivots, scales, shifts, exactMean, exactScale } from './fold';
import { applyAffineRow, addInto, exactRow } from './apply';

/**
 * Normalizes UNITS rows of LENGTH elements from X into Y (which may equal X). With RESIDUAL, each row of
 * X + RESIDUAL is normalized instead, and written to SUM_OUT when given. MEAN_OUT/INV_STD_OUT receive one
 * value per row. FLAG_CENTERED unset gives RMSNorm (no mean, no bias).
 */
export function normalizeRows(params: usize): void {
  const x = load<usize>(params + P_X);
  const y = load<usize>(params + P_Y);
  const res = load<usize>(params + P_RESIDUAL);
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
  const m = params + P_SCRATCH;
  const coef = m + RECORD_BYTES;
  const rowBytes = <usize>n << 2;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * rowBytes;
    let src = x + off;
    const dst = y + off;
    if (res != 0) {
      const sum = sumOut != 0 ? sumOut + off : dst;
      addInto(src, res + off, sum, n);
      src = sum;
    }
    groupMoments(src, n, 1, 0, centered, m);
    const variance = varianceOf(m);
    if (meanOut != 0) store<f32>(meanOut + (<usize>r << 2), <f32>meanOf(m));
    if (rstdOut != 0) store<f32>(rstdOut + (<usize>r << 2), <f32>(1 / Math.sqrt(variance + eps)));
    // The row's scale and shift; the per-position weight and bias follow in the apply.
    if ((fold(m, eps, 1, 0, coef, 1, 0) & FOLD_EXACT) != 0) {
      exactRow(src, dst, n, exactMean(coef, 1, 0), exactScale(coef, 1, 0), w, b, kind);
    } else {
      applyAffineRow(src, dst, n, load<f32>(pivots(coef, 1)), load<f32>(scales(coef, 1)), load<f32>(shifts(coef, 1)), w, b, kind);
    }
  }
}
