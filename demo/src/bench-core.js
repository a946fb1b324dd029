// The benchmark tasks of the demo's live benchmark, as plain JavaScript so the very same code runs in the
// browser (bundled by Vite) and in Node (demo/node-vs-chromium.mjs). The normkit module and tinybench's
// Bench class are passed in, so this file imports nothing environment-specific.
import { plainBatchNormInference, plainGroupNorm, plainLayerNorm, plainRmsNorm } from './plain-js.js';

/** The reference shapes. */
export const BENCH_CASES = [
  { id: 'layerNorm-128x768', op: 'layerNorm', label: 'layerNorm [128, 768]', shape: [128, 768] },
  { id: 'rmsNorm-32x4096', op: 'rmsNorm', label: 'rmsNorm [32, 4096]', shape: [32, 4096] },
  {
    id: 'groupNorm-1x128x32x32',
    op: 'groupNorm',
    label: 'groupNorm [1, 128, 32, 32], 32 groups',
    shape: [1, 128, 32, 32],
    groups: 32,
  },
  {
    id: 'batchNorm-8x64x28x28',
    op: 'batchNorm',
    label: 'batchNorm inference [8, 64, 28, 28]',
    shape: [8, 64, 28, 28],
  },
];

export const VARIANTS = ['normkit (copy)', 'normkit (zero-copy)', 'plain JS'];

function seeded(length, seed, offset = 0, scale = 1) {
  const a = new Float32Array(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = offset + scale * ((s >>> 8) / 16777216 - 0.5) * 3.4;
  }
  return a;
}

/**
 * Allocates the inputs of one case and returns one function per variant, plus each variant's output
 * (for the correctness check) and a dispose() that frees the wasm tensors.
 */
export function prepareCase(nk, spec) {
  const { op, shape } = spec;
  const size = shape.reduce((a, b) => a * b, 1);
  const x = seeded(size, 1234, 0.5, 2);
  const out = new Float32Array(size);
  const outJs = new Float32Array(size);
  const C = op === 'layerNorm' || op === 'rmsNorm' ? shape[shape.length - 1] : shape[1];
  const weight = seeded(C, 99, 1, 0.2);
  const bias = seeded(C, 77, 0, 0.2);
  const runningMean = seeded(C, 55, 0.5, 0.2);
  const runningVar = seeded(C, 33, 2, 0.5).map(Math.abs);

  const t = {
    x: nk.tensor(x),
    out: nk.tensor(size),
    weight: nk.tensor(weight),
    bias: nk.tensor(bias),
    runningMean: nk.tensor(runningMean),
    runningVar: nk.tensor(runningVar),
  };
  const rows = size / C;
  const S = op === 'groupNorm' || op === 'batchNorm' ? size / (shape[0] * shape[1]) : 0;

  let copy, zero, plain;
  switch (op) {
    case 'layerNorm':
      copy = () => nk.layerNorm(x, shape, { weight, bias, out });
      zero = () => nk.layerNorm(t.x, shape, { weight: t.weight, bias: t.bias, out: t.out });
      plain = () => plainLayerNorm(x, rows, C, weight, bias, 1e-5, outJs);
      break;
    case 'rmsNorm':
      copy = () => nk.rmsNorm(x, shape, { weight, out });
      zero = () => nk.rmsNorm(t.x, shape, { weight: t.weight, out: t.out });
      plain = () => plainRmsNorm(x, rows, C, weight, 1e-5, outJs);
      break;
    case 'groupNorm':
      copy = () => nk.groupNorm(x, shape, spec.groups, { weight, bias, out });
      zero = () => nk.groupNorm(t.x, shape, spec.groups, { weight: t.weight, bias: t.bias, out: t.out });
      plain = () => plainGroupNorm(x, shape[0], C, S, spec.groups, weight, bias, 1e-5, outJs);
      break;
    case 'batchNorm':
      copy = () => nk.batchNorm(x, shape, { weight, bias, runningMean, runningVar, out });
      zero = () =>
        nk.batchNorm(t.x, shape, {
          weight: t.weight,
          bias: t.bias,
          runningMean: t.runningMean,
          runningVar: t.runningVar,
          out: t.out,
        });
      plain = () => plainBatchNormInference(x, shape[0], C, S, weight, bias, runningMean, runningVar, 1e-5, outJs);
      break;
    default:
      throw new Error(`unknown op ${op}`);
  }
  return {
    size,
    /** Bytes a pass must move at least: read x, write y. */
    bytes: 8 * size,
    variants: [
      { name: VARIANTS[0], fn: copy, output: () => out },
      { name: VARIANTS[1], fn: zero, output: () => t.out.array },
      { name: VARIANTS[2], fn: plain, output: () => outJs },
    ],
    dispose() {
      for (const k of Object.keys(t)) t[k].free();
    },
  };
}

/** Largest |a - b|. */
export function maxAbsDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * How many back-to-back calls one timing sample must batch to last at least `minSampleMs`. Browsers step
 * performance.now() by 5 µs even when cross-origin isolated (100 µs when not), which would quantize
 * single-call samples of a 25 µs op. The count is chosen after warm-up (at least `warmupMs` of calls, so
 * that the engine has optimized the code), from a probe of at least 5 ms, with a 20 % margin.
 */
export function callsPerSample(fn, now, { minSampleMs = 1, warmupMs = 100 } = {}) {
  let calls = 0;
  let t0 = now();
  do {
    fn();
    calls++;
  } while (calls < 5 || now() - t0 < warmupMs);
  const probeMs = Math.max(5, 5 * minSampleMs);
  calls = 0;
  t0 = now();
  let t;
  do {
    fn();
    calls++;
    t = now();
  } while (calls < 5 || t - t0 < probeMs);
  const perCall = (t - t0) / calls;
  return Math.max(1, Math.ceil((1.2 * minSampleMs) / Math.max(perCall, 1e-6)));
}

/**
 * Times every variant of one case with tinybench; resolves to one row per variant.
 * Per variant: warm-up (`warmupTime` ms), then the calls per sample are chosen (callsPerSample), then
 * tinybench times samples for `time` ms (and at least 64 samples). Each tinybench sample is the mean of
 * its back-to-back calls (tinybench's overriddenDuration and overriddenIterationCost), so the reported
 * median is a median of per-call times. A sample that still comes in under `minSampleMs` (the machine got
 * faster after the probe) runs more calls until it lasts that long, and is counted in `extendedSamples`;
 * `minSampleMs` in a row is the shortest sample actually timed.
 * `options.variants` limits the variants by name; `time` and `warmupTime` are in milliseconds;
 * `options.onProgress({ variant, index, count, phase, fraction })` reports progress within the case
 * (`fraction` of the current variant's timing, at most every 100 ms).
 */
export async function benchCase(Bench, nk, spec, options = {}) {
  const { time = 500, warmupTime = Math.min(200, time), variants, minSampleMs = 1, onProgress } = options;
  const threads = await nk.ready({ threads: options.threads ?? 1 });
  const prepared = prepareCase(nk, spec);
  try {
    const chosen = prepared.variants.filter((v) => !variants || variants.includes(v.name));
    // Run each once and compare with plain JS, so a fast wrong answer cannot win.
    for (const v of prepared.variants) v.fn();
    const ref = prepared.variants[2].output();
    const rows = [];
    for (const [index, v] of chosen.entries()) {
      const report = (phase, fraction) =>
        onProgress?.({ case: spec.id, variant: v.name, index, count: chosen.length, phase, fraction });
      report('warm-up', 0);
      const bench = new Bench({ time, warmup: false, throws: true });
      const now = () => bench.now();
      const k = callsPerSample(v.fn, now, { minSampleMs, warmupMs: warmupTime });
      const fn = v.fn;
      let shortest = Infinity;
      let extended = 0;
      let tStart = now();
      let lastReport = tStart;
      report('timing', 0);
      bench.add(v.name, () => {
        const t0 = now();
        let calls = 0;
        for (; calls < k; calls++) fn();
        let t = now();
        if (t - t0 < minSampleMs) {
          extended++;
          while (t - t0 < minSampleMs) {
            fn();
            calls++;
            t = now();
          }
        }
        const elapsed = t - t0;
        if (elapsed < shortest) shortest = elapsed;
        if (t - lastReport > 100) {
          lastReport = t;
          report('timing', Math.min(1, (t - tStart) / time));
        }
        return { overriddenDuration: elapsed / calls, overriddenIterationCost: elapsed };
      });
      tStart = now();
      await bench.run();
      report('timing', 1);
      const task = bench.tasks[0];
      const r = task.result;
      if (!r || !('latency' in r)) throw new Error(`${spec.label} / ${task.name}: ${r?.state ?? 'no result'}`);
      rows.push({
        case: spec.id,
        label: spec.label,
        variant: task.name,
        medianMs: r.latency.p50,
        p99Ms: r.latency.p99,
        meanMs: r.latency.mean,
        samples: r.latency.samplesCount,
        callsPerSample: k,
        minSampleMs: shortest,
        extendedSamples: extended,
        threads,
        gbPerS: prepared.bytes / (r.latency.p50 * 1e-3) / 1e9,
        maxAbsDiffVsPlainJs: maxAbsDiff(v.output(), ref),
      });
    }
    const js = rows.find((r) => r.variant === VARIANTS[2]);
    for (const r of rows) r.speedupVsPlainJs = js ? js.medianMs / r.medianMs : undefined;
    return rows;
  } finally {
    prepared.dispose();
  }
}
