/**
 * The explainer's model: a small N × C × (H·W) tensor, which cells share one mean and variance under each
 * op, and the statistics and outputs that normkit computes on it. No DOM here.
 */
import { adaIN, batchNorm, groupNorm, instanceNorm, layerNorm, rmsNorm } from 'normkit';

export type Op = 'batch' | 'layer' | 'instance' | 'group' | 'rms' | 'adain';
export type Layout = 'NCHW' | 'NHWC';
/** What LayerNorm and RMSNorm reduce over: C·H·W (one group per sample) or C only (one per token). */
export type Axis = 'chw' | 'c';

export const N = 3;
export const C = 6;
export const H = 2;
export const W = 2;
export const S = H * W;
export const GROUP_CHOICES = [1, 2, 3, 6];
/** The AdaIN style tensor: one sample (broadcast to every content sample), 3 × 3 positions. */
export const STYLE_H = 3;
export const STYLE_W = 3;
export const STYLE_S = STYLE_H * STYLE_W;

export const OPS: Op[] = ['batch', 'layer', 'instance', 'group', 'rms', 'adain'];
export const OP_NAMES: Record<Op, string> = {
  batch: 'BatchNorm',
  layer: 'LayerNorm',
  instance: 'InstanceNorm',
  group: 'GroupNorm',
  rms: 'RMSNorm',
  adain: 'AdaIN',
};

/** One element of the tensor: sample n, channel c, spatial position s = h·W + w. */
export interface Cell {
  n: number;
  c: number;
  s: number;
}

/** Everything that decides the grouping. */
export interface Grouping {
  op: Op;
  groups: number;
  axis: Axis;
}

export const posName = (s: number) => `h${Math.floor(s / W)}w${s % W}`;
export const cellName = ({ n, c, s }: Cell) => `n${n} c${c} ${posName(s)}`;

const perToken = (g: Grouping) => (g.op === 'layer' || g.op === 'rms') && g.axis === 'c';

/** Which group the cell belongs to under `g`. */
export function groupOf(g: Grouping, { n, c, s }: Cell): number {
  switch (g.op) {
    case 'batch':
      return c;
    case 'layer':
    case 'rms':
      return g.axis === 'c' ? n * S + s : n;
    case 'instance':
    case 'adain':
      return n * C + c;
    case 'group':
      return n * g.groups + Math.floor(c / (C / g.groups));
  }
}

export function groupCount(g: Grouping): number {
  switch (g.op) {
    case 'batch':
      return C;
    case 'layer':
    case 'rms':
      return g.axis === 'c' ? N * S : N;
    case 'instance':
    case 'adain':
      return N * C;
    case 'group':
      return N * g.groups;
  }
}

/** A short name for group `k`: which index values it fixes. */
export function groupName(g: Grouping, k: number): string {
  switch (g.op) {
    case 'batch':
      return `c${k}`;
    case 'layer':
    case 'rms':
      return g.axis === 'c' ? `n${Math.floor(k / S)} ${posName(k % S)}` : `n${k}`;
    case 'instance':
    case 'adain':
      return `n${Math.floor(k / C)} c${k % C}`;
    case 'group':
      return `n${Math.floor(k / g.groups)} g${k % g.groups}`;
  }
}

/** The reduced axes, in words: what one mean and variance averages over, and what it is kept per. */
export function reducedAxes(g: Grouping): { over: string; per: string } {
  const cpg = C / g.groups;
  switch (g.op) {
    case 'batch':
      return { over: 'N, H and W (every sample and position)', per: 'one per channel c' };
    case 'layer':
      return perToken(g)
        ? { over: 'C only (the channels of one position)', per: 'one per token (n, h, w)' }
        : { over: 'C, H and W (the whole sample)', per: 'one per sample n' };
    case 'rms':
      return perToken(g)
        ? { over: 'C only (the channels of one position), as a root mean square', per: 'one per token (n, h, w)' }
        : { over: 'C, H and W (the whole sample), as a root mean square', per: 'one per sample n' };
    case 'instance':
      return { over: 'H and W (one channel of one sample)', per: 'one per (n, c)' };
    case 'group':
      return {
        over: `H, W and the ${cpg} channel${cpg > 1 ? 's' : ''} of one group of C / G = ${C} / ${g.groups}`,
        per: 'one per (n, group)',
      };
    case 'adain':
      return { over: "H and W, in the content and in the style", per: 'one per (n, c); the style gives one per c' };
  }
}

/** A label for an op and its setting, as on the small multiples. */
export function opLabel(g: Grouping): string {
  if (g.op === 'group') return `GroupNorm, G = ${g.groups}`;
  if (g.op === 'layer' || g.op === 'rms') return `${OP_NAMES[g.op]} over ${g.axis === 'c' ? 'C' : 'C·H·W'}`;
  return OP_NAMES[g.op];
}

export function offsetOf(layout: Layout, n: number, c: number, s: number, channels = C, positions = S): number {
  return layout === 'NCHW' ? (n * channels + c) * positions + s : (n * positions + s) * channels + c;
}

/** The cell stored at memory offset `o` of a `layout` buffer. */
export function cellAt(layout: Layout, o: number): Cell {
  const n = Math.floor(o / (C * S));
  const r = o % (C * S);
  return layout === 'NCHW' ? { n, c: Math.floor(r / S), s: r % S } : { n, c: r % C, s: Math.floor(r / C) };
}

export function shapeOf(layout: Layout, n = N, h = H, w = W): number[] {
  return layout === 'NCHW' ? [n, C, h, w] : [n, h, w, C];
}

function seededUniform(seed: number) {
  return () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) / 16777216;
  };
}

/** The logical data x[n][c][s]: channel-specific centres and spreads, values rounded to 0.01. */
export function makeLogicalData(): Float32Array {
  const centre = [-2, 0.5, 3, -1, 1.5, 6];
  const spread = [0.6, 1.5, 0.4, 2.2, 1, 0.8];
  const x = new Float32Array(N * C * S);
  const uniform = seededUniform(20240607);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let s = 0; s < S; s++) {
        const v = centre[c] + 0.8 * n + spread[c] * (uniform() + uniform() + uniform() - 1.5) * 2;
        x[(n * C + c) * S + s] = Math.round(v * 100) / 100;
      }
  return x;
}

/** The logical AdaIN style s[0][c][t], 1 × C × (3·3), with other centres and spreads than the content. */
export function makeLogicalStyle(): Float32Array {
  const centre = [4, -3, 0.5, 2, -1, 1];
  const spread = [0.5, 2, 1.2, 0.3, 1.5, 0.8];
  const x = new Float32Array(C * STYLE_S);
  const uniform = seededUniform(777);
  for (let c = 0; c < C; c++)
    for (let t = 0; t < STYLE_S; t++) {
      const v = centre[c] + spread[c] * (uniform() + uniform() + uniform() - 1.5) * 2;
      x[c * STYLE_S + t] = Math.round(v * 100) / 100;
    }
  return x;
}

/** Packs logical [n][c][s] data into the memory order of `layout`. */
export function pack(logical: Float32Array, layout: Layout, samples = N, positions = S): Float32Array {
  const out = new Float32Array(logical.length);
  for (let n = 0; n < samples; n++)
    for (let c = 0; c < C; c++)
      for (let s = 0; s < positions; s++)
        out[offsetOf(layout, n, c, s, C, positions)] = logical[(n * C + c) * positions + s];
  return out;
}

/** Reorders a full-size buffer from one layout to the other. */
function relayout(x: Float32Array, from: Layout, to: Layout): Float32Array {
  if (from === to) return x;
  const out = new Float32Array(x.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) out[offsetOf(to, n, c, s)] = x[offsetOf(from, n, c, s)];
  return out;
}

export interface Computed {
  /** Offsets (memory order) of each group's cells, ascending. */
  members: number[][];
  /** Per-group mean (null for RMSNorm, which has none). */
  mean: Float32Array | null;
  /** Per-group √(var + ε), or the rms √(mean(x²) + ε) for RMSNorm. */
  spread: Float32Array;
  /** AdaIN only: the style's mean and √(var + ε) for each content group (its channel's). */
  styleMean?: Float32Array;
  styleSpread?: Float32Array;
  /** AdaIN only: the style in the layout's memory order. */
  styleMem?: Float32Array;
  /** normkit's output of the chosen op, in the layout's memory order. */
  y: Float32Array;
  /** true when every group is one contiguous run in memory, in group order. */
  contiguous: boolean;
  /** Where the statistics came from, shown on the page. */
  source: string;
  /** The normkit call that produced y, shown on the page. */
  call: string;
}

/**
 * Mean and √(var + ε) of rows gathered from `buf`, by normkit: layerNorm's `mean` and `invStd` outputs over
 * a [rows, size] view (the buffer itself when the rows are its contiguous runs in order, else a gather).
 */
function rowStats(buf: Float32Array, rows: number[][]) {
  const G = rows.length;
  const size = rows[0].length;
  const contiguous = rows.every((m, g) => m[0] === g * size && m[size - 1] === (g + 1) * size - 1);
  let view: Float32Array;
  if (contiguous && buf.length === G * size) {
    view = buf; // a reshape: no copy
  } else {
    view = new Float32Array(G * size);
    rows.forEach((m, g) => m.forEach((o, i) => (view[g * size + i] = buf[o])));
  }
  const mean = new Float32Array(G);
  const invStd = new Float32Array(G);
  layerNorm(view, [G, size], { mean, invStd });
  return { mean, spread: invStd.map((v) => 1 / v), contiguous };
}

export function compute(
  g: Grouping & { layout: Layout },
  logical: Float32Array,
  logicalStyle: Float32Array,
): Computed & { xMem: Float32Array } {
  const { op, groups, layout } = g;
  const xMem = pack(logical, layout);
  const G = groupCount(g);
  const members: number[][] = Array.from({ length: G }, () => []);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let s = 0; s < S; s++) members[groupOf(g, { n, c, s })].push(offsetOf(layout, n, c, s));
  for (const m of members) m.sort((a, b) => a - b);
  const size = members[0].length;
  const contiguous = members.every((m, k) => m[0] === k * size && m[size - 1] === (k + 1) * size - 1);
  const shape = shapeOf(layout);
  const shapeText = `[${shape.join(', ')}]`;
  const tokenShape = shapeOf('NHWC');
  const tokenText = `[${tokenShape.join(', ')}]`;

  let y: Float32Array;
  let call: string;
  let styleMem: Float32Array | undefined;
  switch (op) {
    case 'batch':
      y = batchNorm(xMem, shape, { layout, training: true });
      call = `batchNorm(x, ${shapeText}, { layout: '${layout}', training: true })`;
      break;
    case 'layer':
    case 'rms': {
      const fn = op === 'layer' ? layerNorm : rmsNorm;
      const name = op === 'layer' ? 'layerNorm' : 'rmsNorm';
      if (g.axis === 'chw') {
        y = fn(xMem, shape, { axis: 1 });
        call = `${name}(x, ${shapeText}, { axis: 1 })`;
      } else if (layout === 'NHWC') {
        y = fn(xMem, shape); // axis -1, the default: over C, per token
        call = `${name}(x, ${shapeText}) (axis −1, the default: C is the last axis)`;
      } else {
        // The ops normalize trailing axes; in NCHW, C is not the last one, so go through channels-last.
        y = relayout(fn(relayout(xMem, 'NCHW', 'NHWC'), tokenShape), 'NHWC', 'NCHW');
        call =
          `${name}(xNHWC, ${tokenText}) (axis −1, the default), on x transposed to channels-last and back: ` +
          `in NCHW, C is not the last axis`;
      }
      break;
    }
    case 'instance':
      y = instanceNorm(xMem, shape, { layout });
      call = `instanceNorm(x, ${shapeText}, { layout: '${layout}' })`;
      break;
    case 'group':
      y = groupNorm(xMem, shape, groups, { layout });
      call = `groupNorm(x, ${shapeText}, ${groups}, { layout: '${layout}' })`;
      break;
    case 'adain': {
      const styleShape = shapeOf(layout, 1, STYLE_H, STYLE_W);
      styleMem = pack(logicalStyle, layout, 1, STYLE_S);
      y = adaIN(xMem, shape, styleMem, styleShape, { layout });
      call = `adaIN(x, ${shapeText}, style, [${styleShape.join(', ')}], { layout: '${layout}' })`;
      break;
    }
  }

  if (op === 'rms') {
    // y = x / rms exactly per element, so the group's rms is Σ|x| / Σ|y| (normkit's own division).
    const spread = new Float32Array(G);
    for (let k = 0; k < G; k++) {
      let sx = 0;
      let sy = 0;
      for (const o of members[k]) {
        sx += Math.abs(xMem[o]);
        sy += Math.abs(y[o]);
      }
      spread[k] = sx / sy;
    }
    return {
      xMem,
      members,
      mean: null,
      spread,
      y,
      contiguous,
      call,
      source:
        'rms per group = Σ|x| / Σ|y| over the group, where y = normkit.rmsNorm(x) = x / rms. ' +
        'RMSNorm subtracts no mean.',
    };
  }

  // Statistics by normkit: layerNorm's per-row mean and invStd outputs over a [groups, groupSize] view.
  const stats = rowStats(xMem, members);
  const how = contiguous
    ? `the ${layout} buffer reshaped to [${G}, ${size}] (each group is one contiguous run, so no copy)`
    : `[${G}, ${size}] rows gathered from the ${layout} buffer (the groups are not contiguous in ${layout})`;
  let source = `mean and std per group: normkit.layerNorm's mean and invStd outputs (std = 1 / invStd) over ${how}.`;
  let styleMean: Float32Array | undefined;
  let styleSpread: Float32Array | undefined;
  if (op === 'adain') {
    const styleRows: number[][] = Array.from({ length: C }, (_, c) =>
      Array.from({ length: STYLE_S }, (_, t) => offsetOf(layout, 0, c, t, C, STYLE_S)).sort((a, b) => a - b),
    );
    const st = rowStats(styleMem!, styleRows);
    styleMean = new Float32Array(G).map((_, k) => st.mean[k % C]);
    styleSpread = new Float32Array(G).map((_, k) => st.spread[k % C]);
    source += ` The style's mean and std: the same, over [${C}, ${STYLE_S}] rows gathered from the style (one per channel).`;
  }
  return { xMem, members, mean: stats.mean, spread: stats.spread, styleMean, styleSpread, styleMem, y, contiguous, call, source };
}

/** Describes how one group sits in memory: runs of contiguous offsets and their stride. */
export function memoryPattern(m: number[]): string {
  const runs: number[][] = [];
  for (const o of m) {
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1] === o - 1) last.push(o);
    else runs.push([o]);
  }
  if (runs.length === 1) return `one contiguous run of ${m.length} values`;
  const stride = runs[1][0] - runs[0][0];
  const len = runs[0].length;
  const what = len === 1 ? `${runs.length} single values` : `${runs.length} runs of ${len} contiguous values`;
  const even = runs.every((r, i) => r.length === len && (i === 0 || r[0] - runs[i - 1][0] === stride));
  return even ? `${what}, stride ${stride}` : `${runs.length} runs of contiguous values`;
}
