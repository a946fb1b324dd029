// wasm linear memory: a first-fit allocator for tensors and scratch, the zero-copy Tensor, and the
// per-call staging of plain Float32Arrays through reusable scratch space.
//
// The allocator's bookkeeping lives in JS, not in linear memory: allocation is rare (tensor creation and
// scratch growth, never per call after warm-up), and keeping the free list out of reach of the kernels means
// no out-of-bounds write can corrupt it.

import { NormkitError } from './errors.js';
import { whenReady, getKernels, type Kernels } from './wasm.js';

const PAGE = 65536;
const MAX_BYTES = 65536 * PAGE; // wasm32: 4 GiB
const ALIGN = 64; // cache-line alignment keeps SIMD loads from splitting lines

let memory: Kernels['memory'];
/** Views over the whole linear memory; replaced whenever the memory grows. */
let heap: Float32Array;
let heapI32: Int32Array;
let heapF64: Float64Array;
/** heap.buffer, kept apart: the getter on a wasm memory's view is slow enough to show in small calls. */
let heapBuffer: ArrayBuffer;
/** Counts memory growths, so that cached views know when they went stale. */
let generation = 0;
let heapEnd = 0;
/** Free blocks, sorted by address, as parallel arrays of start and size. */
const freeStart: number[] = [];
const freeSize: number[] = [];
/** Live blocks: start -> size. */
const live = new Map<number, number>();

whenReady((k: Kernels) => {
  memory = k.memory;
  refreshHeap();
  const base = align(k.heapBase());
  if (heapEnd > base) {
    freeStart.push(base);
    freeSize.push(heapEnd - base);
  }
});

function refreshHeap(): void {
  heapBuffer = memory.buffer;
  heap = new Float32Array(heapBuffer);
  heapI32 = new Int32Array(heapBuffer);
  heapF64 = new Float64Array(heapBuffer);
  heapEnd = heapBuffer.byteLength;
  generation++;
}

function align(bytes: number): number {
  return Math.ceil(bytes / ALIGN) * ALIGN;
}

function tooLarge(bytes: number, what: string): NormkitError {
  return new NormkitError(
    'TOO_LARGE',
    `${what} needs ${bytes} bytes of wasm memory, which does not fit beside the ${heapEnd} bytes in use ` +
      `under the wasm32 limit of ${MAX_BYTES} bytes (4 GiB)`,
  );
}

// Adds [start, start + size) to the free list, merging with its neighbours.
function release(start: number, size: number): void {
  let i = 0;
  while (i < freeStart.length && freeStart[i] < start) i++;
  freeStart.splice(i, 0, start);
  freeSize.splice(i, 0, size);
  if (i + 1 < freeStart.length && start + size === freeStart[i + 1]) {
    freeSize[i] += freeSize[i + 1];
    freeStart.splice(i + 1, 1);
    freeSize.splice(i + 1, 1);
  }
  if (i > 0 && freeStart[i - 1] + freeSize[i - 1] === start) {
    freeSize[i - 1] += freeSize[i];
    freeStart.splice(i, 1);
    freeSize.splice(i, 1);
  }
}

function grow(bytes: number, what: string): void {
  // Grow by at least half the current size so that a sequence of growing requests costs O(log) grows.
  const need = Math.ceil(bytes / PAGE);
  const current = heapEnd / PAGE;
  const maxPages = MAX_BYTES / PAGE;
  if (current + need > maxPages) throw tooLarge(bytes, what);
  const pages = Math.min(maxPages - current, Math.max(need, Math.ceil(current / 2)));
  try {
    memory.grow(pages);
  } catch {
    try {
      memory.grow(need);
    } catch {
      throw tooLarge(bytes, what);
    }
  }
  const start = heapEnd;
  refreshHeap();
  release(start, heapEnd - start);
}

/** Allocates `bytes` of linear memory; `what` names the request in a TOO_LARGE error. */
export function allocate(bytes: number, what: string): number {
  const size = align(Math.max(bytes, 1));
  if (size > MAX_BYTES) throw tooLarge(bytes, what);
  for (let attempt = 0; attempt < 2; attempt++) {
    for (let i = 0; i < freeStart.length; i++) {
      if (freeSize[i] < size) continue;
      const start = freeStart[i];
      if (freeSize[i] === size) {
        freeStart.splice(i, 1);
        freeSize.splice(i, 1);
      } else {
        freeStart[i] += size;
        freeSize[i] -= size;
      }
      live.set(start, size);
      return start;
    }
    // The last free block may end at the top of memory: grow only by what it lacks.
    const last = freeStart.length - 1;
    const tail = last >= 0 && freeStart[last] + freeSize[last] === heapEnd ? freeSize[last] : 0;
    if (scratchPtr !== 0 && heapEnd + size - tail > MAX_BYTES) {
      // Idle scratch kept from an earlier large call gives way rather than refusing this request.
      deallocate(scratchPtr);
      scratchPtr = 0;
      scratchBytes = 0;
      attempt--;
      continue;
    }
    grow(size - tail, what);
  }
  throw tooLarge(bytes, what);
}

export function deallocate(start: number): void {
  const size = live.get(start);
  if (size === undefined) return;
  live.delete(start);
  release(start, size);
}

/** The current buffer of linear memory. */
export function heapBufferOf(): ArrayBuffer {
  return heapBuffer;
}

/** Zeroes `bytes` (a multiple of 8) from byte address `at` (8-aligned). */
export function clearBytes(at: number, bytes: number): void {
  heapF64.fill(0, at >>> 3, (at + bytes) >>> 3);
}

/** Writes an i32 at byte address `at` (4-aligned). */
export function writeI32(at: number, value: number): void {
  heapI32[at >>> 2] = value;
}

/** Writes an f64 at byte address `at` (8-aligned). */
export function writeF64(at: number, value: number): void {
  heapF64[at >>> 3] = value;
}

/** Bytes of linear memory and bytes currently allocated, for diagnostics and leak tests. */
export function memoryStats(): { memoryBytes: number; allocatedBytes: number; blocks: number } {
  getKernels();
  let allocatedBytes = 0;
  for (const size of live.values()) allocatedBytes += size;
  return { memoryBytes: heapEnd, allocatedBytes, blocks: live.size };
}

/** The pointer of a Tensor: for the executor only (a Tensor's pointer is private). */
export let pointerOf: (t: Tensor) => number;
let makeTensor: (length: number) => Tensor;

/**
 * A float32 tensor that lives in wasm memory, so ops read and write it without copying. `array` is
 * re-derived whenever the memory has grown, so it never goes stale; a Tensor must be freed explicitly.
 * Made by {@link tensor}.
 */
export class Tensor {
  /** Byte offset in linear memory; 0 for an empty tensor. */
  #ptr: number;
  readonly length: number;
  #view: Float32Array<ArrayBuffer> | undefined;
  #viewGeneration = 0;
  #freed = false;

  static {
    pointerOf = (t) => t.#ptr;
    makeTensor = (length) => new Tensor(length);
  }

  private constructor(length: number) {
    getKernels();
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new NormkitError('INVALID_SHAPE', `tensor length: expected a non-negative integer, got ${length}`);
    }
    if (length * 4 > MAX_BYTES) throw tooLarge(length * 4, `tensor(${length})`);
    this.length = length;
    this.#ptr = length === 0 ? 0 : allocate(length * 4, `tensor(${length})`);
    if (length > 0) heap.fill(0, this.#ptr >>> 2, (this.#ptr >>> 2) + length);
  }

  /** A Float32Array view of the tensor's memory, valid until the memory next grows (re-read it then). */
  get array(): Float32Array<ArrayBuffer> {
    if (this.#freed) throw freedError();
    let v = this.#view;
    if (v === undefined || this.#viewGeneration !== generation) {
      v = this.#view = new Float32Array(heapBuffer, this.#ptr, this.length);
      this.#viewGeneration = generation;
    }
    return v;
  }

  get freed(): boolean {
    return this.#freed;
  }

  /** Copies `data` into the tensor (its length must match). */
  set(data: ArrayLike<number>): this {
    if (this.#freed) throw freedError();
    if (data == null || typeof data.length !== 'number' || data.length !== this.length) {
      throw new NormkitError(
        'LENGTH_MISMATCH',
        `Tensor.set: expected data of length ${this.length}, got ${data == null ? String(data) : data.length}`,
      );
    }
    this.array.set(data);
    return this;
  }

  /** Returns the memory for reuse. A freed tensor refuses every further use; freeing twice is harmless. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    this.#view = undefined;
    if (this.#ptr !== 0) deallocate(this.#ptr);
  }
}

function freedError(): NormkitError {
  return new NormkitError('TENSOR_FREED', 'tensor: this Tensor was freed and cannot be used');
}

/** Allocates a zero-copy tensor: `tensor(n)` is zero-filled, `tensor(data)` holds a copy of `data`. */
export function tensor(lengthOrData: number | ArrayLike<number>): Tensor {
  if (typeof lengthOrData === 'number') return makeTensor(lengthOrData);
  if (lengthOrData == null || typeof lengthOrData.length !== 'number') {
    throw new NormkitError('INVALID_TENSOR', `tensor: expected a length or an array of numbers, got ${String(lengthOrData)}`);
  }
  // A view of wasm memory (say another Tensor's .array) would be detached if this allocation grows the memory.
  const data = ArrayBuffer.isView(lengthOrData) && lengthOrData.buffer === heapBuffer ? (lengthOrData as Float32Array).slice() : lengthOrData;
  const t = makeTensor(data.length);
  try {
    return t.set(data);
  } catch (e) {
    t.free();
    throw e;
  }
}

// ---- per-call staging through scratch ----------------------------------------------------------------
// Copy mode copies every plain Float32Array argument into one scratch block, runs the kernel there and
// copies outputs back. The block is reused across calls and only ever grows, so after warm-up a call
// allocates nothing in wasm memory. All inputs are staged before any output is written, so overlapping
// plain arrays (out === x, or views sharing a buffer) behave as if the op were out-of-place.

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

/** Makes room for every reserved slot (this may grow memory) and copies the inputs in. */
export function commitStaging(what: string): void {
  if (total > scratchBytes) {
    if (scratchPtr !== 0) deallocate(scratchPtr);
    scratchPtr = 0;
    scratchBytes = 0;
    let bytes = Math.max(total, Math.min(MAX_BYTES, Math.ceil(total * 1.25)));
    try {
      try {
        scratchPtr = allocate(bytes, what);
      } catch (e) {
        // The 25% headroom may not fit where the exact size still does.
        if (bytes === total) throw e;
        bytes = total;
        scratchPtr = allocate(bytes, what);
      }
    } catch (e) {
      // TOO_LARGE: drop the references to the caller's arrays; nothing was copied.
      finishStaging(false);
      throw e;
    }
    scratchBytes = bytes;
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
    if (src !== null) heap.set(src, (scratchPtr + offsets[i]) >>> 2);
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
      dst.set(heap.subarray(p, p + lengths[i]));
    }
    srcs[i] = null;
    dsts[i] = null;
  }
  count = 0;
}

