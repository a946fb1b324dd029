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
  /** Calls averaged into each tinybench sample (chosen after warm-up). */
  callsPerSample: number;
  /** The shortest sample timed, in ms (at least minSampleMs). */
  minSampleMs: number;
  /** Samples that came in short and ran extra calls to reach minSampleMs. */
  extendedSamples: number;
  /** Threads normkit ran on (ready({ threads }) resolved to it; 1 without cross-origin isolation). */
  threads: number;
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
  /** normkit's ready({ threads }) (default 1). */
  threads?: number | 'auto';
  onProgress?: (p: BenchProgress) => void;
}
export interface BenchProgress {
  case: string;
  variant: string;
  /** Index of the variant within the case, and the number of variants. */
  index: number;
  count: number;
  phase: 'warm-up' | 'timing';
  /** Fraction of the variant's timing budget spent. */
  fraction: number;
}
export const BENCH_CASES: BenchCase[];
export const VARIANTS: string[];
export function callsPerSample(
  fn: () => unknown,
  now: () => number,
  options?: { minSampleMs?: number; warmupMs?: number },
): number;
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number;
export function benchCase(
  Bench: typeof import('tinybench').Bench,
  nk: typeof Normkit,
  spec: BenchCase,
  options?: BenchOptions,
): Promise<BenchRow[]>;
