// The wasm module's exports: what the TypeScript layer calls. Every pointer is a byte offset into this
// module's memory, allocated by the TypeScript side (src/memory.ts); 0 means "absent".

export { normalizeRows } from './rows';
export { groupNorm, batchNormInference, batchNormTraining, adaIN, workspaceBytes } from './channels';

/** First byte free for the allocator: everything below holds the module's static data. */
export function heapBase(): usize {
  return __heap_base;
}
