// Copy mode's staging: plain Float32Array arguments are copied into one scratch block of wasm memory, the
// kernel runs there, and outputs are copied back. The block is reused across calls and only ever grows,
// so after warm-up a call allocates nothing in wasm memory; it gives way when a tensor would not fit.

import { NormkitError } from './errors.js';
import { MAX_BYTES, align, allocate, deallocate, heapF32, onMemoryPressure } from './memory.js';

// All inputs of a pass are staged before the kernel writes anything; across passes, the executor copies
// aside what a pass would overwrite before a later one reads it (execute.ts).

let scratchPtr = 0;
let scratchBytes = 0;
let count = 0;
let total = 0;
const srcs: Array<Float32Array | null> = [];
const dsts: Array<Float32Array | null> = [];
const offsets: number[] = [];
const lengths: number[] = [];

/** Starts staging a call. */
export function beginStaging(): void {
  count = 0;
  total = 0;
}

/**
 * Reserves scratch for `length` floats, copied in from `src` and/or out to `dst` (either may be null);
 * returns a slot whose pointer {@link slotPtr} gives after {@link commitStaging}.
 */
export function stage(src: Float32Array | null, dst: Float32Array | null, length: number): number {
  const i = count++;
  srcs[i] = src;
  dsts[i] = dst;
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
    const src = srcs[i];
    const dst = dsts[i];
    // A plain view of wasm memory (a Tensor's .array) is detached when the memory grows: nothing can be
    // copied through it any more. The kernel has not run, so refusing here leaves every output untouched.
    if ((src !== null && src.length !== lengths[i]) || (dst !== null && dst.length !== lengths[i])) {
      finishStaging(false);
      throw new NormkitError(
        'INVALID_TENSOR',
        `${what}: an argument is a Float32Array view of normkit's wasm memory that went stale when the memory ` +
          'grew during this call; pass the Tensor itself instead of its .array',
      );
    }
    if (src !== null) heapF32().set(src, (scratchPtr + offsets[i]) >>> 2);
  }
}

export function slotPtr(slot: number): number {
  return scratchPtr + offsets[slot];
}

/** Copies staged outputs back (unless `copyOut` is false) and drops the references to the caller's arrays. */
export function finishStaging(copyOut = true): void {
  for (let i = 0; i < count; i++) {
    const dst = dsts[i];
    if (dst !== null && copyOut) {
      const p = (scratchPtr + offsets[i]) >>> 2;
      dst.set(heapF32().subarray(p, p + lengths[i]));
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
