// npm run bench:floor — why the two-pass ops sit near 2× the roofline on large tensors. For every reference
// shape of 1 MiB or more it times, in one process and as ratios to the roofline, the bare wasm SIMD loops
// that bound a normalization (bench/floor/probes.ts): a copy, a sum, the statistics pass (Σx and Σx²) and
// the apply pass (x·a + b), once with separate multiply and add and once with relaxed SIMD's fused
// multiply-add, beside normkit's zero-copy call; and (issue 12) the float16 and bfloat16 round trips
// through float32 in registers beside normkit's half-precision zero-copy calls. Written to
// bench/results/local/floor.md (git-ignored);
// --write also updates the committed bench/results/floor.md.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CASES, elements, makeInputs, maxError, referenceOutputs, toleranceOf, trafficFloats } from './cases.mjs';
import { environment } from './env.mjs';
import { measure } from './measure.mjs';
import { checkProbes, compileProbes, loadProbes } from './floor/load.mjs';
import { create as normkitPeers } from './peers/normkit.mjs';
import { create as rooflinePeers } from './peers/roofline.mjs';

// Node 20 ships relaxed SIMD behind this V8 flag; newer engines enable it by default.
const RELAXED_FLAG = '--experimental-wasm-relaxed-simd';
const BUDGET = { time: 200, warmupTime: 50 };
const MIB = 2 ** 20;
/** --write: also update the committed report. */
const WRITE = parseArgs({ options: { write: { type: 'boolean', default: false } } }).values.write;

/** One rewritten status line on a terminal; nothing in a log. */
function progress(text) {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${text}`);
}

function reexecWithRelaxedSimd() {
  const script = fileURLToPath(import.meta.url);
  const child = spawnSync(process.execPath, [...process.execArgv, RELAXED_FLAG, script, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, NORMKIT_FLOOR_CHILD: '1' },
  });
  // 9: Node refused the flag (an engine that no longer has it); measure without fused multiply-add.
  return child.status === 9 ? undefined : (child.status ?? 1);
}

async function main() {
  const plainBytes = await compileProbes('simd');
  const relaxedBytes = await compileProbes('simd,relaxed-simd');
  const fma = WebAssembly.validate(relaxedBytes);
  if (!fma && !process.env.NORMKIT_FLOOR_CHILD) {
    const status = reexecWithRelaxedSimd();
    if (status !== undefined) process.exit(status);
  }
  // Correctness first, as in the main benchmark: a probe that computes the wrong thing is not timed.
  await checkProbes(plainBytes, 'plain SIMD');
  if (fma) await checkProbes(relaxedBytes, 'relaxed SIMD');
  const zeroCopy = (await normkitPeers()).find((p) => p.id === 'normkit-zc');
  const [roofline] = await rooflinePeers();
  const reference = await import('../dist/reference.js');
  // The float32 cases; each brings its half-precision ones (issue 12) as columns.
  const cases = CASES.filter((c) => !c.dtype && elements(c.shape) * 4 >= MIB);
  const rows = [];
  for (const c of cases) {
    // As many floats as the roofline copies: x alone for most ops, x and the residual or style otherwise.
    const n = Math.floor(trafficFloats(c) / 2 / 16) * 16;
    const plain = await loadProbes(plainBytes, n);
    const fused = fma ? await loadProbes(relaxedBytes, n) : undefined;
    const tasks = {
      roofline: roofline.prepare(c).run,
      copy: () => plain.k.copy(plain.x, plain.y, n),
      sum: () => plain.k.sum(plain.x, n),
      stats: () => plain.k.moments(plain.x, n),
      apply: () => plain.k.affine(plain.x, plain.y, n, 0.7, 0.3),
      ...(fused && {
        statsFma: () => fused.k.moments(fused.x, n),
        applyFma: () => fused.k.affine(fused.x, fused.y, n, 0.7, 0.3),
      }),
    };
    // Issue 12: n halves in and n out, as many as the op moves floats, each widened and narrowed once.
    tasks.roundTripF16 = () => plain.k.roundTripF16(plain.x, plain.y, n);
    tasks.roundTripBF16 = () => plain.k.roundTripBF16(plain.x, plain.y, n);
    const handles = [];
    for (const [name, k] of [['normkit', c], ...CASES.filter((h) => h.float32 === c.id).map((h) => [`normkit ${h.dtype}`, h])]) {
      const inputs = makeInputs(k);
      const nk = await zeroCopy.prepare(k, inputs);
      nk.run();
      const err = maxError(nk.read().y, referenceOutputs(reference, k, inputs).y);
      if (!(err <= toleranceOf(k))) throw new Error(`normkit zero-copy is wrong on ${k.id}: max error ${err}`);
      tasks[name] = nk.run;
      handles.push(nk);
    }
    const us = {};
    for (const [name, run] of Object.entries(tasks)) {
      progress(`${c.id} · ${name}`);
      us[name] = (await measure(run, false, BUDGET)).medianUs;
    }
    for (const nk of handles) nk.dispose();
    rows.push({ c, n, us });
  }
  progress('');
  const markdown = render(rows, fma);
  process.stdout.write(markdown);
  const local = new URL('./results/local/floor.md', import.meta.url);
  mkdirSync(new URL('.', local), { recursive: true });
  writeFileSync(local, markdown);
  const shown = (url) => relative(process.cwd(), fileURLToPath(url));
  process.stdout.write(`\nWritten to ${shown(local)}.\n`);
  if (WRITE) {
    const committed = new URL('./results/floor.md', import.meta.url);
    writeFileSync(committed, markdown);
    process.stdout.write(`Updated the committed ${shown(committed)}.\n`);
  } else process.stdout.write('The committed bench/results/floor.md is unchanged; run with --write to update it.\n');
}

function render(rows, fma) {
  const x = (v, roof) => (v === undefined ? '–' : `${(v / roof).toFixed(2)}×`);
  const head = ['case', 'floats per pass', 'roofline', 'wasm copy', 'Σx', 'Σx, Σx² (statistics)', 'x·a + b (apply)', 'statistics + apply'];
  if (fma) head.push('statistics, FMA', 'apply, FMA');
  head.push('normkit zero-copy', 'float16 round trip', 'bfloat16 round trip', 'normkit zero-copy float16', 'normkit zero-copy bfloat16');
  const lines = rows.map(({ c, n, us }) => {
    const r = us.roofline;
    const cells = [c.id, `${(n / 2 ** 18).toFixed(2)} MiB`, `${us.roofline.toFixed(1)} µs`, x(us.copy, r), x(us.sum, r), x(us.stats, r), x(us.apply, r), x(us.stats + us.apply, r)];
    if (fma) cells.push(x(us.statsFma, r), x(us.applyFma, r));
    cells.push(x(us.normkit, r), x(us.roundTripF16, r), x(us.roundTripBF16, r), x(us['normkit float16'], r), x(us['normkit bfloat16'], r));
    return `| ${cells.join(' | ')} |`;
  });
  const env = environment();
  return `# Where the time goes: wasm SIMD floors

Generated by \`npm run bench:floor\` on ${new Date().toISOString()}: ${env.cpu}, Node ${env.node}, normkit ${env.normkit}${fma ? '' : '; relaxed SIMD unavailable, so no FMA columns'}.
Medians (tinybench, ${BUDGET.warmupTime} ms warm-up, ${BUDGET.time} ms) as ratios to the roofline (\`Float32Array.prototype.set\` of as many floats), all in one process. Each probe is a bare 128-bit SIMD loop over the same number of floats, four vectors a step, as in normkit's kernels; **statistics + apply** is what two such passes cost back to back. Issue 12: a **round trip** reads n float16 or bfloat16 values, widens them to float32 and narrows them back in registers (assembly/half.ts), and writes n halves (2n halves moved, as the op moves 2n floats): the conversions any half-precision kernel adds to the float32 work, with half the memory traffic. Beside it, normkit's zero-copy call with every array in that dtype.

| ${head.join(' | ')} |
| ${head.map((_, k) => (k < 2 ? '---' : '---:')).join(' | ')} |
${lines.join('\n')}
`;
}

await main();
