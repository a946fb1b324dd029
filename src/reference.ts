/**
 * Plain float64 reference implementation of every normkit op, used by the tests and the benchmark.
 *
 * Deliberately simple: each op only decides which *group* every element belongs to and which
 * weight/bias entry it uses; one shared two-pass routine computes each group's mean and biased
 * variance in float64, and one shared routine writes `y = (x - mean) * rstd * weight + bias`.
 *
 * Semantics shared with the wasm kernels:
 * - `rstd = 1 / sqrt(var + eps)`, `var` biased (divide by n).
 * - An element equal to its group's mean gives exactly `bias` (0 without bias), even when
 *   `var + eps == 0` (constant group with eps = 0) where the formula would give 0 * Inf.
 * - A group holding any NaN or +-Inf gives NaN for all of its outputs and a NaN variance (its mean is
 *   what IEEE arithmetic gives: +-Inf or NaN); other groups are unaffected.
 * - `residual`: the op normalizes the float32 sum `fround(x + residual)`, which is what it stores in
 *   `sumOut` (as onnxruntime's SkipLayerNormalization does).
 *
 * Inputs are never modified; outputs are fresh Float64Arrays.
 */

export type Layout = 'NCHW' | 'NHWC';
export type Vec = ArrayLike<number>;

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Per-element group id (`group[i]` in [0, count)) and weight/bias index (`param[i]`). */
interface Grouping {
  count: number;
  group: Int32Array;
  param: Int32Array;
}

/** Batch index, channel index and group count for a channel-layout tensor. */
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
  return { N, C, S, n, c, len };
}

/** Trailing-axes grouping of layerNorm / rmsNorm: one group per index of shape[0..axis). */
function rows(shape: readonly number[], axis: number): Grouping {
  const rank = shape.length;
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new Error(`reference: bad axis ${axis} for rank ${rank}`);
  const inner = size(shape.slice(a));
  const count = size(shape.slice(0, a));
  const len = size(shape);
  const group = new Int32Array(len);
  const param = new Int32Array(len);
  for (let i = 0; i < len; i++) {
    group[i] = Math.floor(i / inner);
    param[i] = i % inner;
  }
  return { count, group, param };
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
 * `y = (x - mean[g]) * scale[g] * weight[p] + bias[p]`; exactly `bias[p]` where x equals the mean;
 * NaN throughout a group flagged in `bad` (one holding a NaN or +-Inf).
 */
function apply(x: Vec, g: Grouping, mean: Vec, scale: Vec, weight?: Vec, bias?: Vec, bad?: Uint8Array): Float64Array {
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const k = g.group[i];
    const p = g.param[i];
    const b = bias ? bias[p] : 0;
    const d = x[i] - mean[k];
    y[i] = bad?.[k] ? NaN : d === 0 ? b : d * scale[k] * (weight ? weight[p] : 1) + b;
  }
  return y;
}

function withResidual(x: Vec, residual?: Vec): Vec {
  return residual ? Float64Array.from(x, (v, i) => Math.fround(v + residual[i])) : x;
}

export interface RefLayerNormOptions {
  axis?: number;
  weight?: Vec;
  bias?: Vec;
  eps?: number;
  residual?: Vec;
}

/** LayerNorm over axes `axis..rank-1`; also returns the per-group mean, invStd and (with residual) the sum. */
export function refLayerNorm(x: Vec, shape: readonly number[], opts: RefLayerNormOptions = {}) {
  const { axis = -1, weight, bias, eps = 1e-5, residual } = opts;
  const input = withResidual(x, residual);
  const g = rows(shape, axis);
  const { mean, variance, bad } = stats(input, g);
  const invStd = rstdOf(variance, eps);
  return { y: apply(input, g, mean, invStd, weight, bias, bad), mean, invStd, sum: Float64Array.from(input) };
}

export interface RefRmsNormOptions {
  axis?: number;
  weight?: Vec;
  eps?: number;
  residual?: Vec;
}

/** RMSNorm: `y = x / sqrt(mean(x^2) + eps) * weight` over axes `axis..rank-1` (a zero element stays 0). */
export function refRmsNorm(x: Vec, shape: readonly number[], opts: RefRmsNormOptions = {}): Float64Array {
  const { axis = -1, weight, eps = 1e-5, residual } = opts;
  const input = withResidual(x, residual);
  const g = rows(shape, axis);
  const { mean, variance, bad } = stats(input, g, false);
  return apply(input, g, mean, rstdOf(variance, eps), weight, undefined, bad);
}

export interface RefBatchNormOptions {
  layout?: Layout;
  weight?: Vec;
  bias?: Vec;
  runningMean?: Vec;
  runningVar?: Vec;
  training?: boolean;
  momentum?: number;
  unbiasedRunningVar?: boolean;
  eps?: number;
}

/**
 * BatchNorm (PyTorch semantics). Inference normalizes with runningMean/runningVar. Training uses the
 * batch mean and biased variance per channel and returns the updated running statistics (when given)
 * `(1 - momentum) * r + momentum * stat`, with the unbiased variance if `unbiasedRunningVar`.
 */
export function refBatchNorm(x: Vec, shape: readonly number[], opts: RefBatchNormOptions = {}) {
  const { layout = 'NCHW', weight, bias, runningMean, runningVar, training = false } = opts;
  const { momentum = 0.1, unbiasedRunningVar = true, eps = 1e-5 } = opts;
  const { C, c, len } = channels(shape, layout);
  const g: Grouping = { count: C, group: c, param: c };
  if (!training) {
    if (!runningMean || !runningVar) throw new Error('reference: batchNorm inference needs running stats');
    return { y: apply(x, g, runningMean, rstdOf(runningVar, eps), weight, bias) };
  }
  const { mean, variance, bad } = stats(x, g);
  const y = apply(x, g, mean, rstdOf(variance, eps), weight, bias, bad);
  const n = len / C;
  const update = (r: Vec | undefined, stat: Vec) =>
    r && Float64Array.from(r, (v, k) => (1 - momentum) * v + momentum * stat[k]);
  const varStat = unbiasedRunningVar ? variance.map((v) => (v * n) / (n - 1)) : variance;
  return { y, runningMean: update(runningMean, mean), runningVar: update(runningVar, varStat), mean, variance };
}

export interface RefChannelNormOptions {
  layout?: Layout;
  weight?: Vec;
  bias?: Vec;
  eps?: number;
}

/** InstanceNorm: per (sample, channel) over the spatial axes; per-channel weight/bias. */
export function refInstanceNorm(x: Vec, shape: readonly number[], opts: RefChannelNormOptions = {}): Float64Array {
  const C = opts.layout === 'NHWC' ? shape[shape.length - 1] : shape[1];
  return refGroupNorm(x, shape, Math.max(C, 1), opts);
}

/** GroupNorm: per (sample, group of C/numGroups consecutive channels); per-channel weight/bias. */
export function refGroupNorm(
  x: Vec,
  shape: readonly number[],
  numGroups: number,
  opts: RefChannelNormOptions = {},
): Float64Array {
  const { layout = 'NCHW', weight, bias, eps = 1e-5 } = opts;
  const { C, n, c } = channels(shape, layout);
  if (!(numGroups > 0) || C % numGroups !== 0) throw new Error(`reference: ${numGroups} groups for ${C} channels`);
  const perGroup = C / numGroups;
  const group = n.map((nn, i) => nn * numGroups + Math.floor(c[i] / perGroup));
  const g: Grouping = { count: shape[0] * numGroups, group, param: c };
  const { mean, variance, bad } = stats(x, g);
  return apply(x, g, mean, rstdOf(variance, eps), weight, bias, bad);
}

export interface RefAdaINOptions {
  layout?: Layout;
  eps?: number;
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
  const { layout = 'NCHW', eps = 1e-5 } = opts;
  const cc = channels(contentShape, layout);
  const sc = channels(styleShape, layout);
  const plane = (ch: typeof cc): Grouping => {
    const group = ch.n.map((nn, i) => nn * ch.C + ch.c[i]);
    return { count: ch.N * ch.C, group, param: group };
  };
  const gc = plane(cc);
  const content_ = stats(content, gc);
  const style_ = stats(style, plane(sc));
  const styleIndex = (k: number) => (sc.N === 1 ? k % cc.C : k);
  const sigma = (v: number) => Math.sqrt(v + eps);
  const scale = content_.variance.map((v, k) => sigma(style_.variance[styleIndex(k)]) / sigma(v));
  const shift = content_.mean.map((_, k) => style_.mean[styleIndex(k)]);
  const bad = content_.bad.map((b, k) => b | style_.bad[styleIndex(k)]);
  return apply(content, gc, content_.mean, scale, undefined, shift, bad);
}
