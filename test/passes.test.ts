// Copy mode takes tensors larger than one pass (128 Ki floats) a slice at a time, while zero-copy runs in
// one pass: the two must agree bit for bit on every op that slices, with passes ending mid-tensor, odd
// sizes, every optional input and output, and Tensors mixed with plain arrays (sliced by pointer offset).
import { beforeAll, describe, expect, it } from 'vitest';
import { adaIN, batchNorm, groupNorm, instanceNorm, layerNorm, ready, rmsNorm, tensor, type Tensor } from '../src/index.js';
import { assertClose } from './support/compare.js';
import { refOps } from './support/ops.js';
import { makeRng } from './support/rng.js';
import { randn, randu } from './support/tensors.js';

beforeAll(ready);

const rng = makeRng(77);
const live: Tensor[] = [];
const T = (a: Float32Array): Tensor => {
  const t = tensor(a);
  live.push(t);
  return t;
};
const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
function sameBits(actual: Float32Array, expected: Float32Array, label: string): void {
  expect(actual.length, label).toBe(expected.length);
  const a = bits(actual);
  const e = bits(expected);
  for (let i = 0; i < a.length; i++) if (a[i] !== e[i]) expect(`${label}[${i}] = ${actual[i]}`).toBe(`${label}[${i}] = ${expected[i]}`);
}

describe('copy mode in several passes equals zero-copy in one', () => {
  it('layerNorm with residual, sumOut, mean and invStd (rows of 769, 401 rows)', () => {
    const rows = 401, n = 769, shape = [rows, n];
    const x = randn(rng, rows * n, 3, 2), residual = randn(rng, rows * n), weight = randn(rng, n), bias = randn(rng, n);
    const plain = { y: new Float32Array(x.length), sum: new Float32Array(x.length), mean: new Float32Array(rows), invStd: new Float32Array(rows) };
    layerNorm(x, shape, { weight, bias, residual, sumOut: plain.sum, out: plain.y, mean: plain.mean, invStd: plain.invStd });
    const [tx, tr, tw, tb, ty, ts, tm, ti] = [x, residual, weight, bias].map(T).concat(
      [x.length, x.length, rows, rows].map((l) => T(new Float32Array(l))),
    );
    layerNorm(tx, shape, { weight: tw, bias: tb, residual: tr, sumOut: ts, out: ty, mean: tm, invStd: ti });
    sameBits(plain.y, ty.array, 'y');
    sameBits(plain.sum, ts.array, 'sumOut');
    sameBits(plain.mean, tm.array, 'mean');
    sameBits(plain.invStd, ti.array, 'invStd');
    const ref = refOps.layerNorm(x, shape, { weight, bias, residual });
    assertClose(plain.y, ref, 'layerNorm vs reference');
  });

  it('rmsNorm, plain x into a Tensor out and a Tensor x into a plain out (rows of 4099)', () => {
    const rows = 67, n = 4099, shape = [rows, n];
    const x = randn(rng, rows * n), weight = randn(rng, n);
    const reference = rmsNorm(T(x), shape, { weight: T(weight), out: T(new Float32Array(x.length)) }).slice();
    const toTensor = T(new Float32Array(x.length));
    rmsNorm(x, shape, { weight, out: toTensor });
    sameBits(toTensor.array, reference, 'plain x -> Tensor out');
    sameBits(rmsNorm(T(x), shape, { weight }), reference, 'Tensor x -> new array');
    const inPlace = x.slice();
    rmsNorm(inPlace, shape, { weight, out: inPlace });
    sameBits(inPlace, reference, 'in place');
  });

  for (const layout of ['NCHW', 'NHWC'] as const) {
    it(`groupNorm and instanceNorm ${layout}, 5 samples of 77,824 values`, () => {
      const [N, C, H, W] = [5, 38, 32, 64];
      const shape = layout === 'NCHW' ? [N, C, H, W] : [N, H, W, C];
      const x = randn(rng, N * C * H * W, -1, 3), weight = randn(rng, C), bias = randn(rng, C);
      const zero = (f: (a: Float32Array | Tensor, o: Record<string, unknown>) => Float32Array) =>
        f(T(x), { layout, weight: T(weight), bias: T(bias), out: T(new Float32Array(x.length)) }).slice();
      sameBits(groupNorm(x, shape, 19, { layout, weight, bias }), zero((a, o) => groupNorm(a, shape, 19, o)), 'groupNorm');
      sameBits(instanceNorm(x, shape, { layout, weight, bias }), zero((a, o) => instanceNorm(a, shape, o)), 'instanceNorm');
      assertClose(groupNorm(x, shape, 19, { layout, weight, bias }), refOps.groupNorm(x, shape, 19, { layout, weight, bias }), 'groupNorm vs reference');
    });

    it(`batchNorm inference ${layout}, 7 samples of 30,000 values`, () => {
      const [N, C, H, W] = [7, 24, 25, 50];
      const shape = layout === 'NCHW' ? [N, C, H, W] : [N, H, W, C];
      const x = randn(rng, N * C * H * W), weight = randn(rng, C), bias = randn(rng, C);
      const runningMean = randn(rng, C), runningVar = randu(rng, C, 0.5, 2);
      const o = { layout, weight, bias, runningMean, runningVar };
      const zero = batchNorm(T(x), shape, { ...o, runningMean: T(runningMean), out: T(new Float32Array(x.length)) }).slice();
      sameBits(batchNorm(x, shape, o), zero, 'batchNorm');
    });

    it(`adaIN ${layout}, per-sample and broadcast style, 6 samples of 65,600 values`, () => {
      const [N, C, H, W, SH, SW] = [6, 41, 40, 40, 9, 11];
      const shape = layout === 'NCHW' ? [N, C, H, W] : [N, H, W, C];
      const content = randn(rng, N * C * H * W, 1, 2);
      for (const styleN of [N, 1]) {
        const styleShape = layout === 'NCHW' ? [styleN, C, SH, SW] : [styleN, SH, SW, C];
        const style = randn(rng, styleN * C * SH * SW, 4, 3);
        const zero = adaIN(T(content), shape, T(style), styleShape, { layout, out: T(new Float32Array(content.length)) }).slice();
        sameBits(adaIN(content, shape, style, styleShape, { layout }), zero, `adaIN style batch ${styleN}`);
        sameBits(adaIN(content, shape, T(style), styleShape, { layout }), zero, `adaIN Tensor style batch ${styleN}`);
      }
    });
  }

  it('frees its tensors', () => {
    for (const t of live.splice(0)) t.free();
  });
});
