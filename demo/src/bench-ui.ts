/** The live benchmark: tinybench in this page, a bar chart and a table. */
import { Bench } from 'tinybench';
import * as nk from 'normkit';
import { BENCH_CASES, VARIANTS, benchCase, type BenchOptions, type BenchRow } from './bench-core.js';

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

/** Runs one reference case by id, for scripts that drive this page (demo/node-vs-chromium.mjs). */
export function runBenchCase(id: string, options?: BenchOptions): Promise<BenchRow[]> {
  const spec = BENCH_CASES.find((c) => c.id === id);
  if (!spec) throw new Error(`no bench case ${id}`);
  return benchCase(Bench, nk, spec, options);
}

function renderChart(el: HTMLElement, rows: BenchRow[]) {
  const cases = [...new Set(rows.map((r) => r.case))];
  const barH = 16;
  const gap = 4;
  const caseGap = 26;
  const left = 150;
  const width = 640;
  const plotW = width - left - 90;
  let y = 8;
  const parts: string[] = [];
  for (const id of cases) {
    const rs = rows.filter((r) => r.case === id);
    const max = Math.max(...rs.map((r) => r.medianMs));
    parts.push(`<text x="0" y="${y + 10}" font-weight="600">${rs[0].label}</text>`);
    y += 16;
    for (const r of rs) {
      const w = Math.max(1, (r.medianMs / max) * plotW);
      const cls = VARIANT_CLASS[VARIANTS.indexOf(r.variant)] ?? 'bar-js';
      parts.push(
        `<text x="${left - 6}" y="${y + barH - 4}" text-anchor="end">${r.variant}</text>` +
          `<rect class="${cls}" data-case="${id}" data-variant="${r.variant}" x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" rx="2"></rect>` +
          `<text x="${left + w + 6}" y="${y + barH - 4}">${fmtTime(r.medianMs)}</text>`,
      );
      y += barH + gap;
    }
    y += caseGap - gap;
  }
  el.innerHTML =
    `<svg width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" role="img" aria-label="median time per call, shorter is faster">${parts.join('')}</svg>` +
    `<p class="note">Median time per call; shorter is faster. Bars are scaled per shape.</p>`;
}

function renderTable(tbody: HTMLElement, rows: BenchRow[]) {
  tbody.innerHTML = rows
    .map((r) => {
      const best = Math.min(...rows.filter((o) => o.case === r.case).map((o) => o.medianMs)) === r.medianMs;
      return (
        `<tr data-case="${r.case}" data-variant="${r.variant}" data-median-ms="${r.medianMs}">` +
        `<td>${r.label}</td><td>${r.variant}</td>` +
        `<td class="num median${best ? ' best' : ''}">${fmtTime(r.medianMs)}</td>` +
        `<td class="num p99">${fmtTime(r.p99Ms)}</td>` +
        `<td class="num samples">${r.samples} × ${r.callsPerSample}</td>` +
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
  if (globalThis.crossOriginIsolated) {
    iso.className = 'isolation ok';
    iso.dataset.isolated = 'true';
    iso.textContent = `This page is cross-origin isolated (crossOriginIsolated = true): timers are precise (performance.now() step ≈ ${resText}).`;
  } else {
    iso.className = 'isolation warn';
    iso.dataset.isolated = 'false';
    iso.textContent =
      `This page is NOT cross-origin isolated (crossOriginIsolated = false): the browser coarsens timers ` +
      `(performance.now() step ≈ ${resText}), so short medians are rounded. Serve it with the COOP/COEP ` +
      `headers (npm run demo does) for precise numbers.`;
  }

  const button = root.querySelector<HTMLButtonElement>('#bench-run')!;
  const status = root.querySelector<HTMLElement>('#bench-status')!;
  const timeSel = root.querySelector<HTMLSelectElement>('#bench-time')!;
  const chart = root.querySelector<HTMLElement>('#bench-chart')!;
  const tbody = root.querySelector<HTMLElement>('#bench-table tbody')!;
  const forced = params.get('benchTime');
  if (forced) {
    timeSel.append(Object.assign(document.createElement('option'), { value: forced, textContent: `${forced} ms` }));
    timeSel.value = forced;
  }

  async function run() {
    button.disabled = true;
    root.dataset.benchState = 'running';
    const rows: BenchRow[] = [];
    const time = Number(timeSel.value);
    try {
      for (const [i, spec] of BENCH_CASES.entries()) {
        status.textContent = `running ${spec.label} (${i + 1}/${BENCH_CASES.length})…`;
        await new Promise((r) => setTimeout(r, 20)); // let the page paint between cases
        rows.push(...(await benchCase(Bench, nk, spec, { time })));
        renderChart(chart, rows);
        renderTable(tbody, rows);
      }
      status.textContent = `done: ${rows.length} timings, ${time} ms per task, ${globalThis.crossOriginIsolated ? 'precise' : 'coarse'} timers.`;
      root.dataset.benchState = 'done';
    } catch (e) {
      status.textContent = `error: ${e}`;
      root.dataset.benchState = 'error';
      throw e;
    } finally {
      button.disabled = false;
    }
  }
  button.addEventListener('click', () => void run());
  if (params.get('autorun') === '1') void run();
}
