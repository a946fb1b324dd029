// The channel ops: batchNorm, instanceNorm, groupNorm and adaIN, over NCHW or NHWC tensors of rank >= 2.

import { NormkitError, describe } from '../errors.js';
import { getKernels, type KernelName } from '../wasm.js';
import {
  P_X, P_Y, P_WEIGHT, P_BIAS, P_RUNNING_MEAN, P_RUNNING_VAR, P_STYLE, P_UNITS, P_C, P_HW, P_GROUPS, P_STYLE_UNITS,
  P_STYLE_HW, P_FLAGS, P_EPS, P_MOMENTUM, P_EPILOGUE, P_RESIDUAL, P_INPUT_BIAS, P_SUM_OUT, P_MEAN_OUT, P_INV_STD_OUT,
  P_RESIDUAL_STEP, P_INPUT_BIAS_STEP, P_WEIGHT_STEP, P_BIAS_STEP, P_CHANNEL_STRIDE, FLAG_CHANNELS_LAST, FLAG_UNBIASED,
  FLAG_RESIDUAL_PER_CHANNEL, FLAG_INPUT_BIAS_PER_CHANNEL,
} from '../generated/abi.js';
import {
  readOptions, optionNames, lengthOf, checkLength, readShape, checkEps, checkLayout, checkBoolean, channelDims, checkWorkspace,
  checkActivation, callDtype,
} from '../validate.js';
import { readShapeOption, channelOperand } from '../broadcast.js';
import { checkAliasing } from '../aliasing.js';
import { execute, outputLike, result } from '../execute.js';
import { Tensor } from '../memory.js';
import type { Binding, Blocks, Plan, Scalar } from '../plan.js';
import type { AdaINOptions, BatchNormOptions, ChannelNormOptions, Output, TensorLike } from '../types.js';

const COMMON = [
  'layout', 'eps', 'out', 'activation', 'residual', 'residualShape', 'inputBias', 'inputBiasShape', 'sumOut', 'mean', 'invStd',
  'dtype',
];
const AFFINE = ['weight', 'weightShape', 'bias', 'biasShape'];
const BATCH_NORM_OPTIONS = optionNames([
  ...COMMON, ...AFFINE, 'runningMean', 'runningVar', 'training', 'momentum', 'unbiasedRunningVar',
]);
const CHANNEL_NORM_OPTIONS = optionNames([...COMMON, ...AFFINE]);
const ADAIN_OPTIONS = optionNames(COMMON);

/** A validated channel tensor with its output, and the bindings and scalars every channel op starts from. */
interface ChannelCall {
  y: TensorLike;
  rank: number;
  length: number;
  N: number;
  C: number;
  HW: number;
  channelsLast: boolean;
  bindings: Binding[];
  scalars: Scalar[];
  /** FLAG_ bits of the call (layout, per-channel skip inputs); the op may add its own. */
  flags: number;
  /** Whether weight and bias may hold one value per (sample, channel). */
  perSampleOk: boolean;
  /** The dtype option, checked with the arguments when the plan is complete. */
  dtype: unknown;
  /** The output the op made (no `out` given). */
  made: TensorLike | undefined;
}

const X_NAMES: ChannelSpec = { x: 'x', shape: 'shape', lengthWhy: 'the length of x', perSampleAffine: true };
const BATCH_NORM_NAMES: ChannelSpec = { ...X_NAMES, perSampleAffine: false };
const CONTENT_NAMES: ChannelSpec = { x: 'content', shape: 'contentShape', lengthWhy: 'the length of content', perSampleAffine: true };

/** The options every channel op shares, each read once. */
interface ChannelArgs {
  layout: unknown;
  weight?: unknown;
  weightShape?: unknown;
  bias?: unknown;
  biasShape?: unknown;
  out: unknown;
  activation: unknown;
  residual: unknown;
  residualShape: unknown;
  inputBias: unknown;
  inputBiasShape: unknown;
  sumOut: unknown;
  mean: unknown;
  invStd: unknown;
  dtype: unknown;
}

/**
 * How an op names its main input and its shape (adaIN: content, contentShape), and whether its weight and
 * bias may hold one value per (sample, channel) (not batchNorm, whose coefficients are per channel).
 */
interface ChannelSpec {
  x: string;
  shape: string;
  /** Why out and sumOut have the length they must have. */
  lengthWhy: string;
  perSampleAffine: boolean;
}

/** A per-channel operand's parameter-block field and its names in messages, built once. */
interface ChannelOperand {
  name: string;
  shapeName: string;
  countWhy: string;
  field: number;
}
function operand(name: string, field: number): ChannelOperand {
  const shapeName = `${name}Shape`;
  return { name, shapeName, countWhy: `the product of ${shapeName}`, field };
}
const WEIGHT = operand('weight', P_WEIGHT);
const BIAS = operand('bias', P_BIAS);
const RESIDUAL = operand('residual', P_RESIDUAL);
const INPUT_BIAS = operand('inputBias', P_INPUT_BIAS);

// A per-channel operand: the default [C], or one value per (sample, channel) by its shape option. Binds it
// (with the samples when it has one value per sample) and returns its step, or undefined when it is
// shaped like x over the spatial axes too (residual and inputBias only).
function bindPerChannel(
  call: ChannelCall & { shape: number[] }, f: ChannelOperand, value: TensorLike, shapeIn: unknown, spatialOk: boolean,
): number | undefined {
  const { name, field } = f;
  const { C, shape, channelsLast, bindings, length } = call;
  if (shapeIn === undefined) {
    checkLength(name, value, C, 'one per channel C');
    bindings.push({ name, value, role: 'in', field, unit: 0 });
    return 0;
  }
  const opShape = readShapeOption(f.shapeName, shapeIn);
  const count = opShape.reduce((a, b) => a * b, 1);
  checkLength(name, value, count, f.countWhy);
  const data = value instanceof Tensor ? value.array : value;
  const rules = { channelsLast, spatialOk, perSampleOk: spatialOk || call.perSampleOk };
  const resolved = channelOperand(f.shapeName, data, opShape, shape, rules);
  if (resolved === undefined) {
    bindings.push({ name, value, role: 'in', field, unit: length / Math.max(call.N, 1) });
    return undefined;
  }
  bindings.push({ name, value: resolved.values ?? value, role: 'in', field, unit: resolved.perSample ? C : 0 });
  return resolved.perSample ? C : 0;
}

// An optional operand is a tensor when given; its shape option only with it. Returns whether it is given.
function given(f: ChannelOperand, v: unknown, s: unknown): v is TensorLike {
  if (v !== undefined) {
    lengthOf(f.name, v);
    return true;
  }
  if (s !== undefined) throw new NormkitError('INVALID_OPTION', `${f.shapeName}: only meaningful with ${f.name}, but ${f.name} is undefined`);
  return false;
}

// Validates what every channel op shares: x, its shape and layout, the affine, skip inputs, statistics
// outputs, activation and out.
function channelCall(x: TensorLike, shapeIn: readonly number[], a: ChannelArgs, spec: ChannelSpec): ChannelCall {
  const length = lengthOf(spec.x, x);
  const shape = readShape(spec.shape, shapeIn, length, spec.x, 2);
  const channelsLast = checkLayout(a.layout);
  const [N, C, HW] = channelDims(shape, channelsLast);
  const epilogue = checkActivation(a.activation);
  const { out, sumOut, mean, invStd } = a;
  if (out !== undefined) checkLength('out', out, length, spec.lengthWhy);
  const y = (out as TensorLike | undefined) ?? outputLike(x, length);
  const bindings: Binding[] = [
    { name: spec.x, value: x, role: 'in', field: P_X, unit: C * HW },
    { name: 'out', value: y, role: 'out', field: P_Y, unit: C * HW },
  ];
  const scalars: Scalar[] = [{ field: P_EPILOGUE, value: epilogue }];
  const call = {
    y, rank: shape.length, shape, length, N, C, HW, channelsLast, bindings, scalars, flags: 0,
    perSampleOk: spec.perSampleAffine, dtype: a.dtype, made: out === undefined ? y : undefined,
  };
  let flags = channelsLast ? FLAG_CHANNELS_LAST : 0;
  if (given(WEIGHT, a.weight, a.weightShape)) {
    scalars.push({ field: P_WEIGHT_STEP, value: bindPerChannel(call, WEIGHT, a.weight, a.weightShape, false) ?? 0 });
  }
  if (given(BIAS, a.bias, a.biasShape)) {
    scalars.push({ field: P_BIAS_STEP, value: bindPerChannel(call, BIAS, a.bias, a.biasShape, false) ?? 0 });
  }
  const hasResidual = given(RESIDUAL, a.residual, a.residualShape);
  if (hasResidual) {
    // Without residualShape the residual is shaped like x.
    const step = bindPerChannel(call, RESIDUAL, a.residual as TensorLike, a.residualShape ?? shape, true);
    if (step !== undefined) {
      flags |= FLAG_RESIDUAL_PER_CHANNEL;
      scalars.push({ field: P_RESIDUAL_STEP, value: step });
    }
  }
  const hasInputBias = given(INPUT_BIAS, a.inputBias, a.inputBiasShape);
  if (hasInputBias) {
    const step = bindPerChannel(call, INPUT_BIAS, a.inputBias as TensorLike, a.inputBiasShape, true);
    if (step !== undefined) {
      flags |= FLAG_INPUT_BIAS_PER_CHANNEL;
      scalars.push({ field: P_INPUT_BIAS_STEP, value: step });
    }
  }
  if (sumOut !== undefined) {
    if (!hasResidual && !hasInputBias) {
      throw new NormkitError('INVALID_OPTION', 'sumOut: only meaningful with residual or inputBias, but both are undefined');
    }
    checkLength('sumOut', sumOut, length, spec.lengthWhy);
    bindings.push({ name: 'sumOut', value: sumOut as TensorLike, role: 'out', field: P_SUM_OUT, unit: C * HW });
  }
  if (mean !== undefined) lengthOf('mean', mean);
  if (invStd !== undefined) lengthOf('invStd', invStd);
  call.flags = flags;
  return call;
}

// The statistics outputs: `perSample` values per sample (groups), or 0 for one per channel over the batch.
function bindStats(call: ChannelCall, a: { mean: unknown; invStd: unknown }, perSample: number): void {
  const { N, C } = call;
  const length = perSample > 0 ? N * perSample : C;
  const why = perSample > 0 ? 'one value per (sample, group)' : 'one per channel C';
  if (a.mean !== undefined) {
    checkLength('mean', a.mean, length, why);
    call.bindings.push({ name: 'mean', value: a.mean as TensorLike, role: 'out', field: P_MEAN_OUT, unit: perSample });
  }
  if (a.invStd !== undefined) {
    checkLength('invStd', a.invStd, length, why);
    call.bindings.push({ name: 'invStd', value: a.invStd as TensorLike, role: 'out', field: P_INV_STD_OUT, unit: perSample });
  }
}

/** What a channel op adds to the common plan. */
interface PlanSpec {
  scalars: Scalar[];
  /** Kernel workspace for a pass of `count` samples: workBytes + count * workBytesPerUnit bytes. */
  workBytes: number;
  workBytesPerUnit?: number;
  /** One unit of all samples (batchNorm training: the statistics span the batch). */
  whole?: boolean;
  /** Fields that receive each pass's sample count (default: UNITS). */
  unitFields?: readonly number[];
  /** Channels per block that threads may share out (groupNorm: a group; default 1). */
  blockChannels?: number;
}

const SAME_OK = {
  x: [['out', 'x'], ['out', 'residual'], ['sumOut', 'x'], ['sumOut', 'residual']],
  content: [['out', 'content'], ['out', 'residual'], ['sumOut', 'content'], ['sumOut', 'residual']],
} as const;

// Where each binding's block of `cpb` channels starts, in elements, for threads that share out blocks:
// shaped like x (and the style) by layout, per channel by cpb, statistics outputs one per block.
function blockStride(b: Binding, call: ChannelCall, cpb: number, styleHW: number): number {
  const inX = call.channelsLast ? cpb : cpb * call.HW;
  switch (b.field) {
    case P_X: case P_Y: case P_SUM_OUT: return inX;
    case P_RESIDUAL: return (call.flags & FLAG_RESIDUAL_PER_CHANNEL) !== 0 ? cpb : inX;
    case P_INPUT_BIAS: return (call.flags & FLAG_INPUT_BIAS_PER_CHANNEL) !== 0 ? cpb : inX;
    case P_STYLE: return call.channelsLast ? cpb : cpb * styleHW;
    case P_MEAN_OUT: case P_INV_STD_OUT: return 1;
    default: return cpb; // weight, bias, running statistics: one value per channel
  }
}

// Where each binding's block of rows starts (rows of C channels, NHWC): x-shaped ones move a row per
// block, per-channel ones not at all.
function rowStride(b: Binding, call: ChannelCall): number {
  const { C, flags } = call;
  switch (b.field) {
    case P_X: case P_Y: case P_SUM_OUT: return C;
    case P_RESIDUAL: return (flags & FLAG_RESIDUAL_PER_CHANNEL) !== 0 ? 0 : C;
    case P_INPUT_BIAS: return (flags & FLAG_INPUT_BIAS_PER_CHANNEL) !== 0 ? 0 : C;
    default: return 0;
  }
}

function channelPlan(op: string, kernel: KernelName, call: ChannelCall, spec: PlanSpec): Plan {
  const { N, C, HW, bindings, scalars } = call;
  const whole = spec.whole ?? false;
  if (whole) for (let i = 0; i < bindings.length; i++) bindings[i] = { ...bindings[i], unit: 0 };
  let flags = call.flags;
  let styleHW = 0;
  for (const s of spec.scalars) {
    if (s.field === P_FLAGS) flags |= s.value;
    else scalars.push(s);
    if (s.field === P_STYLE_HW) styleHW = s.value;
  }
  scalars.push({ field: P_C, value: C }, { field: P_HW, value: HW }, { field: P_FLAGS, value: flags });
  if (whole) scalars.push({ field: P_UNITS, value: N });
  // Threads may share out blocks of channels inside a sample: batchNorm's at any batch size; the others',
  // whose statistics outputs are laid out per sample, in a batch of one. batchNorm inference on rows of
  // channels (NHWC) shares out whole rows instead: it takes no statistics, and a block of channels would
  // leave each thread every other cache line of every row.
  const cpb = spec.blockChannels ?? 1;
  let blocks: Blocks | undefined;
  if (kernel === 'batchNormInference' && call.channelsLast && N === 1 && HW > 1) {
    blocks = { count: HW, fields: ROW_BLOCK_FIELDS, stride: (b) => rowStride(b, call) };
  } else if ((N === 1 || kernel !== 'groupNorm' && kernel !== 'adaIN') && C / cpb > 1) {
    blocks = {
      count: C / cpb,
      fields: kernel === 'groupNorm' ? [[P_C, cpb], [P_GROUPS, 1]] : CHANNEL_BLOCK_FIELDS,
      stride: (b) => blockStride(b, call, cpb, styleHW),
    };
    scalars.push({ field: P_CHANNEL_STRIDE, value: C });
  }
  return {
    op, kernel, units: whole ? 1 : N, unitLength: whole ? 0 : C * HW, bindings,
    sameOk: bindings[0].name === 'content' ? SAME_OK.content : SAME_OK.x, scalars,
    unitFields: whole ? NO_FIELDS : spec.unitFields ?? UNITS_FIELD, workBytes: spec.workBytes,
    workBytesPerUnit: spec.workBytesPerUnit ?? 0, blocks,
    half: callDtype(call.dtype, bindings, call.made),
  };
}

// The kernels' workspace size: a wasm usize, which reaches JS as a signed i32.
const workspaceBytes = (C: number, styleGroups: number): number => getKernels().workspaceBytes(C, styleGroups) >>> 0;

const NO_FIELDS: readonly number[] = [];
const CHANNEL_BLOCK_FIELDS: Blocks['fields'] = [[P_C, 1]];
const ROW_BLOCK_FIELDS: Blocks['fields'] = [[P_HW, 1]];
const UNITS_FIELD: readonly number[] = [P_UNITS];

// Runs the plan, or only checks its aliasing when x is empty.
function run<R>(plan: Plan, call: ChannelCall): R {
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
export function batchNorm<X extends TensorLike, O extends TensorLike | undefined = undefined>(
  x: X, shape: readonly number[], options?: BatchNormOptions & { out?: O },
): Output<X, O> {
  const {
    layout = 'NCHW', weight, weightShape, bias, biasShape, runningMean, runningVar, training: trainingIn = false,
    momentum = 0.1, unbiasedRunningVar = true, eps: epsIn = 1e-5, out, activation, residual, residualShape, inputBias,
    inputBiasShape, sumOut, mean, invStd, dtype,
  } = readOptions('batchNorm', options, BATCH_NORM_OPTIONS);
  getKernels(); // NOT_READY before anything else
  const eps = checkEps(epsIn);
  const training = checkBoolean('training', trainingIn);
  const unbiased = checkBoolean('unbiasedRunningVar', unbiasedRunningVar);
  if (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1)) {
    throw new NormkitError('INVALID_MOMENTUM', `momentum: expected a number in [0, 1], got ${describe(momentum)}`);
  }
  if (!training && (mean !== undefined || invStd !== undefined)) {
    throw new NormkitError(
      'INVALID_OPTION',
      `${mean !== undefined ? 'mean' : 'invStd'}: inference (training: false) computes no statistics to save; use runningMean/runningVar`,
    );
  }
  const call = channelCall(x, shape, {
    layout, weight, weightShape, bias, biasShape, out, activation, residual, residualShape, inputBias, inputBiasShape,
    sumOut, mean, invStd, dtype,
  }, BATCH_NORM_NAMES);
  bindStats(call, { mean, invStd }, 0);
  const { N, C, HW, length } = call;
  const why = 'one per channel C';
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
  if (runningMean !== undefined) call.bindings.push({ name: 'runningMean', value: runningMean as TensorLike, role, field: P_RUNNING_MEAN, unit: 0 });
  if (runningVar !== undefined) call.bindings.push({ name: 'runningVar', value: runningVar as TensorLike, role, field: P_RUNNING_VAR, unit: 0 });
  if (length > 0) checkWorkspace('batchNorm', C, 0);
  const workBytes = workspaceBytes(C, 0);
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

function groupNormCall<R>(
  op: string, x: TensorLike, shape: readonly number[], numGroups: unknown, options: ChannelNormOptions | undefined,
): R {
  const {
    layout = 'NCHW', weight, weightShape, bias, biasShape, eps: epsIn = 1e-5, out, activation, residual, residualShape,
    inputBias, inputBiasShape, sumOut, mean, invStd, dtype,
  } = readOptions(op, options, CHANNEL_NORM_OPTIONS);
  getKernels(); // NOT_READY before anything else
  const eps = checkEps(epsIn);
  const call = channelCall(x, shape, {
    layout, weight, weightShape, bias, biasShape, out, activation, residual, residualShape, inputBias, inputBiasShape,
    sumOut, mean, invStd, dtype,
  }, X_NAMES);
  const { C, length } = call;
  const G = numGroups === undefined ? Math.max(C, 1) : numGroups; // instanceNorm: one group per channel
  if (typeof G !== 'number' || !Number.isInteger(G) || G < 1 || C % G !== 0) {
    throw new NormkitError(
      'INVALID_GROUPS',
      `numGroups: expected a positive integer that divides the channel count C = ${C}, got ${describe(numGroups)}`,
    );
  }
  bindStats(call, { mean, invStd }, G);
  if (length > 0) checkWorkspace(op, C, 0);
  const plan = channelPlan(op, 'groupNorm', call, {
    scalars: [{ field: P_GROUPS, value: G }, { field: P_EPS, value: eps, f64: true }],
    workBytes: workspaceBytes(C, 0),
    blockChannels: C / G,
  });
  return run(plan, call);
}

/** Instance normalization: each (sample, channel) over the spatial axes, with per-channel affine. */
export function instanceNorm<X extends TensorLike, O extends TensorLike | undefined = undefined>(
  x: X, shape: readonly number[], options?: ChannelNormOptions & { out?: O },
): Output<X, O> {
  return groupNormCall('instanceNorm', x, shape, undefined, options);
}

/** Group normalization: each (sample, group of C / numGroups channels), with per-channel affine. */
export function groupNorm<X extends TensorLike, O extends TensorLike | undefined = undefined>(
  x: X, shape: readonly number[], numGroups: number, options?: ChannelNormOptions & { out?: O },
): Output<X, O> {
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
export function adaIN<X extends TensorLike, O extends TensorLike | undefined = undefined>(
  content: X, contentShape: readonly number[], style: TensorLike, styleShapeIn: readonly number[],
  options?: AdaINOptions & { out?: O },
): Output<X, O> {
  const {
    layout = 'NCHW', eps: epsIn = 1e-5, out, activation, residual, residualShape, inputBias, inputBiasShape, sumOut,
    mean, invStd, dtype,
  } = readOptions('adaIN', options, ADAIN_OPTIONS);
  getKernels(); // NOT_READY before anything else
  const eps = checkEps(epsIn);
  const call = channelCall(content, contentShape, {
    layout, out, activation, residual, residualShape, inputBias, inputBiasShape, sumOut, mean, invStd, dtype,
  }, CONTENT_NAMES);
  bindStats(call, { mean, invStd }, call.C);
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
    // A per-sample style needs C more style records per sample of the pass.
    workBytes: workspaceBytes(C, broadcast ? C : 0),
    workBytesPerUnit: broadcast ? 0 : workspaceBytes(C, C) - workspaceBytes(C, 0),
    unitFields: broadcast ? UNITS_FIELD : [P_UNITS, P_STYLE_UNITS],
  });
  return run(plan, call);
}
