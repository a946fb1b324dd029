// Issue 16, overlap fuzzing: for every op and every pair (output, input) and (output, output) of its array
// arguments, the two are placed in one shared buffer so that they overlap (same offset, shifted by one
// element either way, one inside the other across the copy-mode pass boundary of 131072 floats or at its
// end, a whole pass apart, at a random offset), with tensors of 200k to 300k floats (two to four passes), and
// the call is compared with an out-of-place call on separate copies:
// - two plain arrays, one an output and the other an input: the README promises the result of an
//   out-of-place call, bit for bit, and nothing else written;
// - two outputs (in batchNorm training the running statistics are outputs too): refused with ALIASING and
//   nothing written (README: outputs never overlap, whatever their kind);
// - plain views of wasm memory (Tensor.array): both of the pair as views of one Tensor's memory (the same
//   promise as plain arrays), and one of the pair a Tensor with the other a plain view of its memory
//   reaching into its neighbours (x = t, out = a view of t shifted by one): the out-of-place result, or
//   ALIASING with nothing written; overlapping outputs always ALIASING.
// Small tensors (one pass) get the same pairs and placements. In Chromium the large cases are thinned.
import { beforeAll, describe, expect, it } from 'vitest';
import { ready, tensor, type Tensor } from '../../src/index.js';
import { makeRng, type Rng } from '../support/rng.js';
import { attempt, describeError, diffBits, IN_BROWSER, isNormkitError, Victim } from './harness.js';
import { adaINCase, call, channelCase, isOutput, NORMKIT, rowsCase, type ArgSpec, type Args, type Case } from './table.js';

const PASS = 131072; // copy mode's pass, in floats (512 KiB)

beforeAll(ready);

const BIG: Case[] = [
  rowsCase('layerNorm', [263, 1031]), // 271,153: 127 rows a pass, 3 passes
  rowsCase('rmsNorm', [131, 2053]), // 268,943: 63 rows a pass, 3 passes
  channelCase('batchNorm', 'NCHW', [4, 13, 97, 61]), // 307,684: one sample a pass
  channelCase('batchNormTraining', 'NHWC', [3, 61, 83, 15], { momentum: 0.3 }), // 227,835
  channelCase('instanceNorm', 'NHWC', [4, 71, 53, 17]), // 255,884: two samples a pass
  channelCase('groupNorm', 'NCHW', [4, 24, 41, 67], { numGroups: 6 }), // 263,712: one sample a pass
  adaINCase('NCHW', [4, 11, 83, 79], [4, 11, 29, 31]), // 288,508 with a per-sample style of 39,556
  adaINCase('NHWC', [3, 83, 79, 11], [1, 29, 31, 11]), // 216,381 with a broadcast style
];

const SMALL: Case[] = [
  rowsCase('layerNorm', [7, 33]),
  rowsCase('layerNorm', [3, 4, 5], 1),
  rowsCase('rmsNorm', [5, 19]),
  channelCase('batchNorm', 'NHWC', [3, 5, 7, 4]),
  channelCase('batchNormTraining', 'NCHW', [3, 4, 5, 7], { momentum: 0.3 }),
  channelCase('instanceNorm', 'NCHW', [2, 3, 5, 7]),
  channelCase('groupNorm', 'NHWC', [2, 5, 7, 6], { numGroups: 2 }),
  adaINCase('NCHW', [2, 3, 5, 7], [2, 3, 4, 6]),
];

/** One value pool for every buffer: positive (runningVar means what it says) and varied. */
const poolRng = makeRng(0x0dd5);
const POOL = Float32Array.from({ length: 1 << 21 }, () => poolRng.uniform(0.25, 3));
function fillFromPool(rng: Rng, a: Float32Array): void {
  for (let at = 0; at < a.length; ) {
    const start = rng.int(0, POOL.length - 1);
    const n = Math.min(a.length - at, POOL.length - start);
    a.set(POOL.subarray(start, start + n), at);
    at += n;
  }
}
function fresh(rng: Rng, length: number): Float32Array {
  const a = new Float32Array(length);
  fillFromPool(rng, a);
  return a;
}

interface Placement {
  label: string;
  /** Offset of q's first element minus p's, in elements; every placement overlaps. */
  delta: number;
}

/**
 * How many placements: every one (small tensors), the essential ones (large), fewer in a browser (and for the
 * large Tensor-and-view cases everywhere).
 */
type Thoroughness = 'all' | 'large' | 'browser';
const ESSENTIAL: Record<Thoroughness, string[] | undefined> = {
  all: undefined,
  large: ['same offset', 'shifted +1', 'shifted -1', 'inside, across the pass boundary', 'around, across the pass boundary', 'one pass ahead', 'random'],
  browser: ['same offset', 'shifted +1', 'shifted -1', 'inside, across the pass boundary', 'around, across the pass boundary'],
};

/** Where q goes relative to p (both overlap): the same offset, ±1, inside each other, a pass apart, random. */
function placements(rng: Rng, lp: number, lq: number, level: Thoroughness): Placement[] {
  const list: Placement[] = [
    { label: 'same offset', delta: 0 },
    { label: 'shifted +1', delta: 1 },
    { label: 'shifted -1', delta: -1 },
  ];
  const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));
  if (lq < lp) {
    list.push({ label: 'inside, across the pass boundary', delta: clamp(PASS - (lq >> 1), 1, lp - lq) });
    list.push({ label: 'inside, at the end', delta: lp - lq });
  } else if (lp < lq) {
    list.push({ label: 'around, across the pass boundary', delta: -clamp(PASS - (lp >> 1), 1, lq - lp) });
    list.push({ label: 'around, at the end', delta: -(lq - lp) });
  } else if (lp > PASS) {
    list.push({ label: 'one pass ahead', delta: PASS }, { label: 'one pass behind', delta: -PASS });
  }
  list.push({ label: 'half way', delta: lp >> 1 });
  list.push({ label: 'random', delta: rng.int(-(lq - 1), lp - 1) });
  const seen = new Set<number>();
  const keep = ESSENTIAL[level];
  return list.filter(
    (p) => p.delta > -lq && p.delta < lp && (!keep || keep.includes(p.label)) && !seen.has(p.delta) && (seen.add(p.delta), true),
  );
}

/** Every (output, input) and (output, output) pair of the case's array arguments. */
function pairs(c: Case): Array<[ArgSpec, ArgSpec]> {
  const out: Array<[ArgSpec, ArgSpec]> = [];
  c.args.forEach((p, i) => {
    if (!isOutput(p)) return;
    c.args.forEach((q, j) => {
      if (j === i || (isOutput(q) && j < i)) return;
      out.push([p, q]);
    });
  });
  return out;
}

/**
 * The arguments of one pair's test that are not in the pair: separate arrays, inputs shared by every call
 * (checked unchanged at the end), outputs twice (for the out-of-place baseline and for the call under
 * test), reset before each call (running statistics to their initial values).
 */
class Others {
  readonly inputs: Record<string, Float32Array> = {};
  readonly inputsBefore: Record<string, Float32Array> = {};
  readonly initial: Record<string, Float32Array> = {};
  readonly base: Record<string, Float32Array> = {};
  readonly test: Record<string, Float32Array> = {};
  constructor(rng: Rng, readonly c: Case, pair: ArgSpec[]) {
    for (const s of c.args) {
      if (pair.includes(s)) continue;
      if (s.role === 'in') {
        this.inputs[s.name] = fresh(rng, s.length);
        this.inputsBefore[s.name] = this.inputs[s.name].slice();
      } else {
        this.initial[s.name] = s.role === 'in-out' ? fresh(rng, s.length) : new Float32Array(s.length);
        this.base[s.name] = this.initial[s.name].slice();
        this.test[s.name] = this.initial[s.name].slice();
      }
    }
  }
  reset(): void {
    for (const [k, v] of Object.entries(this.initial)) {
      this.base[k].set(v);
      this.test[k].set(v);
    }
  }
  /** The out-of-place call: the pair's arguments are copies; returns the pair's copies after the call. */
  baseline(placed: Record<string, Float32Array>): Record<string, Float32Array> {
    const copies = Object.fromEntries(Object.entries(placed).map(([k, v]) => [k, v.slice()]));
    call(NORMKIT, this.c, { ...this.inputs, ...this.base, ...copies });
    return copies;
  }
  args(placed: Args): Args {
    return { ...this.inputs, ...this.test, ...placed };
  }
  /** Separate outputs as the baseline wrote them (or untouched when `refused`). */
  checkOutputs(problems: string[], where: string, refused: boolean): void {
    for (const [name, a] of Object.entries(this.test)) {
      const d = diffBits(a, refused ? this.initial[name] : this.base[name]);
      if (d.count) problems.push(`${where}: separate ${name}: ${d.count} elements differ from ${refused ? 'before the refused call' : 'the out-of-place call'}`);
    }
  }
  checkInputs(problems: string[]): void {
    for (const [name, a] of Object.entries(this.inputs)) {
      const d = diffBits(a, this.inputsBefore[name]);
      if (d.count) problems.push(`separate input ${name}: ${d.count} elements were written`);
    }
  }
}

/**
 * Runs the pair at `delta` inside `region` (plain memory or a view of a Tensor's memory): the pair are
 * views of `region` at offsets `offP` and `offP + delta`. Pushes what went wrong onto `problems`.
 */
interface Where {
  /** The memory holding the pair (read again after every call: a view of wasm memory may be replaced). */
  region: () => Float32Array;
  offP: number;
  /** The argument passed for `s` (default: the view itself); a Tensor for the Tensor-and-view cases. */
  argOf?: (s: ArgSpec, view: Float32Array) => unknown;
  /** An output and an input may also be refused with ALIASING (nothing written). */
  aliasingOk?: boolean;
}

function runPair(o: Others, p: ArgSpec, q: ArgSpec, delta: number, w: Where, problems: string[], where: string): void {
  const { region, offP } = w;
  const offQ = offP + delta;
  const view = (s: ArgSpec, off: number) => region().subarray(off, off + s.length);
  const placed = () => ({ [p.name]: view(p, offP), [q.name]: view(q, offQ) });
  const passed = () => (w.argOf ? { [p.name]: w.argOf(p, view(p, offP)), [q.name]: w.argOf(q, view(q, offQ)) } : placed());
  o.reset();
  const before = region().slice();
  const bothOutputs = isOutput(p) && isOutput(q);
  // The buffer after an out-of-place call: the inputs as they were, each output region as the baseline wrote it.
  const expected = bothOutputs ? before : before.slice();
  if (!bothOutputs) {
    const copies = o.baseline(placed());
    for (const [s, off] of [[p, offP], [q, offQ]] as const) if (isOutput(s)) expected.set(copies[s.name], off);
  }
  let r = attempt(() => call(NORMKIT, o.c, o.args(passed())));
  if (!r.ok && isNormkitError(r.error, 'INVALID_TENSOR')) {
    // A view of wasm memory went stale because the call grew the memory: refused before anything was written.
    if (diffBits(region(), before).count) problems.push(`${where}: INVALID_TENSOR after writing into the buffer`);
    o.checkOutputs(problems, where, true);
    o.reset();
    r = attempt(() => call(NORMKIT, o.c, o.args(passed())));
  }
  if (bothOutputs) {
    if (r.ok) problems.push(`${where}: overlapping outputs were accepted (expected ALIASING)`);
    else if (!isNormkitError(r.error, 'ALIASING')) problems.push(`${where}: threw ${describeError(r.error)} (expected ALIASING)`);
    const d = diffBits(region(), before);
    if (d.count) problems.push(`${where}: refused but ${d.count} elements of the buffer were written`);
    o.checkOutputs(problems, where, true);
    return;
  }
  if (!r.ok && w.aliasingOk && isNormkitError(r.error, 'ALIASING')) {
    const d = diffBits(region(), before);
    if (d.count) problems.push(`${where}: ALIASING, but ${d.count} elements of the memory were written`);
    o.checkOutputs(problems, where, true);
    return;
  }
  if (!r.ok) {
    problems.push(`${where}: threw ${describeError(r.error)}${w.aliasingOk ? '' : ' (plain arrays may overlap in any way)'}`);
    return;
  }
  const d = diffBits(region(), expected);
  if (d.count) {
    const f = d.first;
    // Name the element by the output that holds it (both may).
    const [first, second] = isOutput(p) ? [[p, offP], [q, offQ]] as const : [[q, offQ], [p, offP]] as const;
    const inside = ([s, off]: readonly [ArgSpec, number]) => f >= off && f < off + s.length;
    const which = inside(first) ? `${first[0].name}[${f - first[1]}]` : inside(second) ? `${second[0].name}[${f - second[1]}]` : `neighbouring memory [${f}]`;
    problems.push(
      `${where}: ${d.count} elements of the shared buffer differ from an out-of-place call; first at ${which}: ` +
        `${region()[d.first]} instead of ${expected[d.first]}`,
    );
  }
  o.checkOutputs(problems, where, false);
}

const rng = makeRng(0x16a1);

function pairTests(cases: Case[], big: boolean): void {
  for (const c of cases) {
    describe(c.name, () => {
      for (const [p, q] of pairs(c)) {
        const kind = isOutput(q) ? 'outputs' : 'output and input';
        it(`${p.name} and ${q.name} (${kind}), plain arrays${big ? '' : ', and views of one Tensor'}`, () => {
          const problems: string[] = [];
          const o = new Others(rng, c, [p, q]);
          for (const pl of placements(rng, p.length, q.length, big ? (IN_BROWSER ? 'browser' : 'large') : 'all')) {
            const offP = 5 + Math.max(0, -pl.delta);
            const total = Math.max(offP + p.length, offP + pl.delta + q.length) + 7;
            const buf = fresh(rng, total);
            runPair(o, p, q, pl.delta, { region: () => buf, offP }, problems, `${pl.label} (${q.name} at ${p.name} + ${pl.delta})`);
            if (!big) {
              // The same inside one Tensor's memory, passed as plain views (Tensor.array subarrays).
              const arena = tensor(buf);
              try {
                runPair(o, p, q, pl.delta, { region: () => arena.array, offP }, problems, `Tensor views, ${pl.label}`);
              } finally {
                arena.free();
              }
            }
          }
          o.checkInputs(problems);
          expect(problems, problems.join('\n')).toEqual([]);
        });
      }
    });
  }
}

describe('overlapping plain arrays, tensors of 200k to 300k floats (several copy-mode passes)', () => pairTests(BIG, true));
describe('overlapping plain arrays, small tensors (one pass)', () => pairTests(SMALL, false));

// ---- a Tensor argument and a plain view of its memory ----------------------------------------------------

const ALIGN = 16; // floats: the allocator's 64-byte blocks
const roundUp = (n: number) => Math.ceil(n / ALIGN) * ALIGN;
const SLACK = 256; // floats of alignment padding tolerated between neighbours

/**
 * Allocates `pre`, `t` and `post` next to each other (pads of `pad` floats, at most alignment padding
 * between them), so that a plain view may start before `t` or run past its end and still lie in memory the
 * test owns.
 */
function neighbours(length: number, pad: number): { pre: Tensor; t: Tensor; post: Tensor } {
  const discarded: Tensor[] = [];
  try {
    for (let tries = 0; tries < 8; tries++) {
      const pre = tensor(roundUp(pad)), t = tensor(length), post = tensor(roundUp(pad));
      const at = (x: Tensor) => x.array.byteOffset / 4;
      const gap1 = at(t) - (at(pre) + pre.length), gap2 = at(post) - (at(t) + length);
      if (gap1 >= 0 && gap1 < SLACK && gap2 >= 0 && gap2 < SLACK) return { pre, t, post };
      discarded.push(pre, t, post);
    }
  } finally {
    for (const d of discarded) d.free();
  }
  throw new Error('test setup: could not allocate three neighbouring Tensors');
}

function tensorViewTests(cases: Case[], big: boolean): void {
  for (const c of cases) {
    describe(c.name, () => {
      for (const [p, q] of pairs(c)) {
        for (const [tensorArg, viewArg] of [[p, q], [q, p]] as const) {
          it(`${tensorArg.name} a Tensor, ${viewArg.name} a plain view of its memory`, () => {
            const problems: string[] = [];
            const o = new Others(rng, c, [p, q]);
            for (const pl of placements(rng, tensorArg.length, viewArg.length, big ? 'browser' : 'all')) {
              const { pre, t, post } = neighbours(tensorArg.length, viewArg.length + 64);
              const victim = new Victim(256);
              const where = `${pl.label} (${viewArg.name} at ${tensorArg.name} + ${pl.delta})`;
              try {
                for (const a of [pre, t, post]) a.array.set(fresh(rng, a.length));
                const start = pre.array.byteOffset / 4;
                const end = post.array.byteOffset / 4 + post.length;
                const region = () => new Float32Array(t.array.buffer, start * 4, end - start);
                runPair(o, tensorArg, viewArg, pl.delta, {
                  region, offP: t.array.byteOffset / 4 - start, aliasingOk: true, argOf: (s, v) => (s === tensorArg ? t : v),
                }, problems, where);
                if (victim.changed()) problems.push(`${where}: ${victim.changed()} elements of a victim Tensor allocated after the call's tensors were written`);
              } finally {
                victim.free();
                for (const a of [pre, t, post]) a.free();
              }
            }
            o.checkInputs(problems);
            expect(problems, problems.join('\n')).toEqual([]);
          });
        }
      }
    });
  }
}

describe('a Tensor argument and a plain view of Tensor memory overlapping it (large)', () => tensorViewTests(BIG, true));
describe('a Tensor argument and a plain view of Tensor memory overlapping it (small)', () => tensorViewTests(SMALL, false));
