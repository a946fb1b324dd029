/**
 * The live benchmark's Web Worker: runs the reference cases (bench-core.js) off the page's main thread, so
 * the page stays responsive, and posts progress and each case's rows as they finish. Cancelling is the
 * page terminating this worker.
 */
import { Bench } from 'tinybench';
import * as nk from 'normkit';
import { BENCH_CASES, benchCase, type BenchRow } from './bench-core.js';

export type ToWorker = { type: 'run'; time: number; cases?: string[]; variants?: string[]; threads?: number | 'auto' };
export type FromWorker =
  | { type: 'progress'; fraction: number; text: string }
  | { type: 'rows'; rows: BenchRow[] }
  | { type: 'done' }
  | { type: 'error'; message: string };

const post = (m: FromWorker) => (self as unknown as Worker).postMessage(m);

self.onmessage = async (e: MessageEvent<ToWorker>) => {
  const { time, cases, variants, threads } = e.data;
  const specs = BENCH_CASES.filter((c) => !cases || cases.includes(c.id));
  try {
    for (const [i, spec] of specs.entries()) {
      const rows = await benchCase(Bench, nk, spec, {
        time,
        variants,
        threads,
        onProgress: (p) => {
          const within = (p.index + (p.phase === 'warm-up' ? 0 : 0.15 + 0.85 * p.fraction)) / p.count;
          post({
            type: 'progress',
            fraction: (i + within) / specs.length,
            text: `${spec.label} (${i + 1}/${specs.length}): ${p.variant}, ${p.phase === 'warm-up' ? 'warming up' : 'timing'}`,
          });
        },
      });
      post({ type: 'rows', rows });
    }
    post({ type: 'done' });
  } catch (err) {
    post({ type: 'error', message: String(err) });
  }
};
