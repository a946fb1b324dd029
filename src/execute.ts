// The executor: runs a plan (plan.ts). Everything every op used to repeat lives here once: the aliasing
// rules, copy mode's staging in passes, pointers into the parameter block, and cleanup when anything throws.

import { NormkitError } from './errors.js';
import { P_WORK, PARAM_BLOCK_BYTES } from './generated/abi.js';
import { Tensor, clearBytes, pointerOf, writeF64, writeI32 } from './memory.js';
import { beginStaging, commitStaging, finishStaging, slotPtr, stage, workspace, type StageEnd } from './staging.js';
import { checkAliasing, needsSnapshot } from './aliasing.js';
import { getKernels, whenReady } from './wasm.js';
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

// The parameter block, in the module's static data.
let paramBlock = 0;
whenReady((k) => {
  paramBlock = k.paramBlock();
});

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

// Fills the parameter block for one pass (pointers of the staged or resident arguments, scalars, the
// pass's unit count) and calls the kernel; a trap becomes a NormkitError. A binding staged in the pass has
// its slot in `slots` (-1 otherwise: a Tensor, sliced from unit u0, or an empty array).
function runPass(plan: Plan, bindings: readonly Binding[], count: number, u0: number, work: number): void {
  // The block is all 0 (every kernel clears it when it returns): only this call's fields are set.
  const params = paramBlock;
  for (let i = 0; i < bindings.length; i++) {
    const b = bindings[i];
    const v = b.value;
    const slot = slots[i];
    writeI32(params + b.field, slot >= 0 ? slotPtr(slot) : v instanceof Tensor ? pointerOf(v) + 4 * b.unit * u0 : 0);
  }
  writeI32(params + P_WORK, work);
  const { scalars, unitFields } = plan;
  for (let i = 0; i < scalars.length; i++) {
    const s = scalars[i];
    if (s.f64 === true) writeF64(params + s.field, s.value);
    else writeI32(params + s.field, s.value);
  }
  for (let i = 0; i < unitFields.length; i++) writeI32(params + unitFields[i], count);
  try {
    getKernels()[plan.kernel](params);
  } catch (e) {
    // A kernel that trapped did not clear its block.
    clearBytes(params, PARAM_BLOCK_BYTES);
    throw new NormkitError(
      'KERNEL_FAULT',
      `${plan.op}: the kernel trapped (${e instanceof Error ? e.message : String(e)}); no output was copied out (please report)`,
    );
  }
}

// Every argument a Tensor: one pass, nothing to stage or copy back, and a workspace kept across calls.
// Distinct live Tensors never share memory, so the aliasing rules concern only a Tensor bound twice.
function runResident(plan: Plan): void {
  const all = plan.bindings;
  let twice = false;
  for (let i = 0; i < all.length && !twice; i++) {
    for (let j = i + 1; j < all.length; j++) twice ||= all[i].value === all[j].value;
  }
  if (twice) checkAliasing(plan);
  const bytes = plan.workBytes + plan.units * plan.workBytesPerUnit;
  for (let i = 0; i < all.length; i++) slots[i] = -1;
  runPass(plan, all, plan.units, 0, bytes > 0 ? workspace(bytes, plan.op) : 0);
}

/** Runs `plan`: validates its aliasing, then stages, calls the kernel and copies out, pass by pass. */
export function execute(plan: Plan): void {
  const { units, bindings: all } = plan;
  // The one check that every kernel access stays inside the call's arrays: a sliced argument holds
  // exactly its units, and a whole one is read or written only as far as its own length.
  let staged = false; // an argument sliced by the units is copied through scratch
  let copies = false; // any argument at all is copied through scratch
  for (let i = 0; i < all.length; i++) {
    const b = all[i];
    const plain = !resident(b.value) && b.value.length > 0;
    copies ||= plain;
    if (b.unit === 0) continue;
    if (b.unit * units !== b.value.length) {
      throw internal(plan, `${b.name} holds ${b.value.length} elements, the plan reaches ${b.unit * units}`);
    }
    staged ||= plain;
  }
  if (!copies) {
    runResident(plan);
    return;
  }
  checkAliasing(plan);
  const { workBytes, workBytesPerUnit } = plan;
  const step = unitsPerPass(plan, staged);
  const bindings = step < units ? withSnapshots(plan) : all;
  // Main input and output staged in one slot: the kernel computes in place over the staged input.
  const x = bindings[0].value;
  const y = bindings.length > 1 ? bindings[1].value : x;
  const shareSlot = bindings.length > 1 && bindings[1].role === 'out' && bindings[0].unit === bindings[1].unit &&
    !resident(x) && !resident(y);
  for (let u0 = 0; u0 < units; u0 += step) {
    const count = Math.min(step, units - u0);
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
      const bytes = workBytes + count * workBytesPerUnit;
      const workSlot = bytes > 0 ? stage(null, undefined, null, undefined, Math.ceil(bytes / 4)) : -1;
      commitStaging(plan.op);
      runPass(plan, bindings, count, u0, workSlot >= 0 ? slotPtr(workSlot) : 0);
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
