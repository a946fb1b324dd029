// npm run bench: every peer family in its own fresh Node process per pass, results merged (best median of
// the passes), printed as markdown and written to bench/results/latest.{json,md}.
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { selectCases } from './cases.mjs';
import { cpuSnapshot, environment, otherCores } from './env.mjs';
import { evaluateTargets, renderMarkdown, summarize } from './report.mjs';

/**
 * Families sharing a process: normkit runs beside the plain-JS peer and the roofline so the ratios that
 * matter most come from one process; the runtimes with their own wasm instances or native threads get
 * a process each.
 */
const PROCESSES = [['normkit', 'js', 'roofline'], ['ort-node'], ['ort-web'], ['tfjs']];
const IMPLS_PER_PROCESS = [5, 1, 1, 1];

const BUDGETS = {
  full: { passes: 3, time: 200, warmupTime: 50 },
  quick: { passes: 1, time: 60, warmupTime: 15 },
};

const USAGE = `usage: node bench/run.mjs [--op NAME[,NAME]] [--shape D,D,...] [--quick] [--passes N]
  --op      layernorm, skiplayernorm, rmsnorm, batchnorm, batchnorm-train, instancenorm, groupnorm, adain
            (or a normkit function name: layerNorm selects layernorm and skiplayernorm); repeatable
  --shape   exact dimensions, e.g. 8,512,768; repeatable
  --quick   one pass with a short time budget (about a minute for everything)
  --passes  override the number of passes (default 3, --quick 1)`;

function options() {
  const { values } = parseArgs({
    options: {
      op: { type: 'string', multiple: true, default: [] },
      shape: { type: 'string', multiple: true, default: [] },
      quick: { type: 'boolean', default: false },
      passes: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const settings = { ...BUDGETS[values.quick ? 'quick' : 'full'] };
  if (values.passes !== undefined) settings.passes = Math.max(1, Number.parseInt(values.passes, 10) || 1);
  const ops = values.op.flatMap((o) => o.split(',')).filter(Boolean);
  const cases = selectCases({ ops, shapes: values.shape });
  if (cases.length === 0) {
    console.error(`no case matches --op ${ops.join(',') || '*'} --shape ${values.shape.join(' ') || '*'}\n${USAGE}`);
    process.exit(2);
  }
  return { settings, cases };
}

/** Live progress on stderr: one rewritten line on a terminal, a line every few seconds otherwise. */
function progressReporter(total) {
  const start = performance.now();
  let done = 0;
  let lastPrinted = 0;
  return {
    step(label) {
      const now = performance.now();
      const text = `[${done}/${total} · ${((now - start) / 1000).toFixed(0)} s] ${label}`;
      done += 1;
      if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${text}`);
      else if (now - lastPrinted > 5000) {
        process.stderr.write(`${text}\n`);
        lastPrinted = now;
      }
    },
    end() {
      if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    },
  };
}

function runProcess(families, job, pass, sink, progress) {
  return new Promise((resolve) => {
    const child = fork(new URL('./worker.mjs', import.meta.url), [], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      // Structured clone keeps an error of Infinity (NaN output) intact; JSON would turn it into null.
      serialization: 'advanced',
    });
    let stderr = '';
    let finished = false;
    child.stderr.on('data', (d) => (stderr += d));
    child.on('message', (m) => {
      if (m.type === 'progress') progress.step(`pass ${pass} · ${m.impl} · ${m.case}`);
      else if (m.type === 'result') sink.results.push({ pass, ...m });
      else if (m.type === 'impl') sink.impls[m.id] ??= m;
      else if (m.type === 'family-error') sink.familyErrors.push(m);
      else if (m.type === 'fatal') sink.familyErrors.push({ family: families.join('+'), message: m.message });
      else if (m.type === 'done') finished = true;
    });
    child.on('exit', (code) => {
      if (!finished) {
        const message = `process exited (${code}) before finishing: ${stderr.trim().split('\n').slice(-3).join(' | ')}`;
        sink.familyErrors.push({ family: families.join('+'), message });
      }
      resolve();
    });
    child.send({ ...job, families });
  });
}

async function main() {
  const { settings, cases } = options();
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const sink = { results: [], impls: {}, familyErrors: [] };
  const perPass = IMPLS_PER_PROCESS.reduce((a, b) => a + b, 0) * cases.length;
  const progress = progressReporter(perPass * settings.passes);
  const job = { caseIds: cases.map((c) => c.id), budget: { time: settings.time, warmupTime: settings.warmupTime } };
  // Other work on a 2-core machine preempts long calls: measure how much there was, per pass.
  const contention = [];
  const first = cpuSnapshot();
  for (let pass = 1; pass <= settings.passes; pass++) {
    const before = cpuSnapshot();
    for (const families of PROCESSES) await runProcess(families, job, pass, sink, progress);
    contention.push(otherCores(before, cpuSnapshot()));
  }
  contention.unshift(otherCores(first, cpuSnapshot()));
  progress.end();

  const table = summarize(cases, sink.results);
  const targets = evaluateTargets(cases, table);
  const env = environment();
  const report = {
    cases,
    table,
    targets,
    impls: sink.impls,
    env,
    settings,
    // A family that fails in every pass is reported once.
    familyErrors: sink.familyErrors.filter((e, k, all) => all.findIndex((o) => o.family === e.family) === k),
    startedAt,
    contention,
    wallSeconds: (performance.now() - t0) / 1000,
    argv: process.argv.slice(2),
  };
  const markdown = renderMarkdown(report);
  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  writeFileSync(new URL('latest.md', dir), markdown);
  writeFileSync(
    new URL('latest.json', dir),
    JSON.stringify(
      { ...report, targets: targets.map(({ format, ...t }) => t), results: sink.results },
      (_, v) => (v === Infinity ? 'Infinity' : v),
      1,
    ),
  );
  process.stdout.write(markdown);
}

await main();
