/**
 * Opens the built demo (served by `vite preview` with the demo's own config, so with its COOP/COEP
 * headers) in headless Chromium and checks it against an independent model of the groupings and a float64
 * recomputation of the statistics from the cell values: every op, axis and layout; the selection driven by
 * keyboard and kept across changes; the small multiples and the cube; the page at 390, 768 and 1366 px
 * with no horizontal overflow; axe-core with no serious or critical violations; and the live benchmark
 * (in a Web Worker, with progress and cancel, every sample at least 1 ms).
 * Saves screenshots under screenshots/ (git-ignored).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { preview, type PreviewServer } from 'vite';
import { launch, openPage } from './browser.js';
import { serveDir } from './serve.js';

const repo = resolve(import.meta.dirname, '../..');
const shots = join(repo, 'screenshots');
const AXE = join(repo, 'node_modules/axe-core/axe.min.js');
const EPS = 1e-5;
const WIDTHS = [390, 768, 1366];

let browser: Browser;
let server: PreviewServer;
let page: Page;
let problems: string[];

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  server = await preview({
    configFile: join(repo, 'demo/vite.config.ts'),
    preview: { host: '127.0.0.1', port: 0 },
    logLevel: 'warn',
  });
  browser = await launch();
  ({ page, problems } = await openPage(browser));
  await page.setViewportSize({ width: 1366, height: 900 });
  await page.goto(`${server.resolvedUrls!.local[0]}?benchTime=40`);
  await page.waitForSelector('body[data-ready=true]', { timeout: 30_000 });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

// The dimensions the demo draws (checked against the DOM below).
const N = 3;
const C = 6;
const S = 4;
const W = 2;
const STYLE_S = 9;

type Op = 'batch' | 'layer' | 'instance' | 'group' | 'rms' | 'adain';
type Axis = 'c' | 'chw';

/** Independent model: the key that decides which cells share statistics. */
function key(op: Op, G: number, axis: Axis, n: number, c: number, s: number): string {
  switch (op) {
    case 'batch':
      return `c${c}`;
    case 'layer':
    case 'rms':
      return axis === 'c' ? `n${n}s${s}` : `n${n}`;
    case 'instance':
    case 'adain':
      return `n${n}c${c}`;
    case 'group':
      return `n${n}g${Math.floor((c * G) / C)}`;
  }
}
/** The reduced axes, as the page must name them. */
const REDUCED: Record<string, RegExp> = {
  batch: /^N, H and W/,
  'layer-chw': /^C, H and W/,
  'layer-c': /^C only/,
  instance: /^H and W/,
  group: /^H, W and the \d channels? of one group/,
  'rms-chw': /^C, H and W .*root mean square/,
  'rms-c': /^C only .*root mean square/,
  adain: /^H and W, in the content and in the style/,
};
const expectedOffset = (layout: string, n: number, c: number, s: number) =>
  layout === 'NCHW' ? (n * C + c) * S + s : (n * S + s) * C + c;

interface Cell {
  n: number;
  c: number;
  s: number;
  offset: number;
  group: number;
  value: number;
  lit: boolean;
  selected: boolean;
}
interface Row {
  group: number;
  count: number;
  cols: Record<string, string>;
  selected: boolean;
}
interface Face {
  n: number;
  c: number;
  s: number;
  group: number;
  lit: boolean;
}

async function readDom(): Promise<{
  cells: Cell[];
  mem: { offset: number; group: number; lit: boolean }[];
  faces: Face[];
  rows: Row[];
  minis: { key: string; pressed: boolean; voxels: number; lit: number }[];
}> {
  return page.evaluate(() => {
    const cells = Array.from(document.querySelectorAll<HTMLElement>('#panels .cell')).map((e) => ({
      n: +e.dataset.n!,
      c: +e.dataset.c!,
      s: +e.dataset.s!,
      offset: +e.dataset.offset!,
      group: +e.dataset.group!,
      value: +e.dataset.value!,
      lit: e.classList.contains('lit'),
      selected: e.getAttribute('aria-selected') === 'true',
    }));
    const mem = Array.from(document.querySelectorAll<HTMLElement>('#memory .mcell')).map((e) => ({
      offset: +e.dataset.offset!,
      group: +e.dataset.group!,
      lit: e.classList.contains('lit'),
    }));
    const faces = Array.from(document.querySelectorAll<SVGElement>('#cube3d polygon.face')).map((e) => ({
      n: +e.dataset.n!,
      c: +e.dataset.c!,
      s: +e.dataset.s!,
      group: +e.dataset.group!,
      lit: e.classList.contains('lit'),
    }));
    const rows = Array.from(document.querySelectorAll<HTMLElement>('#stats tbody tr')).map((tr) => {
      const cols: Record<string, string> = {};
      for (const td of Array.from(tr.querySelectorAll('td.num'))) cols[td.classList[1]] = td.textContent!;
      return { group: +tr.dataset.group!, count: +cols.count, cols, selected: tr.classList.contains('selected') };
    });
    const minis = Array.from(document.querySelectorAll<HTMLElement>('#multiples .mini')).map((b) => ({
      key: b.dataset.key!,
      pressed: b.getAttribute('aria-pressed') === 'true',
      voxels: b.querySelectorAll('polygon.vox.front').length,
      lit: +b.dataset.lit!,
    }));
    return { cells, mem, faces, rows, minis };
  });
}

async function choose(op: Op, layout: string, opts: { groups?: number; axis?: Axis } = {}) {
  await page.check(`input[name=layout][value=${layout}]`);
  if (opts.axis) await page.check(`input[name=axis][value=${opts.axis}]`);
  if (opts.groups !== undefined) await page.selectOption('#groups', String(opts.groups));
  await page.check(`input[name=op][value=${op}]`);
}

const selectedCell = () => page.getAttribute('#explainer', 'data-selected');

/** axe-core (node_modules/axe-core, pinned) injected into the page; the violations of serious or critical impact. */
async function axeViolations(p: Page) {
  if (!(await p.evaluate(() => 'axe' in window))) await p.addScriptTag({ path: AXE });
  const violations = await p.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

describe('demo page', () => {
  it('is cross-origin isolated under vite preview and says so', async () => {
    expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
    expect(await page.getAttribute('#isolation', 'data-isolated')).toBe('true');
    expect(await page.textContent('#isolation')).toContain('crossOriginIsolated = true');
  });

  it('has a <main> landmark and no user agent in the header', async () => {
    expect(await page.locator('main').count()).toBe(1);
    expect(await page.locator('main #explainer').count()).toBe(1);
    expect(await page.locator('main #bench').count()).toBe(1);
    const header = (await page.textContent('header'))!;
    expect(header).not.toMatch(/Chrome|Mozilla|Safari|Firefox/);
  });

  it('draws an N × C × (H·W) tensor, its exploded cube and its memory strip', async () => {
    const { cells, mem, faces } = await readDom();
    expect(cells.length).toBe(N * C * S);
    expect(mem.length).toBe(N * C * S);
    expect(new Set(cells.map((c) => `${c.n},${c.c},${c.s}`)).size).toBe(N * C * S);
    // Every cell of every sample has its own front face: no group can hide behind sample 0.
    const front = new Set(
      (await page.$$eval('#cube3d polygon.face.front', (fs) => fs.map((f) => (f as SVGElement).dataset)))
        .map((d) => `${d.n},${d.c},${d.s}`),
    );
    expect(front.size).toBe(N * C * S);
    expect(faces.length).toBe(N * (C * S + C + S));
  });

  it("clicking a face of the cube selects that cell, in any sample", async () => {
    await choose('instance', 'NCHW');
    await page.click('#cube3d polygon.face.front[data-n="1"][data-c="4"][data-s="3"]');
    expect(await selectedCell()).toBe('1,4,3');
    const { cells, faces } = await readDom();
    for (const cell of cells) expect(cell.lit).toBe(cell.n === 1 && cell.c === 4);
    for (const f of faces) expect(f.lit).toBe(f.n === 1 && f.c === 4);
    await choose('layer', 'NCHW', { axis: 'chw' });
    await page.click('#cube3d polygon.face.right[data-n="2"][data-s="1"]');
    expect(await selectedCell()).toBe(`2,${C - 1},1`);
    for (const cell of (await readDom()).cells) expect(cell.lit).toBe(cell.n === 2);
  });

  it('moves the selection with the arrow keys (one tab stop) and announces it', async () => {
    await choose('group', 'NCHW', { groups: 2 });
    await page.click('#panels .cell[data-n="0"][data-c="0"][data-s="0"]');
    expect(await selectedCell()).toBe('0,0,0');
    // One tab stop: Tab from the last small multiple lands on the selected cell.
    expect(await page.locator('#panels [tabindex="0"]').count()).toBe(1);
    await page.focus('#multiples .mini:last-child');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.n + ',' + (document.activeElement as HTMLElement).dataset.c)).toBe('0,0');
    for (const k of ['ArrowRight', 'ArrowRight', 'ArrowRight', 'ArrowDown', 'ArrowDown', 'PageDown']) await page.keyboard.press(k);
    expect(await selectedCell()).toBe('1,3,2');
    const active = await page.evaluate(() => {
      const e = document.activeElement as HTMLElement;
      return { cell: `${e.dataset.n},${e.dataset.c},${e.dataset.s}`, role: e.getAttribute('role'), selected: e.getAttribute('aria-selected') };
    });
    expect(active).toEqual({ cell: '1,3,2', role: 'gridcell', selected: 'true' });
    const live = page.locator('#selection-live');
    expect(await live.getAttribute('aria-live')).toBe('polite');
    expect(await live.textContent()).toContain('n = 1, c = 3, h = 1, w = 0');
    expect(await live.textContent()).toContain('GroupNorm, G = 2: group n1 g1, 12 cells');
    // ← from c3 to c2 crosses from group 1 (c3..c5) into group 0 (c0..c2).
    await page.keyboard.press('ArrowLeft');
    expect(await selectedCell()).toBe('1,2,2');
    expect(await live.textContent()).toContain('group n1 g0');
    // At the left edge, ← goes on into the previous sample; Home / End jump within the row.
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowLeft');
    expect(await selectedCell()).toBe(`0,${C - 1},2`);
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('End');
    expect(await selectedCell()).toBe(`0,${C - 1},1`);
    expect(await page.locator('#panels [tabindex="0"]').count()).toBe(1);
  });

  it('keeps the selected cell across op, axis, layout and group changes', async () => {
    await page.click('#panels .cell[data-n="1"][data-c="3"][data-s="2"]');
    const steps: [Op, string, { groups?: number; axis?: Axis }][] = [
      ['batch', 'NCHW', {}],
      ['layer', 'NHWC', { axis: 'c' }],
      ['layer', 'NHWC', { axis: 'chw' }],
      ['instance', 'NCHW', {}],
      ['group', 'NCHW', { groups: 3 }],
      ['group', 'NHWC', { groups: 6 }],
      ['rms', 'NCHW', { axis: 'c' }],
      ['adain', 'NHWC', {}],
    ];
    for (const [op, layout, opts] of steps) {
      await choose(op, layout, opts);
      expect(await selectedCell(), `${op} ${layout}`).toBe('1,3,2');
      const axis = (await page.getAttribute('#explainer', 'data-axis')) as Axis;
      const G = Number(await page.inputValue('#groups'));
      const { cells } = await readDom();
      const sel = cells.filter((c) => c.selected);
      expect(sel.map((c) => `${c.n},${c.c},${c.s}`)).toEqual(['1,3,2']);
      const want = key(op, G, axis, 1, 3, 2);
      for (const cell of cells) expect(cell.lit, `${op} ${layout} ${cell.n},${cell.c},${cell.s}`).toBe(key(op, G, axis, cell.n, cell.c, cell.s) === want);
    }
  });

  it("the small multiples show the selected cell's group under every op at once", async () => {
    await choose('group', 'NCHW', { groups: 3, axis: 'chw' });
    await page.click('#panels .cell[data-n="2"][data-c="1"][data-s="3"]');
    const { minis } = await readDom();
    const size = (op: Op, axis: Axis, G = 3) => {
      let k = 0;
      for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) if (key(op, G, axis, n, c, s) === key(op, G, axis, 2, 1, 3)) k++;
      return k;
    };
    const want: Record<string, number> = {
      batch: size('batch', 'c'),
      'layer-chw': size('layer', 'chw'),
      'layer-c': size('layer', 'c'),
      instance: size('instance', 'c'),
      group: size('group', 'c'),
      rms: size('rms', 'chw'),
      adain: size('adain', 'c'),
    };
    expect(minis.map((m) => m.key)).toEqual(Object.keys(want));
    for (const m of minis) {
      expect(m.voxels, m.key).toBe(want[m.key]);
      expect(m.lit, m.key).toBe(want[m.key]);
      expect(m.pressed, m.key).toBe(m.key === 'group');
    }
    // A small multiple is also a button that switches to its op, keeping the cell.
    await page.click('#multiples .mini[data-key="layer-c"]');
    expect(await page.getAttribute('#explainer', 'data-op')).toBe('layer');
    expect(await page.getAttribute('#explainer', 'data-axis')).toBe('c');
    expect(await page.isChecked('input[name=op][value=layer]')).toBe(true);
    expect(await selectedCell()).toBe('2,1,3');
  });

  const CASES: [op: Op, layout: string, groups: number, axis: Axis][] = [
    ['batch', 'NCHW', 0, 'c'],
    ['batch', 'NHWC', 0, 'c'],
    ['layer', 'NCHW', 0, 'chw'],
    ['layer', 'NHWC', 0, 'chw'],
    ['layer', 'NCHW', 0, 'c'],
    ['layer', 'NHWC', 0, 'c'],
    ['instance', 'NCHW', 0, 'c'],
    ['instance', 'NHWC', 0, 'c'],
    ['group', 'NCHW', 1, 'c'],
    ['group', 'NCHW', 2, 'c'],
    ['group', 'NHWC', 3, 'c'],
    ['group', 'NHWC', 6, 'c'],
    ['rms', 'NCHW', 0, 'chw'],
    ['rms', 'NHWC', 0, 'chw'],
    ['rms', 'NCHW', 0, 'c'],
    ['rms', 'NHWC', 0, 'c'],
    ['adain', 'NCHW', 0, 'c'],
    ['adain', 'NHWC', 0, 'c'],
  ];

  for (const [op, layout, G, axis] of CASES) {
    const name = `${op}${G ? ` G=${G}` : ''}${op === 'layer' || op === 'rms' ? ` over ${axis === 'c' ? 'C' : 'C·H·W'}` : ''} ${layout}`;
    it(`${name}: the selected cell's group lights up, its axes are named and its statistics are right`, async () => {
      await choose(op, layout, { groups: G || undefined, axis });
      // Select one cell (sample 1, channel 3, position 2) and read the page back.
      await page.click('#panels .cell[data-n="1"][data-c="3"][data-s="2"]');
      const { cells, mem, faces, rows } = await readDom();

      // The reduced axes, in words.
      const reduced = (await page.textContent('#reduced-axes'))!;
      expect(reduced).toMatch(REDUCED[op === 'layer' || op === 'rms' ? `${op}-${axis}` : op]);

      // Offsets follow the layout; the group partition equals the model's (a bijection of keys to groups).
      const keyToGroup = new Map<string, number>();
      for (const cell of cells) {
        expect(cell.offset).toBe(expectedOffset(layout, cell.n, cell.c, cell.s));
        const k = key(op, G, axis, cell.n, cell.c, cell.s);
        if (!keyToGroup.has(k)) keyToGroup.set(k, cell.group);
        expect(cell.group, `cell ${cell.n},${cell.c},${cell.s} in ${op}`).toBe(keyToGroup.get(k));
      }
      expect(new Set(keyToGroup.values()).size).toBe(keyToGroup.size);
      expect(rows.length).toBe(keyToGroup.size);

      // Exactly the cells sharing the selected cell's key are lit, in the panels, the memory strip and the cube.
      const selKey = key(op, G, axis, 1, 3, 2);
      const lit = cells.filter((c) => c.lit);
      expect(lit.length).toBeGreaterThan(0);
      for (const cell of cells) expect(cell.lit).toBe(key(op, G, axis, cell.n, cell.c, cell.s) === selKey);
      const litOffsets = new Set(lit.map((c) => c.offset));
      for (const m of mem) expect(m.lit, `memory offset ${m.offset}`).toBe(litOffsets.has(m.offset));
      for (const f of faces) {
        expect(f.lit, `cube face cell ${f.n},${f.c},${f.s}`).toBe(key(op, G, axis, f.n, f.c, f.s) === selKey);
        expect(f.group).toBe(keyToGroup.get(key(op, G, axis, f.n, f.c, f.s)));
      }

      // Every group's numbers match a float64 recomputation from the cell values.
      const style = await page.evaluate(
        () => (window as unknown as { normkitDemo: { explainer: { state(): { style: number[] } } } }).normkitDemo.explainer.state().style,
      );
      const stat = (v: number[]) => {
        const mean = v.reduce((a, b) => a + b, 0) / v.length;
        return {
          mean,
          ms: v.reduce((a, b) => a + b * b, 0) / v.length,
          variance: v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length,
        };
      };
      for (const row of rows) {
        const members = cells.filter((c) => c.group === row.group);
        expect(row.count).toBe(members.length);
        const x = stat(members.map((c) => c.value));
        const num = (k: string) => Number(row.cols[k]);
        if (op === 'rms') {
          // RMSNorm: no mean; the check column is the output's rms, ≈ 1.
          expect(Object.keys(row.cols).sort()).toEqual(['count', 'std', 'yrms']);
          expect(Math.abs(num('std') - Math.sqrt(x.ms + EPS))).toBeLessThan(2e-4);
          expect(Math.abs(num('yrms') - 1)).toBeLessThan(2e-3);
        } else {
          expect(Math.abs(num('mean') - x.mean)).toBeLessThan(2e-4);
          expect(Math.abs(num('std') - Math.sqrt(x.variance + EPS))).toBeLessThan(2e-4);
          if (op === 'adain') {
            // The style's statistics of the group's channel, and the output takes them.
            const c = members[0].c;
            const st = stat(style.slice(c * STYLE_S, (c + 1) * STYLE_S));
            expect(Math.abs(num('smean') - st.mean)).toBeLessThan(2e-4);
            expect(Math.abs(num('sstd') - Math.sqrt(st.variance + EPS))).toBeLessThan(2e-4);
            expect(Math.abs(num('ymean') - st.mean)).toBeLessThan(2e-3);
            expect(Math.abs(num('ystd') - Math.sqrt(st.variance + EPS))).toBeLessThan(2e-3);
          } else {
            // The op's own output over the group: mean 0, std 1 (to the digits shown).
            expect(Math.abs(num('ymean'))).toBeLessThan(2e-3);
            expect(Math.abs(num('ystd') - 1)).toBeLessThan(2e-3);
          }
        }
      }
      const selected = rows.filter((r) => r.selected);
      expect(selected.length).toBe(1);
      expect(selected[0].group).toBe(lit[0].group);

      // The page says how the statistics were computed, and the normkit call that made the output.
      const source = (await page.textContent('#stats-source'))!;
      expect(source).toContain(op === 'rms' ? 'normkit.rmsNorm' : "normkit.layerNorm's mean and invStd");
      const call = { batch: 'batchNorm(', layer: 'layerNorm(', instance: 'instanceNorm(', group: 'groupNorm(', rms: 'rmsNorm(', adain: 'adaIN(' }[op];
      expect(source).toContain(call);
      if ((op === 'layer' || op === 'rms') && axis === 'c') expect(source).toContain('axis −1, the default');
      if ((op === 'layer' || op === 'rms') && axis === 'chw') expect(source).toContain('{ axis: 1 }');
    });
  }

  it('shows normkit output values when asked', async () => {
    await choose('instance', 'NCHW');
    await page.check('input[name=view][value=output]');
    const texts = await page.$$eval('#panels .cell', (els) => els.map((e) => [e.textContent, (e as HTMLElement).dataset.y]));
    for (const [text, y] of texts) expect(Number(text)).toBeCloseTo(Number(y), 2);
    await page.check('input[name=view][value=input]');
  });

  it('passes axe-core with no serious or critical violations, for every op', async () => {
    for (const [op, opts] of [['batch', {}], ['group', { groups: 3 }], ['rms', { axis: 'c' }], ['adain', {}]] as const) {
      await choose(op, 'NCHW', opts);
      expect(await axeViolations(page), op).toEqual([]);
    }
  });

  it('runs the benchmark in a Web Worker, and can cancel it', async () => {
    await page.click('#bench-run');
    await page.waitForFunction(() => Number(document.getElementById('bench')!.dataset.benchProgress ?? 0) > 0, null, { timeout: 30_000 });
    expect(await page.getAttribute('#bench', 'data-bench-state')).toBe('running');
    expect(await page.isDisabled('#bench-run')).toBe(true);
    await page.click('#bench-cancel');
    expect(await page.getAttribute('#bench', 'data-bench-state')).toBe('cancelled');
    expect(await page.textContent('#bench-status')).toContain('cancelled');
    expect(await page.isDisabled('#bench-run')).toBe(false);
    expect(await page.isDisabled('#bench-cancel')).toBe(true);
  });

  it('runs the live benchmark, every sample at least 1 ms, and the page stays responsive', async () => {
    await choose('group', 'NCHW', { groups: 3 });
    await page.click('#panels .cell[data-n="0"][data-c="2"][data-s="0"]');
    // Cross-origin isolated: a thread per core (ready({ threads: 'auto' }) in the benchmark's worker).
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const threadsText = `${cores} thread${cores === 1 ? '' : 's'}`;
    expect(await page.textContent('#bench-threads')).toBe(threadsText);
    // The longest gap between 10 ms timer ticks on the page's main thread while the benchmark runs.
    await page.evaluate(() => {
      const w = window as unknown as { maxGap: number; gapTimer: number };
      w.maxGap = 0;
      let last = performance.now();
      w.gapTimer = window.setInterval(() => {
        const t = performance.now();
        w.maxGap = Math.max(w.maxGap, t - last);
        last = t;
      }, 10);
    });
    await page.click('#bench-run');
    // While it runs, the keyboard still moves the selection.
    await page.focus('#panels .cell[tabindex="0"]');
    await page.keyboard.press('ArrowRight');
    expect(await selectedCell()).toBe('0,3,0');
    const progress: number[] = [];
    while ((await page.getAttribute('#bench', 'data-bench-state')) === 'running') {
      progress.push(Number(await page.getAttribute('#bench', 'data-bench-progress')));
      await page.waitForTimeout(100);
    }
    expect(await page.getAttribute('#bench', 'data-bench-state')).toBe('done');
    const maxGap = await page.evaluate(() => {
      const w = window as unknown as { maxGap: number; gapTimer: number };
      clearInterval(w.gapTimer);
      return w.maxGap;
    });
    expect(maxGap, 'the main thread never froze').toBeLessThan(500);
    expect(new Set(progress).size, 'progress moved within the run').toBeGreaterThan(3);
    const rows = await page.$$eval('#bench-table tbody tr', (trs) =>
      trs.map((tr) => {
        const d = (tr as HTMLElement).dataset;
        return {
          c: d.case!,
          v: d.variant!,
          median: Number(d.medianMs),
          minSample: Number(d.minSampleMs),
          calls: Number(d.calls),
          threads: Number(d.threads),
          diff: Number(tr.querySelector('.diff')!.textContent),
        };
      }),
    );
    expect(rows.length).toBe(12);
    expect(rows.map((r) => r.c)).toContain('layerNorm-128x768');
    expect(new Set(rows.map((r) => r.v))).toEqual(new Set(['normkit (copy)', 'normkit (zero-copy)', 'plain JS']));
    for (const r of rows) {
      expect(r.median, `${r.c} ${r.v}`).toBeGreaterThan(0);
      expect(Number.isFinite(r.median)).toBe(true);
      expect(r.minSample, `${r.c} ${r.v}: every sample lasts at least 1 ms`).toBeGreaterThanOrEqual(1);
      expect(r.calls).toBeGreaterThanOrEqual(1);
      expect(r.threads).toBe(cores);
      expect(r.diff, `${r.c} ${r.v} agrees with plain JS`).toBeLessThan(1e-3);
    }
    // The fast ops batch several calls per sample (chosen after warm-up), not one.
    expect(rows.find((r) => r.c === 'layerNorm-128x768' && r.v === 'normkit (zero-copy)')!.calls).toBeGreaterThan(1);
    expect(await page.locator('#bench-chart .bar').count()).toBe(12);
    // The table stays within the content column at this width (1366 px).
    const fit = await page.$eval('#bench-table', (t) => {
      const wrap = t.parentElement!;
      return { table: t.scrollWidth, wrap: wrap.clientWidth, right: wrap.getBoundingClientRect().right, main: document.querySelector('main')!.getBoundingClientRect().right };
    });
    expect(fit.table).toBeLessThanOrEqual(fit.wrap);
    expect(fit.right).toBeLessThanOrEqual(fit.main + 0.5);
    expect(await axeViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  });

  for (const width of WIDTHS) {
    it(`fits ${width} px with no horizontal scroll, for every op (screenshots/demo-${width}.png)`, async () => {
      await page.setViewportSize({ width, height: 900 });
      for (const [op, opts] of [
        ['batch', {}], ['layer', { axis: 'c' }], ['layer', { axis: 'chw' }], ['instance', {}], ['group', { groups: 6 }],
        ['rms', { axis: 'c' }], ['adain', {}], ['group', { groups: 3 }],
      ] as const) {
        await choose(op, 'NCHW', opts);
        const [scrollWidth, innerWidth] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
        expect(scrollWidth, `${op} at ${width} px`).toBeLessThanOrEqual(innerWidth);
      }
      // Wide tables scroll inside their own box (which is focusable), never the page.
      for (const box of await page.$$('.table-scroll')) {
        const r = await box.evaluate((e) => ({ right: e.getBoundingClientRect().right, tabindex: e.getAttribute('tabindex') }));
        expect(r.right).toBeLessThanOrEqual(width);
        expect(r.tabindex).toBe('0');
      }
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: join(shots, `demo-${width}.png`), fullPage: true });
      if (width === 390) expect(await axeViolations(page)).toEqual([]);
    });
  }

  it('had no console errors', () => {
    expect(problems).toEqual([]);
  });
});

describe('demo page without COOP/COEP', () => {
  it('says that timers are coarse', async () => {
    const plain = await serveDir(join(repo, 'demo/dist'));
    try {
      const { page: p, problems: probs } = await openPage(browser);
      await p.goto(`${plain.url}/`);
      await p.waitForSelector('body[data-ready=true]', { timeout: 30_000 });
      expect(await p.evaluate(() => globalThis.crossOriginIsolated)).toBe(false);
      expect(await p.getAttribute('#isolation', 'data-isolated')).toBe('false');
      expect(await p.textContent('#isolation')).toContain('NOT cross-origin isolated');
      expect(await p.textContent('#bench-threads')).toBe('1 thread');
      expect(probs).toEqual([]);
      await p.close();
    } finally {
      await plain.close();
    }
  });
});
