// Straightforward plain-JavaScript normalizations: the baseline of the live benchmark. Two passes per
// group (mean, then centred variance) with float64 accumulators, then one apply pass.

export function plainLayerNorm(x, rows, cols, weight, bias, eps, out) {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let sum = 0;
    for (let i = 0; i < cols; i++) sum += x[o + i];
    const mean = sum / cols;
    let ss = 0;
    for (let i = 0; i < cols; i++) {
      const d = x[o + i] - mean;
      ss += d * d;
    }
    const rstd = 1 / Math.sqrt(ss / cols + eps);
    for (let i = 0; i < cols; i++) out[o + i] = (x[o + i] - mean) * rstd * weight[i] + bias[i];
  }
  return out;
}

export function plainRmsNorm(x, rows, cols, weight, eps, out) {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let ss = 0;
    for (let i = 0; i < cols; i++) ss += x[o + i] * x[o + i];
    const inv = 1 / Math.sqrt(ss / cols + eps);
    for (let i = 0; i < cols; i++) out[o + i] = x[o + i] * inv * weight[i];
  }
  return out;
}

/** NCHW: x is [N, C, S]; G groups of C/G channels each. */
export function plainGroupNorm(x, N, C, S, G, weight, bias, eps, out) {
  const cpg = C / G;
  const len = cpg * S;
  for (let n = 0; n < N; n++)
    for (let g = 0; g < G; g++) {
      const o = (n * C + g * cpg) * S;
      let sum = 0;
      for (let i = 0; i < len; i++) sum += x[o + i];
      const mean = sum / len;
      let ss = 0;
      for (let i = 0; i < len; i++) {
        const d = x[o + i] - mean;
        ss += d * d;
      }
      const rstd = 1 / Math.sqrt(ss / len + eps);
      for (let k = 0; k < cpg; k++) {
        const c = g * cpg + k;
        const a = rstd * weight[c];
        const b = bias[c] - mean * a;
        const base = o + k * S;
        for (let i = 0; i < S; i++) out[base + i] = x[base + i] * a + b;
      }
    }
  return out;
}

/** NCHW inference: per-channel y = x * a + b from the running statistics. */
export function plainBatchNormInference(x, N, C, S, weight, bias, runningMean, runningVar, eps, out) {
  for (let c = 0; c < C; c++) {
    const a = weight[c] / Math.sqrt(runningVar[c] + eps);
    const b = bias[c] - runningMean[c] * a;
    for (let n = 0; n < N; n++) {
      const base = (n * C + c) * S;
      for (let i = 0; i < S; i++) out[base + i] = x[base + i] * a + b;
    }
  }
  return out;
}
