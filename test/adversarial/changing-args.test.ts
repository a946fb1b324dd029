// Issue 16, defect 2: arguments that change between reads. Every argument must be read once into a plain
// value, validated, and only that value used: a call whose shape, styleShape, numGroups or options return
// something else on a second read must either throw a NormkitError (before anything is written) or give
// exactly what a call with the first-read values gives. A raw engine error (RuntimeError: memory access out
// of bounds) is a failure, and so is any write into a victim Tensor allocated after the call's own tensors
// or into an array the call only saw on a later read.
//
// Covered: getters on each shape (and styleShape) element; a Proxy over the shape whose elements or length
// change; option getters (eps, axis, layout, momentum, training, unbiasedRunningVar, and every array option:
// weight, bias, residual, sumOut, out, mean, invStd, runningMean, runningVar) whose later reads return
// invalid, different or larger values; an options Proxy; numGroups as an object whose valueOf changes.
// Each with x and out as Tensors (zero-copy: a stray write lands in wasm memory) and as plain arrays.
import { beforeAll, describe, expect, it } from 'vitest';
import * as normkit from '../../src/index.js';
import { NormkitError, ready, tensor, type Tensor } from '../../src/index.js';
import { makeRng } from '../support/rng.js';
import { attempt, describeError, diffBits, Victim } from './harness.js';
import { OPS, REGISTRY } from '../support/registry.js';
import { adaINCase, call, channelCase, NORMKIT, rowsCase, type Case } from './table.js';

beforeAll(ready);

const CASES: Case[] = [
  rowsCase('layerNorm', [2, 4, 3]),
  rowsCase('layerNorm', [2, 4, 3], 1),
  rowsCase('rmsNorm', [2, 4, 3]),
  channelCase('batchNorm', 'NCHW', [2, 4, 3]),
  channelCase('batchNormTraining', 'NHWC', [2, 3, 4], { momentum: 0.25 }),
  channelCase('instanceNorm', 'NCHW', [2, 4, 3]),
  channelCase('groupNorm', 'NHWC', [2, 3, 4], { numGroups: 2 }),
  adaINCase('NCHW', [2, 4, 3], [2, 4, 5]),
  // Without weight, bias, mean or running statistics no other length check stands between a changed shape and the kernel.
  rowsCase('layerNorm', [2, 4, 3], -1, false),
  rowsCase('rmsNorm', [2, 4, 3], 1, false),
  channelCase('batchNormTraining', 'NCHW', [2, 4, 3], { affine: false, running: false }),
  channelCase('instanceNorm', 'NHWC', [2, 3, 4], { affine: false }),
  channelCase('groupNorm', 'NCHW', [2, 4, 3], { numGroups: 2, affine: false }),
];

/** Option keys each op reads: the registry's scalar options and its array arguments that are options. */
const OPTION_KEYS = Object.fromEntries(
  OPS.map((id) => [id, [...REGISTRY[id].scalars, ...REGISTRY[id].args.filter((a) => !a.positional).map((a) => a.name)]]),
) as Record<Case['op'], string[]>;
const ARRAY_KEYS = new Set<string>(OPS.flatMap((id) => REGISTRY[id].args.map((a) => a.name)));

/** The positional arguments a call passes, captured instead of run. */
function argvOf(c: Case, a: Record<string, unknown>): { name: string; argv: unknown[] } {
  let captured: { name: string; argv: unknown[] } | undefined;
  const capture = new Proxy({}, {
    get: (_t, name) => (...argv: unknown[]) => {
      captured = { name: String(name), argv };
      return new Float32Array(0);
    },
  });
  call(capture as never, c, a);
  return captured!;
}

/** A value that reads as `first` once and then as each of `later` in turn (the last one repeated). */
function sequence(first: unknown, later: unknown[]): () => unknown {
  let reads = 0;
  return () => (reads++ === 0 ? first : later[Math.min(reads - 2, later.length - 1)]);
}

interface World {
  /** The call's arguments as the table passes them (x and out as Tensors or plain arrays). */
  args: Record<string, unknown>;
  /** Plain copies of every array argument's initial contents. */
  initial: Record<string, Float32Array>;
  /** Decoys a later read may return: written by nobody. */
  decoys: { small: Float32Array; large: Float32Array; tensor: Tensor };
  victim: Victim;
  free(): void;
}

const rng = makeRng(0xc4a9);

function world(c: Case, tensors: boolean): World {
  const initial: Record<string, Float32Array> = {};
  for (const s of c.args) {
    initial[s.name] = Float32Array.from({ length: s.length }, () => (s.role === 'out' ? 0 : s.positive ? rng.uniform(0.5, 2) : rng.uniform(-2, 3)));
  }
  const owned: Tensor[] = [];
  const args: Record<string, unknown> = {};
  for (const s of c.args) {
    if (tensors && (s.name === 'x' || s.name === 'out')) {
      const t = tensor(initial[s.name]);
      owned.push(t);
      args[s.name] = t;
    } else {
      args[s.name] = initial[s.name].slice();
    }
  }
  const decoys = { small: new Float32Array(1).fill(7), large: new Float32Array(1000).fill(7), tensor: tensor(new Float32Array(1).fill(7)) };
  const victim = new Victim(4096);
  return {
    args, initial, decoys, victim,
    free() {
      for (const t of owned) t.free();
      decoys.tensor.free();
      victim.free();
    },
  };
}

const contents = (a: unknown): Float32Array => (a instanceof Float32Array ? a : (a as Tensor).array);

/** What every output holds after a clean call with the first-read values. */
function expectedOutputs(c: Case, w: World): { outputs: Record<string, Float32Array>; error?: unknown } {
  const copies: Record<string, Float32Array> = {};
  for (const s of c.args) copies[s.name] = w.initial[s.name].slice();
  const r = attempt(() => call(NORMKIT, c, copies));
  const outputs: Record<string, Float32Array> = {};
  for (const s of c.args) if (s.role !== 'in') outputs[s.name] = copies[s.name];
  return { outputs, error: r.ok ? undefined : r.error };
}

/**
 * Runs the op with `argv` (already tampered with) and checks the contract; returns the problems found.
 * `clean` is the outcome of the same call with the first-read values.
 */
function check(c: Case, w: World, name: string, argv: unknown[], label: string): string[] {
  const problems: string[] = [];
  const clean = expectedOutputs(c, w);
  const r = attempt(() => (normkit as unknown as Record<string, (...a: unknown[]) => unknown>)[name](...argv));
  if (!r.ok) {
    if (!(r.error instanceof NormkitError)) problems.push(`${label}: threw ${describeError(r.error)}, not a NormkitError`);
    for (const s of c.args) {
      if (s.role === 'in') continue;
      const d = diffBits(contents(w.args[s.name]), w.initial[s.name]);
      if (d.count) problems.push(`${label}: threw ${describeError(r.error)} after writing ${d.count} elements of ${s.name}`);
    }
  } else {
    if (clean.error) problems.push(`${label}: returned, but the first-read values throw ${describeError(clean.error)}`);
    for (const s of c.args) {
      const want = s.role === 'in' ? w.initial[s.name] : clean.outputs[s.name];
      const d = diffBits(contents(w.args[s.name]), want);
      if (d.count) {
        problems.push(
          `${label}: ${s.name}: ${d.count} of ${want.length} elements differ from a call with the first-read values` +
            (s.role === 'in' ? ' (an input was written)' : ''),
        );
      }
    }
    if (r.value !== contents(w.args.out)) problems.push(`${label}: did not return out`);
  }
  const victim = w.victim.changed();
  if (victim) problems.push(`${label}: ${victim} elements of a victim Tensor allocated after the call's tensors were overwritten`);
  for (const [k, d] of Object.entries(w.decoys)) {
    if (Array.from(contents(d)).some((v) => v !== 7)) problems.push(`${label}: the ${k} decoy array (returned only by a later read) was written`);
  }
  return problems;
}

/** Runs one tampering on fresh arguments (x/out as Tensors, then as plain arrays); returns the problems. */
function tamper(c: Case, label: string, change: (argv: unknown[], w: World) => void): string[] {
  const problems: string[] = [];
  for (const tensors of [true, false]) {
    const w = world(c, tensors);
    try {
      const { name, argv } = argvOf(c, w.args);
      change(argv, w);
      problems.push(...check(c, w, name, argv, `${label}${tensors ? ' (Tensor x, out)' : ' (plain x, out)'}`));
    } finally {
      w.free();
    }
  }
  return problems;
}

/** A copy of `shape` whose element i reads as its value once and then as each of `later`. */
function shapeWithGetter(shape: number[], i: number, later: unknown[]): number[] {
  const s = shape.slice();
  Object.defineProperty(s, i, { get: sequence(shape[i], later), enumerable: true, configurable: true });
  return s;
}

const SHAPE_LATER: unknown[][] = [[40], [3000], [1], [0], [-1], [NaN], [2 ** 31], [40, 3]];
const OPTION_LATER: Record<string, (w: World, first: unknown) => unknown[][]> = {
  eps: () => [[-1], [NaN], [1e30], [0.5], ['1e-5']],
  axis: () => [[0], [1], [2], [7], [-9], [0.5]],
  layout: (_w, first) => [[first === 'NHWC' ? 'NCHW' : 'NHWC'], ['NCWH']],
  momentum: () => [[2], [NaN], [1], [0]],
  training: (_w, first) => [[!first], ['yes']],
  unbiasedRunningVar: (_w, first) => [[!(first ?? true)], [0]],
  array: (w) => [[w.decoys.small], [w.decoys.large], [w.decoys.tensor], [undefined], [null]],
  /** A scalar option this table does not know yet (added to the registry later). */
  other: () => [[undefined], [null], ['bogus'], [-1]],
};
const kindOf = (key: string) => (ARRAY_KEYS.has(key) ? 'array' : key in OPTION_LATER ? key : 'other');

describe.each(CASES.map((c) => [c.name, c] as const))('%s', (_n, c) => {
  const shapeIndex = 1;

  it('shape elements that change after the first read', () => {
    const problems: string[] = [];
    const shape = c.scalars.shape;
    for (let i = 0; i < shape.length; i++) {
      for (const later of SHAPE_LATER) {
        problems.push(...tamper(c, `shape[${i}] = ${shape[i]}, then ${later.join(', ')}`, (argv) => {
          argv[shapeIndex] = shapeWithGetter(shape, i, later);
        }));
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });

  if (c.op === 'adaIN') {
    it('styleShape elements that change after the first read', () => {
      const problems: string[] = [];
      const styleShape = c.scalars.styleShape!;
      for (let i = 0; i < styleShape.length; i++) {
        for (const later of SHAPE_LATER) {
          problems.push(...tamper(c, `styleShape[${i}] = ${styleShape[i]}, then ${later.join(', ')}`, (argv) => {
            argv[3] = shapeWithGetter(styleShape, i, later);
          }));
        }
      }
      expect(problems, problems.join('\n')).toEqual([]);
    });
  }

  it('a Proxy over the shape whose elements or length change', () => {
    const problems: string[] = [];
    const shape = c.scalars.shape;
    const proxy = (elementLater: number | undefined, lengthLater: number | undefined) => {
      const reads = new Map<PropertyKey, number>();
      return new Proxy(shape.slice(), {
        get(target, key, receiver) {
          const n = reads.get(key) ?? 0;
          reads.set(key, n + 1);
          if (key === 'length' && n > 0 && lengthLater !== undefined) return lengthLater;
          if (typeof key === 'string' && /^\d+$/.test(key)) {
            const i = Number(key);
            if (i >= shape.length) return 5; // an element beyond the first-read length
            if (n > 0 && elementLater !== undefined) return elementLater;
          }
          return Reflect.get(target, key, receiver);
        },
      });
    };
    for (const [elementLater, lengthLater] of [[40, undefined], [3000, undefined], [1, undefined], [undefined, shape.length + 1], [undefined, shape.length - 1], [undefined, 0], [40, shape.length + 1]] as const) {
      problems.push(...tamper(c, `Proxy shape: elements later ${elementLater}, length later ${lengthLater}`, (argv) => {
        argv[shapeIndex] = proxy(elementLater, lengthLater);
      }));
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('options whose getters return other values after the first read', () => {
    const problems: string[] = [];
    for (const key of OPTION_KEYS[c.op]) {
      const kind = kindOf(key);
      const probe = world(c, false);
      const laters = OPTION_LATER[kind](probe, (argvOf(c, probe.args).argv.at(-1) as Record<string, unknown>)[key]);
      probe.free();
      for (const later of laters) {
        for (const tensors of [true, false]) {
          const w = world(c, tensors);
          try {
            const { name, argv } = argvOf(c, w.args);
            const options = { ...(argv.at(-1) as Record<string, unknown>) };
            const first = options[key];
            const values = OPTION_LATER[kind](w, first)[laters.indexOf(later)];
            Object.defineProperty(options, key, { get: sequence(first, values), enumerable: true, configurable: true });
            argv[argv.length - 1] = options;
            const shown = values.map((v) => (v instanceof Float32Array ? `Float32Array(${v.length})` : v === w.decoys.tensor ? 'Tensor(1)' : String(v)));
            problems.push(...check(c, w, name, argv, `${key}: ${first === undefined ? 'absent' : 'given'}, then ${shown.join(', ')}${tensors ? ' (Tensor x, out)' : ''}`));
          } finally {
            w.free();
          }
        }
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('an options Proxy that answers every key differently after the first read', () => {
    const problems: string[] = [];
    for (const tensors of [true, false]) {
      const w = world(c, tensors);
      try {
        const { name, argv } = argvOf(c, w.args);
        const options = argv.at(-1) as Record<string, unknown>;
        const reads = new Map<PropertyKey, number>();
        const decoyFor = (key: string): unknown =>
          ARRAY_KEYS.has(key) ? w.decoys.large : { eps: 1e30, axis: 0, layout: 'NHWC', momentum: 1, training: !options.training, unbiasedRunningVar: false }[key];
        argv[argv.length - 1] = new Proxy(options, {
          get(target, key, receiver) {
            const n = reads.get(key) ?? 0;
            reads.set(key, n + 1);
            if (n > 0 && typeof key === 'string' && OPTION_KEYS[c.op].includes(key)) return decoyFor(key);
            return Reflect.get(target, key, receiver);
          },
        });
        problems.push(...check(c, w, name, argv, `options Proxy${tensors ? ' (Tensor x, out)' : ''}`));
      } finally {
        w.free();
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });

  if (c.op === 'groupNorm') {
    it('numGroups as an object whose valueOf changes: refused (numGroups is a number), never used twice', () => {
      const problems: string[] = [];
      const G = c.scalars.numGroups!;
      for (const later of [[1], [4], [3], [40], [0]]) {
        problems.push(...tamper(c, `numGroups valueOf ${G}, then ${later}`, (argv) => {
          argv[2] = { valueOf: sequence(G, later) };
        }));
      }
      expect(problems, problems.join('\n')).toEqual([]);
    });
  }
});

describe('the issue\'s reproduction, on every op: a shape element read as 3, then 40', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const last = c.scalars.shape.length - 1;
    const problems = tamper(c, `shape[${last}] 3 then 40`, (argv) => {
      argv[1] = shapeWithGetter(c.scalars.shape, last, [40]);
    });
    expect(problems, problems.join('\n')).toEqual([]);
  });
});

// Getters with side effects, read at any point of the call: a nested normkit call (which reuses the scratch
// block), freeing a Tensor argument and handing its memory to a new Tensor, growing wasm memory under a plain
// view of it. The call must still give the result of its first-read values, or throw a NormkitError; it must
// never write into the Tensor that took over freed memory.
describe('option getters with side effects', () => {
  const nested = { x: Float32Array.from({ length: 64 * 1031 }, (_, i) => Math.sin(i)), shape: [64, 1031] };
  const nestedCall = () => normkit.layerNorm(nested.x, nested.shape, { residual: nested.x, sumOut: new Float32Array(nested.x.length) });

  it.each(CASES.map((c) => [c.name, c] as const))('%s: every option\'s getter makes a nested normkit call on each read', (_n, c) => {
    const problems: string[] = [];
    for (const key of OPTION_KEYS[c.op]) {
      problems.push(...tamper(c, `${key} getter with a nested call`, (argv) => {
        const options = { ...(argv.at(-1) as Record<string, unknown>) };
        const value = options[key];
        Object.defineProperty(options, key, { get: () => (nestedCall(), value), enumerable: true, configurable: true });
        argv[argv.length - 1] = options;
      }));
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s: a getter frees the x or out Tensor and a new Tensor takes its memory', (_n, c) => {
    const problems: string[] = [];
    for (const key of OPTION_KEYS[c.op]) {
      for (const victimOf of ['x', 'out'] as const) {
        const w = world(c, true);
        let taker: Tensor | undefined;
        try {
          const { name, argv } = argvOf(c, w.args);
          const options = { ...(argv.at(-1) as Record<string, unknown>) };
          const value = options[key];
          const freed = w.args[victimOf] as Tensor;
          const length = freed.length;
          Object.defineProperty(options, key, {
            get: () => {
              if (!taker) {
                freed.free();
                taker = tensor(Float32Array.from({ length }, (_, i) => 1000 + i));
              }
              return value;
            },
            enumerable: true, configurable: true,
          });
          argv[argv.length - 1] = options;
          const clean = expectedOutputs(c, w);
          const label = `${key} getter frees ${victimOf}`;
          const r = attempt(() => (normkit as unknown as Record<string, (...a: unknown[]) => unknown>)[name](...argv));
          if (!r.ok && !(r.error instanceof NormkitError)) problems.push(`${label}: threw ${describeError(r.error)}, not a NormkitError`);
          if (taker && Array.from(taker.array).some((v, i) => v !== 1000 + i)) problems.push(`${label}: wrote into the Tensor that took over the freed memory`);
          if (r.ok && victimOf === 'x' && w.args.out instanceof normkit.Tensor && !w.args.out.freed) {
            const d = diffBits(w.args.out.array, clean.outputs.out);
            if (d.count) problems.push(`${label}: returned, with ${d.count} elements of out unlike the first-read values`);
          }
          if (w.victim.changed()) problems.push(`${label}: ${w.victim.changed()} elements of a victim Tensor were overwritten`);
        } finally {
          taker?.free();
          w.free();
        }
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });

  // Every growth adds at least half the memory, and memory never shrinks: one growth per op (its out getter).
  const firstOfEachOp = CASES.filter((c, i) => CASES.findIndex((d) => d.op === c.op) === i);
  it.each(firstOfEachOp.map((c) => [c.name, c] as const))('%s: the out getter grows wasm memory while x and out are plain views of it', (_n, c) => {
    const problems: string[] = [];
    for (const key of ['out']) {
      const w = world(c, true);
      let big: Tensor | undefined;
      try {
        const tx = w.args.x as Tensor, tout = w.args.out as Tensor;
        const { name, argv } = argvOf(c, { ...w.args, x: tx.array, out: tout.array });
        const options = { ...(argv.at(-1) as Record<string, unknown>) };
        const value = options[key];
        Object.defineProperty(options, key, {
          get: () => {
            if (!big) {
              const { memoryBytes, allocatedBytes } = normkit.memoryStats();
              big = tensor((memoryBytes - allocatedBytes) / 4 + 16); // more than is free: memory must grow
            }
            return value;
          },
          enumerable: true, configurable: true,
        });
        argv[argv.length - 1] = options;
        const clean = expectedOutputs(c, w);
        const label = `${key} getter grows memory`;
        const xView = argv[0] as Float32Array;
        const r = attempt(() => (normkit as unknown as Record<string, (...a: unknown[]) => unknown>)[name](...argv));
        // Growth detaches views of an unshared memory; a shared one's stay attached (and valid).
        if (!big || (!normkit.memoryStats().shared && xView.length !== 0)) problems.push(`${label}: test setup: the getter was not read or memory did not grow`);
        if (!r.ok && !(r.error instanceof NormkitError)) problems.push(`${label}: threw ${describeError(r.error)}, not a NormkitError`);
        if (r.ok) {
          const d = diffBits(tout.array, clean.outputs.out);
          if (d.count) problems.push(`${label}: returned, with ${d.count} elements of out unlike the first-read values`);
        } else {
          const d = diffBits(tout.array, w.initial.out);
          if (d.count) problems.push(`${label}: threw ${describeError(r.error)} after writing ${d.count} elements of out`);
        }
        if (w.victim.changed()) problems.push(`${label}: ${w.victim.changed()} elements of a victim Tensor were overwritten`);
      } finally {
        big?.free();
        w.free();
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });
});
