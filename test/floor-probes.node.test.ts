// The loops that `npm run bench:floor` times (bench/floor/probes.ts) compute what they claim, in both
// builds, so that their timings measure real work.
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { compileProbes, probeErrors, PROBE_TOLERANCE } from '../bench/floor/load.mjs';

const LOAD = new URL('../bench/floor/load.mjs', import.meta.url).href;

function expectWithinTolerance(worst: Record<string, number>) {
  for (const [probe, err] of Object.entries(PROBE_TOLERANCE)) expect(worst[probe], probe).toBeLessThanOrEqual(err);
  // The reference is not the probe's own output: an all-zero or unrun result would be far off.
  expect(Object.keys(worst).sort()).toEqual(Object.keys(PROBE_TOLERANCE).sort());
}

describe('bench:floor probes', () => {
  it('plain SIMD: copy, Σx, Σx + Σx² and x·a + b match a float64 reference', async () => {
    expectWithinTolerance(await probeErrors(await compileProbes('simd')));
  });

  it('relaxed SIMD (fused multiply-add): the same, in a Node started with the flag it needs', () => {
    // Node 20 enables relaxed SIMD only with a V8 flag, which a running process cannot turn on.
    const script = `
      import { compileProbes, probeErrors } from ${JSON.stringify(LOAD)};
      process.stdout.write(JSON.stringify(await probeErrors(await compileProbes('simd,relaxed-simd'))));
    `;
    const out = execFileSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    expectWithinTolerance(JSON.parse(out));
  });
});
