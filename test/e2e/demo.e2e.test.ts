/**
 * Opens the built demo (served by `vite preview` with the demo's own config, so with its COOP/COEP
 * headers) in headless Chromium, clicks through every op and layout, and checks the DOM against an
 * independent model of the groupings and a float64 recomputation of the statistics from the cell values.
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
const EPS = 1e-5;

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
  await page.goto(`${server.resolvedUrls!.local[0]}?benchTime=40`);
  await page.waitForSelector('body[data-ready=true]', { timeout: 30_000 });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

interface Cell {
  n: number;
  c: number;
  s: number;
  offset: number;
  group: number;
  value: number;
  lit: boolean;
}
interface Row {
  group: number;
  count: number;
  mean: string;
  std: string;
  ymean: string;
  ystd: string;
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
}> {
  return page.evaluate(() => {
    const cells = Array.from(document.querySelectorAll<HTMLElement>('#cube .cell')).map((e) => ({
      n: +e.dataset.n!,
      c: +e.dataset.c!,
      s: +e.dataset.s!,
      offset: +e.dataset.offset!,
      group: +e.dataset.group!,
      value: +e.dataset.value!,
      lit: e.classList.contains('lit'),
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
    const rows = Array.from(document.querySelectorAll<HTMLElement>('#stats tbody tr')).map((tr) => ({
      group: +tr.dataset.group!,
      count: +tr.querySelector('.count')!.textContent!,
      mean: tr.querySelector('.mean')!.textContent!,
      std: tr.querySelector('.std')!.textContent!,
      ymean: tr.querySelector('.ymean')!.textContent!,
      ystd: tr.querySelector('.ystd')!.textContent!,
      selected: tr.classList.contains('selected'),
    }));
    return { cells, mem, faces, rows };
  });
}

// The dimensions the demo draws (checked against the DOM below).
const N = 3;
const C = 6;
const S = 4;

/** Independent model: the key that decides which cells share statistics. */
function key(op: string, G: number, n: number, c: number): string {
  switch (op) {
    case 'batch':
      return `c${c}`;
    case 'layer':
    case 'rms':
      return `n${n}`;
    case 'instance':
      return `n${n}c${c}`;
    case 'group':
      return `n${n}g${Math.floor((c * G) / C)}`;
  }
  throw new Error(op);
}
const expectedOffset = (layout: string, n: number, c: number, s: number) =>
  layout === 'NCHW' ? (n * C + c) * S + s : (n * S + s) * C + c;

async function choose(op: string, layout: string, groups?: number) {
  await page.check(`input[name=layout][value=${layout}]`);
  if (groups !== undefined) await page.selectOption('#groups', String(groups));
  await page.check(`input[name=op][value=${op}]`);
}

const CASES: [op: string, layout: string, groups: number][] = [
  ['batch', 'NCHW', 0],
  ['batch', 'NHWC', 0],
  ['layer', 'NCHW', 0],
  ['layer', 'NHWC', 0],
  ['instance', 'NCHW', 0],
  ['instance', 'NHWC', 0],
  ['group', 'NCHW', 1],
  ['group', 'NCHW', 2],
  ['group', 'NHWC', 3],
  ['group', 'NHWC', 6],
  ['rms', 'NCHW', 0],
  ['rms', 'NHWC', 0],
];

describe('demo page', () => {
  it('is cross-origin isolated under vite preview and says so', async () => {
    expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
    expect(await page.getAttribute('#isolation', 'data-isolated')).toBe('true');
    expect(await page.textContent('#isolation')).toContain('crossOriginIsolated = true');
  });

  it("clicking a face of the cube selects that cell's group", async () => {
    await choose('layer', 'NCHW');
    await page.click('#cube3d polygon.face.right[data-n="2"][data-s="1"]');
    const { cells } = await readDom();
    for (const cell of cells) expect(cell.lit).toBe(cell.n === 2);
  });

  it('draws an N × C × (H·W) tensor and its memory strip', async () => {
    const { cells, mem } = await readDom();
    expect(cells.length).toBe(N * C * S);
    expect(mem.length).toBe(N * C * S);
    expect(new Set(cells.map((c) => `${c.n},${c.c},${c.s}`)).size).toBe(N * C * S);
  });

  for (const [op, layout, G] of CASES) {
    it(`${op}${G ? ` G=${G}` : ''} ${layout}: the clicked cell's group lights up and its statistics are right`, async () => {
      await choose(op, layout, G || undefined);
      // Click one cell (sample 1, channel 3, position 2) and read the page back.
      await page.click('#cube .cell[data-n="1"][data-c="3"][data-s="2"]');
      const { cells, mem, faces, rows } = await readDom();

      // Offsets follow the layout; the group partition equals the model's (a bijection of keys to groups).
      const keyToGroup = new Map<string, number>();
      for (const cell of cells) {
        expect(cell.offset).toBe(expectedOffset(layout, cell.n, cell.c, cell.s));
        const k = key(op, G, cell.n, cell.c);
        if (!keyToGroup.has(k)) keyToGroup.set(k, cell.group);
        expect(cell.group, `cell ${cell.n},${cell.c},${cell.s} in ${op}`).toBe(keyToGroup.get(k));
      }
      expect(new Set(keyToGroup.values()).size).toBe(keyToGroup.size);
      expect(rows.length).toBe(keyToGroup.size);

      // Exactly the cells sharing the clicked cell's key are lit, in the cube and in the memory strip.
      const clickedKey = key(op, G, 1, 3);
      const lit = cells.filter((c) => c.lit);
      expect(lit.length).toBeGreaterThan(0);
      for (const cell of cells) expect(cell.lit).toBe(key(op, G, cell.n, cell.c) === clickedKey);
      const litOffsets = new Set(lit.map((c) => c.offset));
      for (const m of mem) expect(m.lit, `memory offset ${m.offset}`).toBe(litOffsets.has(m.offset));
      // The cube's visible faces (front n=0, top s=0, right c=C-1) agree too.
      expect(faces.length).toBe(C * S + N * C + N * S);
      for (const f of faces) {
        expect(f.lit, `cube face cell ${f.n},${f.c},${f.s}`).toBe(key(op, G, f.n, f.c) === clickedKey);
        expect(f.group).toBe(keyToGroup.get(key(op, G, f.n, f.c)));
      }

      // Every group's numbers match a float64 recomputation from the cell values.
      for (const row of rows) {
        const members = cells.filter((c) => c.group === row.group).map((c) => c.value);
        expect(row.count).toBe(members.length);
        const mean = members.reduce((a, b) => a + b, 0) / members.length;
        const ms = members.reduce((a, b) => a + b * b, 0) / members.length;
        const variance = members.reduce((a, b) => a + (b - mean) ** 2, 0) / members.length;
        if (op === 'rms') {
          expect(row.mean).toContain('—');
          expect(Math.abs(Number(row.std) - Math.sqrt(ms + EPS))).toBeLessThan(2e-4);
        } else {
          expect(Math.abs(Number(row.mean) - mean)).toBeLessThan(2e-4);
          expect(Math.abs(Number(row.std) - Math.sqrt(variance + EPS))).toBeLessThan(2e-4);
          // The op's own output over the group: mean 0, std 1 (to the digits shown).
          expect(Math.abs(Number(row.ymean))).toBeLessThan(2e-3);
          expect(Math.abs(Number(row.ystd) - 1)).toBeLessThan(2e-3);
        }
      }
      const selected = rows.filter((r) => r.selected);
      expect(selected.length).toBe(1);
      expect(selected[0].group).toBe(lit[0].group);

      // The page says how the statistics were computed, and the normkit call that made the output.
      const source = await page.textContent('#stats-source');
      expect(source).toContain(op === 'rms' ? 'normkit.rmsNorm' : "normkit.layerNorm's mean and invStd");
      const call = { batch: 'batchNorm(', layer: 'layerNorm(', instance: 'instanceNorm(', group: 'groupNorm(', rms: 'rmsNorm(' }[op]!;
      expect(source).toContain(call);
    });
  }

  it('shows normkit output values when asked', async () => {
    await choose('instance', 'NCHW');
    await page.check('input[name=view][value=output]');
    const texts = await page.$$eval('#cube .cell', (els) => els.map((e) => [e.textContent, (e as HTMLElement).dataset.y]));
    for (const [text, y] of texts) expect(Number(text)).toBeCloseTo(Number(y), 2);
    await page.check('input[name=view][value=input]');
  });

  it('runs the live benchmark and fills the chart and the table', async () => {
    await choose('group', 'NCHW', 3);
    await page.click('#cube .cell[data-n="0"][data-c="2"][data-s="0"]');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(shots, 'demo-explainer.png') });
    await page.click('#bench-run');
    await page.waitForSelector('#bench[data-bench-state=done]', { timeout: 120_000 });
    const rows = await page.$$eval('#bench-table tbody tr', (trs) =>
      trs.map((tr) => ({
        c: (tr as HTMLElement).dataset.case!,
        v: (tr as HTMLElement).dataset.variant!,
        median: Number((tr as HTMLElement).dataset.medianMs),
        diff: Number(tr.querySelector('.diff')!.textContent),
      })),
    );
    expect(rows.length).toBe(12);
    expect(rows.map((r) => r.c)).toContain('layerNorm-128x768');
    expect(new Set(rows.map((r) => r.v))).toEqual(new Set(['normkit (copy)', 'normkit (zero-copy)', 'plain JS']));
    for (const r of rows) {
      expect(r.median, `${r.c} ${r.v}`).toBeGreaterThan(0);
      expect(Number.isFinite(r.median)).toBe(true);
      expect(r.diff, `${r.c} ${r.v} agrees with plain JS`).toBeLessThan(1e-3);
    }
    expect(await page.locator('#bench-chart svg rect').count()).toBe(12);
    await page.screenshot({ path: join(shots, 'demo.png'), fullPage: true });
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
      expect(probs).toEqual([]);
      await p.close();
    } finally {
      await plain.close();
    }
  });
});
