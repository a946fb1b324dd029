// Which arguments may share memory, derived from the plan's roles.
//
// Tensors are read and written in place by the kernels, so an output Tensor may be an input Tensor only
// where the plan allows that very pairing (in-place work), and may not overlap any other input Tensor.
// Two outputs may never overlap, whatever their kind: which one wins would depend on the order of the
// writes. Plain Float32Arrays may overlap inputs in any way: they are staged, and the executor keeps the
// result that of an out-of-place call (see needsSnapshot).

import { NormkitError } from './errors.js';
import { Tensor, bytesOf, heapBufferOf, isHeapView, pointerOf } from './memory.js';
import type { Binding, Plan } from './plan.js';
import type { TensorLike } from './types.js';

function refuse(outName: string, name: string, same: boolean): never {
  throw new NormkitError(
    'ALIASING',
    `${outName}: expected memory separate from ${name}, but it ${same ? 'is the same memory as' : 'overlaps'} ${name}` +
      ' (see "Aliasing" in docs/semantics.md: only out = x, and for layerNorm/rmsNorm out or sumOut = residual, may share a Tensor)',
  );
}

const bufferOf = (a: TensorLike): ArrayBufferLike => (a instanceof Tensor || isHeapView(a) ? heapBufferOf() : a.buffer);
const startOf = (a: TensorLike): number => (a instanceof Tensor ? pointerOf(a) : a.byteOffset);
const bytesPer = (a: TensorLike): number => (a instanceof Tensor ? bytesOf(a.dtype) : a.BYTES_PER_ELEMENT);

/** Whether two non-empty arguments share at least one byte. */
function overlap(a: TensorLike, b: TensorLike): boolean {
  if (a.length === 0 || b.length === 0) return false;
  // Every live Tensor owns its own block of wasm memory (and a freed one is refused before this).
  if (a instanceof Tensor && b instanceof Tensor) return a === b;
  if (bufferOf(a) !== bufferOf(b)) return false;
  const sa = startOf(a);
  const sb = startOf(b);
  return sa < sb + b.length * bytesPer(b) && sb < sa + a.length * bytesPer(a);
}

const isOutput = (b: Binding): boolean => b.role !== 'in';

function allowed(sameOk: Plan['sameOk'], out: string, input: string): boolean {
  for (const [o, i] of sameOk) if (o === out && i === input) return true;
  return false;
}

/** Refuses the pairings the kernels cannot honour; see the top of this file. */
export function checkAliasing(plan: Plan): void {
  const { bindings, sameOk } = plan;
  // Nothing to check for a call with one output that is a plain array (copy mode's common case).
  let outputs = 0;
  let tensorOut = false;
  for (const b of bindings) {
    if (b.role === 'in') continue;
    outputs++;
    tensorOut ||= b.value instanceof Tensor;
  }
  if (outputs < 2 && !tensorOut) return;
  for (let i = 0; i < bindings.length; i++) {
    const o = bindings[i];
    if (!isOutput(o)) continue;
    if (o.value instanceof Tensor) {
      for (const b of bindings) {
        if (b.role !== 'in' || !(b.value instanceof Tensor) || !overlap(o.value, b.value)) continue;
        const same = o.value === b.value;
        if (!same || !allowed(sameOk, o.name, b.name)) refuse(o.name, b.name, same);
      }
    }
    for (let j = i + 1; j < bindings.length; j++) {
      const p = bindings[j];
      if (!isOutput(p) || !overlap(o.value, p.value)) continue;
      refuse(o.name, p.name, startOf(o.value) === startOf(p.value) && o.value.length * bytesPer(o.value) === p.value.length * bytesPer(p.value));
    }
  }
}

/**
 * Whether input binding i must be copied aside before a call that runs in several passes: it overlaps an
 * output that an earlier pass writes before a later pass reads the input. An input sliced exactly like the
 * output it overlaps (same start, same elements per unit, same element size: out = x) is read by each pass before that pass
 * writes the same elements, and needs no copy.
 */
export function needsSnapshot(plan: Plan, i: number): boolean {
  const b = plan.bindings[i];
  if (b.role !== 'in') return false;
  for (const o of plan.bindings) {
    if (!isOutput(o) || !overlap(b.value, o.value)) continue;
    const sameSlicing = b.unit > 0 && b.unit === o.unit && bytesPer(b.value) === bytesPer(o.value);
    if (!(sameSlicing && startOf(b.value) === startOf(o.value))) return true;
  }
  return false;
}
