// Copy mode takes tensors larger than one pass (128 Ki floats) a slice at a time, while zero-copy runs in
// one pass: the two must agree bit for bit on every op that slices, with passes ending mid-tensor, odd
// sizes, every optional input and output, and Tensors mixed with plain arrays (sliced by pointer offset).
import { beforeAll, describe, expect, it } from 'vitest';
import * as normkit from '../src/index.js';
import { adaIN, layerNorm, ready, rmsNorm, tensor, type Tensor } from '../src/index.js';
import { assertClose } from './support/compare.js';
import { refOps } from './support/ops.js';
import {
  argValue, cloneCall, ENTRIES, outputsOf, presentArgs, setArg, tensorCall, type NormkitLike,
} from './support/registry.js';
import { makeRng } from './support/rng.js';
import { randn } from './support/tensors.js';

beforeAll(ready);

const rng = makeRng(77);
const nk = normkit as unknown as NormkitLike;
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

  // Every op of the registry with every optional input and output, in shapes of several passes (passes end
  // mid-tensor): plain arrays, every argument a Tensor, and Tensors mixed with plain arrays.
  for (const e of ENTRIES) {
    for (const layout of e.kind === 'rows' ? [undefined] : (['NCHW', 'NHWC'] as const)) {
      const [N, C, H, W] = [5, 38, 24, 40];
      const shape = e.kind === 'rows' ? [401, 769] : layout === 'NCHW' ? [N, C, H, W] : [N, H, W, C];
      it(`${e.id}${layout ? ` ${layout}` : ''} [${shape}], every optional argument: copy mode, zero-copy and mixed give the same bits`, () => {
        const styleShape = layout === 'NCHW' ? [N, C, 9, 11] : [N, 9, 11, C];
        const { call } = e.generate(rng, { shape, layout, numGroups: 19, styleShape, optional: 'all', data: { offset: -1, scale: 3 } });
        const plain = cloneCall(call);
        const got = outputsOf(e.id, plain, e.run(nk, plain)).map((a) => Float32Array.from(a));
        const zero = tensorCall(e.id, cloneCall(call), tensor, live);
        outputsOf(e.id, zero, e.run(nk, zero)).forEach((a, k) => sameBits(Float32Array.from(a), got[k], `zero-copy output ${k}`));
        // Mixed: every other array argument a Tensor (out and the outputs included).
        const mixed = cloneCall(call);
        presentArgs(e.id, mixed).forEach((spec, k) => {
          if (k % 2 === 1) setArg(mixed, spec.name, T(argValue(mixed, spec.name) as Float32Array));
        });
        outputsOf(e.id, mixed, e.run(nk, mixed)).forEach((a, k) => sameBits(Float32Array.from(a), got[k], `mixed output ${k}`));
        const ref = cloneCall(call);
        const want = outputsOf(e.id, ref, e.reference(ref));
        got.forEach((a, k) => assertClose(a, want[k], `${e.id} output ${k} vs reference`));
        for (const t of live.splice(0)) t.free();
      });
    }
  }

  for (const layout of ['NCHW', 'NHWC'] as const) {
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
