// The channel ops: batchNorm, instanceNorm, groupNorm and adaIN, over NCHW or NHWC tensors of rank >= 2.

import { NormkitError, describe } from '../errors.js';
import { getKernels } from '../wasm.js';
import { beginStaging, commitStaging, finishStaging } from '../memory.js';
import {
  optionsOf, lengthOf, checkLength, checkShape, checkEps, checkLayout, checkBoolean, channelDims, checkTensorOverlap, checkOutputsOverlap,
  inputRef, inOutRef, mainRefs, mainOutRef, workRef, unitsPerPass, isPlain, checkWorkspace, option, ptr, result,
} from '../args.js';
import type { AdaINOptions, BatchNormOptions, ChannelNormOptions, TensorLike } from '../types.js';

interface ChannelCall {
  x: TensorLike;
  y: TensorLike;
  length: number;
  N: number;
  C: number;
  HW: number;
  channelsLast: boolean;
}

// Validates what every channel op shares: x, its shape and layout, per-channel weight/bias, and out.
function channelCall(
  x: TensorLike, shape: readonly number[], layout: unknown, weight: TensorLike | undefined,
  bias: TensorLike | undefined, out: TensorLike | undefined, xName = 'x', shapeName = 'shape',
): ChannelCall {
  const length = lengthOf(xName, x);
  checkShape(shapeName, shape, length, xName, 2);
  const channelsLast = checkLayout(layout);
  const [N, C, HW] = channelDims(shape, channelsLast);
  const why = `one per channel: C = ${C}`;
  if (weight !== undefined) checkLength('weight', weight, C, why);
  if (bias !== undefined) checkLength('bias', bias, C, why);
  if (out !== undefined) {
    checkLength('out', out, length, `the length of ${xName}`);
    checkTensorOverlap('out', out, xName, x, true);
    checkTensorOverlap('out', out, 'weight', weight, false);
    checkTensorOverlap('out', out, 'bias', bias, false);
  }
  return { x, y: out ?? new Float32Array(length), length, N, C, HW, channelsLast };
}

/** Pointers of one staged pass of a channel op (0 for an absent argument). */
interface PassPointers {
  x: number;
  y: number;
  w: number;
  b: number;
  mean: number;
  variance: number;
  work: number;
}

/**
 * Runs a channel op whose samples are independent, in passes of a few samples when copy mode stages
 * them (see unitsPerPass): stages that pass's x and y, the per-channel weight, bias and statistics and
 * the kernel workspace, then calls `kernel` with their pointers and the pass's sample count.
 */
function forEachPass(
  op: string, call: ChannelCall, weight: TensorLike | undefined, bias: TensorLike | undefined,
  mean: TensorLike | undefined, variance: TensorLike | undefined,
  kernel: (p: PassPointers, count: number) => void,
): void {
  const k = getKernels();
  const { x, y, N, C, HW } = call;
  const sample = C * HW;
  const step = unitsPerPass(sample, N, isPlain(x) || isPlain(y));
  for (let n0 = 0; n0 < N; n0 += step) {
    const count = Math.min(step, N - n0);
    beginStaging();
    const xRef = mainRefs(x, y, n0 * sample, count * sample);
    const yRef = mainOutRef();
    const wRef = inputRef(weight);
    const bRef = inputRef(bias);
    const mRef = inputRef(mean);
    const vRef = inputRef(variance);
    const work = workRef(k.workspaceBytes(C, 0));
    commitStaging(op);
    kernel({ x: ptr(xRef), y: ptr(yRef), w: ptr(wRef), b: ptr(bRef), mean: ptr(mRef), variance: ptr(vRef), work: ptr(work) }, count);
    finishStaging();
  }
}

/**
 * Batch normalization. Inference (`training: false`) uses runningMean/runningVar. Training normalizes
 * with the batch statistics (biased variance) and, when running buffers are given, updates them in place:
 * `r = (1 - momentum) * r + momentum * stat`, storing the unbiased batch variance (PyTorch). ONNX's
 * convention is `momentum = 1 - onnxMomentum` with `unbiasedRunningVar: false`.
 */
export function batchNorm(x: TensorLike, shape: readonly number[], options?: BatchNormOptions): Float32Array {
  const k = getKernels();
  const o = optionsOf(options);
  const eps = checkEps(option(o.eps, 1e-5));
  const training = checkBoolean('training', option(o.training, false));
  const unbiased = checkBoolean('unbiasedRunningVar', option(o.unbiasedRunningVar, true));
  const momentum = option(o.momentum, 0.1);
  if (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1)) {
    throw new NormkitError('INVALID_MOMENTUM', `momentum: expected a number in [0, 1], got ${describe(momentum)}`);
  }
  const call = channelCall(x, shape, option(o.layout, 'NCHW'), o.weight, o.bias, o.out);
  const { N, C, HW, y, length, channelsLast } = call;
  const { runningMean, runningVar } = o;
  const why = `one per channel: C = ${C}`;
  if (training) {
    if ((runningMean === undefined) !== (runningVar === undefined)) {
      throw new NormkitError(
        'INVALID_OPTION',
        `runningMean/runningVar: give both or neither, got ${runningMean === undefined ? 'only runningVar' : 'only runningMean'}`,
      );
    }
    if (length > 0 && N * HW === 1) {
      throw new NormkitError(
        'BATCH_TOO_SMALL',
        `x: training needs more than one value per channel (the unbiased variance is undefined), got shape ${describe(shape)}`,
      );
    }
  } else if (runningMean === undefined || runningVar === undefined) {
    throw new NormkitError(
      'MISSING_RUNNING_STATS',
      `${runningMean === undefined ? 'runningMean' : 'runningVar'}: inference (training: false) needs runningMean and runningVar, got undefined`,
    );
  }
  if (runningMean !== undefined) checkLength('runningMean', runningMean, C, why);
  if (runningVar !== undefined) checkLength('runningVar', runningVar, C, why);
  if (training && runningMean !== undefined) {
    // Training updates the running statistics in place: they are outputs too.
    checkOutputsOverlap('out', o.out, 'runningMean', runningMean);
    checkOutputsOverlap('out', o.out, 'runningVar', runningVar);
    checkOutputsOverlap('runningMean', runningMean, 'runningVar', runningVar);
    for (const [name, stat] of [['runningMean', runningMean], ['runningVar', runningVar]] as const) {
      checkTensorOverlap(name, stat, 'x', x, false);
      checkTensorOverlap(name, stat, 'weight', o.weight, false);
      checkTensorOverlap(name, stat, 'bias', o.bias, false);
    }
  } else {
    checkTensorOverlap('out', o.out, 'runningMean', runningMean, false);
    checkTensorOverlap('out', o.out, 'runningVar', runningVar, false);
  }
  if (length === 0) return result(y);
  checkWorkspace('batchNorm', C, 0);

  if (training) {
    // The statistics span the whole batch: one pass.
    beginStaging();
    const xRef = mainRefs(x, y, 0, length);
    const yRef = mainOutRef();
    const wRef = inputRef(o.weight);
    const bRef = inputRef(o.bias);
    const work = workRef(k.workspaceBytes(C, 0));
    const rmRef = inOutRef(runningMean);
    const rvRef = inOutRef(runningVar);
    commitStaging('batchNorm');
    k.batchNormTraining(
      ptr(xRef), ptr(yRef), N, C, HW, ptr(wRef), ptr(bRef), eps, ptr(rmRef), ptr(rvRef), momentum, unbiased,
      channelsLast, ptr(work),
    );
    finishStaging();
    return result(y);
  }
  // Inference is element-wise: the samples are independent.
  forEachPass('batchNorm', call, o.weight, o.bias, runningMean, runningVar, (p, count) =>
    k.batchNormInference(p.x, p.y, count, C, HW, p.w, p.b, p.mean, p.variance, eps, channelsLast, p.work),
  );
  return result(y);
}

function groupNormCall(
  op: string, x: TensorLike, shape: readonly number[], numGroups: unknown, o: ChannelNormOptions,
): Float32Array {
  const k = getKernels();
  const eps = checkEps(option(o.eps, 1e-5));
  const call = channelCall(x, shape, option(o.layout, 'NCHW'), o.weight, o.bias, o.out);
  const { N, C, HW, y, length, channelsLast } = call;
  const G = option(numGroups, Math.max(C, 1)); // instanceNorm: one group per channel
  if (typeof G !== 'number' || !Number.isInteger(G) || G < 1 || C % G !== 0) {
    throw new NormkitError(
      'INVALID_GROUPS',
      `numGroups: expected a positive integer that divides the channel count C = ${C}, got ${describe(numGroups)}`,
    );
  }
  if (length === 0) return result(y);
  checkWorkspace(op, C, 0);
  forEachPass(op, call, o.weight, o.bias, undefined, undefined, (p, count) =>
    k.groupNorm(p.x, p.y, count, C, HW, G, p.w, p.b, eps, channelsLast, p.work),
  );
  return result(y);
}

/** Instance normalization: each (sample, channel) over the spatial axes, with per-channel affine. */
export function instanceNorm(x: TensorLike, shape: readonly number[], options?: ChannelNormOptions): Float32Array {
  return groupNormCall('instanceNorm', x, shape, undefined, optionsOf(options));
}

/** Group normalization: each (sample, group of C / numGroups channels), with per-channel affine. */
export function groupNorm(
  x: TensorLike, shape: readonly number[], numGroups: number, options?: ChannelNormOptions,
): Float32Array {
  if (numGroups === undefined) {
    throw new NormkitError('INVALID_GROUPS', 'numGroups: expected a positive integer that divides C, got undefined');
  }
  return groupNormCall('groupNorm', x, shape, numGroups, optionsOf(options));
}

/**
 * Adaptive instance normalization (Huang & Belongie, 2017): each content (sample, channel) is normalized
 * and takes the standard deviation and mean of the matching style plane, both with biased variance + eps.
 * The style has the content's channels and batch size, or batch 1 (broadcast); its spatial size is free.
 */
export function adaIN(
  content: TensorLike, contentShape: readonly number[], style: TensorLike, styleShape: readonly number[],
  options?: AdaINOptions,
): Float32Array {
  const k = getKernels();
  const o = optionsOf(options);
  const eps = checkEps(option(o.eps, 1e-5));
  const { N, C, HW, y, length, channelsLast } = channelCall(
    content, contentShape, option(o.layout, 'NCHW'), undefined, undefined, o.out, 'content', 'contentShape',
  );
  const styleLength = lengthOf('style', style);
  checkShape('styleShape', styleShape, styleLength, 'style', 2);
  const [styleN, styleC, styleHW] = channelDims(styleShape, channelsLast);
  if (styleShape.length !== contentShape.length || styleC !== C || (styleN !== N && styleN !== 1)) {
    throw new NormkitError(
      'STYLE_MISMATCH',
      `styleShape: expected rank ${contentShape.length} with ${C} channels and batch ${N} or 1 (layout ${channelsLast ? 'NHWC' : 'NCHW'}), got ${describe(styleShape)}`,
    );
  }
  if (length > 0 && styleHW === 0) {
    throw new NormkitError('STYLE_MISMATCH', `styleShape: the style has no spatial elements to take statistics from, got ${describe(styleShape)}`);
  }
  checkTensorOverlap('out', o.out, 'style', style, false);
  if (length === 0) return result(y);
  checkWorkspace('adaIN', C, styleN * C);
  // Content samples are independent; a per-sample style is taken with its samples.
  const sample = C * HW;
  const styleSample = C * styleHW;
  const step = unitsPerPass(sample, N, isPlain(content) || isPlain(y));
  for (let n0 = 0; n0 < N; n0 += step) {
    const count = Math.min(step, N - n0);
    const styleCount = styleN === 1 ? 1 : count;
    beginStaging();
    const xRef = mainRefs(content, y, n0 * sample, count * sample);
    const yRef = mainOutRef();
    const sRef = inputRef(style, styleN === 1 ? 0 : n0 * styleSample, styleCount * styleSample);
    const work = workRef(k.workspaceBytes(C, styleCount * C));
    commitStaging('adaIN');
    k.adaIN(ptr(xRef), ptr(yRef), count, C, HW, ptr(sRef), styleCount, styleHW, eps, channelsLast, ptr(work));
    finishStaging();
  }
  return result(y);
}
