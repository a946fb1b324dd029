#!/usr/bin/env node
// Runs the same tinybench task (demo/src/bench-core.js) in Node and in headless Chromium, back to back,
// and prints the medians side by side. The browser side is the built demo (vite build), served by
// `vite preview` with its cross-origin isolation headers, so its timers are as precise as a browser allows.
//
//   npm run bench:browser                              # layerNorm [128, 768], 2 s per task, 2 rounds
//   npm run bench:browser -- --case all --time 1000 --rounds 1 --json out.json
import { Bench } from 'tinybench';
import * as nk from 'normkit'; // this repository's own package (Node resolves the name to ./dist)
import { writeFileSync } from 'node:fs';
import { BENCH_CASES, VARIANTS, benchCase } from './src/bench-core.js';
import { openDemo } from './open-demo.mjs';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}
const caseArg = arg('case', 'layerNorm-128x768');
const time = Number(arg('time', '2000'));
const rounds = Number(arg('rounds', '2'));
const jsonOut = arg('json', undefined);
const cases = caseArg === 'all' ? BENCH_CASES : BENCH_CASES.filter((c) => c.id === caseArg);
if (cases.length === 0) {
  console.error(`unknown case ${caseArg}; one of: all, ${BENCH_CASES.map((c) => c.id).join(', ')}`);
  process.exit(2);
}
const demo = await openDemo();
const results = [];
try {
  const page = await demo.browser.newPage();
  await page.goto(demo.url);
  await page.waitForFunction(() => window.normkitDemo?.ready === true, null, { timeout: 30_000 });
  const isolated = await page.evaluate(() => globalThis.crossOriginIsolated);
  const ua = await page.evaluate(() => navigator.userAgent.match(/(HeadlessChrome|Chrome)\/[\d.]+/)?.[0]);
  console.log(`Node ${process.version} vs ${ua} (crossOriginIsolated=${isolated}); ${time} ms per task, ${rounds} round(s)\n`);

  for (const spec of cases) {
    for (let round = 1; round <= rounds; round++) {
      const node = await benchCase(Bench, nk, spec, { time });
      const web = await page.evaluate(([id, t]) => window.normkitDemo.runBenchCase(id, { time: t }), [spec.id, time]);
      for (const v of VARIANTS) {
        const n = node.find((r) => r.variant === v);
        const w = web.find((r) => r.variant === v);
        results.push({ case: spec.id, label: spec.label, round, variant: v, node: n, chromium: w });
      }
    }
  }
} finally {
  await demo.close();
}

const us = (ms) => (ms * 1000).toFixed(2).padStart(9);
console.log('case                                   round  implementation        Node median  Chromium median  Chromium/Node');
for (const r of results) {
  console.log(
    `${r.label.padEnd(38)} ${String(r.round).padStart(5)}  ${r.variant.padEnd(20)} ${us(r.node.medianMs)} µs   ${us(r.chromium.medianMs)} µs      ${(r.chromium.medianMs / r.node.medianMs).toFixed(2)}×`,
  );
}
if (jsonOut) {
  writeFileSync(jsonOut, JSON.stringify({ node: process.version, time, rounds, results }, null, 2));
  console.log(`\nwrote ${jsonOut}`);
}
