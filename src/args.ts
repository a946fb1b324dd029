// Validation of op arguments and their resolution to wasm pointers. Everything here runs before any memory
// is written, so a NormkitError leaves wasm memory and the caller's arrays untouched.

import { NormkitError, describe } from './errors.js';
import { Tensor, heapF32, stage, slotPtr } from './memory.js';
import type { Layout, TensorLike } from './types.js';

const EMPTY_OPTIONS = Object.freeze({});

/** The options object, or an empty one; anything else is refused. */
export function optionsOf<T extends object>(options: T | undefined): T {
  if (options === undefined) return EMPTY_OPTIONS as T;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new NormkitError('INVALID_OPTION', `options: expected an object or undefined, got ${describe(options)}`);
  }
  return options;
}

/** Length of a tensor argument, refusing what is not a Float32Array or a live Tensor. */
export function lengthOf(name: string, a: unknown): number {
  if (a instanceof Float32Array) return a.length;
  if (a instanceof Tensor) {
    if (a.freed) throw new NormkitError('TENSOR_FREED', `${name}: this Tensor was freed and cannot be used`);
    return a.length;
  }
  throw new NormkitError('INVALID_TENSOR', `${name}: expected a Float32Array or a normkit Tensor, got ${describe(a)}`);
}

/** Like lengthOf, and the length must be `expected`; `why` says where the expectation comes from. */
export function checkLength(name: string, a: unknown, expected: number, why: string): void {
  const n = lengthOf(name, a);
  if (n !== expected) {
    throw new NormkitError('LENGTH_MISMATCH', `${name}: expected length ${expected} (${why}), got length ${n}`);
  }
}

/** Validates `shape` against a tensor of `length` elements; returns the rank. */
export function checkShape(name: string, shape: unknown, length: number, tensorName: string, minRank: number): number {
  if (!Array.isArray(shape)) {
    throw new NormkitError('INVALID_SHAPE', `${name}: expected an array of non-negative integers, got ${describe(shape)}`);
  }
  let product = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new NormkitError(
        'INVALID_SHAPE',
        `${name}[${i}]: expected a non-negative integer dimension, got ${describe(d)} in ${describe(shape)}`,
      );
    }
    product *= d;
  }
  if (shape.length < minRank) {
    throw new NormkitError(
      'RANK_TOO_LOW',
      `${name}: expected at least ${minRank} dimension${minRank > 1 ? 's' : ''}, got ${describe(shape)}`,
    );
  }
  if (product !== length) {
    throw new NormkitError(
      'LENGTH_MISMATCH',
      `${tensorName}: shape ${describe(shape)} has ${product} elements, but ${tensorName} has length ${length}`,
    );
  }
  return shape.length;
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

// ---- aliasing ----------------------------------------------------------------------------------------

const DISJOINT = 0;
const SAME = 1;
const PARTIAL = 2;

function region(a: TensorLike): [ArrayBufferLike, number, number] {
  if (a instanceof Tensor) return [heapF32().buffer, a.ptr, a.ptr + a.length * 4];
  return [a.buffer, a.byteOffset, a.byteOffset + a.byteLength];
}

function relation(a: TensorLike, b: TensorLike): number {
  if (a === b) return SAME;
  const [ba, sa, ea] = region(a);
  const [bb, sb, eb] = region(b);
  if (ba !== bb || ea <= sb || eb <= sa || sa === ea || sb === eb) return DISJOINT;
  return sa === sb && ea === eb ? SAME : PARTIAL;
}

/**
 * Refuses an output that overlaps another argument, unless it is exactly one of `sameOk` (in-place work
 * the kernel supports). Outputs are written while inputs are read, so any other overlap would be a race.
 */
export function checkAlias(
  outName: string, out: TensorLike | undefined, others: ReadonlyArray<readonly [string, TensorLike | undefined]>,
  sameOk: ReadonlyArray<TensorLike | undefined>,
): void {
  if (out === undefined) return;
  for (const [name, other] of others) {
    if (other === undefined || other === out) {
      if (other !== undefined && !sameOk.includes(other)) throw aliasError(outName, name, 'is');
      continue;
    }
    const rel = relation(out, other);
    if (rel === DISJOINT) continue;
    if (rel === SAME && sameOk.includes(other)) continue;
    throw aliasError(outName, name, rel === SAME ? 'is a view of the same memory as' : 'overlaps');
  }
}

function aliasError(outName: string, name: string, how: string): NormkitError {
  return new NormkitError(
    'ALIASING',
    `${outName}: expected memory separate from ${name}, but it ${how} ${name}` +
      ' (only out = x, and for layerNorm/rmsNorm out or sumOut = residual, may share memory)',
  );
}

// ---- pointers ----------------------------------------------------------------------------------------
// An argument is referred to by a number until staging is committed: a Tensor by its pointer (> 0), a
// staged Float32Array by -(slot + 1), an absent argument by 0. Empty tensors never reach a kernel.

/** An input: read by the kernel, not written. */
export function inputRef(a: TensorLike | undefined): number {
  if (a === undefined) return 0;
  if (a instanceof Tensor) return a.ptr;
  return -(stage(a, null, a.length) + 1);
}

/** An input the kernel updates in place (running statistics). */
export function inOutRef(a: TensorLike | undefined): number {
  if (a === undefined) return 0;
  if (a instanceof Tensor) return a.ptr;
  return -(stage(a, a, a.length) + 1);
}

/** An output only. */
export function outputRef(a: TensorLike | undefined, length: number): number {
  if (a === undefined) return 0;
  if (a instanceof Tensor) return a.ptr;
  return -(stage(null, a, length) + 1);
}

/**
 * The main input x and output y together: when both go through scratch, y is computed in place over
 * the staged x, which halves the scratch and the cache footprint. Returns [xRef, yRef].
 */
export function mainRefs(x: TensorLike, y: TensorLike, length: number): [number, number] {
  if (y instanceof Tensor) return [inputRef(x), y.ptr];
  if (x instanceof Tensor) return [x.ptr, outputRef(y, length)];
  const slot = -(stage(x, y, length) + 1);
  return [slot, slot];
}

export function ptr(ref: number): number {
  return ref < 0 ? slotPtr(-ref - 1) : ref;
}

/** What an op returns: the output as a Float32Array (a Tensor's current view). */
export function result(y: TensorLike): Float32Array {
  return y instanceof Tensor ? y.array : y;
}

export type { Layout };
