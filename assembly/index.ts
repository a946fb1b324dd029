// The wasm module's exports: what the TypeScript layer calls. Every kernel takes one pointer to a
// parameter block (abi.ts, generated with its TypeScript twin by scripts/gen-abi.mjs). Pointers are byte
// offsets into this module's memory, allocated by the TypeScript side (src/memory.ts); 0 means "absent".

import * as rows from './rows';
import * as channels from './channels';
import { PARAM_BLOCK_BYTES } from './abi';

export { rowWorkspaceBytes } from './rows';
export { workspaceBytes } from './channels';
export { mergeMoments } from './moments';
export { widenF16Array, widenBF16Array, narrowF16Array, narrowBF16Array } from './half';

// Every kernel leaves its parameter block all 0, as it was before the first call: the caller then sets
// only the fields of its own call, and every other field reads 0 (absent) without being cleared.
@inline function clearParams(params: usize): void {
  const zero = i32x4.splat(0);
  for (let i: usize = 0; i < PARAM_BLOCK_BYTES; i += 16) v128.store(params + i, zero);
}

export function normalizeRows(params: usize): void {
  rows.normalizeRows(params);
  clearParams(params);
}
export function groupNorm(params: usize): void {
  channels.groupNorm(params);
  clearParams(params);
}
export function batchNormInference(params: usize): void {
  channels.batchNormInference(params);
  clearParams(params);
}
export function batchNormTraining(params: usize): void {
  channels.batchNormTraining(params);
  clearParams(params);
}
export function adaIN(params: usize): void {
  channels.adaIN(params);
  clearParams(params);
}

/** First byte free for the allocator: everything below holds the module's static data. */
export function heapBase(): usize {
  return __heap_base;
}

/** Size of the parameter block this build reads: the TypeScript side checks it against its own. */
export function paramBlockBytes(): usize {
  return PARAM_BLOCK_BYTES;
}
