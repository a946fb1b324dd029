/**
 * The peer cases (../shared/conformance/peers: onnxruntime CPU and contrib ops, its web test data, TensorFlow.js,
 * PyTorch) mapped onto normkit, one case at a time (issue 10, "Every peer case natively").
 *
 * `mapPeerCase` turns a case into ONE normkit call: the peer's operator picks the op, its attributes and inputs
 * become that op's arguments and options, and each output the case compares is read from the array normkit
 * fills. Nothing is computed in JavaScript: no loops over groups, no expanded scales, no passes before or
 * after. Where the peer's tensors have a shape normkit reads otherwise, the mapping only passes another shape
 * for the same data (a view: no element is moved or copied), and says so where it does it:
 * - onnx BatchNormalization with `spatial = 0` normalizes every element of the non-batch axes as a channel of
 *   its own (the operator's definition), so X is read as `[N, prod(rest)]`;
 * - onnx BatchNormalization of a rank-1 X `[L]` (onnxruntime reads it as one channel) is `[L, 1]`;
 * - tf.batchNorm broadcasts mean/variance/offset/scale against x; when they vary over more than the last axis
 *   (or over none), x is read as `[outer, inner]` with `inner` the axes they vary over;
 * - a tfjs-layers BatchNormalization whose feature axis is neither 1 nor the last, and normalizeBatchInTraining
 *   (whose reduction axes lead), are read as `[N, C, rest]` / `[N, C]`.
 * Options are given only where the peer's case needs them (an option normkit does not take yet then fails
 * with UNKNOWN_OPTION, which the test reports as waiting for that feature): `weightShape` only when the
 * peer's scale is not normkit's default shape (the group's shape for layerNorm/rmsNorm, `[C]` for the channel
 * ops, leading 1s aside), `residualShape` only when the skip is not x's shape, and so on.
 *
 * float16/bfloat16 tensors become Uint16Array bit patterns with the `dtype` option (issue 12); float64 tensors
 * run as float32 only when every input value is exactly a float32 (the case files say the peer built them from
 * float literals), and are not expressible otherwise.
 */

/** A JSON value: numbers, or the strings the README uses for non-finite values. */
export type PeerValue = number | string;
export type PeerDtype = 'float32' | 'float16' | 'bfloat16' | 'float64';

export interface PeerTensor {
  name: string;
  index: number;
  dtype: PeerDtype;
  shape: number[];
  data: PeerValue[];
}

/** `{atol, rtol}`: onnxruntime OpTester, tfjs, PyTorch. `{atol, ratio}`: onnxruntime's web test runner. */
export interface PeerTolerance {
  atol: number;
  rtol?: number;
  ratio?: number;
}

export interface PeerCase {
  name: string;
  op: string;
  opset: number | null;
  attributes: Record<string, unknown>;
  explicit_attributes?: string[];
  inputs: PeerTensor[];
  outputs: PeerTensor[];
  expect_error?: boolean;
  tolerance: Record<string, PeerTolerance>;
  notes?: string;
}

export type ApiName = 'layerNorm' | 'rmsNorm' | 'batchNorm' | 'instanceNorm' | 'groupNorm';
/** An array argument as normkit takes it: float32, or half-precision bits with the `dtype` option. */
export type PeerArray = Float32Array | Uint16Array;

/** One normkit call, and where each output the case compares ends up. */
export interface PeerCall {
  api: ApiName;
  x: PeerArray;
  shape: number[];
  /** groupNorm's positional numGroups. */
  numGroups?: number;
  options: Record<string, unknown>;
  /** Per compared output (by its index in the peer's output list): the returned y, or an array passed as an option. */
  outputs: { tensor: PeerTensor; from: 'y' | PeerArray }[];
  /** Input arrays normkit must leave unchanged, with what they held before the call. */
  unchanged: { name: string; array: PeerArray; before: PeerArray }[];
  /** Views and other notes on how the case was mapped, for messages. */
  notes: string[];
}

/** A case normkit cannot express (as opposed to a feature it does not have yet). */
export class NotExpressible extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotExpressible';
  }
}

// ---------------------------------------------------------------------------------------------------------
// Values and dtypes

export function toNumber(v: PeerValue): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  throw new Error(`peers: unexpected value ${JSON.stringify(v)}`);
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** float16 bits of a number, rounded to nearest-even (exact for the cases' values, which are float16 values). */
export function toFloat16Bits(value: number): number {
  F32[0] = value;
  const x = U32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++; // a carry into the exponent is still right (up to Inf)
  return sign | half;
}

export function fromFloat16Bits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** bfloat16 bits of a number, rounded to nearest-even from its float32 value. */
export function toBfloat16Bits(value: number): number {
  F32[0] = value;
  const x = U32[0];
  if ((x & 0x7fffffff) > 0x7f800000) return (x >>> 16) | 0x40;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

export function fromBfloat16Bits(h: number): number {
  U32[0] = h << 16;
  return F32[0];
}

const isHalf = (d: PeerDtype): d is 'float16' | 'bfloat16' => d === 'float16' || d === 'bfloat16';

/** The half-precision dtype of a case (its `dtype` option), or undefined for a float32/float64 case. */
export function halfDtypeOf(c: PeerCase): 'float16' | 'bfloat16' | undefined {
  const halves = new Set([...c.inputs, ...c.outputs].map((t) => t.dtype).filter(isHalf));
  if (halves.size > 1) throw new NotExpressible('float16 and bfloat16 tensors in one call (normkit takes one dtype per call)');
  return halves.size ? [...halves][0] : undefined;
}

export const usesHalf = (c: PeerCase): boolean => [...c.inputs, ...c.outputs].some((t) => isHalf(t.dtype));

/** A tensor's values as normkit reads them: Float32Array, or Uint16Array bits for float16/bfloat16. */
export function arrayOf(t: PeerTensor): PeerArray {
  const values = t.data.map(toNumber);
  if (t.dtype === 'float16') return Uint16Array.from(values, toFloat16Bits);
  if (t.dtype === 'bfloat16') return Uint16Array.from(values, toBfloat16Bits);
  const a = Float32Array.from(values);
  if (t.dtype === 'float64') {
    const i = values.findIndex((v, k) => !Object.is(v, a[k]) && !(Number.isNaN(v) && Number.isNaN(a[k])));
    if (i >= 0) {
      throw new NotExpressible(`${t.name}[${i}] = ${values[i]} is a float64 value that float32 cannot hold (normkit is float32)`);
    }
  } else if (t.dtype !== 'float32') {
    throw new Error(`peers: unknown dtype ${JSON.stringify(t.dtype)} of ${t.name}`);
  }
  return a;
}

/** An output array of a tensor's dtype (float64 outputs are computed in float32). */
function outputArray(t: PeerTensor, length: number): PeerArray {
  return isHalf(t.dtype) ? new Uint16Array(length) : new Float32Array(length);
}

/** An output's values as numbers (half-precision bits decoded). */
export function valuesOf(a: ArrayLike<number>, dtype: PeerDtype): number[] {
  const out = Array.from(a);
  if (!(a instanceof Uint16Array)) return out;
  return out.map(dtype === 'bfloat16' ? fromBfloat16Bits : fromFloat16Bits);
}

// ---------------------------------------------------------------------------------------------------------
// Tolerance: each peer's own rule (README, "Tolerance rules")

export interface OutputCheck {
  ok: boolean;
  failures: number;
  /** The first failing element, described. */
  first?: string;
}

/**
 * `{atol, rtol}`: |a - e| <= atol + rtol * |e| (an expected NaN needs a NaN, an infinite one the same value).
 * `{atol, ratio}` (onnxruntime web's TensorResultValidator.floatEqual): equal, or both NaN, pass; a NaN or an
 * infinity on either side otherwise fails; then |a - e| < atol passes, and so does a != 0, e != 0 with
 * a/e < ratio and e/a < ratio (e clamped to the float32 range first, as the runner does).
 */
export function checkOutput(actual: readonly number[], expected: readonly number[], tol: PeerTolerance): OutputCheck {
  if (actual.length !== expected.length) {
    return { ok: false, failures: Math.max(actual.length, expected.length), first: `length ${actual.length}, expected ${expected.length}` };
  }
  const MAX = 3.4028234663852886e38;
  let failures = 0;
  let first: string | undefined;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    let ok: boolean;
    if (tol.ratio !== undefined) {
      if (a === e || (Number.isNaN(a) && Number.isNaN(e))) ok = true;
      else if (Number.isNaN(a) || Number.isNaN(e) || !Number.isFinite(a) || !Number.isFinite(e)) ok = false;
      else {
        const b = Math.max(Math.min(e, MAX), -MAX);
        ok = Math.abs(a - e) < tol.atol || (a !== 0 && b !== 0 && a / b < tol.ratio && b / a < tol.ratio);
      }
    } else {
      const rtol = tol.rtol ?? 0;
      if (Number.isNaN(e)) ok = Number.isNaN(a);
      else if (!Number.isFinite(e)) ok = a === e;
      else ok = Math.abs(a - e) <= tol.atol + rtol * Math.abs(e);
    }
    if (!ok) {
      failures++;
      first ??= `[${i}] actual ${a}, expected ${e}, |diff| ${Math.abs(a - e)}`;
    }
  }
  return { ok: failures === 0, failures, first };
}

export function describeTolerance(t: PeerTolerance): string {
  return t.ratio !== undefined ? `|diff| < ${t.atol} or ratio < ${t.ratio}` : `|diff| <= ${t.atol} + ${t.rtol ?? 0} * |expected|`;
}

// ---------------------------------------------------------------------------------------------------------
// Shapes

const prod = (s: readonly number[]): number => s.reduce((p, d) => p * d, 1);
const stripLeadingOnes = (s: readonly number[]): number[] => s.slice(s.findIndex((d) => d !== 1) < 0 ? s.length : s.findIndex((d) => d !== 1));
/** Same shape once leading 1s are dropped on both sides (same elements, same broadcast). */
const sameShape = (a: readonly number[], b: readonly number[]): boolean => {
  const x = stripLeadingOnes(a);
  const y = stripLeadingOnes(b);
  return x.length === y.length && x.every((d, i) => d === y[i]);
};
const normAxis = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

// ---------------------------------------------------------------------------------------------------------
// The mapping

/** Builds one call while keeping track of outputs, unchanged inputs and notes. */
class CallBuilder {
  readonly options: Record<string, unknown> = {};
  readonly outputs: PeerCall['outputs'] = [];
  readonly unchanged: PeerCall['unchanged'] = [];
  readonly notes: string[] = [];
  constructor(readonly c: PeerCase) {
    const dtype = halfDtypeOf(c);
    if (dtype !== undefined) this.options.dtype = dtype;
  }

  /** Input by its index in the peer's input list. */
  input(index: number): PeerTensor | undefined {
    return this.c.inputs.find((t) => t.index === index);
  }
  /** Input by name (layer weights and module state, whose order follows the layer, not an operator schema). */
  named(name: string): PeerTensor | undefined {
    return this.c.inputs.find((t) => t.name === name);
  }
  /** An input array that normkit only reads. */
  read(t: PeerTensor): PeerArray {
    const a = arrayOf(t);
    this.unchanged.push({ name: t.name, array: a, before: a.slice() });
    return a;
  }
  /** An input array normkit updates in place (running statistics in training). */
  update(t: PeerTensor): PeerArray {
    return arrayOf(t);
  }
  /** Sets an option to an input array (only when the peer has that input). */
  opt(key: string, t: PeerTensor | undefined): void {
    if (t !== undefined) this.options[key] = this.read(t);
  }
  /** A compared output: the returned y, or a fresh array passed as `key` (when the case requests the output). */
  output(index: number, key: string | 'y', length: number): void {
    const t = this.c.outputs.find((o) => o.index === index);
    if (t === undefined) return;
    if (key === 'y') {
      this.outputs.push({ tensor: t, from: 'y' });
      return;
    }
    const a = outputArray(t, length);
    this.options[key] = a;
    this.outputs.push({ tensor: t, from: a });
  }
  /** Reads y into an `out` of the output's dtype when it differs from x's (mixed-dtype half cases). */
  outOfDtype(x: PeerArray, length: number): void {
    const t = this.c.outputs.find((o) => o.index === 0);
    if (t === undefined) return;
    const a = outputArray(t, length);
    if (a.constructor !== x.constructor) this.options.out = a;
  }
  /** Any output the case compares that the mapping did not place is a mapping error. */
  finish(api: ApiName, x: PeerArray, shape: number[], numGroups?: number): PeerCall {
    const placed = new Set(this.outputs.map((o) => o.tensor));
    const missing = this.c.outputs.filter((o) => !placed.has(o));
    if (missing.length) throw new Error(`peers: ${this.c.op} output(s) ${missing.map((o) => `${o.index} ${o.name}`).join(', ')} not mapped`);
    this.outOfDtype(x, prod(shape));
    if (this.options.out !== undefined) {
      for (const o of this.outputs) if (o.from === 'y') o.from = this.options.out as PeerArray;
    }
    return { api, x, shape, numGroups, options: this.options, outputs: this.outputs, unchanged: this.unchanged, notes: this.notes };
  }
}

function num(c: PeerCase, key: string, fallback: number): number {
  const v = c.attributes[key];
  return v === undefined || v === null ? fallback : toNumber(v as PeerValue);
}

/** Sets `key` (an input array) and `key + 'Shape'` when the peer's shape is not normkit's default for it. */
function shaped(b: CallBuilder, key: string, t: PeerTensor | undefined, defaultShape: readonly number[]): void {
  if (t === undefined) return;
  b.opt(key, t);
  if (!sameShape(t.shape, defaultShape)) b.options[`${key}Shape`] = t.shape.slice();
}

// onnx LayerNormalization (and onnxruntime's pre-17 ai.onnx one): X, Scale, B → Y, Mean, InvStdDev.
function onnxLayerNorm(b: CallBuilder): PeerCall {
  const X = b.input(0)!;
  const rank = X.shape.length;
  const axis = num(b.c, 'axis', -1);
  const stash = num(b.c, 'stash_type', 1);
  if (stash !== 1) throw new NotExpressible(`stash_type ${stash}: normkit computes in float32 (stash_type 1)`);
  const group = X.shape.slice(normAxis(axis, rank));
  const groups = prod(X.shape.slice(0, normAxis(axis, rank)));
  b.options.axis = axis;
  b.options.eps = num(b.c, 'epsilon', 1e-5);
  shaped(b, 'weight', b.input(1), group);
  shaped(b, 'bias', b.input(2), group);
  b.output(0, 'y', 0);
  b.output(1, 'mean', groups);
  b.output(2, 'invStd', groups);
  return b.finish('layerNorm', b.read(X), X.shape.slice());
}

// onnx RMSNormalization-23 (X, scale → Y) and onnxruntime's SimplifiedLayerNormalization (X, scale → Y, inv_std_var).
function onnxRmsNorm(b: CallBuilder): PeerCall {
  const X = b.input(0)!;
  const rank = X.shape.length;
  const axis = num(b.c, 'axis', -1);
  const stash = num(b.c, 'stash_type', 1);
  if (stash !== 1) throw new NotExpressible(`stash_type ${stash}: normkit computes in float32 (stash_type 1)`);
  const group = X.shape.slice(normAxis(axis, rank));
  const groups = prod(X.shape.slice(0, normAxis(axis, rank)));
  b.options.axis = axis;
  b.options.eps = num(b.c, 'epsilon', 1e-5);
  shaped(b, 'weight', b.input(1), group);
  b.output(0, 'y', 0);
  if (b.c.op === 'onnx:SimplifiedLayerNormalization') b.output(1, 'invStd', groups);
  return b.finish('rmsNorm', b.read(X), X.shape.slice());
}

/**
 * com.microsoft SkipLayerNormalization (input, skip, gamma, beta, bias → output, mean, inv_std_var,
 * input_skip_bias_sum) and SkipSimplifiedLayerNormalization (input, skip, gamma, bias → output, mean (unused),
 * inv_std_var, input_skip_bias_sum), over the last axis. gamma, beta and bias are 1-D of the hidden size (the
 * operator never broadcasts them); skip is the input's shape, `[1, S, H]` or `[S, H]` (onnxruntime's three
 * forms, passed as residualShape); any other skip is passed as a full-size residual, which normkit refuses
 * as onnxruntime does.
 */
function skipLayerNorm(b: CallBuilder, simplified: boolean): PeerCall {
  const X = b.input(0)!;
  const skip = b.input(1)!;
  const rank = X.shape.length;
  const H = X.shape[rank - 1];
  const groups = prod(X.shape.slice(0, -1));
  b.options.eps = num(b.c, 'epsilon', 1e-12);
  b.opt('residual', skip);
  const [s0, s1, s2] = skip.shape;
  const S = X.shape[rank - 2];
  const broadcastForm =
    rank === 3 && ((skip.shape.length === 3 && s0 === 1 && s1 === S && s2 === H) || (skip.shape.length === 2 && s0 === S && s1 === H));
  if (!sameShape(skip.shape, X.shape) && broadcastForm) b.options.residualShape = skip.shape.slice();
  b.opt('weight', b.input(2));
  if (simplified) {
    b.opt('inputBias', b.input(3));
  } else {
    b.opt('bias', b.input(3));
    b.opt('inputBias', b.input(4));
  }
  b.output(0, 'y', 0);
  if (!simplified) b.output(1, 'mean', groups);
  b.output(2, 'invStd', groups);
  b.output(3, 'sumOut', X.data.length);
  return b.finish(simplified ? 'rmsNorm' : 'layerNorm', b.read(X), X.shape.slice());
}

/**
 * onnx BatchNormalization (and com.ms.internal.nhwc's channels-last one): X, scale, B, mean, var → Y,
 * running_mean, running_var, saved_mean, saved_inv_std (onnxruntime's opset-9 training outputs; the fifth is the
 * inverse standard deviation). scale/B/mean/var are 1-D `[C]` (spatial = 1; no broadcasting in the operator).
 * Training (training_mode = 1, or before opset 14 the training outputs requested) uses ONNX's momentum
 * convention: momentum = 1 - m, biased running variance.
 */
function onnxBatchNorm(b: CallBuilder): PeerCall {
  const X = b.input(0)!;
  const channelsLast = b.c.op.startsWith('com.ms.internal.nhwc:');
  const spatial = num(b.c, 'spatial', 1);
  const trainingMode = num(b.c, 'training_mode', 0);
  const training = trainingMode === 1 || ((b.c.opset ?? 7) < 14 && b.c.outputs.some((o) => o.index > 0));
  let shape = X.shape.slice();
  if (shape.length === 1) {
    shape = [shape[0], 1];
    b.notes.push(`rank-1 X [${X.shape}] read as [${shape}] (one channel)`);
  }
  if (spatial === 0) {
    if (channelsLast && shape[shape.length - 1] !== 1) {
      throw new NotExpressible('spatial = 0 channels-last with C > 1: the per-element parameters are in (C, D...) order, X in (D..., C)');
    }
    const view = [shape[0], prod(shape.slice(1))];
    b.notes.push(`spatial = 0: X [${X.shape}] read as [${view}], one channel per element of the non-batch axes`);
    shape = view;
  }
  if (channelsLast) b.options.layout = 'NHWC';
  const C = channelsLast ? shape[shape.length - 1] : shape[1];
  b.options.eps = num(b.c, 'epsilon', 1e-5);
  b.opt('weight', b.input(1));
  b.opt('bias', b.input(2));
  if (training) {
    b.options.training = true;
    b.options.momentum = 1 - num(b.c, 'momentum', 0.9);
    b.options.unbiasedRunningVar = false;
    const mean = b.input(3);
    const variance = b.input(4);
    if (mean) b.options.runningMean = b.update(mean);
    if (variance) b.options.runningVar = b.update(variance);
    b.output(0, 'y', 0);
    for (const [index, key] of [[1, 'runningMean'], [2, 'runningVar']] as const) {
      const t = b.c.outputs.find((o) => o.index === index);
      if (t) b.outputs.push({ tensor: t, from: b.options[key] as PeerArray });
    }
    b.output(3, 'mean', C);
    b.output(4, 'invStd', C);
  } else {
    b.opt('runningMean', b.input(3));
    b.opt('runningVar', b.input(4));
    b.output(0, 'y', 0);
  }
  return b.finish('batchNorm', b.read(X), shape);
}

// onnx InstanceNormalization: input, scale, B → Y.
function onnxInstanceNorm(b: CallBuilder): PeerCall {
  const X = b.input(0)!;
  b.options.eps = num(b.c, 'epsilon', 1e-5);
  b.opt('weight', b.input(1));
  b.opt('bias', b.input(2));
  b.output(0, 'y', 0);
  return b.finish('instanceNorm', b.read(X), X.shape.slice());
}

/**
 * onnx GroupNormalization (X, scale, bias → Y; num_groups, epsilon). Opset 21 has per-channel scale/bias;
 * opset 18's spec had per-group ones, but the cases pass per-channel values (their notes), as here.
 */
function onnxGroupNorm(b: CallBuilder): PeerCall {
  const X = b.input(0)!;
  const G = num(b.c, 'num_groups', NaN);
  const C = X.shape[1];
  const scale = b.input(1);
  if (scale && prod(scale.shape) !== C && prod(scale.shape) === G) {
    throw new NotExpressible(`opset-18 per-group scale [${scale.shape}]: normkit's groupNorm takes per-channel weights`);
  }
  b.options.eps = num(b.c, 'epsilon', 1e-5);
  b.opt('weight', scale);
  b.opt('bias', b.input(2));
  b.output(0, 'y', 0);
  return b.finish('groupNorm', b.read(X), X.shape.slice(), G);
}

/**
 * com.microsoft GroupNorm (X, gamma, beta → Y) and SkipGroupNorm (X, gamma, beta, skip, bias → Y, S):
 * groups, epsilon, activation (1 = SiLU), channels_last (default 1). SkipGroupNorm's skip is `[N, H, W, C]`,
 * `[N, 1, 1, C]` or `[N, C]` (per sample and channel: residualShape `[N, 1, 1, C]`); bias is per channel.
 */
function msGroupNorm(b: CallBuilder, skipped: boolean): PeerCall {
  const X = b.input(0)!;
  const channelsLast = num(b.c, 'channels_last', 1) === 1;
  const activation = num(b.c, 'activation', 0);
  if (activation !== 0 && activation !== 1) throw new NotExpressible(`activation ${activation}`);
  b.options.layout = channelsLast ? 'NHWC' : 'NCHW';
  b.options.eps = num(b.c, 'epsilon', 1e-5);
  b.opt('weight', b.input(1));
  b.opt('bias', b.input(2));
  if (activation === 1) b.options.activation = 'silu';
  if (skipped) {
    const skip = b.input(3)!;
    b.opt('residual', skip);
    const rank = X.shape.length;
    const perSample = skip.shape.length === 2 ? [skip.shape[0], ...Array<number>(rank - 2).fill(1), skip.shape[1]] : skip.shape;
    if (!channelsLast && skip.shape.length === 2) throw new NotExpressible('SkipGroupNorm [N, C] skip in NCHW');
    if (!sameShape(perSample, X.shape)) b.options.residualShape = perSample;
    b.opt('inputBias', b.input(4));
    b.output(1, 'sumOut', X.data.length);
  }
  b.output(0, 'y', 0);
  return b.finish('groupNorm', b.read(X), X.shape.slice(), num(b.c, 'groups', NaN));
}

/**
 * Channels-last inference batch norm with tf.batchNorm's broadcasting: mean/variance/offset/scale broadcast
 * against x (numpy rules). Per-channel `[C]` operands read x as it is (NHWC); operands that vary over the
 * axes from `start` on (the same axes for all, equal to x's there) read x as `[prod(x[..start]), prod(x[start..])]`.
 */
function tfBatchNorm(b: CallBuilder, eps: number, operands: Record<'mean' | 'variance' | 'offset' | 'scale', PeerTensor | undefined>): PeerCall {
  const X = b.named('x')!;
  const rank = X.shape.length;
  const present = Object.values(operands).filter((t): t is PeerTensor => t !== undefined);
  // The first axis each operand varies over, right-aligned against x.
  let start = rank;
  for (const t of present) {
    const aligned = [...Array<number>(Math.max(0, rank - t.shape.length)).fill(1), ...t.shape];
    if (aligned.length > rank) throw new NotExpressible(`${t.name} [${t.shape}] has a higher rank than x [${X.shape}]`);
    const first = aligned.findIndex((d) => d !== 1);
    if (first >= 0) start = Math.min(start, first);
  }
  for (const t of present) {
    const aligned = [...Array<number>(rank - t.shape.length).fill(1), ...t.shape];
    if (prod(t.shape) !== 1 && aligned.slice(start).some((d, i) => d !== X.shape[start + i])) {
      throw new NotExpressible(`${t.name} [${t.shape}] does not vary over the same axes as the other operands`);
    }
  }
  let shape = X.shape.slice();
  if (!(start === rank - 1 && rank >= 2)) {
    shape = [prod(X.shape.slice(0, start)), prod(X.shape.slice(start))];
    const over = start === rank ? 'the operands are scalars (one channel)' : `the operands vary over axes ${start}..${rank - 1}`;
    b.notes.push(`x [${X.shape}] read as [${shape}]: ${over}`);
  }
  b.options.layout = 'NHWC';
  b.options.eps = eps;
  b.opt('runningMean', operands.mean);
  b.opt('runningVar', operands.variance);
  b.opt('weight', operands.scale);
  b.opt('bias', operands.offset);
  b.output(0, 'y', 0);
  return b.finish('batchNorm', b.read(X), shape);
}

/** tfjs-layers BatchNormalization layer in inference: the feature axis `axis` is kept. */
function tfLayersBatchNorm(b: CallBuilder): PeerCall {
  const X = b.named('x')!;
  if (b.c.attributes.training === true) throw new NotExpressible('tfjs-layers BatchNormalization in training (not in the cases)');
  const rank = X.shape.length;
  const axis = normAxis(num(b.c, 'axis', -1), rank);
  let shape = X.shape.slice();
  if (axis === rank - 1 && rank >= 2) b.options.layout = 'NHWC';
  else if (axis !== 1) {
    shape = [prod(X.shape.slice(0, axis)), X.shape[axis], prod(X.shape.slice(axis + 1))];
    b.notes.push(`x [${X.shape}] read as [${shape}] (NCHW): the feature axis is ${axis}`);
  }
  b.options.eps = num(b.c, 'epsilon', 1e-3);
  b.opt('weight', b.named('gamma'));
  b.opt('bias', b.named('beta'));
  b.opt('runningMean', b.named('moving_mean'));
  b.opt('runningVar', b.named('moving_variance'));
  b.output(0, 'y', 0);
  return b.finish('batchNorm', b.read(X), shape);
}

/** tfjs-layers LayerNormalization layer: normalizes over the listed axes (a trailing range here). */
function tfLayersLayerNorm(b: CallBuilder): PeerCall {
  const X = b.named('x')!;
  const rank = X.shape.length;
  const raw = b.c.attributes.axis;
  const axes = (Array.isArray(raw) ? raw : [raw ?? -1]).map((a) => normAxis(Number(a), rank)).sort((p, q) => p - q);
  if (axes.some((a, i) => a !== rank - axes.length + i)) {
    throw new NotExpressible(`axes [${axes}] are not the trailing axes of a rank-${rank} x (layerNorm normalizes axis..rank-1)`);
  }
  b.options.axis = axes[0];
  b.options.eps = num(b.c, 'epsilon', 1e-3);
  b.opt('weight', b.named('gamma'));
  b.opt('bias', b.named('beta'));
  b.output(0, 'y', 0);
  return b.finish('layerNorm', b.read(X), X.shape.slice());
}

/**
 * tfjs-layers normalizeBatchInTraining(x, gamma, beta, reductionAxes, epsilon) → normed, mean, variance (biased):
 * batchNorm training over x read as `[prod(reduced axes), prod(kept axes)]` (the reduction axes lead). The batch
 * mean and biased variance are the running buffers after the update with momentum 1 (normkit's documented
 * `r = (1 - momentum) * r + momentum * stat`, exactly `stat` for finite `r`) and `unbiasedRunningVar: false`.
 */
function tfNormalizeBatchInTraining(b: CallBuilder): PeerCall {
  const X = b.named('x')!;
  const axes = (b.c.attributes.reductionAxes as number[]).map((a) => normAxis(a, X.shape.length));
  if (axes.some((a, i) => a !== i)) throw new NotExpressible(`reductionAxes [${axes}] do not lead`);
  const shape = [prod(X.shape.slice(0, axes.length)), prod(X.shape.slice(axes.length))];
  if (shape.join() !== X.shape.join()) b.notes.push(`x [${X.shape}] read as [${shape}]: reduced axes, then kept axes`);
  const C = shape[1];
  b.options.training = true;
  b.options.eps = num(b.c, 'epsilon', 1e-3);
  b.opt('weight', b.named('gamma'));
  b.opt('bias', b.named('beta'));
  b.options.momentum = 1;
  b.options.unbiasedRunningVar = false;
  b.options.runningMean = new Float32Array(C);
  b.options.runningVar = new Float32Array(C);
  b.output(0, 'y', 0);
  for (const [index, key] of [[1, 'runningMean'], [2, 'runningVar']] as const) {
    const t = b.c.outputs.find((o) => o.index === index);
    if (t) b.outputs.push({ tensor: t, from: b.options[key] as PeerArray });
  }
  return b.finish('batchNorm', b.read(X), shape);
}

// torch::nn BatchNorm{1,2,3}d in eval mode: the running statistics (module state, listed as inputs).
function torchBatchNorm(b: CallBuilder): PeerCall {
  const X = b.named('input')!;
  if (b.c.attributes.training !== false) throw new NotExpressible('torch BatchNorm in training mode (not in the cases)');
  b.options.eps = num(b.c, 'eps', 1e-5);
  b.options.momentum = num(b.c, 'momentum', 0.1);
  b.opt('runningMean', b.named('running_mean'));
  b.opt('runningVar', b.named('running_var'));
  b.opt('weight', b.named('weight'));
  b.opt('bias', b.named('bias'));
  b.output(0, 'y', 0);
  return b.finish('batchNorm', b.read(X), X.shape.slice());
}

// torch::nn InstanceNorm{1,2,3}d: instance statistics (track_running_stats false), affine when set.
function torchInstanceNorm(b: CallBuilder): PeerCall {
  const X = b.named('input')!;
  if (b.c.attributes.track_running_stats === true) throw new NotExpressible('InstanceNorm with running statistics');
  b.options.eps = num(b.c, 'eps', 1e-5);
  b.opt('weight', b.named('weight'));
  b.opt('bias', b.named('bias'));
  b.output(0, 'y', 0);
  return b.finish('instanceNorm', b.read(X), X.shape.slice());
}

/** The one normkit call of a case; throws NotExpressible for a case normkit cannot express. */
export function mapPeerCase(c: PeerCase): PeerCall {
  const b = new CallBuilder(c);
  switch (c.op) {
    case 'onnx:LayerNormalization':
      return onnxLayerNorm(b);
    case 'onnx:RMSNormalization':
    case 'onnx:SimplifiedLayerNormalization':
      return onnxRmsNorm(b);
    case 'com.microsoft:SkipLayerNormalization':
      return skipLayerNorm(b, false);
    case 'com.microsoft:SkipSimplifiedLayerNormalization':
      return skipLayerNorm(b, true);
    case 'onnx:BatchNormalization':
    case 'com.ms.internal.nhwc:BatchNormalization':
      return onnxBatchNorm(b);
    case 'onnx:InstanceNormalization':
      return onnxInstanceNorm(b);
    case 'onnx:GroupNormalization':
      return onnxGroupNorm(b);
    case 'com.microsoft:GroupNorm':
      return msGroupNorm(b, false);
    case 'com.microsoft:SkipGroupNorm':
      return msGroupNorm(b, true);
    case 'tfjs:batchNorm':
      return tfBatchNorm(b, num(c, 'varianceEpsilon', 1e-3), {
        mean: b.input(1), variance: b.input(2), offset: b.input(3), scale: b.input(4),
      });
    case 'tfjs-layers:batchNormalization':
      // batchNormalization(x, mean, variance, beta, gamma, epsilon): beta before gamma.
      return tfBatchNorm(b, num(c, 'epsilon', 1e-3), {
        mean: b.input(1), variance: b.input(2), offset: b.input(3), scale: b.input(4),
      });
    case 'tfjs-layers:BatchNormalization':
      return tfLayersBatchNorm(b);
    case 'tfjs-layers:LayerNormalization':
      return tfLayersLayerNorm(b);
    case 'tfjs-layers:normalizeBatchInTraining':
      return tfNormalizeBatchInTraining(b);
    case 'torch:BatchNorm1d':
    case 'torch:BatchNorm2d':
    case 'torch:BatchNorm3d':
      return torchBatchNorm(b);
    case 'torch:InstanceNorm1d':
    case 'torch:InstanceNorm2d':
    case 'torch:InstanceNorm3d':
      return torchInstanceNorm(b);
    default:
      throw new Error(`peers: no mapping for op ${JSON.stringify(c.op)} (${c.name})`);
  }
}

/** The normkit functions a call uses (the module itself). */
/* eslint-disable @typescript-eslint/no-explicit-any */
export type PeerNormkit = Record<ApiName, (...args: any[]) => ArrayLike<number>>;
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Makes the call; returns each compared output's values (as numbers), in the case's output order. */
export function runPeerCall(nk: PeerNormkit, call: PeerCall): number[][] {
  const fn = nk[call.api];
  const y = call.api === 'groupNorm' ? fn(call.x, call.shape, call.numGroups, call.options) : fn(call.x, call.shape, call.options);
  return call.outputs.map(({ tensor, from }) => valuesOf(from === 'y' ? y : from, tensor.dtype));
}
