/**
 * The op registry of the tests (issue 9 item 4): one entry per op, and every suite iterates it. An entry says
 * - how normkit is called (`run`, with any build of normkit) and how the float64 reference is (`reference`);
 * - every array argument with its role (in, out, in-out) and what it is sized by (per element of x, per
 *   group, per channel, per position inside a group, or the style's own shape), and the scalar options;
 * - how a group is formed (`groupOf`, `paramOf`) and what a constant group gives (`constantOutput`);
 * - a random valid call from a seeded rng (`generate`) and a small fixed one (`example`);
 * - the mapping of the shared conformance vectors (../shared/conformance) onto the op.
 * The ids are the ops as the tests see them: batchNorm in inference and in training are two entries, since
 * their arguments have other roles (running statistics read, or read and updated).
 *
 * Adding an op: add its entry to REGISTRY (and its kernel wiring in src/). Everything that iterates OPS
 * (validation, aliasing, edge cases, properties, differential, passes, conformance) then covers it.
 */
import type { Activation, Layout } from '../../src/reference.js';
import { refOps } from './ops.js';
import type { Rng } from './rng.js';
import { makeRng } from './rng.js';
import { randn, randShape, randu, sizeOf } from './tensors.js';

export type OpId = 'layerNorm' | 'rmsNorm' | 'batchNorm' | 'batchNormTraining' | 'instanceNorm' | 'groupNorm' | 'adaIN';
/** The normkit export an entry calls. */
export type ApiName = 'layerNorm' | 'rmsNorm' | 'batchNorm' | 'instanceNorm' | 'groupNorm' | 'adaIN';
export type ArgName =
  | 'x' | 'style' | 'weight' | 'bias' | 'residual' | 'inputBias' | 'runningMean' | 'runningVar' | 'out' | 'sumOut' | 'mean' | 'invStd';
/** `in` is only read, `out` only written, `in-out` read and updated in place (an output for the aliasing rules). */
export type Role = 'in' | 'out' | 'in-out';
/**
 * What an array argument's length follows: `element` one value per element of x; `group` one per normalized
 * group; `channel` one per channel C; `position` one per position inside a group (layerNorm and rmsNorm's
 * weight and bias); `style` the style tensor's own shape. An argument with a shape option (weight, bias,
 * residual, inputBias: `weightShape`...) has the product of that shape as its length when the call gives one.
 */
export type Per = 'element' | 'group' | 'channel' | 'position' | 'style';

export interface ArgSpec {
  name: ArgName;
  role: Role;
  per: Per;
  /** A positional argument (x, style) rather than an option. */
  positional?: boolean;
  /** The op refuses a call without it (x, style, batchNorm inference's running statistics). */
  required?: boolean;
  /** Only meaningful together with that argument (sumOut with residual, the running statistics as a pair). */
  with?: ArgName;
  /** Values must be positive (runningVar). */
  positive?: boolean;
  /**
   * How the values scale with the data's spread s, for comparisons in units of the data: `data` like x
   * (a mean), `inverse` like 1/s (invStd), `squared` like s² (a variance). Unset: compared as they are.
   */
  units?: 'data' | 'inverse' | 'squared';
}

/** One call, loosely typed so that a test can put anything anywhere; `options` holds the options object. */
export interface Call {
  x: unknown;
  shape: unknown;
  numGroups?: unknown;
  style?: unknown;
  styleShape?: unknown;
  options: Record<string, unknown>;
}

/** A call `generate` made, with the data's offset and scale and a readable label. */
export interface Generated {
  call: Call;
  label: string;
  offset: number;
  scale: number;
}

export interface GenOptions {
  /** A fixed shape (channel ops: in `layout`); random (rank 2 to 5, odd extents) otherwise. */
  shape?: number[];
  layout?: Layout;
  axis?: number;
  numGroups?: number;
  styleShape?: number[];
  /** Upper bound of a random shape's size (default 600). */
  maxSize?: number;
  /** Optional arrays and scalars: chosen at random (default), all given (with `out`), or none. */
  optional?: 'random' | 'all' | 'none';
  /** x's distribution, offset + scale * N(0, 1); drawn from several magnitudes otherwise. */
  data?: { offset: number; scale: number };
  eps?: number;
  /**
   * Issue 10: also draw the new options (an activation, broadcast weight/bias shapes, residual with a broadcast
   * shape for every op, inputBias, sumOut, mean/invStd for every op that computes statistics). Off by default,
   * so that the suites written before it keep their calls (the rng draws are the same without it); on by
   * default with NORMKIT_ISSUE10=1 (see ISSUE10).
   */
  issue10?: boolean;
  /** With `issue10`: this activation (`null`: none) instead of a random one. */
  activation?: Activation | null;
}

/** Shape facts of a call that the argument lengths follow. */
export interface Dims {
  length: number;
  /** Normalized groups (one mean and invStd each). */
  groups: number;
  /** Row ops: the length of one group. */
  positions: number;
  /** Channel ops: N, C and the spatial size. */
  N: number;
  C: number;
  HW: number;
  layout: Layout;
}

/** A shared conformance vector, as the conformance test reads it. */
export interface ConformanceVector {
  op: string;
  /** null for the torch vectors. */
  opset: number | null;
  /** Shapes of the inputs, in order. */
  shapes: number[][];
  /** A numeric attribute (or top-level field) of the case. */
  num(key: string, fallback: number): number;
  str(key: string, fallback: string): string;
}

export interface ConformanceMapping {
  /** The vectors' `op` names this entry runs. */
  ops: readonly string[];
  /** The call for a vector's inputs (x first) and how to read its outputs after the call, in the vector's order. */
  toCall(v: ConformanceVector, inputs: Float32Array[]): { call: Call; outputs(y: ArrayLike<number>): ArrayLike<number>[] };
}

/** The part of normkit an entry calls (the module itself, or another build of it). */
/* eslint-disable @typescript-eslint/no-explicit-any */
export type NormkitLike = Record<ApiName, (...args: any[]) => any>;
/* eslint-enable @typescript-eslint/no-explicit-any */

export interface OpEntry {
  id: OpId;
  api: ApiName;
  kind: 'rows' | 'channels';
  /** The names normkit's messages use for x and its shape. */
  xName: 'x' | 'content';
  shapeName: 'shape' | 'contentShape';
  /**
   * Every array argument, x first; the issue-10 ones (`issue10Args`) only with NORMKIT_ISSUE10=1, so that the
   * suites that pass every argument of the table keep working until normkit takes them.
   */
  args: readonly ArgSpec[];
  /** The array arguments issue 10 adds to the op (inputBias; residual and sumOut, mean/invStd where new). */
  issue10Args: readonly ArgSpec[];
  /** Scalar options (numGroups is positional and not among them); the issue-10 ones only with NORMKIT_ISSUE10=1. */
  scalars: readonly string[];
  /** The scalar options issue 10 adds: activation and the shapes of the broadcast operands. */
  issue10Scalars: readonly string[];
  /** Options the entry always passes (batchNorm: training false, batchNormTraining: training true). */
  fixed: Readonly<Record<string, unknown>>;
  /** Takes a positional numGroups. */
  numGroups: boolean;
  /** Subtracts a group mean: a constant group gives exactly `constantOutput`. */
  centered: boolean;
  /** Takes statistics of its groups (false for batchNorm inference). */
  hasStats: boolean;
  /** Calls normkit (or another build) with the call's arguments and `options` (default: the call's). */
  run(nk: NormkitLike, c: Call, options?: unknown): Float32Array;
  /**
   * The float64 reference of a call with plain Float32Arrays: returns y and writes the other outputs the
   * call passes (sumOut, mean, invStd, updated running statistics) into those arrays.
   */
  reference(c: Call): ArrayLike<number>;
  /** Statistics group of element i of x (batchNorm inference: every element is its own). */
  groupOf(c: Call): (i: number) => number;
  /** Index into the per-channel or per-position arrays (weight, bias) of element i. */
  paramOf(c: Call): (i: number) => number;
  /** The exact output of element i when its group is constant (centered ops only). */
  constantOutput(c: Call): (i: number) => number;
  /** The error code normkit gives for a call whose shape the op cannot take (valid arguments otherwise). */
  refuses(c: Call): string | undefined;
  dims(c: Call): Dims;
  /** A random valid call. */
  generate(rng: Rng, g?: GenOptions): Generated;
  /**
   * A small fixed valid call (plain arrays): the validation matrix's rows are written against these shapes
   * (x of 30 values for the row ops, 24 for the channel ops, the weight of the row ops of 5), keep them.
   */
  example(seed?: number): Call;
  conformance?: ConformanceMapping;
}

// ---------------------------------------------------------------------------------------------------------
// Shared pieces.

const A = (name: ArgName, role: Role, per: Per, more: Partial<ArgSpec> = {}): ArgSpec => ({ name, role, per, ...more });
const X = A('x', 'in', 'element', { positional: true, required: true });
const OUT = A('out', 'out', 'element');

const shapeOf = (c: Call) => c.shape as number[];
const opt = <T>(c: Call, key: string, fallback: T): T => (c.options?.[key] === undefined ? fallback : (c.options[key] as T));

function rowDims(c: Call): Dims {
  const shape = shapeOf(c);
  const axis = opt(c, 'axis', -1);
  const a = axis < 0 ? axis + shape.length : axis;
  const positions = sizeOf(shape.slice(a));
  return { length: sizeOf(shape), groups: sizeOf(shape.slice(0, a)), positions, N: 0, C: 0, HW: 0, layout: 'NCHW' };
}

function channelDims(c: Call, groupsPerSample: (C: number) => number, perChannel = false): Dims {
  const shape = shapeOf(c);
  const layout = opt<Layout>(c, 'layout', 'NCHW');
  const N = shape[0];
  const C = layout === 'NCHW' ? shape[1] : shape[shape.length - 1];
  const HW = sizeOf(layout === 'NCHW' ? shape.slice(2) : shape.slice(1, -1));
  return { length: sizeOf(shape), groups: perChannel ? C : N * groupsPerSample(C), positions: 0, N, C, HW, layout };
}

/** (n, c) of element i of a channel-layout call. */
function channelOf(d: Dims) {
  const { C, HW, layout } = d;
  return {
    c: (i: number) => (layout === 'NCHW' ? Math.floor(i / HW) % C : i % C),
    n: (i: number) => Math.floor(i / (C * HW)),
  };
}

/** Drops undefined values so the API only sees options that were chosen. */
export function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const describeArgs = (o: object) => JSON.stringify(o, (_k, v) => (v instanceof Float32Array ? `f32[${v.length}]` : v));

// ---------------------------------------------------------------------------------------------------------
// Issue 10: activation, broadcast operands, skip inputs and saved statistics for every op.

const env: Record<string, string | undefined> =
  (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
/**
 * NORMKIT_ISSUE10=1: every entry's `args` and `scalars` include its issue-10 arguments and options, and
 * `generate` draws the new options unless told `issue10: false`: every suite that iterates the table then runs
 * over them. Off by default until normkit takes them (it refuses them with UNKNOWN_OPTION before).
 */
export const ISSUE10 = env.NORMKIT_ISSUE10 === '1';

export const ACTIVATIONS: readonly Activation[] = ['relu', 'silu', 'gelu', 'gelu_tanh'];

/** The shape option of each broadcast operand. */
export const SHAPE_OPTION: Readonly<Partial<Record<ArgName, string>>> = {
  weight: 'weightShape', bias: 'biasShape', residual: 'residualShape', inputBias: 'inputBiasShape',
};

/** How an operand's extent may relate to x's on one axis: equal to x's, 1, or either. */
export type AxisRule = 'full' | 'one' | 'any';

/**
 * A random shape that broadcasts against `xShape` by numpy's rules, each axis as `rule` says (`any`: x's extent
 * or 1 at random), and half the time with some of its leading 1s dropped (numpy aligns shapes on the right).
 * Never rank 0, never more axes than x.
 */
export function broadcastShape(rng: Rng, xShape: readonly number[], rule: (axis: number) => AxisRule): number[] {
  const shape = xShape.map((d, a) => {
    const r = rule(a);
    return r === 'full' ? d : r === 'one' ? 1 : rng.chance(0.5) ? d : 1;
  });
  let lead = 0;
  while (lead < shape.length - 1 && shape[lead] === 1) lead++;
  return lead > 0 && rng.chance(0.5) ? shape.slice(rng.int(1, lead)) : shape;
}

/** The activation of a generated call: the one asked for, or (when `want` says so) a random one. */
function drawActivation(rng: Rng, g: GenOptions, want: (p: number) => boolean): Activation | undefined {
  if (g.activation !== undefined) return g.activation ?? undefined;
  return want(0.6) ? rng.pick(ACTIVATIONS) : undefined;
}

/** Sets an operand and its shape option (`shape` undefined: the op's default shape, of `defaultLength`). */
function setOperand(
  o: Record<string, unknown>, name: ArgName, shape: number[] | undefined, defaultLength: number, values: (n: number) => Float32Array,
): void {
  o[name] = values(shape ? sizeOf(shape) : defaultLength);
  o[SHAPE_OPTION[name]!] = shape;
}

/** Shape of a broadcast operand in labels: its shape option, or `default`. */
const shapeLabel = (o: Record<string, unknown>, name: ArgName) =>
  o[name] === undefined ? '-' : o[SHAPE_OPTION[name]!] ? `[${o[SHAPE_OPTION[name]!] as number[]}]` : 'default';

/**
 * The issue-10 options of a row-op call (layerNorm, rmsNorm), drawn into `o` (which holds the call's options
 * as drawn before issue 10): an activation; the weight and bias given another shape than the group's now and
 * then (a scalar `[1]`, a per-sample `[B, 1, ..., H]` modulation, `[1, C, 1]`-style inside the group, any
 * numpy-broadcastable shape); the residual with a shape broadcast over the leading axes (x's over the
 * normalized ones); inputBias (the group's shape, x's, or broadcast as the residual); sumOut with either;
 * rmsNorm's invStd. Returns a label.
 */
function rowIssue10(
  rng: Rng, g: GenOptions, want: (p: number) => boolean, layer: boolean,
  d: { shape: number[]; first: number; inner: number; groups: number; scale: number }, o: Record<string, unknown>,
): string {
  const { shape, first } = d;
  const rank = shape.length;
  o.activation = drawActivation(rng, g, want);
  const affineShape = (): number[] | undefined => {
    switch (rng.pick(['default', 'default', 'group', 'scalar', 'perSample', 'inner', 'any'] as const)) {
      case 'default':
        return undefined;
      case 'group':
        return shape.slice(first);
      case 'scalar':
        return [1];
      case 'perSample':
        return shape.map((e, a) => (a === 0 || a === rank - 1 ? e : 1));
      case 'inner':
        return broadcastShape(rng, shape, (a) => (a < first ? 'one' : 'any'));
      case 'any':
        return broadcastShape(rng, shape, () => 'any');
    }
  };
  for (const name of layer ? (['weight', 'bias'] as const) : (['weight'] as const)) {
    if (o[name] !== undefined) setOperand(o, name, affineShape(), d.inner, (n) => randn(rng, n));
  }
  // Skip inputs: equal to x over the normalized axes, anything numpy takes over the leading ones.
  const skipShape = () => broadcastShape(rng, shape, (a) => (a < first ? 'any' : 'full'));
  if (o.residual !== undefined && rng.chance(0.6)) setOperand(o, 'residual', skipShape(), 0, (n) => randn(rng, n, 0, d.scale));
  if (want(0.35)) {
    const kind = rng.pick(['default', 'default', 'x', 'broadcast'] as const);
    setOperand(o, 'inputBias', kind === 'default' ? undefined : kind === 'x' ? shape.slice() : skipShape(), d.inner, (n) => randn(rng, n, 0, d.scale));
  }
  if (o.sumOut === undefined && o.residual === undefined && o.inputBias !== undefined && want(0.6)) {
    o.sumOut = new Float32Array(sizeOf(shape));
  }
  if (!layer && want(0.5)) o.invStd = new Float32Array(d.groups);
  return (
    `activation ${o.activation} weight ${shapeLabel(o, 'weight')}` + (layer ? ` bias ${shapeLabel(o, 'bias')}` : '') +
    ` residual ${shapeLabel(o, 'residual')} inputBias ${shapeLabel(o, 'inputBias')} sumOut ${o.sumOut !== undefined}` +
    ` invStd ${o.invStd !== undefined}`
  );
}

/**
 * The issue-10 options of a channel-op call, drawn into `o`: an activation; weight and bias (where the op has
 * them) per channel in numpy's form (`[1, C, 1, 1]`, `[C, 1, 1]`, NHWC `[1, 1, 1, C]`, `[C]`) or per (sample,
 * channel) (`[N, C, 1, 1]`, NHWC `[N, 1, 1, C]`), never varying over the spatial axes; the residual shaped like
 * x or per (sample, channel) with the spatial axes 1 (SkipGroupNorm's `[N, 1, 1, C]`); inputBias per channel
 * (the default), per (sample, channel) or like x; sumOut with either; mean and invStd (`groups` each) where
 * the op computes statistics. Returns a label.
 */
function channelIssue10(
  rng: Rng, g: GenOptions, want: (p: number) => boolean,
  d: {
    shape: number[]; layout: Layout; C: number; groups: number; scale: number; affine: boolean; stats: boolean;
    /** Whether weight and bias may vary by sample (not batchNorm, whose coefficients are per channel). */
    perSampleAffine: boolean;
  },
  o: Record<string, unknown>,
): string {
  const { shape } = d;
  const rank = shape.length;
  const cAxis = d.layout === 'NCHW' ? 1 : rank - 1;
  o.activation = drawActivation(rng, g, want);
  /** Spatial axes 1; the sample and channel axes as given. */
  const noSpatial = (n: AxisRule, c: AxisRule) => broadcastShape(rng, shape, (a) => (a === 0 ? n : a === cAxis ? c : 'one'));
  if (d.affine) {
    for (const name of ['weight', 'bias'] as const) {
      if (o[name] === undefined) continue;
      const kind = rng.pick(['default', 'default', 'perChannel', 'perSample', 'any'] as const);
      const sample: AxisRule = d.perSampleAffine ? 'full' : 'one';
      const s =
        kind === 'default' ? undefined
        : kind === 'perChannel' ? noSpatial('one', 'full')
        : kind === 'perSample' ? noSpatial(sample, 'full')
        : noSpatial(d.perSampleAffine ? 'any' : 'one', 'any');
      setOperand(o, name, s, d.C, (n) => randn(rng, n));
    }
  }
  const skip = (): number[] | undefined => {
    const kind = rng.pick(['default', 'x', 'perSample', 'perSample'] as const);
    return kind === 'default' ? undefined : kind === 'x' ? shape.slice() : noSpatial('any', 'any');
  };
  if (want(0.35)) setOperand(o, 'residual', skip(), sizeOf(shape), (n) => randn(rng, n, 0, d.scale));
  if (want(0.35)) {
    const kind = rng.pick(['default', 'default', 'perSample', 'x'] as const);
    const s = kind === 'default' ? undefined : kind === 'x' ? shape.slice() : noSpatial('any', 'any');
    setOperand(o, 'inputBias', s, d.C, (n) => randn(rng, n, 0, d.scale));
  }
  if ((o.residual !== undefined || o.inputBias !== undefined) && want(0.6)) o.sumOut = new Float32Array(sizeOf(shape));
  if (d.stats) {
    if (want(0.5)) o.mean = new Float32Array(d.groups);
    if (want(0.5)) o.invStd = new Float32Array(d.groups);
  }
  return (
    `activation ${o.activation}` + (d.affine ? ` weight ${shapeLabel(o, 'weight')} bias ${shapeLabel(o, 'bias')}` : '') +
    ` residual ${shapeLabel(o, 'residual')} inputBias ${shapeLabel(o, 'inputBias')} sumOut ${o.sumOut !== undefined}` +
    ` mean ${o.mean !== undefined} invStd ${o.invStd !== undefined}`
  );
}

/** Offsets and scales of the data over several magnitudes (the differential test's). */
const OFFSETS = [0, 0, 0, 1, -3, 10, -100, 1000, 1e4] as const;
const SCALES = [1, 1, 1, 0.5, 2, 1e-3, 1e3] as const;
/**
 * AdaIN's output has the style's scale, and the suite criterion is absolute below |y| = 1: with a style
 * spread of 1e3, float32 rounding alone (ulp(1e3) = 6e-5) reaches it. Keep the style spread modest.
 */
const STYLE_SCALES = [1, 1, 0.5, 2, 5, 1e-3] as const;

function sample(rng: Rng, length: number, g: GenOptions, scales: readonly number[] = SCALES) {
  const offset = g.data ? g.data.offset : rng.pick(OFFSETS);
  const scale = g.data ? g.data.scale : rng.pick(scales);
  return { x: randn(rng, length, offset, scale), offset, scale };
}

/** Whether to pass an optional argument: always, never, or with probability p. */
const chooser = (rng: Rng, g: GenOptions) => (p: number) =>
  g.optional === 'all' ? true : g.optional === 'none' ? false : rng.chance(p);

/** Shapes for channel ops: C from a list with many divisors, a random layout, rank 2-5. */
function channelShape(rng: Rng, g: GenOptions) {
  if (g.shape) return { layout: g.layout ?? 'NCHW', shape: g.shape };
  const maxSize = g.maxSize ?? 600;
  const layout: Layout = g.layout ?? rng.pick(['NCHW', 'NHWC'] as const);
  const C = rng.pick([1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 24, 32]);
  const rest = randShape(rng, rng.int(1, 4), Math.max(1, Math.floor(maxSize / C)));
  return { layout, shape: layout === 'NCHW' ? [rest[0], C, ...rest.slice(1)] : [...rest, C] };
}

/** An entry's `args`/`scalars` (with the issue-10 ones under NORMKIT_ISSUE10=1) and its issue-10 lists. */
function withIssue10(args: ArgSpec[], scalars: string[], issue10Args: ArgSpec[], issue10Scalars: string[]) {
  return {
    args: ISSUE10 ? [...args, ...issue10Args.filter((a) => !args.some((b) => b.name === a.name))] : args,
    scalars: ISSUE10 ? [...scalars, ...issue10Scalars] : scalars,
    issue10Args,
    issue10Scalars,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Row ops.

function rowsEntry(id: 'layerNorm' | 'rmsNorm'): OpEntry {
  const layer = id === 'layerNorm';
  const args: ArgSpec[] = [
    X,
    A('weight', 'in', 'position'),
    ...(layer ? [A('bias', 'in', 'position')] : []),
    A('residual', 'in', 'element'),
    OUT,
    A('sumOut', 'out', 'element', { with: 'residual' }),
    ...(layer ? [A('mean', 'out', 'group', { units: 'data' }), A('invStd', 'out', 'group', { units: 'inverse' })] : []),
  ];
  const issue10Args: ArgSpec[] = [
    A('inputBias', 'in', 'position'),
    ...(layer ? [] : [A('invStd', 'out', 'group', { units: 'inverse' })]),
  ];
  const issue10Scalars = ['activation', 'weightShape', ...(layer ? ['biasShape'] : []), 'residualShape', 'inputBiasShape'];
  const entry: OpEntry = {
    id, api: id, kind: 'rows', xName: 'x', shapeName: 'shape', fixed: {},
    ...withIssue10(args, ['axis', 'eps'], issue10Args, issue10Scalars),
    numGroups: false, centered: layer, hasStats: true,
    run: (nk, c, options = c.options) => nk[id](c.x, c.shape, options),
    reference(c) {
      const o = c.options as never;
      return layer ? refOps.layerNorm(c.x as Float32Array, shapeOf(c), o) : refOps.rmsNorm(c.x as Float32Array, shapeOf(c), o);
    },
    dims: rowDims,
    groupOf(c) {
      const { positions } = rowDims(c);
      return (i) => Math.floor(i / positions);
    },
    paramOf(c) {
      const { positions } = rowDims(c);
      return (i) => i % positions;
    },
    constantOutput(c) {
      const b = c.options.bias as Float32Array | undefined;
      const param = entry.paramOf(c);
      return (i) => (layer && b ? Math.fround(b[param(i)]) : 0);
    },
    refuses: () => undefined,
    generate(rng, g = {}) {
      const want = chooser(rng, g);
      let shape: number[];
      let axis: number;
      if (g.shape) {
        shape = g.shape;
        axis = g.axis ?? -1;
      } else {
        const rank = rng.int(2, 5);
        shape = randShape(rng, rank, g.maxSize ?? 600);
        axis = g.axis ?? rng.int(-rank, rank - 1);
      }
      const rank = shape.length;
      const a = axis < 0 ? axis + rank : axis;
      const inner = sizeOf(shape.slice(a));
      const groups = sizeOf(shape.slice(0, a));
      const { x, offset, scale } = sample(rng, sizeOf(shape), g);
      const weight = want(0.6) ? randn(rng, inner) : undefined;
      const bias = layer && want(0.6) ? randn(rng, inner) : undefined;
      const residual = want(0.3) ? randn(rng, x.length, 0, scale) : undefined;
      const sumOut = residual !== undefined && want(0.6) ? new Float32Array(x.length) : undefined;
      const stats = layer && want(0.5);
      const eps = g.eps ?? rng.pick(inner > 1 ? [1e-5, 1e-5, 1e-6, 1e-3, 0.1, 0] : [1e-5, 0.1]);
      const out = want(0.3) ? new Float32Array(x.length) : undefined;
      const defaultAxis = g.optional !== 'all' && axis === -1 && g.axis === undefined && rng.chance(0.5);
      let options: Record<string, unknown> = {
        axis: defaultAxis ? undefined : axis, weight, bias, eps, residual, sumOut, out,
        mean: stats ? new Float32Array(groups) : undefined, invStd: stats ? new Float32Array(groups) : undefined,
      };
      const more = (g.issue10 ?? ISSUE10) ? ` ${rowIssue10(rng, g, want, layer, { shape, first: a, inner, groups, scale }, options)}` : '';
      options = compact(options);
      return {
        call: { x, shape, options }, offset, scale,
        label: `${id} shape [${shape}] axis ${axis} eps ${eps} offset ${offset} scale ${scale} ${describeArgs({ weight, bias, residual, sumOut, stats, out })}${more}`,
      };
    },
    example(seed = 1) {
      const rng = makeRng(seed);
      const x = randn(rng, 30, 1, 2);
      return layer
        ? { x, shape: [2, 3, 5], options: { weight: randn(rng, 5), bias: randn(rng, 5) } }
        : { x, shape: [2, 3, 5], options: { weight: randn(rng, 5) } };
    },
    conformance: {
      ops: [layer ? 'layer_norm' : 'rms_norm'],
      toCall(v, [x, weight, bias]) {
        const shape = v.shapes[0];
        const axis = v.num('axis', -1);
        const eps = v.num('epsilon', 1e-5);
        if (!layer) return { call: { x, shape, options: compact({ axis, weight, eps }) }, outputs: (y) => [y] };
        const groups = sizeOf(shape.slice(0, axis < 0 ? axis + shape.length : axis));
        const mean = new Float32Array(groups);
        const invStd = new Float32Array(groups);
        return { call: { x, shape, options: compact({ axis, weight, bias, eps, mean, invStd }) }, outputs: (y) => [y, mean, invStd] };
      },
    },
  };
  return entry;
}

// ---------------------------------------------------------------------------------------------------------
// Channel ops.

const AFFINE_ARGS = [A('weight', 'in', 'channel'), A('bias', 'in', 'channel')];

interface ChannelSpec {
  id: Exclude<OpId, 'layerNorm' | 'rmsNorm'>;
  api: ApiName;
  args: ArgSpec[];
  scalars: string[];
  fixed?: Record<string, unknown>;
  groupsPerSample: (c: Call, C: number) => number;
  perChannel?: boolean;
  centered: boolean;
  hasStats: boolean;
  groupOf: (c: Call, d: Dims) => (i: number) => number;
  /** The rest of a random call, after x. */
  extra(rng: Rng, g: GenOptions, d: { shape: number[]; layout: Layout; C: number; N: number; HW: number; offset: number; scale: number }, want: (p: number) => boolean): {
    options: Record<string, unknown>;
    numGroups?: number;
    style?: Float32Array;
    styleShape?: number[];
    label: string;
  };
  example(rng: Rng): Call;
  conformance?: ConformanceMapping;
  refuses?: (d: Dims) => string | undefined;
}

function channelEntry(s: ChannelSpec): OpEntry {
  const dims = (c: Call) => channelDims(c, (C) => s.groupsPerSample(c, C), s.perChannel);
  const affine = s.args.some((a) => a.name === 'weight');
  // Issue 10: residual, inputBias and sumOut for every channel op; mean and invStd where it takes statistics.
  const issue10Args: ArgSpec[] = [
    A('residual', 'in', 'element'),
    A('inputBias', 'in', 'channel'),
    A('sumOut', 'out', 'element', { with: 'residual' }),
    ...(s.hasStats ? [A('mean', 'out', 'group', { units: 'data' }), A('invStd', 'out', 'group', { units: 'inverse' })] : []),
  ];
  const issue10Scalars = ['activation', ...(affine ? ['weightShape', 'biasShape'] : []), 'residualShape', 'inputBiasShape'];
  const entry: OpEntry = {
    id: s.id, api: s.api, kind: 'channels', xName: s.api === 'adaIN' ? 'content' : 'x', shapeName: s.api === 'adaIN' ? 'contentShape' : 'shape',
    fixed: s.fixed ?? {}, numGroups: s.api === 'groupNorm', centered: s.centered, hasStats: s.hasStats,
    ...withIssue10(s.args, s.scalars, issue10Args, issue10Scalars),
    run(nk, c, options = c.options) {
      if (s.api === 'groupNorm') return nk.groupNorm(c.x, c.shape, c.numGroups, options);
      if (s.api === 'adaIN') return nk.adaIN(c.x, c.shape, c.style, c.styleShape, options);
      return nk[s.api](c.x, c.shape, options);
    },
    reference(c) {
      const x = c.x as Float32Array;
      const o = c.options as never;
      switch (s.api) {
        case 'groupNorm':
          return refOps.groupNorm(x, shapeOf(c), c.numGroups as number, o);
        case 'adaIN':
          return refOps.adaIN(x, shapeOf(c), c.style as Float32Array, c.styleShape as number[], o);
        case 'batchNorm':
          return refOps.batchNorm(x, shapeOf(c), o);
        default:
          return refOps.instanceNorm(x, shapeOf(c), o);
      }
    },
    dims,
    groupOf: (c) => s.groupOf(c, dims(c)),
    paramOf(c) {
      return channelOf(dims(c)).c;
    },
    constantOutput(c) {
      const d = dims(c);
      const { n, c: ch } = channelOf(d);
      if (s.api === 'adaIN') {
        // The style's mean of the matching (sample, channel) plane, in float64.
        const style = c.style as Float32Array;
        const sd = channelDims({ x: style, shape: c.styleShape, options: c.options }, () => 1);
        const sc = channelOf(sd);
        const sums = new Float64Array(sd.N * sd.C);
        for (let i = 0; i < style.length; i++) sums[sc.n(i) * sd.C + sc.c(i)] += style[i];
        return (i) => Math.fround(sums[(sd.N === 1 ? 0 : n(i)) * sd.C + ch(i)] / sd.HW);
      }
      const b = c.options.bias as Float32Array | undefined;
      return (i) => (b ? Math.fround(b[ch(i)]) : 0);
    },
    refuses: (c) => s.refuses?.(dims(c)),
    generate(rng, g = {}) {
      const want = chooser(rng, g);
      let { layout, shape } = channelShape(rng, g);
      let d = channelDims({ x: undefined, shape, options: { layout } }, () => 1);
      while (!g.shape && s.refuses?.(d)) {
        ({ layout, shape } = channelShape(rng, g));
        d = channelDims({ x: undefined, shape, options: { layout } }, () => 1);
      }
      const { x, offset, scale } = sample(rng, sizeOf(shape), g);
      const e = s.extra(rng, g, { shape, layout, C: d.C, N: d.N, HW: d.HW, offset, scale }, want);
      const eps = g.eps ?? rng.pick([1e-5, 1e-5, 1e-3, 0.1]);
      const out = want(0.3) ? new Float32Array(x.length) : undefined;
      const defaultLayout = g.optional !== 'all' && layout === 'NCHW' && g.layout === undefined && rng.chance(0.5);
      const options = compact({ ...s.fixed, layout: defaultLayout ? undefined : layout, ...e.options, eps, out });
      const call: Call = { x, shape, options };
      if (e.numGroups !== undefined) call.numGroups = e.numGroups;
      if (e.style) {
        call.style = e.style;
        call.styleShape = e.styleShape;
      }
      let more = '';
      if (g.issue10 ?? ISSUE10) {
        const groups = dims(call).groups;
        const perSampleAffine = s.perChannel !== true;
        const spec = { shape, layout, C: d.C, groups, scale, affine, stats: s.hasStats, perSampleAffine };
        more = ` ${channelIssue10(rng, g, want, spec, options)}`;
        call.options = compact(options);
      }
      return {
        call, offset, scale,
        label: `${s.id} ${layout} shape [${shape}] ${e.label} eps ${eps} offset ${offset} scale ${scale} out ${out !== undefined}${more}`,
      };
    },
    example: (seed = 1) => s.example(makeRng(seed)),
    conformance: s.conformance,
  };
  return entry;
}

const perChannelGroup = (_c: Call, d: Dims) => channelOf(d).c;
const perPlaneGroup = (_c: Call, d: Dims) => {
  const { n, c } = channelOf(d);
  return (i: number) => n(i) * d.C + c(i);
};

function affine(rng: Rng, C: number, want: (p: number) => boolean, p: number) {
  return { weight: want(p) ? randn(rng, C) : undefined, bias: want(p) ? randn(rng, C) : undefined };
}

function batchNormEntry(training: boolean): OpEntry {
  const role: Role = training ? 'in-out' : 'in';
  return channelEntry({
    id: training ? 'batchNormTraining' : 'batchNorm',
    api: 'batchNorm',
    args: [
      X, ...AFFINE_ARGS,
      A('runningMean', role, 'channel', { required: !training, with: 'runningVar', units: 'data' }),
      A('runningVar', role, 'channel', { required: !training, with: 'runningMean', positive: true, units: 'squared' }),
      OUT,
    ],
    // Inference takes (and validates) momentum and unbiasedRunningVar too; they change nothing there.
    scalars: ['layout', 'eps', 'training', 'momentum', 'unbiasedRunningVar'],
    fixed: { training },
    groupsPerSample: (_c, C) => C,
    perChannel: true,
    centered: training,
    hasStats: training,
    groupOf: training ? perChannelGroup : () => (i) => i,
    refuses: training ? (d) => (d.length > 0 && d.N * d.HW === 1 ? 'BATCH_TOO_SMALL' : undefined) : undefined,
    extra(rng, g, d, want) {
      const { weight, bias } = affine(rng, d.C, want, 0.7);
      const withRunning = !training || want(0.7);
      const runningMean = withRunning ? randn(rng, d.C, d.offset, d.scale) : undefined;
      const runningVar = withRunning ? randu(rng, d.C, 0.2, 3).map((v) => v * d.scale * d.scale) : undefined;
      // Both conventions: PyTorch (momentum, unbiased) and ONNX (momentum = 1 - m, biased); defaults sometimes.
      let momentum: number | undefined;
      let unbiasedRunningVar: boolean | undefined;
      let convention = '';
      if (training) {
        convention = g.optional === 'all' ? 'torch' : rng.pick(['default', 'torch', 'onnx'] as const);
        momentum = convention === 'default' ? undefined : convention === 'onnx' ? 1 - rng.pick([0.9, 0.99, 0.5]) : rng.pick([0.1, 0.01, 0.5, 1, 0]);
        unbiasedRunningVar = convention === 'default' ? undefined : convention === 'torch';
      }
      return {
        options: compact({ weight, bias, runningMean, runningVar, momentum, unbiasedRunningVar }),
        label: `${convention} momentum ${momentum} ${describeArgs({ weight, bias, runningMean })}`,
      };
    },
    example(rng) {
      const x = randn(rng, 24, 1, 2);
      const options: Record<string, unknown> = training ? { training: true } : {};
      Object.assign(options, { weight: randn(rng, 3), bias: randn(rng, 3), runningMean: randn(rng, 3), runningVar: randu(rng, 3, 0.5, 2) });
      return { x, shape: [2, 3, 4], options };
    },
    conformance: training
      ? {
          ops: ['batch_norm_training'],
          toCall(v, [x, weight, bias, rm, rv, m]) {
            // ONNX: r' = r * m + stat * (1 - m) with the biased variance; PyTorch: r' = (1 - m) * r + m * stat, unbiased.
            const onnx = v.opset !== null && v.opset !== undefined;
            const momentum = onnx ? 1 - v.num('momentum', 0.9) : v.num('momentum', m ? m[0] : 0.1);
            const runningMean = rm?.slice();
            const runningVar = rv?.slice();
            const options = {
              layout: v.str('layout', 'NCHW'), weight, bias, runningMean, runningVar, training: true, momentum,
              unbiasedRunningVar: !onnx, eps: v.num('epsilon', 1e-5),
            };
            return { call: { x, shape: v.shapes[0], options }, outputs: (y) => [y, runningMean ?? [], runningVar ?? []] };
          },
        }
      : {
          ops: ['batch_norm_inference'],
          toCall(v, [x, weight, bias, runningMean, runningVar]) {
            const options = { layout: v.str('layout', 'NCHW'), weight, bias, runningMean, runningVar, eps: v.num('epsilon', 1e-5) };
            return { call: { x, shape: v.shapes[0], options }, outputs: (y) => [y] };
          },
        },
  });
}

const instanceNormEntry = channelEntry({
  id: 'instanceNorm', api: 'instanceNorm',
  args: [X, ...AFFINE_ARGS, OUT],
  scalars: ['layout', 'eps'],
  groupsPerSample: (_c, C) => C,
  centered: true, hasStats: true,
  groupOf: perPlaneGroup,
  extra(rng, _g, d, want) {
    const { weight, bias } = affine(rng, d.C, want, 0.6);
    return { options: compact({ weight, bias }), label: describeArgs({ weight, bias }) };
  },
  example: (rng) => ({ x: randn(rng, 24, 1, 2), shape: [2, 3, 4], options: { weight: randn(rng, 3), bias: randn(rng, 3) } }),
  conformance: {
    ops: ['instance_norm'],
    toCall: (v, [x, weight, bias]) => ({
      call: { x, shape: v.shapes[0], options: { layout: v.str('layout', 'NCHW'), weight, bias, eps: v.num('epsilon', 1e-5) } },
      outputs: (y) => [y],
    }),
  },
});

const groupNormEntry = channelEntry({
  id: 'groupNorm', api: 'groupNorm',
  args: [X, ...AFFINE_ARGS, OUT],
  scalars: ['layout', 'eps'],
  groupsPerSample: (c) => c.numGroups as number,
  centered: true, hasStats: true,
  groupOf(c, d) {
    const G = c.numGroups as number;
    const { n, c: ch } = channelOf(d);
    return (i) => n(i) * G + Math.floor(ch(i) / (d.C / G));
  },
  extra(rng, g, d, want) {
    const divisors = Array.from({ length: d.C }, (_, i) => i + 1).filter((k) => d.C % k === 0);
    const numGroups = g.numGroups ?? (divisors.length ? rng.pick(divisors) : 1);
    const { weight, bias } = affine(rng, d.C, want, 0.6);
    return { options: compact({ weight, bias }), numGroups, label: `groups ${numGroups} ${describeArgs({ weight, bias })}` };
  },
  example: (rng) => ({ x: randn(rng, 24, 1, 2), shape: [2, 4, 3], numGroups: 2, options: { weight: randn(rng, 4), bias: randn(rng, 4) } }),
  conformance: {
    ops: ['group_norm'],
    toCall: (v, [x, weight, bias]) => ({
      call: { x, shape: v.shapes[0], numGroups: v.num('num_groups', NaN), options: { layout: v.str('layout', 'NCHW'), weight, bias, eps: v.num('epsilon', 1e-5) } },
      outputs: (y) => [y],
    }),
  },
});

const adaINEntry = channelEntry({
  id: 'adaIN', api: 'adaIN',
  args: [X, A('style', 'in', 'style', { positional: true, required: true }), OUT],
  scalars: ['layout', 'eps'],
  groupsPerSample: (_c, C) => C,
  centered: true, hasStats: true,
  groupOf: perPlaneGroup,
  extra(rng, g, d) {
    let styleShape = g.styleShape;
    if (!styleShape) {
      const rank = d.shape.length;
      const styleN = rng.chance(0.4) ? 1 : d.N;
      styleShape = randShape(rng, rank, g.maxSize ?? 600);
      styleShape[0] = styleN;
      styleShape[d.layout === 'NCHW' ? 1 : rank - 1] = d.C;
    }
    const style = sample(rng, sizeOf(styleShape), {}, STYLE_SCALES);
    return { options: {}, style: style.x, styleShape, label: `style [${styleShape}] offset ${style.offset} scale ${style.scale}` };
  },
  example: (rng) => ({ x: randn(rng, 24, 1, 2), shape: [2, 3, 4], style: randn(rng, 30, -1, 3), styleShape: [2, 3, 5], options: {} }),
  conformance: {
    ops: ['adain'],
    toCall: (v, [x, style]) => ({
      call: { x, shape: v.shapes[0], style, styleShape: v.shapes[1], options: { layout: v.str('layout', 'NCHW'), eps: v.num('epsilon', 1e-5) } },
      outputs: (y) => [y],
    }),
  },
});

// ---------------------------------------------------------------------------------------------------------
// The registry.

export const REGISTRY: Readonly<Record<OpId, OpEntry>> = {
  layerNorm: rowsEntry('layerNorm'),
  rmsNorm: rowsEntry('rmsNorm'),
  batchNorm: batchNormEntry(false),
  batchNormTraining: batchNormEntry(true),
  instanceNorm: instanceNormEntry,
  groupNorm: groupNormEntry,
  adaIN: adaINEntry,
};

/** Every op id, in registry order. */
export const OPS: readonly OpId[] = Object.keys(REGISTRY) as OpId[];
export const ENTRIES: readonly OpEntry[] = OPS.map((id) => REGISTRY[id]);

export const entry = (id: OpId): OpEntry => REGISTRY[id];
export const argOf = (id: OpId, name: ArgName): ArgSpec | undefined => REGISTRY[id].args.find((a) => a.name === name);
export const hasArg = (id: OpId, name: ArgName): boolean => argOf(id, name) !== undefined;
/** Every array argument of an op, the issue-10 ones included whatever NORMKIT_ISSUE10 says (x first). */
export const allArgs = (id: OpId): ArgSpec[] => {
  const e = REGISTRY[id];
  return [...e.args, ...e.issue10Args.filter((a) => !e.args.some((b) => b.name === a.name))];
};
/** An array argument of an op, an issue-10 one included. */
export const specOf = (id: OpId, name: ArgName): ArgSpec | undefined => allArgs(id).find((a) => a.name === name);
export const hasScalar = (id: OpId, name: string): boolean => REGISTRY[id].scalars.includes(name);
/** The ops for which `pred` holds. */
export const opsWhere = (pred: (e: OpEntry) => boolean): OpId[] => ENTRIES.filter(pred).map((e) => e.id);
/** The ops that take the array argument `name` (with `role`, when given). */
export const opsWith = (name: ArgName, role?: Role): OpId[] =>
  opsWhere((e) => e.args.some((a) => a.name === name && (role === undefined || a.role === role)));
/** The entry whose conformance mapping runs the vectors' `op`. */
export const conformanceEntry = (op: string): OpEntry | undefined => ENTRIES.find((e) => e.conformance?.ops.includes(op));

/**
 * The options object an op takes, from `o`: the keys of its option arguments and scalars (values kept as
 * they are, undefined included); keys the op does not have are left out.
 */
export function optionsFor(id: OpId, o: Record<string, unknown>): Record<string, unknown> {
  const e = REGISTRY[id];
  const keys = new Set<string>([...e.scalars, ...e.args.filter((a) => !a.positional).map((a) => a.name)]);
  return Object.fromEntries(Object.entries(o).filter(([k]) => keys.has(k)));
}

/** Expected length of an array argument of a call. */
export function lengthOf(id: OpId, c: Call, name: ArgName): number {
  const spec = specOf(id, name);
  if (!spec) throw new Error(`${id} has no argument ${name}`);
  const shapeKey = SHAPE_OPTION[name];
  const given = shapeKey === undefined ? undefined : c.options?.[shapeKey];
  if (Array.isArray(given)) return sizeOf(given as number[]);
  const d = REGISTRY[id].dims(c);
  switch (spec.per) {
    case 'element':
      return d.length;
    case 'group':
      return d.groups;
    case 'channel':
      return d.C;
    case 'position':
      return d.positions;
    case 'style':
      return sizeOf(c.styleShape as number[]);
  }
}

/** The value of an array argument in a call (positional or option). */
export function argValue(c: Call, name: ArgName): unknown {
  if (name === 'x') return c.x;
  if (name === 'style') return c.style;
  return c.options?.[name];
}

export function setArg(c: Call, name: ArgName, value: unknown): void {
  if (name === 'x') c.x = value;
  else if (name === 'style') c.style = value;
  else c.options = { ...c.options, [name]: value };
}

/** The array arguments a call passes, with their specs (x first; the issue-10 ones after the others). */
export function presentArgs(id: OpId, c: Call): ArgSpec[] {
  return allArgs(id).filter((a) => argValue(c, a.name) !== undefined);
}

/** The outputs an op writes besides y (out excluded): sumOut, mean, invStd, updated running statistics. */
export function writtenArgs(id: OpId, c: Call): ArgSpec[] {
  return presentArgs(id, c).filter((a) => a.role !== 'in' && a.name !== 'out');
}

const isArray = (v: unknown): v is Float32Array => v instanceof Float32Array;

/** A deep copy of a call: every Float32Array argument copied (so a run cannot change the original). */
export function cloneCall(c: Call): Call {
  const copy = (v: unknown) => (isArray(v) ? v.slice() : v);
  const out: Call = { ...c, x: copy(c.x), options: Object.fromEntries(Object.entries(c.options ?? {}).map(([k, v]) => [k, copy(v)])) };
  if (c.style !== undefined) out.style = copy(c.style);
  return out;
}

/** The Float32Array behind an argument: itself, or a Tensor's view. */
export const viewOf = (v: unknown): Float32Array => (isArray(v) ? v : (v as { array: Float32Array }).array);

/**
 * The same call with every array argument a Tensor (made by `tensor`, pushed onto `made` for the caller to
 * free); `out` becomes a Tensor too (the x Tensor itself with `outIsX`).
 */
export function tensorCall(
  id: OpId, c: Call, tensor: (a: Float32Array) => unknown, made: { free(): void }[], opts: { outIsX?: boolean } = {},
): Call {
  const T = (a: Float32Array) => {
    const t = tensor(a) as { free(): void };
    made.push(t);
    return t;
  };
  const out: Call = { ...c, options: { ...c.options } };
  for (const spec of presentArgs(id, c)) {
    const v = argValue(c, spec.name);
    if (isArray(v)) setArg(out, spec.name, T(v));
  }
  if (opts.outIsX) out.options.out = out.x;
  else if (out.options.out === undefined) out.options.out = T(new Float32Array(REGISTRY[id].dims(c).length));
  return out;
}

/** Everything a call wrote, as Float32Arrays: y, then the written arguments in registry order. */
export function outputsOf(id: OpId, c: Call, y: ArrayLike<number>): ArrayLike<number>[] {
  return [y, ...writtenArgs(id, c).map((a) => viewOf(argValue(c, a.name)))];
}

/** The factor that puts an argument in units of the data's spread `scale` (see ArgSpec.units). */
export const unitFactor = (spec: ArgSpec, scale: number): number =>
  spec.units === 'data' ? 1 / scale : spec.units === 'inverse' ? scale : spec.units === 'squared' ? 1 / (scale * scale) : 1;

/**
 * What the tests compare of a call against the reference: y, every output it writes, and the statistics it
 * only reads (inference's running statistics must come back unchanged); statistics in units of the data's
 * spread `scale`, since the suite criterion is meant for O(1) quantities (mean / scale, invStd * scale).
 */
export function comparedOutputs(id: OpId, c: Call, y: ArrayLike<number>, scale: number): ArrayLike<number>[] {
  const compared = presentArgs(id, c).filter((a) => (a.role !== 'in' && a.name !== 'out') || a.units !== undefined);
  return [y, ...compared.map((a) => Float64Array.from(viewOf(argValue(c, a.name)), (v) => v * unitFactor(a, scale)))];
}

