/**
 * The output-hash corpus: a wide, deterministic set of calls of every op, described as data so that the same
 * list runs against any build of normkit (the release before the plan/executor refactor, which wrote
 * test/corpus/op-hashes.json through generate.mjs, and the current source, which test/corpus.test.ts checks).
 *
 * Inputs come from the integer-only generator of test/support/hashing.ts (identical bits in every JS
 * engine), seeded from each case's name, so adding or removing a case never changes another case's inputs.
 * Every case runs in two calling modes: plain Float32Arrays (copy mode, in several passes above 512 KiB) and
 * zero-copy Tensors for every array argument and output.
 *
 * Each case carries a `family`: the group of cases whose bits may legitimately change together (see
 * FAMILIES). The test names the families it lets change in one list, with the reason.
 */
import type { NormkitModule } from '../browser/op-hashes.js';
import { filled, hashArrays } from '../support/hashing.js';
import { REGISTRY, type Call, type NormkitLike, type OpId } from '../support/registry.js';
import { TILE_CHANNELS, TILE_GROUP_LENGTHS } from '../support/tensors.js';

export type OpName = 'layerNorm' | 'rmsNorm' | 'batchNorm' | 'instanceNorm' | 'groupNorm' | 'adaIN';
export type Layout = 'NCHW' | 'NHWC';

/**
 * - rows: layerNorm and rmsNorm (contiguous groups) on ordinary data;
 * - nchw-stats: instanceNorm, groupNorm, batchNorm training and adaIN whose statistics are taken over
 *   contiguous planes (NCHW with more than one spatial element);
 * - nhwc-stats: the same ops with statistics over channel-last data: layout NHWC, or a spatial size of 1 in
 *   either layout (rows of C channels, which the release took with its column statistics), including the
 *   style of an NHWC adaIN;
 * - batchnorm-inference: batchNorm with running statistics (no statistics taken), both layouts;
 * - extreme-values: any op on tiny, subnormal or near-float32-max data, or with a tiny eps;
 * - edge-semantics: the edges issue 16 item 6 leaves to a choice: statistics outputs (mean, invStd,
 *   running statistics) of a group holding ±Infinity, NaN running statistics with momentum 1, a zero row of
 *   rmsNorm with eps 0.
 * A case belongs to the first of extreme-values, edge-semantics, then its kernel family.
 */
export const FAMILIES = ['rows', 'nchw-stats', 'nhwc-stats', 'batchnorm-inference', 'extreme-values', 'edge-semantics'] as const;
export type Family = (typeof FAMILIES)[number];

/** Optional array inputs (runningMean/runningVar are in-out in training). */
export type ArrayArg = 'weight' | 'bias' | 'residual' | 'runningMean' | 'runningVar';
/** Optional outputs besides `out`. */
export type OutputArg = 'sumOut' | 'mean' | 'invStd';

/**
 * How x (or the style) is filled: `offset + scale * g` with g roughly normal in [-2, 2] (multiples of 2^-16).
 * The extreme kinds put the case in the extreme-values family.
 */
export const DATA = {
  normal: [0.25, 2],
  offset1e4: [1e4, 1], // mean 1e4 times the standard deviation
  offset1e6: [1e6, 1],
  negOffset: [-3e3, 0.3], // mean -1e4 times the standard deviation
  style: [2, 3],
  tiny: [0, 1e-20], // squares ~1e-40: subnormal in float32
  smallSquares: [0, 1e-25], // squares underflow to 0 in float32
  subnormal: [0, 1e-40],
  huge: [0, 1e38],
  hugeOffset: [2e38, 1e37],
  nearMax: [0, 1.6e38], // up to 3.2e38
} as const satisfies Record<string, readonly [number, number]>;
export type DataKind = keyof typeof DATA;
const EXTREME: ReadonlySet<DataKind> = new Set(['tiny', 'smallSquares', 'subnormal', 'huge', 'hugeOffset', 'nearMax']);

/** Changes one group of x (or of the style): every value constant, all zero, or one NaN / ±Infinity. */
export type Mark = 'constant' | 'zero' | 'nan' | 'inf' | '-inf';

export interface Spec {
  op: OpName;
  shape: number[];
  numGroups?: number;
  styleShape?: number[];
  layout?: Layout;
  axis?: number;
  eps?: number;
  training?: boolean;
  momentum?: number;
  unbiasedRunningVar?: boolean;
  arrays?: ArrayArg[];
  outputs?: OutputArg[];
  /** out = x (copy mode: the same Float32Array; zero-copy: the same Tensor). */
  inPlace?: boolean;
  data?: DataKind;
  styleData?: DataKind;
  mark?: Mark;
  /** Which array the mark changes (default x). */
  markStyle?: boolean;
  /** Running statistics start as NaN in channel 1 (or 0). */
  nanRunning?: boolean;
  /** Literal values (issue reproductions); named in the case name through `note`. */
  literal?: Partial<Record<'x' | ArrayArg, number[]>>;
  note?: string;
}

export interface CorpusCase extends Spec {
  name: string;
  family: Family;
}

export type Mode = 'copy' | 'tensor';
export const MODES: readonly Mode[] = ['copy', 'tensor'];

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** [N, C, HW] of a channel-op shape. */
export function channelDims(shape: readonly number[], layout: Layout = 'NCHW'): [number, number, number] {
  const N = shape[0];
  const C = layout === 'NHWC' ? shape[shape.length - 1] : shape[1];
  return [N, C, size(shape) / Math.max(1, N * C)];
}

/** The registry entry that runs a case. */
export const entryId = (s: Spec): OpId => (s.op === 'batchNorm' && s.training ? 'batchNormTraining' : s.op);

/** The case's call without its arrays, for the registry's shape facts. */
const bareCall = (s: Spec): Call => ({
  x: undefined, shape: s.shape, numGroups: s.numGroups, styleShape: s.styleShape,
  options: { axis: s.axis, layout: s.layout },
});

/** Length of a per-group-position (row ops) or per-channel (channel ops) array. */
function paramLength(s: Spec): number {
  const d = REGISTRY[entryId(s)].dims(bareCall(s));
  return REGISTRY[entryId(s)].kind === 'rows' ? d.positions : d.C;
}

function familyOf(s: Spec): Family {
  if (
    (s.data && EXTREME.has(s.data)) ||
    (s.styleData && EXTREME.has(s.styleData)) ||
    (s.eps !== undefined && s.eps > 0 && s.eps < 1e-30) ||
    s.note?.startsWith('extreme')
  ) {
    return 'extreme-values';
  }
  const infinite = s.mark === 'inf' || s.mark === '-inf';
  const statsOut = (s.outputs ?? []).some((o) => o === 'mean' || o === 'invStd') || (s.training && s.arrays?.includes('runningMean'));
  if ((infinite && statsOut) || s.nanRunning || (s.op === 'rmsNorm' && s.mark === 'zero' && s.eps === 0)) return 'edge-semantics';
  if (s.op === 'layerNorm' || s.op === 'rmsNorm') return 'rows';
  if (s.op === 'batchNorm' && !s.training) return 'batchnorm-inference';
  const [, , HW] = channelDims(s.shape, s.layout);
  return s.layout === 'NHWC' || HW === 1 ? 'nhwc-stats' : 'nchw-stats';
}

const fmt = (v: number) => (Object.is(v, -0) ? '-0' : String(v));

/** A readable, unique name built from everything that defines the case. */
export function caseName(s: Spec): string {
  const parts: string[] = [s.op];
  if (s.op === 'batchNorm') parts.push(s.training ? 'training' : 'inference');
  if (s.op !== 'layerNorm' && s.op !== 'rmsNorm') parts.push(s.layout ?? 'NCHW');
  parts.push(`[${s.shape}]`);
  if (s.numGroups !== undefined) parts.push(`G=${s.numGroups}`);
  if (s.styleShape) parts.push(`style [${s.styleShape}]`);
  if (s.axis !== undefined) parts.push(`axis=${s.axis}`);
  if (s.eps !== undefined) parts.push(`eps=${fmt(s.eps)}`);
  if (s.momentum !== undefined) parts.push(`momentum=${s.momentum}`);
  if (s.unbiasedRunningVar === false) parts.push('biased-running-var');
  if (s.arrays?.length) parts.push(s.arrays.join('+'));
  if (s.outputs?.length) parts.push(`-> ${s.outputs.join('+')}`);
  if (s.inPlace) parts.push('in-place');
  if (s.data && s.data !== 'normal') parts.push(`x:${s.data}`);
  if (s.styleData && s.styleData !== 'style') parts.push(`style:${s.styleData}`);
  if (s.mark) parts.push(`${s.markStyle ? 'style' : 'x'} group ${s.mark}`);
  if (s.nanRunning) parts.push('NaN running stats');
  if (s.note) parts.push(`(${s.note})`);
  return parts.join(' ');
}

/** FNV-1a of a string: the seed of one array of one case. */
function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h || 1;
}

/** Element indices of the group a mark changes (group 1 of sample N - 1 where it exists, else group 0). */
function markedIndices(s: Spec, style: boolean): number[] {
  const idx: number[] = [];
  if (s.op === 'layerNorm' || s.op === 'rmsNorm') {
    const d = REGISTRY[entryId(s)].dims(bareCall(s));
    const inner = d.positions;
    const r = Math.min(1, d.groups - 1);
    for (let i = 0; i < inner; i++) idx.push(r * inner + i);
    return idx;
  }
  const layout = s.layout ?? 'NCHW';
  const [N, C, HW] = channelDims(style ? s.styleShape! : s.shape, layout);
  const at = (n: number, c: number, p: number) => (layout === 'NCHW' ? (n * C + c) * HW + p : (n * HW + p) * C + c);
  let channels: number[] = [Math.min(1, C - 1)];
  let samples = [N - 1];
  if (s.op === 'groupNorm' && !style) {
    const G = s.numGroups!;
    const cpg = C / G;
    const g = Math.min(1, G - 1);
    channels = Array.from({ length: cpg }, (_, j) => g * cpg + j);
  }
  if (s.op === 'batchNorm') samples = Array.from({ length: N }, (_, n) => n);
  for (const n of samples) for (const c of channels) for (let p = 0; p < HW; p++) idx.push(at(n, c, p));
  return idx.sort((a, b) => a - b);
}

function applyMark(a: Float32Array, idx: number[], mark: Mark): void {
  if (idx.length === 0) return;
  const mid = idx[idx.length >> 1];
  switch (mark) {
    case 'constant': {
      const v = a[idx[0]];
      for (const i of idx) a[i] = v;
      break;
    }
    case 'zero':
      for (const i of idx) a[i] = 0;
      break;
    case 'nan':
      a[mid] = NaN;
      break;
    case 'inf':
      a[mid] = Infinity;
      break;
    case '-inf':
      a[mid] = -Infinity;
      break;
  }
}

/** The input arrays of a case, in a fixed order (x, style, then the optional arrays in ArrayArg order). */
export interface Inputs {
  x: Float32Array;
  style?: Float32Array;
  arrays: Partial<Record<ArrayArg, Float32Array>>;
}

const ARRAY_ORDER: readonly ArrayArg[] = ['weight', 'bias', 'residual', 'runningMean', 'runningVar'];

export function makeInputs(c: CorpusCase): Inputs {
  const lit = c.literal ?? {};
  const gen = (role: string, length: number, kind: readonly [number, number]) =>
    filled(seedOf(`${c.name}|${role}`), length, kind[0], kind[1]);
  const x = lit.x ? Float32Array.from(lit.x) : gen('x', size(c.shape), DATA[c.data ?? 'normal']);
  let style: Float32Array | undefined;
  if (c.styleShape) style = gen('style', size(c.styleShape), DATA[c.styleData ?? 'style']);
  if (c.mark) {
    const target = c.markStyle ? style! : x;
    applyMark(target, markedIndices(c, !!c.markStyle), c.mark);
  }
  const P = paramLength(c);
  const arrays: Inputs['arrays'] = {};
  for (const a of ARRAY_ORDER) {
    if (!c.arrays?.includes(a)) continue;
    if (lit[a]) {
      arrays[a] = Float32Array.from(lit[a]!);
      continue;
    }
    const kind: Record<ArrayArg, readonly [number, number]> = {
      weight: [1, 0.5],
      bias: [0, 1],
      residual: [0, 1],
      runningMean: [0, 0.5],
      runningVar: [2, 0.4], // in [1.2, 2.8]
    };
    arrays[a] = gen(a, a === 'residual' ? x.length : P, kind[a]);
  }
  if (c.nanRunning) {
    const ch = Math.min(1, P - 1);
    if (arrays.runningMean) arrays.runningMean[ch] = NaN;
    if (arrays.runningVar) arrays.runningVar[ch] = NaN;
  }
  return { x, style, arrays };
}

export function inputArrays(inp: Inputs): Float32Array[] {
  return [inp.x, ...(inp.style ? [inp.style] : []), ...ARRAY_ORDER.flatMap((a) => (inp.arrays[a] ? [inp.arrays[a]!] : []))];
}

function outputLength(c: CorpusCase, o: OutputArg): number {
  return o === 'sumOut' ? size(c.shape) : REGISTRY[entryId(c)].dims(bareCall(c)).groups;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
type Loose = Record<string, any>;

/**
 * Runs one case with a build of normkit and returns every array it wrote, in a fixed order: y, the
 * optional outputs in the case's order, then the running statistics when training updates them. With
 * `dtype`, every array is stored in that half precision (rounded by normkit's tensor()), in plain
 * Uint16Arrays (copy) or half Tensors, and what it wrote comes back as its bit patterns.
 */
export function runCase(nk: NormkitModule, c: CorpusCase, mode: Mode, inp: Inputs = makeInputs(c), dtype?: 'float16' | 'bfloat16'): Float32Array[] {
  const m = nk as unknown as Loose;
  const live: { free(): void }[] = [];
  const wrap = (a: Float32Array): unknown => {
    if (mode === 'copy' && dtype === undefined) return a;
    const t = m.tensor(a, { dtype });
    live.push(t);
    return mode === 'copy' ? t.array.slice() : t;
  };
  // Bits come back as numbers (exact): the hashes read Float32Arrays. A NaN's sign comes from the engine's
  // float operations (wasm leaves it open), so NaNs are made one pattern, as the hashes do for float32.
  const nan = dtype === 'float16' ? [0x7c00, 0x3ff, 0x7e00] : [0x7f80, 0x7f, 0x7fc0];
  const canonical = (b: number) => ((b & nan[0]) === nan[0] && (b & nan[1]) !== 0 ? nan[2] : b);
  const bits = (a: Float32Array | Uint16Array): Float32Array => (a instanceof Float32Array ? a.slice() : Float32Array.from(a, canonical));
  const read = (v: unknown): Float32Array => bits(mode === 'copy' ? (v as Float32Array) : (v as Loose).array);
  try {
    const x = wrap(inp.x);
    const style = inp.style ? wrap(inp.style) : undefined;
    const o: Loose = {};
    for (const k of ['layout', 'axis', 'eps', 'training', 'momentum', 'unbiasedRunningVar'] as const) {
      if (c[k] !== undefined) o[k] = c[k];
    }
    if (dtype !== undefined) o.dtype = dtype;
    for (const a of ARRAY_ORDER) if (inp.arrays[a]) o[a] = wrap(inp.arrays[a]!);
    const outs = (c.outputs ?? []).map((name) => {
      const v = wrap(new Float32Array(outputLength(c, name)));
      o[name] = v;
      return v;
    });
    if (c.inPlace) o.out = x;
    else if (mode === 'tensor') o.out = wrap(new Float32Array(inp.x.length));
    const call: Call = { x, shape: c.shape, numGroups: c.numGroups, style, styleShape: c.styleShape, options: o };
    const y = REGISTRY[entryId(c)].run(nk as unknown as NormkitLike, call);
    const result = [bits(y as Float32Array), ...outs.map(read)];
    if (c.op === 'batchNorm' && c.training && o.runningMean) result.push(read(o.runningMean), read(o.runningVar));
    return result;
  } finally {
    for (const t of live) t.free();
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any */

export interface CaseHash {
  input: string;
  output: string;
}

/** Hashes of a case's inputs and of everything it wrote in one mode (or "error: <code> <message>"). */
export async function hashCase(nk: NormkitModule, c: CorpusCase, mode: Mode): Promise<CaseHash> {
  const inp = makeInputs(c);
  const input = await hashArrays(inputArrays(inp)); // before the run: an in-place case overwrites x
  let output: string;
  try {
    output = await hashArrays(runCase(nk, c, mode, inp));
  } catch (e) {
    const err = e as { code?: string; message?: string };
    output = `error: ${err.code ?? ''} ${err.message ?? String(e)}`;
  }
  return { input, output };
}

// ---------------------------------------------------------------------------------------------------------
// The cases.

/** Group lengths around the kernels' tile and block boundaries (4, 16, ROW_BLOCK 256, BLOCK 1024). */
export const GROUP_LENGTHS: readonly number[] = TILE_GROUP_LENGTHS;
/** Channel counts of the channel-last sweep. */
export const CHANNELS: readonly number[] = TILE_CHANNELS;

const smallestFactor = (C: number) => {
  for (let f = 2; f <= C; f++) if (C % f === 0) return f;
  return 1;
};

function specs(): Spec[] {
  const out: Spec[] = [];
  const add = (s: Spec) => out.push(s);
  const LAYOUTS: readonly Layout[] = ['NCHW', 'NHWC'];
  const chShape = (layout: Layout, N: number, C: number, ...S: number[]) => (layout === 'NCHW' ? [N, C, ...S] : [N, ...S, C]);

  // ---- rows: group lengths around every tile boundary.
  for (const L of GROUP_LENGTHS) {
    add({ op: 'layerNorm', shape: [3, L] });
    add({ op: 'layerNorm', shape: [3, L], eps: 1e-6, arrays: ['weight', 'bias'], outputs: ['mean', 'invStd'] });
    add({ op: 'layerNorm', shape: [2, L], arrays: ['weight', 'bias', 'residual'], outputs: ['sumOut', 'mean', 'invStd'] });
    add({ op: 'layerNorm', shape: [3, L], data: 'offset1e4', arrays: ['weight'] });
    add({ op: 'rmsNorm', shape: [3, L] });
    add({ op: 'rmsNorm', shape: [3, L], arrays: ['weight'] });
    add({ op: 'rmsNorm', shape: [2, L], eps: 1e-6, arrays: ['weight', 'residual'], outputs: ['sumOut'] });
  }
  // axis
  for (const axis of [0, 1, 2, 3, -1, -2, -3, -4]) {
    add({ op: 'layerNorm', shape: [2, 3, 5, 7], axis, arrays: ['weight', 'bias'], outputs: ['mean', 'invStd'] });
    add({ op: 'rmsNorm', shape: [2, 3, 5, 7], axis, arrays: ['weight'] });
  }
  add({ op: 'layerNorm', shape: [5, 4, 33], axis: 1 });
  add({ op: 'rmsNorm', shape: [5, 4, 33], axis: 1, arrays: ['weight', 'residual'], outputs: ['sumOut'] });
  add({ op: 'layerNorm', shape: [37], axis: 0, arrays: ['bias'] });
  // eps
  for (const eps of [0, 1e-12, 1e-5, 1e-3, 0.5, 10]) {
    add({ op: 'layerNorm', shape: [4, 37], eps, arrays: ['weight', 'bias'], outputs: ['invStd'] });
    add({ op: 'rmsNorm', shape: [4, 37], eps, arrays: ['weight'] });
  }
  // which optional arguments are present
  for (const arrays of [['weight'], ['bias'], ['residual'], ['weight', 'residual'], ['bias', 'residual']] as ArrayArg[][]) {
    add({ op: 'layerNorm', shape: [5, 19], arrays });
    if (arrays.includes('residual')) add({ op: 'layerNorm', shape: [5, 19], arrays, outputs: ['sumOut'] });
  }
  add({ op: 'layerNorm', shape: [5, 19], outputs: ['mean'] });
  add({ op: 'layerNorm', shape: [5, 19], outputs: ['invStd'] });
  add({ op: 'rmsNorm', shape: [5, 19], arrays: ['residual'] });
  add({ op: 'rmsNorm', shape: [5, 19], arrays: ['residual'], outputs: ['sumOut'] });
  // in place
  add({ op: 'layerNorm', shape: [7, 33], arrays: ['weight', 'bias'], inPlace: true });
  add({ op: 'layerNorm', shape: [7, 33], arrays: ['residual'], outputs: ['sumOut', 'mean'], inPlace: true });
  add({ op: 'rmsNorm', shape: [7, 33], arrays: ['weight'], inPlace: true });
  // offset data
  for (const data of ['offset1e4', 'offset1e6', 'negOffset'] as const) {
    for (const L of [5, 100, 1000, 4097]) {
      add({ op: 'layerNorm', shape: [4, L], data, arrays: ['weight', 'bias'], outputs: ['mean', 'invStd'] });
      add({ op: 'rmsNorm', shape: [4, L], data });
    }
  }
  // constant, zero and non-finite groups
  for (const mark of ['constant', 'zero', 'nan', 'inf', '-inf'] as const) {
    for (const L of [1, 7, 64, 1025]) {
      add({ op: 'layerNorm', shape: [3, L], mark, arrays: ['bias'] });
      add({ op: 'layerNorm', shape: [3, L], mark, arrays: ['weight', 'bias'], outputs: ['mean', 'invStd'] });
      add({ op: 'rmsNorm', shape: [3, L], mark, arrays: ['weight'] });
    }
    add({ op: 'layerNorm', shape: [3, 33], mark, eps: 0, arrays: ['bias'] });
    add({ op: 'rmsNorm', shape: [3, 33], mark, eps: 0 });
    add({ op: 'layerNorm', shape: [3, 33], mark, arrays: ['residual'], outputs: ['sumOut'] });
  }
  // copy mode in several passes (512 KiB = 131072 floats a pass)
  add({ op: 'layerNorm', shape: [300, 1024], arrays: ['weight', 'bias', 'residual'], outputs: ['sumOut', 'mean', 'invStd'] });
  add({ op: 'layerNorm', shape: [129, 1025], arrays: ['weight', 'bias'] });
  add({ op: 'layerNorm', shape: [1, 140001], arrays: ['weight'], outputs: ['mean', 'invStd'] });
  add({ op: 'layerNorm', shape: [2, 300, 257], axis: 1, arrays: ['bias'] });
  add({ op: 'layerNorm', shape: [260, 1025], inPlace: true, arrays: ['residual'], outputs: ['sumOut'] });
  add({ op: 'rmsNorm', shape: [260, 1025], arrays: ['weight', 'residual'], outputs: ['sumOut'] });
  add({ op: 'rmsNorm', shape: [1, 140001] });
  add({ op: 'rmsNorm', shape: [517, 300], arrays: ['weight'], inPlace: true });

  // ---- channel ops over contiguous planes: plane lengths around every tile boundary.
  for (const L of GROUP_LENGTHS) {
    add({ op: 'instanceNorm', shape: [2, 3, L], arrays: ['weight', 'bias'] });
    add({ op: 'groupNorm', shape: [2, 6, L], numGroups: 2, arrays: ['weight', 'bias'] });
    add({ op: 'batchNorm', training: true, shape: [2, 3, L], arrays: ['weight', 'bias', 'runningMean', 'runningVar'] });
    add({ op: 'batchNorm', shape: [2, 3, L], arrays: ['weight', 'bias', 'runningMean', 'runningVar'] });
    add({ op: 'adaIN', shape: [2, 3, L], styleShape: [1, 3, L] });
  }
  // ---- channel-last: C from 1 to 33.
  for (const C of CHANNELS) {
    const f = smallestFactor(C);
    add({ op: 'instanceNorm', layout: 'NHWC', shape: [2, 37, C], arrays: ['weight', 'bias'] });
    add({ op: 'groupNorm', layout: 'NHWC', shape: [2, 37, C], numGroups: C / f, arrays: ['weight', 'bias'] });
    if (f !== C) add({ op: 'groupNorm', layout: 'NHWC', shape: [2, 37, C], numGroups: 1 });
    add({ op: 'batchNorm', training: true, layout: 'NHWC', shape: [3, 29, C], arrays: ['weight', 'bias', 'runningMean', 'runningVar'] });
    add({ op: 'batchNorm', layout: 'NHWC', shape: [3, 29, C], arrays: ['weight', 'bias', 'runningMean', 'runningVar'] });
    add({ op: 'adaIN', layout: 'NHWC', shape: [2, 37, C], styleShape: [2, 11, C] });
    add({ op: 'adaIN', layout: 'NHWC', shape: [2, 37, C], styleShape: [1, 11, C] });
    add({ op: 'batchNorm', training: true, shape: [37, C], arrays: ['weight', 'bias', 'runningMean', 'runningVar'] });
  }
  // channel-last columns longer than one tile (16 KiB of rows)
  for (const C of [1, 3, 4, 15, 16, 17, 33]) {
    add({ op: 'instanceNorm', layout: 'NHWC', shape: [1, 4099, C], arrays: ['weight', 'bias'] });
    add({ op: 'batchNorm', training: true, layout: 'NHWC', shape: [2, 2050, C], arrays: ['runningMean', 'runningVar'] });
  }
  // ---- strided runs: batchNorm NCHW over N = 1..9 samples.
  for (let N = 1; N <= 9; N++) {
    for (const HW of [5, 37, 257]) {
      add({ op: 'batchNorm', training: true, shape: [N, 3, HW], arrays: ['weight', 'bias', 'runningMean', 'runningVar'] });
    }
    add({ op: 'batchNorm', training: true, shape: [N, 4, 3, 7] });
    add({ op: 'batchNorm', shape: [N, 3, 37], arrays: ['weight', 'bias', 'runningMean', 'runningVar'] });
  }
  // ---- channel-op options, both layouts.
  for (const layout of LAYOUTS) {
    const s4 = chShape(layout, 2, 4, 5, 3);
    const s12 = chShape(layout, 2, 12, 7, 3);
    const RS: ArrayArg[] = ['runningMean', 'runningVar'];
    for (const arrays of [[], ['weight'], ['bias'], ['weight', 'bias']] as ArrayArg[][]) {
      add({ op: 'instanceNorm', layout, shape: s4, arrays });
      add({ op: 'groupNorm', layout, shape: s4, numGroups: 2, arrays });
      add({ op: 'batchNorm', training: true, layout, shape: s4, arrays });
      add({ op: 'batchNorm', training: true, layout, shape: s4, arrays: [...arrays, ...RS] });
      add({ op: 'batchNorm', layout, shape: s4, arrays: [...arrays, ...RS] });
    }
    for (const eps of [0, 1e-12, 1e-3, 0.5]) {
      add({ op: 'instanceNorm', layout, shape: s4, eps, arrays: ['weight', 'bias'] });
      add({ op: 'groupNorm', layout, shape: s4, numGroups: 2, eps });
      add({ op: 'batchNorm', training: true, layout, shape: s4, eps, arrays: RS });
      add({ op: 'batchNorm', layout, shape: s4, eps, arrays: ['weight', ...RS] });
      add({ op: 'adaIN', layout, shape: s4, eps, styleShape: chShape(layout, 2, 4, 3, 3) });
    }
    for (const G of [1, 2, 3, 4, 6, 12]) add({ op: 'groupNorm', layout, shape: s12, numGroups: G, arrays: ['weight', 'bias'] });
    for (const momentum of [0, 0.3, 1]) {
      add({ op: 'batchNorm', training: true, layout, shape: s4, momentum, arrays: RS });
      add({ op: 'batchNorm', training: true, layout, shape: s4, momentum, unbiasedRunningVar: false, arrays: RS });
    }
    add({ op: 'batchNorm', training: true, layout, shape: s4, unbiasedRunningVar: false, arrays: ['weight', 'bias', ...RS] });
    // ranks 2 to 5
    for (const shape of [[3, 4], [2, 5, 1], [2, 3, 4, 5], [1, 2, 3, 4, 5]].map((sh) =>
      layout === 'NCHW' || sh.length === 2 ? sh : [sh[0], ...sh.slice(2), sh[1]],
    )) {
      add({ op: 'instanceNorm', layout, shape, arrays: ['weight', 'bias'] });
      add({ op: 'groupNorm', layout, shape, numGroups: 1, arrays: ['bias'] });
      add({ op: 'batchNorm', training: true, layout, shape, arrays: RS });
      add({ op: 'batchNorm', layout, shape, arrays: RS });
      const [N, C] = channelDims(shape, layout);
      const styleShape = shape.length === 2 ? [N, C] : chShape(layout, 1, C, ...Array(shape.length - 2).fill(2));
      add({ op: 'adaIN', layout, shape, styleShape });
    }
    // adaIN style batch N and 1, style sizes unlike the content's
    for (const [styleN, styleS] of [[2, [1, 1]], [2, [4, 5]], [1, [4, 5]], [1, [9, 9]], [2, [16, 1]]] as [number, number[]][]) {
      add({ op: 'adaIN', layout, shape: chShape(layout, 2, 5, 6, 7), styleShape: chShape(layout, styleN, 5, ...styleS) });
    }
    // offset data
    for (const data of ['offset1e4', 'offset1e6', 'negOffset'] as const) {
      const s = chShape(layout, 2, 5, 9, 7);
      add({ op: 'instanceNorm', layout, shape: s, data, arrays: ['weight', 'bias'] });
      add({ op: 'groupNorm', layout, shape: s, numGroups: 5, data });
      add({ op: 'batchNorm', training: true, layout, shape: s, data, arrays: RS });
      add({ op: 'batchNorm', layout, shape: s, data, arrays: RS });
      add({ op: 'adaIN', layout, shape: s, data, styleShape: chShape(layout, 1, 5, 3, 3) });
      add({ op: 'adaIN', layout, shape: s, styleData: data, styleShape: chShape(layout, 2, 5, 3, 3) });
    }
    // constant, zero and non-finite groups
    for (const mark of ['constant', 'zero', 'nan', 'inf', '-inf'] as const) {
      const s = chShape(layout, 2, 4, 6, 5);
      add({ op: 'instanceNorm', layout, shape: s, mark, arrays: ['weight', 'bias'] });
      add({ op: 'groupNorm', layout, shape: s, numGroups: 2, mark, arrays: ['weight', 'bias'] });
      add({ op: 'batchNorm', training: true, layout, shape: s, mark, arrays: ['bias'] });
      add({ op: 'batchNorm', training: true, layout, shape: s, mark, arrays: ['bias', ...RS] });
      add({ op: 'batchNorm', layout, shape: s, mark, arrays: ['bias', ...RS] });
      add({ op: 'adaIN', layout, shape: s, mark, styleShape: chShape(layout, 2, 4, 3, 3) });
      add({ op: 'adaIN', layout, shape: s, mark, markStyle: true, styleShape: chShape(layout, 2, 4, 3, 3) });
      add({ op: 'instanceNorm', layout, shape: s, mark, eps: 0, arrays: ['bias'] });
    }
    add({ op: 'batchNorm', training: true, layout, shape: s4, momentum: 1, nanRunning: true, arrays: RS });
    add({ op: 'batchNorm', training: true, layout, shape: s4, nanRunning: true, arrays: RS });
    // runningVar + eps = 0: IEEE's infinite scale
    add({
      op: 'batchNorm', layout, shape: s4, eps: 0, arrays: ['runningMean', 'runningVar'],
      literal: { runningMean: [0, 0.5, -1, 2], runningVar: [0, 1, 0, 4] }, note: 'zero running variance',
    });
    // in place
    add({ op: 'instanceNorm', layout, shape: s12, inPlace: true, arrays: ['weight'] });
    add({ op: 'groupNorm', layout, shape: s12, numGroups: 3, inPlace: true });
    add({ op: 'batchNorm', training: true, layout, shape: s12, inPlace: true, arrays: RS });
    add({ op: 'batchNorm', layout, shape: s12, inPlace: true, arrays: RS });
    add({ op: 'adaIN', layout, shape: s12, inPlace: true, styleShape: chShape(layout, 1, 12, 2, 2) });
    // copy mode in several passes (512 KiB a pass)
    add({ op: 'instanceNorm', layout, shape: chShape(layout, 5, 8, 4099), arrays: ['weight', 'bias'] });
    add({ op: 'groupNorm', layout, shape: chShape(layout, 3, 32, 2053), numGroups: 8, arrays: ['weight', 'bias'] });
    add({ op: 'groupNorm', layout, shape: chShape(layout, 2, 4, 40000), numGroups: 2 }); // one sample > a pass
    add({ op: 'batchNorm', training: true, layout, shape: chShape(layout, 6, 16, 2049), arrays: ['weight', ...RS] });
    add({ op: 'batchNorm', layout, shape: chShape(layout, 6, 16, 2049), arrays: ['weight', 'bias', ...RS] });
    add({ op: 'adaIN', layout, shape: chShape(layout, 3, 16, 4099), styleShape: chShape(layout, 3, 16, 33) });
    add({ op: 'adaIN', layout, shape: chShape(layout, 3, 16, 4099), styleShape: chShape(layout, 1, 16, 4099) });
    add({ op: 'instanceNorm', layout, shape: chShape(layout, 4, 16, 4099), inPlace: true });
  }

  // ---- extreme values: tiny, subnormal and near-float32-max data, eps 0 and tiny.
  for (const data of ['tiny', 'smallSquares', 'subnormal', 'huge', 'hugeOffset', 'nearMax'] as const) {
    for (const eps of [0, 1e-5]) {
      add({ op: 'layerNorm', shape: [3, 37], data, eps, arrays: ['weight', 'bias'], outputs: ['mean', 'invStd'] });
      add({ op: 'rmsNorm', shape: [3, 37], data, eps, arrays: ['weight'] });
      for (const layout of LAYOUTS) {
        const s = chShape(layout, 2, 4, 5, 3);
        add({ op: 'instanceNorm', layout, shape: s, data, eps, arrays: ['weight', 'bias'] });
        add({ op: 'groupNorm', layout, shape: s, numGroups: 2, data, eps });
        add({ op: 'batchNorm', training: true, layout, shape: s, data, eps, arrays: ['runningMean', 'runningVar'] });
        add({ op: 'batchNorm', layout, shape: s, data, eps, arrays: ['runningMean', 'runningVar'] });
        add({ op: 'adaIN', layout, shape: s, data, eps, styleShape: chShape(layout, 2, 4, 3, 3) });
        add({ op: 'adaIN', layout, shape: s, styleData: data, eps, styleShape: chShape(layout, 2, 4, 3, 3) });
      }
    }
    add({ op: 'layerNorm', shape: [2, 1025], data, eps: 1e-50 });
    add({ op: 'rmsNorm', shape: [2, 1025], data, eps: 1e-50 });
  }
  // the reproductions of issue 16 items 3 and 4
  add({ op: 'layerNorm', shape: [1, 2], eps: 0, literal: { x: [1e-40, 2e-40] }, note: 'extreme: issue 16 item 3a' });
  add({ op: 'rmsNorm', shape: [1, 2], eps: 0, literal: { x: [1e-25, 2e-25] }, note: 'extreme: issue 16 item 3b' });
  add({ op: 'layerNorm', shape: [1, 2], eps: 1e-50, literal: { x: [1e-23, -1e-23] }, note: 'extreme: issue 16 item 3c' });
  add({
    op: 'layerNorm', shape: [1, 100], literal: { x: [-1.5e38, ...Array(99).fill(2e38)] }, note: 'extreme: issue 16 item 4a',
  });
  for (const layout of LAYOUTS) {
    add({
      op: 'batchNorm', layout, shape: [1, 1], arrays: ['runningMean', 'runningVar'],
      literal: { x: [-2e38], runningMean: [2e38], runningVar: [3] }, note: 'extreme: issue 16 item 4b',
    });
  }
  return out;
}

let cached: CorpusCase[] | undefined;

/** Every corpus case, with its name and family; names are unique. */
export function corpusCases(): CorpusCase[] {
  if (cached) return cached;
  // The name spells out everything that defines a case, so two specs with one name are the same call
  // (the sweeps overlap): keep the first.
  const byName = new Map<string, CorpusCase>();
  for (const s of specs()) {
    const name = caseName(s);
    if (!byName.has(name)) byName.set(name, { ...s, name, family: familyOf(s) });
  }
  cached = [...byName.values()];
  return cached;
}

/** The stored corpus (test/corpus/op-hashes.json). */
export interface Corpus {
  about: string;
  source: string;
  families: Record<string, { cases: number; source: string }>;
  /** name -> family, input hash, output hash (both modes), and `tensor` only when zero-copy differed. */
  cases: Record<string, { family: Family; input: string; output: string; tensor?: string }>;
}
