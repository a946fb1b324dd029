// layerNorm and rmsNorm: the group is one row of the trailing axes from `axis` on.

import { NormkitError, describe } from '../errors.js';
import { getKernels } from '../wasm.js';
import {
  P_X, P_Y, P_RESIDUAL, P_INPUT_BIAS, P_SUM_OUT, P_WEIGHT, P_BIAS, P_MEAN_OUT, P_INV_STD_OUT, P_UNITS, P_LENGTH,
  P_FLAGS, P_EPS, P_EPILOGUE, P_RESIDUAL_ROWS, P_INPUT_BIAS_ROWS, P_WEIGHT_ROWS, P_BIAS_ROWS, P_WEIGHT_INDEX,
  P_BIAS_INDEX, P_RESIDUAL_STEP, P_INPUT_BIAS_STEP, P_WEIGHT_STEP, P_BIAS_STEP, P_WEIGHT_INNER, P_BIAS_INNER,
  FLAG_CENTERED, INNER_FULL,
} from '../generated/abi.js';
import { readOptions, optionNames, lengthOf, checkLength, readShape, checkEps, checkActivation, callDtype } from '../validate.js';
import { readShapeOption, rowOperand } from '../broadcast.js';
import { checkAliasing } from '../aliasing.js';
import { execute, fillNaN, outputLike, result } from '../execute.js';
import type { Binding, Plan, Scalar } from '../plan.js';
import type { LayerNormOptions, Output, RmsNormOptions, TensorLike } from '../types.js';

const COMMON = ['axis', 'weight', 'weightShape', 'eps', 'residual', 'residualShape', 'inputBias', 'inputBiasShape', 'sumOut', 'out', 'activation', 'dtype'];
const LAYER_NORM_OPTIONS = optionNames([...COMMON, 'bias', 'biasShape', 'mean', 'invStd']);
const RMS_NORM_OPTIONS = optionNames([...COMMON, 'invStd']);
const UNITS_FIELD: readonly number[] = [P_UNITS];
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
type RowArgs = { [K in keyof LayerNormOptions]-?: unknown };

/** One broadcastable operand of the row ops: its parameter-block fields, and its names in messages. */
interface OperandFields {
  name: string;
  shapeName: string;
  /** Why the operand has the length it must have, when its shape option gives that length. */
  countWhy: string;
  rowsName: string;
  indexName: string;
  ptr: number;
  rows: number;
  step: number;
  inner?: number;
  index?: number;
}
// The names are built once here, not in every call.
function operand(name: string, fields: Pick<OperandFields, 'ptr' | 'rows' | 'step' | 'inner' | 'index'>): OperandFields {
  const shapeName = `${name}Shape`;
  return { name, shapeName, countWhy: `the product of ${shapeName}`, rowsName: `${name} rows`, indexName: `${name} index`, ...fields };
}
const RESIDUAL = operand('residual', { ptr: P_RESIDUAL, rows: P_RESIDUAL_ROWS, step: P_RESIDUAL_STEP });
const INPUT_BIAS = operand('inputBias', { ptr: P_INPUT_BIAS, rows: P_INPUT_BIAS_ROWS, step: P_INPUT_BIAS_STEP });
const WEIGHT = operand('weight', { ptr: P_WEIGHT, rows: P_WEIGHT_ROWS, step: P_WEIGHT_STEP, inner: P_WEIGHT_INNER, index: P_WEIGHT_INDEX });
const BIAS = operand('bias', { ptr: P_BIAS, rows: P_BIAS_ROWS, step: P_BIAS_STEP, inner: P_BIAS_INNER, index: P_BIAS_INDEX });

/** A call's layout of the row ops: x's shape, split into rows before `first` and n positions from it. */
interface Rows {
  shape: number[];
  first: number;
  rows: number;
  n: number;
  length: number;
}

/**
 * Binds an operand given with or without its `*Shape` option. Without one it has the default shape: x's
 * for residual (read with the rows), the group's for the others (the same for every row). Returns whether
 * the kernel gathers its rows (INNER_SCALAR or INNER_MIXED), which needs workspace.
 */
function bindOperand(
  f: OperandFields, value: TensorLike, shapeIn: unknown, x: Rows, plan: { bindings: Binding[]; scalars: Scalar[] },
): boolean {
  const { rows, n, length } = x;
  if (shapeIn === undefined) {
    // The default shape: x's for residual (read with the rows), the group's for the others.
    const sliced = f === RESIDUAL;
    checkLength(f.name, value, sliced ? length : n, sliced ? 'the length of x' : 'the product of shape[axis..]');
    plan.bindings.push({ name: f.name, value, role: 'in', field: f.ptr, unit: sliced && rows > 1 ? n : 0 });
    if (sliced) plan.scalars.push({ field: f.step, value: n });
    return false;
  }
  const { shape, first } = x;
  const { shapeName } = f;
  const fullRowsOnly = f.inner === undefined;
  const opShape = readShapeOption(shapeName, shapeIn);
  const count = opShape.reduce((a, b) => a * b, 1);
  checkLength(f.name, value, count, f.countWhy);
  const operand = rowOperand(shapeName, opShape, shape, first, fullRowsOnly);
  // An operand shaped like x is read with the rows; any other is read whole in every pass.
  const sliced = operand.rows === undefined && operand.step === n && n > 0 && rows > 1;
  plan.bindings.push({ name: f.name, value, role: 'in', field: f.ptr, unit: sliced ? n : 0 });
  if (operand.rows !== undefined) {
    plan.bindings.push({ name: f.rowsName, value: operand.rows, role: 'in', field: f.rows, unit: 1 });
  }
  plan.scalars.push({ field: f.step, value: sliced ? n : operand.rows === undefined ? operand.step : 0 });
  if (f.inner !== undefined && f.index !== undefined) {
    plan.scalars.push({ field: f.inner, value: operand.inner });
    if (operand.index !== undefined) plan.bindings.push({ name: f.indexName, value: operand.index, role: 'in', field: f.index, unit: 0 });
  }
  return operand.inner !== INNER_FULL;
}

// An optional operand is a tensor when given; its shape option only with it.
function checkOperand(name: string, value: unknown, shapeName: string, shape: unknown): void {
  if (value !== undefined) lengthOf(name, value);
  else if (shape !== undefined) throw new NormkitError('INVALID_OPTION', `${shapeName}: only meaningful with ${name}, but ${name} is undefined`);
}

function normalizeRows<R>(op: string, x: TensorLike, shapeIn: readonly number[], a: RowArgs, centered: boolean): R {
  const k = getKernels();
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
  const epilogue = checkActivation(a.activation);
  const weight = a.weight as TensorLike | undefined;
  const bias = a.bias as TensorLike | undefined;
  const residual = a.residual as TensorLike | undefined;
  const inputBias = a.inputBias as TensorLike | undefined;
  const sumOut = a.sumOut as TensorLike | undefined;
  const out = a.out as TensorLike | undefined;
  const mean = a.mean as TensorLike | undefined;
  const invStd = a.invStd as TensorLike | undefined;
  checkOperand('weight', weight, 'weightShape', a.weightShape);
  checkOperand('bias', bias, 'biasShape', a.biasShape);
  checkOperand('residual', residual, 'residualShape', a.residualShape);
  checkOperand('inputBias', inputBias, 'inputBiasShape', a.inputBiasShape);
  if (sumOut !== undefined) {
    if (residual === undefined && inputBias === undefined) {
      throw new NormkitError('INVALID_OPTION', `sumOut: only meaningful with residual or inputBias, but both are undefined`);
    }
    checkLength('sumOut', sumOut, length, 'the length of x');
  }
  if (out !== undefined) checkLength('out', out, length, 'the length of x');
  if (mean !== undefined) checkLength('mean', mean, rows, 'one value per group');
  if (invStd !== undefined) checkLength('invStd', invStd, rows, 'one value per group');
  const y = out ?? outputLike(x, length);
  const layout: Rows = { shape, first, rows, n, length };
  const plan = {
    bindings: [
      { name: 'x', value: x, role: 'in', field: P_X, unit: n },
      { name: 'out', value: y, role: 'out', field: P_Y, unit: n },
    ] as Binding[],
    scalars: [
      { field: P_LENGTH, value: n },
      { field: P_FLAGS, value: centered ? FLAG_CENTERED : 0 },
      { field: P_EPS, value: eps, f64: true },
      { field: P_EPILOGUE, value: epilogue },
    ] as Scalar[],
  };
  if (residual !== undefined) bindOperand(RESIDUAL, residual, a.residualShape, layout, plan);
  if (sumOut !== undefined) plan.bindings.push({ name: 'sumOut', value: sumOut, role: 'out', field: P_SUM_OUT, unit: n });
  if (inputBias !== undefined) bindOperand(INPUT_BIAS, inputBias, a.inputBiasShape, layout, plan);
  let gathers = false;
  if (weight !== undefined) gathers = bindOperand(WEIGHT, weight, a.weightShape, layout, plan);
  if (bias !== undefined) gathers = bindOperand(BIAS, bias, a.biasShape, layout, plan) || gathers;
  if (mean !== undefined) plan.bindings.push({ name: 'mean', value: mean, role: 'out', field: P_MEAN_OUT, unit: 1 });
  if (invStd !== undefined) plan.bindings.push({ name: 'invStd', value: invStd, role: 'out', field: P_INV_STD_OUT, unit: 1 });
  const full: Plan = {
    op, kernel: 'normalizeRows', units: rows, unitLength: n, bindings: plan.bindings, sameOk: SAME_OK,
    scalars: plan.scalars, unitFields: UNITS_FIELD, workBytes: gathers ? k.rowWorkspaceBytes(n) >>> 0 : 0, workBytesPerUnit: 0,
    half: callDtype(a.dtype, plan.bindings, out === undefined ? y : undefined),
  };
  if (length > 0) {
    execute(full);
    return result(y);
  }
  checkAliasing(full);
  // Empty groups have no statistics: their mean and invStd are NaN.
  if (rows > 0) {
    if (mean !== undefined) fillNaN(full, mean);
    if (invStd !== undefined) fillNaN(full, invStd);
  }
  return result(y);
}

/**
 * Layer normalization over the axes `axis..rank-1` (ONNX LayerNormalization; PyTorch's layer_norm with
 * normalized_shape = shape.slice(axis)). With `residual` (and `inputBias`), normalizes
 * `x + residual + inputBias` (SkipLayerNorm) and writes that sum to `sumOut` when given.
 */
export function layerNorm<X extends TensorLike, O extends TensorLike | undefined = undefined>(
  x: X, shape: readonly number[], options?: LayerNormOptions & { out?: O },
): Output<X, O> {
  const {
    axis = -1, weight, weightShape, bias, biasShape, eps = 1e-5, residual, residualShape, inputBias, inputBiasShape,
    sumOut, out, mean, invStd, activation, dtype,
  } = readOptions('layerNorm', options, LAYER_NORM_OPTIONS);
  return normalizeRows('layerNorm', x, shape, {
    axis, weight, weightShape, bias, biasShape, eps, residual, residualShape, inputBias, inputBiasShape, sumOut, out,
    mean, invStd, activation, dtype,
  }, true);
}

/** RMS normalization over the axes `axis..rank-1`: `x / sqrt(mean(x²) + eps) * weight`. */
export function rmsNorm<X extends TensorLike, O extends TensorLike | undefined = undefined>(
  x: X, shape: readonly number[], options?: RmsNormOptions & { out?: O },
): Output<X, O> {
  const {
    axis = -1, weight, weightShape, eps = 1e-5, residual, residualShape, inputBias, inputBiasShape, sumOut, out, invStd,
    activation, dtype,
  } = readOptions('rmsNorm', options, RMS_NORM_OPTIONS);
  const none = undefined;
  return normalizeRows('rmsNorm', x, shape, {
    axis, weight, weightShape, bias: none, biasShape: none, eps, residual, residualShape, inputBias, inputBiasShape,
    sumOut, out, mean: none, invStd, activation, dtype,
  }, false);
}
