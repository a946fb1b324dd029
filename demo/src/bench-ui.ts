/**
 * The live benchmark: tinybench in a Web Worker (bench-worker.ts), with progress, cancel, a bar chart and
 * a table. The page's main thread only draws.
 */
import { BENCH_CASES, VARIANTS, type BenchOptions, type BenchRow } from './bench-core.js';
import type { FromWorker, ToWorker } from './bench-worker.js';

const VARIANT_CLASS = ['bar-copy', 'bar-zero', 'bar-js'];

export function fmtTime(ms: number): string {
  const us = ms * 1000;
  return us < 1000 ? `${us.toFixed(us < 10 ? 2 : 1)} µs` : `${ms.toFixed(2)} ms`;
}

/** Smallest non-zero step of performance.now() seen over a short sampling loop, in ms. */
export function timerResolution(): number {
  let best = Infinity;
  let last = performance.now();
  for (let i = 0; i < 20000 && best > 1e-6; i++) {
    const t = performance.now();
    if (t !== last) {
      best = Math.min(best, t - last);
      last = t;
    }
  }
  return best;
}

const newWorker = () => new Worker(new URL('./bench-worker.ts', import.meta.url), { type: 'module', name: 'normkit-bench' });

/**
 * Runs one reference case by id in a fresh worker, for scripts that drive this page
 * (demo/node-vs-chromium.mjs).
 */
export function runBenchCase(id: string, options: BenchOptions = {}): Promise<BenchRow[]> {
  const worker = newWorker();
  return new Promise<BenchRow[]>((resolve, reject) => {
    let rows: BenchRow[] = [];
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      if (m.type === 'rows') rows = m.rows;
      else if (m.type === 'done') resolve(rows);
      else if (m.type === 'error') reject(new Error(m.message));
    };
    worker.onerror = (e) => reject(new Error(e.message));
    const msg: ToWorker = { type: 'run', time: options.time ?? 500, cases: [id], variants: options.variants, threads: options.threads };
    worker.postMessage(msg);
  }).finally(() => worker.terminate());
}

function renderChart(el: HTMLElement, rows: BenchRow[]) {
  const cases = [...new Set(rows.map((r) => r.case))];
  const parts: string[] = [];
  for (const id of cases) {
    const rs = rows.filter((r) => r.case === id);
    const max = Math.max(...rs.map((r) => r.medianMs));
    parts.push(`<div class="chart-case"><p class="chart-title">${rs[0].label}</p>`);
    for (const r of rs) {
      const cls = VARIANT_CLASS[VARIANTS.indexOf(r.variant)] ?? 'bar-js';
      parts.push(
        `<div class="bar-row"><span class="bar-label">${r.variant}</span>` +
          `<span class="bar-track"><span class="bar ${cls}" data-case="${id}" data-variant="${r.variant}" style="width:${((100 * r.medianMs) / max).toFixed(1)}%"></span></span>` +
          `<span class="bar-value">${fmtTime(r.medianMs)}</span></div>`,
      );
    }
    parts.push('</div>');
  }
  el.innerHTML =
    parts.join('') + `<p class="note">Median time per call; shorter is faster. Bars are scaled per shape.</p>`;
}

function renderTable(tbody: HTMLElement, rows: BenchRow[]) {
  tbody.innerHTML = rows
    .map((r) => {
      const best = Math.min(...rows.filter((o) => o.case === r.case).map((o) => o.medianMs)) === r.medianMs;
      return (
        `<tr data-case="${r.case}" data-variant="${r.variant}" data-median-ms="${r.medianMs}" ` +
        `data-min-sample-ms="${r.minSampleMs}" data-calls="${r.callsPerSample}" data-threads="${r.threads}">` +
        `<th scope="row">${r.label}</th><td>${r.variant}</td>` +
        `<td class="num median${best ? ' best' : ''}">${fmtTime(r.medianMs)}</td>` +
        `<td class="num p99">${fmtTime(r.p99Ms)}</td>` +
        `<td class="num samples">${r.samples} × ${r.callsPerSample}</td>` +
        `<td class="num shortest">${fmtTime(r.minSampleMs)}</td>` +
        `<td class="num gbps">${r.gbPerS.toFixed(2)}</td>` +
        `<td class="num speedup">${r.speedupVsPlainJs === undefined ? '' : r.speedupVsPlainJs.toFixed(2) + '×'}</td>` +
        `<td class="num diff">${r.maxAbsDiffVsPlainJs.toExponential(1)}</td></tr>`
      );
    })
    .join('');
}

export function mountBench(root: HTMLElement, params: URLSearchParams): void {
  const iso = root.querySelector<HTMLElement>('#isolation')!;
  const res = timerResolution();
  const resText = res === Infinity ? 'unknown' : `${(res * 1000).toFixed(res < 0.001 ? 2 : 0)} µs`;
  // normkit takes a thread per core where the page may share memory (cross-origin isolation), else 1.
  const threads = globalThis.crossOriginIsolated ? navigator.hardwareConcurrency || 1 : 1;
  if (globalThis.crossOriginIsolated) {
    iso.className = 'isolation ok';
    iso.dataset.isolated = 'true';
    iso.textContent =
      `This page is cross-origin isolated (crossOriginIsolated = true): timers are precise (performance.now() ` +
      `step ≈ ${resText}), and normkit runs the benchmark on ${threads} thread${threads === 1 ? '' : 's'} (ready({ threads: 'auto' })).`;
  } else {
    iso.className = 'isolation warn';
    iso.dataset.isolated = 'false';
    iso.textContent =
      `This page is NOT cross-origin isolated (crossOriginIsolated = false): the browser coarsens timers ` +
      `(performance.now() step ≈ ${resText}), so short medians are rounded, and normkit runs on 1 thread ` +
      `(threads need shared memory, which only isolated pages get). Serve it with the COOP/COEP headers ` +
      `(npm run demo does) for precise numbers and threads.`;
  }

  const runButton = root.querySelector<HTMLButtonElement>('#bench-run')!;
  const cancelButton = root.querySelector<HTMLButtonElement>('#bench-cancel')!;
  const status = root.querySelector<HTMLElement>('#bench-status')!;
  const progress = root.querySelector<HTMLProgressElement>('#bench-progress')!;
  const timeSel = root.querySelector<HTMLSelectElement>('#bench-time')!;
  const chart = root.querySelector<HTMLElement>('#bench-chart')!;
  const tbody = root.querySelector<HTMLElement>('#bench-table tbody')!;
  const threadsOut = root.querySelector<HTMLElement>('#bench-threads')!;
  const showThreads = (n: number) => {
    threadsOut.dataset.threads = String(n);
    threadsOut.textContent = `${n} thread${n === 1 ? '' : 's'}`;
  };
  showThreads(threads);
  const forced = params.get('benchTime');
  if (forced) {
    timeSel.append(Object.assign(document.createElement('option'), { value: forced, textContent: `${forced} ms` }));
    timeSel.value = forced;
  }

  let worker: Worker | undefined;
  let rows: BenchRow[] = [];

  function finish(state: 'done' | 'cancelled' | 'error', text: string) {
    worker?.terminate();
    worker = undefined;
    root.dataset.benchState = state;
    status.textContent = text;
    runButton.disabled = false;
    cancelButton.disabled = true;
    if (state !== 'done') progress.removeAttribute('value');
    progress.hidden = state !== 'done';
  }

  function run() {
    const time = Number(timeSel.value);
    rows = [];
    renderChart(chart, rows);
    renderTable(tbody, rows);
    runButton.disabled = true;
    cancelButton.disabled = false;
    progress.hidden = false;
    progress.value = 0;
    root.dataset.benchState = 'running';
    status.textContent = 'starting the worker…';
    worker = newWorker();
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      if (m.type === 'progress') {
        progress.value = m.fraction;
        status.textContent = `${Math.round(m.fraction * 100)} % · ${m.text}`;
        root.dataset.benchProgress = m.fraction.toFixed(3);
      } else if (m.type === 'rows') {
        rows.push(...m.rows);
        showThreads(m.rows[0]?.threads ?? threads);
        renderChart(chart, rows);
        renderTable(tbody, rows);
      } else if (m.type === 'done') {
        progress.value = 1;
        const n = rows[0]?.threads ?? 1;
        finish('done', `done: ${rows.length} timings, ${time} ms per task, ${globalThis.crossOriginIsolated ? 'precise' : 'coarse'} timers, ${n} thread${n === 1 ? '' : 's'}.`);
      } else if (m.type === 'error') {
        finish('error', `error: ${m.message}`);
      }
    };
    worker.onerror = (e) => finish('error', `error: ${e.message}`);
    const msg: ToWorker = { type: 'run', time, threads: 'auto' };
    worker.postMessage(msg);
  }

  runButton.addEventListener('click', run);
  cancelButton.addEventListener('click', () => {
    if (worker) finish('cancelled', `cancelled after ${rows.length} of ${BENCH_CASES.length * VARIANTS.length} timings.`);
  });
  if (params.get('autorun') === '1') run();
}
