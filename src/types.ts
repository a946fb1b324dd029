import type { Tensor } from './memory.js';

// Every option below may be left out or set to `undefined`, which both mean "not given" (the default
// applies). `| undefined` is spelled out so that projects with `exactOptionalPropertyTypes` can pass
// `{ weight: maybeUndefined }`. `null` is a value of the wrong type, never "not given".

/**
 * A float32 tensor argument: a plain `Float32Array` (copied through wasm scratch memory on each call) or
 * a wasm-resident {@link Tensor} from `tensor()` (read and written in place, no copies). Mix them freely.
 */
export type TensorLike = Float32Array | Tensor;

/**
 * Where the channel axis is: `'NCHW'` is `[N, C, ...spatial]` (PyTorch's default), `'NHWC'` is
 * `[N, ...spatial, C]` (channels-last). A 2-D `[N, C]` tensor reads the same in both.
 */
export type Layout = 'NCHW' | 'NHWC';

/** Options of `layerNorm(x, shape, options)`. */
export interface LayerNormOptions {
  /**
   * First normalized axis (ONNX): one group is the axes `axis..rank-1` of one sample; negative counts
   * from the end. PyTorch's `normalized_shape` is `shape.slice(axis)`.
   * @defaultValue `-1` (the last axis)
   */
  axis?: number | undefined;
  /**
   * Per-feature scale (PyTorch's `weight`, ONNX's `Scale`), with `prod(shape[axis..])` elements.
   * @defaultValue none: a scale of 1
   */
  weight?: TensorLike | undefined;
  /**
   * Per-feature shift (ONNX's `B`), with `prod(shape[axis..])` elements.
   * @defaultValue none: a shift of 0
   */
  bias?: TensorLike | undefined;
  /**
   * Added to the variance before the square root: `1 / sqrt(var + eps)`. A finite number >= 0.
   * @defaultValue `1e-5`
   */
  eps?: number | undefined;
  /**
   * Normalize `x + residual` instead of `x` (onnxruntime's SkipLayerNormalization); `x.length` elements.
   * @defaultValue none
   */
  residual?: TensorLike | undefined;
  /**
   * Receives `x + residual`; only together with `residual`. `x.length` elements.
   * @defaultValue none: the sum is not stored
   */
  sumOut?: TensorLike | undefined;
  /**
   * Receives the output and is returned; `x.length` elements. May be `x` itself (in place).
   * @defaultValue none: a new `Float32Array` is returned
   */
  out?: TensorLike | undefined;
  /**
   * Receives each group's mean: `prod(shape[..axis])` values (ONNX LayerNormalization's second output).
   * @defaultValue none: not stored
   */
  mean?: TensorLike | undefined;
  /**
   * Receives each group's `1 / sqrt(var + eps)`: `prod(shape[..axis])` values (ONNX's third output).
   * @defaultValue none: not stored
   */
  invStd?: TensorLike | undefined;
}

/** Options of `rmsNorm(x, shape, options)`: `y = x / sqrt(mean(x²) + eps) * weight`. */
export interface RmsNormOptions {
  /**
   * First normalized axis (ONNX RMSNormalization): one group is the axes `axis..rank-1` of one sample;
   * negative counts from the end.
   * @defaultValue `-1` (the last axis)
   */
  axis?: number | undefined;
  /**
   * Per-feature scale, with `prod(shape[axis..])` elements. rmsNorm has no bias.
   * @defaultValue none: a scale of 1
   */
  weight?: TensorLike | undefined;
  /**
   * Added to the mean square before the square root: `1 / sqrt(mean(x²) + eps)`. A finite number >= 0.
   * @defaultValue `1e-5` (PyTorch's `rms_norm` uses the dtype's epsilon when given `None`)
   */
  eps?: number | undefined;
  /**
   * Normalize `x + residual` instead of `x` (a skip connection fused in); `x.length` elements.
   * @defaultValue none
   */
  residual?: TensorLike | undefined;
  /**
   * Receives `x + residual`; only together with `residual`. `x.length` elements.
   * @defaultValue none: the sum is not stored
   */
  sumOut?: TensorLike | undefined;
  /**
   * Receives the output and is returned; `x.length` elements. May be `x` itself (in place).
   * @defaultValue none: a new `Float32Array` is returned
   */
  out?: TensorLike | undefined;
}

/**
 * Options of `batchNorm(x, shape, options)`. Inference (the default) normalizes with `runningMean` and
 * `runningVar`; training normalizes with the batch's statistics and updates the running ones (PyTorch).
 */
export interface BatchNormOptions {
  /**
   * Where the channel axis is: `'NCHW'` (`[N, C, ...spatial]`) or `'NHWC'` (`[N, ...spatial, C]`).
   * @defaultValue `'NCHW'`
   */
  layout?: Layout | undefined;
  /**
   * Per-channel scale (PyTorch's `weight`, ONNX's `scale`), C elements.
   * @defaultValue none: a scale of 1
   */
  weight?: TensorLike | undefined;
  /**
   * Per-channel shift (ONNX's `B`), C elements.
   * @defaultValue none: a shift of 0
   */
  bias?: TensorLike | undefined;
  /**
   * Per-channel running mean, C elements. Required in inference (read); optional in training, where it
   * is updated in place: `r = (1 - momentum) * r + momentum * batchMean`. Give both running buffers or
   * neither.
   * @defaultValue none (inference without it throws `MISSING_RUNNING_STATS`)
   */
  runningMean?: TensorLike | undefined;
  /**
   * Per-channel running variance, C elements. Required in inference (read); optional in training, where
   * it is updated in place with the unbiased batch variance (see `unbiasedRunningVar`).
   * @defaultValue none (inference without it throws `MISSING_RUNNING_STATS`)
   */
  runningVar?: TensorLike | undefined;
  /**
   * `false`: inference, normalize with `runningMean`/`runningVar`. `true`: normalize with the batch's
   * mean and biased variance, and update the running buffers when given.
   * @defaultValue `false`
   */
  training?: boolean | undefined;
  /**
   * Weight of the batch statistic in the running update, in `[0, 1]` (PyTorch's convention:
   * `r = (1 - momentum) * r + momentum * batchStat`). ONNX's momentum `m` is `1 - m` here. Validated
   * even in inference, where it is unused.
   * @defaultValue `0.1`
   */
  momentum?: number | undefined;
  /**
   * Store the unbiased (`n / (n - 1)`) batch variance in `runningVar` (PyTorch); `false` stores the
   * biased one (ONNX). The batch is always normalized with the biased variance.
   * @defaultValue `true`
   */
  unbiasedRunningVar?: boolean | undefined;
  /**
   * Added to the variance before the square root: `1 / sqrt(var + eps)`. A finite number >= 0.
   * @defaultValue `1e-5`
   */
  eps?: number | undefined;
  /**
   * Receives the output and is returned; `x.length` elements. May be `x` itself (in place).
   * @defaultValue none: a new `Float32Array` is returned
   */
  out?: TensorLike | undefined;
}

/** Options of `instanceNorm(x, shape, options)` and `groupNorm(x, shape, numGroups, options)`. */
export interface ChannelNormOptions {
  /**
   * Where the channel axis is: `'NCHW'` (`[N, C, ...spatial]`) or `'NHWC'` (`[N, ...spatial, C]`).
   * @defaultValue `'NCHW'`
   */
  layout?: Layout | undefined;
  /**
   * Per-channel scale, C elements (also for groupNorm: ONNX GroupNormalization-21 and PyTorch).
   * @defaultValue none: a scale of 1
   */
  weight?: TensorLike | undefined;
  /**
   * Per-channel shift, C elements.
   * @defaultValue none: a shift of 0
   */
  bias?: TensorLike | undefined;
  /**
   * Added to the variance before the square root: `1 / sqrt(var + eps)`. A finite number >= 0.
   * @defaultValue `1e-5`
   */
  eps?: number | undefined;
  /**
   * Receives the output and is returned; `x.length` elements. May be `x` itself (in place).
   * @defaultValue none: a new `Float32Array` is returned
   */
  out?: TensorLike | undefined;
}

/**
 * Options of `adaIN(content, contentShape, style, styleShape, options)`: each content plane takes the
 * standard deviation and mean of the matching style plane.
 */
export interface AdaINOptions {
  /**
   * Where the channel axis is, for both content and style: `'NCHW'` or `'NHWC'`.
   * @defaultValue `'NCHW'`
   */
  layout?: Layout | undefined;
  /**
   * Added to both variances before the square root: `sigma = sqrt(var + eps)`. A finite number >= 0.
   * @defaultValue `1e-5`
   */
  eps?: number | undefined;
  /**
   * Receives the output and is returned; `content.length` elements. May be `content` itself.
   * @defaultValue none: a new `Float32Array` is returned
   */
  out?: TensorLike | undefined;
}
