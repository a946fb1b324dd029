// worker_threads (issue 5): every worker gets its own wasm instance and memory, which works on its own and
// concurrently with others and with the main thread: NOT_READY before its ready(), then the same bits as the
// main thread in copy mode and zero-copy, while its memory grows independently of everyone else's.
// The workers load a build of src/ made here with TypeScript's transpiler, so they test the current source.
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as normkit from '../src/index.js';
import { memoryStats, ready, tensor } from '../src/index.js';
import { assertClose, sameFloat32 } from './support/compare.js';
import { refOps, type NormOps } from './support/ops.js';
import { makeRng } from './support/rng.js';
import { randn, randu } from './support/tensors.js';
import { transpileSource } from './support/transpile.js';

type Call = [keyof NormOps, unknown[]];

/** One call of every op (the last argument is the options object; the workers add out = x for zero-copy). */
function makeCalls(seed: number): Call[] {
  const rng = makeRng(seed);
  const x = randn(rng, 2 * 6 * 35, 1, 3);
  return [
    ['layerNorm', [x, [12, 35], { weight: randn(rng, 35), bias: randn(rng, 35), residual: randn(rng, x.length) }]],
    ['rmsNorm', [x, [2, 6, 35], { axis: 1, weight: randn(rng, 6 * 35) }]],
    ['batchNorm', [x, [2, 6, 35], { runningMean: randn(rng, 6), runningVar: randu(rng, 6, 0.5, 2), weight: randn(rng, 6) }]],
    ['batchNorm', [x, [2, 35, 6], { layout: 'NHWC', training: true, bias: randn(rng, 6) }]],
    ['instanceNorm', [x, [2, 6, 5, 7], { weight: randn(rng, 6) }]],
    ['groupNorm', [x, [2, 5, 7, 6], 3, { layout: 'NHWC', bias: randn(rng, 6) }]],
    ['adaIN', [x, [2, 6, 35], randn(rng, 6 * 9, 4, 2), [1, 6, 9], { eps: 1e-3 }]],
  ];
}

interface WorkerResult {
  notReady: string;
  statsAtStart: { memoryBytes: number; allocatedBytes: number; blocks: number };
  statsAtEnd: { memoryBytes: number; allocatedBytes: number; blocks: number };
  results: Array<{ plain: Float32Array; zero: Float32Array }>;
}

function runWorker(moduleUrl: string, calls: Call[], repeat: number, growBytes: number): Promise<WorkerResult> {
  return new Promise((resolvePromise, reject) => {
    const worker = new Worker(new URL('./support/normkit-worker.mjs', import.meta.url), {
      workerData: { moduleUrl, calls, repeat, growBytes },
    });
    worker.once('message', (m: WorkerResult) => {
      resolvePromise(m);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0 && code !== 1) reject(new Error(`worker exited with code ${code}`));
    });
  });
}

let moduleUrl: string;
let build: ReturnType<typeof transpileSource> | undefined;
beforeAll(async () => {
  build = transpileSource();
  moduleUrl = build.indexUrl;
  await ready();
});
afterAll(() => build?.remove());

const nk = normkit as unknown as Record<string, (...a: unknown[]) => Float32Array>;

describe('worker_threads', () => {
  it('four workers at once, each with its own instance: NOT_READY first, then the main thread\'s bits', async () => {
    // The main thread holds a tensor and keeps computing while the workers run.
    const mainTensor = tensor(randn(makeRng(1), 1000));
    const mainCopy = mainTensor.array.slice();
    const mainStats = memoryStats();
    const seeds = [11, 12, 13, 14];
    const pending = seeds.map((seed, k) => runWorker(moduleUrl, makeCalls(seed), 30, k % 2 === 0 ? 32 << 20 : 0));
    // Main-thread results for the same calls.
    const expected = seeds.map((seed) => makeCalls(seed).map(([op, args]) => nk[op](...args).slice()));
    const results = await Promise.all(pending);
    results.forEach((r, k) => {
      expect(r.notReady, `worker ${k}`).toBe('NOT_READY');
      expect(r.results.length).toBe(expected[k].length);
      r.results.forEach(({ plain, zero }, j) => {
        expect(sameFloat32(plain, expected[k][j]), `worker ${k} call ${j}: copy mode`).toBe(true);
        expect(sameFloat32(zero, expected[k][j]), `worker ${k} call ${j}: zero-copy`).toBe(true);
      });
      // Its own memory: the growing workers grew by their 32 MiB tensor, the others did not.
      if (k % 2 === 0) expect(r.statsAtEnd.memoryBytes).toBeGreaterThanOrEqual(r.statsAtStart.memoryBytes + (32 << 20));
      else expect(r.statsAtEnd.memoryBytes).toBeLessThan(16 << 20);
    });
    // The workers' growth did not touch the main thread's memory or tensors.
    expect(memoryStats().memoryBytes).toBe(mainStats.memoryBytes);
    expect(sameFloat32(mainTensor.array, mainCopy)).toBe(true);
    mainTensor.free();
    // And the results are right, not just identical.
    const [op, args] = makeCalls(11)[0];
    const a = args as [Float32Array, number[], object];
    assertClose(results[0].results[0].plain, refOps[op as 'layerNorm'](a[0], a[1], a[2]));
  }, 60_000);

  it('a worker can be terminated in the middle of its work without affecting the main thread', async () => {
    const worker = new Worker(new URL('./support/normkit-worker.mjs', import.meta.url), {
      workerData: { moduleUrl, calls: makeCalls(5), repeat: 100_000, growBytes: 0 },
    });
    await new Promise((r) => setTimeout(r, 300));
    await worker.terminate();
    const x = randn(makeRng(3), 64);
    assertClose(normkit.layerNorm(x, [8, 8]), refOps.layerNorm(x, [8, 8]));
  }, 30_000);
});
