/// <reference types="vite/client" />
// Runs every shared conformance vector (../shared/conformance/{onnx,torch}/*.json, beside the repository)
// through normkit and through the float64 reference. Cases are mapped by their `op` and the *order* of
// their inputs, never by name or shape. Loaded with import.meta.glob (no fs) so this also runs in a browser.
import { beforeAll, describe, expect, it } from 'vitest';
import * as normkit from '../src/index.js';
import { compare, describeComparison } from './support/compare.js';
import { conformanceEntry, type ConformanceVector, type NormkitLike } from './support/registry.js';

type Json = number | string;
interface TensorJson {
  name: string;
  shape: number[];
  data: Json[];
}
interface CaseJson {
  name: string;
  op: string;
  opset: number | null;
  attributes?: Record<string, unknown>;
  inputs: TensorJson[];
  outputs: TensorJson[];
  tolerance?: { atol?: number; rtol?: number };
  layout?: string;
  tags?: string[];
}

const files = import.meta.glob('../../shared/conformance/*/*.json', { eager: true, import: 'default' }) as Record<
  string,
  CaseJson
>;
const cases = Object.entries(files)
  .map(([path, c]) => ({ id: `${path.split('/').slice(-2, -1)[0]}/${c.name}`, c }))
  .sort((a, b) => (a.id < b.id ? -1 : 1));

/** JSON value to number: the README writes non-finite values as strings. */
function toNumber(v: Json): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity' || v === '+Infinity' || v === 'inf') return Infinity;
  if (v === '-Infinity' || v === '-inf') return -Infinity;
  const n = Number(v);
  if (Number.isNaN(n)) throw new Error(`conformance: unexpected value ${JSON.stringify(v)}`);
  return n;
}

const data = (t: TensorJson | undefined): Float32Array | undefined =>
  t === undefined ? undefined : Float32Array.from(t.data, toNumber);

function attr(c: CaseJson, key: string): unknown {
  return c.attributes?.[key] ?? (c as unknown as Record<string, unknown>)[key];
}

function numAttr(c: CaseJson, key: string, fallback: number): number {
  const v = attr(c, key);
  return v === undefined || v === null ? fallback : toNumber(v as Json);
}

/**
 * Runs one case through normkit or the float64 reference, by the op registry's conformance mapping (the
 * entry whose mapping names the case's `op`); returns the produced outputs in the order of `c.outputs`
 * (y first; then layer_norm's Mean and InvStdDev, or batch-norm training's new running mean and var).
 */
function runCase(impl: 'normkit' | 'reference', c: CaseJson, inputs = c.inputs.map((t) => data(t)!)): ArrayLike<number>[] {
  const e = conformanceEntry(c.op);
  if (!e?.conformance) throw new Error(`conformance: unsupported op ${JSON.stringify(c.op)} in ${c.name}`);
  const vector: ConformanceVector = {
    op: c.op,
    opset: c.opset ?? null,
    shapes: c.inputs.map((t) => t.shape),
    num: (key, fallback) => numAttr(c, key, fallback),
    str: (key, fallback) => String(attr(c, key) ?? fallback),
  };
  const { call, outputs } = e.conformance.toCall(vector, inputs);
  const y = impl === 'reference' ? e.reference(call) : e.run(normkit as unknown as NormkitLike, call);
  return outputs(y).slice(0, c.outputs.length);
}

/** Checks every output against the case's own tolerance and the suite's 1e-4 * max(1, |expected|) criterion. */
function check(c: CaseJson, actual: ArrayLike<number>[]): void {
  const tol = { atol: c.tolerance?.atol ?? 1e-5, rtol: c.tolerance?.rtol ?? 1e-5 };
  expect(actual.length, 'number of outputs produced').toBe(c.outputs.length);
  const problems: string[] = [];
  c.outputs.forEach((out, k) => {
    const expected = data(out)!;
    const label = `${c.name} output ${k} (${out.name}, shape [${out.shape}])`;
    const own = compare(actual[k], expected, tol);
    if (!own.ok) problems.push(describeComparison(own, `${label} vs case tolerance atol ${tol.atol} rtol ${tol.rtol}`));
    const suite = compare(actual[k], expected);
    if (!suite.ok) problems.push(describeComparison(suite, `${label} vs 1e-4 * max(1, |expected|)`));
  });
  expect(problems, problems.join('\n')).toEqual([]);
}

if (cases.length === 0) {
  it.skip('conformance vectors: ../shared/conformance not found — skipped', () => {});
} else {
  describe('conformance vectors', () => {
    beforeAll(async () => {
      await normkit.ready();
    });

    it(`found ${cases.length} cases`, () => {
      expect(cases.length).toBeGreaterThan(0);
    });

    for (const { id, c } of cases) {
      describe(id, () => {
        it('float64 reference matches', () => check(c, runCase('reference', c)));

        it('normkit matches', () => {
          const inputs = c.inputs.map((t) => data(t)!);
          check(c, runCase('normkit', c, inputs));
          // Inputs are never modified (running stats are passed as copies).
          c.inputs.forEach((t, k) => expect(inputs[k], `input ${k} (${t.name}) modified`).toEqual(data(t)));
        });
      });
    }
  });
}
