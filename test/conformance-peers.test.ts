/// <reference types="vite/client" />
// Every peer case natively (issue 10): the unit-test cases of onnxruntime (CPU and contrib ops, its web test
// data), TensorFlow.js and PyTorch in ../shared/conformance/peers, each run as ONE normkit call mapped directly
// from the peer's operator and attributes (test/support/peers.ts) and compared with the peer's own tolerance.
// expect_error cases must throw a NormkitError. Loaded with import.meta.glob (no fs), so this also runs in the
// browsers.
//
// float16/bfloat16 tensors run natively (issue 12) as Uint16Array bits with the `dtype` option.
// Cases left out are listed below by name, so the count is visible:
// - WAITING_FOR_FEATURE: an issue-10 option normkit does not take yet. These still run: while normkit refuses
//   the listed option with UNKNOWN_OPTION the test is skipped at run time; once the option exists the case
//   must pass, and the test FAILS while it is still listed ("remove it from WAITING_FOR_FEATURE").
// - NOT_EXPRESSIBLE: none at the moment (float64 cases run in float32: their inputs are float32 values, checked).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as normkit from '../src/index.js';
import {
  checkOutput, describeTolerance, fromBfloat16Bits, fromFloat16Bits, mapPeerCase, NotExpressible, runPeerCall,
  toBfloat16Bits, toFloat16Bits, toNumber, usesHalf, type PeerCase, type PeerNormkit,
} from './support/peers.js';

const files = import.meta.glob('../../shared/conformance/peers/*/*.json', { eager: true, import: 'default' }) as Record<
  string,
  PeerCase
>;
const cases = Object.entries(files)
  .map(([path, c]) => ({ folder: path.split('/').slice(-2, -1)[0], c }))
  .map(({ folder, c }) => ({ id: `${folder}/${c.name}`, folder, c }))
  .sort((a, b) => (a.id < b.id ? -1 : 1));

/**
 * Cases whose mapping uses an issue-10 option normkit does not take yet (case → the options it waits for). A
 * listed case is skipped while normkit answers UNKNOWN_OPTION for one of these options, and fails once it
 * passes (then remove it here).
 */
const WAITING_FOR_FEATURE: Readonly<Record<string, readonly string[]>> = {};

/** Cases no normkit call expresses, with the reason. */
const NOT_EXPRESSIBLE: Readonly<Record<string, string>> = {};

type Outcome = 'passed' | 'waiting (feature)' | 'not expressible' | 'failed';
const OUTCOMES: readonly Outcome[] = ['passed', 'waiting (feature)', 'not expressible', 'failed'];
const tally = new Map<string, Record<Outcome, number>>();
function count(folder: string, outcome: Outcome): void {
  if (!tally.has(folder)) tally.set(folder, Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>);
  tally.get(folder)![outcome]++;
}

/** The option an UNKNOWN_OPTION error names ("options.<name>: ..."). */
function unknownOption(e: unknown): string | undefined {
  if (!(e instanceof normkit.NormkitError) || e.code !== 'UNKNOWN_OPTION') return undefined;
  return /^options\.([A-Za-z0-9_$]+)/.exec(e.message)?.[1] ?? '?';
}

/** Runs one case; returns normally when it passes, throws with every problem otherwise. */
function runCase(id: string, c: PeerCase): void {
  const call = mapPeerCase(c);
  const how = `${call.api}(x, [${call.shape}]${call.numGroups !== undefined ? `, ${call.numGroups}` : ''}, {${Object.keys(call.options).join(', ')}})${
    call.notes.length ? `; ${call.notes.join('; ')}` : ''
  }`;
  let outputs: number[][];
  try {
    outputs = runPeerCall(normkit as unknown as PeerNormkit, call);
  } catch (e) {
    if (unknownOption(e) !== undefined) throw e;
    if (c.expect_error) {
      expect(e, `${id}: expected a NormkitError from ${how}`).toBeInstanceOf(normkit.NormkitError);
      expect((e as normkit.NormkitError).code, `${id}: refused for the wrong reason (${(e as Error).message})`).not.toBe('INVALID_TENSOR');
      return;
    }
    throw new Error(`${id}: ${how} threw ${(e as Error).name}: ${(e as Error).message}`, { cause: e });
  }
  if (c.expect_error) throw new Error(`${id}: the peer refuses this call (${c.notes ?? ''}) but ${how} accepted it`);
  const problems: string[] = [];
  call.outputs.forEach(({ tensor }, k) => {
    const tol = c.tolerance[tensor.name];
    if (tol === undefined) {
      problems.push(`output ${tensor.name}: the case gives no tolerance`);
      return;
    }
    const r = checkOutput(outputs[k], tensor.data.map(toNumber), tol);
    if (!r.ok) problems.push(`output ${tensor.index} ${tensor.name} [${tensor.shape}]: ${r.failures} value(s) outside ${describeTolerance(tol)}, first ${r.first}`);
  });
  for (const u of call.unchanged) {
    if (!u.array.every((v, i) => Object.is(v, u.before[i]))) problems.push(`input ${u.name} was modified`);
  }
  if (problems.length) throw new Error(`${id}: ${how}\n  ${problems.join('\n  ')}`);
}

if (cases.length === 0) {
  const msg = '!! peer conformance: ../shared/conformance/peers NOT FOUND -- every peer case (issue 10) SKIPPED';
  console.warn(`\n${'!'.repeat(100)}\n${msg}\n${'!'.repeat(100)}\n`);
  it.skip('peer conformance cases: ../shared/conformance/peers not found — skipped', () => {});
} else {
  describe('peer conformance cases (onnxruntime, onnxruntime-web, TensorFlow.js, PyTorch)', () => {
    beforeAll(async () => {
      await normkit.ready();
    });

    afterAll(() => {
      const lines = [...tally.entries()]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([folder, t]) => `  peers/${folder}: ${OUTCOMES.map((o) => `${t[o]} ${o}`).join(', ')}`);
      console.log(`peer conformance summary\n${lines.join('\n')}`);
    });

    it('the WAITING and NOT_EXPRESSIBLE lists name real cases, and no half-precision case is left out', () => {
      const ids = new Set(cases.map((k) => k.id));
      const unknown = [...Object.keys(WAITING_FOR_FEATURE), ...Object.keys(NOT_EXPRESSIBLE)].filter((n) => !ids.has(n));
      expect(unknown, 'listed names that are not cases').toEqual([]);
      const half = cases.filter((k) => usesHalf(k.c)).map((k) => k.id);
      expect(half.length, 'half-precision peer cases (issue 12)').toBe(54);
      expect(half.filter((id) => id in NOT_EXPRESSIBLE || id in WAITING_FOR_FEATURE)).toEqual([]);
    });

    it('half-precision bit patterns of every float16/bfloat16 value in the cases round-trip exactly', () => {
      for (const { id, c } of cases) {
        for (const t of [...c.inputs, ...c.outputs]) {
          if (t.dtype !== 'float16' && t.dtype !== 'bfloat16') continue;
          const [to, from] = t.dtype === 'float16' ? [toFloat16Bits, fromFloat16Bits] : [toBfloat16Bits, fromBfloat16Bits];
          const bad = t.data.map(toNumber).filter((v) => !Object.is(from(to(v)), v));
          expect(bad, `${id} ${t.name} (${t.dtype})`).toEqual([]);
        }
      }
    });

    for (const { id, folder, c } of cases) {
      if (id in NOT_EXPRESSIBLE) {
        count(folder, 'not expressible');
        it.skip(`${id} — not expressible: ${NOT_EXPRESSIBLE[id]}`, () => {});
        continue;
      }
      const waiting = WAITING_FOR_FEATURE[id];
      it(waiting ? `${id} — waiting for ${waiting.join(', ')}` : id, (ctx) => {
        try {
          runCase(id, c);
        } catch (e) {
          const option = unknownOption(e);
          if (option !== undefined && waiting?.includes(option)) {
            count(folder, 'waiting (feature)');
            ctx.skip(`normkit does not take ${option} yet`);
          }
          count(folder, 'failed');
          if (option !== undefined) {
            throw new Error(
              `${id}: normkit does not take the option ${option} (UNKNOWN_OPTION). If it is an issue-10 option not built yet, ` +
                `list the case in WAITING_FOR_FEATURE (→ ['${option}']); otherwise fix the mapping. ${(e as Error).message}`,
            );
          }
          if (e instanceof NotExpressible) throw new Error(`${id}: the mapping says it is not expressible (${e.message}); list it in NOT_EXPRESSIBLE`);
          throw e;
        }
        if (waiting) {
          count(folder, 'failed');
          throw new Error(`${id} passes now: remove it from WAITING_FOR_FEATURE (it waited for ${waiting.join(', ')})`);
        }
        count(folder, 'passed');
      });
    }
  });
}
