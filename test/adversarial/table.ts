/**
 * The adversarial suite's one local op table (test/support/registry.ts did not exist when this suite was
 * written; switch to it once it does): for each op, its array arguments with their role and length, and
 * one call that passes them all, so that a test can place every argument anywhere (in a shared buffer, as a
 * Tensor, as a view of Tensor memory) and drive normkit or the float64 reference the same way.
 *
 * Roles: `in` is only read; `out` is only written; `inout` is read and updated in place (batchNorm
 * training's running statistics), and counts as an output for the aliasing rules (outputs never overlap).
 */
import * as normkit from '../../src/index.js';
import type { Layout } from '../../src/reference.js';
import { refOps } from '../support/ops.js';
import { sizeOf } from '../support/tensors.js';

export type ArgName =
  | 'x' | 'weight' | 'bias' | 'residual' | 'sumOut' | 'out' | 'mean' | 'invStd' | 'runningMean' | 'runningVar' | 'style';
export type Role = 'in' | 'out' | 'inout';
export type OpName = 'layerNorm' | 'rmsNorm' | 'batchNorm' | 'batchNormTraining' | 'instanceNorm' | 'groupNorm' | 'adaIN';
export const OP_NAMES: readonly OpName[] = ['layerNorm', 'rmsNorm', 'batchNorm', 'batchNormTraining', 'instanceNorm', 'groupNorm', 'adaIN'];

export interface ArgSpec {
  name: ArgName;
  role: Role;
  length: number;
  /** Values must be positive to mean what they should (runningVar). */
  positive?: boolean;
}

/** Any array argument: a Float32Array, a Tensor, or whatever a test wants to try. */
export type Args = Partial<Record<ArgName, unknown>>;

/** Scalars of one call; `eps` may be overridden per call. */
export interface Scalars {
  shape: number[];
  axis?: number;
  layout?: Layout;
  numGroups?: number;
  styleShape?: number[];
  momentum?: number;
  eps?: number;
}

export interface Case {
  op: OpName;
  name: string;
  scalars: Scalars;
  /** Every array argument this case passes (x first; `out` always among them). */
  args: ArgSpec[];
  /** Statistics group of element i of x (batchNorm inference: every element is its own group). */
  groupOf(i: number): number;
  groups: number;
  /** The outputs that share one scale (their group; a channel for batchNorm inference), for error bounds. */
  scaleGroupOf(i: number): number;
}

/** The subset of normkit's API these cases call; refOps (the float64 reference) has the same shape. */
/* eslint-disable @typescript-eslint/no-explicit-any */
type Ops = { [K in 'layerNorm' | 'rmsNorm' | 'batchNorm' | 'instanceNorm' | 'groupNorm' | 'adaIN']: (...a: any[]) => ArrayLike<number> };
export const NORMKIT: Ops = normkit as unknown as Ops;
export const REFERENCE: Ops = refOps as unknown as Ops;

/** Options object of the call, from the arguments given (undefined ones are left out). */
function pick(a: Args, names: ArgName[], extra: Record<string, unknown>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) o[k] = v;
  for (const n of names) if (a[n] !== undefined) o[n] = a[n];
  return o;
}

/**
 * Calls the case's op on `ops` with the array arguments in `a` (missing ones are not passed) and the
 * case's scalars, `eps` overridden by `eps` when given. Returns what the op returns (y).
 */
export function call(ops: Ops, c: Case, a: Args, eps = c.scalars.eps): ArrayLike<number> {
  const s = c.scalars;
  switch (c.op) {
    case 'layerNorm':
      return ops.layerNorm(a.x, s.shape, pick(a, ['weight', 'bias', 'residual', 'sumOut', 'out', 'mean', 'invStd'], { axis: s.axis, eps }));
    case 'rmsNorm':
      return ops.rmsNorm(a.x, s.shape, pick(a, ['weight', 'residual', 'sumOut', 'out'], { axis: s.axis, eps }));
    case 'batchNorm':
      return ops.batchNorm(a.x, s.shape, pick(a, ['weight', 'bias', 'runningMean', 'runningVar', 'out'], { layout: s.layout, eps }));
    case 'batchNormTraining':
      return ops.batchNorm(
        a.x, s.shape,
        pick(a, ['weight', 'bias', 'runningMean', 'runningVar', 'out'], { layout: s.layout, eps, training: true, momentum: s.momentum }),
      );
    case 'instanceNorm':
      return ops.instanceNorm(a.x, s.shape, pick(a, ['weight', 'bias', 'out'], { layout: s.layout, eps }));
    case 'groupNorm':
      return ops.groupNorm(a.x, s.shape, s.numGroups, pick(a, ['weight', 'bias', 'out'], { layout: s.layout, eps }));
    case 'adaIN':
      return ops.adaIN(a.x, s.shape, a.style, s.styleShape, pick(a, ['out'], { layout: s.layout, eps }));
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** layerNorm / rmsNorm over `shape` from `axis`; `full` adds every optional array argument. */
export function rowsCase(op: 'layerNorm' | 'rmsNorm', shape: number[], axis = -1, full = true): Case {
  const a = axis < 0 ? axis + shape.length : axis;
  const n = sizeOf(shape.slice(a));
  const rows = sizeOf(shape.slice(0, a));
  const L = sizeOf(shape);
  const args: ArgSpec[] = [{ name: 'x', role: 'in', length: L }];
  if (full) {
    args.push({ name: 'weight', role: 'in', length: n });
    if (op === 'layerNorm') args.push({ name: 'bias', role: 'in', length: n });
    args.push({ name: 'residual', role: 'in', length: L }, { name: 'sumOut', role: 'out', length: L });
  }
  args.push({ name: 'out', role: 'out', length: L });
  if (full && op === 'layerNorm') args.push({ name: 'mean', role: 'out', length: rows }, { name: 'invStd', role: 'out', length: rows });
  return {
    op, name: `${op} [${shape}] axis ${axis}${full ? '' : ', x and out only'}`, scalars: { shape, axis }, args,
    groupOf: (i) => Math.floor(i / n), groups: rows, scaleGroupOf: (i) => Math.floor(i / n),
  };
}

/** [N, C, S] and the (n, c) of element i in a channel layout. */
function channelGeometry(shape: number[], layout: Layout) {
  const N = shape[0];
  const C = layout === 'NCHW' ? shape[1] : shape[shape.length - 1];
  const S = sizeOf(layout === 'NCHW' ? shape.slice(2) : shape.slice(1, -1));
  const c = (i: number) => (layout === 'NCHW' ? Math.floor(i / S) % C : i % C);
  const n = (i: number) => Math.floor(i / (C * S));
  return { N, C, S, c, n };
}

export function channelCase(
  op: Exclude<OpName, 'layerNorm' | 'rmsNorm' | 'adaIN'>, layout: Layout, shape: number[],
  opts: { numGroups?: number; affine?: boolean; running?: boolean; momentum?: number } = {},
): Case {
  const { N, C, c, n } = channelGeometry(shape, layout);
  const L = sizeOf(shape);
  const affine = opts.affine ?? true;
  const args: ArgSpec[] = [{ name: 'x', role: 'in', length: L }];
  if (affine) args.push({ name: 'weight', role: 'in', length: C }, { name: 'bias', role: 'in', length: C });
  if (op === 'batchNorm' || (op === 'batchNormTraining' && (opts.running ?? true))) {
    const role: Role = op === 'batchNorm' ? 'in' : 'inout';
    args.push({ name: 'runningMean', role, length: C }, { name: 'runningVar', role, length: C, positive: true });
  }
  args.push({ name: 'out', role: 'out', length: L });
  const G = op === 'groupNorm' ? opts.numGroups ?? 1 : C;
  const grouping =
    op === 'batchNormTraining' ? { groupOf: c, groups: C }
    : op === 'batchNorm' ? { groupOf: (i: number) => i, groups: L }
    : { groupOf: (i: number) => n(i) * G + Math.floor(c(i) / (C / G)), groups: N * G };
  const extra = (op === 'groupNorm' ? ` G ${G}` : '') + (affine ? '' : ', no affine') + (op === 'batchNormTraining' && opts.running === false ? ', no running statistics' : '');
  return {
    op, name: `${op} ${layout} [${shape}]${extra}`,
    scalars: { shape, layout, numGroups: op === 'groupNorm' ? G : undefined, momentum: opts.momentum }, args, ...grouping,
    scaleGroupOf: op === 'batchNorm' ? c : grouping.groupOf,
  };
}

export function adaINCase(layout: Layout, shape: number[], styleShape: number[]): Case {
  const { N, C, c, n } = channelGeometry(shape, layout);
  const L = sizeOf(shape);
  return {
    op: 'adaIN', name: `adaIN ${layout} [${shape}] style [${styleShape}]`, scalars: { shape, layout, styleShape },
    args: [{ name: 'x', role: 'in', length: L }, { name: 'style', role: 'in', length: sizeOf(styleShape) }, { name: 'out', role: 'out', length: L }],
    groupOf: (i) => n(i) * C + c(i), groups: N * C, scaleGroupOf: (i) => n(i) * C + c(i),
  };
}

export const isOutput = (s: ArgSpec): boolean => s.role !== 'in';
