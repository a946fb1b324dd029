// Plain JavaScript: what a user writes by hand. Float32Array in and out, statistics accumulated in JS
// numbers, two passes for the statistics (mean, then centred variance) and one to normalize.
import { elements, channelCount, SETTINGS } from '../cases.mjs';

/** Mean and biased variance of `count` values of x starting at `start`, `stride` apart. */
function moments(x, start, count, stride) {
  let sum = 0;
  for (let i = 0, p = start; i < count; i++, p += stride) sum += x[p];
  const mean = sum / count;
  let sq = 0;
  for (let i = 0, p = start; i < count; i++, p += stride) {
    const d = x[p] - mean;
    sq += d * d;
  }
  return { mean, variance: sq / count };
}

function layerNorm(x, rows, d, weight, bias, eps, y) {
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    const { mean, variance } = moments(x, o, d, 1);
    const rstd = 1 / Math.sqrt(variance + eps);
    for (let i = 0; i < d; i++) y[o + i] = (x[o + i] - mean) * rstd * weight[i] + bias[i];
  }
}

function skipLayerNorm(x, residual, rows, d, weight, bias, eps, y) {
  // The sum is staged in y (float32, as the reference rounds it) and normalized in place.
  for (let i = 0; i < x.length; i++) y[i] = x[i] + residual[i];
  layerNorm(y, rows, d, weight, bias, eps, y);
}

function rmsNorm(x, rows, d, weight, eps, y) {
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let sq = 0;
    for (let i = 0; i < d; i++) sq += x[o + i] * x[o + i];
    const rinv = 1 / Math.sqrt(sq / d + eps);
    for (let i = 0; i < d; i++) y[o + i] = x[o + i] * rinv * weight[i];
  }
}

/** y = x * scale[c] + shift[c] over a channel layout. */
function applyPerChannel(x, N, C, S, layout, scale, shift, y) {
  if (layout === 'NHWC') {
    for (let i = 0; i < x.length; i++) {
      const c = i % C;
      y[i] = x[i] * scale[c] + shift[c];
    }
    return;
  }
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const o = (n * C + c) * S;
      for (let s = 0; s < S; s++) y[o + s] = x[o + s] * scale[c] + shift[c];
    }
  }
}

function batchNormInference(x, N, C, S, layout, p, eps, y) {
  const scale = new Float64Array(C);
  const shift = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    scale[c] = p.weight[c] / Math.sqrt(p.runningVar[c] + eps);
    shift[c] = p.bias[c] - p.runningMean[c] * scale[c];
  }
  applyPerChannel(x, N, C, S, layout, scale, shift, y);
}

/** Per-channel sums of f(x) over batch and spatial positions. */
function channelSums(x, N, C, S, layout, f) {
  const sums = new Float64Array(C);
  if (layout === 'NHWC') {
    for (let i = 0; i < x.length; i++) sums[i % C] += f(x[i], i % C);
    return sums;
  }
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const o = (n * C + c) * S;
      let sum = 0;
      for (let s = 0; s < S; s++) sum += f(x[o + s], c);
      sums[c] += sum;
    }
  }
  return sums;
}

function batchNormTraining(x, N, C, S, layout, p, eps, momentum, y) {
  const count = N * S;
  const mean = channelSums(x, N, C, S, layout, (v) => v).map((s) => s / count);
  const variance = channelSums(x, N, C, S, layout, (v, c) => (v - mean[c]) * (v - mean[c])).map((s) => s / count);
  const scale = new Float64Array(C);
  const shift = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    scale[c] = p.weight[c] / Math.sqrt(variance[c] + eps);
    shift[c] = p.bias[c] - mean[c] * scale[c];
    p.runningMean[c] = (1 - momentum) * p.runningMean[c] + momentum * mean[c];
    p.runningVar[c] = (1 - momentum) * p.runningVar[c] + (momentum * variance[c] * count) / (count - 1);
  }
  applyPerChannel(x, N, C, S, layout, scale, shift, y);
}

/** GroupNorm (instanceNorm is G = C): per-(sample, group) statistics, per-channel affine. */
function groupNorm(x, N, C, S, G, layout, weight, bias, eps, y) {
  const cpg = C / G;
  const scale = new Float64Array(C);
  const shift = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    const base = n * C * S;
    for (let g = 0; g < G; g++) {
      let mean;
      let variance;
      if (layout === 'NCHW') {
        ({ mean, variance } = moments(x, base + g * cpg * S, cpg * S, 1));
      } else {
        // Channel-last: the group is cpg adjacent channels at each spatial position.
        let sum = 0;
        for (let s = 0; s < S; s++) for (let k = 0; k < cpg; k++) sum += x[base + s * C + g * cpg + k];
        mean = sum / (cpg * S);
        let sq = 0;
        for (let s = 0; s < S; s++) {
          for (let k = 0; k < cpg; k++) {
            const d = x[base + s * C + g * cpg + k] - mean;
            sq += d * d;
          }
        }
        variance = sq / (cpg * S);
      }
      const rstd = 1 / Math.sqrt(variance + eps);
      for (let k = 0; k < cpg; k++) {
        const c = g * cpg + k;
        scale[c] = rstd * weight[c];
        shift[c] = bias[c] - mean * scale[c];
      }
    }
    applyPerChannel(x.subarray(base, base + C * S), 1, C, S, layout, scale, shift, y.subarray(base, base + C * S));
  }
}

/** Per-(sample, channel) mean and sqrt(var + eps) of a channel-layout tensor. */
function planeStats(x, N, C, S, layout, eps) {
  const mean = new Float64Array(N * C);
  const sigma = new Float64Array(N * C);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const m =
        layout === 'NCHW' ? moments(x, (n * C + c) * S, S, 1) : moments(x, n * C * S + c, S, C);
      mean[n * C + c] = m.mean;
      sigma[n * C + c] = Math.sqrt(m.variance + eps);
    }
  }
  return { mean, sigma };
}

function adaIN(x, N, C, S, style, sN, sS, layout, eps, y) {
  const content = planeStats(x, N, C, S, layout, eps);
  const target = planeStats(style, sN, C, sS, layout, eps);
  const scale = new Float64Array(C);
  const shift = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const k = n * C + c;
      const t = (sN === 1 ? 0 : n * C) + c;
      scale[c] = target.sigma[t] / content.sigma[k];
      shift[c] = target.mean[t] - content.mean[k] * scale[c];
    }
    const base = n * C * S;
    applyPerChannel(x.subarray(base, base + C * S), 1, C, S, layout, scale, shift, y.subarray(base, base + C * S));
  }
}

// Issue 10's kinds. Separate functions (the ones above stay exactly as the older cases time them): the
// option done the way a hand-written version would, as one more loop where it does not fit in.

/** y = y * sigmoid(y) in place: a pass after the op, as the activation layer that follows it. */
function siluInPlace(y) {
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    y[i] = v / (1 + Math.exp(-v));
  }
}

/** sum = x + residual + bias[channel] (float32 after each add), channel-last or NCHW. */
function skipSumPerChannel(x, residual, bias, N, C, S, layout, sum) {
  for (let i = 0; i < x.length; i++) {
    const c = layout === 'NHWC' ? i % C : Math.floor(i / S) % C;
    sum[i] = x[i] + residual[i];
    sum[i] += bias[c];
  }
}

/** LayerNorm whose weight and bias are one row per sample ([B, 1, d]): AdaLN's modulation. */
function layerNormPerSample(x, rows, d, rowsPerSample, weight, bias, eps, y) {
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    const p = Math.floor(r / rowsPerSample) * d;
    const { mean, variance } = moments(x, o, d, 1);
    const rstd = 1 / Math.sqrt(variance + eps);
    for (let i = 0; i < d; i++) y[o + i] = (x[o + i] - mean) * rstd * weight[p + i] + bias[p + i];
  }
}

/** x + residual + bias (float32 after each add) staged in y, then normalized in place. */
function skipLayerNormBias(x, residual, inputBias, rows, d, weight, bias, eps, y) {
  for (let i = 0; i < x.length; i++) {
    y[i] = x[i] + residual[i];
    y[i] += inputBias[i % d];
  }
  layerNorm(y, rows, d, weight, bias, eps, y);
}

/** N, C and spatial size of a channel-layout shape. */
function dims(shape, layout) {
  const C = layout === 'NHWC' ? shape.at(-1) : shape[1];
  return { N: shape[0], C, S: elements(shape) / (shape[0] * C) };
}

function prepare(c, inp) {
  const { eps, momentum } = SETTINGS;
  const { x, weight, bias } = inp;
  const y = new Float32Array(x.length);
  const d = inp.shape.at(-1);
  const rows = x.length / d;
  const { N, C, S } = dims(inp.shape, inp.layout);
  const stats = inp.runningMean && { runningMean: inp.runningMean.slice(), runningVar: inp.runningVar.slice() };
  const sum = c.kind === 'skipgroupnorm' ? new Float32Array(x.length) : undefined;
  const calls = {
    layernorm: () => layerNorm(x, rows, d, weight, bias, eps, y),
    skiplayernorm: () => skipLayerNorm(x, inp.residual, rows, d, weight, bias, eps, y),
    rmsnorm: () => rmsNorm(x, rows, d, weight, eps, y),
    batchnorm: () => batchNormInference(x, N, C, S, inp.layout, { ...inp, ...stats }, eps, y),
    'batchnorm-train': () => {
      // Restart from the same running statistics so every call does (and checks) the same update.
      stats.runningMean.set(inp.runningMean);
      stats.runningVar.set(inp.runningVar);
      batchNormTraining(x, N, C, S, inp.layout, { weight, bias, ...stats }, eps, momentum, y);
    },
    instancenorm: () => groupNorm(x, N, C, S, channelCount(c), inp.layout, weight, bias, eps, y),
    groupnorm: () => groupNorm(x, N, C, S, c.groups, inp.layout, weight, bias, eps, y),
    adain: () => {
      const s = dims(inp.styleShape, inp.layout);
      adaIN(x, N, C, S, inp.style, s.N, s.S, inp.layout, eps, y);
    },
    'groupnorm-silu': () => {
      groupNorm(x, N, C, S, c.groups, inp.layout, weight, bias, eps, y);
      siluInPlace(y);
    },
    skipgroupnorm: () => {
      skipSumPerChannel(x, inp.residual, inp.inputBias, N, C, S, inp.layout, sum);
      groupNorm(sum, N, C, S, c.groups, inp.layout, weight, bias, eps, y);
      siluInPlace(y);
    },
    'layernorm-adaln': () => layerNormPerSample(x, rows, d, rows / inp.weightShape[0], weight, bias, eps, y),
    'skiplayernorm-bias': () => skipLayerNormBias(x, inp.residual, inp.inputBias, rows, d, weight, bias, eps, y),
  };
  return {
    run: calls[c.kind],
    isAsync: false,
    read: () => ({ y, ...(c.kind === 'batchnorm-train' ? stats : {}), ...(sum ? { sum } : {}) }),
  };
}

export async function create() {
  return [
    {
      id: 'js',
      label: 'plain JS: Float32Array, two-pass statistics, preallocated output',
      info: {},
      // float32 only: issue 12's half-precision alternative in JS is normkit-js-convert.
      supports: (c) => !c.dtype,
      prepare,
    },
  ];
}
