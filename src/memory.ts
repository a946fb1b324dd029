// wasm linear memory: a first-fit allocator for tensors and scratch, and the zero-copy Tensor.
//
// The allocator's bookkeeping lives in JS, not in linear memory: allocation is rare (tensor creation and
// scratch growth, never per call after warm-up), and keeping the free list out of reach of the kernels means
// no out-of-bounds write can corrupt it.

import { NormkitError } from './errors.js';
import { whenReady, whenShared, getKernels, type Kernels } from './wasm.js';

const PAGE = 65536;
export const MAX_BYTES = 65536 * PAGE; // wasm32: 4 GiB
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
/**
 * Every buffer linear memory has had. A shared memory's growth leaves older views attached and valid (over
 * the memory's first bytes), so a view of any of them is a view of linear memory.
 */
const heapBuffers = new WeakSet<ArrayBufferLike>();
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

// The same bytes at the same addresses in a shared memory (wasm.ts): new views, the free list unchanged.
whenShared((k: Kernels) => {
  memory = k.memory;
  refreshHeap();
});

function refreshHeap(): void {
  heapBuffer = memory.buffer;
  heapBuffers.add(heapBuffer);
  heap = new Float32Array(heapBuffer);
  heapI32 = new Int32Array(heapBuffer);
  heapF64 = new Float64Array(heapBuffer);
  heapEnd = heapBuffer.byteLength;
  generation++;
}

export function align(bytes: number): number {
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

// Frees memory that is kept only for reuse (copy mode's idle scratch), when an allocation would not fit
// otherwise; returns whether it freed any. Set by staging.ts.
let reclaim: () => boolean = () => false;

/** Registers what frees idle memory under pressure (copy mode's scratch). */
export function onMemoryPressure(f: () => boolean): void {
  reclaim = f;
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
    if (heapEnd + size - tail > MAX_BYTES && reclaim()) {
      // Idle scratch kept from an earlier large call gave way rather than refusing this request.
      attempt--;
      continue;
    }
    grow(size - tail, what);
  }
  throw tooLarge(bytes, what);
}

/** Allocates `bytes` for good, for normkit's own state (thread control): not counted by memoryStats. */
export function allocateForGood(bytes: number, what: string): number {
  const start = allocate(bytes, what);
  live.delete(start);
  return start;
}

export function deallocate(start: number): void {
  const size = live.get(start);
  if (size === undefined) return;
  live.delete(start);
  release(start, size);
}

/** A Float32Array over the whole linear memory (replaced when the memory grows: read it again each time). */
export function heapF32(): Float32Array {
  return heap;
}

/** The current buffer of linear memory. */
export function heapBufferOf(): ArrayBuffer {
  return heapBuffer;
}

/** Whether `a` is a view of linear memory (of its current buffer, or of an earlier one that is still attached). */
export function isHeapView(a: ArrayBufferView): boolean {
  return a.buffer === heapBuffer || heapBuffers.has(a.buffer);
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

/**
 * Bytes of linear memory and bytes currently allocated, for diagnostics and leak tests; `shared` says
 * whether the memory is shared (threads are possible, and a Tensor's older views stay attached when it
 * grows).
 */
export function memoryStats(): { memoryBytes: number; allocatedBytes: number; blocks: number; shared: boolean } {
  getKernels();
  let allocatedBytes = 0;
  for (const size of live.values()) allocatedBytes += size;
  return { memoryBytes: heapEnd, allocatedBytes, blocks: live.size, shared: !(heapBuffer instanceof ArrayBuffer) };
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
  const data = ArrayBuffer.isView(lengthOrData) && isHeapView(lengthOrData) ? (lengthOrData as Float32Array).slice() : lengthOrData;
  const t = makeTensor(data.length);
  try {
    return t.set(data);
  } catch (e) {
    t.free();
    throw e;
  }
}
