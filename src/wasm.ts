// Loading the embedded module. One instance per JS realm (and so per worker thread), over a memory that
// this side creates. The memory starts unshared: copies between JS arrays and a SharedArrayBuffer cost up
// to twice as much in V8, which copy mode would pay on every call. The first ready() that asks for
// threads moves it, once, to a shared memory (same size, same addresses, so no Tensor moves) that the
// pool's workers (pool.ts) run the same module on.

import { wasmBase64 } from './generated/wasm.js';
import { PARAM_BLOCK_BYTES } from './generated/abi.js';
import { NormkitError } from './errors.js';

/** A kernel: one pointer to a parameter block (src/generated/abi.ts), which the executor fills. */
export type Kernel = (params: number) => void;

/** The module's exports (assembly/index.ts); pointers are byte offsets, 0 = absent. */
export interface Kernels {
  // Structural rather than WebAssembly.Memory, so that the declarations type-check without the DOM library.
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  heapBase(): number;
  paramBlockBytes(): number;
  workspaceBytes(C: number, styleGroups: number): number;
  rowWorkspaceBytes(n: number): number;
  normalizeRows: Kernel;
  groupNorm: Kernel;
  batchNormInference: Kernel;
  batchNormTraining: Kernel;
  adaIN: Kernel;
  // n elements from src to dst; in place as assembly/half.ts says.
  widenF16Array(src: number, dst: number, n: number): void;
  widenBF16Array(src: number, dst: number, n: number): void;
  narrowF16Array(src: number, dst: number, n: number): void;
  narrowBF16Array(src: number, dst: number, n: number): void;
}

/** The names of the kernels a plan can run, in the order the pool's workers index them. */
export const KERNEL_NAMES = ['normalizeRows', 'groupNorm', 'batchNormInference', 'batchNormTraining', 'adaIN'] as const;
export type KernelName = (typeof KERNEL_NAMES)[number];

/** What the pool needs to run the module on other threads (structural types, as for Kernels). */
export interface Loaded {
  /** The compiled WebAssembly.Module. */
  module: object;
  /** The WebAssembly.Memory every instance imports. */
  memory: Kernels['memory'];
  /** Whether the memory is a SharedArrayBuffer that other threads can run kernels over. */
  shared: boolean;
}

const MAX_PAGES = 65536;

let kernels: Kernels | undefined;
let loading: Promise<Loaded> | undefined;
let sharing: Promise<Loaded> | undefined;
const onReady: Array<(k: Kernels) => void> = [];
const onShared: Array<(k: Kernels) => void> = [];

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

// A shared memory needs SharedArrayBuffer, which browsers give only to cross-origin isolated pages; the
// constructor is the one test that every engine answers truthfully.
function sharedMemory(pages: number): WebAssembly.Memory | undefined {
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false || typeof SharedArrayBuffer !== 'function') {
    return undefined;
  }
  try {
    return new WebAssembly.Memory({ initial: pages, maximum: MAX_PAGES, shared: true });
  } catch {
    return undefined;
  }
}

function readLeb(bytes: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  let b: number;
  do {
    b = bytes[at++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
  } while (b & 0x80);
  return [value, at];
}

/**
 * The module is built for a shared memory (the build:wasm script); for an unshared one its memory import
 * is declared unshared in a copy of the bytes (limits flag 0x03, shared with a maximum, becomes 0x01). The
 * kernels use no atomics, so nothing else in the module depends on sharing.
 */
function declaredUnshared(shared: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const bytes = shared.slice();
  let at = 8; // magic and version
  while (at < bytes.length) {
    const id = bytes[at];
    const [size, body] = readLeb(bytes, at + 1);
    if (id === 2) {
      let [entries, p] = readLeb(bytes, body);
      for (; entries > 0; entries--) {
        for (let name = 0; name < 2; name++) {
          const [len, start] = readLeb(bytes, p);
          p = start + len;
        }
        const kind = bytes[p++];
        if (kind === 2 && bytes[p] === 0x03) {
          bytes[p] = 0x01;
          return bytes;
        }
        // Only the memory import is expected; any other kind means a build this code does not know.
        throw new Error(`normkit: unexpected wasm import of kind ${kind} (run npm run build)`);
      }
    }
    at = body + size;
  }
  throw new Error('normkit: the wasm imports no shared memory (run npm run build)');
}

async function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<Kernels> {
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const k = instance.exports as unknown as Kernels;
  if (k.paramBlockBytes() !== PARAM_BLOCK_BYTES) {
    throw new Error(
      `normkit: the wasm reads a ${k.paramBlockBytes()}-byte parameter block, the TypeScript side writes ` +
        `${PARAM_BLOCK_BYTES}: the build is inconsistent (run npm run build)`,
    );
  }
  return k;
}

async function load(): Promise<Loaded> {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES });
  const module = await WebAssembly.compile(declaredUnshared(decodeBase64(wasmBase64)));
  const k = await instantiate(module, memory);
  for (const f of onReady) f(k);
  kernels = k;
  return { module, memory, shared: false };
}

// Moves the kernels to a shared copy of the memory. The new instance is made first (it writes nothing: the
// module has no data segments); the copy and the switch then happen in one synchronous step, so no op runs
// in between, and growing the old memory by 0 pages detaches every view of it, as a growth would.
async function share(): Promise<Loaded> {
  const from = await loadKernels();
  if (from.shared) return from;
  const module = await WebAssembly.compile(decodeBase64(wasmBase64));
  const old = from.memory;
  const memory = sharedMemory(old.buffer.byteLength / 65536);
  if (memory === undefined) return from;
  const k = await instantiate(module, memory);
  const extra = (old.buffer.byteLength - memory.buffer.byteLength) / 65536;
  if (extra > 0) memory.grow(extra);
  new Uint8Array(memory.buffer).set(new Uint8Array(old.buffer));
  old.grow(0);
  kernels = k;
  for (const f of onShared) f(k);
  return { module, memory, shared: true };
}

/**
 * Compiles and instantiates the embedded wasm once; later calls return the same promise. A failed start
 * is not kept: the next call tries again.
 */
export function loadKernels(): Promise<Loaded> {
  loading ??= load().catch((e: unknown) => {
    loading = undefined;
    throw e;
  });
  return loading;
}

/**
 * The module over a shared memory, for threads: moves the memory there the first time; stays unshared
 * where the environment has no shared memory (a page that is not cross-origin isolated).
 */
export function loadShared(): Promise<Loaded> {
  sharing ??= share().catch((e: unknown) => {
    sharing = undefined;
    throw e;
  });
  return sharing;
}

/** Registers module state that must be set up from the instance before the first op runs. */
export function whenReady(f: (k: Kernels) => void): void {
  onReady.push(f);
}

/** Registers module state to refresh when the kernels move to a shared memory (same addresses). */
export function whenShared(f: (k: Kernels) => void): void {
  onShared.push(f);
}

/** The instantiated kernels; throws NOT_READY before `await ready()`. */
export function getKernels(): Kernels {
  if (kernels === undefined) {
    throw new NormkitError('NOT_READY', 'normkit is not initialized: call and await ready() before the first op');
  }
  return kernels;
}
