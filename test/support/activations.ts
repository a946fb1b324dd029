// Float64 references for the activations of assembly/activations.ts, and the ulp distance the tests measure
// them by. JavaScript has no Math.erf: erf and erfc come from the float64 reference (src/reference.ts, W. J.
// Cody's rational approximations, about 1e-16 relative).

import { erf, erfc } from '../../src/reference.js';

/** The activations in the order of the kind codes of assembly/activations.ts (1, 2, 3, 4). */
export const ACTIVATIONS = ['relu', 'silu', 'gelu', 'gelu_tanh'] as const;
export type Activation = (typeof ACTIVATIONS)[number];
export const ACTIVATION_KIND: Record<Activation, number> = { relu: 1, silu: 2, gelu: 3, gelu_tanh: 4 };

// erf and erfc in float64 are the reference's (Cody's rational approximations, src/reference.ts).
export { erf, erfc };
/** erfc(y) for y >= 0. */
const erfcPositive = (y: number): number => erfc(y);

const SQRT1_2 = Math.SQRT1_2;
const TANH_C1 = 2 * 0.7978845608028654; // 2·√(2/π): 0.5·(1 + tanh(z/2)) = 1/(1 + e^-z)
const TANH_C3 = TANH_C1 * 0.044715;

// Each reference takes the limit where the formula would give NaN (at -Infinity) and NaN only from NaN.

export function relu64(x: number): number {
  return x < 0 ? 0 : x; // -0 and NaN pass through, as in the kernel
}

export function silu64(x: number): number {
  if (x === -Infinity) return -0;
  return x / (1 + Math.exp(-x));
}

// √½ = SQRT1_2_HI + SQRT1_2_LO + SQRT1_2_REST: the first has 24 bits, so that a float32 times it is exact.
const SQRT1_2_HI = 0.7071067690849304;
const SQRT1_2_LO = 1.2101617152815436e-8; // Math.SQRT1_2 - SQRT1_2_HI, exact
const SQRT1_2_REST = -4.8336466567264565e-17; // √½ - Math.SQRT1_2

/**
 * x·Φ(x), Φ(x) = erfc(-x/√2)/2, to about 1e-16 relative everywhere (for negative x down to the last
 * subnormal). y = |x|/√2 is rounded, and erfc(y) would carry that rounding times 2y² (1e-14 at y = 10), so
 * the rounding error d is taken exactly and applied as erfc(y + d) = erfc(y)·(1 - 2y·d). x is a float32.
 */
export function gelu64(x: number): number {
  if (x === -Infinity) return -0;
  if (x === Infinity) return Infinity;
  const a = Math.abs(x);
  const hi = a * SQRT1_2_HI; // exact
  const lo = a * SQRT1_2_LO;
  const y = hi + lo;
  const d = hi - y + lo + a * SQRT1_2_REST;
  const tail = 0.5 * erfcPositive(y) * (1 - 2 * y * d); // Φ(-|x|)
  return x < 0 ? x * tail : x * (1 - tail);
}

/** 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), as x/(1 + e^-z) to stay exact where tanh → -1. */
export function geluTanh64(x: number): number {
  if (x === -Infinity) return -0;
  if (x === Infinity) return Infinity;
  const z = x * (TANH_C1 + TANH_C3 * x * x);
  return x / (1 + Math.exp(-z));
}

export const REFERENCE: Record<Activation, (x: number) => number> = {
  relu: relu64,
  silu: silu64,
  gelu: gelu64,
  gelu_tanh: geluTanh64,
};

/** The bounds: 4 ulps of the float64 result rounded to float32, or 1e-7 absolute below 1e-7. */
export const ULP_BOUND = 4;
export const NEAR_ZERO = 1e-7;

const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);

/** float32 bits as an integer that orders like the values (both zeros at 0). */
export function orderedBits(x: number): number {
  f32[0] = x;
  const b = i32[0];
  return b < 0 ? -(b & 0x7fffffff) : b;
}

/** How many float32 values lie between y and ref rounded to float32 (0 when equal, ±0 equal). */
export function ulpDistance(y: number, ref: number): number {
  return Math.abs(orderedBits(y) - orderedBits(Math.fround(ref)));
}

/** The worst errors of one activation over a set of inputs, by the rule and more finely. */
export interface ErrorSummary {
  count: number;
  /** Largest ulp distance where |reference| >= 1e-7: the bound of 4 applies here. */
  maxUlp: number;
  maxUlpAt: number;
  /** Largest ulp distance where the reference is a normal float32 (|reference| >= 2^-126). */
  maxUlpNormal: number;
  maxUlpNormalAt: number;
  /** The largest |reference| where the ulp distance exceeds 4 (0 if none): ulps hold above it. */
  largestOverBound: number;
  /** Largest absolute error where |reference| < 1e-7. */
  maxAbsNearZero: number;
  /** Inputs that break the rule (first few), and how many. */
  failures: number;
  failuresAt: number[];
  /** NaN where the reference is a number, or a number where it is NaN. */
  nanMismatches: number;
}

export function emptySummary(): ErrorSummary {
  return {
    count: 0, maxUlp: 0, maxUlpAt: NaN, maxUlpNormal: 0, maxUlpNormalAt: NaN, largestOverBound: 0, maxAbsNearZero: 0,
    failures: 0, failuresAt: [], nanMismatches: 0,
  };
}

const MIN_NORMAL = 2 ** -126;

/** Folds y = activation(x) (float32 values, as the kernel wrote them) into the summary. */
export function accumulate(s: ErrorSummary, act: Activation, xs: Float32Array, ys: Float32Array): ErrorSummary {
  const ref = REFERENCE[act];
  const pair = new Float32Array(2); // y and the reference rounded to float32 (by the store)
  const bits = new Int32Array(pair.buffer);
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    const y = ys[i];
    const r = ref(x);
    if (r !== r || y !== y) {
      if ((r !== r) !== (y !== y)) {
        s.nanMismatches++;
        s.failures++;
        if (s.failuresAt.length < 8) s.failuresAt.push(x);
      }
      continue;
    }
    pair[0] = y;
    pair[1] = r;
    const by = bits[0];
    const br = bits[1];
    const d = Math.abs((by < 0 ? -(by & 0x7fffffff) : by) - (br < 0 ? -(br & 0x7fffffff) : br));
    const ar = Math.abs(r);
    if (ar >= NEAR_ZERO) {
      if (d > s.maxUlp) {
        s.maxUlp = d;
        s.maxUlpAt = x;
      }
    } else {
      const e = Math.abs(y - r);
      if (e > s.maxAbsNearZero) s.maxAbsNearZero = e;
    }
    if (d > ULP_BOUND) {
      if (ar > s.largestOverBound) s.largestOverBound = ar;
      if (!(ar < NEAR_ZERO && Math.abs(y - r) <= NEAR_ZERO)) {
        s.failures++;
        if (s.failuresAt.length < 8) s.failuresAt.push(x);
      }
    }
    if (ar >= MIN_NORMAL && d > s.maxUlpNormal) {
      s.maxUlpNormal = d;
      s.maxUlpNormalAt = x;
    }
  }
  s.count += xs.length;
  return s;
}
