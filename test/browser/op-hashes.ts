/**
 * Runs a selection of the output-hash corpus (test/corpus/cases.ts: every op of the registry, both layouts,
 * options, odd sizes, offsets, constant and non-finite groups, copy mode in several passes and zero-copy) and
 * hashes the output bits (SHA-256). The same function runs in Node (through a vitest browser command) and in
 * Chromium, and the bit-identity test compares the two sets of hashes. It takes the normkit module as an
 * argument so each side can pass the build it loaded, and uses only web-standard APIs (crypto.subtle).
 *
 * Inputs come from an integer-only generator (test/support/hashing.ts), so they cannot differ between JS
 * engines; the input hashes are compared too, so a mismatch in the outputs is always the kernels' doing.
 */
import type * as Normkit from '../../src/index.js';
import { corpusCases, inputArrays, makeInputs, MODES, runCase, type CorpusCase, type Mode } from '../corpus/cases.js';
import { hashArrays } from '../support/hashing.js';

export { filled, hashArrays, makeGen } from '../support/hashing.js';

export type NormkitModule = typeof Normkit;

export interface OpHash {
  /** Case name and mode, e.g. "groupNorm NHWC [2,37,6] G=3 weight+bias (copy)". */
  name: string;
  /** SHA-256 of the inputs' bits (all arrays of the case, in order). */
  input: string;
  /** SHA-256 of every output array's bits (NaNs canonicalized), or "error: <code> <message>". */
  output: string;
  /** Output element count (all arrays) for the report. */
  elements: number;
}

/**
 * Every fifth corpus case, and the first of each (op, layout, family), in both modes: about a fifth of the
 * corpus, so that the three runs of the bit-identity test stay short.
 */
export function opHashCases(): CorpusCase[] {
  const seen = new Set<string>();
  return corpusCases().filter((c, i) => {
    const key = `${c.op} ${c.training} ${c.layout} ${c.family}`;
    const first = !seen.has(key);
    seen.add(key);
    return first || i % 5 === 0;
  });
}

/**
 * The runs of a case: float32 in both modes, and half precision (issue 12: the conversions at the staging
 * boundary), float16 in plain Uint16Arrays and bfloat16 in Tensors on alternate cases.
 */
function runsOf(k: number): Array<[Mode, 'float16' | 'bfloat16' | undefined]> {
  return [...MODES.map((m): [Mode, undefined] => [m, undefined]), k % 2 === 0 ? ['copy', 'float16'] : ['tensor', 'bfloat16']];
}

/** Runs every case; an op that throws yields an "error: ..." hash instead of aborting the whole run. */
export async function computeOpHashes(nk: NormkitModule): Promise<OpHash[]> {
  await nk.ready();
  const result: OpHash[] = [];
  for (const [k, c] of opHashCases().entries()) {
    for (const [mode, dtype] of runsOf(k)) {
      const inputs = makeInputs(c);
      const input = await hashArrays(inputArrays(inputs));
      let output: string;
      let elements = 0;
      try {
        const arrays = runCase(nk, c, mode, inputs, dtype);
        elements = arrays.reduce((s, a) => s + a.length, 0);
        output = await hashArrays(arrays);
      } catch (e) {
        const err = e as { code?: string; message?: string };
        output = `error: ${err.code ?? ''} ${err.message ?? String(e)}`;
      }
      result.push({ name: `${c.name} (${dtype ?? ''}${dtype ? ' ' : ''}${mode})`, input, output, elements });
    }
  }
  return result;
}
