/**
 * The explainer: a small N × C × (H·W) tensor, drawn one panel per sample, where the cells that share one
 * mean and variance light up together. Every number shown comes from normkit running on this data.
 */
import { batchNorm, groupNorm, instanceNorm, layerNorm, rmsNorm } from 'normkit';

export type Op = 'batch' | 'layer' | 'instance' | 'group' | 'rms';
export type Layout = 'NCHW' | 'NHWC';

export const N = 3;
export const C = 6;
export const H = 2;
export const W = 2;
export const S = H * W;
export const GROUP_CHOICES = [1, 2, 3, 6];

const OP_NAMES: Record<Op, string> = {
  batch: 'BatchNorm',
  layer: 'LayerNorm',
  instance: 'InstanceNorm',
  group: 'GroupNorm',
  rms: 'RMSNorm',
};

export interface State {
  op: Op;
  groups: number;
  layout: Layout;
  view: 'input' | 'output';
  selected: number;
}

/** Which group the cell (n, c, ·) belongs to; spatial position never matters for these five ops. */
export function groupOf(op: Op, groups: number, n: number, c: number): number {
  switch (op) {
    case 'batch':
      return c;
    case 'layer':
    case 'rms':
      return n;
    case 'instance':
      return n * C + c;
    case 'group':
      return n * groups + Math.floor(c / (C / groups));
  }
}

export function groupCount(op: Op, groups: number): number {
  return op === 'batch' ? C : op === 'layer' || op === 'rms' ? N : op === 'instance' ? N * C : N * groups;
}

export function offsetOf(layout: Layout, n: number, c: number, s: number): number {
  return layout === 'NCHW' ? (n * C + c) * S + s : (n * S + s) * C + c;
}

export function shapeOf(layout: Layout): number[] {
  return layout === 'NCHW' ? [N, C, H, W] : [N, H, W, C];
}

/** The logical data x[n][c][s]: channel-specific centres and spreads, values rounded to 0.01. */
export function makeLogicalData(): Float32Array {
  const centre = [-2, 0.5, 3, -1, 1.5, 6];
  const spread = [0.6, 1.5, 0.4, 2.2, 1, 0.8];
  const x = new Float32Array(N * C * S);
  let seed = 20240607;
  const uniform = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) / 16777216;
  };
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let s = 0; s < S; s++) {
        const v = centre[c] + 0.8 * n + spread[c] * (uniform() + uniform() + uniform() - 1.5) * 2;
        x[(n * C + c) * S + s] = Math.round(v * 100) / 100;
      }
  return x;
}

/** Packs logical [n][c][s] data into the memory order of `layout`. */
export function pack(logical: Float32Array, layout: Layout): Float32Array {
  const out = new Float32Array(logical.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let s = 0; s < S; s++) out[offsetOf(layout, n, c, s)] = logical[(n * C + c) * S + s];
  return out;
}

export interface Computed {
  /** Offsets (memory order) of each group's cells, ascending. */
  members: number[][];
  /** Per-group mean (null for RMSNorm, which has none). */
  mean: Float32Array | null;
  /** Per-group √(var + ε), or the rms √(mean(x²) + ε) for RMSNorm. */
  spread: Float32Array;
  /** normkit's output of the chosen op, in the layout's memory order. */
  y: Float32Array;
  /** true when every group is one contiguous run in memory, in group order. */
  contiguous: boolean;
  /** Where the statistics came from, shown on the page. */
  source: string;
  /** The normkit call that produced y, shown on the page. */
  call: string;
}

export function compute(state: State, xMem: Float32Array): Computed {
  const { op, groups, layout } = state;
  const G = groupCount(op, groups);
  const members: number[][] = Array.from({ length: G }, () => []);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let s = 0; s < S; s++) members[groupOf(op, groups, n, c)].push(offsetOf(layout, n, c, s));
  for (const m of members) m.sort((a, b) => a - b);
  const size = members[0].length;
  const contiguous = members.every((m, g) => m[0] === g * size && m[size - 1] === (g + 1) * size - 1);
  const shape = shapeOf(layout);
  const shapeText = `[${shape.join(', ')}]`;

  let y: Float32Array;
  let call: string;
  switch (op) {
    case 'batch':
      y = batchNorm(xMem, shape, { layout, training: true });
      call = `batchNorm(x, ${shapeText}, { layout: '${layout}', training: true })`;
      break;
    case 'layer':
      y = layerNorm(xMem, shape, { axis: 1 });
      call = `layerNorm(x, ${shapeText}, { axis: 1 })`;
      break;
    case 'instance':
      y = instanceNorm(xMem, shape, { layout });
      call = `instanceNorm(x, ${shapeText}, { layout: '${layout}' })`;
      break;
    case 'group':
      y = groupNorm(xMem, shape, groups, { layout });
      call = `groupNorm(x, ${shapeText}, ${groups}, { layout: '${layout}' })`;
      break;
    case 'rms':
      y = rmsNorm(xMem, shape, { axis: 1 });
      call = `rmsNorm(x, ${shapeText}, { axis: 1 })`;
      break;
  }

  if (op === 'rms') {
    // y = x / rms exactly per element, so the group's rms is Σ|x| / Σ|y| (normkit's own division).
    const spread = new Float32Array(G);
    for (let g = 0; g < G; g++) {
      let sx = 0;
      let sy = 0;
      for (const o of members[g]) {
        sx += Math.abs(xMem[o]);
        sy += Math.abs(y[o]);
      }
      spread[g] = sx / sy;
    }
    return {
      members,
      mean: null,
      spread,
      y,
      contiguous,
      call,
      source:
        'rms per group = Σ|x| / Σ|y| over the group, where y = normkit.rmsNorm(x) = x / rms. ' +
        'RMSNorm subtracts no mean.',
    };
  }

  // Statistics by normkit: layerNorm's per-row mean and invStd outputs over a [groups, groupSize] view.
  let rows: Float32Array;
  if (contiguous) {
    rows = xMem; // a reshape: no copy
  } else {
    rows = new Float32Array(G * size);
    members.forEach((m, g) => m.forEach((o, i) => (rows[g * size + i] = xMem[o])));
  }
  const mean = new Float32Array(G);
  const invStd = new Float32Array(G);
  layerNorm(rows, [G, size], { mean, invStd });
  const spread = invStd.map((v) => 1 / v);
  const how = contiguous
    ? `the ${layout} buffer reshaped to [${G}, ${size}] (each group is one contiguous run, so no copy)`
    : `[${G}, ${size}] rows gathered from the ${layout} buffer (the groups are not contiguous in ${layout})`;
  return {
    members,
    mean,
    spread,
    y,
    contiguous,
    call,
    source: `mean and std per group: normkit.layerNorm's mean and invStd outputs (std = 1 / invStd) over ${how}.`,
  };
}

/** Describes how one group sits in memory: runs of contiguous offsets and their stride. */
export function memoryPattern(m: number[]): string {
  const runs: number[][] = [];
  for (const o of m) {
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1] === o - 1) last.push(o);
    else runs.push([o]);
  }
  if (runs.length === 1) return `one contiguous run of ${m.length} values`;
  const stride = runs.length > 1 ? runs[1][0] - runs[0][0] : 0;
  const len = runs[0].length;
  const what = len === 1 ? `${runs.length} single values` : `${runs.length} runs of ${len} contiguous values`;
  return `${what}, stride ${stride}`;
}

const hue = (g: number) => (210 + g * 137.508) % 360;

function describeOp(op: Op, groups: number): string {
  const G = groupCount(op, groups);
  switch (op) {
    case 'batch':
      return `<b>BatchNorm</b>: one group per channel, across all ${N} samples and all H·W positions (${N * S} cells each) → ${G} groups.`;
    case 'layer':
      return `<b>LayerNorm</b>: one group per sample, over all channels and positions (${C * S} cells each) → ${G} groups.`;
    case 'instance':
      return `<b>InstanceNorm</b>: one group per (sample, channel), over the H·W positions (${S} cells each) → ${G} groups.`;
    case 'group':
      return `<b>GroupNorm</b> with ${groups} group${groups > 1 ? 's' : ''}: per sample, ${C / groups} channel${C / groups > 1 ? 's' : ''} × H·W (${(C / groups) * S} cells each) → ${G} groups. With 1 group it is LayerNorm, with C groups InstanceNorm.`;
    case 'rms':
      return `<b>RMSNorm</b>: grouped like LayerNorm (one group per sample), but it divides by the root mean square and subtracts no mean.`;
  }
}

/** Fixed digits, without a "-0.000" for values that round to zero. */
const fmt = (v: number, digits = 4) =>
  !Number.isFinite(v) ? String(v) : Math.abs(v) < 0.5 * 10 ** -digits ? (0).toFixed(digits) : v.toFixed(digits);

export function mountExplainer(root: HTMLElement): { state: () => State & { data: number[] } } {
  const logical = makeLogicalData();
  const state: State = { op: 'batch', groups: 2, layout: 'NCHW', view: 'input', selected: 0 };
  const cube = root.querySelector<HTMLElement>('#cube')!;
  const memory = root.querySelector<HTMLElement>('#memory')!;
  const tbody = root.querySelector<HTMLElement>('#stats tbody')!;
  const groupsSel = root.querySelector<HTMLSelectElement>('#groups')!;
  root.querySelector('#dims')!.textContent = `N × C × (H·W) = ${N} × ${C} × (${H}·${W})`;
  groupsSel.innerHTML = GROUP_CHOICES.map((g) => `<option value="${g}">${g}</option>`).join('');
  groupsSel.value = String(state.groups);

  // Build the cells once; render() only updates their classes, colours and text.
  const cells: HTMLElement[] = [];
  cube.innerHTML = '';
  for (let n = 0; n < N; n++) {
    const slice = document.createElement('div');
    slice.className = 'slice';
    slice.innerHTML = `<div class="slice-title">sample n = ${n}</div>`;
    const grid = document.createElement('div');
    grid.className = 'grid';
    grid.style.gridTemplateColumns = `auto repeat(${C}, var(--cell))`;
    grid.append(Object.assign(document.createElement('div'), { className: 'axis', textContent: '' }));
    for (let c = 0; c < C; c++)
      grid.append(Object.assign(document.createElement('div'), { className: 'axis', textContent: `c${c}` }));
    for (let s = 0; s < S; s++) {
      grid.append(
        Object.assign(document.createElement('div'), {
          className: 'axis',
          textContent: `h${Math.floor(s / W)}w${s % W}`,
        }),
      );
      for (let c = 0; c < C; c++) {
        const el = document.createElement('div');
        el.className = 'cell';
        el.dataset.n = String(n);
        el.dataset.c = String(c);
        el.dataset.s = String(s);
        el.dataset.value = String(logical[(n * C + c) * S + s]);
        cells.push(el);
        grid.append(el);
      }
    }
    slice.append(grid);
    cube.append(slice);
  }
  const legend = document.createElement('div');
  legend.className = 'axis';
  legend.innerHTML = 'channels C →<br>positions H·W ↓<br>samples N: panels';
  cube.append(legend);

  // The cube view (like the well-known BatchNorm/LayerNorm/InstanceNorm/GroupNorm figure): C across,
  // H·W down, N into the page; only the front (n = 0), top (first position) and right (last channel)
  // faces are visible.
  const svg = root.querySelector<SVGSVGElement>('#cube3d')!;
  const cw = 30;
  const ch = 26;
  const dx = 20;
  const dy = 14;
  const ox = 30;
  const oy = 16 + N * dy;
  const P = (c: number, s: number, n: number) => `${ox + c * cw + n * dx},${oy + s * ch - n * dy}`;
  const faces: SVGPolygonElement[] = [];
  const poly = (points: string[], n: number, c: number, s: number, face: string) => {
    const el = document.createElementNS('http://www.w3.org/2000/svg', 'polygon');
    el.setAttribute('points', points.join(' '));
    el.setAttribute('class', `face ${face}`);
    el.dataset.n = String(n);
    el.dataset.c = String(c);
    el.dataset.s = String(s);
    faces.push(el);
    svg.append(el);
  };
  svg.innerHTML = '';
  for (let c = 0; c < C; c++)
    for (let s = 0; s < S; s++) poly([P(c, s, 0), P(c + 1, s, 0), P(c + 1, s + 1, 0), P(c, s + 1, 0)], 0, c, s, 'front');
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) poly([P(c, 0, n), P(c + 1, 0, n), P(c + 1, 0, n + 1), P(c, 0, n + 1)], n, c, 0, 'top');
  for (let n = 0; n < N; n++)
    for (let s = 0; s < S; s++) poly([P(C, s, n), P(C, s + 1, n), P(C, s + 1, n + 1), P(C, s, n + 1)], n, C - 1, s, 'right');
  const svgW = ox + C * cw + N * dx + 40;
  const svgH = oy + S * ch + 34;
  svg.setAttribute('width', String(svgW));
  svg.setAttribute('height', String(svgH));
  svg.setAttribute('viewBox', `0 0 ${svgW} ${svgH}`);
  svg.insertAdjacentHTML(
    'beforeend',
    `<text x="${ox + (C * cw) / 2}" y="${oy + S * ch + 18}" text-anchor="middle">C (channels)</text>` +
      `<text x="${ox - 8}" y="${oy + (S * ch) / 2}" text-anchor="end" dominant-baseline="middle">H·W</text>` +
      `<text x="${ox + C * cw + N * dx + 4}" y="${oy - N * dy + 2}" dominant-baseline="middle">N</text>`,
  );

  const mcells: HTMLElement[] = [];
  memory.innerHTML = '';
  memory.style.gridTemplateColumns = `auto repeat(${C * S}, var(--cell))`;
  for (let n = 0; n < N; n++) {
    memory.append(
      Object.assign(document.createElement('div'), {
        className: 'mrow-label',
        textContent: `${n * C * S}–${(n + 1) * C * S - 1}`,
      }),
    );
    for (let i = 0; i < C * S; i++) {
      const el = document.createElement('div');
      el.className = 'mcell';
      el.dataset.offset = String(n * C * S + i);
      mcells.push(el);
      memory.append(el);
    }
  }
  memory.style.setProperty('--cell', '26px');

  let computed: Computed;
  let xMem: Float32Array;

  function render() {
    xMem = pack(logical, state.layout);
    computed = compute(state, xMem);
    const G = computed.members.length;
    if (state.selected >= G) state.selected = 0;
    const groupAt = new Int32Array(xMem.length);
    computed.members.forEach((m, g) => m.forEach((o) => (groupAt[o] = g)));

    root.querySelector('#op-summary')!.innerHTML = describeOp(state.op, state.groups);
    root.querySelectorAll('.layout-name').forEach((e) => (e.textContent = state.layout));
    groupsSel.closest('label')!.classList.toggle('inactive', state.op !== 'group');

    for (const el of cells) {
      const n = +el.dataset.n!;
      const c = +el.dataset.c!;
      const s = +el.dataset.s!;
      const off = offsetOf(state.layout, n, c, s);
      const g = groupAt[off];
      el.dataset.offset = String(off);
      el.dataset.group = String(g);
      el.dataset.y = String(computed.y[off]);
      el.style.setProperty('--h', String(hue(g)));
      el.classList.toggle('lit', g === state.selected);
      el.classList.toggle('dim', g !== state.selected);
      el.textContent = (state.view === 'input' ? xMem[off] : computed.y[off]).toFixed(2);
      el.title = `n=${n} c=${c} h=${Math.floor(s / W)} w=${s % W} · offset ${off} · group ${g}\nx = ${xMem[off]}\ny = ${computed.y[off]}`;
    }
    for (const el of faces) {
      const off = offsetOf(state.layout, +el.dataset.n!, +el.dataset.c!, +el.dataset.s!);
      const g = groupAt[off];
      el.dataset.group = String(g);
      el.style.setProperty('--h', String(hue(g)));
      el.classList.toggle('lit', g === state.selected);
    }
    for (const el of mcells) {
      const off = +el.dataset.offset!;
      const g = groupAt[off];
      el.dataset.group = String(g);
      el.style.setProperty('--h', String(hue(g)));
      el.classList.toggle('lit', g === state.selected);
      el.classList.toggle('dim', g !== state.selected);
      // Memory cell label: the channel it holds.
      const c = state.layout === 'NCHW' ? Math.floor(off / S) % C : off % C;
      el.textContent = `c${c}`;
      el.title = `offset ${off} · channel ${c} · group ${g}`;
    }
    const pattern = memoryPattern(computed.members[state.selected]);
    root.querySelector('#memory-note')!.textContent =
      `In ${state.layout}, group ${state.selected} is ${pattern}` +
      (computed.contiguous ? '. Every group is contiguous: the fast case.' : '. normkit reads such groups with strided kernels.');

    const isRms = state.op === 'rms';
    root.querySelector('#std-head')!.textContent = isRms ? 'rms √(mean(x²)+ε)' : 'std √(var+ε)';
    const rows: string[] = [];
    for (let g = 0; g < G; g++) {
      const m = computed.members[g];
      let sum = 0;
      for (const o of m) sum += computed.y[o];
      const ym = sum / m.length;
      let ss = 0;
      for (const o of m) ss += (computed.y[o] - ym) ** 2;
      const ysd = Math.sqrt(ss / m.length);
      rows.push(
        `<tr data-group="${g}" class="${g === state.selected ? 'selected' : ''}">` +
          `<td><span class="swatch" style="--h:${hue(g)}"></span>${g}</td>` +
          `<td class="count">${m.length}</td>` +
          `<td class="num mean">${computed.mean ? fmt(computed.mean[g]) : '— (none)'}</td>` +
          `<td class="num std">${fmt(computed.spread[g])}</td>` +
          `<td class="num ymean">${fmt(ym, 3)}</td>` +
          `<td class="num ystd">${fmt(ysd, 3)}</td></tr>`,
      );
    }
    tbody.innerHTML = rows.join('');
    root.querySelector('#stats-source')!.innerHTML =
      `${computed.source} Output y = normkit.<code>${computed.call}</code> (no γ, β); ` +
      `its per-group mean and std in the last two columns are a plain-JS check of that output` +
      (isRms ? ' (RMSNorm output need not have mean 0 or std 1).' : ' (≈ 0 and ≈ 1).');
  }

  function select(g: number) {
    state.selected = g;
    render();
  }

  root.querySelector('#controls')!.addEventListener('change', () => {
    const form = root.querySelector<HTMLFormElement>('#controls')!;
    const data = new FormData(form);
    state.op = data.get('op') as Op;
    state.layout = data.get('layout') as Layout;
    state.view = data.get('view') as State['view'];
    state.groups = Number(groupsSel.value);
    render();
  });
  groupsSel.addEventListener('change', () => {
    // Choosing a group count implies GroupNorm.
    root.querySelector<HTMLInputElement>('input[name=op][value=group]')!.checked = true;
    state.op = 'group';
    state.groups = Number(groupsSel.value);
    render();
  });
  const pick = (e: Event) => {
    const t = (e.target as HTMLElement).closest<HTMLElement>('[data-group]');
    if (t) select(Number(t.dataset.group));
  };
  cube.addEventListener('click', pick);
  svg.addEventListener('click', pick);
  memory.addEventListener('click', pick);
  tbody.addEventListener('click', pick);

  render();
  return { state: () => ({ ...state, data: Array.from(logical) }) };
}
