/**
 * Node and the browsers must give bit-identical results (DESIGN.md): all run the same .wasm, no relaxed
 * SIMD. This test computes the hashes of every op's outputs here in the browser (Chromium's V8 in project
 * "chromium", Firefox's SpiderMonkey in project "firefox") and asks the Node process (through a vitest
 * browser command) to compute them from the same built package, then compares them case by case.
 */
import { commands } from 'vitest/browser';
import { describe, expect, it } from 'vitest';
import * as dist from '../../dist/index.js';
import * as src from '../../src/index.js';
import { computeOpHashes, type NormkitModule } from './op-hashes.js';

/** "HeadlessChrome/156.0.…" or "Firefox/153.0": the engine this file runs in, for the messages. */
const browserName = navigator.userAgent.match(/(HeadlessChrome|Chrome|Firefox)\/[\d.]+/)?.[0] ?? navigator.userAgent;

describe('Node vs browser bit identity', () => {
  it('every op gives the same output bits in this browser as in Node', async () => {
    const [browser, node] = await Promise.all([
      computeOpHashes(dist as unknown as NormkitModule),
      commands.normkitNodeHashes(),
    ]);
    expect(browser.length).toBeGreaterThan(40);
    expect(node.hashes.map((h) => h.name)).toEqual(browser.map((h) => h.name));
    const errors = browser.filter((h) => h.output.startsWith('error:'));
    expect(errors, 'no op may throw on these valid inputs').toEqual([]);
    // Every differing case is listed, not only the first one.
    const inputDiffs = browser.filter((b, i) => b.input !== node.hashes[i].input).map((b) => b.name);
    expect(inputDiffs, 'cases whose inputs differ (the generator must be engine-independent)').toEqual([]);
    const outputDiffs = browser
      .filter((b, i) => b.output !== node.hashes[i].output || b.elements !== node.hashes[i].elements)
      .map((b) => b.name);
    expect(outputDiffs, `cases whose output bits differ: ${browserName} vs Node ${node.node}`).toEqual([]);
    const elements = browser.reduce((s, h) => s + h.elements, 0);
    console.log(
      `bit identity: ${browser.length} cases, ${elements} output floats identical in ${browserName} and Node ${node.node}`,
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
