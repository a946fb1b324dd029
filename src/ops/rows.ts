// layerNorm and rmsNorm: the group is one row of the trailing axes from `axis` on.

import { NormkitError, describe } from '../errors.js';
import { getKernels } from '../wasm.js';
import { Tensor, beginStaging, commitStaging, finishStaging } from '../memory.js';
import {
  optionsOf, lengthOf, checkLength, checkShape, checkEps, checkTensorOverlap, checkOutputsOverlap, inputRef, outputRef, mainRefs, mainOutRef, unitsPerPass, isPlain, ptr,
  result, option,
} from '../args.js';
import type { LayerNormOptions, RmsNormOptions, TensorLike } from '../types.js';

/** The first normalized axis, from the ONNX `axis` of `shape`. */
function firstAxis(shape: readonly number[], axis: unknown): number {
  const rank = shape.length;
  if (typeof axis !== 'number' || !Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new NormkitError(
      'INVALID_AXIS',
      `axis: expected an integer in [${-rank}, ${rank - 1}] for shape ${describe(shape)}, got ${describe(axis)}`,
    );
  }
  return axis < 0 ? axis + rank : axis;
}

function checkRowsAliasing(
  x: TensorLike, weight: TensorLike | undefined, bias: TensorLike | undefined, residual: TensorLike | undefined,
  sumOut: TensorLike | undefined, out: TensorLike | undefined, mean: TensorLike | undefined,
  invStd: TensorLike | undefined,
): void {
  const outputs = [['out', out], ['sumOut', sumOut], ['mean', mean], ['invStd', invStd]] as const;
  for (let i = 0; i < outputs.length; i++) {
    const [name, o] = outputs[i];
    const sumOrOut = i < 2;
    checkTensorOverlap(name, o, 'x', x, sumOrOut);
    checkTensorOverlap(name, o, 'residual', residual, sumOrOut);
    checkTensorOverlap(name, o, 'weight', weight, false);
    checkTensorOverlap(name, o, 'bias', bias, false);
    for (let j = i + 1; j < outputs.length; j++) checkOutputsOverlap(name, o, outputs[j][0], outputs[j][1]);
  }
}

function normalizeRows(
  op: string, x: TensorLike, shape: readonly number[], axis: unknown, weight: TensorLike | undefined,
  bias: TensorLike | undefined, epsIn: unknown, residual: TensorLike | undefined, sumOut: TensorLike | undefined,
  out: TensorLike | undefined, mean: TensorLike | undefined, invStd: TensorLike | undefined, centered: boolean,
): Float32Array {
  const k = getKernels();
  const length = lengthOf('x', x);
  checkShape('shape', shape, length, 'x', 1);
  const first = firstAxis(shape, axis);
  let rows = 1;
  let n = 1;
  for (let i = 0; i < shape.length; i++) {
    if (i < first) rows *= shape[i];
    else n *= shape[i];
  }
  const eps = checkEps(epsIn);
  const groupWhy = `the product of shape[axis..] = ${n}`;
  if (weight !== undefined) checkLength('weight', weight, n, groupWhy);
  if (bias !== undefined) checkLength('bias', bias, n, groupWhy);
  if (residual !== undefined) checkLength('residual', residual, length, 'the length of x');
  if (sumOut !== undefined) {
    if (residual === undefined) {
      throw new NormkitError('INVALID_OPTION', `sumOut: only meaningful with residual, but residual is ${describe(residual)}`);
    }
    checkLength('sumOut', sumOut, length, 'the length of x');
  }
  if (out !== undefined) checkLength('out', out, length, 'the length of x');
  if (mean !== undefined) checkLength('mean', mean, rows, `one value per group: ${rows}`);
  if (invStd !== undefined) checkLength('invStd', invStd, rows, `one value per group: ${rows}`);
  if (out instanceof Tensor || sumOut !== undefined || mean !== undefined || invStd !== undefined) {
    checkRowsAliasing(x, weight, bias, residual, sumOut, out, mean, invStd);
  }
  const y = out ?? new Float32Array(length);
  if (length === 0) {
    // Empty groups have no statistics: their mean and invStd are NaN.
    if (rows > 0) {
      if (mean !== undefined) result(mean).fill(NaN);
      if (invStd !== undefined) result(invStd).fill(NaN);
    }
    return result(y);
  }
  const staged = isPlain(x) || isPlain(y) || isPlain(residual) || isPlain(sumOut);
  const step = unitsPerPass(n, rows, staged);
  for (let r0 = 0; r0 < rows; r0 += step) {
    const count = Math.min(step, rows - r0);
    const off = r0 * n;
    const len = count * n;
    beginStaging();
    const xRef = mainRefs(x, y, off, len);
    const yRef = mainOutRef();
    const wRef = inputRef(weight);
    const bRef = inputRef(bias);
    const resRef = inputRef(residual, off, len);
    const sumRef = outputRef(sumOut, off, len);
    const meanRef = outputRef(mean, r0, count);
    const rstdRef = outputRef(invStd, r0, count);
    commitStaging(op);
    k.normalizeRows(
      ptr(xRef), ptr(yRef), count, n, ptr(wRef), ptr(bRef), eps, ptr(resRef), ptr(sumRef), ptr(meanRef),
      ptr(rstdRef), centered,
    );
    finishStaging();
  }
  return result(y);
}

/**
 * Layer normalization over the axes `axis..rank-1` (ONNX LayerNormalization; PyTorch's layer_norm with
 * normalized_shape = shape.slice(axis)). With `residual`, normalizes `x + residual` (SkipLayerNorm) and
 * writes that sum to `sumOut` when given.
 */
export function layerNorm(x: TensorLike, shape: readonly number[], options?: LayerNormOptions): Float32Array {
  const o = optionsOf(options);
  return normalizeRows(
    'layerNorm', x, shape, option(o.axis, -1), o.weight, o.bias, option(o.eps, 1e-5), o.residual, o.sumOut, o.out, o.mean,
    o.invStd, true,
  );
}

/** RMS normalization over the axes `axis..rank-1`: `x / sqrt(mean(x²) + eps) * weight`. */
export function rmsNorm(x: TensorLike, shape: readonly number[], options?: RmsNormOptions): Float32Array {
  const o = optionsOf(options);
  return normalizeRows(
    'rmsNorm', x, shape, option(o.axis, -1), o.weight, undefined, option(o.eps, 1e-5), o.residual, o.sumOut, o.out,
    undefined, undefined, false,
  );
}
