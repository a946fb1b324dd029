// wasm linear memory: a first-fit allocator for tensors and scratch, and the zero-copy Tensor.
//
// The allocator's bookkeeping lives in JS, not in linear memory: allocation is rare (tensor creation and
// scratch growth, never per call after warm-up), and keeping the free list out of reach of the kernels means
// no out-of-bounds write can corrupt it.

import { NormkitError } from './errors.js';
import { whenReady, whenShared, getKernels, type Kernels } from './wasm.js';
import type { Dtype } from './types.js';

const PAGE = 65536;
export const MAX_BYTES = 65536 * PAGE; // wasm32: 4 GiB
const ALIGN = 64; // cache-line alignment keeps SIMD loads from splitting lines

let memory: Kernels['memory'];
/** Views over the whole linear memory; replaced whenever the memory grows. */
let heap: Float32Array;
let heapI32: Int32Array;
let heapU16: Uint16Array;
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
  heapU16 = new Uint16Array(heapBuffer);
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

/** A Uint16Array over the whole linear memory (replaced when the memory grows, as heapF32). */
export function heapBits(): Uint16Array {
  return heapU16;
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
export let pointerOf: (t: Tensor<Dtype>) => number;
let makeTensor: <D extends Dtype>(length: number, dtype: D) => Tensor<D>;

/** Bytes per element of a dtype. */
export const bytesOf = (dtype: Dtype): number => (dtype === 'float32' ? 4 : 2);

/**
 * The array type of a Tensor's dtype: float32 values, or the bits of a half-precision dtype (either for a
 * Tensor of any dtype). Not distributed, so that a Tensor narrowed from `unknown` reads as float32, as
 * before half precision.
 */
export type TensorArray<D extends Dtype> = [D] extends ['float32']
  ? Float32Array<ArrayBuffer>
  : [D] extends ['float16' | 'bfloat16'] ? Uint16Array<ArrayBuffer> : Float32Array<ArrayBuffer> | Uint16Array<ArrayBuffer>;

/**
 * A tensor that lives in wasm memory, so ops read and write it without copying: float32 values, or
 * float16 or bfloat16 bits (`dtype`; `Tensor` alone is a float32 one, `Tensor<Dtype>` any). `array` is re-derived whenever the memory has grown, so it never goes
 * stale; a Tensor must be freed explicitly. Made by {@link tensor}.
 */
export class Tensor<D extends Dtype = 'float32'> {
  /** Byte offset in linear memory; 0 for an empty tensor. */
  #ptr: number;
  readonly length: number;
  readonly dtype: D;
  #view: TensorArray<D> | undefined;
  #viewGeneration = 0;
  #freed = false;

  static {
    pointerOf = (t) => t.#ptr;
    makeTensor = (length, dtype) => new Tensor(length, dtype);
  }

  private constructor(length: number, dtype: D) {
    getKernels();
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new NormkitError('INVALID_SHAPE', `tensor length: expected a non-negative integer, got ${length}`);
    }
    const bytes = length * bytesOf(dtype);
    if (bytes > MAX_BYTES) throw tooLarge(bytes, `tensor(${length})`);
    this.length = length;
    this.dtype = dtype;
    this.#ptr = length === 0 ? 0 : allocate(bytes, `tensor(${length})`);
    if (length > 0) new Uint8Array(heapBuffer, this.#ptr, bytes).fill(0);
  }

  /**
   * A view of the tensor's memory, valid until the memory next grows (re-read it then): a Float32Array,
   * or a Uint16Array of the bits of a half-precision tensor.
   */
  get array(): TensorArray<D> {
    if (this.#freed) throw freedError();
    let v = this.#view;
    if (v === undefined || this.#viewGeneration !== generation) {
      const Type = this.dtype === 'float32' ? Float32Array : Uint16Array;
      v = this.#view = new Type(heapBuffer, this.#ptr, this.length) as TensorArray<D>;
      this.#viewGeneration = generation;
    }
    return v;
  }

  get freed(): boolean {
    return this.#freed;
  }

  /**
   * Copies `data` into the tensor (its length must match). A half-precision tensor takes the bits of a
   * Uint16Array or a Float16Array as they are, and rounds any other numbers to float32, then to its dtype
   * (nearest-even).
   */
  set(data: ArrayLike<number>): this {
    if (this.#freed) throw freedError();
    if (data == null || typeof data.length !== 'number' || data.length !== this.length) {
      throw new NormkitError(
        'LENGTH_MISMATCH',
        `Tensor.set: expected data of length ${this.length}, got ${data == null ? String(data) : data.length}`,
      );
    }
    if (this.dtype === 'float32' || data instanceof Uint16Array) this.array.set(data);
    else if (isFloat16Array(data)) this.array.set(new Uint16Array(data.buffer, data.byteOffset, data.length));
    else this.#narrowFrom(data);
    return this;
  }

  // Rounds numbers into a half-precision tensor through float32 scratch (the executor's exact narrowing).
  #narrowFrom(data: ArrayLike<number>): void {
    const n = this.length;
    if (n === 0) return;
    // A view of wasm memory would be detached if the scratch grows the memory.
    const values = ArrayBuffer.isView(data) && data.buffer === heapBuffer ? Array.from(data) : data;
    const tmp = allocate(n * 4, `Tensor.set(${n})`);
    try {
      heap.set(values, tmp >>> 2);
      const k = getKernels();
      (this.dtype === 'float16' ? k.narrowF16Array : k.narrowBF16Array)(tmp, this.#ptr, n);
    } finally {
      deallocate(tmp);
    }
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

/** Whether `a` is a native Float16Array (none where the runtime has none). */
export function isFloat16Array(a: unknown): a is Uint16Array {
  const F16 = (globalThis as { Float16Array?: abstract new () => unknown }).Float16Array;
  return F16 !== undefined && a instanceof F16;
}

/** Options of {@link tensor}. */
export interface TensorOptions<D extends Dtype> {
  /**
   * How the tensor stores its elements: `'float32'`, `'float16'` or `'bfloat16'`.
   * @defaultValue `'float32'`
   */
  dtype?: D | undefined;
}

/** The dtype option of tensor(), read once and checked. */
function readDtype(options: unknown): Dtype {
  if (options === undefined) return 'float32';
  if (options === null || typeof options !== 'object') {
    throw new NormkitError('INVALID_OPTION', `tensor options: expected an object or undefined, got ${String(options)}`);
  }
  for (const key in options) {
    if (key !== 'dtype') {
      throw new NormkitError('UNKNOWN_OPTION', `options.${key}: tensor does not take this option (tensor takes: dtype)`);
    }
  }
  const { dtype = 'float32' } = options as { dtype?: unknown };
  if (dtype !== 'float32' && dtype !== 'float16' && dtype !== 'bfloat16') {
    throw new NormkitError('INVALID_DTYPE', `dtype: expected 'float32', 'float16' or 'bfloat16', got ${typeof dtype === 'string' ? JSON.stringify(dtype) : String(dtype)}`);
  }
  return dtype;
}

/**
 * Allocates a zero-copy tensor: `tensor(n)` is zero-filled, `tensor(data)` holds a copy of `data`;
 * `{ dtype: 'float16' }` or `'bfloat16'` stores half-precision bits (see {@link Tensor.set}).
 */
export function tensor<D extends Dtype>(lengthOrData: number | ArrayLike<number>, options: TensorOptions<D> & { dtype: D }): Tensor<D>;
// Last, so that ReturnType<typeof tensor> stays the float32 Tensor it was before half precision.
export function tensor(lengthOrData: number | ArrayLike<number>, options?: TensorOptions<'float32'>): Tensor;
export function tensor(lengthOrData: number | ArrayLike<number>, options?: TensorOptions<Dtype>): Tensor<Dtype> {
  const dtype = readDtype(options);
  if (typeof lengthOrData === 'number') return makeTensor(lengthOrData, dtype);
  if (lengthOrData == null || typeof lengthOrData.length !== 'number') {
    throw new NormkitError('INVALID_TENSOR', `tensor: expected a length or an array of numbers, got ${String(lengthOrData)}`);
  }
  // A view of wasm memory (say another Tensor's .array) would be detached if this allocation grows the memory.
  const data = ArrayBuffer.isView(lengthOrData) && isHeapView(lengthOrData) ? (lengthOrData as Float32Array).slice() : lengthOrData;
  const t = makeTensor(data.length, dtype);
  try {
    return t.set(data);
  } catch (e) {
    t.free();
    throw e;
  }
}
