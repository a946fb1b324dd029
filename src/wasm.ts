// Loading the embedded module. One instance per JS realm (and so per worker thread).

import { wasmBase64 } from './generated/wasm.js';
import { PARAM_BLOCK_BYTES } from './generated/abi.js';
import { NormkitError } from './errors.js';

/** A kernel: one pointer to the parameter block (src/generated/abi.ts), which the executor fills. */
export type Kernel = (params: number) => void;

/** The module's exports (assembly/index.ts); pointers are byte offsets, 0 = absent. */
export interface Kernels {
  // Structural rather than WebAssembly.Memory, so that the declarations type-check without the DOM library.
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  heapBase(): number;
  paramBlock(): number;
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

/** The names of the kernels a plan can run. */
export type KernelName = 'normalizeRows' | 'groupNorm' | 'batchNormInference' | 'batchNormTraining' | 'adaIN';

let kernels: Kernels | undefined;
let loading: Promise<void> | undefined;
const onReady: Array<(k: Kernels) => void> = [];

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

async function load(): Promise<void> {
  const { instance } = await WebAssembly.instantiate(decodeBase64(wasmBase64), {});
  const k = instance.exports as unknown as Kernels;
  if (k.paramBlockBytes() !== PARAM_BLOCK_BYTES) {
    throw new Error(
      `normkit: the wasm reads a ${k.paramBlockBytes()}-byte parameter block, the TypeScript side writes ` +
        `${PARAM_BLOCK_BYTES}: the build is inconsistent (run npm run build)`,
    );
  }
  for (const f of onReady) f(k);
  kernels = k;
}

/**
 * Compiles and instantiates the embedded wasm once; later calls return the same promise. A failed start
 * is not kept: the next call tries again.
 */
export function ready(): Promise<void> {
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
