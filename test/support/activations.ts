// Float64 references for the activations of assembly/activations.ts, and the ulp distance the tests measure
// them by. JavaScript has no Math.erf: erfc below is W. J. Cody's rational Chebyshev approximation
// ("Rational Chebyshev approximations for the error function", Math. Comp. 23 (1969) 631-638; the
// coefficients of his CALERF), accurate to about 1e-16 relative over the whole line, with exp(-x²) taken
// in two factors so that x²'s rounding does not cost accuracy at large x.

/** The activations in the order of the kind codes of assembly/activations.ts (1, 2, 3, 4). */
export const ACTIVATIONS = ['relu', 'silu', 'gelu', 'gelu_tanh'] as const;
export type Activation = (typeof ACTIVATIONS)[number];
export const ACTIVATION_KIND: Record<Activation, number> = { relu: 1, silu: 2, gelu: 3, gelu_tanh: 4 };

// erf on [0, 0.46875]: x·A(x²)/B(x²)
const A = [3.1611237438705656, 113.864154151050156, 377.485237685302021, 3209.37758913846947, 0.185777706184603153];
const B = [23.6012909523441209, 244.024637934444173, 1282.61652607737228, 2844.23683343917062];
// erfc on (0.46875, 4]: exp(-x²)·C(x)/D(x)
const C = [
  0.564188496988670089, 8.88314979438837594, 66.1191906371416295, 298.635138197400131, 881.95222124176909,
  1712.04761263407058, 2051.07837782607147, 1230.33935479799725, 2.15311535474403846e-8,
];
const D = [
  15.7449261107098347, 117.693950891312499, 537.181101862009858, 1621.38957456669019, 3290.79923573345963,
  4362.61909014324716, 3439.36767414372164, 1230.33935480374942,
];
// erfc above 4: exp(-x²)/x·(1/√π - z·P(z)/Q(z)), z = 1/x²
const P = [0.305326634961232344, 0.360344899949804439, 0.125781726111229246, 0.0160837851487422766, 6.58749161529837803e-4, 0.0163153871373020978];
const Q = [2.56852019228982242, 1.87295284992346047, 0.527905102951428412, 0.0605183413124413191, 2.33520497626869185e-3];
const INV_SQRT_PI = 0.56418958354775628695;

/** exp(-y²) for y >= 0, as exp(-s²)·exp(-(y - s)(y + s)) with s = y rounded down to 1/16 (s² is exact). */
function expMinusSquare(y: number): number {
  const s = Math.trunc(y * 16) / 16;
  return Math.exp(-s * s) * Math.exp(-(y - s) * (y + s));
}

/** erf(y) for 0 <= y <= 0.46875. */
function erfSmall(y: number): number {
  const z = y * y;
  let num = A[4] * z;
  let den = z;
  for (let i = 0; i < 3; i++) {
    num = (num + A[i]) * z;
    den = (den + B[i]) * z;
  }
  return (y * (num + A[3])) / (den + B[3]);
}

/** erfc(y) for y >= 0. */
function erfcPositive(y: number): number {
  if (y <= 0.46875) return 1 - erfSmall(y);
  if (y <= 4) {
    let num = C[8] * y;
    let den = y;
    for (let i = 0; i < 7; i++) {
      num = (num + C[i]) * y;
      den = (den + D[i]) * y;
    }
    return expMinusSquare(y) * ((num + C[7]) / (den + D[7]));
  }
  if (y >= 27.3) return 0; // below the smallest subnormal double
  const z = 1 / (y * y);
  let num = P[5] * z;
  let den = z;
  for (let i = 0; i < 4; i++) {
    num = (num + P[i]) * z;
    den = (den + Q[i]) * z;
  }
  const r = (z * (num + P[4])) / (den + Q[4]);
  return (expMinusSquare(y) * (INV_SQRT_PI - r)) / y;
}

/** The complementary error function, to about 1e-16 relative (2 - erfc(-x) for negative x). */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  return x >= 0 ? erfcPositive(x) : 2 - erfcPositive(-x);
}

/** The error function: Cody's odd rational near 0, 1 - erfc(|x|) beyond, to about 1e-16 relative. */
export function erf(x: number): number {
  const y = Math.abs(x);
  if (Number.isNaN(y)) return NaN;
  const e = y <= 0.46875 ? erfSmall(y) : 1 - erfcPositive(y);
  return x < 0 ? -e : x > 0 ? e : x;
}

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
