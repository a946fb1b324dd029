/**
 * The op signatures shared by normkit and the float64 reference, so one test harness can drive both:
 * `refOps` wraps src/reference.ts in normkit's calling convention (optional outputs such as `mean`,
 * `invStd`, `sumOut` and the running statistics are written into the buffers passed in; `y` is returned,
 * as a Float64Array).
 */
import {
  refAdaINFull,
  refBatchNorm,
  refGroupNormFull,
  refInstanceNormFull,
  refLayerNorm,
  refRmsNormFull,
  type Activation,
  type Layout,
  type RefResult,
} from '../../src/reference.js';

type F32 = Float32Array;

/** The options of issue 10 every op takes: activation, skip inputs and their shapes. */
export interface CommonArgs {
  eps?: number;
  out?: F32;
  activation?: Activation;
  residual?: F32;
  residualShape?: number[];
  inputBias?: F32;
  inputBiasShape?: number[];
  sumOut?: F32;
}
export interface AffineArgs {
  weight?: F32;
  weightShape?: number[];
  bias?: F32;
  biasShape?: number[];
}
export interface StatsArgs {
  mean?: F32;
  invStd?: F32;
}
export interface LayerNormArgs extends CommonArgs, AffineArgs, StatsArgs {
  axis?: number;
}
export interface RmsNormArgs extends CommonArgs, Omit<AffineArgs, 'bias' | 'biasShape'> {
  axis?: number;
  invStd?: F32;
}
export interface BatchNormArgs extends CommonArgs, AffineArgs, StatsArgs {
  layout?: Layout;
  runningMean?: F32;
  runningVar?: F32;
  training?: boolean;
  momentum?: number;
  unbiasedRunningVar?: boolean;
}
export interface ChannelNormArgs extends CommonArgs, AffineArgs, StatsArgs {
  layout?: Layout;
}
export interface AdaINArgs extends CommonArgs, StatsArgs {
  layout?: Layout;
}

export interface NormOps {
  layerNorm(x: F32, shape: number[], o?: LayerNormArgs): ArrayLike<number>;
  rmsNorm(x: F32, shape: number[], o?: RmsNormArgs): ArrayLike<number>;
  batchNorm(x: F32, shape: number[], o?: BatchNormArgs): ArrayLike<number>;
  instanceNorm(x: F32, shape: number[], o?: ChannelNormArgs): ArrayLike<number>;
  groupNorm(x: F32, shape: number[], numGroups: number, o?: ChannelNormArgs): ArrayLike<number>;
  adaIN(content: F32, contentShape: number[], style: F32, styleShape: number[], o?: AdaINArgs): ArrayLike<number>;
}

/**
 * Writes the outputs a call asked for: `sumOut` (with residual or inputBias), `mean` and `invStd` (where the
 * op computes them); returns y.
 */
function fill(r: RefResult, o: CommonArgs & StatsArgs): Float64Array {
  if (o.residual || o.inputBias) o.sumOut?.set(r.sum);
  if (r.mean) o.mean?.set(r.mean);
  if (r.invStd) o.invStd?.set(r.invStd);
  return r.y;
}

export const refOps: NormOps = {
  layerNorm: (x, shape, o = {}) => fill(refLayerNorm(x, shape, o), o),
  rmsNorm: (x, shape, o = {}) => fill(refRmsNormFull(x, shape, o), o),
  batchNorm(x, shape, o = {}) {
    const r = refBatchNorm(x, shape, o);
    if ('runningMean' in r && r.runningMean) o.runningMean?.set(r.runningMean);
    if ('runningVar' in r && r.runningVar) o.runningVar?.set(r.runningVar);
    return fill(r, o);
  },
  instanceNorm: (x, shape, o = {}) => fill(refInstanceNormFull(x, shape, o), o),
  groupNorm: (x, shape, numGroups, o = {}) => fill(refGroupNormFull(x, shape, numGroups, o), o),
  adaIN: (content, contentShape, style, styleShape, o = {}) =>
    fill(refAdaINFull(content, contentShape, style, styleShape, o), o),
};
