/**
 * Calling any op from a loosely typed description, for the tests that put arbitrary values in every
 * argument (validation matrix, fuzzing): one dispatch instead of a switch per test file.
 */
import { adaIN, batchNorm, groupNorm, instanceNorm, layerNorm, rmsNorm } from '../../src/index.js';

export type Op = 'layerNorm' | 'rmsNorm' | 'batchNorm' | 'batchNormTraining' | 'instanceNorm' | 'groupNorm' | 'adaIN';
export const ALL_OPS: readonly Op[] = ['layerNorm', 'rmsNorm', 'batchNorm', 'batchNormTraining', 'instanceNorm', 'groupNorm', 'adaIN'];

/** One call's arguments, loosely typed so that a case can put anything anywhere. */
export interface LooseCall {
  x: unknown;
  shape: unknown;
  numGroups?: unknown;
  style?: unknown;
  styleShape?: unknown;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
/** Calls `op` with the call's arguments and `options` as given (batchNormTraining differs only in options). */
export function invokeOp(op: Op, c: LooseCall, options: unknown): Float32Array {
  const [x, shape, o] = [c.x as any, c.shape as any, options as any];
  switch (op) {
    case 'layerNorm':
      return layerNorm(x, shape, o);
    case 'rmsNorm':
      return rmsNorm(x, shape, o);
    case 'batchNorm':
    case 'batchNormTraining':
      return batchNorm(x, shape, o);
    case 'instanceNorm':
      return instanceNorm(x, shape, o);
    case 'groupNorm':
      return groupNorm(x, shape, c.numGroups as any, o);
    case 'adaIN':
      return adaIN(x, shape, c.style as any, c.styleShape as any, o);
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any */
