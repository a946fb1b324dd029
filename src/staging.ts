// Copy mode's staging: plain arguments are copied into one scratch block of wasm memory as float32, the
// kernel runs there, and outputs are copied back. The block is reused across calls and only ever grows,
// so after warm-up a call allocates nothing in wasm memory; it gives way when a tensor would not fit.
//
// Half precision is converted here, at the boundary, so that every kernel stays float32: a slot of half
// bits is widened exactly into float32 scratch before the kernel and narrowed (nearest-even) after it, by
// assembly/half.ts's SIMD loops. Plain bits are copied into the slot's upper half and widened in place;
// a half-precision Tensor is widened from, and narrowed into, its own memory.

import { NormkitError } from './errors.js';
import { MAX_BYTES, align, allocate, deallocate, heapBits, heapF32, onMemoryPressure } from './memory.js';
import { getKernels } from './wasm.js';
import type { HalfDtype } from './types.js';

// All inputs of a pass are staged before the kernel writes anything; across passes, the executor copies
// aside what a pass would overwrite before a later one reads it (execute.ts).

/**
 * One end of a staged argument: float32 values, half-precision bits, or the byte address of a
 * half-precision Tensor's bits in wasm memory.
 */
export type StageEnd = Float32Array | Uint16Array | number;

let scratchPtr = 0;
let scratchBytes = 0;
let count = 0;
let total = 0;
const srcs: Array<StageEnd | null> = [];
const dsts: Array<StageEnd | null> = [];
const srcDtypes: Array<HalfDtype | undefined> = [];
const dstDtypes: Array<HalfDtype | undefined> = [];
const offsets: number[] = [];
const lengths: number[] = [];

/** Starts staging a call. */
export function beginStaging(): void {
  count = 0;
  total = 0;
}

/**
 * Reserves scratch for `length` floats, copied in from `src` and/or out to `dst` (either may be null), each
 * half precision of its dtype or float32 (undefined); returns a slot whose pointer {@link slotPtr} gives
 * after {@link commitStaging}.
 */
export function stage(
  src: StageEnd | null, srcDtype: HalfDtype | undefined, dst: StageEnd | null, dstDtype: HalfDtype | undefined, length: number,
): number {
  const i = count++;
  srcs[i] = src;
  dsts[i] = dst;
  srcDtypes[i] = srcDtype;
  dstDtypes[i] = dstDtype;
  offsets[i] = total;
  lengths[i] = length;
  total += align(length * 4);
  return i;
}

// Grows the scratch block to at least `total` bytes (with headroom where it fits); may grow memory.
function reserve(total: number, what: string): void {
  if (total <= scratchBytes) return;
  if (scratchPtr !== 0) deallocate(scratchPtr);
  scratchPtr = 0;
  scratchBytes = 0;
  let bytes = Math.max(total, Math.min(MAX_BYTES, Math.ceil(total * 1.25)));
  try {
    scratchPtr = allocate(bytes, what);
  } catch (e) {
    // The 25% headroom may not fit where the exact size still does.
    if (bytes === total) throw e;
    bytes = total;
    scratchPtr = allocate(bytes, what);
  }
  scratchBytes = bytes;
}

const stale = (end: StageEnd | null, length: number): boolean => end !== null && typeof end !== 'number' && end.length !== length;

/** Widens `length` half-precision values into float32 at byte address `to`. */
function widen(src: Uint16Array | number, dtype: HalfDtype, to: number, length: number): void {
  const k = getKernels();
  let from = src;
  if (typeof from !== 'number') {
    from = to + 2 * length;
    heapBits().set(src as Uint16Array, from >>> 1);
  }
  (dtype === 'float16' ? k.widenF16Array : k.widenBF16Array)(from, to, length);
}

/** Narrows `length` float32 values at byte address `from` into `dst` (through the slot's lower half for an array). */
function narrow(from: number, dtype: HalfDtype, dst: Uint16Array | number, length: number): void {
  const k = getKernels();
  (dtype === 'float16' ? k.narrowF16Array : k.narrowBF16Array)(from, typeof dst === 'number' ? dst : from, length);
  if (typeof dst !== 'number') dst.set(heapBits().subarray(from >>> 1, (from >>> 1) + length));
}

/** Makes room for every reserved slot (this may grow memory) and copies the inputs in. */
export function commitStaging(what: string): void {
  try {
    reserve(total, what);
  } catch (e) {
    // TOO_LARGE: drop the references to the caller's arrays; nothing was copied.
    finishStaging(false);
    throw e;
  }
  for (let i = 0; i < count; i++) {
    // A plain view of wasm memory (a Tensor's .array) is detached when the memory grows: nothing can be
    // copied through it any more. The kernel has not run, so refusing here leaves every output untouched.
    if (stale(srcs[i], lengths[i]) || stale(dsts[i], lengths[i])) {
      finishStaging(false);
      throw new NormkitError(
        'INVALID_TENSOR',
        `${what}: an argument is a typed-array view of normkit's wasm memory that went stale when the memory ` +
          'grew during this call; pass the Tensor itself instead of its .array',
      );
    }
  }
  for (let i = 0; i < count; i++) {
    const src = srcs[i];
    const dtype = srcDtypes[i];
    if (src === null) continue;
    if (dtype !== undefined) widen(src as Uint16Array | number, dtype, scratchPtr + offsets[i], lengths[i]);
    else heapF32().set(src as Float32Array, (scratchPtr + offsets[i]) >>> 2);
  }
}

export function slotPtr(slot: number): number {
  return scratchPtr + offsets[slot];
}

/** Copies staged outputs back (unless `copyOut` is false) and drops the references to the caller's arrays. */
export function finishStaging(copyOut = true): void {
  for (let i = 0; i < count; i++) {
    const dst = dsts[i];
    const dtype = dstDtypes[i];
    if (dst !== null && copyOut) {
      const p = scratchPtr + offsets[i];
      if (dtype !== undefined) narrow(p, dtype, dst as Uint16Array | number, lengths[i]);
      else (dst as Float32Array).set(heapF32().subarray(p >>> 2, (p >>> 2) + lengths[i]));
    }
    srcs[i] = null;
    dsts[i] = null;
  }
  count = 0;
}


/**
 * Kernel workspace of at least `bytes` for a call that stages nothing (every argument a Tensor): the
 * scratch block, idle in such a call. The pointer is good until the next allocation of wasm memory.
 */
export function workspace(bytes: number, what: string): number {
  reserve(bytes, what);
  return scratchPtr;
}

onMemoryPressure(() => {
  if (scratchPtr === 0) return false;
  deallocate(scratchPtr);
  scratchPtr = 0;
  scratchBytes = 0;
  return true;
});
