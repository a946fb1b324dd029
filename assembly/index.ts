// The wasm module's exports: what the TypeScript layer calls. Every kernel takes one pointer to a
// parameter block (abi.ts, generated with its TypeScript twin by scripts/gen-abi.mjs). Pointers are byte
// offsets into this module's memory, allocated by the TypeScript side (src/memory.ts); 0 means "absent".

export { normalizeRows, rowWorkspaceBytes } from './rows';
export { groupNorm, batchNormInference, batchNormTraining, adaIN, workspaceBytes } from './channels';
export { mergeMoments } from './moments';
export { widenF16Array, widenBF16Array, narrowF16Array, narrowBF16Array } from './half';
import { PARAM_BLOCK_BYTES } from './abi';

/** First byte free for the allocator: everything below holds the module's static data. */
export function heapBase(): usize {
  return __heap_base;
}

/** Size of the parameter block this build reads: the TypeScript side checks it against its own. */
export function paramBlockBytes(): usize {
  return PARAM_BLOCK_BYTES;
}

// The calling thread's parameter block, in static data below the allocator's heap.
const block = memory.data(<i32>PARAM_BLOCK_BYTES, 64);

/** The parameter block the TypeScript side fills before each kernel call. */
export function paramBlock(): usize {
  return block;
}
