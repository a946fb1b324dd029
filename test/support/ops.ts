/**
 * The op signatures shared by normkit and the float64 reference, so one test harness can drive both:
 * `refOps` wraps src/reference.ts in normkit's calling convention (optional outputs such as `mean`,
 * `invStd`, `sumOut` and the running statistics are written into the buffers passed in; `y` is returned,
 * as a Float64Array).
 */
import {
  refAdaIN,
  refBatchNorm,
  refGroupNorm,
  refInstanceNorm,
  refLayerNorm,
  refRmsNorm,
  type Layout,
} from '../../src/reference.js';

type F32 = Float32Array;

export interface LayerNormArgs {
  axis?: number;
  weight?: F32;
  bias?: F32;
  eps?: number;
  residual?: F32;
  sumOut?: F32;
  out?: F32;
  mean?: F32;
  invStd?: F32;
}
export interface RmsNormArgs {
  axis?: number;
  weight?: F32;
  eps?: number;
  residual?: F32;
  sumOut?: F32;
  out?: F32;
}
export interface BatchNormArgs {
  layout?: Layout;
  weight?: F32;
  bias?: F32;
  runningMean?: F32;
  runningVar?: F32;
  training?: boolean;
  momentum?: number;
  unbiasedRunningVar?: boolean;
  eps?: number;
  out?: F32;
}
export interface ChannelNormArgs {
  layout?: Layout;
  weight?: F32;
  bias?: F32;
  eps?: number;
  out?: F32;
}
export interface AdaINArgs {
  layout?: Layout;
  eps?: number;
  out?: F32;
}

export interface NormOps {
  layerNorm(x: F32, shape: number[], o?: LayerNormArgs): ArrayLike<number>;
  rmsNorm(x: F32, shape: number[], o?: RmsNormArgs): ArrayLike<number>;
  batchNorm(x: F32, shape: number[], o?: BatchNormArgs): ArrayLike<number>;
  instanceNorm(x: F32, shape: number[], o?: ChannelNormArgs): ArrayLike<number>;
  groupNorm(x: F32, shape: number[], numGroups: number, o?: ChannelNormArgs): ArrayLike<number>;
  adaIN(content: F32, contentShape: number[], style: F32, styleShape: number[], o?: AdaINArgs): ArrayLike<number>;
}

/** The reference in normkit's calling convention (ignores `out`; fills the other output buffers). */
export const refOps: NormOps = {
  layerNorm(x, shape, o = {}) {
    const r = refLayerNorm(x, shape, o);
    o.mean?.set(r.mean);
    o.invStd?.set(r.invStd);
    if (o.residual) o.sumOut?.set(r.sum);
    return r.y;
  },
  rmsNorm(x, shape, o = {}) {
    if (o.residual) o.sumOut?.set(Float32Array.from(x, (v, i) => v + o.residual![i]));
    return refRmsNorm(x, shape, o);
  },
  batchNorm(x, shape, o = {}) {
    const r = refBatchNorm(x, shape, o);
    if (r.runningMean) o.runningMean?.set(r.runningMean);
    if (r.runningVar) o.runningVar?.set(r.runningVar);
    return r.y;
  },
  instanceNorm: (x, shape, o = {}) => refInstanceNorm(x, shape, o),
  groupNorm: (x, shape, numGroups, o = {}) => refGroupNorm(x, shape, numGroups, o),
  adaIN: (content, contentShape, style, styleShape, o = {}) => refAdaIN(content, contentShape, style, styleShape, o),
};
