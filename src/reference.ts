/**
 * Plain float64 reference implementation of every normkit op, used by the tests and the benchmark.
 *
 * Deliberately simple: each op only decides which *group* every element belongs to; every other per-element
 * operand (weight, bias, residual, inputBias) is expanded to x's length by numpy's broadcasting rules; one
 * shared two-pass routine computes each group's mean and biased variance in float64, and one shared routine
 * writes `y = act((s - mean) * rstd * weight + bias)`.
 *
 * Semantics shared with the wasm kernels:
 * - `rstd = 1 / sqrt(var + eps)`, `var` biased (divide by n).
 * - An element equal to its group's mean gives exactly `bias` (0 without bias), even when
 *   `var + eps == 0` (constant group with eps = 0) where the formula would give 0 * Inf; the activation
 *   is then applied to it.
 * - A group holding any NaN or +-Inf gives NaN for all of its outputs and a NaN variance (its mean is
 *   what IEEE arithmetic gives: +-Inf or NaN); other groups are unaffected.
 * - Skip inputs (issue 10): the op normalizes the float32 sum
 *   `s = fround(fround(x + residual) + inputBias)` (float32 rounding after each add that happens, as normkit
 *   computes it), with residual and inputBias broadcast to x's shape; that sum is what `sumOut` receives
 *   (onnxruntime's SkipLayerNormalization / SkipGroupNorm). The statistics are those of `s`.
 * - Shapes (issue 10): `weightShape`, `biasShape`, `residualShape` and `inputBiasShape` broadcast to x's
 *   shape by numpy's rules (right-aligned; each dimension equal to x's or 1; no more axes than x). The
 *   defaults: residual x's shape; weight, bias and inputBias the group's shape (layerNorm,
 *   rmsNorm: `shape.slice(axis)`) or one value per channel (channel ops: `[C]` indexed by the channel, that is
 *   `[C, 1, ..., 1]` in NCHW). The reference takes every broadcastable shape: the restrictions normkit adds
 *   (no weight varying over the spatial axes of the channel ops, no residual varying less than x over the
 *   normalized axes of the row ops) are normkit's validation, not a change of meaning.
 * - `activation` (issue 10) is applied last, in float64: relu `max(0, y)` (NaN stays NaN), silu
 *   `y * sigmoid(y)`, gelu `0.5 y (1 + erf(y / sqrt 2))` (exact, via erfc where it cancels), gelu_tanh
 *   `0.5 y (1 + tanh(sqrt(2 / pi) (y + 0.044715 y^3)))`; at -Inf the limits (-0), at +Inf +Inf.
 *
 * Inputs are never modified; outputs are fresh Float64Arrays.
 */

export type Layout = 'NCHW' | 'NHWC';
export type Vec = ArrayLike<number>;
export type Activation = 'relu' | 'silu' | 'gelu' | 'gelu_tanh';

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

// ---------------------------------------------------------------------------------------------------------
// Error function and activations.

// W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23 (1969) 631-638,
// the coefficients of his CALERF (netlib specfun): relative error below ~1e-16 before rounding, on three
// intervals: erf on |x| <= 0.46875, erfc on 0.46875 < |x| <= 4 and on |x| > 4.
const ERF_A = [3.1611237438705656, 113.864154151050156, 377.485237685302021, 3209.37758913846947, 0.185777706184603153];
const ERF_B = [23.6012909523441209, 244.024637934444173, 1282.61652607737228, 2844.23683343917062];
const ERF_C = [
  0.564188496988670089, 8.88314979438837594, 66.1191906371416295, 298.635138197400131, 881.95222124176909,
  1712.04761263407058, 2051.07837782607147, 1230.33935479799725, 2.15311535474403846e-8,
];
const ERF_D = [
  15.7449261107098347, 117.693950891312499, 537.181101862009858, 1621.38957456669019, 3290.79923573345963,
  4362.61909014324716, 3439.36767414372164, 1230.33935480374942,
];
const ERF_P = [
  0.305326634961232344, 0.360344899949804439, 0.125781726111229246, 0.0160837851487422766,
  6.58749161529837803e-4, 0.0163153871373020978,
];
const ERF_Q = [2.56852019228982242, 1.87295284992346047, 0.527905102951428412, 0.0605183413124413191, 0.00233520497626869185];
const ONE_OVER_SQRT_PI = 0.56418958354775628695;

/** erf(x) for |x| <= 0.46875. */
function erfSmall(x: number): number {
  const y = Math.abs(x);
  const z = y > 1.11e-16 ? y * y : 0;
  let num = ERF_A[4] * z;
  let den = z;
  for (let i = 0; i < 3; i++) {
    num = (num + ERF_A[i]) * z;
    den = (den + ERF_B[i]) * z;
  }
  return (x * (num + ERF_A[3])) / (den + ERF_B[3]);
}

/** erfc(y) for y > 0.46875 (exp(-y^2) split so that its rounding error stays small). */
function erfcLarge(y: number): number {
  let r: number;
  if (y <= 4) {
    let num = ERF_C[8] * y;
    let den = y;
    for (let i = 0; i < 7; i++) {
      num = (num + ERF_C[i]) * y;
      den = (den + ERF_D[i]) * y;
    }
    r = (num + ERF_C[7]) / (den + ERF_D[7]);
  } else {
    if (y >= 26.7) return 0; // erfc(26.7) < 2^-1074
    const z = 1 / (y * y);
    let num = ERF_P[5] * z;
    let den = z;
    for (let i = 0; i < 4; i++) {
      num = (num + ERF_P[i]) * z;
      den = (den + ERF_Q[i]) * z;
    }
    r = (z * (num + ERF_P[4])) / (den + ERF_Q[4]);
    r = (ONE_OVER_SQRT_PI - r) / y;
  }
  const ysq = Math.trunc(16 * y) / 16;
  const del = (y - ysq) * (y + ysq);
  return Math.exp(-ysq * ysq) * Math.exp(-del) * r;
}

/** The error function in float64 (Cody's rational approximations, about 1e-16 relative). */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const y = Math.abs(x);
  if (y <= 0.46875) return erfSmall(x);
  const r = 1 - erfcLarge(y);
  return x < 0 ? -r : r;
}

/** The complementary error function 1 - erf(x) in float64, accurate in relative terms for large x too. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const y = Math.abs(x);
  if (y <= 0.46875) return 1 - erfSmall(x);
  const r = erfcLarge(y);
  return x < 0 ? 2 - r : r;
}

/** One activation of a float64 value (see the module comment). */
export function activate(name: Activation, y: number): number {
  switch (name) {
    case 'relu':
      return y > 0 ? y : Number.isNaN(y) ? NaN : 0;
    case 'silu':
      // y * sigmoid(y); y / (1 + e^-y) overflows to y / Inf = -0 for very negative y (the limit).
      if (y === -Infinity) return -0;
      return y / (1 + Math.exp(-y));
    case 'gelu':
      // 0.5 y (1 + erf(y / sqrt 2)) = 0.5 y erfc(-y / sqrt 2), which does not cancel for negative y.
      if (y === -Infinity) return -0;
      return 0.5 * y * erfc(-y / Math.SQRT2);
    case 'gelu_tanh': {
      // 0.5 y (1 + tanh(u)) = y / (1 + e^(-2u)), the same without the cancellation for negative y.
      if (y === -Infinity) return -0;
      if (y === Infinity) return Infinity;
      const u = Math.sqrt(2 / Math.PI) * (y + 0.044715 * y * y * y);
      return y / (1 + Math.exp(-2 * u));
    }
    default:
      throw new Error(`reference: unknown activation ${String(name)}`);
  }
}

/** The activation applied in place to every element (nothing without one). */
function activateAll(y: Float64Array, name: Activation | undefined): Float64Array {
  if (name !== undefined) for (let i = 0; i < y.length; i++) y[i] = activate(name, y[i]);
  return y;
}

// ---------------------------------------------------------------------------------------------------------
// Broadcasting.

/**
 * Element i of x -> index into an operand of shape `argShape` broadcast to `xShape` by numpy's rules
 * (`np.broadcast_to`: right-aligned, each dimension equal to x's or 1, no more axes than x). Throws otherwise.
 */
export function broadcastIndex(argShape: readonly number[], xShape: readonly number[], name = 'operand'): Int32Array {
  const rank = xShape.length;
  if (argShape.length > rank) throw new Error(`reference: ${name} shape [${argShape}] has more axes than x [${xShape}]`);
  const dims = argShape;
  const offset = rank - dims.length;
  // Stride of each of x's axes in the operand (0 where it is broadcast).
  const strides = new Array<number>(rank).fill(0);
  let stride = 1;
  for (let k = rank - 1; k >= offset; k--) {
    const d = dims[k - offset];
    if (d !== xShape[k] && d !== 1) throw new Error(`reference: ${name} shape [${argShape}] does not broadcast to [${xShape}]`);
    strides[k] = d === 1 ? 0 : stride;
    stride *= d;
  }
  const len = size(xShape);
  const index = new Int32Array(len);
  const counter = new Array<number>(rank).fill(0);
  let at = 0;
  for (let i = 0; i < len; i++) {
    index[i] = at;
    for (let k = rank - 1; k >= 0; k--) {
      counter[k]++;
      at += strides[k];
      if (counter[k] < xShape[k]) break;
      at -= strides[k] * counter[k];
      counter[k] = 0;
    }
  }
  return index;
}

/** `arg` (of shape `argShape`, whose product must be its length) broadcast to x's shape, in float64. */
export function expand(arg: Vec, argShape: readonly number[], xShape: readonly number[], name = 'operand'): Float64Array {
  if (arg.length !== size(argShape)) {
    throw new Error(`reference: ${name} has length ${arg.length}, its shape [${argShape}] needs ${size(argShape)}`);
  }
  const index = broadcastIndex(argShape, xShape, name);
  return Float64Array.from(index, (k) => arg[k]);
}

/** An optional operand expanded to x's shape, from its own shape or the op's default one. */
function operand(arg: Vec | undefined, given: readonly number[] | undefined, fallback: readonly number[], xShape: readonly number[], name: string) {
  return arg === undefined ? undefined : expand(arg, given ?? fallback, xShape, name);
}

/**
 * The sum the op normalizes: `fround(fround(x + residual) + inputBias)`, each add (and its rounding) only
 * when the operand is given; x itself (not a copy) without either.
 */
function skipSum(x: Vec, residual?: Float64Array, inputBias?: Float64Array): Vec {
  if (!residual && !inputBias) return x;
  return Float64Array.from(x, (v, i) => {
    let s = v;
    if (residual) s = Math.fround(s + residual[i]);
    if (inputBias) s = Math.fround(s + inputBias[i]);
    return s;
  });
}

// ---------------------------------------------------------------------------------------------------------
// Grouping, statistics and the apply pass.

/** Per-element group id (`group[i]` in [0, count)). */
interface Grouping {
  count: number;
  group: Int32Array;
}

/** Batch index, channel index and group count for a channel-layout tensor; `paramShape` is `[C]` per channel. */
function channels(shape: readonly number[], layout: Layout) {
  if (shape.length < 2) throw new Error(`reference: rank ${shape.length} < 2`);
  const N = shape[0];
  const C = layout === 'NCHW' ? shape[1] : shape[shape.length - 1];
  const S = size(layout === 'NCHW' ? shape.slice(2) : shape.slice(1, -1));
  const len = size(shape);
  const n = new Int32Array(len);
  const c = new Int32Array(len);
  for (let i = 0; i < len; i++) {
    n[i] = Math.floor(i / (C * S));
    c[i] = layout === 'NCHW' ? Math.floor(i / S) % C : i % C;
  }
  // One value per channel, as a numpy shape: [C, 1, ..., 1] (NCHW, aligned on axis 1) or [C] (NHWC).
  const paramShape = layout === 'NCHW' ? [C, ...Array<number>(shape.length - 2).fill(1)] : [C];
  return { N, C, S, n, c, len, paramShape };
}

/** Trailing-axes grouping of layerNorm / rmsNorm: one group per index of shape[0..axis). */
function rows(shape: readonly number[], axis: number) {
  const rank = shape.length;
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new Error(`reference: bad axis ${axis} for rank ${rank}`);
  const inner = size(shape.slice(a));
  const count = size(shape.slice(0, a));
  const len = size(shape);
  const group = new Int32Array(len);
  for (let i = 0; i < len; i++) group[i] = Math.floor(i / inner);
  return { count, group, groupShape: shape.slice(a) } as Grouping & { groupShape: number[] };
}

/**
 * Two-pass float64 statistics of each group: mean and biased variance of `x - mean`
 * (or, with `centered = false`, the mean square of x, for RMSNorm). A group holding a non-finite value
 * is flagged `bad`: its variance is NaN and its mean whatever IEEE arithmetic gives (+-Inf or NaN).
 */
function stats(x: Vec, g: Grouping, centered = true) {
  const n = new Float64Array(g.count);
  const mean = new Float64Array(g.count);
  const variance = new Float64Array(g.count);
  const bad = new Uint8Array(g.count);
  for (let i = 0; i < x.length; i++) {
    const k = g.group[i];
    n[k] += 1;
    mean[k] += x[i];
    if (!Number.isFinite(x[i])) bad[k] = 1;
  }
  for (let k = 0; k < g.count; k++) mean[k] = centered ? mean[k] / n[k] : 0;
  for (let i = 0; i < x.length; i++) {
    const d = x[i] - mean[g.group[i]];
    variance[g.group[i]] += d * d;
  }
  for (let k = 0; k < g.count; k++) variance[k] = bad[k] ? NaN : variance[k] / n[k];
  return { mean, variance, bad };
}

const rstdOf = (variance: Vec, eps: number) => Float64Array.from(variance, (v) => 1 / Math.sqrt(v + eps));

/**
 * `y = act((x - mean[g]) * scale[g] * weight[i] + bias[i])` with weight and bias already expanded to x's
 * length; exactly `act(bias[i])` where x equals the mean; NaN throughout a group flagged in `bad` (one
 * holding a NaN or +-Inf).
 */
interface Affine {
  weight?: Float64Array;
  bias?: Float64Array;
  bad?: Uint8Array;
  activation?: Activation;
}

function apply(x: Vec, g: Grouping, mean: Vec, scale: Vec, affine: Affine): Float64Array {
  const { weight, bias, bad, activation } = affine;
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const k = g.group[i];
    const b = bias ? bias[i] : 0;
    const d = x[i] - mean[k];
    y[i] = bad?.[k] ? NaN : d === 0 ? b : d * scale[k] * (weight ? weight[i] : 1) + b;
  }
  return activateAll(y, activation);
}

// ---------------------------------------------------------------------------------------------------------
// Options.

/** Options every reference op takes (issue 10). */
export interface RefCommonOptions {
  eps?: number;
  /** Applied last, in float64. */
  activation?: Activation;
  /** Added to x (float32 sum); shaped like x unless `residualShape` says otherwise. */
  residual?: Vec;
  residualShape?: readonly number[];
  /** Added to `x + residual` (float32 sum); the group's shape (row ops) or per channel unless `inputBiasShape`. */
  inputBias?: Vec;
  inputBiasShape?: readonly number[];
}

/** Scale and shift, broadcast from their shapes (defaults: the group's shape, or per channel). */
export interface RefAffineOptions {
  weight?: Vec;
  weightShape?: readonly number[];
  bias?: Vec;
  biasShape?: readonly number[];
}

/** Everything an op computes: y, the sum it normalized, and its per-group statistics (when it has them). */
export interface RefResult {
  y: Float64Array;
  /** The normalized input `s` (x itself, as float64, without residual and inputBias). */
  sum: Float64Array;
  /** Per group (rmsNorm: none; batchNorm inference: none). */
  mean?: Float64Array;
  /** `1 / sqrt(var + eps)` per group (rmsNorm: `1 / sqrt(mean(s^2) + eps)`; batchNorm inference: none). */
  invStd?: Float64Array;
}

/** The skip sum and the expanded affine of a call, from the op's default shapes. */
function prepare(
  x: Vec, shape: readonly number[], o: RefCommonOptions & RefAffineOptions, paramShape: readonly number[],
) {
  if (x.length !== size(shape)) throw new Error(`reference: x has length ${x.length}, shape [${shape}] needs ${size(shape)}`);
  const residual = operand(o.residual, o.residualShape, shape, shape, 'residual');
  const inputBias = operand(o.inputBias, o.inputBiasShape, paramShape, shape, 'inputBias');
  return {
    input: skipSum(x, residual, inputBias),
    weight: operand(o.weight, o.weightShape, paramShape, shape, 'weight'),
    bias: operand(o.bias, o.biasShape, paramShape, shape, 'bias'),
  };
}

// ---------------------------------------------------------------------------------------------------------
// The ops.

export interface RefLayerNormOptions extends RefCommonOptions, RefAffineOptions {
  axis?: number;
}

/** LayerNorm over axes `axis..rank-1`; also returns the per-group mean, invStd and the normalized sum. */
export function refLayerNorm(x: Vec, shape: readonly number[], opts: RefLayerNormOptions = {}) {
  const { axis = -1, eps = 1e-5 } = opts;
  const g = rows(shape, axis);
  const { input, weight, bias } = prepare(x, shape, opts, g.groupShape);
  const { mean, variance, bad } = stats(input, g);
  const invStd = rstdOf(variance, eps);
  const y = apply(input, g, mean, invStd, { weight, bias, bad, activation: opts.activation });
  return { y, mean, invStd, sum: Float64Array.from(input) };
}

export interface RefRmsNormOptions extends RefCommonOptions, Omit<RefAffineOptions, 'bias' | 'biasShape'> {
  axis?: number;
}

/** RMSNorm with every output: y, invStd `1 / sqrt(mean(s^2) + eps)` per row, and the normalized sum. */
export function refRmsNormFull(x: Vec, shape: readonly number[], opts: RefRmsNormOptions = {}): RefResult {
  const { axis = -1, eps = 1e-5 } = opts;
  const g = rows(shape, axis);
  const { input, weight } = prepare(x, shape, { ...opts, bias: undefined }, g.groupShape);
  const { mean, variance, bad } = stats(input, g, false);
  const invStd = rstdOf(variance, eps);
  return { y: apply(input, g, mean, invStd, { weight, bad, activation: opts.activation }), invStd, sum: Float64Array.from(input) };
}

/** RMSNorm: `y = x / sqrt(mean(x^2) + eps) * weight` over axes `axis..rank-1` (a zero element stays 0). */
export function refRmsNorm(x: Vec, shape: readonly number[], opts: RefRmsNormOptions = {}): Float64Array {
  return refRmsNormFull(x, shape, opts).y;
}

export interface RefBatchNormOptions extends RefCommonOptions, RefAffineOptions {
  layout?: Layout;
  runningMean?: Vec;
  runningVar?: Vec;
  training?: boolean;
  momentum?: number;
  unbiasedRunningVar?: boolean;
}

/**
 * BatchNorm (PyTorch semantics). Inference normalizes with runningMean/runningVar. Training uses the
 * batch mean and biased variance per channel (returned as `mean`, `variance` and `invStd`
 * `1 / sqrt(variance + eps)`) and returns the updated running statistics (when given)
 * `(1 - momentum) * r + momentum * stat`, with the unbiased variance if `unbiasedRunningVar`.
 */
export function refBatchNorm(x: Vec, shape: readonly number[], opts: RefBatchNormOptions = {}) {
  const { layout = 'NCHW', runningMean, runningVar, training = false } = opts;
  const { momentum = 0.1, unbiasedRunningVar = true, eps = 1e-5 } = opts;
  const { C, c, len, paramShape } = channels(shape, layout);
  const { input, weight, bias } = prepare(x, shape, opts, paramShape);
  const g: Grouping = { count: C, group: c };
  const sum = Float64Array.from(input);
  if (!training) {
    if (!runningMean || !runningVar) throw new Error('reference: batchNorm inference needs running stats');
    return { y: apply(input, g, runningMean, rstdOf(runningVar, eps), { weight, bias, activation: opts.activation }), sum };
  }
  const { mean, variance, bad } = stats(input, g);
  const invStd = rstdOf(variance, eps);
  const y = apply(input, g, mean, invStd, { weight, bias, bad, activation: opts.activation });
  const n = len / C;
  const update = (r: Vec | undefined, stat: Vec) =>
    r && Float64Array.from(r, (v, k) => (1 - momentum) * v + momentum * stat[k]);
  const varStat = unbiasedRunningVar ? variance.map((v) => (v * n) / (n - 1)) : variance;
  return { y, runningMean: update(runningMean, mean), runningVar: update(runningVar, varStat), mean, variance, invStd, sum };
}

export interface RefChannelNormOptions extends RefCommonOptions, RefAffineOptions {
  layout?: Layout;
}

/** InstanceNorm with every output: mean and invStd per (sample, channel), index n * C + c. */
export function refInstanceNormFull(x: Vec, shape: readonly number[], opts: RefChannelNormOptions = {}): RefResult {
  const C = opts.layout === 'NHWC' ? shape[shape.length - 1] : shape[1];
  return refGroupNormFull(x, shape, Math.max(C, 1), opts);
}

/** InstanceNorm: per (sample, channel) over the spatial axes; per-channel weight/bias. */
export function refInstanceNorm(x: Vec, shape: readonly number[], opts: RefChannelNormOptions = {}): Float64Array {
  return refInstanceNormFull(x, shape, opts).y;
}

/** GroupNorm with every output: mean and invStd per (sample, group), index n * numGroups + g. */
export function refGroupNormFull(
  x: Vec,
  shape: readonly number[],
  numGroups: number,
  opts: RefChannelNormOptions = {},
): RefResult {
  const { layout = 'NCHW', eps = 1e-5 } = opts;
  const { C, n, c, paramShape } = channels(shape, layout);
  if (!(numGroups > 0) || C % numGroups !== 0) throw new Error(`reference: ${numGroups} groups for ${C} channels`);
  const { input, weight, bias } = prepare(x, shape, opts, paramShape);
  const perGroup = C / numGroups;
  const group = n.map((nn, i) => nn * numGroups + Math.floor(c[i] / perGroup));
  const g: Grouping = { count: shape[0] * numGroups, group };
  const { mean, variance, bad } = stats(input, g);
  const invStd = rstdOf(variance, eps);
  return { y: apply(input, g, mean, invStd, { weight, bias, bad, activation: opts.activation }), mean, invStd, sum: Float64Array.from(input) };
}

/** GroupNorm: per (sample, group of C/numGroups consecutive channels); per-channel weight/bias. */
export function refGroupNorm(
  x: Vec,
  shape: readonly number[],
  numGroups: number,
  opts: RefChannelNormOptions = {},
): Float64Array {
  return refGroupNormFull(x, shape, numGroups, opts).y;
}

export interface RefAdaINOptions extends RefCommonOptions {
  layout?: Layout;
}

/**
 * AdaIN with every output: `y = act(sigma_s * (s - mu_c) / sigma_c + mu_s)` per (sample, channel) of the
 * content sum s, sigma = sqrt(var_biased + eps) for content and style; style batch is the content's or 1
 * (broadcast); spatial sizes may differ. `mean` and `invStd` are the content's (of s), index n * C + c.
 */
export function refAdaINFull(
  content: Vec,
  contentShape: readonly number[],
  style: Vec,
  styleShape: readonly number[],
  opts: RefAdaINOptions = {},
): RefResult {
  const { layout = 'NCHW', eps = 1e-5 } = opts;
  const cc = channels(contentShape, layout);
  const sc = channels(styleShape, layout);
  const { input } = prepare(content, contentShape, opts, cc.paramShape);
  const plane = (ch: typeof cc): Grouping => ({ count: ch.N * ch.C, group: ch.n.map((nn, i) => nn * ch.C + ch.c[i]) });
  const gc = plane(cc);
  const content_ = stats(input, gc);
  const style_ = stats(style, plane(sc));
  const styleIndex = (k: number) => (sc.N === 1 ? k % cc.C : k);
  const sigma = (v: number) => Math.sqrt(v + eps);
  const scale = content_.variance.map((v, k) => sigma(style_.variance[styleIndex(k)]) / sigma(v));
  const shift = Float64Array.from(gc.group, (k) => style_.mean[styleIndex(k)]);
  const bad = content_.bad.map((b, k) => b | style_.bad[styleIndex(k)]);
  const y = apply(input, gc, content_.mean, scale, { bias: shift, bad, activation: opts.activation });
  return { y, mean: content_.mean, invStd: rstdOf(content_.variance, eps), sum: Float64Array.from(input) };
}

/**
 * AdaIN: `y = sigma_s * (x - mu_c) / sigma_c + mu_s` per (sample, channel), sigma = sqrt(var_biased + eps)
 * for content and style; style batch is the content's or 1 (broadcast); spatial sizes may differ.
 */
export function refAdaIN(
  content: Vec,
  contentShape: readonly number[],
  style: Vec,
  styleShape: readonly number[],
  opts: RefAdaINOptions = {},
): Float64Array {
  return refAdaINFull(content, contentShape, style, styleShape, opts).y;
}
