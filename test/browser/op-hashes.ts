/**
 * Runs every normkit op on fixed, seeded inputs and hashes the output bits (SHA-256).
 * The same function runs in Node (through a vitest browser command) and in Chromium, and the bit-identity
 * test compares the two sets of hashes. It takes the normkit module as an argument so each side can pass
 * the build it loaded, and uses only web-standard APIs (crypto.subtle), no Node ones.
 *
 * Inputs come from an integer-only generator (no Math.log/sin), so they cannot differ between JS engines;
 * the input hashes are compared too, so a mismatch in the outputs is always the kernels' doing.
 */
import type * as Normkit from '../../src/index.js';

export type NormkitModule = typeof Normkit;

export interface OpHash {
  /** Case name, e.g. "groupNorm NHWC [2,5,7,6] G=3". */
  name: string;
  /** SHA-256 of the inputs' bits (all arrays of the case, in order). */
  input: string;
  /** SHA-256 of every output array's bits (NaNs canonicalized), or "error: <code> <message>". */
  output: string;
  /** Output element count (all arrays) for the report. */
  elements: number;
}

/** xorshift32 in integer arithmetic only; values are multiples of 2^-16, exactly representable in f32. */
export function makeGen(seed: number): (offset?: number, scale?: number) => number {
  let s = seed >>> 0 || 1;
  const u = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  // Sum of four uniforms: roughly normal, mean 0, sd ~1.15; exact in float64 and float32.
  return (offset = 0, scale = 1) => {
    const a = ((u() >>> 16) + (u() >>> 16) + (u() >>> 16) + (u() >>> 16)) / 65536 - 2;
    return Math.fround(offset + scale * a);
  };
}

/** `length` values of `offset + scale * g` from {@link makeGen}'s generator, rounded to float32. */
export function filled(seed: number, length: number, offset = 0, scale = 1): Float32Array {
  const g = makeGen(seed);
  const a = new Float32Array(length);
  for (let i = 0; i < length; i++) a[i] = g(offset, scale);
  return a;
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const hex = (buf: ArrayBuffer) =>
  Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');

/** SHA-256 over the concatenated bits of the arrays, with every NaN mapped to one canonical pattern. */
export async function hashArrays(arrays: readonly Float32Array[]): Promise<string> {
  const total = arrays.reduce((n, a) => n + a.length, 0);
  const bits = new Uint32Array(total + arrays.length);
  let k = 0;
  for (const a of arrays) {
    bits[k++] = a.length; // separates arrays so [1,2][3] and [1][2,3] hash differently
    const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
    for (let i = 0; i < a.length; i++) bits[k++] = Number.isNaN(a[i]) ? 0x7fc00000 : u[i];
  }
  return hex(await crypto.subtle.digest('SHA-256', bits));
}

interface Case {
  name: string;
  inputs: Float32Array[];
  /** Runs the op; returns every array it wrote (output, stats, updated running buffers). */
  run: () => Float32Array[];
}

function cases(nk: NormkitModule): Case[] {
  const out: Case[] = [];
  let seed = 1;
  const next = () => (seed = (seed * 7919 + 13) >>> 0);
  const add = (c: Case) => out.push(c);

  // layerNorm: plain, weight+bias, odd tails, inner axis, big offset, residual fusion, stats outputs.
  for (const [shape, axis] of [
    [[128, 768], -1],
    [[7, 33], -1],
    [[3, 5, 17], 1],
    [[2, 3, 4, 5], -2],
    [[1, 1], -1],
  ] as [number[], number][]) {
    const n = size(shape);
    const groups = size(shape.slice(0, axis < 0 ? shape.length + axis : axis));
    const inner = n / groups;
    const x = filled(next(), n, 3, 2);
    const w = filled(next(), inner, 1, 0.5);
    const b = filled(next(), inner);
    add({
      name: `layerNorm [${shape}] axis=${axis}`,
      inputs: [x],
      run: () => [nk.layerNorm(x, shape, { axis })],
    });
    const r = filled(next(), n);
    add({
      name: `layerNorm [${shape}] axis=${axis} weight bias residual sumOut mean invStd`,
      inputs: [x, w, b, r],
      run: () => {
        const sumOut = new Float32Array(n);
        const mean = new Float32Array(groups);
        const invStd = new Float32Array(groups);
        const y = nk.layerNorm(x, shape, { axis, weight: w, bias: b, residual: r, sumOut, mean, invStd, eps: 1e-6 });
        return [y, sumOut, mean, invStd];
      },
    });
  }
  {
    const shape = [16, 100];
    const x = filled(next(), 1600, 1e4, 1); // catastrophic-cancellation guard case
    add({ name: 'layerNorm [16,100] offset 1e4', inputs: [x], run: () => [nk.layerNorm(x, shape)] });
    const c = new Float32Array(64).fill(2.5);
    const b = filled(next(), 32);
    add({ name: 'layerNorm constant rows', inputs: [c, b], run: () => [nk.layerNorm(c, [2, 32], { bias: b })] });
  }

  // rmsNorm
  for (const shape of [[128, 768], [5, 13], [2, 3, 4, 9]]) {
    const n = size(shape);
    const inner = shape[shape.length - 1];
    const x = filled(next(), n, 0.5, 3);
    const w = filled(next(), inner, 1, 0.25);
    const r = filled(next(), n);
    add({ name: `rmsNorm [${shape}]`, inputs: [x], run: () => [nk.rmsNorm(x, shape)] });
    add({
      name: `rmsNorm [${shape}] weight residual sumOut`,
      inputs: [x, w, r],
      run: () => {
        const sumOut = new Float32Array(n);
        return [nk.rmsNorm(x, shape, { weight: w, residual: r, sumOut }), sumOut];
      },
    });
  }

  // Channel ops in both layouts, with spatial sizes that leave SIMD tails.
  for (const layout of ['NCHW', 'NHWC'] as const) {
    for (const [N, C, H, W] of [
      [2, 5, 7, 3],
      [4, 16, 8, 8],
      [3, 6, 1, 1],
    ]) {
      const shape = layout === 'NCHW' ? [N, C, H, W] : [N, H, W, C];
      const n = N * C * H * W;
      const x = filled(next(), n, -1, 4);
      const w = filled(next(), C, 1, 0.5);
      const b = filled(next(), C);
      const rm = filled(next(), C, 0, 0.5);
      const rv = filled(next(), C, 2, 0.5).map(Math.abs);
      const tag = `${layout} [${shape}]`;
      add({
        name: `batchNorm inference ${tag}`,
        inputs: [x, w, b, rm, rv],
        run: () => [nk.batchNorm(x, shape, { layout, weight: w, bias: b, runningMean: rm, runningVar: rv })],
      });
      add({
        name: `batchNorm training ${tag} (running stats updated)`,
        inputs: [x, w, b, rm, rv],
        run: () => {
          const runningMean = rm.slice();
          const runningVar = rv.slice();
          const y = nk.batchNorm(x, shape, {
            layout,
            weight: w,
            bias: b,
            training: true,
            runningMean,
            runningVar,
            momentum: 0.3,
          });
          return [y, runningMean, runningVar];
        },
      });
      add({
        name: `instanceNorm ${tag}`,
        inputs: [x, w, b],
        run: () => [nk.instanceNorm(x, shape, { layout, weight: w, bias: b })],
      });
      for (const G of [1, C].concat(C % 2 === 0 ? [C / 2] : [])) {
        add({
          name: `groupNorm ${tag} G=${G}`,
          inputs: [x, w, b],
          run: () => [nk.groupNorm(x, shape, G, { layout, weight: w, bias: b })],
        });
      }
      for (const styleN of [N, 1]) {
        const sShape = layout === 'NCHW' ? [styleN, C, 5, 2] : [styleN, 5, 2, C];
        const style = filled(next(), size(sShape), 2, 3);
        add({
          name: `adaIN ${tag} style [${sShape}]`,
          inputs: [x, style],
          run: () => [nk.adaIN(x, shape, style, sShape, { layout })],
        });
      }
    }
  }

  // Zero-copy tensors through the same kernels, in place.
  {
    const shape = [33, 65];
    const data = filled(next(), 33 * 65, 1, 2);
    add({
      name: 'layerNorm zero-copy tensors, in place [33,65]',
      inputs: [data],
      run: () => {
        const t = nk.tensor(data);
        try {
          nk.layerNorm(t, shape, { out: t });
          return [t.array.slice()];
        } finally {
          t.free();
        }
      },
    });
  }
  return out;
}

/** Runs every case; an op that throws yields an "error: ..." hash instead of aborting the whole run. */
export async function computeOpHashes(nk: NormkitModule): Promise<OpHash[]> {
  await nk.ready();
  const result: OpHash[] = [];
  for (const c of cases(nk)) {
    const input = await hashArrays(c.inputs);
    let output: string;
    let elements = 0;
    try {
      const arrays = c.run();
      elements = arrays.reduce((s, a) => s + a.length, 0);
      output = await hashArrays(arrays);
    } catch (e) {
      const err = e as { code?: string; message?: string };
      output = `error: ${err.code ?? ''} ${err.message ?? String(e)}`;
    }
    result.push({ name: c.name, input, output, elements });
  }
  return result;
}
