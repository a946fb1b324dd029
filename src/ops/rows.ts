// layerNorm and rmsNorm: the group is one row of the trailing axes from `axis` on.

import { NormkitError, describe } from '../errors.js';
import { getKernels } from '../wasm.js';
import {
  P_X, P_Y, P_RESIDUAL, P_SUM_OUT, P_WEIGHT, P_BIAS, P_MEAN_OUT, P_INV_STD_OUT, P_UNITS, P_LENGTH, P_FLAGS, P_EPS,
  FLAG_CENTERED,
} from '../generated/abi.js';
import { readOptions, lengthOf, checkLength, readShape, checkEps } from '../validate.js';
import { execute, result } from '../execute.js';
import { checkAliasing } from '../aliasing.js';
import type { Binding, Plan } from '../plan.js';
import type { LayerNormOptions, RmsNormOptions, TensorLike } from '../types.js';

const LAYER_NORM_OPTIONS = new Set(['axis', 'weight', 'bias', 'eps', 'residual', 'sumOut', 'out', 'mean', 'invStd']);
const RMS_NORM_OPTIONS = new Set(['axis', 'weight', 'eps', 'residual', 'sumOut', 'out']);
// out and sumOut may be x or residual itself: each element is read before it is written.
const SAME_OK = [['out', 'x'], ['out', 'residual'], ['sumOut', 'x'], ['sumOut', 'residual']] as const;

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

/** Options of the row ops, each read once. */
interface RowArgs {
  axis: unknown;
  weight: TensorLike | undefined;
  bias: TensorLike | undefined;
  eps: unknown;
  residual: TensorLike | undefined;
  sumOut: TensorLike | undefined;
  out: TensorLike | undefined;
  mean: TensorLike | undefined;
  invStd: TensorLike | undefined;
}

function normalizeRows(op: string, x: TensorLike, shapeIn: readonly number[], a: RowArgs, centered: boolean): Float32Array<ArrayBuffer> {
  getKernels();
  const length = lengthOf('x', x);
  const shape = readShape('shape', shapeIn, length, 'x', 1);
  const first = firstAxis(shape, a.axis);
  let rows = 1;
  let n = 1;
  for (let i = 0; i < shape.length; i++) {
    if (i < first) rows *= shape[i];
    else n *= shape[i];
  }
  const eps = checkEps(a.eps);
  const { weight, bias, residual, sumOut, out, mean, invStd } = a;
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
  const y = out ?? new Float32Array(length);
  const bindings: Binding[] = [
    { name: 'x', value: x, role: 'in', field: P_X, unit: n },
    { name: 'out', value: y, role: 'out', field: P_Y, unit: n },
  ];
  if (residual !== undefined) bindings.push({ name: 'residual', value: residual, role: 'in', field: P_RESIDUAL, unit: n });
  if (sumOut !== undefined) bindings.push({ name: 'sumOut', value: sumOut, role: 'out', field: P_SUM_OUT, unit: n });
  if (weight !== undefined) bindings.push({ name: 'weight', value: weight, role: 'in', field: P_WEIGHT, unit: 0 });
  if (bias !== undefined) bindings.push({ name: 'bias', value: bias, role: 'in', field: P_BIAS, unit: 0 });
  if (mean !== undefined) bindings.push({ name: 'mean', value: mean, role: 'out', field: P_MEAN_OUT, unit: 1 });
  if (invStd !== undefined) bindings.push({ name: 'invStd', value: invStd, role: 'out', field: P_INV_STD_OUT, unit: 1 });
  const plan: Plan = {
    op, kernel: 'normalizeRows', units: rows, unitLength: n, bindings, sameOk: SAME_OK,
    scalars: [
      { field: P_LENGTH, value: n },
      { field: P_FLAGS, value: centered ? FLAG_CENTERED : 0 },
      { field: P_EPS, value: eps, f64: true },
    ],
    unitFields: [P_UNITS],
  };
  if (length > 0) {
    execute(plan);
    return result(y);
  }
  checkAliasing(plan);
  // Empty groups have no statistics: their mean and invStd are NaN.
  if (rows > 0) {
    if (mean !== undefined) result(mean).fill(NaN);
    if (invStd !== undefined) result(invStd).fill(NaN);
  }
  return result(y);
}

/**
 * Layer normalization over the axes `axis..rank-1` (ONNX LayerNormalization; PyTorch's layer_norm with
 * normalized_shape = shape.slice(axis)). With `residual`, normalizes `x + residual` (SkipLayerNorm) and
 * writes that sum to `sumOut` when given.
 */
export function layerNorm(x: TensorLike, shape: readonly number[], options?: LayerNormOptions): Float32Array<ArrayBuffer> {
  const { axis = -1, weight, bias, eps = 1e-5, residual, sumOut, out, mean, invStd } =
    readOptions('layerNorm', options, LAYER_NORM_OPTIONS);
  return normalizeRows('layerNorm', x, shape, { axis, weight, bias, eps, residual, sumOut, out, mean, invStd }, true);
}

/** RMS normalization over the axes `axis..rank-1`: `x / sqrt(mean(x²) + eps) * weight`. */
export function rmsNorm(x: TensorLike, shape: readonly number[], options?: RmsNormOptions): Float32Array<ArrayBuffer> {
  const { axis = -1, weight, eps = 1e-5, residual, sumOut, out } = readOptions('rmsNorm', options, RMS_NORM_OPTIONS);
  const none = undefined;
  return normalizeRows('rmsNorm', x, shape, { axis, weight, bias: none, eps, residual, sumOut, out, mean: none, invStd: none }, false);
}
