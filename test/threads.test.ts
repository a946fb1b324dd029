/**
 * Issue 11: threads. Every op of the registry gives the same bits with 1, 2, 3 and 8 threads, in copy mode
 * (which stays on the calling thread) and zero-copy, whether the threads share a call's units (rows,
 * samples) or the blocks inside a sample (groups, channels, batchNorm inference's rows); a trapping kernel
 * or an exiting worker makes the op throw WORKER_FAULT, and ready() rebuilds the pool. Runs in Node and in the browsers: where the page is not cross-origin isolated (no
 * shared memory), ready({ threads }) resolves to 1, which is checked instead.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as normkit from '../src/index.js';
import { close, ready, tensor } from '../src/index.js';
import { injectFault, setMinShare } from '../src/pool.js';
import { ENTRIES, cloneCall, outputsOf, tensorCall, type Call, type NormkitLike, type OpEntry } from './support/registry.js';
import { makeRng } from './support/rng.js';
import { randn } from './support/tensors.js';

const nk = normkit as unknown as NormkitLike;
const THREADS = [2, 3, 8];
/** Threads are available: Node, or a cross-origin isolated page. */
const threaded = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== false;

/** Random calls of the op with every option (issue 10's too), plus batches of one in both layouts. */
function callsOf(e: OpEntry): Call[] {
  const rng = makeRng(1100 + e.id.length);
  const calls = Array.from({ length: 10 }, (_, k) => e.generate(rng, { maxSize: 3000, issue10: true, optional: k % 3 === 0 ? 'all' : 'random' }).call);
  if (e.kind === 'channels') {
    for (const layout of ['NCHW', 'NHWC'] as const) {
      const shape = layout === 'NCHW' ? [1, 24, 5, 7] : [1, 5, 7, 24];
      const styleShape = layout === 'NCHW' ? [1, 24, 3, 3] : [1, 3, 3, 24];
      calls.push(e.generate(rng, { shape, layout, numGroups: 6, styleShape, issue10: true, optional: 'all' }).call);
    }
  }
  return calls;
}

/** Everything each call wrote, in copy mode then zero-copy (every argument a Tensor). */
function outputs(e: OpEntry, calls: Call[]): Float32Array[] {
  const all: Float32Array[] = [];
  for (const call of calls) {
    const plain = cloneCall(call);
    all.push(...outputsOf(e.id, plain, e.run(nk, plain)).map((a) => Float32Array.from(a)));
    const made: { free(): void }[] = [];
    const zero = tensorCall(e.id, cloneCall(call), tensor, made);
    all.push(...outputsOf(e.id, zero, e.run(nk, zero)).map((a) => Float32Array.from(a)));
    for (const t of made) t.free();
  }
  return all;
}

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

beforeAll(async () => {
  await ready({ threads: 1 });
});
afterAll(async () => {
  setMinShare();
  await close();
});

describe('threads: the same bits for every thread count', () => {
  for (const e of ENTRIES) {
    it(`${e.id}: 1 vs ${THREADS.join(', ')} threads, every call split as far as it goes`, async () => {
      const calls = callsOf(e);
      await ready({ threads: 1 });
      const expected = outputs(e, calls);
      setMinShare(1);
      try {
        for (const n of THREADS) {
          expect(await ready({ threads: n })).toBe(threaded ? n : 1);
          const got = outputs(e, calls);
          expect(got.length).toBe(expected.length);
          got.forEach((g, i) => expect(bits(g), `${n} threads, output ${i}`).toEqual(bits(expected[i])));
        }
      } finally {
        setMinShare();
        await ready({ threads: 1 });
      }
    });
  }

  it('large zero-copy calls split on their own (no test hook), with the same bits', async () => {
    const x = tensor(randn(makeRng(7), 320 * 32 * 32, 1, 2));
    const out = tensor(x.length);
    const stats = { runningMean: tensor(randn(makeRng(8), 320)), runningVar: tensor(new Float32Array(320).fill(2)) };
    // Per-sample modulation (AdaLN) and a plain weight beside Tensors: plain inputs staged whole, still shared.
    const modulation = tensor(randn(makeRng(9), 32 * 320));
    const plainWeight = randn(makeRng(10), 1024);
    const run = () => [
      normkit.layerNorm(x, [32, 32, 320], { weight: modulation, weightShape: [32, 1, 320], out }),
      normkit.layerNorm(x, [320, 1024], { weight: plainWeight, out }),
      normkit.groupNorm(x, [1, 320, 32, 32], 32, { activation: 'silu', out }),
      normkit.groupNorm(x, [1, 32, 32, 320], 32, { layout: 'NHWC', out }),
      normkit.layerNorm(x, [320, 1024], { out }),
      normkit.batchNorm(x, [4, 80, 32, 32], { training: true, out }),
      normkit.batchNorm(x, [1, 32, 32, 320], { layout: 'NHWC', out, ...stats }),
    ].map((y) => y.slice());
    await ready({ threads: 1 });
    const expected = run();
    expect(await ready({ threads: 2 })).toBe(threaded ? 2 : 1);
    run().forEach((y, i) => expect(bits(y), `call ${i}`).toEqual(bits(expected[i])));
    await ready({ threads: 1 });
    for (const t of [x, out, modulation, stats.runningMean, stats.runningVar]) t.free();
  });
});

describe.runIf(threaded)('threads: faults', () => {
  // Zero-copy: copy mode stays on the calling thread.
  let x: ReturnType<typeof tensor>;
  let out: ReturnType<typeof tensor>;
  beforeAll(() => {
    x = tensor(Float32Array.from({ length: 64 * 256 }, (_, i) => Math.sin(i)));
    out = tensor(x.length);
  });
  afterAll(() => {
    x.free();
    out.free();
  });
  const expected = () => normkit.layerNorm(x, [64, 256], { out }).slice();

  const does = { trap: 'traps', exit: 'exits', hang: 'never answers (past the 2 s wait)' } as const;
  for (const kind of ['trap', 'exit', 'hang'] as const) {
    it(`a worker that ${does[kind]} makes the op throw WORKER_FAULT; ready() rebuilds the pool`, async () => {
      await ready({ threads: 1 });
      const want = expected();
      expect(await ready({ threads: 2 })).toBe(2);
      setMinShare(1);
      try {
        injectFault(kind);
        expect(() => normkit.layerNorm(x, [64, 256], { out })).toThrow(expect.objectContaining({ name: 'NormkitError', code: 'WORKER_FAULT' }));
        // Until ready() rebuilds the pool, calls run on the calling thread.
        expect(bits(expected())).toEqual(bits(want));
        expect(await ready()).toBe(2);
        expect(bits(expected())).toEqual(bits(want));
      } finally {
        setMinShare();
        await ready({ threads: 1 });
      }
    });
  }
});
