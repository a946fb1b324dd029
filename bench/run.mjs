// npm run bench: every peer family in its own fresh Node process per pass, results merged (best median of
// the passes). Prints a short summary (fastest implementation and normkit's speed-ups per case, the targets,
// correctness) and writes the full report to bench/results/local/latest.{md,json} (git-ignored); --write
// also updates the committed bench/results/latest.md. Exits with 1 when a correctness check fails.
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { selectCases } from './cases.mjs';
import { cpuSnapshot, environment, otherCores } from './env.mjs';
import { evaluateTargets, failures, renderMarkdown, renderSummary, summarize, waitShare } from './report.mjs';

/**
 * Families sharing a process: normkit runs beside the plain-JS peer and the roofline so the ratios that
 * matter most come from one process; the runtimes with their own wasm instances or native threads get
 * a process each; normkit with threads too, since its shared memory would slow the one-thread copy mode.
 */
const PROCESSES = [['normkit', 'js', 'roofline'], ['normkit-mt'], ['ort-node'], ['ort-web'], ['ort-web-mt'], ['tfjs']];
const IMPLS_PER_PROCESS = [5, 2, 2, 1, 1, 1];

const BUDGETS = {
  full: { passes: 3, time: 200, warmupTime: 50 },
  quick: { passes: 1, time: 60, warmupTime: 15 },
};

const USAGE = `usage: node bench/run.mjs [--op NAME[,NAME]] [--shape D,D,...] [--quick] [--passes N] [--write]
  --op      layernorm, skiplayernorm, rmsnorm, batchnorm, batchnorm-train, instancenorm, groupnorm, adain,
            and issue 10's groupnorm-silu, skipgroupnorm, layernorm-adaln, skiplayernorm-bias (each brings
            the same op without the option along); or a normkit function name: layerNorm selects every
            layerNorm case; repeatable
  --shape   exact dimensions, e.g. 8,512,768; repeatable
  --quick   one pass with a short time budget (about a minute for everything)
  --passes  override the number of passes (default 3, --quick 1)
  --write   also update the committed report, bench/results/latest.md
The full report always goes to bench/results/local/latest.md (and .json), which git ignores.
Exit code: 0 when every implementation's output passed the correctness check, 1 when one did not (or an
implementation failed to run), 2 for a usage error. Missed speed targets do not change the exit code.`;

function options() {
  const { values } = parseArgs({
    options: {
      op: { type: 'string', multiple: true, default: [] },
      shape: { type: 'string', multiple: true, default: [] },
      quick: { type: 'boolean', default: false },
      passes: { type: 'string' },
      write: { type: 'boolean', default: false },
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
  return { settings, cases, write: values.write };
}

const clock = (seconds) => {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};

/**
 * Live progress on stderr with an estimate of the time left: one rewritten line on a terminal, a line every
 * 10 s otherwise. In the first pass the estimate is the average time per task so far; after it, each later
 * pass is expected to take as long as the first did at the same task (tasks differ a lot: process start-up,
 * slow peers on large shapes).
 */
function progressReporter(perPass, passes) {
  const total = perPass * passes;
  const start = performance.now();
  /** Seconds from the start of pass 1 to the start of each of its tasks, and then to its end. */
  const firstPass = [];
  let done = 0;
  let lastPrinted = -Infinity;
  const estimateLeft = (elapsed) => {
    if (done <= perPass) firstPass.push(elapsed);
    if (done === 0) return undefined;
    const passLength = firstPass[perPass];
    // Linear in pass 1, and whenever pass 1 did not report every task (a peer that could not start).
    if (done < perPass || passLength === undefined || firstPass.length !== perPass + 1) return (elapsed / done) * (total - done);
    const pass = Math.floor(done / perPass);
    return passLength - firstPass[done % perPass] + (passes - pass - 1) * passLength;
  };
  return {
    step(label) {
      const now = performance.now();
      const elapsed = (now - start) / 1000;
      const left = estimateLeft(elapsed);
      const eta = left === undefined ? 'estimating' : `about ${clock(left)} left`;
      const text = `[${done}/${total} tasks · ${clock(elapsed)} elapsed · ${eta}] ${label}`;
      done += 1;
      if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${text.slice(0, (process.stderr.columns || 120) - 1)}`);
      else if (now - lastPrinted > 10_000) {
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

/** Writes `text` to the file at `url` (creating its folder) and returns its path relative to the working directory. */
function write(url, text) {
  mkdirSync(new URL('.', url), { recursive: true });
  writeFileSync(url, text);
  return relative(process.cwd(), fileURLToPath(url)) || fileURLToPath(url);
}

async function main() {
  const { settings, cases, write: updateCommitted } = options();
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const sink = { results: [], impls: {}, familyErrors: [] };
  const perPass = IMPLS_PER_PROCESS.reduce((a, b) => a + b, 0) * cases.length;
  const progress = progressReporter(perPass, settings.passes);
  const job = { caseIds: cases.map((c) => c.id), budget: { time: settings.time, warmupTime: settings.warmupTime } };
  // Other work on a 2-core machine preempts long calls: measure how much CPU other processes used, per pass
  // (for the record), and how long the timing threads themselves waited for a CPU (what decides "busy").
  const contention = [];
  const first = cpuSnapshot();
  for (let pass = 1; pass <= settings.passes; pass++) {
    const before = cpuSnapshot();
    for (const families of PROCESSES) await runProcess(families, job, pass, sink, progress);
    contention.push(otherCores(before, cpuSnapshot()));
  }
  contention.unshift(otherCores(first, cpuSnapshot()));
  progress.end();
  const preemption = [waitShare(sink.results)];
  for (let pass = 1; pass <= settings.passes; pass++) preemption.push(waitShare(sink.results.filter((r) => r.pass === pass)));

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
    contention: contention.every((c) => c !== undefined) ? contention : [],
    preemption: preemption[0] === undefined ? [] : preemption,
    wallSeconds: (performance.now() - t0) / 1000,
    argv: process.argv.slice(2),
    results: sink.results,
  };
  const markdown = renderMarkdown(report);
  const local = new URL('./results/local/', import.meta.url);
  const mdPath = write(new URL('latest.md', local), markdown);
  const jsonPath = write(
    new URL('latest.json', local),
    JSON.stringify(
      { ...report, targets: targets.map(({ format, ...t }) => t) },
      (_, v) => (v === Infinity ? 'Infinity' : v),
      1,
    ),
  );
  process.stdout.write(renderSummary(report));
  process.stdout.write(`\nFull report (all tables): ${mdPath}; raw numbers: ${jsonPath}\n`);
  if (updateCommitted) {
    process.stdout.write(`Updated the committed report: ${write(new URL('./results/latest.md', import.meta.url), markdown)}\n`);
  } else {
    process.stdout.write('The committed report (bench/results/latest.md) is unchanged; run with --write to update it.\n');
  }
  if (failures(report).length) process.exitCode = 1;
}

await main();
