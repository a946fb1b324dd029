// A plan: one op call as a value. The op validates its arguments and says what to run; the executor
// (execute.ts) does the rest the same way for every op.

import type { KernelName } from './wasm.js';
import type { HalfDtype, TensorLike } from './types.js';

/** How the kernel uses an array argument. */
export type Role = 'in' | 'out' | 'inout';

export interface Binding {
  /** The argument's name, for errors. */
  readonly name: string;
  readonly value: TensorLike;
  readonly role: Role;
  /** Parameter-block field (P_* of src/generated/abi.ts) that receives the pointer. */
  readonly field: number;
  /**
   * Elements per unit of work when the argument is sliced with the units (x, out: a row or a sample;
   * mean: 1); 0 when the kernel reads or writes all of it in every pass (weight, running statistics).
   */
  readonly unit: number;
}

/**
 * Independent blocks inside every unit (groups or channels), so that threads can share a call that has
 * fewer units than threads: a thread takes some of the `count` blocks of every unit of the pass, each
 * binding moved by its `stride` (elements from one block to the next, 0: not moved), and each field of
 * `fields` receives the thread's block count times the factor.
 */
export interface Blocks {
  readonly count: number;
  readonly fields: readonly (readonly [field: number, perBlock: number])[];
  stride(b: Binding): number;
}

export interface Scalar {
  readonly field: number;
  readonly value: number;
  readonly f64?: boolean;
}

export interface Plan {
  readonly op: string;
  readonly kernel: KernelName;
  /** Units of work: independent rows or samples, which copy mode may take a few at a time. */
  readonly units: number;
  /** Elements of x per unit, which sizes copy mode's passes. */
  readonly unitLength: number;
  /**
   * The array arguments. By convention bindings[0] is the main input x and bindings[1] the main output:
   * when both are staged, the kernel computes the output in place over the staged input.
   */
  readonly bindings: readonly Binding[];
  /** Pairs [output, input] of binding names that may be the very same Tensor (in-place work). */
  readonly sameOk: readonly (readonly [string, string])[];
  readonly scalars: readonly Scalar[];
  /** Fields that receive the unit count of each pass. */
  readonly unitFields: readonly number[];
  /** The dtype of the half-precision arguments (validate.ts's callDtype), if any. */
  readonly half?: HalfDtype | undefined;
  /**
   * Kernel workspace (the WORK field) for a pass of `count` units: workBytes + count * workBytesPerUnit
   * bytes; none when both are 0. Each thread of a pass has its own.
   */
  readonly workBytes: number;
  readonly workBytesPerUnit: number;
  /** Blocks inside a unit that threads may share out (channel ops). */
  readonly blocks?: Blocks;
}
