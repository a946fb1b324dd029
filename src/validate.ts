// Reading and checking op arguments. Every argument is read once, here, into plain values that are then
// validated and used; a getter or Proxy that answers differently on a second read cannot change what the
// kernels see. Everything here runs before any memory is written, so a NormkitError leaves wasm memory and
// the caller's arrays untouched.

import { NormkitError, describe } from './errors.js';
import { Tensor, bytesOf, isFloat16Array } from './memory.js';
import type { Binding } from './plan.js';
import type { HalfDtype } from './types.js';
import { EPILOGUE_GELU, EPILOGUE_GELU_TANH, EPILOGUE_IDENTITY, EPILOGUE_RELU, EPILOGUE_SILU } from './generated/abi.js';

const EMPTY_OPTIONS = Object.freeze({});

// The normkit spelling of option names users bring from PyTorch and ONNX.
const SPELLINGS: Readonly<Record<string, string>> = {
  gamma: 'weight',
  scale: 'weight',
  beta: 'bias',
  B: 'bias',
  epsilon: 'eps',
  normalized_shape: 'axis (normalize over axis..rank-1; normalized_shape of length k is axis: -k)',
  running_mean: 'runningMean',
  input_mean: 'runningMean',
  running_var: 'runningVar',
  input_var: 'runningVar',
  training_mode: 'training',
  num_groups: 'numGroups (the third argument of groupNorm)',
  data_format: "layout ('NCHW' or 'NHWC')",
  channels_last: "layout: 'NHWC'",
  skip: 'residual',
  unbiased: 'unbiasedRunningVar',
};

// Every option some op takes, to tell a misplaced option from an unknown one.
const ALL_OPTIONS = new Set([
  'axis', 'weight', 'bias', 'eps', 'residual', 'sumOut', 'out', 'mean', 'invStd', 'layout', 'runningMean',
  'runningVar', 'training', 'momentum', 'unbiasedRunningVar', 'dtype',
]);

/**
 * The option names an op takes, as a lookup that costs less per key than a Set (checking every key of
 * every call shows in the cost of small calls).
 */
export type OptionNames = Readonly<Record<string, true>>;

export function optionNames(names: readonly string[]): OptionNames {
  const o: Record<string, true> = Object.create(null);
  for (const n of names) o[n] = true;
  return Object.freeze(o);
}

function unknownOption(op: string, key: string, allowed: OptionNames): NormkitError {
  const takes = `${op} takes: ${Object.keys(allowed).join(', ')}`;
  const spelling = Object.hasOwn(SPELLINGS, key) ? SPELLINGS[key] : undefined;
  let why: string;
  if (spelling !== undefined) why = `normkit spells it ${spelling}`;
  else if (ALL_OPTIONS.has(key)) why = `it is an option of other normkit ops, not of ${op}`;
  else why = 'it is not a normkit option';
  return new NormkitError('UNKNOWN_OPTION', `options.${key}: ${op} does not take this option (${why}; ${takes})`);
}

/**
 * The options object, or an empty one; anything else is refused, and so is any key the op does not take
 * (an unnoticed misspelling would silently drop a weight or a bias).
 */
export function readOptions<T extends object>(op: string, options: T | undefined, allowed: OptionNames): T {
  if (options === undefined) return EMPTY_OPTIONS as T;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new NormkitError('INVALID_OPTION', `options: expected an object or undefined, got ${describe(options)}`);
  }
  // for-in, not Object.keys: no array per call. It also visits inherited enumerable keys, which the
  // destructuring that reads the options would read too.
  for (const key in options) if (allowed[key] !== true) throw unknownOption(op, key, allowed);
  return options;
}

/** Length of a tensor argument, refusing what is not a Float32Array, Uint16Array, Float16Array or live Tensor. */
export function lengthOf(name: string, a: unknown): number {
  if (a instanceof Float32Array || a instanceof Uint16Array || isFloat16Array(a)) return a.length;
  if (a instanceof Tensor) {
    if (a.freed) throw new NormkitError('TENSOR_FREED', `${name}: this Tensor was freed and cannot be used`);
    return a.length;
  }
  if (typeof a === 'object' && a !== null && a.constructor?.name === 'Float16Array') {
    throw new NormkitError(
      'INVALID_DTYPE',
      `${name}: a Float16Array that is not this runtime's own (it has ${'Float16Array' in globalThis ? 'another' : 'none'}), ` +
        "whose bits normkit cannot read: pass them as a Uint16Array with dtype: 'float16'",
    );
  }
  throw new NormkitError(
    'INVALID_TENSOR',
    `${name}: expected a Float32Array, a Uint16Array (with dtype), a Float16Array or a normkit Tensor, got ${describe(a)}`,
  );
}

/** Like lengthOf, and the length must be `expected`; `why` says where the expectation comes from. */
export function checkLength(name: string, a: unknown, expected: number, why: string): void {
  const n = lengthOf(name, a);
  if (n !== expected) {
    // The same bytes in the other element size: an array or Tensor made for another dtype.
    const bytes = a instanceof Tensor ? bytesOf(a.dtype) : (a as Float32Array).BYTES_PER_ELEMENT;
    const kind = a instanceof Tensor ? `a ${a.dtype} Tensor` : `a ${describe(a).split(' ')[0]}`;
    const hint = n * bytes === expected * (6 - bytes)
      ? `; ${kind} holds ${bytes} bytes an element, and its bytes are ${expected} elements of ${6 - bytes}: made for another dtype?`
      : '';
    throw new NormkitError('LENGTH_MISMATCH', `${name}: expected length ${expected} (${why}), got length ${n}${hint}`);
  }
}

/** What an argument holds: a half-precision dtype, the call's (a Uint16Array), or float32 (undefined). */
function dtypeOf(a: Binding['value'], call: HalfDtype | undefined): HalfDtype | undefined {
  if (a instanceof Float32Array) return undefined;
  if (a instanceof Tensor) return a.dtype === 'float32' ? undefined : a.dtype;
  return a instanceof Uint16Array ? call : 'float16';
}

/**
 * The call's half-precision dtype, from the `dtype` option and the arguments, or undefined when every
 * argument is float32. A Uint16Array needs the option; half-precision Tensors and Float16Arrays must
 * agree with it and with each other (one half dtype per call). `made` is the output the op made itself
 * (no `out`): of x's type, it holds the call's dtype.
 */
export function callDtype(dtype: unknown, bindings: readonly Binding[], made: unknown): HalfDtype | undefined {
  if (dtype !== undefined && dtype !== 'float16' && dtype !== 'bfloat16') {
    throw new NormkitError('INVALID_DTYPE', `dtype: expected 'float16' or 'bfloat16' (what Uint16Array arguments hold), got ${describe(dtype)}`);
  }
  let found: HalfDtype | undefined = dtype;
  let from = `dtype: ${describe(dtype)}`;
  for (const b of bindings) {
    const v = b.value;
    if (v instanceof Uint16Array && dtype === undefined && v !== made) {
      throw new NormkitError(
        'INVALID_DTYPE',
        `${b.name}: a Uint16Array holds half-precision bits; say which with the dtype option ('float16' or 'bfloat16'), got none`,
      );
    }
    const d = dtypeOf(v, dtype);
    if (d === undefined) continue;
    if (found === undefined) {
      found = d;
      from = `${b.name} (${d})`;
    } else if (d !== found) {
      throw new NormkitError(
        'DTYPE_MISMATCH',
        `${b.name}: expected ${found} (as ${from} says), got a ${d} ${v instanceof Tensor ? 'Tensor' : 'Float16Array'}; a call takes one half-precision dtype`,
      );
    }
  }
  return found;
}

/**
 * Copies `shape` into a plain array (each entry read once) and validates the copy against a tensor of
 * `length` elements.
 */
export function readShape(
  name: string, shape: unknown, length: number, tensorName: string, minRank: number,
): number[] {
  if (!Array.isArray(shape)) {
    throw new NormkitError('INVALID_SHAPE', `${name}: expected an array of non-negative integers, got ${describe(shape)}`);
  }
  const rank = shape.length;
  const dims = new Array<number>(rank);
  for (let i = 0; i < rank; i++) dims[i] = shape[i];
  let product = 1;
  for (let i = 0; i < rank; i++) {
    const d = dims[i];
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new NormkitError(
        'INVALID_SHAPE',
        `${name}[${i}]: expected a non-negative integer dimension, got ${describe(d)} in ${describe(dims)}`,
      );
    }
    product *= d;
  }
  if (rank < minRank) {
    throw new NormkitError(
      'RANK_TOO_LOW',
      `${name}: expected at least ${minRank} dimension${minRank > 1 ? 's' : ''}, got ${describe(dims)}`,
    );
  }
  if (product !== length) {
    throw new NormkitError(
      'LENGTH_MISMATCH',
      `${tensorName}: shape ${describe(dims)} has ${product} elements, but ${tensorName} has length ${length}`,
    );
  }
  return dims;
}

export function checkEps(eps: unknown): number {
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) {
    throw new NormkitError('INVALID_EPS', `eps: expected a finite number >= 0, got ${describe(eps)}`);
  }
  return eps;
}

export function checkLayout(layout: unknown): boolean {
  if (layout === 'NCHW') return false;
  if (layout === 'NHWC') return true;
  throw new NormkitError('INVALID_LAYOUT', `layout: expected 'NCHW' or 'NHWC', got ${describe(layout)}`);
}

export function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new NormkitError('INVALID_OPTION', `${name}: expected true or false, got ${describe(value)}`);
  }
  return value;
}

/** [N, C, HW] of a channel tensor; 2-D [N, C] is the same in both layouts. */
export function channelDims(shape: readonly number[], channelsLast: boolean): [number, number, number] {
  const rank = shape.length;
  const C = channelsLast ? shape[rank - 1] : shape[1];
  let HW = 1;
  for (let i = channelsLast ? 1 : 2; i < (channelsLast ? rank - 1 : rank); i++) HW *= shape[i];
  return [shape[0], C, HW];
}

/**
 * Refuses, before anything is staged, a channel count whose kernel workspace (about 72 bytes per channel
 * and 16 per AdaIN style plane, sized in u32 by the kernel) could not fit in wasm32 memory or would wrap.
 */
export function checkWorkspace(what: string, C: number, styleGroups: number): void {
  const bytes = 80 * C + 16 * styleGroups + 4096;
  if (bytes > 2 ** 32) {
    throw new NormkitError(
      'TOO_LARGE',
      `${what}: ${C} channels need about ${bytes} bytes of kernel workspace, over the wasm32 limit of 4294967296 bytes (4 GiB)`,
    );
  }
}


const ACTIVATIONS: Readonly<Record<string, number>> = {
  relu: EPILOGUE_RELU,
  silu: EPILOGUE_SILU,
  gelu: EPILOGUE_GELU,
  gelu_tanh: EPILOGUE_GELU_TANH,
};

/** The kernels' epilogue kind for the `activation` option (undefined: none). */
export function checkActivation(activation: unknown): number {
  if (activation === undefined) return EPILOGUE_IDENTITY;
  if (typeof activation === 'string' && Object.hasOwn(ACTIVATIONS, activation)) return ACTIVATIONS[activation];
  throw new NormkitError(
    'INVALID_OPTION',
    `activation: expected 'relu', 'silu', 'gelu' or 'gelu_tanh', got ${describe(activation)}`,
  );
}
