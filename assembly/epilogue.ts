// The activations the apply family runs after x * a + b (the `activation` option), as the epilogue of
// its loops. Every engine computes the same bits: plain SIMD128 and scalar arithmetic only, with fixed
// polynomials, and AssemblyScript's own Math.exp compiled into the module. The vector and scalar forms give
// the same bits for the same element, so a group's result does not depend on where its elements fall
// relative to the loops' tails.
//
// relu and silu run four lanes at a time in f32; gelu and gelu_tanh are taken per element in f64 (their
// tails need erfc and a cubic that f32 cannot carry to 4 ulps), which is correct and slower.

import {
  EPILOGUE_IDENTITY, EPILOGUE_RELU, EPILOGUE_SILU, EPILOGUE_GELU, EPILOGUE_GELU_TANH,
} from './abi';

// ---- exp in f32x4 ----------------------------------------------------------------------------------------
// Cephes' expf: k = round(x / ln 2), r = x - k ln 2 in two steps (C1 has few bits, so k * C1 is exact), a
// degree-6 polynomial on |r| <= ln 2 / 2, and 2^k built in the exponent bits. About 1 ulp.
const LOG2E: f32 = 1.44269504088896341;
const C1: f32 = 0.693359375;
const C2: f32 = -2.12194440e-4;
const P0: f32 = 1.9875691500e-4;
const P1: f32 = 1.3981999507e-3;
const P2: f32 = 8.3334519073e-3;
const P3: f32 = 4.1665795894e-2;
const P4: f32 = 1.6666665459e-1;
const P5: f32 = 5.0000001201e-1;
// Clamped so that 2^k stays a normal f32: beyond, e^x is 0 or Inf in f32 anyway, and the activations
// built on it need only its size there.
const EXP_MIN: f32 = -87.3;
const EXP_MAX: f32 = 88.3;

@inline function exp4(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(EXP_MIN)), f32x4.splat(EXP_MAX));
  const k = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  let r = f32x4.sub(x, f32x4.mul(k, f32x4.splat(C1)));
  r = f32x4.sub(r, f32x4.mul(k, f32x4.splat(C2)));
  let p = f32x4.splat(P0);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P4));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P5));
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(k), i32x4.splat(127)), 23);
  return f32x4.mul(p, scale);
}

// ---- gelu and gelu_tanh in f64 ------------------------------------------------------------------------------
// W. J. Cody's rational approximations of erf and erfc (Math. Comp. 23, 1969; netlib specfun CALERF),
// relative error about 1e-16 on each interval.
@inline function erfSmall(x: f64): f64 {
  const z = x * x;
  const num = ((((0.185777706184603153 * z + 3.1611237438705656) * z + 113.864154151050156) * z +
    377.485237685302021) * z + 3209.37758913846947);
  const den = ((((z + 23.6012909523441209) * z + 244.024637934444173) * z + 1282.61652607737228) * z +
    2844.23683343917062);
  return x * num / den;
}

// erfc(y) for y > 0.46875, exp(-y^2) split as exp(-ysq^2) exp(-del) so that its rounding stays small.
function erfcLarge(y: f64): f64 {
  let r: f64;
  if (y <= 4) {
    let num = 2.15311535474403846e-8 * y;
    let den = y;
    num = (num + 0.564188496988670089) * y; den = (den + 15.7449261107098347) * y;
    num = (num + 8.88314979438837594) * y; den = (den + 117.693950891312499) * y;
    num = (num + 66.1191906371416295) * y; den = (den + 537.181101862009858) * y;
    num = (num + 298.635138197400131) * y; den = (den + 1621.38957456669019) * y;
    num = (num + 881.95222124176909) * y; den = (den + 3290.79923573345963) * y;
    num = (num + 1712.04761263407058) * y; den = (den + 4362.61909014324716) * y;
    num = (num + 2051.07837782607147) * y; den = (den + 3439.36767414372164) * y;
    r = (num + 1230.33935479799725) / (den + 1230.33935480374942);
  } else {
    if (y >= 26.7) return 0;
    const z = 1 / (y * y);
    let num = 0.0163153871373020978 * z;
    let den = z;
    num = (num + 0.305326634961232344) * z; den = (den + 2.56852019228982242) * z;
    num = (num + 0.360344899949804439) * z; den = (den + 1.87295284992346047) * z;
    num = (num + 0.125781726111229246) * z; den = (den + 0.527905102951428412) * z;
    num = (num + 0.0160837851487422766) * z; den = (den + 0.0605183413124413191) * z;
    r = z * (num + 6.58749161529837803e-4) / (den + 0.00233520497626869185);
    r = (0.56418958354775628695 - r) / y;
  }
  const ysq = Math.trunc(16 * y) / 16;
  const del = (y - ysq) * (y + ysq);
  return Math.exp(-ysq * ysq) * Math.exp(-del) * r;
}

@inline function erfc(x: f64): f64 {
  const y = Math.abs(x);
  if (y <= 0.46875) return 1 - erfSmall(x);
  const r = erfcLarge(y);
  return x < 0 ? 2 - r : r;
}

const SQRT1_2: f64 = 0.70710678118654752440;
const SQRT_2_OVER_PI: f64 = 0.79788456080286535588;

// 0.5 y (1 + erf(y / sqrt 2)) as 0.5 y erfc(-y / sqrt 2), which does not cancel for negative y.
function gelu(y: f32): f32 {
  if (y == -Infinity) return -0.0;
  const v = <f64>y;
  return <f32>(0.5 * v * erfc(-v * SQRT1_2));
}

// 0.5 y (1 + tanh(u)) as y / (1 + e^(-2u)), the same without the cancellation for negative y.
function geluTanh(y: f32): f32 {
  if (y == -Infinity) return -0.0;
  if (y == Infinity) return y;
  const v = <f64>y;
  const u = SQRT_2_OVER_PI * (v + 0.044715 * v * v * v);
  return <f32>(v / (1 + Math.exp(-2 * u)));
}

@inline function perLane(v: v128, kind: i32): v128 {
  let r = v;
  if (kind == EPILOGUE_GELU) {
    r = f32x4.replace_lane(r, 0, gelu(f32x4.extract_lane(v, 0)));
    r = f32x4.replace_lane(r, 1, gelu(f32x4.extract_lane(v, 1)));
    r = f32x4.replace_lane(r, 2, gelu(f32x4.extract_lane(v, 2)));
    r = f32x4.replace_lane(r, 3, gelu(f32x4.extract_lane(v, 3)));
  } else {
    r = f32x4.replace_lane(r, 0, geluTanh(f32x4.extract_lane(v, 0)));
    r = f32x4.replace_lane(r, 1, geluTanh(f32x4.extract_lane(v, 1)));
    r = f32x4.replace_lane(r, 2, geluTanh(f32x4.extract_lane(v, 2)));
    r = f32x4.replace_lane(r, 3, geluTanh(f32x4.extract_lane(v, 3)));
  }
  return r;
}

/** The activation `kind` (an EPILOGUE_ constant, a literal at the inlined call site) of four lanes. */
@inline export function activate4(v: v128, kind: i32): v128 {
  if (kind == EPILOGUE_RELU) return f32x4.max(v, f32x4.splat(0)); // max propagates NaN; relu(-0) is +0
  if (kind == EPILOGUE_SILU) {
    // y / (1 + e^-y). Below -EXP_MAX e^-y passes the f32 range and the true result (under 1e-36) is -0
    // in effect; so is the limit at -Inf, where y * sigmoid(y) would be -Inf * 0.
    const y = f32x4.div(v, f32x4.add(f32x4.splat(1), exp4(f32x4.neg(v))));
    return v128.bitselect(f32x4.splat(-0.0), y, f32x4.lt(v, f32x4.splat(-EXP_MAX)));
  }
  if (kind == EPILOGUE_GELU || kind == EPILOGUE_GELU_TANH) return perLane(v, kind);
  return v; // EPILOGUE_IDENTITY
}

/** The same activation of one value, with the bits activate4 gives its lane. */
@inline export function activate1(y: f32, kind: i32): f32 {
  if (kind == EPILOGUE_IDENTITY) return y;
  if (kind == EPILOGUE_GELU) return gelu(y);
  if (kind == EPILOGUE_GELU_TANH) return geluTanh(y);
  return f32x4.extract_lane(activate4(f32x4.splat(y), kind), 0);
}
