/**
 * Element-wise comparison against the float64 reference. The suite-wide criterion is
 * |actual - expected| <= 1e-4 * max(1, |expected|), with NaN exactly where expected is NaN
 * (and an infinite expected value matched exactly).
 */
export const TOL = 1e-4;

export interface Worst {
  index: number;
  actual: number;
  expected: number;
  /** |actual - expected| / max(1, |expected|) (or Infinity for a NaN / Inf mismatch). */
  error: number;
}

export interface Comparison {
  ok: boolean;
  /** Largest scaled error over all elements (NaN-matched elements count as 0). */
  maxError: number;
  worst?: Worst;
  /** Number of failing elements. */
  failures: number;
  lengthMismatch?: boolean;
}

export interface Tolerance {
  /** Pass when |a - e| <= atol + rtol * |e|. Default: the suite criterion (atol = rtol = TOL, scaled by max(1, |e|)). */
  atol?: number;
  rtol?: number;
}

/** Scaled error of one element under the suite criterion; Infinity when NaN/Inf do not match. */
export function elementError(actual: number, expected: number): number {
  if (Number.isNaN(expected) || Number.isNaN(actual)) return Number.isNaN(expected) && Number.isNaN(actual) ? 0 : Infinity;
  if (!Number.isFinite(expected) || !Number.isFinite(actual)) return actual === expected ? 0 : Infinity;
  return Math.abs(actual - expected) / Math.max(1, Math.abs(expected));
}

export function compare(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance = {}): Comparison {
  if (actual.length !== expected.length)
    return { ok: false, maxError: Infinity, failures: Math.max(actual.length, expected.length), lengthMismatch: true };
  const custom = tol.atol !== undefined || tol.rtol !== undefined;
  const atol = tol.atol ?? 0;
  const rtol = tol.rtol ?? 0;
  let maxError = 0;
  let failures = 0;
  let worst: Worst | undefined;
  let worstScore = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const error = elementError(a, e);
    let fail: boolean;
    let score: number;
    if (custom && Number.isFinite(error)) {
      const bound = atol + rtol * Math.abs(e);
      const diff = Math.abs(a - e);
      fail = !(diff <= bound);
      score = bound > 0 ? diff / bound : diff === 0 ? 0 : Infinity;
    } else {
      fail = !(error <= TOL);
      score = error;
    }
    if (fail) failures++;
    if (error > maxError) maxError = error;
    if (score > worstScore) {
      worstScore = score;
      worst = { index: i, actual: a, expected: e, error };
    }
  }
  return { ok: failures === 0, maxError, worst, failures };
}

/** Human-readable summary of a comparison (for assertion messages). */
export function describeComparison(c: Comparison, label = ''): string {
  const head = label ? `${label}: ` : '';
  if (c.lengthMismatch) return `${head}length mismatch`;
  const w = c.worst;
  const where = w ? ` worst at [${w.index}]: actual ${w.actual}, expected ${w.expected} (scaled error ${w.error.toExponential(3)})` : '';
  return `${head}${c.failures} element(s) out of tolerance, max scaled error ${c.maxError.toExponential(3)};${where}`;
}

/** Throws with the worst element named unless `actual` matches `expected` within the tolerance; returns the max error. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, label = '', tol: Tolerance = {}): number {
  if (actual.length !== expected.length)
    throw new Error(`${label ? label + ': ' : ''}length ${actual.length}, expected ${expected.length}`);
  const c = compare(actual, expected, tol);
  if (!c.ok) throw new Error(describeComparison(c, label));
  return c.maxError;
}

/** Equality of the float32 values of two arrays, bit for bit except that any NaN equals any NaN; -0 differs from 0. */
export function sameFloat32(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(Math.fround(a[i]), Math.fround(b[i]))) return false;
  return true;
}

/** Tracks the largest error seen across many comparisons. */
export class ErrorTracker {
  max = 0;
  where = '';
  count = 0;
  record(error: number, where: string): void {
    this.count++;
    if (error > this.max) {
      this.max = error;
      this.where = where;
    }
  }
}
