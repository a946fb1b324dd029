// TensorFlow.js with the wasm backend, as tfjs users write it: tf.batchNorm for BatchNorm (its wasm kernel
// is channels-last), everything else composed from tf.moments and element-wise ops. Per call:
// tf.tensor(x) + ops + dataSync() + dispose. Weights are tensors created once, like a model's variables.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { packageVersion } from '../env.mjs';
import { SETTINGS, elements } from '../cases.mjs';

/** Spatial axes of a channel layout. */
const spatialAxes = (shape, layout) =>
  layout === 'NCHW' ? shape.slice(2).map((_, k) => k + 2) : shape.slice(1, -1).map((_, k) => k + 1);

/** Per-channel vector shaped to broadcast against the tensor in its layout. */
const perChannel = (t, shape, layout) =>
  layout === 'NCHW' && shape.length > 2 ? tf.reshape(t, [t.size, ...shape.slice(2).map(() => 1)]) : t;

function normalize(x, axes, eps) {
  const { mean, variance } = tf.moments(x, axes, true);
  return tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
}

const silu = (t) => tf.mul(t, tf.sigmoid(t));

/**
 * GroupNorm as a function of the input: the channel axis split into (group, channel-in-group), reduced over
 * it and the spatial axes.
 */
function groupNormFn(c, shape, layout, eps, channelAffine) {
  const G = c.groups;
  const C = layout === 'NCHW' ? shape[1] : shape.at(-1);
  const N = shape[0];
  const S = elements(shape) / (N * C);
  const grouped = layout === 'NCHW' ? [N, G, (C / G) * S] : [N, S, G, C / G];
  const axes = layout === 'NCHW' ? [2] : [1, 3];
  return (x) => channelAffine(tf.reshape(normalize(tf.reshape(x, grouped), axes, eps), shape));
}

/** A function of the input tensor(s) producing the outputs, and the variables it closes over. */
function program(c, inp) {
  const { eps, momentum } = SETTINGS;
  const { shape, layout } = inp;
  const vars = {};
  for (const key of ['weight', 'bias', 'runningMean', 'runningVar']) {
    if (inp[key]) vars[key] = tf.tensor1d(inp[key]);
  }
  const rowAffine = (t) => tf.add(tf.mul(t, vars.weight), vars.bias);
  const channelAffine = (t) =>
    tf.add(tf.mul(t, perChannel(vars.weight, shape, layout)), perChannel(vars.bias, shape, layout));
  switch (c.kind) {
    case 'layernorm':
      return { vars, fn: (x) => [rowAffine(normalize(x, -1, eps))] };
    case 'skiplayernorm':
      return { vars, fn: (x, r) => [rowAffine(normalize(tf.add(x, r), -1, eps))] };
    case 'rmsnorm':
      return { vars, fn: (x) => [tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), vars.weight)] };
    case 'batchnorm':
      return {
        vars,
        fn: (x) => [tf.batchNorm(x, vars.runningMean, vars.runningVar, vars.bias, vars.weight, eps)],
      };
    case 'batchnorm-train': {
      const axes = shape.slice(0, -1).map((_, k) => k);
      const n = elements(shape) / shape.at(-1);
      return {
        vars,
        fn: (x) => {
          const { mean, variance } = tf.moments(x, axes);
          const y = tf.batchNorm(x, mean, variance, vars.bias, vars.weight, eps);
          const rm = tf.add(tf.mul(vars.runningMean, 1 - momentum), tf.mul(mean, momentum));
          const rv = tf.add(tf.mul(vars.runningVar, 1 - momentum), tf.mul(variance, (momentum * n) / (n - 1)));
          return [y, rm, rv];
        },
      };
    }
    case 'instancenorm':
      return { vars, fn: (x) => [channelAffine(normalize(x, spatialAxes(shape, layout), eps))] };
    case 'groupnorm': {
      const groupNorm = groupNormFn(c, shape, layout, eps, channelAffine);
      return { vars, fn: (x) => [groupNorm(x)] };
    }
    // Issue 10: composed as a tfjs user would (tf has no fused GroupNorm, SiLU or skip-add).
    case 'groupnorm-silu': {
      const gn = groupNormFn(c, shape, layout, eps, channelAffine);
      return { vars, fn: (x) => [silu(gn(x))] };
    }
    case 'skipgroupnorm': {
      vars.inputBias = tf.tensor1d(inp.inputBias);
      const gn = groupNormFn(c, shape, layout, eps, channelAffine);
      return {
        vars,
        fn: (x, r) => {
          const s = tf.add(tf.add(x, r), perChannel(vars.inputBias, shape, layout));
          return [silu(gn(s)), s];
        },
      };
    }
    case 'layernorm-adaln': {
      // Weight and bias as [B, 1, H] tensors: broadcast over the sequence, one per sample.
      const w = (vars.weight3d = tf.tensor(inp.weight, inp.weightShape));
      const b = (vars.bias3d = tf.tensor(inp.bias, inp.biasShape));
      return { vars, fn: (x) => [tf.add(tf.mul(normalize(x, -1, eps), w), b)] };
    }
    case 'skiplayernorm-bias':
      vars.inputBias = tf.tensor1d(inp.inputBias);
      return { vars, fn: (x, r) => [rowAffine(normalize(tf.add(tf.add(x, r), vars.inputBias), -1, eps))] };
    case 'adain': {
      const axes = spatialAxes(shape, layout);
      return {
        vars,
        fn: (x, style) => {
          const s = tf.moments(style, axes, true);
          return [tf.add(tf.mul(normalize(x, axes, eps), tf.sqrt(tf.add(s.variance, eps))), s.mean)];
        },
      };
    }
    default:
      throw new Error(`no tfjs program for ${c.kind}`);
  }
}

function prepare(c, inp) {
  const { vars, fn } = program(c, inp);
  const second = inp.residual ?? inp.style;
  const secondShape = inp.styleShape ?? inp.shape;
  let outputs = [];
  return {
    run: () => {
      const ys = tf.tidy(() => fn(tf.tensor(inp.x, inp.shape), second && tf.tensor(second, secondShape)));
      outputs = ys.map((t) => t.dataSync());
      tf.dispose(ys);
    },
    isAsync: false,
    read: () =>
      c.kind === 'skipgroupnorm'
        ? { y: outputs[0], sum: outputs[1] }
        : { y: outputs[0], runningMean: outputs[1], runningVar: outputs[2] },
    dispose: () => tf.dispose(Object.values(vars)),
  };
}

export async function create() {
  await tf.setBackend('wasm');
  await tf.ready();
  const info = {
    core: tf.version_core,
    backendWasm: packageVersion('@tensorflow/tfjs-backend-wasm'),
    backend: tf.getBackend(),
    simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
    threads: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'),
  };
  return [
    {
      id: 'tfjs',
      label: `tfjs-backend-wasm ${info.backendWasm}: tf.batchNorm (fed NHWC), others from tf.moments + element-wise; per call tf.tensor + ops + dataSync + dispose`,
      info,
      // The wasm FusedBatchNorm kernel broadcasts its statistics over the last axis only.
      layout: (c) => (c.kind === 'batchnorm' || c.kind === 'batchnorm-train' ? 'NHWC' : c.layout),
      // tfjs-backend-wasm has no float16 or bfloat16 tensors.
      supports: (c) => !c.dtype,
      prepare,
    },
  ];
}
