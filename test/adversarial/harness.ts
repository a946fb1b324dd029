/**
 * Shared helpers of the adversarial suite (issue 16): bit comparison, error capture, victim tensors and
 * the float64 comparison at the suite's adversarial bound (1e-5 relative to the output scale).
 */
import { expect } from 'vitest';
import { NormkitError, tensor, type Tensor } from '../../src/index.js';
import { elementError } from '../support/compare.js';

/** True when running in a browser (vitest's chromium project); big cases are thinned there. */
export const IN_BROWSER = typeof window !== 'undefined' && typeof document !== 'undefined';

export const bitsOf = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

/** Number of elements whose float32 bits differ, with the first difference (for messages). */
export function diffBits(actual: Float32Array, expected: Float32Array): { count: number; first: number } {
  if (actual.length !== expected.length) return { count: Math.max(actual.length, expected.length), first: -1 };
  const a = bitsOf(actual);
  const e = bitsOf(expected);
  let count = 0;
  let first = -1;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== e[i]) {
      if (first < 0) first = i;
      count++;
    }
  }
  return { count, first };
}

/** Fails unless the two arrays hold the same float32 bits, naming how many differ and the first one. */
export function expectSameBits(actual: Float32Array, expected: Float32Array, label: string): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  const d = diffBits(actual, expected);
  if (d.count > 0) {
    expect.fail(
      `${label}: ${d.count} of ${expected.length} elements differ in bits; first at [${d.first}]: ` +
        `${actual[d.first]} instead of ${expected[d.first]}`,
    );
  }
}

/** What a call did: its value, or the error it threw. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

export function attempt<T>(f: () => T): Outcome<T> {
  try {
    return { ok: true, value: f() };
  } catch (error) {
    return { ok: false, error };
  }
}

export function describeError(e: unknown): string {
  if (e instanceof NormkitError) return `NormkitError ${e.code}: ${e.message}`;
  if (e instanceof Error) return `${e.constructor.name}: ${e.message}`;
  return String(e);
}

export const isNormkitError = (e: unknown, code?: string): e is NormkitError =>
  e instanceof NormkitError && (code === undefined || e.code === code);

/**
 * A Tensor of known contents allocated after the call's own tensors: any write outside the call's
 * outputs lands in it (the allocator is first-fit, so it follows the last allocation).
 */
export class Victim {
  readonly t: Tensor;
  readonly snapshot: Float32Array;
  constructor(length = 4096) {
    this.snapshot = Float32Array.from({ length }, (_, i) => i + 0.5);
    this.t = tensor(this.snapshot);
  }
  /** Elements that changed since allocation. */
  changed(): number {
    return diffBits(this.t.array, this.snapshot).count;
  }
  free(): void {
    this.t.free();
  }
}

/**
 * |actual - expected| / max(1, |expected|) <= 1e-5 (the bound, scaled as test/support/compare.ts
 * does), with NaN exactly where expected is NaN and infinities matched exactly; a finite expected value
 * must get a finite result. Returns a message for the worst element, or undefined when all pass.
 */
export function checkClose(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string, tol = 1e-5): string | undefined {
  if (actual.length !== expected.length) return `${label}: length ${actual.length}, expected ${expected.length}`;
  let worst = -1;
  let worstError = 0;
  let failures = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = elementError(actual[i], expected[i]);
    if (!(err <= tol)) failures++;
    if (!(err <= worstError)) {
      worstError = err;
      worst = i;
    }
  }
  if (failures === 0) return undefined;
  return (
    `${label}: ${failures} of ${expected.length} outside ${tol} of float64; worst [${worst}]: ` +
    `${actual[worst]} instead of ${expected[worst]} (scaled error ${worstError})`
  );
}

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string, tol = 1e-5): void {
  const m = checkClose(actual, expected, label, tol);
  if (m) expect.fail(m);
}
