// LayerNorm and RMSNorm: each row of `n` contiguous elements is one group, normalized right after its
// statistics are taken, while it is still in cache.

import { groupMoments, groupMean, groupVar } from './stats';
import { applyAffineRow, addInto } from './apply';
import { scaleOf, pivotFor } from './coefficients';

/**
 * Normalizes `rows` rows of `n` elements from x into y (which may equal x). With `res`, each row of
 * x + res is normalized instead, and written to `sumOut` when given. meanOut/rstdOut receive one value
 * per row. Pointers that are 0 are absent. `centered` false gives RMSNorm (no mean, no bias).
 */
export function normalizeRows(
  x: usize, y: usize, rows: i32, n: i32, w: usize, b: usize, eps: f64,
  res: usize, sumOut: usize, meanOut: usize, rstdOut: usize, centered: bool,
): void {
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
    groupMoments(src, n, 1, 0, centered);
    const scale = scaleOf(groupVar, eps);
    if (meanOut != 0) store<f32>(meanOut + (<usize>r << 2), <f32>groupMean);
    if (rstdOut != 0) store<f32>(rstdOut + (<usize>r << 2), <f32>(1 / Math.sqrt(groupVar + eps)));
    const pivot = pivotFor(groupMean, groupVar, scale);
    const shift = 0 - (groupMean - <f64>pivot) * scale;
    applyAffineRow(src, dst, n, pivot, <f32>scale, <f32>shift, w, b);
  }
}
