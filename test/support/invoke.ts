/**
 * Calling any op from a loosely typed description, for the tests that put arbitrary values in every
 * argument (validation matrix, fuzzing): the op registry's dispatch (test/support/registry.ts).
 */
import * as normkit from '../../src/index.js';
import { OPS, REGISTRY, type NormkitLike, type OpId } from './registry.js';

export type Op = OpId;
export const ALL_OPS: readonly Op[] = OPS;

/** One call's arguments, loosely typed so that a case can put anything anywhere. */
export interface LooseCall {
  x: unknown;
  shape: unknown;
  numGroups?: unknown;
  style?: unknown;
  styleShape?: unknown;
}

/** Calls `op` with the call's arguments and `options` as given (batchNormTraining differs only in options). */
export function invokeOp(op: Op, c: LooseCall, options: unknown): Float32Array {
  return REGISTRY[op].run(normkit as unknown as NormkitLike, { ...c, options: {} }, options);
}
