/**
 * The adversarial suite's view of the op registry (test/support/registry.ts): a `Case` is one registry entry
 * at a fixed shape, with every array argument it passes (roles and lengths from the registry), so that a
 * test can place each argument anywhere (in a shared buffer, as a Tensor, as a view of Tensor memory) and
 * drive normkit, the float64 reference or a capturing stand-in the same way. An argument the registry adds
 * to an op is covered by every test here without a change.
 *
 * Roles are the registry's: `in` is only read; `out` only written; `in-out` read and updated in place
 * (batchNorm training's running statistics), an output for the aliasing rules (outputs never overlap).
 */
import * as normkit from '../../src/index.js';
import type { Layout } from '../../src/reference.js';
import {
  compact, lengthOf, REGISTRY, type ArgName, type ArgSpec as RegistryArg, type Call, type NormkitLike, type OpId,
} from '../support/registry.js';
import { sizeOf } from '../support/tensors.js';

export type { ArgName, OpId };

export interface ArgSpec extends RegistryArg {
  /** The argument's length at the case's shape. */
  length: number;
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
  op: OpId;
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

/** normkit itself, or anything shaped like it (another build, a capturing stand-in). */
export const NORMKIT: NormkitLike = normkit as unknown as NormkitLike;
/** Stands for the float64 reference of the registry (plain Float32Array arguments only). */
export const REFERENCE = Symbol('float64 reference');

/** The registry's Call for the case with the array arguments in `a` (missing ones are not passed). */
export function callOf(c: Case, a: Args, eps = c.scalars.eps): Call {
  const e = REGISTRY[c.op];
  const s = c.scalars;
  const options: Record<string, unknown> = compact({ ...e.fixed, axis: s.axis, layout: s.layout, momentum: s.momentum, eps });
  for (const spec of e.args) if (!spec.positional && a[spec.name] !== undefined) options[spec.name] = a[spec.name];
  const call: Call = { x: a.x, shape: s.shape, options };
  if (e.numGroups) call.numGroups = s.numGroups;
  if (e.api === 'adaIN') {
    call.style = a.style;
    call.styleShape = s.styleShape;
  }
  return call;
}

/**
 * Calls the case's op on `ops` (normkit, a stand-in, or REFERENCE) with the array arguments in `a` and the
 * case's scalars, `eps` overridden when given. Returns y; the other outputs are written into `a`'s arrays.
 */
export function call(ops: NormkitLike | typeof REFERENCE, c: Case, a: Args, eps = c.scalars.eps): ArrayLike<number> {
  const e = REGISTRY[c.op];
  const k = callOf(c, a, eps);
  return ops === REFERENCE ? e.reference(k) : e.run(ops, k);
}

/** The registry's arguments of `op`, sized at `shape`, keeping those `keep` accepts. */
function argsOf(op: OpId, scalars: Scalars, keep: (a: RegistryArg) => boolean): ArgSpec[] {
  const e = REGISTRY[op];
  const probe = callOf({ op, scalars } as Case, {});
  probe.x = new Float32Array(0);
  return e.args.filter(keep).map((a) => ({ ...a, length: lengthOf(op, probe, a.name) }));
}

/** layerNorm / rmsNorm over `shape` from `axis`; `full` passes every optional array argument, else x and out. */
export function rowsCase(op: 'layerNorm' | 'rmsNorm', shape: number[], axis = -1, full = true): Case {
  const a = axis < 0 ? axis + shape.length : axis;
  const n = sizeOf(shape.slice(a));
  const rows = sizeOf(shape.slice(0, a));
  const scalars: Scalars = { shape, axis };
  return {
    op, name: `${op} [${shape}] axis ${axis}${full ? '' : ', x and out only'}`, scalars,
    args: argsOf(op, scalars, (s) => full || s.name === 'x' || s.name === 'out'),
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
  op: 'batchNorm' | 'batchNormTraining' | 'instanceNorm' | 'groupNorm', layout: Layout, shape: number[],
  opts: { numGroups?: number; affine?: boolean; running?: boolean; momentum?: number } = {},
): Case {
  const { N, C, c, n } = channelGeometry(shape, layout);
  const L = sizeOf(shape);
  const affine = opts.affine ?? true;
  const running = opts.running ?? true;
  const G = op === 'groupNorm' ? opts.numGroups ?? 1 : C;
  const scalars: Scalars = { shape, layout, numGroups: op === 'groupNorm' ? G : undefined, momentum: opts.momentum };
  const args = argsOf(op, scalars, (s) => {
    if (s.name === 'weight' || s.name === 'bias') return affine;
    if (s.name === 'runningMean' || s.name === 'runningVar') return running || s.required === true;
    return true;
  });
  const grouping =
    op === 'batchNormTraining' ? { groupOf: c, groups: C }
    : op === 'batchNorm' ? { groupOf: (i: number) => i, groups: L }
    : { groupOf: (i: number) => n(i) * G + Math.floor(c(i) / (C / G)), groups: N * G };
  const extra = (op === 'groupNorm' ? ` G ${G}` : '') + (affine ? '' : ', no affine') + (op === 'batchNormTraining' && !running ? ', no running statistics' : '');
  return {
    op, name: `${op} ${layout} [${shape}]${extra}`, scalars, args, ...grouping,
    scaleGroupOf: op === 'batchNorm' ? c : grouping.groupOf,
  };
}

export function adaINCase(layout: Layout, shape: number[], styleShape: number[]): Case {
  const { N, C, c, n } = channelGeometry(shape, layout);
  const scalars: Scalars = { shape, layout, styleShape };
  return {
    op: 'adaIN', name: `adaIN ${layout} [${shape}] style [${styleShape}]`, scalars,
    args: argsOf('adaIN', scalars, () => true),
    groupOf: (i) => n(i) * C + c(i), groups: N * C, scaleGroupOf: (i) => n(i) * C + c(i),
  };
}

export const isOutput = (s: RegistryArg): boolean => s.role !== 'in';
