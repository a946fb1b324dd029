// Validation of op arguments and their resolution to wasm pointers. Everything here runs before any memory
// is written, so a NormkitError leaves wasm memory and the caller's arrays untouched.

import { NormkitError, describe } from './errors.js';
import { Tensor, heapBufferOf, stage, slotPtr, reserve } from './memory.js';
import type { TensorLike } from './types.js';

const EMPTY_OPTIONS = Object.freeze({});

/** The options object, or an empty one; anything else is refused. */
export function optionsOf<T extends object>(options: T | undefined): T {
  if (options === undefined) return EMPTY_OPTIONS as T;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new NormkitError('INVALID_OPTION', `options: expected an object or undefined, got ${describe(options)}`);
  }
  return options;
}

/**
 * An option's value, or `fallback` when it is undefined. Only undefined means "absent": null is a value of the
 * wrong type, refused by the option's own check (as null is for tensor options).
 */
export function option<T>(value: T | null | undefined, fallback: T): T | null {
  return value === undefined ? fallback : value;
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
// Plain Float32Arrays may overlap each other freely: every input is copied into scratch before any
// output is written. Tensors are read and written in place by the kernels, so an output Tensor may only
// be the very input the kernel supports in place. Two outputs may never overlap: which one wins would
// depend on the order of the writes.

function refuse(outName: string, name: string, same: boolean): never {
  throw new NormkitError(
    'ALIASING',
    `${outName}: expected memory separate from ${name}, but it ${same ? 'is the same memory as' : 'overlaps'} ${name}` +
      ' (see "Aliasing" in the README: only out = x, and for layerNorm/rmsNorm out or sumOut = residual, may share a Tensor)',
  );
}

/** An output Tensor against an input Tensor: the same Tensor is allowed when `sameOk`. */
export function checkTensorOverlap(
  outName: string, out: TensorLike | undefined, name: string, other: TensorLike | undefined, sameOk: boolean,
): void {
  if (!(out instanceof Tensor) || !(other instanceof Tensor) || out.length === 0 || other.length === 0) return;
  if (out === other) {
    if (!sameOk) refuse(outName, name, true);
    return;
  }
  if (out.ptr < other.ptr + other.length * 4 && other.ptr < out.ptr + out.length * 4) refuse(outName, name, false);
}

/** Two outputs, of any kind: they must not share a single byte. */
export function checkOutputsOverlap(
  nameA: string, a: TensorLike | undefined, nameB: string, b: TensorLike | undefined,
): void {
  if (a === undefined || b === undefined || a.length === 0 || b.length === 0) return;
  if (a === b) refuse(nameA, nameB, true);
  const ba = a instanceof Tensor ? heapBufferOf() : a.buffer;
  const bb = b instanceof Tensor ? heapBufferOf() : b.buffer;
  if (ba !== bb) return;
  const sa = a instanceof Tensor ? a.ptr : a.byteOffset;
  const sb = b instanceof Tensor ? b.ptr : b.byteOffset;
  if (sa < sb + b.length * 4 && sb < sa + a.length * 4) refuse(nameA, nameB, sa === sb && a.length === b.length);
}

// ---- pointers ----------------------------------------------------------------------------------------
// An argument is referred to by a number until staging is committed: a Tensor by its pointer (> 0), a
// staged Float32Array by -(slot + 1), an absent argument by 0. Empty tensors never reach a kernel.

// The part [off, off + len) of a plain argument, as a view only when it is not the whole array.
function part(a: Float32Array, off: number, len: number): Float32Array {
  return off === 0 && len === a.length ? a : a.subarray(off, off + len);
}

/** An input (elements [off, off + len) of it): read by the kernel, not written. */
export function inputRef(a: TensorLike | undefined, off = 0, len = a === undefined ? 0 : a.length): number {
  if (a === undefined) return 0;
  if (a instanceof Tensor) return a.ptr + off * 4;
  return -(stage(part(a, off, len), null, len) + 1);
}

/** An input the kernel updates in place (running statistics). */
export function inOutRef(a: TensorLike | undefined): number {
  if (a === undefined) return 0;
  if (a instanceof Tensor) return a.ptr;
  return -(stage(a, a, a.length) + 1);
}

/** An output only (elements [off, off + len) of it). */
export function outputRef(a: TensorLike | undefined, off: number, len: number): number {
  if (a === undefined) return 0;
  if (a instanceof Tensor) return a.ptr + off * 4;
  return -(stage(null, part(a, off, len), len) + 1);
}

let lastOutRef = 0;

/**
 * The main input x and output y together (elements [off, off + len) of both): when both go through
 * scratch, y is computed in place over the staged x, which halves the scratch and the cache footprint.
 * Returns x's ref; y's is then {@link mainOutRef} (two results without allocating a tuple per call).
 */
export function mainRefs(x: TensorLike, y: TensorLike, off: number, len: number): number {
  if (y instanceof Tensor) {
    lastOutRef = y.ptr + off * 4;
    return inputRef(x, off, len);
  }
  if (x instanceof Tensor) {
    lastOutRef = outputRef(y, off, len);
    return x.ptr + off * 4;
  }
  return (lastOutRef = -(stage(part(x, off, len), part(y, off, len), len) + 1));
}

export function mainOutRef(): number {
  return lastOutRef;
}

/** Kernel workspace in scratch (`bytes` as the kernel returns it: a u32 that JS reads as a signed i32). */
export function workRef(bytes: number): number {
  return -(reserve(bytes >>> 0) + 1);
}

/**
 * Refuses, before anything is staged, a channel count whose kernel workspace (about 52 bytes per channel and
 * 16 per AdaIN style plane, sized in u32 by the kernel) could not fit in wasm32 memory or would wrap.
 */
export function checkWorkspace(what: string, C: number, styleGroups: number): void {
  const bytes = 64 * C + 16 * styleGroups + 4096;
  if (bytes > 2 ** 32) {
    throw new NormkitError(
      'TOO_LARGE',
      `${what}: ${C} channels need about ${bytes} bytes of kernel workspace, over the wasm32 limit of 4294967296 bytes (4 GiB)`,
    );
  }
}

/** A plain array argument (copied through scratch), as opposed to an absent one or a Tensor. */
export function isPlain(a: TensorLike | undefined): boolean {
  return a !== undefined && !(a instanceof Tensor);
}

/**
 * How many units (rows, samples) of `unitLength` elements one staged pass of copy mode takes. Plain
 * arrays larger than this are processed in chunks, so that the staged data stays in the L2 cache between
 * the copy in, the kernel and the copy out, and the scratch space stays small whatever the tensor's size.
 * A call whose big arguments are all Tensors stages nothing and runs in one pass.
 */
export function unitsPerPass(unitLength: number, units: number, staged: boolean): number {
  if (!staged || unitLength === 0) return units;
  return Math.max(1, Math.floor(PASS_ELEMENTS / unitLength));
}

// 128 Ki floats: 512 KiB for x (computed in place), with a residual and sumOut 1.5 MiB, under the L2 size
// of common cores; large enough that the per-pass cost (a wasm call, a few views) stays around 2%.
const PASS_ELEMENTS = 131072;

export function ptr(ref: number): number {
  return ref < 0 ? slotPtr(-ref - 1) : ref;
}

/** What an op returns: the output as a Float32Array (a Tensor's current view). */
export function result(y: TensorLike): Float32Array {
  return y instanceof Tensor ? y.array : y;
}

