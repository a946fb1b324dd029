// The loops that bound a normalization kernel in wasm: how fast a 128-bit SIMD loop can copy, sum,
// take Σx and Σx² (the statistics pass) and write x·a + b (the apply pass) over linear memory, with the
// same four-vector step as normkit's kernels. bench/floor.mjs compiles this file twice, without and with
// relaxed SIMD, to show what a fused multiply-add would change. n must be a multiple of 16.
// Issue 12: the round trips through float32 of n half-precision values, in registers (assembly/half.ts's
// conversions): what any half-precision kernel does once per element on top of the float32 work.

import { widenF16x8Lo, widenF16x8Hi, widenBF16x8Lo, widenBF16x8Hi, narrowF16x8, narrowBF16x8 } from '../../assembly/half';

@inline function madd(a: v128, b: v128, c: v128): v128 {
  return ASC_FEATURE_RELAXED_SIMD ? f32x4.relaxed_madd(a, b, c) : f32x4.add(f32x4.mul(a, b), c);
}

// A reduction's result is returned so that no engine can drop the loop.
@inline function lanes(a: v128, b: v128, c: v128, d: v128): f32 {
  const v = f32x4.add(f32x4.add(a, b), f32x4.add(c, d));
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

export function copy(x: usize, y: usize, n: i32): void {
  const dy = y - x;
  const end = x + (<usize>n << 2);
  for (let p = x; p < end; p += 64) {
    v128.store(p + dy, v128.load(p));
    v128.store(p + dy, v128.load(p, 16), 16);
    v128.store(p + dy, v128.load(p, 32), 32);
    v128.store(p + dy, v128.load(p, 48), 48);
  }
}

export function sum(x: usize, n: i32): f32 {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
  const end = x + (<usize>n << 2);
  for (let p = x; p < end; p += 64) {
    a0 = f32x4.add(a0, v128.load(p));
    a1 = f32x4.add(a1, v128.load(p, 16));
    a2 = f32x4.add(a2, v128.load(p, 32));
    a3 = f32x4.add(a3, v128.load(p, 48));
  }
  return lanes(a0, a1, a2, a3);
}

export function moments(x: usize, n: i32): f32 {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
  let q0 = a0, q1 = a0, q2 = a0, q3 = a0;
  const end = x + (<usize>n << 2);
  for (let p = x; p < end; p += 64) {
    const v0 = v128.load(p);
    const v1 = v128.load(p, 16);
    const v2 = v128.load(p, 32);
    const v3 = v128.load(p, 48);
    a0 = f32x4.add(a0, v0);
    a1 = f32x4.add(a1, v1);
    a2 = f32x4.add(a2, v2);
    a3 = f32x4.add(a3, v3);
    q0 = madd(v0, v0, q0);
    q1 = madd(v1, v1, q1);
    q2 = madd(v2, v2, q2);
    q3 = madd(v3, v3, q3);
  }
  return lanes(a0, a1, a2, a3) + lanes(q0, q1, q2, q3);
}

export function affine(x: usize, y: usize, n: i32, a: f32, b: f32): void {
  const av = f32x4.splat(a);
  const bv = f32x4.splat(b);
  const dy = y - x;
  const end = x + (<usize>n << 2);
  for (let p = x; p < end; p += 64) {
    v128.store(p + dy, madd(v128.load(p), av, bv));
    v128.store(p + dy, madd(v128.load(p, 16), av, bv), 16);
    v128.store(p + dy, madd(v128.load(p, 32), av, bv), 32);
    v128.store(p + dy, madd(v128.load(p, 48), av, bv), 48);
  }
}

// A guarded do-while loop, as assembly/half.ts's array loops: V8 hoists the conversions' constants then.
@inline function roundTrip(x: usize, y: usize, n: i32, float16: bool): void {
  const dy = y - x;
  const end = x + (<usize>n << 1);
  let p = x;
  if (n >= 8) do {
    const v = v128.load(p);
    const h = float16 ? narrowF16x8(widenF16x8Lo(v), widenF16x8Hi(v)) : narrowBF16x8(widenBF16x8Lo(v), widenBF16x8Hi(v));
    v128.store(p + dy, h);
    p += 16;
  } while (p < end);
}

export function roundTripF16(x: usize, y: usize, n: i32): void {
  roundTrip(x, y, n, true);
}

export function roundTripBF16(x: usize, y: usize, n: i32): void {
  roundTrip(x, y, n, false);
}
