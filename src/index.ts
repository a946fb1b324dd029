// normkit: normalization layers as WebAssembly SIMD kernels, for Node and the browser.

export { ready, close } from './pool.js';
export { NormkitError } from './errors.js';
export type { NormkitErrorCode } from './errors.js';
export { Tensor, tensor, memoryStats } from './memory.js';
export type { TensorArray, TensorOptions } from './memory.js';
export { layerNorm, rmsNorm } from './ops/rows.js';
export { batchNorm, instanceNorm, groupNorm, adaIN } from './ops/channels.js';
export type {
  TensorLike, Dtype, HalfDtype, Float16ArrayLike, ArrayOf, Output, Layout, LayerNormOptions, RmsNormOptions, BatchNormOptions, ChannelNormOptions, AdaINOptions,
} from './types.js';
