/**
 * Deterministic size sweep (issue 9 item 5), in the XNNPACK manner: every kernel family against the float64
 * reference at every size around its tile and block boundaries, with every optional input and output, in
 * copy mode and zero-copy (which must also agree bit for bit). The tolerance is the differential test's:
 * |a - e| <= 1e-4 * max(1, |e|), statistics in units of the data's spread.
 * - contiguous groups (layerNorm, rmsNorm, and instanceNorm, groupNorm, adaIN, batchNorm over NCHW planes):
 *   group lengths 1..33, 63..65, 255..257, 1023..1025, 4095..4097;
 * - channel-last columns (instanceNorm, groupNorm, batchNorm training and inference, adaIN, NHWC): C from 1
 *   to 33 (so around 4, 16 and 32), with few rows and with more rows than one 16 KiB column tile;
 * - strided runs (batchNorm NCHW over N = 1..9 samples, odd spatial sizes), training and inference.
 * Runs in Node and Chromium.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as normkit from '../src/index.js';
import type { Layout } from '../src/reference.js';
import { compare, describeComparison, sameFloat32 } from './support/compare.js';
import {
  cloneCall, comparedOutputs, REGISTRY, tensorCall, type GenOptions, type NormkitLike, type OpId,
} from './support/registry.js';
import { makeRng } from './support/rng.js';
import { TILE_CHANNELS, TILE_GROUP_LENGTHS } from './support/tensors.js';

const nk = normkit as unknown as NormkitLike;

/** x's distributions: ordinary data, and an offset of 1e3 standard deviations. */
const DATA = [
  { offset: 0.5, scale: 2 },
  { offset: 1000, scale: 1 },
] as const;

interface Point {
  label: string;
  g: GenOptions;
}

/**
 * Runs `op` at every point in both modes and with both data sets; returns the failures (at most a few per
 * test) and the largest scaled error.
 */
function sweep(op: OpId, points: Point[], seed: number): { failures: string[]; max: number; runs: number } {
  const e = REGISTRY[op];
  const rng = makeRng(seed);
  const failures: string[] = [];
  let max = 0;
  let runs = 0;
  const fail = (msg: string) => {
    if (failures.length < 8) failures.push(msg);
  };
  for (const p of points) {
    for (const data of DATA) {
      const { call, scale } = e.generate(rng, { optional: 'all', eps: 1e-5, data, ...p.g });
      const label = `${op} ${p.label} offset ${data.offset}`;
      const ref = cloneCall(call);
      const want = comparedOutputs(op, ref, e.reference(ref), scale);
      const plain = cloneCall(call);
      const got = comparedOutputs(op, plain, e.run(nk, plain), scale);
      const made: { free(): void }[] = [];
      let zero: ArrayLike<number>[];
      try {
        const tc = tensorCall(op, cloneCall(call), normkit.tensor, made);
        zero = comparedOutputs(op, tc, e.run(nk, tc), scale).map((a) => Float64Array.from(a));
      } finally {
        for (const t of made) t.free();
      }
      runs += 2;
      got.forEach((actual, k) => {
        const c = compare(actual, want[k]);
        if (c.maxError > max) max = c.maxError;
        if (!c.ok) fail(describeComparison(c, `${label} output ${k} (copy mode)`));
        if (!sameFloat32(zero[k], actual)) fail(`${label} output ${k}: zero-copy bits differ from copy mode`);
      });
    }
  }
  return { failures, max, runs };
}

const maxErrors: string[] = [];

function sweepTest(title: string, op: OpId, points: Point[], seed: number): void {
  it(`${title}: ${points.length} sizes`, () => {
    const r = sweep(op, points, seed);
    maxErrors.push(`${title} ${r.max.toExponential(2)}`);
    expect(r.failures, r.failures.join('\n')).toEqual([]);
  });
}

const smallestFactor = (C: number) => {
  for (let f = 2; f <= C; f++) if (C % f === 0) return f;
  return 1;
};

/** Rows that fill one 16 KiB column tile of C channels, plus a few (a second, partial tile). */
const pastTile = (C: number) => Math.floor(4096 / C) + 5;

beforeAll(() => normkit.ready());

describe('size sweep against the float64 reference', () => {
  describe('contiguous groups: lengths 1..33, 63..65, 255..257, 1023..1025, 4095..4097', () => {
    const L = TILE_GROUP_LENGTHS;
    sweepTest('layerNorm [3, L]', 'layerNorm', L.map((n) => ({ label: `[3, ${n}]`, g: { shape: [3, n] } })), 1);
    sweepTest('rmsNorm [3, L]', 'rmsNorm', L.map((n) => ({ label: `[3, ${n}]`, g: { shape: [3, n] } })), 2);
    sweepTest('layerNorm [2, 3, L] over the last two axes (group 3L)', 'layerNorm',
      L.map((n) => ({ label: `[2, 3, ${n}] axis 1`, g: { shape: [2, 3, n], axis: 1 } })), 3);
    sweepTest('instanceNorm NCHW [2, 3, L]', 'instanceNorm',
      L.map((n) => ({ label: `NCHW [2, 3, ${n}]`, g: { shape: [2, 3, n], layout: 'NCHW' } })), 4);
    sweepTest('groupNorm NCHW [2, 4, L], 2 groups (group 2L)', 'groupNorm',
      L.map((n) => ({ label: `NCHW [2, 4, ${n}] G=2`, g: { shape: [2, 4, n], layout: 'NCHW', numGroups: 2 } })), 5);
    sweepTest('adaIN NCHW [2, 3, L], style [1, 3, L]', 'adaIN',
      L.map((n) => ({ label: `NCHW [2, 3, ${n}]`, g: { shape: [2, 3, n], layout: 'NCHW', styleShape: [1, 3, n] } })), 6);
    sweepTest('batchNorm training NCHW [2, 3, L]', 'batchNormTraining',
      L.map((n) => ({ label: `NCHW [2, 3, ${n}]`, g: { shape: [2, 3, n], layout: 'NCHW' } })), 7);
    sweepTest('batchNorm inference NCHW [2, 3, L]', 'batchNorm',
      L.map((n) => ({ label: `NCHW [2, 3, ${n}]`, g: { shape: [2, 3, n], layout: 'NCHW' } })), 8);
  });

  describe('channel-last columns: C from 1 to 33, few rows and past one column tile', () => {
    const nhwc = (C: number, rows: number, N = 2): Point => ({
      label: `NHWC [${N}, ${rows}, ${C}]`, g: { shape: [N, rows, C], layout: 'NHWC' as Layout },
    });
    const both = (N: number, rows: (C: number) => number) => TILE_CHANNELS.flatMap((C) => [nhwc(C, 37, N), nhwc(C, rows(C), N)]);
    sweepTest('instanceNorm NHWC', 'instanceNorm', both(2, pastTile), 11);
    sweepTest('groupNorm NHWC, C / (smallest factor) groups', 'groupNorm',
      both(2, pastTile).map((p) => {
        const C = (p.g.shape as number[])[2];
        return { label: `${p.label} G=${C / smallestFactor(C)}`, g: { ...p.g, numGroups: C / smallestFactor(C) } };
      }), 12);
    sweepTest('groupNorm NHWC, one group', 'groupNorm', both(2, pastTile).map((p) => ({ label: `${p.label} G=1`, g: { ...p.g, numGroups: 1 } })), 13);
    sweepTest('batchNorm training NHWC', 'batchNormTraining', both(3, (C) => Math.ceil(pastTile(C) / 3)), 14);
    sweepTest('batchNorm inference NHWC', 'batchNorm', both(3, (C) => Math.ceil(pastTile(C) / 3)), 15);
    sweepTest('adaIN NHWC, style batch N and 1', 'adaIN',
      TILE_CHANNELS.flatMap((C) => [
        { label: `NHWC [2, 37, ${C}] style [2, 11, ${C}]`, g: { shape: [2, 37, C], layout: 'NHWC' as Layout, styleShape: [2, 11, C] } },
        { label: `NHWC [2, ${pastTile(C)}, ${C}] style [1, ${pastTile(C)}, ${C}]`, g: { shape: [2, pastTile(C), C], layout: 'NHWC' as Layout, styleShape: [1, pastTile(C), C] } },
      ]), 16);
    sweepTest('batchNorm training [N, C] (rows of C channels)', 'batchNormTraining',
      TILE_CHANNELS.map((C) => ({ label: `[37, ${C}]`, g: { shape: [37, C] } })), 17);
  });

  describe('strided runs: batchNorm NCHW over N = 1..9 samples', () => {
    const N9 = Array.from({ length: 9 }, (_, i) => i + 1);
    const runs = N9.flatMap((N) => [3, 37, 257].map((HW) => ({ label: `NCHW [${N}, 3, ${HW}]`, g: { shape: [N, 3, HW], layout: 'NCHW' as Layout } })));
    sweepTest('batchNorm training, N runs of 3, 37 and 257', 'batchNormTraining', runs, 21);
    sweepTest('batchNorm inference, N runs of 3, 37 and 257', 'batchNorm', runs, 22);
    sweepTest('batchNorm training, 4-D odd planes', 'batchNormTraining',
      N9.map((N) => ({ label: `NCHW [${N}, 5, 3, 7]`, g: { shape: [N, 5, 3, 7], layout: 'NCHW' as Layout } })), 23);
  });

  it('reports the largest error per sweep', () => {
    console.log(`size sweep: max scaled error per sweep: ${maxErrors.join(', ')}`);
    expect(maxErrors.length).toBeGreaterThan(0);
  });
});
