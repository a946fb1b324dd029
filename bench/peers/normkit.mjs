// normkit in its three calling styles: copy mode with a preallocated `out`, copy mode returning a fresh
// array per call, and zero-copy with every argument a Tensor living in wasm memory; then copy mode and
// zero-copy again with a thread per core (issue 11: `ready({ threads })`, set before each case). With
// NORMKIT_BASELINE=<dist folder of another build> (say a git worktree of the previous commit, built), that
// build runs beside it as the peers baseline-copy and baseline-zc, for side-by-side before/after ratios.
// Issue 12's half-precision cases run in the same three styles with every array in the case's dtype
// (Uint16Arrays with the dtype option, or half Tensors), and as a user without half-precision storage
// would: widen in JavaScript, the float32 call, narrow back (normkit-js-convert).
import { availableParallelism } from 'node:os';
import * as current from '../../dist/index.js';
import { SETTINGS } from '../cases.mjs';
import { narrow, widen } from '../half.mjs';

/** The thread count of the threaded peers: every core. */
export const THREADS = availableParallelism();

/** A peer's prepare that first sets the thread count (the pool is resized only when it changes). */
const withThreads = (threads, prepare) => async (c, inp) => {
  await current.ready({ threads });
  return prepare(c, inp);
};

/** The op's call for the given arguments (Float32Arrays or Tensors); `out` omitted when undefined. */
function caller(nk, c, a) {
  const { eps, momentum } = SETTINGS;
  const { layout } = a;
  // The dtype option only where there is one: a baseline build from before half precision refuses it.
  const half = a.dtype === undefined ? {} : { dtype: a.dtype };
  const affine = { weight: a.weight, bias: a.bias, eps, out: a.out, ...half };
  switch (c.kind) {
    case 'layernorm':
      return () => nk.layerNorm(a.x, a.shape, affine);
    case 'skiplayernorm':
      return () => nk.layerNorm(a.x, a.shape, { ...affine, residual: a.residual });
    case 'rmsnorm':
      return () => nk.rmsNorm(a.x, a.shape, { weight: a.weight, eps, out: a.out, ...half });
    case 'batchnorm': {
      const opts = { ...affine, layout, runningMean: a.runningMean, runningVar: a.runningVar };
      return () => nk.batchNorm(a.x, a.shape, opts);
    }
    case 'batchnorm-train': {
      const opts = { ...affine, layout, runningMean: a.runningMean, runningVar: a.runningVar, training: true, momentum };
      return () => {
        // Restart from the same running statistics so every call does (and checks) the same update.
        a.resetStats();
        return nk.batchNorm(a.x, a.shape, opts);
      };
    }
    case 'instancenorm':
      return () => nk.instanceNorm(a.x, a.shape, { ...affine, layout });
    case 'groupnorm':
      return () => nk.groupNorm(a.x, a.shape, c.groups, { ...affine, layout });
    case 'adain':
      return () => nk.adaIN(a.x, a.shape, a.style, a.styleShape, { layout, eps, out: a.out, ...half });
    // Issue 10: one call each, the option fused.
    case 'groupnorm-silu':
      return () => nk.groupNorm(a.x, a.shape, c.groups, { ...affine, layout, activation: a.activation });
    case 'skipgroupnorm': {
      const opts = { ...affine, layout, activation: a.activation, residual: a.residual, inputBias: a.inputBias, sumOut: a.sumOut };
      return () => nk.groupNorm(a.x, a.shape, c.groups, opts);
    }
    case 'layernorm-adaln':
      return () => nk.layerNorm(a.x, a.shape, { ...affine, weightShape: a.weightShape, biasShape: a.biasShape });
    case 'skiplayernorm-bias':
      return () => nk.layerNorm(a.x, a.shape, { ...affine, residual: a.residual, inputBias: a.inputBias });
    default:
      throw new Error(`normkit peer: no call for ${c.kind}`);
  }
}

const TENSOR_INPUTS = ['x', 'weight', 'bias', 'residual', 'inputBias', 'style', 'runningMean', 'runningVar'];
/** Kinds with a second output, the skip sum (`sumOut`). */
const SUM_KINDS = ['skipgroupnorm'];

/** The inputs in the case's storage: half-precision bits (the values are already rounded) or as they are. */
function stored(inp) {
  if (!inp.dtype) return { ...inp };
  const a = { ...inp };
  for (const key of TENSOR_INPUTS) if (inp[key]) a[key] = narrow(inp[key], inp.dtype);
  return a;
}

/** An output as float32 values, for the correctness check. */
const valuesOf = (v, dtype) => (v === undefined || !dtype ? v : widen(v, dtype));

function copyMode(nk, withOut) {
  return (c, inp) => {
    const a = stored(inp);
    const Out = inp.dtype ? Uint16Array : Float32Array;
    if (inp.runningMean) {
      const [mean, variance] = [a.runningMean, a.runningVar];
      a.runningMean = mean.slice();
      a.runningVar = variance.slice();
      a.resetStats = () => {
        a.runningMean.set(mean);
        a.runningVar.set(variance);
      };
    }
    if (withOut) a.out = new Out(inp.x.length);
    // sumOut has no returned form: an array in both copy-mode styles.
    if (SUM_KINDS.includes(c.kind)) a.sumOut = new Out(inp.x.length);
    const call = caller(nk, c, a);
    let y;
    const d = inp.dtype;
    return {
      run: () => {
        y = call();
      },
      isAsync: false,
      read: () => ({ y: valuesOf(y, d), runningMean: valuesOf(a.runningMean, d), runningVar: valuesOf(a.runningVar, d), sum: valuesOf(a.sumOut, d) }),
    };
  };
}

/**
 * Issue 12: what a user without half-precision storage does per call: widen the run-time inputs (x, and the
 * residual or style) in JavaScript, the float32 call with a preallocated `out`, narrow the output back.
 * Weights are widened once, as a model loader would.
 */
function jsConvert(nk) {
  return (c, inp) => {
    const bits = stored(inp);
    const a = { ...inp, dtype: undefined, out: new Float32Array(inp.x.length), yBits: new Uint16Array(inp.x.length) };
    if (inp.runningMean) {
      a.runningMean = inp.runningMean.slice();
      a.runningVar = inp.runningVar.slice();
      a.resetStats = () => {
        a.runningMean.set(inp.runningMean);
        a.runningVar.set(inp.runningVar);
      };
    }
    const perCall = ['x', 'residual', 'style'].filter((k) => inp[k]);
    for (const k of perCall) a[k] = new Float32Array(inp[k].length);
    const call = caller(nk, c, a);
    return {
      run: () => {
        for (const k of perCall) widen(bits[k], inp.dtype, a[k]);
        call();
        narrow(a.out, inp.dtype, a.yBits);
      },
      isAsync: false,
      read: () => ({ y: widen(a.yBits, inp.dtype), runningMean: a.runningMean, runningVar: a.runningVar }),
    };
  };
}

const zeroCopy = (nk) => (c, inp) => {
  const a = { ...inp };
  const owned = [];
  // Half-precision Tensors of the rounded values (exact), or float32 ones.
  const options = inp.dtype ? { dtype: inp.dtype } : undefined;
  for (const key of TENSOR_INPUTS) {
    if (inp[key]) owned.push((a[key] = nk.tensor(inp[key], options)));
  }
  owned.push((a.out = nk.tensor(inp.x.length, options)));
  if (SUM_KINDS.includes(c.kind)) owned.push((a.sumOut = nk.tensor(inp.x.length, options)));
  if (inp.runningMean) {
    // What the Tensors hold: half-precision bits, or the values.
    const { runningMean, runningVar } = stored(inp);
    a.resetStats = () => {
      a.runningMean.array.set(runningMean);
      a.runningVar.array.set(runningVar);
    };
  }
  const call = caller(nk, c, a);
  return {
    run: call,
    isAsync: false,
    read: () => {
      const d = inp.dtype;
      return { y: valuesOf(a.out.array, d), runningMean: valuesOf(a.runningMean?.array, d), runningVar: valuesOf(a.runningVar?.array, d), sum: valuesOf(a.sumOut?.array, d) };
    },
    dispose: () => owned.forEach((t) => t.free()),
  };
};

export async function create() {
  await current.ready();
  const peers = [
    {
      id: 'normkit-copy',
      label: 'normkit copy mode: Float32Array in, preallocated `out`',
      info: { threads: 1 },
      prepare: withThreads(1, copyMode(current, true)),
    },
    {
      id: 'normkit-alloc',
      label: 'normkit copy mode without `out`: a new Float32Array per call',
      info: { threads: 1 },
      prepare: withThreads(1, copyMode(current, false)),
    },
    {
      id: 'normkit-zc',
      label: 'normkit zero-copy: every argument a Tensor in wasm memory, `out` a Tensor',
      info: { threads: 1 },
      prepare: withThreads(1, zeroCopy(current)),
    },
    {
      id: 'normkit-js-convert',
      label: 'issue 12, half precision without normkit\'s storage: widen x (residual, style) in JS, normkit copy mode in float32 with `out`, narrow y in JS',
      info: {},
      supports: (c) => Boolean(c.dtype),
      prepare: jsConvert(current),
    },
  ];
  const dir = process.env.NORMKIT_BASELINE;
  if (dir) {
    const base = await import(new URL(`file://${dir.replace(/\/$/, '')}/index.js`).href);
    await base.ready();
    peers.push(
      // float32 cases only: an older build may have no half-precision storage.
      { id: 'baseline-copy', label: `baseline build (${dir}), copy mode with \`out\``, info: {}, supports: (c) => !c.dtype, prepare: copyMode(base, true) },
      { id: 'baseline-zc', label: `baseline build (${dir}), zero-copy`, info: {}, supports: (c) => !c.dtype, prepare: zeroCopy(base) },
    );
  }
  return peers;
}

/**
 * normkit with a thread per core, in a process of its own (run.mjs): the first ready({ threads }) moves
 * wasm memory to a shared one for the rest of the process, where copy mode's copies cost more, so the
 * one-thread peers (create) must not share its process.
 */
export async function createThreaded() {
  return [
    {
      id: 'normkit-copy-mt',
      label: `normkit copy mode with \`out\`, ready({ threads: ${THREADS} }) (a thread per core)`,
      info: { threads: THREADS },
      prepare: withThreads(THREADS, copyMode(current, true)),
    },
    {
      id: 'normkit-zc-mt',
      label: `normkit zero-copy, ready({ threads: ${THREADS} }) (a thread per core)`,
      info: { threads: THREADS },
      prepare: withThreads(THREADS, zeroCopy(current)),
    },
  ];
}
