// The channel ops: batchNorm, instanceNorm, groupNorm and adaIN, over NCHW or NHWC tensors of rank >= 2.

import { NormkitError, describe } from '../errors.js';
import { getKernels, type KernelName } from '../wasm.js';
import {
  P_X, P_Y, P_WEIGHT, P_BIAS, P_RUNNING_MEAN, P_RUNNING_VAR, P_STYLE, P_UNITS, P_C, P_HW, P_GROUPS, P_STYLE_UNITS,
  P_STYLE_HW, P_FLAGS, P_EPS, P_MOMENTUM, FLAG_CHANNELS_LAST, FLAG_UNBIASED,
} from '../generated/abi.js';
import {
  readOptions, lengthOf, checkLength, readShape, checkEps, checkLayout, checkBoolean, channelDims, checkWorkspace,
} from '../validate.js';
import { checkAliasing } from '../aliasing.js';
import { execute, result } from '../execute.js';
import type { Binding, Plan, Scalar } from '../plan.js';
import type { AdaINOptions, BatchNormOptions, ChannelNormOptions, TensorLike } from '../types.js';

const BATCH_NORM_OPTIONS = new Set([
  'layout', 'weight', 'bias', 'runningMean', 'runningVar', 'training', 'momentum', 'unbiasedRunningVar', 'eps', 'out',
]);
const CHANNEL_NORM_OPTIONS = new Set(['layout', 'weight', 'bias', 'eps', 'out']);
const ADAIN_OPTIONS = new Set(['layout', 'eps', 'out']);

/** A validated channel tensor with its output, and the bindings every channel op starts from. */
interface ChannelCall {
  y: TensorLike;
  rank: number;
  length: number;
  N: number;
  C: number;
  HW: number;
  channelsLast: boolean;
  bindings: Binding[];
}

/** Names of the main input and its shape: adaIN calls them content and contentShape. */
interface ChannelNames {
  x: string;
  shape: string;
}
const X_NAMES: ChannelNames = { x: 'x', shape: 'shape' };

interface ChannelArgs {
  layout: unknown;
  weight: TensorLike | undefined;
  bias: TensorLike | undefined;
  out: TensorLike | undefined;
}

// Validates what every channel op shares: x, its shape and layout, per-channel weight/bias, and out.
function channelCall(x: TensorLike, shapeIn: readonly number[], a: ChannelArgs, names = X_NAMES): ChannelCall {
  const length = lengthOf(names.x, x);
  const shape = readShape(names.shape, shapeIn, length, names.x, 2);
  const channelsLast = checkLayout(a.layout);
  const [N, C, HW] = channelDims(shape, channelsLast);
  const why = `one per channel: C = ${C}`;
  const { weight, bias, out } = a;
  if (weight !== undefined) checkLength('weight', weight, C, why);
  if (bias !== undefined) checkLength('bias', bias, C, why);
  if (out !== undefined) checkLength('out', out, length, `the length of ${names.x}`);
  const y = out ?? new Float32Array(length);
  const bindings: Binding[] = [
    { name: names.x, value: x, role: 'in', field: P_X, unit: C * HW },
    { name: 'out', value: y, role: 'out', field: P_Y, unit: C * HW },
  ];
  if (weight !== undefined) bindings.push({ name: 'weight', value: weight, role: 'in', field: P_WEIGHT, unit: 0 });
  if (bias !== undefined) bindings.push({ name: 'bias', value: bias, role: 'in', field: P_BIAS, unit: 0 });
  return { y, rank: shape.length, length, N, C, HW, channelsLast, bindings };
}

/** What a channel op adds to the common plan. */
interface PlanSpec {
  scalars: Scalar[];
  /** Kernel workspace for a pass of `count` samples. */
  workBytes: (count: number) => number;
  /** One unit of all samples (batchNorm training: the statistics span the batch). */
  whole?: boolean;
  /** Fields besides UNITS that receive each pass's sample count. */
  unitFields?: number[];
}

function channelPlan(op: string, kernel: KernelName, call: ChannelCall, spec: PlanSpec): Plan {
  const { N, C, HW, channelsLast, bindings } = call;
  const { scalars, whole = false } = spec;
  if (whole) for (let i = 0; i < bindings.length; i++) bindings[i] = { ...bindings[i], unit: 0 };
  scalars.push({ field: P_C, value: C }, { field: P_HW, value: HW });
  if (whole) scalars.push({ field: P_UNITS, value: N });
  const i = scalars.findIndex((s) => s.field === P_FLAGS);
  const layoutFlag = channelsLast ? FLAG_CHANNELS_LAST : 0;
  if (i < 0) scalars.push({ field: P_FLAGS, value: layoutFlag });
  else scalars[i] = { field: P_FLAGS, value: scalars[i].value | layoutFlag };
  return {
    op, kernel, units: whole ? 1 : N, unitLength: whole ? 0 : C * HW, bindings, sameOk: [['out', bindings[0].name]], scalars,
    unitFields: whole ? [] : [P_UNITS, ...(spec.unitFields ?? [])], workBytes: spec.workBytes,
  };
}

// Runs the plan, or only checks its aliasing when x is empty.
function run(plan: Plan, call: ChannelCall): Float32Array<ArrayBuffer> {
  if (call.length === 0) checkAliasing(plan);
  else execute(plan);
  return result(call.y);
}

/**
 * Batch normalization. Inference (`training: false`) uses runningMean/runningVar. Training normalizes
 * with the batch statistics (biased variance) and, when running buffers are given, updates them in place:
 * `r = (1 - momentum) * r + momentum * stat`, storing the unbiased batch variance (PyTorch). ONNX's
 * convention is `momentum = 1 - onnxMomentum` with `unbiasedRunningVar: false`.
 */
export function batchNorm(x: TensorLike, shape: readonly number[], options?: BatchNormOptions): Float32Array<ArrayBuffer> {
  const {
    layout = 'NCHW', weight, bias, runningMean, runningVar, training: trainingIn = false, momentum = 0.1,
    unbiasedRunningVar = true, eps: epsIn = 1e-5, out,
  } = readOptions('batchNorm', options, BATCH_NORM_OPTIONS);
  const k = getKernels();
  const eps = checkEps(epsIn);
  const training = checkBoolean('training', trainingIn);
  const unbiased = checkBoolean('unbiasedRunningVar', unbiasedRunningVar);
  if (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1)) {
    throw new NormkitError('INVALID_MOMENTUM', `momentum: expected a number in [0, 1], got ${describe(momentum)}`);
  }
  const call = channelCall(x, shape, { layout, weight, bias, out });
  const { N, C, HW, length } = call;
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
  // Training updates the running statistics in place: they are outputs too.
  const role = training ? 'inout' : 'in';
  if (runningMean !== undefined) call.bindings.push({ name: 'runningMean', value: runningMean, role, field: P_RUNNING_MEAN, unit: 0 });
  if (runningVar !== undefined) call.bindings.push({ name: 'runningVar', value: runningVar, role, field: P_RUNNING_VAR, unit: 0 });
  if (length > 0) checkWorkspace('batchNorm', C, 0);
  const workBytes = () => k.workspaceBytes(C, 0);
  const eps64 = { field: P_EPS, value: eps, f64: true };
  const plan = training
    ? channelPlan('batchNorm', 'batchNormTraining', call, {
      scalars: [eps64, { field: P_MOMENTUM, value: momentum, f64: true }, { field: P_FLAGS, value: unbiased ? FLAG_UNBIASED : 0 }],
      workBytes,
      whole: true,
    })
    : channelPlan('batchNorm', 'batchNormInference', call, { scalars: [eps64], workBytes });
  return run(plan, call);
}

function groupNormCall(
  op: string, x: TensorLike, shape: readonly number[], numGroups: unknown, options: ChannelNormOptions | undefined,
): Float32Array<ArrayBuffer> {
  const { layout = 'NCHW', weight, bias, eps: epsIn = 1e-5, out } = readOptions(op, options, CHANNEL_NORM_OPTIONS);
  const k = getKernels();
  const eps = checkEps(epsIn);
  const call = channelCall(x, shape, { layout, weight, bias, out });
  const { C, length } = call;
  const G = numGroups === undefined ? Math.max(C, 1) : numGroups; // instanceNorm: one group per channel
  if (typeof G !== 'number' || !Number.isInteger(G) || G < 1 || C % G !== 0) {
    throw new NormkitError(
      'INVALID_GROUPS',
      `numGroups: expected a positive integer that divides the channel count C = ${C}, got ${describe(numGroups)}`,
    );
  }
  if (length > 0) checkWorkspace(op, C, 0);
  const plan = channelPlan(op, 'groupNorm', call, {
    scalars: [{ field: P_GROUPS, value: G }, { field: P_EPS, value: eps, f64: true }],
    workBytes: () => k.workspaceBytes(C, 0),
  });
  return run(plan, call);
}

/** Instance normalization: each (sample, channel) over the spatial axes, with per-channel affine. */
export function instanceNorm(x: TensorLike, shape: readonly number[], options?: ChannelNormOptions): Float32Array<ArrayBuffer> {
  return groupNormCall('instanceNorm', x, shape, undefined, options);
}

/** Group normalization: each (sample, group of C / numGroups channels), with per-channel affine. */
export function groupNorm(
  x: TensorLike, shape: readonly number[], numGroups: number, options?: ChannelNormOptions,
): Float32Array<ArrayBuffer> {
  if (numGroups === undefined) {
    throw new NormkitError('INVALID_GROUPS', 'numGroups: expected a positive integer that divides C, got undefined');
  }
  return groupNormCall('groupNorm', x, shape, numGroups, options);
}

/**
 * Adaptive instance normalization (Huang & Belongie, 2017): each content (sample, channel) is normalized
 * and takes the standard deviation and mean of the matching style plane, both with biased variance + eps.
 * The style has the content's channels and batch size, or batch 1 (broadcast); its spatial size is free.
 */
export function adaIN(
  content: TensorLike, contentShape: readonly number[], style: TensorLike, styleShapeIn: readonly number[],
  options?: AdaINOptions,
): Float32Array<ArrayBuffer> {
  const { layout = 'NCHW', eps: epsIn = 1e-5, out } = readOptions('adaIN', options, ADAIN_OPTIONS);
  const k = getKernels();
  const eps = checkEps(epsIn);
  const call = channelCall(
    content, contentShape, { layout, weight: undefined, bias: undefined, out }, { x: 'content', shape: 'contentShape' },
  );
  const { N, C, length, channelsLast } = call;
  const styleLength = lengthOf('style', style);
  const styleShape = readShape('styleShape', styleShapeIn, styleLength, 'style', 2);
  const [styleN, styleC, styleHW] = channelDims(styleShape, channelsLast);
  const { rank } = call;
  if (styleShape.length !== rank || styleC !== C || (styleN !== N && styleN !== 1)) {
    throw new NormkitError(
      'STYLE_MISMATCH',
      `styleShape: expected rank ${rank} with ${C} channels and batch ${N === 1 ? '1' : `${N} or 1`} (layout ${channelsLast ? 'NHWC' : 'NCHW'}), got ${describe(styleShape)}`,
    );
  }
  if (length > 0 && styleHW === 0) {
    throw new NormkitError('STYLE_MISMATCH', `styleShape: the style has no spatial elements to take statistics from, got ${describe(styleShape)}`);
  }
  // Content samples are independent; a per-sample style is taken with its samples.
  const broadcast = styleN === 1;
  call.bindings.push({ name: 'style', value: style, role: 'in', field: P_STYLE, unit: broadcast ? 0 : C * styleHW });
  if (length > 0) checkWorkspace('adaIN', C, styleN * C);
  const scalars: Scalar[] = [{ field: P_STYLE_HW, value: styleHW }, { field: P_EPS, value: eps, f64: true }];
  if (broadcast) scalars.push({ field: P_STYLE_UNITS, value: 1 });
  const plan = channelPlan('adaIN', 'adaIN', call, {
    scalars,
    workBytes: (count) => k.workspaceBytes(C, (broadcast ? 1 : count) * C),
    unitFields: broadcast ? [] : [P_STYLE_UNITS],
  });
  return run(plan, call);
}
