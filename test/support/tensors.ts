/** Random tensors, shapes and layout helpers for the tests. */
import type { Rng } from './rng.js';

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Float32Array of `offset + scale * N(0, 1)`. */
export function randn(rng: Rng, length: number, offset = 0, scale = 1): Float32Array {
  const a = new Float32Array(length);
  for (let i = 0; i < length; i++) a[i] = offset + scale * rng.normal();
  return a;
}

/** Float32Array of uniform values in [lo, hi). */
export function randu(rng: Rng, length: number, lo: number, hi: number): Float32Array {
  const a = new Float32Array(length);
  for (let i = 0; i < length; i++) a[i] = rng.uniform(lo, hi);
  return a;
}

/**
 * Group lengths around the kernels' tile and block boundaries (SIMD 4, 16 lanes of accumulators, ROW_BLOCK
 * 256, BLOCK 1024, 4096), for the size sweep and the output-hash corpus.
 */
export const TILE_GROUP_LENGTHS: readonly number[] = [
  ...Array.from({ length: 33 }, (_, i) => i + 1),
  63, 64, 65, 255, 256, 257, 1023, 1024, 1025, 4095, 4096, 4097,
];
/** Channel counts of the channel-last sweeps: 1 to 33 (around 4, 16 and 32). */
export const TILE_CHANNELS: readonly number[] = Array.from({ length: 33 }, (_, i) => i + 1);

/** Odd and awkward extents (not multiples of 4 or 16) mixed with round ones. */
export const SMALL_DIMS = [1, 2, 3, 4, 5, 7, 8, 9, 13, 15, 16, 17, 31, 33] as const;
export const LARGE_DIMS = [63, 64, 65, 127, 257, 769, 1023, 1025, 4099] as const;

/** A random shape of the given rank whose size stays under `maxSize` (small extents mostly). */
export function randShape(rng: Rng, rank: number, maxSize: number): number[] {
  for (;;) {
    const shape = Array.from({ length: rank }, () =>
      rng.chance(0.08) ? rng.pick(LARGE_DIMS) : rng.pick(SMALL_DIMS),
    );
    if (sizeOf(shape) <= maxSize) return shape;
  }
}

/** Reorders an NCHW tensor [N, C, ...S] into NHWC [N, ...S, C]; returns the new data and shape. */
export function toNHWC(x: ArrayLike<number>, shape: readonly number[]): { data: Float32Array; shape: number[] } {
  const [N, C] = shape;
  const S = sizeOf(shape.slice(2));
  const data = new Float32Array(x.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) data[(n * S + s) * C + c] = x[(n * C + c) * S + s];
  return { data, shape: [N, ...shape.slice(2), C] };
}

/** Inverse of {@link toNHWC}: NHWC [N, ...S, C] to NCHW [N, C, ...S]. */
export function toNCHW(x: ArrayLike<number>, shape: readonly number[]): { data: Float32Array; shape: number[] } {
  const N = shape[0];
  const C = shape[shape.length - 1];
  const S = sizeOf(shape.slice(1, -1));
  const data = new Float32Array(x.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) data[(n * C + c) * S + s] = x[(n * S + s) * C + c];
  return { data, shape: [N, C, ...shape.slice(1, -1)] };
}

/** Element index of (n, c, s) for a channel-layout tensor. */
export function channelIndex(layout: 'NCHW' | 'NHWC', C: number, S: number, n: number, c: number, s: number): number {
  return layout === 'NCHW' ? (n * C + c) * S + s : (n * S + s) * C + c;
}
