import type { Tensor, TensorArray } from './memory.js';

// Every option below may be left out or set to `undefined`, which both mean "not given" (the default
// applies). `| undefined` is spelled out so that projects with `exactOptionalPropertyTypes` can pass
// `{ weight: maybeUndefined }`. `null` is a value of the wrong type, never "not given". An option name an
// op does not take is refused (`UNKNOWN_OPTION`).

/** How a Tensor stores its elements: IEEE float32, IEEE float16 (binary16) or bfloat16. */
export type Dtype = 'float32' | 'float16' | 'bfloat16';

/** The half-precision dtypes: what the `dtype` option says a `Uint16Array`'s bits are. */
export type HalfDtype = 'float16' | 'bfloat16';

/**
 * A `Float16Array` (ES2025: Chromium and Node 24 have it, Node 20 does not), typed by its shape so that
 * normkit's declarations need no ES2025 library.
 */
export interface Float16ArrayLike extends ArrayBufferView {
  readonly length: number;
  readonly BYTES_PER_ELEMENT: number;
  readonly [Symbol.toStringTag]: 'Float16Array';
  slice(): Float16ArrayLike;
  [index: number]: number;
}

/**
 * A tensor argument: a plain `Float32Array` (copied through wasm scratch memory on each call), a
 * `Uint16Array` of float16 or bfloat16 bits (as the `dtype` option says), a `Float16Array`, or a
 * wasm-resident {@link Tensor} from `tensor()` of any dtype. Mix them freely; the maths is float32.
 */
export type TensorLike = Float32Array | Uint16Array | Float16ArrayLike | Tensor<Dtype>;

/** The array type of an argument: what an op returns for it. */
export type ArrayOf<A> = A extends Tensor<infer D>
  ? TensorArray<D>
  : A extends Float16ArrayLike ? A : A extends Uint16Array ? Uint16Array<ArrayBuffer> : Float32Array<ArrayBuffer>;

/**
 * What an op returns: `out` when it is given, else a new array of x's type. Where the type of `out` is not
 * known more precisely than TensorLike (an options object typed as such), x's type is assumed.
 */
export type Output<X, O> = undefined extends O ? ArrayOf<X> : TensorLike extends O ? ArrayOf<X> : ArrayOf<O>;

/**
 * Where the channel axis is: `'NCHW'` is `[N, C, ...spatial]` (PyTorch's default), `'NHWC'` is
 * `[N, ...spatial, C]` (channels-last). A 2-D `[N, C]` tensor reads the same in both.
 */
export type Layout = 'NCHW' | 'NHWC';

/**
 * An elementwise function applied to the output after the affine, in the same pass: `'relu'`,
 * `'silu'` (x · sigmoid(x)), `'gelu'` (the exact erf form, PyTorch's default) or `'gelu_tanh'`
 * (PyTorch's `approximate='tanh'`).
 */
export type Activation = 'relu' | 'silu' | 'gelu' | 'gelu_tanh';

/** Options every op takes. */
export interface CommonOptions {
  /**
   * What the `Uint16Array` arguments hold: float16 or bfloat16 bits. Required when any argument is a
   * `Uint16Array`; half-precision Tensors and a `Float16Array` must agree with it. One half dtype per call.
   * @defaultValue none: the half-precision dtype of the call's Tensors, if any
   */
  dtype?: HalfDtype | undefined;
  /**
   * Added to the variance before the square root: `1 / sqrt(var + eps)`. A finite number >= 0.
   * @defaultValue `1e-5`
   */
  eps?: number | undefined;
  /**
   * Receives the output and is returned; `x.length` elements, of any dtype. May be `x` itself (in place).
   * @defaultValue none: a new array of x's type is returned (a `Uint16Array` for a half-precision Tensor)
   */
  out?: TensorLike | undefined;
  /**
   * Applied to the output after the affine, in the same pass (GroupNorm + SiLU of diffusion UNets).
   * @defaultValue none
   */
  activation?: Activation | undefined;
  /**
   * A skip connection: the op normalizes `x + residual (+ inputBias)` (onnxruntime's
   * SkipLayerNormalization and SkipGroupNorm). Shaped like x, or as `residualShape` says.
   * @defaultValue none
   */
  residual?: TensorLike | undefined;
  /**
   * The shape of `residual`, broadcast against x's shape by numpy's rules (right-aligned, each dimension
   * equal or 1), say `[1, S, H]` or `[S, H]` for x `[B, S, H]`. Over the normalized axes of layerNorm and
   * rmsNorm it must equal x's; over the spatial axes of the channel ops it must equal x's or be all 1.
   * @defaultValue x's shape
   */
  residualShape?: readonly number[] | undefined;
  /**
   * Added to `x + residual` before normalizing, and included in `sumOut` (the `bias` input of
   * onnxruntime's SkipLayerNormalization and SkipGroupNorm).
   * @defaultValue none
   */
  inputBias?: TensorLike | undefined;
  /**
   * The shape of `inputBias`, broadcast against x's shape as `residualShape` is.
   * @defaultValue the group's shape (layerNorm, rmsNorm), `[C]` per channel (channel ops)
   */
  inputBiasShape?: readonly number[] | undefined;
  /**
   * Receives the sum the op normalized, `x + residual + inputBias`; only with `residual` or `inputBias`.
   * `x.length` elements.
   * @defaultValue none: the sum is not stored
   */
  sumOut?: TensorLike | undefined;
}

/** The scale and shift of the ops that have them. */
export interface AffineOptions {
  /**
   * Scale (PyTorch's `weight`, ONNX's `Scale`). Its shape is the group's shape (layerNorm, rmsNorm) or
   * `[C]` (channel ops), unless `weightShape` says otherwise.
   * @defaultValue none: a scale of 1
   */
  weight?: TensorLike | undefined;
  /**
   * The shape of `weight`, broadcast against x's shape by numpy's rules: a scalar `[1]`, `[1, C, 1, 1]`
   * inside a LayerNorm group, a per-sample `[B, 1, H]` modulation (AdaLN), per-(sample, channel)
   * `[N, C, 1, 1]` for the channel ops (which take no scale that varies over the spatial axes).
   * @defaultValue the group's shape (layerNorm, rmsNorm), `[C]` (channel ops)
   */
  weightShape?: readonly number[] | undefined;
}

/** The shift of the ops that have one. */
export interface BiasOptions {
  /**
   * Shift (ONNX's `B`). Its shape is the group's shape (layerNorm) or `[C]` (channel ops), unless
   * `biasShape` says otherwise.
   * @defaultValue none: a shift of 0
   */
  bias?: TensorLike | undefined;
  /**
   * The shape of `bias`, broadcast against x's shape as `weightShape` is.
   * @defaultValue the group's shape (layerNorm), `[C]` (channel ops)
   */
  biasShape?: readonly number[] | undefined;
}

/** Per-group statistics outputs. */
export interface StatsOptions {
  /**
   * Receives each group's mean (ONNX LayerNormalization's second output, PyTorch's `save_mean`): one
   * value per row (layerNorm), per (sample, group) (instanceNorm, groupNorm, adaIN: the content's), per
   * channel (batchNorm training).
   * @defaultValue none: not stored
   */
  mean?: TensorLike | undefined;
  /**
   * Receives each group's `1 / sqrt(var + eps)` (ONNX's third output, PyTorch's `save_invstd`), one
   * value per group as `mean`.
   * @defaultValue none: not stored
   */
  invStd?: TensorLike | undefined;
}

/** Options of `layerNorm(x, shape, options)`. */
export interface LayerNormOptions extends CommonOptions, AffineOptions, BiasOptions, StatsOptions {
  /**
   * First normalized axis (ONNX): one group is the axes `axis..rank-1` of one sample; negative counts
   * from the end. PyTorch's `normalized_shape` is `shape.slice(axis)`.
   * @defaultValue `-1` (the last axis)
   */
  axis?: number | undefined;
}

/** Options of `rmsNorm(x, shape, options)`: `y = x / sqrt(mean(x²) + eps) * weight`. No bias, no mean. */
export interface RmsNormOptions extends CommonOptions, AffineOptions {
  /**
   * First normalized axis (ONNX RMSNormalization): one group is the axes `axis..rank-1` of one sample;
   * negative counts from the end.
   * @defaultValue `-1` (the last axis)
   */
  axis?: number | undefined;
  /**
   * Receives each row's `1 / sqrt(mean(x²) + eps)` (SimplifiedLayerNormalization's inverse RMS).
   * @defaultValue none: not stored
   */
  invStd?: TensorLike | undefined;
}

/** The channel layout option of the channel ops. */
export interface LayoutOptions {
  /**
   * Where the channel axis is: `'NCHW'` (`[N, C, ...spatial]`) or `'NHWC'` (`[N, ...spatial, C]`).
   * @defaultValue `'NCHW'`
   */
  layout?: Layout | undefined;
}

/**
 * Options of `batchNorm(x, shape, options)`. Inference (the default) normalizes with `runningMean` and
 * `runningVar`; training normalizes with the batch's statistics and updates the running ones (PyTorch).
 * `mean`/`invStd` are training's batch statistics per channel (inference computes none).
 */
export interface BatchNormOptions extends CommonOptions, AffineOptions, BiasOptions, StatsOptions, LayoutOptions {
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
}

/** Options of `instanceNorm(x, shape, options)` and `groupNorm(x, shape, numGroups, options)`. */
export interface ChannelNormOptions extends CommonOptions, AffineOptions, BiasOptions, StatsOptions, LayoutOptions {}

/**
 * Options of `adaIN(content, contentShape, style, styleShape, options)`: each content plane takes the
 * standard deviation and mean of the matching style plane (`eps` is added to both variances).
 */
export interface AdaINOptions extends CommonOptions, StatsOptions, LayoutOptions {}
