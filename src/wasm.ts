// Loading the embedded module. One instance per JS realm (and so per worker thread), over a memory that
// this side creates: shared where the environment allows it, so that the thread pool (pool.ts) can run
// the same module on it from other threads.

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
let loaded: Loaded | undefined;
let loading: Promise<Loaded> | undefined;
const onReady: Array<(k: Kernels) => void> = [];

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

// A shared memory needs SharedArrayBuffer, which browsers give only to cross-origin isolated pages; the
// constructor is the one test that every engine answers truthfully.
function createMemory(): { memory: WebAssembly.Memory; shared: boolean } {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== false;
  if (isolated && typeof SharedArrayBuffer === 'function') {
    try {
      return { memory: new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true }), shared: true };
    } catch {
      // Fall through to a memory of this thread's own.
    }
  }
  return { memory: new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES }), shared: false };
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
 * The module is built for a shared memory (asconfig.json); where none can be made, its memory import is
 * declared unshared in place (limits flag 0x03, shared with a maximum, becomes 0x01). The kernels use no
 * atomics, so nothing else in the module depends on sharing.
 */
function declareUnshared(bytes: Uint8Array): void {
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
          return;
        }
        // Only the memory import is expected; any other kind means a build this code does not know.
        throw new Error(`normkit: unexpected wasm import of kind ${kind} (run npm run build)`);
      }
    }
    at = body + size;
  }
  throw new Error('normkit: the wasm imports no shared memory (run npm run build)');
}

async function load(): Promise<Loaded> {
  const bytes = decodeBase64(wasmBase64);
  const { memory, shared } = createMemory();
  if (!shared) declareUnshared(bytes);
  const module = await WebAssembly.compile(bytes);
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const k = instance.exports as unknown as Kernels;
  if (k.paramBlockBytes() !== PARAM_BLOCK_BYTES) {
    throw new Error(
      `normkit: the wasm reads a ${k.paramBlockBytes()}-byte parameter block, the TypeScript side writes ` +
        `${PARAM_BLOCK_BYTES}: the build is inconsistent (run npm run build)`,
    );
  }
  // The memory is imported, so the module's memory export is the same object.
  for (const f of onReady) f(k);
  kernels = k;
  loaded = { module, memory, shared };
  return loaded;
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

/** Registers module state that must be set up from the instance before the first op runs. */
export function whenReady(f: (k: Kernels) => void): void {
  onReady.push(f);
}

/** The instantiated kernels; throws NOT_READY before `await ready()`. */
export function getKernels(): Kernels {
  if (kernels === undefined) {
    throw new NormkitError('NOT_READY', 'normkit is not initialized: call and await ready() before the first op');
  }
  return kernels;
}

/** The module and its memory, once loaded (for the pool). */
export function loadedModule(): Loaded | undefined {
  return loaded;
}
