// normkit in its three calling styles: copy mode with a preallocated `out`, copy mode returning a fresh
// array per call, and zero-copy with every argument a Tensor living in wasm memory; then copy mode and
// zero-copy again with a thread per core (issue 11: `ready({ threads })`, set before each case). With
// NORMKIT_BASELINE=<dist folder of another build> (say a git worktree of the previous commit, built), that
// build runs beside it as the peers baseline-copy and baseline-zc, for side-by-side before/after ratios.
import { availableParallelism } from 'node:os';
import * as current from '../../dist/index.js';
import { SETTINGS } from '../cases.mjs';

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
  const affine = { weight: a.weight, bias: a.bias, eps, out: a.out };
  switch (c.kind) {
    case 'layernorm':
      return () => nk.layerNorm(a.x, a.shape, affine);
    case 'skiplayernorm':
      return () => nk.layerNorm(a.x, a.shape, { ...affine, residual: a.residual });
    case 'rmsnorm':
      return () => nk.rmsNorm(a.x, a.shape, { weight: a.weight, eps, out: a.out });
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
      return () => nk.adaIN(a.x, a.shape, a.style, a.styleShape, { layout, eps, out: a.out });
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

function copyMode(nk, withOut) {
  return (c, inp) => {
    const a = { ...inp };
    if (inp.runningMean) {
      a.runningMean = inp.runningMean.slice();
      a.runningVar = inp.runningVar.slice();
      a.resetStats = () => {
        a.runningMean.set(inp.runningMean);
        a.runningVar.set(inp.runningVar);
      };
    }
    if (withOut) a.out = new Float32Array(inp.x.length);
    // sumOut has no returned form: an array in both copy-mode styles.
    if (SUM_KINDS.includes(c.kind)) a.sumOut = new Float32Array(inp.x.length);
    const call = caller(nk, c, a);
    let y;
    return {
      run: () => {
        y = call();
      },
      isAsync: false,
      read: () => ({ y, runningMean: a.runningMean, runningVar: a.runningVar, sum: a.sumOut }),
    };
  };
}

const zeroCopy = (nk) => (c, inp) => {
  const a = { ...inp };
  const owned = [];
  for (const key of TENSOR_INPUTS) {
    if (inp[key]) owned.push((a[key] = nk.tensor(inp[key])));
  }
  owned.push((a.out = nk.tensor(inp.x.length)));
  if (SUM_KINDS.includes(c.kind)) owned.push((a.sumOut = nk.tensor(inp.x.length)));
  if (inp.runningMean) {
    a.resetStats = () => {
      a.runningMean.array.set(inp.runningMean);
      a.runningVar.array.set(inp.runningVar);
    };
  }
  const call = caller(nk, c, a);
  return {
    run: call,
    isAsync: false,
    read: () => ({ y: a.out.array, runningMean: a.runningMean?.array, runningVar: a.runningVar?.array, sum: a.sumOut?.array }),
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
  const dir = process.env.NORMKIT_BASELINE;
  if (dir) {
    const base = await import(new URL(`file://${dir.replace(/\/$/, '')}/index.js`).href);
    await base.ready();
    peers.push(
      { id: 'baseline-copy', label: `baseline build (${dir}), copy mode with \`out\``, info: {}, prepare: copyMode(base, true) },
      { id: 'baseline-zc', label: `baseline build (${dir}), zero-copy`, info: {}, prepare: zeroCopy(base) },
    );
  }
  return peers;
}
