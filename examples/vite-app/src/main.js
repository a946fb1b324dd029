// A user's app: normkit comes from node_modules through its package.json "exports".
import { groupNorm, layerNorm, ready, tensor, NormkitError } from 'normkit';

const status = document.getElementById('status');
const pre = document.getElementById('result');

function seeded(n, seed) {
  // Small deterministic input (integer LCG), so the test can recompute the same data in Node.
  const x = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = (s >>> 8) / (1 << 24) * 8 - 4;
  }
  return x;
}

try {
  await ready();

  // LayerNorm over rows of a [4, 10] matrix.
  const x = seeded(40, 7);
  const y = layerNorm(x, [4, 10]);

  // GroupNorm with zero-copy tensors living in wasm memory.
  const t = tensor(seeded(2 * 6 * 3 * 3, 11));
  const g = groupNorm(t, [2, 6, 3, 3], 3, { out: t });
  const gOut = Array.from(t.array);
  t.free();

  // Errors are typed.
  let errorCode = null;
  try {
    layerNorm(x, [4, 11]);
  } catch (e) {
    errorCode = e instanceof NormkitError ? e.code : String(e);
  }

  const rowMean = Array.from({ length: 4 }, (_, r) => y.slice(r * 10, r * 10 + 10).reduce((a, b) => a + b, 0) / 10);
  const result = {
    layerNorm: Array.from(y),
    rowMean,
    groupNorm: gOut,
    groupNormReturnedTensor: g === t,
    errorCode,
    crossOriginIsolated: globalThis.crossOriginIsolated ?? false,
  };
  window.normkitResult = result;
  pre.textContent = JSON.stringify({ ...result, layerNorm: result.layerNorm.slice(0, 5), groupNorm: gOut.slice(0, 5) }, null, 2);
  status.textContent = 'done';
} catch (e) {
  status.textContent = 'error';
  pre.textContent = String(e && e.stack ? e.stack : e);
  window.normkitResult = { error: String(e) };
}
