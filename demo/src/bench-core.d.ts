import type * as Normkit from 'normkit';

export interface BenchCase {
  id: string;
  op: 'layerNorm' | 'rmsNorm' | 'groupNorm' | 'batchNorm';
  label: string;
  shape: number[];
  groups?: number;
}
export interface BenchRow {
  case: string;
  label: string;
  variant: string;
  medianMs: number;
  p99Ms: number;
  meanMs: number;
  samples: number;
  /** Calls averaged into each tinybench sample. */
  callsPerSample: number;
  gbPerS: number;
  maxAbsDiffVsPlainJs: number;
  speedupVsPlainJs?: number;
}
export interface BenchOptions {
  time?: number;
  warmupTime?: number;
  variants?: string[];
  /** Each sample batches enough calls to last at least this long (default 1 ms). */
  minSampleMs?: number;
}
export const BENCH_CASES: BenchCase[];
export const VARIANTS: string[];
export function batchSize(fn: () => unknown, now: () => number, minSampleMs?: number): number;
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number;
export function benchCase(
  Bench: typeof import('tinybench').Bench,
  nk: typeof Normkit,
  spec: BenchCase,
  options?: BenchOptions,
): Promise<BenchRow[]>;
