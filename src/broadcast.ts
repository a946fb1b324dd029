// Broadcast operands (weightShape, biasShape, residualShape, inputBiasShape): numpy's rules against x's
// shape, resolved into what the kernels read. Row ops read an operand row by row (a table of where each
// row starts, and how a row's positions map); channel ops read one value per (sample, channel). Nothing
// the size of x is ever built: tables have one entry per row, or per position of one row.

import { NormkitError, describe } from './errors.js';
import { INNER_FULL, INNER_MIXED, INNER_SCALAR } from './generated/abi.js';
import type { Float16ArrayLike } from './types.js';

/** Reads a shape option once into a plain array of positive integers. */
export function readShapeOption(name: string, shape: unknown): number[] {
  if (!Array.isArray(shape)) {
    throw new NormkitError('INVALID_SHAPE', `${name}: expected an array of positive integers, got ${describe(shape)}`);
  }
  const dims = Array.from({ length: shape.length }, (_, i) => shape[i] as unknown);
  dims.forEach((d, i) => {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new NormkitError('INVALID_SHAPE', `${name}[${i}]: expected a non-negative integer, got ${describe(d)} in ${describe(dims)}`);
    }
  });
  return dims as number[];
}

const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

/**
 * Element strides of an operand of shape `shape` over each axis of x's shape (0 where it broadcasts),
 * by numpy's rules: right-aligned, each dimension equal to x's or 1, and no more axes than x has.
 */
export function broadcastStrides(name: string, shape: readonly number[], xShape: readonly number[]): number[] {
  const rank = xShape.length;
  const fail = (why: string): never => {
    throw new NormkitError(
      'INVALID_BROADCAST',
      `${name}: ${describe(shape)} does not broadcast against x's shape ${describe(xShape)} (${why})`,
    );
  };
  if (shape.length > rank) fail(`it has ${shape.length} axes, x has ${rank}`);
  const strides = new Array<number>(rank).fill(0);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const axis = rank - shape.length + i;
    const d = shape[i];
    if (d !== xShape[axis] && d !== 1) fail(`axis ${axis}: ${d} against ${xShape[axis]}; numpy's rule takes equal sizes or 1`);
    if (d !== 1) strides[axis] = stride;
    stride *= d;
  }
  return strides;
}

/** How the row ops read an operand: where each row starts, and how a row's positions map. */
export interface RowOperand {
  /** Elements between rows when no table is needed: n (shaped like x) or 0 (the same for every row). */
  step: number;
  /** Per-row element offsets, where rows start irregularly (a Float32Array over i32 bits), else undefined. */
  rows: Float32Array | undefined;
  /** INNER_FULL, INNER_SCALAR or INNER_MIXED. */
  inner: number;
  /** INNER_MIXED: per-position element offsets of a row (a Float32Array over i32 bits). */
  index: Float32Array | undefined;
}

/**
 * The operand's element offset for each of `count` consecutive indices over x's axes [from, to), row-major,
 * as i32 bits in a Float32Array (a table the kernel reads, staged like any argument).
 */
function offsets(count: number, xShape: readonly number[], strides: readonly number[], from: number, to: number): Float32Array {
  const table = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    let rest = i;
    let e = 0;
    for (let a = to - 1; a >= from; a--) {
      e += (rest % xShape[a]) * strides[a];
      rest = Math.floor(rest / xShape[a]);
    }
    table[i] = e;
  }
  return new Float32Array(table.buffer);
}

/**
 * Resolves an operand of the row ops given `shape` (broadcast against x's) into a RowOperand, for x's shape
 * split at `first` into rows (axes before it) and positions (axes from it). `fullRowsOnly` refuses an
 * operand that broadcasts within the normalized axes (residual and inputBias must match x there).
 */
export function rowOperand(
  name: string, shape: readonly number[], xShape: readonly number[], first: number, fullRowsOnly: boolean,
): RowOperand {
  const strides = broadcastStrides(name, shape, xShape);
  const rank = xShape.length;
  // Positions: contiguous over the group (FULL), all broadcast (SCALAR), or anything else (MIXED).
  let inner = INNER_FULL;
  let contiguous = 1;
  let allZero = true;
  for (let a = rank - 1; a >= first; a--) {
    // An axis of extent 1 holds one position whatever its stride.
    if (xShape[a] !== 1 && strides[a] !== contiguous) inner = INNER_MIXED;
    if (strides[a] !== 0 && xShape[a] > 1) allZero = false;
    contiguous *= xShape[a];
  }
  if (allZero && contiguous > 1) inner = INNER_SCALAR;
  if (contiguous <= 1) inner = INNER_FULL;
  if (inner !== INNER_FULL && fullRowsOnly) {
    throw new NormkitError(
      'INVALID_BROADCAST',
      `${name}: ${describe(shape)} must match x's shape ${describe(xShape)} over the normalized axes ${first}..${rank - 1}`,
    );
  }
  const n = contiguous;
  const index = inner === INNER_MIXED ? offsets(n, xShape, strides, first, rank) : undefined;
  // Rows: regular (every row n apart, or all the same) or through a table.
  const rowCount = product(xShape.slice(0, first));
  let regular: number | undefined;
  let rowsContiguous = 1;
  let rowsZero = true;
  let rowsRegular = true;
  for (let a = first - 1; a >= 0; a--) {
    if (xShape[a] > 1) {
      if (strides[a] !== 0) rowsZero = false;
      if (strides[a] !== rowsContiguous * (inner === INNER_FULL ? n : 1) || inner !== INNER_FULL) rowsRegular = false;
    }
    rowsContiguous *= xShape[a];
  }
  if (rowsZero) regular = 0;
  else if (rowsRegular) regular = n;
  const rows = regular === undefined ? offsets(rowCount, xShape, strides, 0, first) : undefined;
  return { step: regular ?? 0, rows, inner, index };
}

/**
 * Resolves an operand of the channel ops into one value per (sample, channel): `perSample` false is one
 * value per channel ([C], read whole), true one per (sample, channel) ([N, C], read with the samples).
 * `values` is the operand laid out that way, made only when the given layout is another (it has at most
 * N · C elements). Returns undefined when the operand is shaped like x over the spatial axes too (it is
 * then read like x), where the rules allow it.
 */
export interface ChannelRules {
  channelsLast: boolean;
  /** May be shaped like x over the spatial axes (skip inputs), rather than one value per channel. */
  spatialOk: boolean;
  /** May hold one value per (sample, channel) (not batchNorm, whose coefficients are per channel). */
  perSampleOk: boolean;
}

export function channelOperand<A extends Float32Array | Uint16Array | Float16ArrayLike>(
  name: string, data: A | undefined, shape: readonly number[], xShape: readonly number[], rules: ChannelRules,
): { perSample: boolean; values: A | undefined } | undefined {
  const { channelsLast, spatialOk } = rules;
  const strides = broadcastStrides(name, shape, xShape);
  const rank = xShape.length;
  const cAxis = channelsLast ? rank - 1 : 1;
  const spatial = [];
  for (let a = 1; a < rank; a++) if (a !== cAxis) spatial.push(a);
  const spatialBroadcast = spatial.every((a) => strides[a] === 0 || xShape[a] === 1);
  if (!spatialBroadcast) {
    const full = strides.every((s, a) => xShape[a] === 1 || s === product(xShape.slice(a + 1)));
    if (full && spatialOk) return undefined;
    throw new NormkitError(
      'INVALID_BROADCAST',
      `${name}: ${describe(shape)} varies over the spatial axes of x ${describe(xShape)}; ` +
        (spatialOk ? 'it must match x there or be 1 on every spatial axis' : 'the channel ops take one value per (sample, channel)'),
    );
  }
  const N = xShape[0];
  const C = xShape[cAxis];
  const sN = N > 1 ? strides[0] : 0;
  const sC = C > 1 ? strides[cAxis] : 0;
  const perSample = sN !== 0;
  if (perSample && !rules.perSampleOk) {
    throw new NormkitError(
      'INVALID_BROADCAST',
      `${name}: ${describe(shape)} varies over the batch axis of x ${describe(xShape)}; batchNorm takes one value per channel`,
    );
  }
  // Already [C] (or [N, C]) in memory: read as it is.
  if ((sC === 1 || C <= 1) && (!perSample || sN === C)) return { perSample, values: undefined };
  if (data === undefined) return { perSample, values: undefined };
  // Of the operand's own type: half-precision bits are copied as they are.
  const values = new (data.constructor as new (n: number) => A)((perSample ? N : 1) * C);
  for (let n = 0; n < (perSample ? N : 1); n++) {
    for (let c = 0; c < C; c++) values[n * C + c] = data[n * sN + c * sC];
  }
  return { perSample, values };
}
