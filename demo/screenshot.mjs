#!/usr/bin/env node
// Regenerates docs/demo.png, the README's picture of the demo: opens the built demo (vite preview, with
// its COOP/COEP headers) in headless Chromium, selects GroupNorm with 3 groups, runs the live benchmark
// briefly and takes a reduced-scale (0.7) screenshot from the top to the bar chart (about 270 KB).
//
//   npm run build && npx vite build --config demo/vite.config.ts && node demo/screenshot.mjs [out.png]
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDemo } from './open-demo.mjs';

const out = process.argv[2] ?? fileURLToPath(new URL('../docs/demo.png', import.meta.url));
const demo = await openDemo();
try {
  const page = await demo.browser.newPage({ viewport: { width: 1120, height: 900 }, deviceScaleFactor: 0.7 });
  await page.goto(`${demo.url}?benchTime=250`);
  await page.waitForSelector('body[data-ready=true]');
  await page.selectOption('#groups', '3');
  await page.check('input[name=op][value=group]');
  await page.click('#panels .cell[data-n="1"][data-c="3"][data-s="0"]');
  await page.click('#bench-run');
  await page.waitForSelector('#bench[data-bench-state=done]', { timeout: 300_000 });
  mkdirSync(dirname(out), { recursive: true });
  // From the top of the page to the end of the bar chart (the table below it is left out).
  const [bottom, width] = await page.evaluate(() => {
    const r = document.querySelector('#bench-chart').getBoundingClientRect();
    return [r.bottom + window.scrollY, document.documentElement.scrollWidth];
  });
  await page.screenshot({
    path: out,
    fullPage: true,
    clip: { x: 0, y: 0, width, height: Math.ceil(bottom + 8) },
  });
  console.log(`wrote ${out} (${Math.round(statSync(out).size / 1024)} KB)`);
} finally {
  await demo.close();
}
