// Random differential test: every op of the registry against the float64 reference over thousands of
// shapes (fixed seed), from the registry's generator: odd extents, ranks 2-5, both layouts, every axis,
// optional affine, residual/sumOut, mean/invStd, batch-norm inference and training (both running-stat
// conventions), group counts, AdaIN style batch N and 1, offsets and scales. Every output buffer is compared
// with |a - e| <= 1e-4 * max(1, |e|).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as normkit from '../src/index.js';
import { compare, describeComparison, ErrorTracker } from './support/compare.js';
import { cloneCall, comparedOutputs, ENTRIES, type NormkitLike, type OpEntry } from './support/registry.js';
import { makeRng, type Rng } from './support/rng.js';

const SEED = 0x5eed_2024;
const nk = normkit as unknown as NormkitLike;
const overall = new ErrorTracker();
let shapesRun = 0;
const perOp: string[] = [];

/** One random scenario: `call` runs an op on either implementation and returns every output to compare. */
interface Scenario {
  label: string;
  size: number;
  call(impl: 'normkit' | 'reference'): { outputs: ArrayLike<number>[]; returned: ArrayLike<number>; out?: unknown };
}

/**
 * A random call of the registry's generator (odd extents, ranks 2-5, both layouts, every axis, optional
 * affine, residual/sumOut, mean/invStd, running statistics in both conventions, group counts, style batch N
 * and 1, offsets and scales over several magnitudes). Compared: y, every output the call writes, and the
 * statistics it only reads (inference's running statistics must come back unchanged).
 */
function scenario(e: OpEntry, rng: Rng, maxSize: number): Scenario {
  const g = e.generate(rng, { maxSize });
  return {
    label: g.label,
    size: e.dims(g.call).length,
    call(impl) {
      const c = cloneCall(g.call);
      const returned = impl === 'normkit' ? e.run(nk, c) : e.reference(c);
      return { outputs: comparedOutputs(e.id, c, returned, g.scale), returned, out: c.options.out };
    },
  };
}

/** Runs `count` small scenarios plus `large` big ones; asserts every output within 1e-4. */
function runMany(name: string, seed: number, count: number, large: number, make: (rng: Rng, maxSize: number) => Scenario) {
  it(`${name}: ${count + large} random shapes`, () => {
    const rng = makeRng(seed);
    const failures: string[] = [];
    const local = new ErrorTracker();
    for (let k = 0; k < count + large; k++) {
      const scenario = make(rng, k < count ? 600 : 40_000);
      const got = scenario.call('normkit');
      const want = scenario.call('reference');
      if (got.out && got.returned !== got.out && failures.length < 8) failures.push(`#${k} ${scenario.label}: did not return \`out\``);
      got.outputs.forEach((actual, j) => {
        const c = compare(actual, want.outputs[j]);
        local.record(c.maxError, `#${k} ${scenario.label} output ${j}`);
        if (!c.ok && failures.length < 8) failures.push(describeComparison(c, `#${k} ${scenario.label} output ${j}`));
      });
    }
    shapesRun += count + large;
    perOp.push(`${name} ${local.max.toExponential(2)}`);
    overall.count += local.count;
    if (local.max > overall.max) {
      overall.max = local.max;
      overall.where = local.where;
    }
    expect(failures, failures.join('\n')).toEqual([]);
  });
}

describe('differential vs float64 reference', () => {
  beforeAll(async () => {
    await normkit.ready();
  });

  afterAll(() => {
    console.log(
      `differential: max scaled error ${overall.max.toExponential(3)} over ${shapesRun} random shapes ` +
        `(${overall.count} output comparisons)` +
        (overall.where ? ` (at ${overall.where})` : '') +
        `; per op: ${perOp.join(', ')}`,
    );
  });

  // Every op of the registry (batchNorm in inference and in training are two entries).
  ENTRIES.forEach((e, k) => runMany(e.id, SEED + 1 + k, 500, 10, (rng, m) => scenario(e, rng, m)));
});
