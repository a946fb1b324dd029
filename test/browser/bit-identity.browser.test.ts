/**
 * Node and Chromium must give bit-identical results (DESIGN.md): both run the same .wasm, no relaxed SIMD.
 * This test computes the hashes of every op's outputs here in Chromium and asks the Node process (through
 * a vitest browser command) to compute them from the same built package, then compares them case by case.
 */
import { commands } from 'vitest/browser';
import { describe, expect, it } from 'vitest';
import * as dist from '../../dist/index.js';
import * as src from '../../src/index.js';
import { computeOpHashes, type NormkitModule } from './op-hashes.js';

describe('Node vs Chromium bit identity', () => {
  it('every op gives the same output bits in Chromium as in Node', async () => {
    const [browser, node] = await Promise.all([
      computeOpHashes(dist as unknown as NormkitModule),
      commands.normkitNodeHashes(),
    ]);
    expect(browser.length).toBeGreaterThan(40);
    expect(node.hashes.map((h) => h.name)).toEqual(browser.map((h) => h.name));
    const errors = browser.filter((h) => h.output.startsWith('error:'));
    expect(errors, 'no op may throw on these valid inputs').toEqual([]);
    for (let i = 0; i < browser.length; i++) {
      const b = browser[i];
      const n = node.hashes[i];
      expect(b.input, `inputs of "${b.name}" (generator must be engine-independent)`).toBe(n.input);
      expect(b.output, `output bits of "${b.name}" differ: Chromium vs Node ${node.node}`).toBe(n.output);
      expect(b.elements).toBe(n.elements);
    }
    const elements = browser.reduce((s, h) => s + h.elements, 0);
    console.log(
      `bit identity: ${browser.length} cases, ${elements} output floats identical in ` +
        `${navigator.userAgent.match(/(Headless)?Chrome\/[\d.]+/)?.[0]} and Node ${node.node}`,
    );
  });

  it('the source the browser suite tests and the built package give the same bits here', async () => {
    const [a, b] = await Promise.all([
      computeOpHashes(src as unknown as NormkitModule),
      computeOpHashes(dist as unknown as NormkitModule),
    ]);
    expect(a).toEqual(b);
  });
});
