// The executor: runs a plan (plan.ts). Everything every op used to repeat lives here once: the aliasing
// rules, copy mode's staging in passes, pointers into the parameter blocks of the threads that share a
// pass (pool.ts), and cleanup when anything throws.

import { NormkitError } from './errors.js';
import { P_WORK } from './generated/abi.js';
import { Tensor, align, pointerOf, writeF64, writeI32 } from './memory.js';
import { beginStaging, commitStaging, finishStaging, slotPtr, stage, workspace, type StageEnd } from './staging.js';
import { checkAliasing, needsSnapshot } from './aliasing.js';
import { paramBlock, runKernel, threadsFor } from './pool.js';
import type { Binding, Plan } from './plan.js';
import type { HalfDtype, TensorLike } from './types.js';

// 128 Ki floats: 512 KiB for x (computed in place), with a residual and sumOut 1.5 MiB, under the L2 size
// of common cores; large enough that the per-pass cost (a wasm call, a few views) stays around 2%.
const PASS_ELEMENTS = 131072;

/**
 * How many units one pass takes. Plain arrays larger than a pass are staged a few units at a time, so
 * that the staged data stays in the L2 cache between the copy in, the kernel and the copy out, and the
 * scratch space stays small whatever the tensor's size. A call whose sliced arguments are all Tensors
 * stages nothing and runs in one pass.
 */
function unitsPerPass(plan: Plan, staged: boolean): number {
  const { units, unitLength } = plan;
  if (!staged || unitLength === 0) return units;
  return Math.max(1, Math.floor(PASS_ELEMENTS / unitLength));
}

// The part [off, off + len) of a staged argument: a view only when it is not the whole array, a Float16Array's
// bits, or where a half-precision Tensor's part starts in wasm memory.
function part(a: TensorLike, off: number, len: number): StageEnd {
  if (a instanceof Tensor) return pointerOf(a) + 2 * off;
  const v = a instanceof Float32Array || a instanceof Uint16Array ? a : new Uint16Array(a.buffer, a.byteOffset, a.length);
  return off === 0 && len === v.length ? v : v.subarray(off, off + len);
}

/** Whether the kernels read and write an argument where it is: a float32 Tensor (the others are staged). */
const resident = (a: TensorLike): boolean => a instanceof Tensor && a.dtype === 'float32';

/** The dtype an argument's staging converts from and to: the call's half dtype, or undefined for float32. */
function dtypeIn(plan: Plan, a: TensorLike): HalfDtype | undefined {
  return a instanceof Float32Array || resident(a) ? undefined : plan.half;
}

function internal(plan: Plan, what: string): NormkitError {
  return new NormkitError('KERNEL_FAULT', `${plan.op}: internal error, ${what}; nothing was written (please report)`);
}

// Staging slot of each binding in the pass being staged (-1: not staged); reused across calls.
const slots: number[] = [];

/**
 * The plan's bindings, with every input that an earlier pass's output would overwrite replaced by a copy
 * (for calls that run in several passes).
 */
function withSnapshots(plan: Plan): readonly Binding[] {
  let bindings = plan.bindings;
  for (let i = 0; i < bindings.length; i++) {
    if (!needsSnapshot(plan, i)) continue;
    if (bindings === plan.bindings) bindings = bindings.slice();
    const v = bindings[i].value;
    (bindings as Binding[])[i] = { ...bindings[i], value: (v instanceof Tensor ? v.array : v).slice() };
  }
  return bindings;
}

/**
 * A pass of `count` units from u0, shared out among `threads` threads by units or by the blocks of each,
 * and each thread's workspace: `work` + t * `workStride` (work 0: none).
 */
interface Pass {
  count: number;
  u0: number;
  threads: number;
  byBlocks: boolean;
  work: number;
  workStride: number;
}

// How the threads share a resident call (every unit, one pass): by units when that occupies as many of
// them as sharing out the blocks of each would. Returns the pass without its workspace.
function share(plan: Plan): Pass {
  const count = plan.units;
  const elements = plan.bindings[0].value.length;
  const threads = threadsFor(elements, count);
  const blockThreads = plan.blocks === undefined ? 1 : threadsFor(elements, plan.blocks.count);
  const byBlocks = blockThreads > threads;
  return { count, u0: 0, threads: byBlocks ? blockThreads : threads, byBlocks, work: 0, workStride: 0 };
}

// Bytes of one thread's workspace in a pass, aligned so that the threads' workspaces share no cache line.
function workStride(plan: Plan, count: number): number {
  const bytes = plan.workBytes + count * plan.workBytesPerUnit;
  return bytes > 0 ? align(bytes) : 0;
}

// Fills thread t's parameter block for its share of the pass, units or blocks [from, to): pointers of the
// staged or resident arguments moved to the share, scalars, counts. The block is all 0 (every kernel
// clears it when it returns): only this call's fields are set. A binding staged in the pass has its slot
// in `slots` (-1 otherwise: a Tensor, sliced from unit u0, or an empty array).
function fill(plan: Plan, bindings: readonly Binding[], pass: Pass, t: number, from: number, to: number): void {
  const params = paramBlock(t);
  const { count, u0, byBlocks } = pass;
  for (let i = 0; i < bindings.length; i++) {
    const b = bindings[i];
    const v = b.value;
    const slot = slots[i];
    let ptr = slot >= 0 ? slotPtr(slot) : v instanceof Tensor ? pointerOf(v) + 4 * b.unit * u0 : 0;
    if (from > 0 && ptr !== 0) ptr += 4 * from * (byBlocks ? plan.blocks!.stride(b) : b.unit);
    writeI32(params + b.field, ptr);
  }
  writeI32(params + P_WORK, pass.work === 0 ? 0 : pass.work + t * pass.workStride);
  const { scalars, unitFields } = plan;
  for (let i = 0; i < scalars.length; i++) {
    const s = scalars[i];
    if (s.f64 === true) writeF64(params + s.field, s.value);
    else writeI32(params + s.field, s.value);
  }
  for (let i = 0; i < unitFields.length; i++) writeI32(params + unitFields[i], byBlocks ? count : to - from);
  if (byBlocks) for (const [f, per] of plan.blocks!.fields) writeI32(params + f, (to - from) * per);
}

// Runs one pass: fills each thread's parameter block and runs the kernel over all of them (pool.ts; a
// trap becomes a NormkitError there).
function runPass(plan: Plan, bindings: readonly Binding[], pass: Pass): void {
  const { threads } = pass;
  const parts = pass.byBlocks ? plan.blocks!.count : pass.count;
  for (let t = 0; t < threads; t++) fill(plan, bindings, pass, t, Math.floor((t * parts) / threads), Math.floor(((t + 1) * parts) / threads));
  runKernel(plan.op, plan.kernel, threads, (pass.count * bindings[0].value.length) / plan.units);
}

// Every output a float32 Tensor: one pass over every unit, shared out among the threads. Plain inputs
// (execute checks that they are small: broadcast tables, a plain weight) are staged whole first, which
// also gives the out-of-place result if one views a Tensor's memory; the workspace is then a slot of the
// staging, else the idle scratch block. Distinct live Tensors never share memory, so without plain
// inputs the aliasing rules concern only a Tensor bound twice.
function runResident(plan: Plan, plainInputs: boolean): void {
  const all = plan.bindings;
  if (plainInputs) checkAliasing(plan);
  else {
    let twice = false;
    for (let i = 0; i < all.length && !twice; i++) {
      for (let j = i + 1; j < all.length; j++) twice ||= all[i].value === all[j].value;
    }
    if (twice) checkAliasing(plan);
  }
  const pass = share(plan);
  pass.workStride = workStride(plan, plan.units);
  if (!plainInputs) {
    if (pass.workStride > 0) pass.work = workspace(pass.workStride * pass.threads, plan.op);
    for (let i = 0; i < all.length; i++) slots[i] = -1;
    runPass(plan, all, pass);
    return;
  }
  beginStaging();
  let done = false;
  try {
    for (let i = 0; i < all.length; i++) {
      const v = all[i].value;
      slots[i] = resident(v) || v.length === 0 ? -1 : stage(part(v, 0, v.length), dtypeIn(plan, v), null, undefined, v.length);
    }
    const workSlot = pass.workStride > 0 ? stage(null, undefined, null, undefined, (pass.workStride * pass.threads) / 4) : -1;
    commitStaging(plan.op);
    if (workSlot >= 0) pass.work = slotPtr(workSlot);
    runPass(plan, all, pass);
    done = true;
  } finally {
    finishStaging(done);
  }
}

/** Runs `plan`: validates its aliasing, then stages, calls the kernel and copies out, pass by pass. */
export function execute(plan: Plan): void {
  const { units, bindings: all } = plan;
  // The one check that every kernel access stays inside the call's arrays: a sliced argument holds
  // exactly its units, and a whole one is read or written only as far as its own length.
  let staged = false; // an argument sliced by the units is copied through scratch
  let copies = false; // any argument at all is copied through scratch
  let plainOutputs = false;
  let plainInputElements = 0;
  for (let i = 0; i < all.length; i++) {
    const b = all[i];
    const plain = !resident(b.value) && b.value.length > 0;
    copies ||= plain;
    if (plain && b.role === 'in') plainInputElements += b.value.length;
    else plainOutputs ||= plain;
    if (b.unit === 0) continue;
    if (b.unit * units !== b.value.length) {
      throw internal(plan, `${b.name} holds ${b.value.length} elements, the plan reaches ${b.unit * units}`);
    }
    staged ||= plain;
  }
  // Small plain inputs beside resident outputs (AdaLN's row tables, a plain weight): staged whole in one
  // pass, so that the call keeps its single pass and its threads.
  if (!plainOutputs && (plainInputElements === 0 || (plainInputElements <= PASS_ELEMENTS && plan.units > 0))) {
    runResident(plan, copies);
    return;
  }
  checkAliasing(plan);
  const step = unitsPerPass(plan, staged);
  const bindings = step < units ? withSnapshots(plan) : all;
  // Main input and output staged in one slot: the kernel computes in place over the staged input.
  const x = bindings[0].value;
  const y = bindings.length > 1 ? bindings[1].value : x;
  const shareSlot = bindings.length > 1 && bindings[1].role === 'out' && bindings[0].unit === bindings[1].unit &&
    !resident(x) && !resident(y);
  for (let u0 = 0; u0 < units; u0 += step) {
    const count = Math.min(step, units - u0);
    // Copy mode stays on the calling thread: its copies in and out take most of a call there, and a kernel
    // shared out over the staged data measured slower (the data crosses to the other core's cache).
    const pass: Pass = { count, u0, threads: 1, byBlocks: false, work: 0, workStride: workStride(plan, count) };
    beginStaging();
    let done = false;
    try {
      for (let i = 0; i < bindings.length; i++) {
        const b = bindings[i];
        const v = b.value;
        const off = b.unit * u0;
        const len = b.unit > 0 ? b.unit * count : v.length;
        const dtype = dtypeIn(plan, v);
        if (resident(v) || v.length === 0) slots[i] = -1;
        else if (i === 1 && shareSlot) slots[i] = slots[0];
        else if (i === 0 && shareSlot) slots[i] = stage(part(v, off, len), dtype, part(y, off, len), dtypeIn(plan, y), len);
        else if (b.role === 'in') slots[i] = stage(part(v, off, len), dtype, null, undefined, len);
        else if (b.role === 'out') slots[i] = stage(null, undefined, part(v, off, len), dtype, len);
        else slots[i] = stage(part(v, 0, len), dtype, part(v, 0, len), dtype, len);
      }
      const workSlot = pass.workStride > 0 ? stage(null, undefined, null, undefined, pass.workStride / 4) : -1;
      commitStaging(plan.op);
      if (workSlot >= 0) pass.work = slotPtr(workSlot);
      runPass(plan, bindings, pass);
      done = true;
    } finally {
      finishStaging(done);
    }
  }
}

/** What an op returns: the output array (a Tensor's current view). */
export function result<R>(y: TensorLike): R {
  return (y instanceof Tensor ? y.array : y) as R;
}

/** A new output of x's type, for a call without `out`. */
export function outputLike(x: TensorLike, length: number): TensorLike {
  if (x instanceof Float32Array || resident(x)) return new Float32Array(length);
  return x instanceof Tensor || x instanceof Uint16Array ? new Uint16Array(length) : new (x.constructor as new (n: number) => TensorLike)(length);
}

/** Fills a statistics output with NaN (the statistics of empty groups), in its dtype. */
export function fillNaN(plan: Plan, a: TensorLike): void {
  const dtype = dtypeIn(plan, a);
  if (dtype === undefined) result<Float32Array>(a).fill(NaN);
  else (a instanceof Tensor ? (a.array as Uint16Array) : (part(a, 0, a.length) as Uint16Array)).fill(dtype === 'float16' ? 0x7e00 : 0x7fc0);
}
