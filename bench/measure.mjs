// Timing one implementation on one case: calls are batched so a tinybench sample lasts at least
// MIN_SAMPLE_US (timer resolution and per-sample overhead stay negligible for sub-microsecond calls),
// and the reported figure is the median sample divided by the batch size.
import { Bench } from 'tinybench';

const MIN_SAMPLE_US = 50;
const CALIBRATION_MS = 2;

function batched(run, isAsync, k) {
  if (isAsync) {
    return async () => {
      for (let i = 0; i < k; i++) await run();
    };
  }
  return () => {
    for (let i = 0; i < k; i++) run();
  };
}

/** Per-call time estimate from doubling rounds; it also gets the first tier of JIT compilation done. */
async function estimateCallMs(run, isAsync) {
  let calls = 1;
  for (;;) {
    const fn = batched(run, isAsync, calls);
    const t0 = performance.now();
    await fn();
    const elapsed = performance.now() - t0;
    if (elapsed >= CALIBRATION_MS || calls >= 1 << 20) return elapsed / calls;
    calls *= 2;
  }
}

/**
 * @param {() => unknown} run one call of the implementation (may return a promise when isAsync)
 * @param {{time: number, warmupTime: number}} budget milliseconds of measured and warm-up time
 * @returns {Promise<{medianUs: number, batch: number, samples: number}>}
 */
export async function measure(run, isAsync, { time, warmupTime }) {
  globalThis.gc?.();
  const callMs = await estimateCallMs(run, isAsync);
  const batch = Math.max(1, Math.ceil(MIN_SAMPLE_US / 1000 / callMs));
  const bench = new Bench({
    time,
    warmupTime,
    // Slow calls (tens of ms) would otherwise need seconds for tinybench's default 64 iterations.
    iterations: 8,
    warmupIterations: 2,
    timestampProvider: 'hrtimeNow',
    throws: true,
  });
  bench.add('call', batched(run, isAsync, batch));
  await bench.run();
  const { result } = bench.tasks[0];
  if (result.state !== 'completed') throw new Error(`tinybench: task ${result.state}`);
  return { medianUs: (result.latency.p50 * 1000) / batch, batch, samples: result.latency.samplesCount };
}
