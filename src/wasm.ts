// Loading the embedded module. One instance per JS realm (and so per worker thread).

import { wasmBase64 } from './generated/wasm.js';
import { NormkitError } from './errors.js';

/** The kernels as the wasm module exports them (assembly/index.ts); pointers are byte offsets, 0 = absent. */
export interface Kernels {
  memory: WebAssembly.Memory;
  heapBase(): number;
  workspaceBytes(C: number, styleGroups: number): number;
  normalizeRows(
    x: number, y: number, rows: number, n: number, w: number, b: number, eps: number,
    res: number, sumOut: number, meanOut: number, rstdOut: number, centered: boolean,
  ): void;
  groupNorm(
    x: number, y: number, N: number, C: number, HW: number, G: number, w: number, b: number, eps: number,
    channelsLast: boolean, work: number,
  ): void;
  batchNormInference(
    x: number, y: number, N: number, C: number, HW: number, w: number, b: number, mean: number,
    variance: number, eps: number, channelsLast: boolean, work: number,
  ): void;
  batchNormTraining(
    x: number, y: number, N: number, C: number, HW: number, w: number, b: number, eps: number,
    runningMean: number, runningVar: number, momentum: number, unbiased: boolean, channelsLast: boolean,
    work: number,
  ): void;
  adaIN(
    x: number, y: number, N: number, C: number, HW: number, s: number, styleN: number, styleHW: number,
    eps: number, channelsLast: boolean, work: number,
  ): void;
}

let kernels: Kernels | undefined;
let loading: Promise<void> | undefined;
const onReady: Array<(k: Kernels) => void> = [];

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Compiles and instantiates the embedded wasm once; later calls return the same promise. */
export function ready(): Promise<void> {
  loading ??= WebAssembly.instantiate(decodeBase64(wasmBase64), {}).then(({ instance }) => {
    const k = instance.exports as unknown as Kernels;
    for (const f of onReady) f(k);
    kernels = k;
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
