import type { Tensor } from './memory.js';

/** A float32 tensor argument: a plain array (copied through wasm scratch memory) or a wasm-resident {@link Tensor}. */
export type TensorLike = Float32Array | Tensor;

export type Layout = 'NCHW' | 'NHWC';

export interface LayerNormOptions {
  /** First normalized axis (ONNX): the op normalizes over `axis..rank-1`; negative counts from the end. */
  axis?: number;
  weight?: TensorLike;
  bias?: TensorLike;
  eps?: number;
  /** Normalize `x + residual` instead of `x` (onnxruntime's SkipLayerNormalization). */
  residual?: TensorLike;
  /** With `residual`: receives `x + residual`. */
  sumOut?: TensorLike;
  out?: TensorLike;
  /** Receives each group's mean (one value per group). */
  mean?: TensorLike;
  /** Receives each group's `1 / sqrt(var + eps)`. */
  invStd?: TensorLike;
}

export interface RmsNormOptions {
  axis?: number;
  weight?: TensorLike;
  eps?: number;
  residual?: TensorLike;
  sumOut?: TensorLike;
  out?: TensorLike;
}

export interface BatchNormOptions {
  layout?: Layout;
  weight?: TensorLike;
  bias?: TensorLike;
  runningMean?: TensorLike;
  runningVar?: TensorLike;
  training?: boolean;
  /** PyTorch convention: `r = (1 - momentum) * r + momentum * batchStat`. ONNX's momentum m maps to `1 - m`. */
  momentum?: number;
  /** Store the unbiased (n / (n - 1)) batch variance in `runningVar` (PyTorch); `false` stores the biased one (ONNX). */
  unbiasedRunningVar?: boolean;
  eps?: number;
  out?: TensorLike;
}

export interface ChannelNormOptions {
  layout?: Layout;
  weight?: TensorLike;
  bias?: TensorLike;
  eps?: number;
  out?: TensorLike;
}

export interface AdaINOptions {
  layout?: Layout;
  eps?: number;
  out?: TensorLike;
}
