type F = Float32Array;
export function plainLayerNorm(x: F, rows: number, cols: number, weight: F, bias: F, eps: number, out: F): F;
export function plainRmsNorm(x: F, rows: number, cols: number, weight: F, eps: number, out: F): F;
export function plainGroupNorm(x: F, N: number, C: number, S: number, G: number, weight: F, bias: F, eps: number, out: F): F;
export function plainBatchNormInference(x: F, N: number, C: number, S: number, weight: F, bias: F, runningMean: F, runningVar: F, eps: number, out: F): F;
