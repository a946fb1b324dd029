// The reference cases every implementation is checked and timed on, their seeded inputs, the float64
// reference outputs, and the layout conversion for peers whose kernels accept only one layout.

/** @typedef {'NCHW' | 'NHWC'} Layout */

/**
 * @typedef {object} Case
 * @property {string} id       unique, e.g. "groupnorm NHWC [1,64,64,320]"
 * @property {Kind} kind
 * @property {string} op       the normkit function
 * @property {number[]} shape
 * @property {Layout} layout   channel layout (row ops and 2-D tensors use NCHW, where both read the same)
 * @property {number} [groups]
 * @property {number[]} [styleShape]
 * @property {string} [note]
 * @property {'silu'} [activation]  issue 10: fused activation
 * @property {number[]} [paramShape] issue 10: weight and bias shape when not the default (AdaLN's [B, 1, H])
 * @property {string} [base]   issue 10: id of the same op without the new options, for the cost ratio
 * @property {'float16' | 'bfloat16'} [dtype] issue 12: every array stored in this half precision
 * @property {string} [float32] issue 12: id of the same case in float32
 */

/**
 * @typedef {'layernorm'|'skiplayernorm'|'rmsnorm'|'batchnorm'|'batchnorm-train'|'instancenorm'|'groupnorm'|'adain'
 *   |'groupnorm-silu'|'skipgroupnorm'|'layernorm-adaln'|'skiplayernorm-bias'} Kind
 */

import { round, UNIT } from './half.mjs';

const EPS = 1e-5;
/** PyTorch's default; ONNX's BatchNormalization momentum is 1 - this. */
const MOMENTUM = 0.1;

function make(kind, op, shape, extra = {}) {
  const layout = extra.layout ?? 'NCHW';
  const tag = layout === 'NHWC' ? ' NHWC' : '';
  return { id: `${kind}${tag} [${shape.join(',')}]`, kind, op, shape, layout, ...extra };
}

/** @type {Case[]} */
const FLOAT32_CASES = [
  make('layernorm', 'layerNorm', [1, 128, 768], { note: 'BERT-base sequence' }),
  make('layernorm', 'layerNorm', [8, 512, 768], { note: 'BERT-base batch 8 x 512' }),
  make('layernorm', 'layerNorm', [1, 1, 4096], { note: 'LLM decode, 1 token' }),
  make('layernorm', 'layerNorm', [64, 1024], { note: '2-D' }),
  make('layernorm', 'layerNorm', [1, 1, 768], { note: 'tiny: per-call overhead' }),
  make('skiplayernorm', 'layerNorm', [1, 128, 768], { note: 'residual fused' }),
  make('skiplayernorm', 'layerNorm', [8, 512, 768], { note: 'residual fused' }),
  make('rmsnorm', 'rmsNorm', [1, 1, 4096], { note: 'LLM decode, 1 token' }),
  make('rmsnorm', 'rmsNorm', [1, 128, 4096], { note: 'LLM prefill' }),
  make('batchnorm', 'batchNorm', [1, 64, 112, 112], { note: 'ResNet stem' }),
  make('batchnorm', 'batchNorm', [8, 256, 14, 14]),
  make('batchnorm', 'batchNorm', [32, 64], { note: '2-D' }),
  make('batchnorm', 'batchNorm', [1, 112, 112, 64], { layout: 'NHWC' }),
  make('batchnorm-train', 'batchNorm', [8, 256, 14, 14], { note: 'training, running stats updated' }),
  make('instancenorm', 'instanceNorm', [1, 64, 128, 128], { note: 'style transfer' }),
  make('instancenorm', 'instanceNorm', [4, 256, 32, 32]),
  make('groupnorm', 'groupNorm', [1, 320, 64, 64], { groups: 32, note: 'SD UNet, 32 groups' }),
  make('groupnorm', 'groupNorm', [2, 128, 32, 32], { groups: 32 }),
  make('groupnorm', 'groupNorm', [1, 64, 64, 320], { groups: 32, layout: 'NHWC' }),
  make('adain', 'adaIN', [1, 512, 32, 32], { styleShape: [1, 512, 16, 16], note: 'style 16x16' }),
  // Issue 10: the fused options, each beside the same op without them (`base`). Listed last so that, in every
  // process, the cases above are measured before any code path of these runs.
  make('groupnorm-silu', 'groupNorm', [1, 320, 64, 64], {
    groups: 32,
    activation: 'silu',
    base: 'groupnorm [1,320,64,64]',
    note: 'SD UNet GroupNorm + SiLU',
  }),
  make('skipgroupnorm', 'groupNorm', [1, 64, 64, 320], {
    groups: 32,
    layout: 'NHWC',
    activation: 'silu',
    base: 'groupnorm NHWC [1,64,64,320]',
    note: "onnxruntime's SkipGroupNorm: x + skip + bias [C], SiLU, sum out",
  }),
  make('layernorm-adaln', 'layerNorm', [8, 512, 768], {
    paramShape: [8, 1, 768],
    base: 'layernorm [8,512,768]',
    note: 'DiT AdaLN: per-sample [8,1,768] scale and shift',
  }),
  make('skiplayernorm-bias', 'layerNorm', [8, 512, 768], {
    base: 'skiplayernorm [8,512,768]',
    note: "onnxruntime's SkipLayerNormalization with bias [768]",
  }),
];

export const HALF_DTYPES = ['float16', 'bfloat16'];

/**
 * Issue 12: every reference case (not issue 10's) in float16 and in bfloat16, each beside its float32 case;
 * listed last, as issue 10's are.
 */
export const CASES = [
  ...FLOAT32_CASES,
  ...FLOAT32_CASES.filter((c) => !c.base).flatMap((c) =>
    HALF_DTYPES.map((dtype) => ({ ...c, id: c.id.replace(' [', ` ${dtype} [`), dtype, float32: c.id })),
  ),
];

/** Row ops (parameters per element of the last axis) among the kinds. */
const ROW_KINDS = ['layernorm', 'skiplayernorm', 'rmsnorm', 'layernorm-adaln', 'skiplayernorm-bias'];

export const SETTINGS = { eps: EPS, momentum: MOMENTUM };

const norm = (s) => s.toLowerCase().replace(/[^a-z0-9,-]/g, '');

/**
 * An op name matches a case kind or a normkit function name (so `layernorm` also selects the residual
 * cases); a shape matches the dimensions exactly. Empty lists select everything. A selected issue-10 case
 * brings its `base` case along (the report needs both for the cost ratio).
 */
export function selectCases({ ops = [], shapes = [] }) {
  const picked = CASES.filter(
    (c) =>
      (ops.length === 0 || ops.some((o) => norm(o) === c.kind || norm(o) === norm(c.op))) &&
      (shapes.length === 0 || shapes.some((s) => norm(s) === c.shape.join(','))),
  );
  const bases = new Set(picked.map((c) => c.base).filter(Boolean));
  return CASES.filter((c) => picked.includes(c) || bases.has(c.id));
}

export const elements = (shape) => shape.reduce((a, b) => a * b, 1);

/**
 * Floats moved per call: every run-time input read once (x, plus residual or style) and every output written
 * once (y, plus the sum for SkipGroupNorm). Weights, biases and AdaLN's modulation are not counted.
 */
export function trafficFloats(c) {
  const n = elements(c.shape);
  if (c.kind === 'skiplayernorm' || c.kind === 'skiplayernorm-bias') return 3 * n;
  if (c.kind === 'skipgroupnorm') return 4 * n;
  if (c.kind === 'adain') return 2 * n + elements(c.styleShape);
  return 2 * n;
}

/** Bytes moved per call: trafficFloats in the case's element size. */
export const trafficBytes = (c) => trafficFloats(c) * (c.dtype ? 2 : 4);

/** The correctness bar: the suite's, plus one rounding of a half-precision output. */
export const toleranceOf = (c) => TOLERANCE + (c.dtype ? UNIT[c.dtype] : 0);

export const channelCount = (c) => (c.layout === 'NHWC' ? c.shape[c.shape.length - 1] : c.shape[1]);

/** mulberry32: tiny, fast, and identical in every process, so each peer process rebuilds the same inputs. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seedOf(text) {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

function uniform(n, lo, hi, next) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * next();
  return a;
}

/**
 * Seeded inputs in the case's own layout: x ~ U(-2, 3), weight ~ U(0.5, 1.5), bias ~ U(-0.5, 0.5)
 * (the anchors' distributions); running statistics near those of x. Issue 10: a residual ~ U(-2, 3) like x,
 * an inputBias ~ U(-0.5, 0.5) per channel or hidden unit, AdaLN's weight and bias one set per sample.
 */
export function makeInputs(c) {
  const inputs = float32Inputs(c);
  if (!c.dtype) return inputs;
  // Issue 12: the float32 case's values rounded to the dtype; the reference is then that of the stored values.
  for (const [key, v] of Object.entries(inputs)) if (v instanceof Float32Array) inputs[key] = round(v, c.dtype);
  inputs.dtype = c.dtype;
  return inputs;
}

function float32Inputs(c) {
  const next = rng(seedOf(c.float32 ?? c.id));
  const n = elements(c.shape);
  const params = c.paramShape ? elements(c.paramShape) : ROW_KINDS.includes(c.kind) ? c.shape.at(-1) : channelCount(c);
  const inputs = { shape: c.shape, layout: c.layout, x: uniform(n, -2, 3, next) };
  if (c.kind === 'adain') {
    inputs.styleShape = c.styleShape;
    inputs.style = uniform(elements(c.styleShape), -1, 4, next);
    return inputs;
  }
  inputs.weight = uniform(params, 0.5, 1.5, next);
  if (c.kind !== 'rmsnorm') inputs.bias = uniform(params, -0.5, 0.5, next);
  if (c.kind === 'skiplayernorm') inputs.residual = uniform(n, -2, 3, next);
  if (c.kind === 'batchnorm' || c.kind === 'batchnorm-train') {
    inputs.runningMean = uniform(params, 0, 1, next);
    inputs.runningVar = uniform(params, 1.5, 2.5, next);
  }
  if (c.kind === 'skipgroupnorm' || c.kind === 'skiplayernorm-bias') {
    inputs.residual = uniform(n, -2, 3, next);
    inputs.inputBias = uniform(params, -0.5, 0.5, next);
  }
  if (c.paramShape) {
    inputs.weightShape = c.paramShape;
    inputs.biasShape = c.paramShape;
  }
  if (c.activation) inputs.activation = c.activation;
  return inputs;
}

/**
 * Float64 outputs for the case from normkit's reference module: `y`, plus the updated running
 * statistics for batch-norm training.
 */
export function referenceOutputs(ref, c, inp) {
  const { eps, momentum } = SETTINGS;
  const common = { weight: inp.weight, bias: inp.bias, eps };
  switch (c.kind) {
    case 'layernorm':
      return { y: ref.refLayerNorm(inp.x, c.shape, common).y };
    case 'skiplayernorm':
      return { y: ref.refLayerNorm(inp.x, c.shape, { ...common, residual: inp.residual }).y };
    case 'rmsnorm':
      return { y: ref.refRmsNorm(inp.x, c.shape, { weight: inp.weight, eps }) };
    case 'batchnorm':
    case 'batchnorm-train': {
      const training = c.kind === 'batchnorm-train';
      const r = ref.refBatchNorm(inp.x, c.shape, {
        ...common,
        layout: c.layout,
        runningMean: inp.runningMean,
        runningVar: inp.runningVar,
        training,
        momentum,
      });
      return training ? { y: r.y, runningMean: r.runningMean, runningVar: r.runningVar } : { y: r.y };
    }
    case 'instancenorm':
      return { y: ref.refInstanceNorm(inp.x, c.shape, { ...common, layout: c.layout }) };
    case 'groupnorm':
      return { y: ref.refGroupNorm(inp.x, c.shape, c.groups, { ...common, layout: c.layout }) };
    case 'adain':
      return { y: ref.refAdaIN(inp.x, c.shape, inp.style, c.styleShape, { layout: c.layout, eps }) };
    case 'groupnorm-silu':
      return { y: ref.refGroupNorm(inp.x, c.shape, c.groups, { ...common, layout: c.layout, activation: c.activation }) };
    case 'skipgroupnorm': {
      const r = ref.refGroupNormFull(inp.x, c.shape, c.groups, {
        ...common,
        layout: c.layout,
        activation: c.activation,
        residual: inp.residual,
        inputBias: inp.inputBias,
      });
      // The sum x + residual + inputBias is an output too (SkipGroupNorm's S, normkit's sumOut).
      return { y: r.y, sum: r.sum };
    }
    case 'layernorm-adaln':
      return { y: ref.refLayerNorm(inp.x, c.shape, { ...common, weightShape: c.paramShape, biasShape: c.paramShape }).y };
    case 'skiplayernorm-bias':
      return { y: ref.refLayerNorm(inp.x, c.shape, { ...common, residual: inp.residual, inputBias: inp.inputBias }).y };
    default:
      throw new Error(`no reference for ${c.kind}`);
  }
}

/** Moves the channel axis between position 1 (NCHW) and last (NHWC); rank-2 tensors read the same in both. */
export function relayout(data, shape, from, to) {
  if (from === to || shape.length <= 2) return { data, shape };
  const N = shape[0];
  const C = from === 'NCHW' ? shape[1] : shape.at(-1);
  const spatial = from === 'NCHW' ? shape.slice(2) : shape.slice(1, -1);
  const S = elements(spatial);
  const out = new data.constructor(data.length);
  for (let n = 0; n < N; n++) {
    const base = n * C * S;
    for (let c = 0; c < C; c++) {
      for (let s = 0; s < S; s++) {
        const nchw = base + c * S + s;
        const nhwc = base + s * C + c;
        if (from === 'NCHW') out[nhwc] = data[nchw];
        else out[nchw] = data[nhwc];
      }
    }
  }
  return { data: out, shape: to === 'NCHW' ? [N, C, ...spatial] : [N, ...spatial, C] };
}

/** The inputs and reference re-expressed in another layout, for a peer that only has that layout's kernel. */
export function inLayout(inp, refOut, to) {
  const x = relayout(inp.x, inp.shape, inp.layout, to);
  const moved = { ...inp, layout: to, shape: x.shape, x: x.data };
  if (inp.style) {
    const s = relayout(inp.style, inp.styleShape, inp.layout, to);
    moved.style = s.data;
    moved.styleShape = s.shape;
  }
  if (inp.residual) moved.residual = relayout(inp.residual, inp.shape, inp.layout, to).data;
  const ref = { ...refOut, y: relayout(refOut.y, inp.shape, inp.layout, to).data };
  if (refOut.sum) ref.sum = relayout(refOut.sum, inp.shape, inp.layout, to).data;
  return { inputs: moved, ref };
}

/**
 * Max error against the float64 reference: absolute, relative where |ref| > 1. A NaN, an Inf, or a
 * length mismatch counts as Infinity.
 */
export function maxError(actual, expected) {
  if (!actual || actual.length !== expected.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i]));
    if (!(e <= worst)) worst = Number.isNaN(e) ? Infinity : e;
  }
  return worst;
}

export const TOLERANCE = 1e-4;
