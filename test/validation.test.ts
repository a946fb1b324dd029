/// <reference types="vite/client" />
// The validation matrix (issue 5): for every op and argument, each misuse gets its NormkitError code, the
// message names the argument, nothing is written (the caller's arrays and all of wasm memory are unchanged),
// and the next valid call still matches the float64 reference. The row ids are the ones of the matrix in
// docs/errors.md: the last test checks that the two lists agree. Runs in Node and in Chromium.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  adaIN, batchNorm, groupNorm, instanceNorm, layerNorm, memoryStats, NormkitError, ready, rmsNorm, tensor,
  type NormkitErrorCode, type Tensor,
} from '../src/index.js';
import { assertClose } from './support/compare.js';
import { refOps } from './support/ops.js';
import { invokeOp, type Op } from './support/invoke.js';
import { makeRng } from './support/rng.js';
import { cloneCall, OPS, opsWhere, opsWith, REGISTRY, type Call as RegistryCall } from './support/registry.js';
import { randn } from './support/tensors.js';

// The rows' op lists, from the op registry: a new op is covered by every row whose arguments it takes.
const ALL: Op[] = [...OPS];
const WITH_WEIGHT: Op[] = opsWith('weight');
const AFFINE: Op[] = opsWith('bias');
const WITH_AXIS: Op[] = opsWhere((e) => e.scalars.includes('axis'));
const WITH_LAYOUT: Op[] = opsWhere((e) => e.scalars.includes('layout'));
const WITH_RESIDUAL: Op[] = opsWith('residual');
const WITH_SUM: Op[] = opsWith('sumOut');
const WITH_STATS: Op[] = opsWith('mean');
const RUNNING: Op[] = opsWith('runningMean');
const RUNNING_REQUIRED: Op[] = opsWhere((e) => e.args.some((a) => a.name === 'runningMean' && a.required));
const RUNNING_UPDATED: Op[] = opsWith('runningMean', 'in-out');
const WITH_MOMENTUM: Op[] = opsWhere((e) => e.scalars.includes('momentum'));
const WITH_FLAGS: Op[] = opsWhere((e) => e.scalars.includes('training'));
const NEEDS_TWO: Op[] = opsWhere((e) => e.refuses({ x: new Float32Array(3), shape: [1, 3], options: {} }) === 'BATCH_TOO_SMALL');
const WITH_GROUPS: Op[] = opsWhere((e) => e.numGroups);
const WITH_STYLE: Op[] = opsWith('style');

/** One call's arguments, loosely typed so that a case can put anything anywhere. */
interface Call {
  x: unknown;
  shape: unknown;
  options: Record<string, unknown>;
  /** Replaces `options` entirely when set (for the wrong-type cases). */
  rawOptions?: { value: unknown };
  numGroups?: unknown;
  style?: unknown;
  styleShape?: unknown;
}

/** A valid call of `op` with plain Float32Arrays (deterministic for a given seed): the registry's example. */
function validCall(op: Op, seed = 1): Call {
  return REGISTRY[op].example(seed);
}

function invoke(op: Op, c: Call): Float32Array {
  return invokeOp(op, c, c.rawOptions ? c.rawOptions.value : c.options);
}

/** The float64 reference of a valid plain-array call (running buffers and outputs are copied, not updated). */
function reference(op: Op, c: Call): ArrayLike<number> {
  return REGISTRY[op].reference(cloneCall(c as RegistryCall));
}

const freedTensor = (length: number): Tensor => {
  const t = tensor(length);
  t.free();
  return t;
};

/** Wrong-type values for a tensor argument of `n` elements. */
const notTensors = (n: number): Array<[string, unknown]> => [
  ['a plain number[]', Array.from({ length: n }, () => 0.5)],
  ['a Float64Array', new Float64Array(n)],
  ['an Int32Array', new Int32Array(n)],
  ['a DataView', new DataView(new ArrayBuffer(4 * n))],
  ['an ArrayBuffer', new ArrayBuffer(4 * n)],
  ['null', null],
  ['a number', n],
  ['a string', 'x'],
  ['an array-like object', { length: n }],
];

const xName = (op: Op) => REGISTRY[op].xName;
const shapeName = (op: Op) => REGISTRY[op].shapeName;

/** A misuse: changes a valid call (or makes its own thunk), and the argument its message must name. */
interface Misuse {
  label: string;
  name: string | ((op: Op) => string);
  apply?: (c: Call, op: Op) => void;
  /** A call of its own instead of a changed op call (tensor(), Tensor.set). */
  thunk?: () => unknown;
  /** Only these of the row's ops. */
  ops?: Op[];
}

interface Row {
  id: string;
  code: NormkitErrorCode;
  ops: Op[];
  misuses: Misuse[];
}

const opt = (key: string, value: unknown) => (c: Call) => {
  c.options = { ...c.options, [key]: value };
};
const without = (...keys: string[]) => (c: Call) => {
  const o = { ...c.options };
  for (const k of keys) delete o[k];
  c.options = o;
};
const each = <T,>(values: Array<[string, T]>, name: Misuse['name'], f: (v: T) => Misuse['apply']): Misuse[] =>
  values.map(([label, v]) => ({ label, name, apply: f(v) }));
const length = (c: Call) => (c.x as Float32Array).length;
/** C of the valid call of a channel op (its shape[1]). */
const channels = (c: Call) => (c.shape as number[])[1];

const MATRIX: Row[] = [
  {
    id: 'options-type', code: 'INVALID_OPTION', ops: ALL,
    misuses: each<unknown>(
      [['null', null], ['a number', 5], ['a string', 'eps'], ['an array', []], ['true', true], ['a function', () => 1]],
      'options', (v) => (c) => void (c.rawOptions = { value: v }),
    ),
  },
  {
    id: 'unknown-option', code: 'UNKNOWN_OPTION', ops: ALL,
    misuses: each<string>(
      [['a made-up key', 'foo'], ["PyTorch's gamma", 'gamma'], ["ONNX's epsilon", 'epsilon'],
        ["PyTorch's normalized_shape", 'normalized_shape']],
      'options', (key) => opt(key, 1),
    ),
  },
  {
    id: 'x-type', code: 'INVALID_TENSOR', ops: ALL,
    misuses: [
      ...notTensors(24).map(([label, v]): Misuse => ({ label, name: xName, apply: (c) => void (c.x = v) })),
      { label: 'undefined', name: xName, apply: (c) => void (c.x = undefined) },
    ],
  },
  {
    id: 'shape-type', code: 'INVALID_SHAPE', ops: ALL,
    misuses: each<unknown>(
      [['null', null], ['undefined', undefined], ['a number', 24], ['a string', '2,3,4'], ['an Int32Array', 'int32'], ['an array-like object', 'like']],
      shapeName,
      (v) => (c) => {
        const s = c.shape as number[];
        c.shape = v === 'int32' ? Int32Array.from(s) : v === 'like' ? { ...s, length: s.length } : v;
      },
    ),
  },
  {
    id: 'shape-dim', code: 'INVALID_SHAPE', ops: ALL,
    misuses: each<(s: number[]) => unknown[]>(
      [
        ['a negative dimension (product still matches)', (s) => [-s[0], -s[1], ...s.slice(2)]],
        ['a fractional dimension (product still matches)', (s) => [0.5, s[0] * s[1] * 2, ...s.slice(2)]],
        ['NaN', (s) => [NaN, ...s.slice(1)]],
        ['Infinity', (s) => [Infinity, ...s.slice(1)]],
        ['a numeric string', (s) => [String(s[0]), ...s.slice(1)]],
        ['null', (s) => [null, ...s.slice(1)]],
        ['a hole', (s) => [, ...s.slice(1)]], // eslint-disable-line no-sparse-arrays
        ['2^53', (s) => [2 ** 53, ...s.slice(1)]],
      ],
      shapeName, (f) => (c) => void (c.shape = f(c.shape as number[])),
    ),
  },
  {
    id: 'shape-product', code: 'LENGTH_MISMATCH', ops: ALL,
    misuses: each<(s: number[]) => number[]>(
      [
        ['one element too many', (s) => [s[0], s[1], s[2] + 1]],
        ['one element too few (x has 24 or 30)', (s) => [s[0], s[1], s[2] - 1]],
        ['an empty shape for a non-empty x', (s) => [0, ...s.slice(1)]],
        ['a product that overflows float64 precision', (s) => [2 ** 40, 2 ** 40, ...s.slice(2)]],
      ],
      xName, (f) => (c) => void (c.shape = f(c.shape as number[])),
    ),
  },
  {
    id: 'rank', code: 'RANK_TOO_LOW', ops: ALL,
    misuses: [
      {
        label: 'rank 0 (layerNorm, rmsNorm) or rank 1 (channel ops)', name: shapeName,
        apply: (c, op) => {
          if (REGISTRY[op].kind === 'rows') {
            c.x = new Float32Array(1);
            c.shape = [];
            c.options = {};
          } else {
            c.shape = [length(c)];
          }
        },
      },
      { label: 'rank 0 with an empty x', name: shapeName, apply: (c) => void (c.shape = []) },
    ],
  },
  {
    id: 'axis', code: 'INVALID_AXIS', ops: WITH_AXIS,
    misuses: each<unknown>(
      [['rank', 3], ['-rank - 1', -4], ['fractional', 1.5], ['NaN', NaN], ['Infinity', Infinity], ['a string', '1'],
        ['null', null], ['true', true], ['a bigint', 1n]],
      'axis', (v) => opt('axis', v),
    ),
  },
  {
    id: 'eps', code: 'INVALID_EPS', ops: ALL,
    misuses: each<unknown>(
      [['NaN', NaN], ['negative', -1e-5], ['the smallest negative number', -Number.MIN_VALUE], ['Infinity', Infinity],
        ['-Infinity', -Infinity], ['a string', '1e-5'], ['null', null], ['a bigint', 1n]],
      'eps', (v) => opt('eps', v),
    ),
  },
  {
    id: 'weight-type', code: 'INVALID_TENSOR', ops: WITH_WEIGHT,
    misuses: notTensors(5).map(([label, v]): Misuse => ({ label, name: 'weight', apply: opt('weight', v) })),
  },
  {
    id: 'weight-length', code: 'LENGTH_MISMATCH', ops: WITH_WEIGHT,
    misuses: [
      { label: 'one too long', name: 'weight', apply: (c) => opt('weight', new Float32Array((c.options.weight as Float32Array).length + 1))(c) },
      { label: 'one too short', name: 'weight', apply: (c) => opt('weight', new Float32Array((c.options.weight as Float32Array).length - 1))(c) },
      {
        label: 'sized for the last axis only when axis = 1 (layerNorm, rmsNorm), or for shape[1] under NHWC (channel ops)',
        name: 'weight',
        apply: (c, op) => {
          if (REGISTRY[op].kind === 'rows') opt('axis', 1)(c); // the group is then shape[1..] = 15 values
          else opt('layout', 'NHWC')(c); // C is now the last extent; weight is sized for shape[1]
        },
      },
    ],
  },
  {
    id: 'activation', code: 'INVALID_OPTION', ops: ALL,
    misuses: each<unknown>(
      [['an unknown name', 'swish'], ['another case', 'SiLU'], ['a number', 1], ['null', null], ['a function', Math.tanh]],
      'activation', (v) => opt('activation', v),
    ),
  },
  {
    id: 'weightShape-type', code: 'INVALID_SHAPE', ops: WITH_WEIGHT,
    misuses: each<unknown>(
      [['a number', 4], ['a string', '[4]'], ['null', null], ['a negative extent', [-1]], ['a fractional extent', [1.5]]],
      'weightShape', (v) => opt('weightShape', v),
    ),
  },
  {
    id: 'weightShape-broadcast', code: 'INVALID_BROADCAST', ops: WITH_WEIGHT,
    misuses: [
      {
        label: 'more axes than x',
        name: 'weightShape',
        apply: (c) => opt('weightShape', [...(c.shape as number[]).map(() => 1), (c.options.weight as Float32Array).length])(c),
      },
      {
        label: 'an extent that is neither x\'s nor 1',
        name: 'weightShape',
        apply: (c) => {
          const w = c.options.weight as Float32Array;
          opt('weight', new Float32Array(w.length * 7))(c);
          opt('weightShape', [7, w.length])(c);
        },
      },
    ],
  },
  {
    id: 'weightShape-length', code: 'LENGTH_MISMATCH', ops: WITH_WEIGHT,
    misuses: [
      { label: 'a shape whose product is not weight.length', name: 'weight', apply: (c) => opt('weightShape', [1])(c) },
    ],
  },
  {
    id: 'shape-option-alone', code: 'INVALID_OPTION', ops: WITH_WEIGHT,
    misuses: [
      { label: 'weightShape without weight', name: 'weightShape', apply: (c) => { without('weight')(c); opt('weightShape', [1])(c); } },
    ],
  },
  {
    id: 'bias-type', code: 'INVALID_TENSOR', ops: AFFINE,
    misuses: notTensors(5).map(([label, v]): Misuse => ({ label, name: 'bias', apply: opt('bias', v) })),
  },
  {
    id: 'bias-length', code: 'LENGTH_MISMATCH', ops: AFFINE,
    misuses: [
      { label: 'one too long', name: 'bias', apply: (c) => opt('bias', new Float32Array((c.options.bias as Float32Array).length + 1))(c) },
      { label: 'empty', name: 'bias', apply: opt('bias', new Float32Array(0)) },
    ],
  },
  {
    id: 'out-type', code: 'INVALID_TENSOR', ops: ALL,
    misuses: notTensors(24).map(([label, v]): Misuse => ({ label, name: 'out', apply: opt('out', v) })),
  },
  {
    id: 'out-length', code: 'LENGTH_MISMATCH', ops: ALL,
    misuses: [
      { label: 'one too long', name: 'out', apply: (c) => opt('out', new Float32Array(length(c) + 1))(c) },
      { label: 'a Tensor one too short', name: 'out', apply: (c) => opt('out', tensor(length(c) - 1))(c) },
      { label: 'empty', name: 'out', apply: opt('out', new Float32Array(0)) },
    ],
  },
  {
    id: 'freed', code: 'TENSOR_FREED', ops: ALL,
    misuses: [
      { label: 'x', name: xName, apply: (c) => void (c.x = freedTensor(length(c))) },
      { label: 'out', name: 'out', apply: (c) => opt('out', freedTensor(length(c)))(c) },
      { label: 'an empty freed Tensor as out of an empty x', name: 'out', apply: (c) => {
        c.x = new Float32Array(0);
        c.shape = [0, ...(c.shape as number[]).slice(1)];
        opt('out', freedTensor(0))(c);
      } },
    ],
  },
  {
    id: 'freed-option', code: 'TENSOR_FREED', ops: WITH_WEIGHT,
    misuses: [{ label: 'weight', name: 'weight', apply: (c) => opt('weight', freedTensor((c.options.weight as Float32Array).length))(c) }],
  },
  {
    id: 'residual-type', code: 'INVALID_TENSOR', ops: WITH_RESIDUAL,
    misuses: notTensors(30).map(([label, v]): Misuse => ({ label, name: 'residual', apply: opt('residual', v) })),
  },
  {
    id: 'residual-length', code: 'LENGTH_MISMATCH', ops: WITH_RESIDUAL,
    misuses: [
      { label: 'one too short', name: 'residual', apply: opt('residual', new Float32Array(29)) },
      { label: 'the length of one group', name: 'residual', apply: opt('residual', new Float32Array(5)) },
    ],
  },
  {
    id: 'sumOut-type', code: 'INVALID_TENSOR', ops: WITH_SUM,
    misuses: notTensors(30).map(([label, v]): Misuse => ({
      label, name: 'sumOut', apply: (c) => void (c.options = { ...c.options, residual: new Float32Array(30), sumOut: v }),
    })),
  },
  {
    id: 'sumOut-length', code: 'LENGTH_MISMATCH', ops: WITH_SUM,
    misuses: [{
      label: 'one too long', name: 'sumOut',
      apply: (c) => void (c.options = { ...c.options, residual: new Float32Array(30), sumOut: new Float32Array(31) }),
    }],
  },
  {
    id: 'sumOut-alone', code: 'INVALID_OPTION', ops: WITH_SUM,
    misuses: [{ label: 'sumOut without residual', name: 'sumOut', apply: opt('sumOut', new Float32Array(30)) }],
  },
  {
    id: 'stats-out-type', code: 'INVALID_TENSOR', ops: WITH_STATS,
    misuses: [
      ...notTensors(6).map(([label, v]): Misuse => ({ label: `mean: ${label}`, name: 'mean', apply: opt('mean', v) })),
      ...notTensors(6).map(([label, v]): Misuse => ({ label: `invStd: ${label}`, name: 'invStd', apply: opt('invStd', v) })),
    ],
  },
  {
    id: 'stats-out-length', code: 'LENGTH_MISMATCH', ops: WITH_STATS,
    misuses: [
      { label: 'mean: one per element instead of one per group', name: 'mean', apply: opt('mean', new Float32Array(30)) },
      { label: 'invStd: one too short', name: 'invStd', apply: opt('invStd', new Float32Array(5)) },
      { label: 'mean: 6 values, but axis = 1 makes 2 groups', name: 'mean', apply: (c) => void (c.options = { axis: 1, mean: new Float32Array(6) }) },
    ],
  },
  {
    id: 'layout', code: 'INVALID_LAYOUT', ops: WITH_LAYOUT,
    misuses: each<unknown>(
      [['lower case', 'nchw'], ['an unknown order', 'NCWH'], ['ONNX-style "NC"', 'NC'], ['empty', ''], ['null', null], ['a number', 0],
        ['an array', ['NCHW']]],
      'layout', (v) => opt('layout', v),
    ),
  },
  {
    id: 'running-missing', code: 'MISSING_RUNNING_STATS', ops: RUNNING_REQUIRED,
    misuses: [
      { label: 'no runningMean', name: 'runningMean', apply: without('runningMean') },
      { label: 'no runningVar', name: 'runningVar', apply: without('runningVar') },
      { label: 'neither (training defaults to false)', name: 'runningMean', apply: without('runningMean', 'runningVar') },
      { label: 'neither, training: false explicitly', name: 'runningMean', apply: (c) => { without('runningMean', 'runningVar')(c); opt('training', false)(c); } },
    ],
  },
  {
    id: 'running-one', code: 'INVALID_OPTION', ops: RUNNING_UPDATED,
    misuses: [
      { label: 'only runningMean', name: 'runningMean', apply: without('runningVar') },
      { label: 'only runningVar', name: 'runningMean', apply: without('runningMean') },
    ],
  },
  {
    id: 'running-type', code: 'INVALID_TENSOR', ops: RUNNING,
    misuses: [
      ...notTensors(3).map(([label, v]): Misuse => ({ label: `runningMean: ${label}`, name: 'runningMean', apply: opt('runningMean', v) })),
      ...notTensors(3).map(([label, v]): Misuse => ({ label: `runningVar: ${label}`, name: 'runningVar', apply: opt('runningVar', v) })),
    ],
  },
  {
    id: 'running-length', code: 'LENGTH_MISMATCH', ops: RUNNING,
    misuses: [
      { label: 'runningMean one too long', name: 'runningMean', apply: opt('runningMean', new Float32Array(4)) },
      { label: 'runningVar one per element', name: 'runningVar', apply: opt('runningVar', new Float32Array(24)) },
    ],
  },
  {
    id: 'momentum', code: 'INVALID_MOMENTUM', ops: WITH_MOMENTUM,
    misuses: each<unknown>(
      [['NaN', NaN], ['negative', -0.1], ['above 1', 1.0001], ['Infinity', Infinity], ['a string', '0.1'], ['null', null]],
      'momentum', (v) => opt('momentum', v),
    ),
  },
  {
    id: 'flags', code: 'INVALID_OPTION', ops: WITH_FLAGS,
    misuses: [
      ...each<unknown>([['a string', 'true'], ['a number', 1], ['null', null]], 'training', (v) => opt('training', v)),
      ...each<unknown>([['a number', 0], ['a string', 'no'], ['null', null]], 'unbiasedRunningVar', (v) => opt('unbiasedRunningVar', v)),
    ],
  },
  {
    id: 'dtype', code: 'INVALID_DTYPE', ops: ALL,
    misuses: each<unknown>([["'fp16'", 'fp16'], ["'float32'", 'float32'], ['a number', 16], ['null', null]], 'dtype', (v) => opt('dtype', v)),
  },
  {
    id: 'dtype-missing', code: 'INVALID_DTYPE', ops: ALL,
    misuses: [
      { label: 'x a Uint16Array without dtype', name: xName, apply: (c) => void (c.x = new Uint16Array(length(c))) },
      { label: 'out a Uint16Array without dtype', name: 'out', apply: (c) => opt('out', new Uint16Array(length(c)))(c) },
      {
        // A Float16Array polyfill (or one of another realm): an object that is not this runtime's own.
        label: 'x a Float16Array that is not the runtime\'s own', name: xName,
        apply: (c) => void (c.x = new (class Float16Array { length = 24; })()),
      },
    ],
  },
  {
    id: 'dtype-mismatch', code: 'DTYPE_MISMATCH', ops: ALL,
    misuses: [
      {
        label: "x a bfloat16 Tensor with dtype: 'float16'", name: xName,
        apply: (c) => {
          c.x = tensor(c.x as Float32Array, { dtype: 'bfloat16' });
          opt('dtype', 'float16')(c);
        },
      },
      {
        label: 'x a float16 Tensor and out a bfloat16 Tensor', name: 'out',
        apply: (c) => {
          c.x = tensor(c.x as Float32Array, { dtype: 'float16' });
          opt('out', tensor(length(c), { dtype: 'bfloat16' }))(c);
        },
      },
    ],
  },
  {
    id: 'dtype-length', code: 'LENGTH_MISMATCH', ops: WITH_WEIGHT,
    misuses: [{
      label: 'a float16 Tensor with the byte length of the float32 weight', name: 'weight',
      apply: (c) => opt('weight', tensor(2 * (c.options.weight as Float32Array).length, { dtype: 'float16' }))(c),
    }],
  },
  {
    id: 'tensor-dtype', code: 'INVALID_DTYPE', ops: ['layerNorm'],
    misuses: [
      { label: "tensor(4, { dtype: 'float64' })", name: 'dtype', thunk: () => tensor(4, { dtype: 'float64' as 'float32' }) },
      { label: "tensor([1, 2], { dtype: 'half' })", name: 'dtype', thunk: () => tensor([1, 2], { dtype: 'half' as 'float32' }) },
    ],
  },
  {
    id: 'batch-too-small', code: 'BATCH_TOO_SMALL', ops: NEEDS_TWO,
    misuses: each<[number[], string]>(
      [['[1, C]', [[1, 3], 'NCHW']], ['[1, C, 1, 1]', [[1, 3, 1, 1], 'NCHW']], ['NHWC [1, 1, 1, C]', [[1, 1, 1, 3], 'NHWC']]],
      'x', ([shape, layout]) => (c) => {
        c.x = new Float32Array(3);
        c.shape = shape;
        opt('layout', layout)(c);
      },
    ),
  },
  {
    id: 'groups', code: 'INVALID_GROUPS', ops: WITH_GROUPS,
    misuses: each<unknown>(
      [['3 does not divide C = 4', 3], ['more groups than channels', 8], ['0', 0], ['negative', -2], ['fractional', 1.5], ['NaN', NaN],
        ['Infinity', Infinity], ['undefined', undefined], ['null', null], ['a string', '2'], ['a bigint', 2n]],
      'numGroups', (v) => (c) => void (c.numGroups = v),
    ),
  },
  {
    id: 'style-type', code: 'INVALID_TENSOR', ops: WITH_STYLE,
    misuses: [
      ...notTensors(30).map(([label, v]): Misuse => ({ label, name: 'style', apply: (c) => void (c.style = v) })),
      { label: 'undefined', name: 'style', apply: (c) => void (c.style = undefined) },
    ],
  },
  {
    id: 'style-freed', code: 'TENSOR_FREED', ops: WITH_STYLE,
    misuses: [{ label: 'a freed Tensor', name: 'style', apply: (c) => void (c.style = freedTensor(30)) }],
  },
  {
    id: 'styleShape', code: 'INVALID_SHAPE', ops: WITH_STYLE,
    misuses: each<unknown>(
      [['null', null], ['a string', '2,3,5'], ['a negative dimension', [-2, -3, 5]], ['a fractional dimension', [2, 1.5, 10]]],
      'styleShape', (v) => (c) => void (c.styleShape = v),
    ),
  },
  {
    id: 'styleShape-product', code: 'LENGTH_MISMATCH', ops: WITH_STYLE,
    misuses: [{ label: 'product 36, style has 30', name: 'style', apply: (c) => void (c.styleShape = [2, 3, 6]) }],
  },
  {
    id: 'styleShape-rank', code: 'RANK_TOO_LOW', ops: WITH_STYLE,
    misuses: [{ label: 'rank 1', name: 'styleShape', apply: (c) => void (c.styleShape = [30]) }],
  },
  {
    id: 'style-mismatch', code: 'STYLE_MISMATCH', ops: WITH_STYLE,
    misuses: each<[number[], number, string?]>(
      [
        ['other channel count', [[2, 5, 3], 30]],
        ['batch neither N = 2 nor 1', [[3, 3, 2], 18]],
        ['other rank', [[2, 3, 5, 1], 30]],
        ['style given NCHW to an NHWC call', [[2, 3, 5], 30, 'NHWC']],
        ['no spatial elements', [[2, 3, 0], 0]],
      ],
      'styleShape', ([shape, n, layout]) => (c) => {
        c.style = new Float32Array(n);
        c.styleShape = shape;
        if (layout) {
          c.shape = [2, 4, 3]; // NHWC content with C = 3
          opt('layout', layout)(c);
        }
      },
    ),
  },
  {
    id: 'aliasing', code: 'ALIASING', ops: ['layerNorm', 'groupNorm', 'batchNormTraining'],
    misuses: [
      {
        label: 'out is the weight Tensor', name: 'out', ops: ['layerNorm', 'groupNorm'],
        apply: (c) => {
          // One group (layerNorm over [5]) or one sample of C channels of size 1 (groupNorm [1, 4]): x, out and
          // weight have the same length, so only the overlap is wrong.
          const w = tensor(c.options.weight as Float32Array);
          c.x = new Float32Array(w.length);
          c.shape = c.numGroups === undefined ? [w.length] : [1, w.length, 1];
          if (c.numGroups !== undefined) c.numGroups = 1;
          c.options = { weight: w, out: w };
        },
      },
      {
        label: 'out and sumOut are the same plain array', name: 'out', ops: ['layerNorm'],
        apply: (c) => {
          const shared = new Float32Array(length(c));
          c.options = { residual: new Float32Array(length(c)), out: shared, sumOut: shared };
        },
      },
      {
        label: 'mean and invStd overlap (views of one buffer)', name: 'mean', ops: ['layerNorm'],
        apply: (c) => {
          const buffer = new Float32Array(8);
          c.options = { mean: buffer.subarray(0, 6), invStd: buffer.subarray(2, 8) };
        },
      },
      {
        label: 'runningMean and runningVar are the same array', name: 'runningMean', ops: ['batchNormTraining'],
        apply: (c) => opt('runningVar', c.options.runningMean)(c),
      },
      {
        label: 'runningMean is the weight Tensor (training writes it)', name: 'runningMean', ops: ['batchNormTraining'],
        apply: (c) => {
          const t = tensor(c.options.weight as Float32Array);
          c.options = { ...c.options, weight: t, runningMean: t };
        },
      },
    ],
  },
  {
    id: 'too-large', code: 'TOO_LARGE', ops: ['layerNorm'],
    misuses: [
      { label: 'tensor(2^30): 4 GiB', name: 'tensor', thunk: () => tensor(2 ** 30) },
      { label: 'tensor(2^40)', name: 'tensor', thunk: () => tensor(2 ** 40) },
    ],
  },
  {
    id: 'tensor-args', code: 'INVALID_SHAPE', ops: ['layerNorm'],
    misuses: [
      { label: 'tensor(-1)', name: 'tensor', thunk: () => tensor(-1) },
      { label: 'tensor(1.5)', name: 'tensor', thunk: () => tensor(1.5) },
      { label: 'tensor(NaN)', name: 'tensor', thunk: () => tensor(NaN) },
      { label: 'tensor({ length: -1 })', name: 'tensor', thunk: () => tensor({ length: -1 }) },
    ],
  },
  {
    id: 'tensor-data', code: 'INVALID_TENSOR', ops: ['layerNorm'],
    misuses: [
      { label: 'tensor(null)', name: 'tensor', thunk: () => tensor(null as never) },
      { label: 'tensor(undefined)', name: 'tensor', thunk: () => tensor(undefined as never) },
      { label: 'tensor({})', name: 'tensor', thunk: () => tensor({} as never) },
    ],
  },
  {
    id: 'tensor-set', code: 'LENGTH_MISMATCH', ops: ['layerNorm'],
    misuses: [
      { label: 'Tensor.set with one value too many', name: 'Tensor.set', thunk: () => tensor(3).set([1, 2, 3, 4]) },
      { label: 'Tensor.set(null)', name: 'Tensor.set', thunk: () => tensor(3).set(null as never) },
    ],
  },
];

/** Every Float32Array reachable from a call (its own arguments and option values). */
function arraysOf(c: Call): Float32Array[] {
  const all = [c.x, c.style, ...Object.values(c.options ?? {})];
  if (c.rawOptions && typeof c.rawOptions.value === 'object' && c.rawOptions.value !== null) all.push(...Object.values(c.rawOptions.value));
  return all.filter((a): a is Float32Array => a instanceof Float32Array);
}

/** The whole of wasm linear memory, as bytes. */
function wasmBytes(): Uint8Array {
  const probe = tensor(1);
  const bytes = new Uint8Array(probe.array.buffer).slice();
  probe.free();
  return bytes;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function catchError(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

beforeAll(async () => {
  await ready();
});

describe.each(MATRIX.map((r) => [r.id, r] as const))('matrix row %s', (_id, row) => {
  const cases = row.misuses.flatMap((m): Array<[Op | '-', Misuse]> =>
    m.thunk ? [['-', m]] : row.ops.filter((op) => !m.ops || m.ops.includes(op)).map((op) => [op, m]),
  );
  it.each(cases.map(([op, m]) => [`${op === '-' ? '' : `${op}: `}${m.label}`, op, m] as const))(
    `%s -> ${row.code}`,
    (_label, op, m) => {
      let c: Call | undefined;
      if (!m.thunk) {
        c = validCall(op as Op);
        m.apply!(c, op as Op);
      }
      const arrays = c ? arraysOf(c) : [];
      const before = arrays.map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice());
      // Tensor contents (e.g. an out Tensor that overlaps weight) are part of wasm memory, checked whole.
      const stats = memoryStats();
      const memory = wasmBytes();

      const e = catchError(() => (m.thunk ? m.thunk() : invoke(op as Op, c!)));
      expect(e, 'the call should have thrown').toBeInstanceOf(NormkitError);
      const err = e as NormkitError;
      expect(err.code, err.message).toBe(row.code);
      expect(err.name).toBe('NormkitError');
      const name = typeof m.name === 'function' ? m.name(op as Op) : m.name;
      expect(err.message, 'the message names the argument').toContain(name);

      // Nothing was written: the caller's arrays, and every byte of wasm memory.
      arrays.forEach((a, k) => expect(sameBytes(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), before[k]), `argument array ${k} changed`).toBe(true));
      const statsAfter = memoryStats();
      expect(statsAfter.memoryBytes).toBe(stats.memoryBytes);
      expect(statsAfter.blocks).toBeLessThanOrEqual(stats.blocks + 1); // tensor(3) of the Tensor.set rows
      const memoryAfter = wasmBytes();
      if (!m.thunk) expect(sameBytes(memoryAfter, memory), 'wasm memory changed').toBe(true);

      // The next valid call is right.
      const next = validCall(op === '-' ? 'layerNorm' : (op as Op), 7);
      assertClose(invoke(op === '-' ? 'layerNorm' : (op as Op), next), reference(op === '-' ? 'layerNorm' : (op as Op), next));
    },
  );
});

describe('the valid base calls', () => {
  it.each(ALL)('%s matches the reference (and so each row above changes exactly one thing)', (op) => {
    const c = validCall(op);
    assertClose(invoke(op, c), reference(op, c));
  });
});

it('ready() can be retried after a failed start', async () => {
  vi.resetModules();
  const fresh = await import('../src/index.js');
  if (fresh.layerNorm === layerNorm) return; // this runner cannot load a second instance
  const spy = vi.spyOn(WebAssembly, 'instantiate').mockRejectedValueOnce(new Error('no wasm today'));
  try {
    await expect(fresh.ready()).rejects.toThrow('no wasm today');
    expect((catchError(() => fresh.layerNorm(new Float32Array(3), [3])) as NormkitError).code).toBe('NOT_READY');
  } finally {
    spy.mockRestore();
  }
  await fresh.ready();
  const x = new Float32Array([1, 2, 3]);
  assertClose(fresh.layerNorm(x, [3]), refOps.layerNorm(x, [3]));
});

it('NOT_READY: an op, tensor() or memoryStats() before ready() resolves', async () => {
  vi.resetModules();
  const fresh = await import('../src/index.js');
  if (fresh.layerNorm === layerNorm) return; // this runner cannot load a second instance (checked in workers.node.test.ts)
  const x = new Float32Array([1, 2, 3]);
  for (const f of [() => fresh.layerNorm(x, [3]), () => fresh.batchNorm(x, [1, 3], { training: true }), () => fresh.tensor(3), () => fresh.memoryStats()]) {
    const e = catchError(f) as NormkitError;
    expect(e).toBeInstanceOf(fresh.NormkitError);
    expect(e.code).toBe('NOT_READY');
    expect(e.message).toMatch(/ready\(\)/);
  }
  await fresh.ready();
  assertClose(fresh.layerNorm(x, [3]), refOps.layerNorm(x, [3]));
  // A Tensor belongs to the instance that made it: another instance refuses it.
  const t = tensor(x);
  const e = catchError(() => fresh.layerNorm(t, [3])) as NormkitError;
  expect(e).toBeInstanceOf(fresh.NormkitError);
  expect(e.code).toBe('INVALID_TENSOR');
  t.free();
});

it('options set to undefined take their defaults', () => {
  const rng = makeRng(3);
  const x = randn(rng, 24);
  const ref = refOps.layerNorm(x, [2, 3, 4]);
  assertClose(layerNorm(x, [2, 3, 4], { axis: undefined, eps: undefined, weight: undefined, out: undefined }), ref);
  assertClose(
    batchNorm(x, [2, 3, 4], { training: true, momentum: undefined, layout: undefined, unbiasedRunningVar: undefined }),
    refOps.batchNorm(x, [2, 3, 4], { training: true }),
  );
  assertClose(instanceNorm(x, [2, 3, 4], undefined), refOps.instanceNorm(x, [2, 3, 4]));
});

describe('UNKNOWN_OPTION: an option the op does not take is refused, never ignored', () => {
  const x = new Float32Array(24);
  const w = new Float32Array(4).fill(2);
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['a made-up key', () => layerNorm(x, [2, 3, 4], { foo: 1 } as never), /options\.foo: layerNorm does not take this option \(it is not a normkit option/],
    ["PyTorch's gamma", () => layerNorm(x, [2, 3, 4], { gamma: w } as never), /options\.gamma: .*normkit spells it weight/],
    ["PyTorch's beta", () => layerNorm(x, [2, 3, 4], { beta: w } as never), /options\.beta: .*normkit spells it bias/],
    ["ONNX's epsilon", () => instanceNorm(x, [2, 3, 4], { epsilon: 1e-3 } as never), /options\.epsilon: instanceNorm .*normkit spells it eps/],
    ["PyTorch's normalized_shape", () => layerNorm(x, [2, 3, 4], { normalized_shape: [4] } as never), /normkit spells it axis/],
    ["PyTorch's running_mean", () => batchNorm(x, [2, 3, 4], { running_mean: w } as never), /normkit spells it runningMean/],
    ['bias for rmsNorm (it has none)', () => rmsNorm(x, [2, 3, 4], { bias: w } as never), /options\.bias: rmsNorm does not take this option \(it is an option of other normkit ops/],
    ['layout for layerNorm', () => layerNorm(x, [2, 3, 4], { layout: 'NHWC' } as never), /options\.layout: layerNorm/],
    ['weight for adaIN', () => adaIN(x, [2, 3, 4], x, [2, 3, 4], { weight: w } as never), /options\.weight: adaIN/],
    ['axis for groupNorm', () => groupNorm(x, [2, 3, 4], 3, { axis: 1 } as never), /options\.axis: groupNorm/],
  ];
  for (const [what, call, message] of cases) {
    it(what, () => {
      const e = catchError(call) as NormkitError;
      expect(e).toBeInstanceOf(NormkitError);
      expect(e.code).toBe('UNKNOWN_OPTION');
      expect(e.message).toMatch(message);
    });
  }
});

it('when several arguments are wrong, one NormkitError is thrown (which one is not part of the contract)', () => {
  const e = catchError(() => layerNorm(null as never, 'shape' as never, { eps: -1, axis: 9 })) as NormkitError;
  expect(e).toBeInstanceOf(NormkitError);
  expect(['INVALID_TENSOR', 'INVALID_SHAPE', 'INVALID_EPS', 'INVALID_AXIS']).toContain(e.code);
});

it('the documented matrix (docs/errors.md) lists exactly the rows tested here', () => {
  const docs = import.meta.glob(['../README.md', '../docs/*.md'], { query: '?raw', import: 'default', eager: true }) as Record<
    string,
    string
  >;
  // The matrix is the section headed "Validation matrix"; its rows are table rows whose first cell is a
  // backticked row id: | `x-type` | ...
  const idsIn = (text: string) => {
    const start = text.search(/^#+ Validation matrix/m);
    if (start < 0) return new Set<string>();
    const body = text.slice(text.indexOf('\n', start));
    const end = body.search(/^#/m);
    const section = end < 0 ? body : body.slice(0, end);
    return new Set([...section.matchAll(/^\|\s*`([a-z][a-zA-Z-]*)`\s*\|/gm)].map((m) => m[1]));
  };
  const documented = Object.values(docs).map(idsIn).find((ids) => ids.has('x-type'));
  expect(documented, 'no validation matrix (a table with row ids such as `x-type`) in README.md or docs/*.md').toBeDefined();
  expect([...documented!].sort()).toEqual(MATRIX.map((r) => r.id).sort());
});
