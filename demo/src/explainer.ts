/**
 * The explainer: a small N × C × (H·W) tensor, drawn one panel per sample, as an exploded cube and in
 * memory order, where the cells that share one mean and variance with the selected cell light up. The
 * selection is a cell (n, c, position), so it survives op, axis, layout and group-count changes, and a
 * strip of small cubes shows that same cell's group under every op at once. Every number shown comes from
 * normkit running on this data.
 */
import { groupColors } from './colors.js';
import { explodedCube, seeThroughCube, type CubeFace } from './cube.js';
import {
  C, GROUP_CHOICES, H, N, S, STYLE_H, STYLE_S, STYLE_W, W,
  cellAt, cellName, compute, groupCount, groupName, groupOf, makeLogicalData, makeLogicalStyle, memoryPattern,
  offsetOf, opLabel, posName, reducedAxes,
  type Axis, type Cell, type Computed, type Grouping, type Layout, type Op,
} from './model.js';

export interface State {
  op: Op;
  groups: number;
  axis: Axis;
  layout: Layout;
  view: 'input' | 'output';
  /** The selected cell. */
  cell: Cell;
}

/** Fixed digits, without a "-0.000" for values that round to zero. */
const fmt = (v: number, digits = 4) =>
  !Number.isFinite(v) ? String(v) : Math.abs(v) < 0.5 * 10 ** -digits ? (0).toFixed(digits) : v.toFixed(digits);

const html = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** Paints the four group colours of group `g` onto an element as CSS custom properties. */
function paint(e: HTMLElement | SVGElement, g: number) {
  const k = groupColors(g);
  e.style.setProperty('--strong', k.strong);
  e.style.setProperty('--strong-edge', k.strongEdge);
  e.style.setProperty('--tint', k.tint);
  e.style.setProperty('--tint-edge', k.tintEdge);
  e.style.setProperty('--strong-top', k.strongTop);
  e.style.setProperty('--strong-side', k.strongSide);
  e.style.setProperty('--tint-top', k.tintTop);
  e.style.setProperty('--tint-side', k.tintSide);
}

/** The small multiples: every op, with the setting that changes its grouping. */
function multiplesOf(state: State): (Grouping & { key: string; over: string })[] {
  const { groups, axis } = state;
  return [
    { key: 'batch', op: 'batch', groups, axis, over: 'over N, H, W' },
    { key: 'layer-chw', op: 'layer', groups, axis: 'chw', over: 'over C, H, W' },
    { key: 'layer-c', op: 'layer', groups, axis: 'c', over: 'over C, per token' },
    { key: 'instance', op: 'instance', groups, axis, over: 'over H, W' },
    { key: 'group', op: 'group', groups, axis, over: `over H, W, ${C / groups} of C` },
    { key: 'rms', op: 'rms', groups, axis, over: axis === 'c' ? 'rms over C' : 'rms over C, H, W' },
    { key: 'adain', op: 'adain', groups, axis, over: 'over H, W, + style' },
  ];
}

export function mountExplainer(root: HTMLElement) {
  const logical = makeLogicalData();
  const logicalStyle = makeLogicalStyle();
  const state: State = { op: 'batch', groups: 2, axis: 'c', layout: 'NCHW', view: 'input', cell: { n: 1, c: 3, s: 1 } };
  const form = root.querySelector<HTMLFormElement>('#controls')!;
  const panels = root.querySelector<HTMLElement>('#panels')!;
  const memory = root.querySelector<HTMLElement>('#memory')!;
  const thead = root.querySelector<HTMLElement>('#stats thead')!;
  const tbody = root.querySelector<HTMLElement>('#stats tbody')!;
  const groupsSel = root.querySelector<HTMLSelectElement>('#groups')!;
  const live = root.querySelector<HTMLElement>('#selection-live')!;
  const multiples = root.querySelector<HTMLElement>('#multiples')!;
  const styleWrap = root.querySelector<HTMLElement>('#style-wrap')!;
  root.querySelector('#dims')!.textContent = `N × C × (H·W) = ${N} × ${C} × (${H}·${W})`;
  groupsSel.innerHTML = GROUP_CHOICES.map((g) => `<option value="${g}">${g}</option>`).join('');
  groupsSel.value = String(state.groups);
  form.addEventListener('submit', (e) => e.preventDefault());

  // ---- The sample panels: one ARIA grid per sample, channels across, positions down. Built once;
  // render() only updates classes, colours and text. One roving tab stop: the selected cell.
  const cells: HTMLElement[] = [];
  const cellEl = (cell: Cell) => cells[(cell.n * S + cell.s) * C + cell.c];
  panels.innerHTML = '';
  for (let n = 0; n < N; n++) {
    const panel = document.createElement('div');
    panel.className = 'panel';
    panel.innerHTML = `<div class="panel-title" id="panel-title-${n}">sample n = ${n}</div>`;
    const grid = document.createElement('div');
    grid.className = 'grid';
    grid.setAttribute('role', 'grid');
    grid.setAttribute('aria-labelledby', `panel-title-${n}`);
    grid.setAttribute('aria-describedby', 'grid-help');
    const head = document.createElement('div');
    head.className = 'row';
    head.setAttribute('role', 'row');
    head.innerHTML =
      `<div role="columnheader" class="axis corner">pos</div>` +
      Array.from({ length: C }, (_, c) => `<div role="columnheader" class="axis">c${c}</div>`).join('');
    grid.append(head);
    for (let s = 0; s < S; s++) {
      const row = document.createElement('div');
      row.className = 'row';
      row.setAttribute('role', 'row');
      row.innerHTML = `<div role="rowheader" class="axis">${posName(s)}</div>`;
      for (let c = 0; c < C; c++) {
        const e = document.createElement('div');
        e.className = 'cell';
        e.setAttribute('role', 'gridcell');
        e.tabIndex = -1;
        e.dataset.n = String(n);
        e.dataset.c = String(c);
        e.dataset.s = String(s);
        e.dataset.value = String(logical[(n * C + c) * S + s]);
        row.append(e);
      }
      grid.append(row);
    }
    panel.append(grid);
    panels.append(panel);
  }
  for (let n = 0; n < N; n++)
    for (let s = 0; s < S; s++)
      for (let c = 0; c < C; c++) cells.push(panels.querySelector<HTMLElement>(`.cell[data-n="${n}"][data-c="${c}"][data-s="${s}"]`)!);

  // ---- The exploded cube.
  const svg = root.querySelector<SVGSVGElement>('#cube3d')!;
  const faces: CubeFace[] = explodedCube(svg);

  // ---- The small multiples.
  const minis = new Map<string, { button: HTMLButtonElement; svg: SVGSVGElement; name: HTMLElement; over: HTMLElement }>();
  multiples.innerHTML = '';
  for (const m of multiplesOf(state)) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'mini';
    button.dataset.key = m.key;
    button.innerHTML =
      `<svg aria-hidden="true" focusable="false"></svg><span class="mini-name"></span><span class="mini-over"></span>`;
    multiples.append(button);
    minis.set(m.key, {
      button,
      svg: button.querySelector('svg')!,
      name: button.querySelector('.mini-name')!,
      over: button.querySelector('.mini-over')!,
    });
  }

  // ---- The memory strip, in rows of C·S/2 values (two such rows side by side on wide screens).
  const perRow = (C * S) / 2;
  const mcells: HTMLElement[] = [];
  memory.innerHTML = '';
  for (let r = 0; r < (N * C * S) / perRow; r++) {
    memory.append(
      Object.assign(document.createElement('div'), {
        className: 'mrow-label',
        textContent: `${r * perRow}–${(r + 1) * perRow - 1}`,
      }),
    );
    for (let i = 0; i < perRow; i++) {
      const e = document.createElement('div');
      e.className = 'mcell';
      e.dataset.offset = String(r * perRow + i);
      mcells.push(e);
      memory.append(e);
    }
  }

  // ---- The AdaIN style, a small table shown only for AdaIN.
  const styleTable = document.createElement('table');
  styleTable.className = 'style-table';
  styleTable.innerHTML =
    `<caption>AdaIN style, 1 × ${C} × (${STYLE_H}·${STYLE_W}): the lit channel gives the selected cell its mean and std</caption>` +
    `<thead><tr><th scope="col">pos</th>${Array.from({ length: C }, (_, c) => `<th scope="col">c${c}</th>`).join('')}</tr></thead>` +
    `<tbody>${Array.from(
      { length: STYLE_S },
      (_, t) =>
        `<tr><th scope="row">h${Math.floor(t / STYLE_W)}w${t % STYLE_W}</th>` +
        Array.from({ length: C }, (_, c) => `<td class="scell" data-c="${c}" data-t="${t}">${logicalStyle[c * STYLE_S + t].toFixed(2)}</td>`).join('') +
        '</tr>',
    ).join('')}</tbody>`;
  styleWrap.append(styleTable);
  const scells = Array.from(styleTable.querySelectorAll<HTMLElement>('.scell'));

  let computed: Computed & { xMem: Float32Array };
  let lastAnnounced = '';

  function render() {
    const g: Grouping = state;
    computed = compute({ ...g, layout: state.layout }, logical, logicalStyle);
    const { xMem, y } = computed;
    const G = groupCount(g);
    const sel = groupOf(g, state.cell);
    const selOffset = offsetOf(state.layout, state.cell.n, state.cell.c, state.cell.s);
    const groupAt = new Int32Array(xMem.length);
    computed.members.forEach((m, k) => m.forEach((o) => (groupAt[o] = k)));
    root.dataset.op = state.op;
    root.dataset.axis = state.axis;
    root.dataset.layout = state.layout;
    root.dataset.selected = `${state.cell.n},${state.cell.c},${state.cell.s}`;
    root.dataset.selectedGroup = String(sel);

    // Summary: the reduced axes in words.
    const ax = reducedAxes(g);
    const size = computed.members[0].length;
    const extra =
      state.op === 'group'
        ? ` With 1 group GroupNorm is LayerNorm over C·H·W; with C = ${C} groups it is InstanceNorm.`
        : state.op === 'rms'
          ? ' RMSNorm divides by the root mean square and subtracts no mean.'
          : state.op === 'adain'
            ? ` Each content channel is normalized over H and W (like InstanceNorm), then takes the mean and std of the same channel of the style (right), which has its own size (${STYLE_H}·${STYLE_W} positions).`
            : state.op === 'layer' && state.axis === 'c'
              ? ' This is the transformer form, per token: the library default, axis −1.'
              : '';
    root.querySelector('#op-summary')!.innerHTML =
      `<b>${opLabel(g)}</b> reduces over <span id="reduced-axes">${ax.over}</span>: ${ax.per}, ` +
      `${size} cells each → ${G} groups.${extra}`;
    root.querySelectorAll('.layout-name').forEach((e) => (e.textContent = state.layout));
    styleWrap.hidden = state.op !== 'adain';

    // Panels.
    for (const e of cells) {
      const cell = { n: +e.dataset.n!, c: +e.dataset.c!, s: +e.dataset.s! };
      const off = offsetOf(state.layout, cell.n, cell.c, cell.s);
      const k = groupAt[off];
      const isSel = off === selOffset;
      e.dataset.offset = String(off);
      e.dataset.group = String(k);
      e.dataset.y = String(y[off]);
      paint(e, k);
      e.classList.toggle('lit', k === sel);
      e.classList.toggle('selected', isSel);
      e.setAttribute('aria-selected', String(isSel));
      e.tabIndex = isSel ? 0 : -1;
      e.textContent = (state.view === 'input' ? xMem[off] : y[off]).toFixed(2);
      e.title = `n=${cell.n} c=${cell.c} ${posName(cell.s)} · offset ${off} · group ${groupName(g, k)}\nx = ${xMem[off]}\ny = ${y[off]}`;
    }
    // The exploded cube.
    for (const f of faces) {
      const cell = { n: +f.dataset.n, c: +f.dataset.c, s: +f.dataset.s };
      const k = groupOf(g, cell);
      f.dataset.group = String(k);
      paint(f, k);
      f.classList.toggle('lit', k === sel);
      f.classList.toggle('selected', f.dataset.face === 'front' && cell.n === state.cell.n && cell.c === state.cell.c && cell.s === state.cell.s);
    }
    svg.setAttribute(
      'aria-label',
      `The tensor as a cube pulled apart by sample: N into the page, C across, H·W down. ` +
        `The ${computed.members[sel].length} cells of the selected cell's group are dark.`,
    );
    // Memory.
    for (const e of mcells) {
      const off = +e.dataset.offset!;
      const k = groupAt[off];
      e.dataset.group = String(k);
      paint(e, k);
      e.classList.toggle('lit', k === sel);
      e.classList.toggle('selected', off === selOffset);
      const cell = cellAt(state.layout, off);
      e.textContent = `c${cell.c}`;
      e.title = `offset ${off} · ${cellName(cell)} · group ${groupName(g, k)}`;
    }
    root.querySelector('#memory-note')!.textContent =
      `In ${state.layout}, the selected cell is at offset ${selOffset} and its group (${groupName(g, sel)}) is ` +
      `${memoryPattern(computed.members[sel])}` +
      (computed.contiguous ? '. Every group is contiguous: the fast case.' : '. normkit reads such groups with strided kernels.');
    // The style (AdaIN): the selected cell's channel gives its style statistics.
    for (const e of scells) {
      const c = +e.dataset.c!;
      paint(e, state.cell.n * C + c);
      e.classList.toggle('lit', c === state.cell.c);
    }

    // Small multiples: the same cell under every op.
    for (const m of multiplesOf(state)) {
      const mini = minis.get(m.key)!;
      const k = groupOf(m, state.cell);
      const colors = groupColors(k);
      seeThroughCube(mini.svg, (cell) => groupOf(m, cell) === k, {
        front: colors.strong, top: colors.strongTop, side: colors.strongSide, edge: colors.strongEdge,
      }, state.cell);
      const members = N * C * S / groupCount(m);
      mini.name.textContent = opLabel(m).replace(' over ', ' · ');
      mini.over.textContent = `${m.over} · ${members} cells`;
      const active = m.op === state.op && (m.op !== 'layer' || m.axis === state.axis);
      mini.button.setAttribute('aria-pressed', String(active));
      mini.button.dataset.lit = String(members);
      mini.button.title = `${opLabel(m)}: the selected cell shares its statistics with ${members} cells (over ${reducedAxes(m).over})`;
    }

    renderStats(g, G, sel);

    // Announce the selection and its group (polite; only when the text changes).
    const a = state.cell;
    const text =
      `Selected cell n = ${a.n}, c = ${a.c}, h = ${Math.floor(a.s / W)}, w = ${a.s % W}: x = ${xMem[selOffset].toFixed(2)}. ` +
      `${opLabel(g)}: group ${groupName(g, sel)}, ${computed.members[sel].length} cells, ` +
      (computed.mean ? `mean ${fmt(computed.mean[sel], 3)}, std ${fmt(computed.spread[sel], 3)}.` : `rms ${fmt(computed.spread[sel], 3)}.`);
    if (text !== lastAnnounced) {
      live.textContent = text;
      lastAnnounced = text;
    }
  }

  function renderStats(g: Grouping, G: number, sel: number) {
    const isRms = state.op === 'rms';
    const isAdain = state.op === 'adain';
    const cols: [cls: string, head: string][] = isRms
      ? [['std', 'rms √(mean(x²)+ε)'], ['yrms', 'output rms (≈ 1)']]
      : isAdain
        ? [
            ['mean', 'content mean'], ['std', 'content std'], ['smean', 'style mean'], ['sstd', 'style std'],
            ['ymean', 'output mean (= style mean)'], ['ystd', 'output std (≈ style std)'],
          ]
        : [['mean', 'mean'], ['std', 'std √(var+ε)'], ['ymean', 'output mean (≈ 0)'], ['ystd', 'output std (≈ 1)']];
    thead.innerHTML =
      `<tr><th scope="col">group</th><th scope="col" class="num">cells</th>` +
      cols.map(([cls, h]) => `<th scope="col" class="num ${cls}">${h}</th>`).join('') + '</tr>';
    const { y } = computed;
    const rows: string[] = [];
    for (let k = 0; k < G; k++) {
      const m = computed.members[k];
      let sum = 0;
      let sq = 0;
      for (const o of m) {
        sum += y[o];
        sq += y[o] * y[o];
      }
      const ym = sum / m.length;
      let ss = 0;
      for (const o of m) ss += (y[o] - ym) ** 2;
      const v: Record<string, string> = {
        mean: computed.mean ? fmt(computed.mean[k]) : '',
        std: fmt(computed.spread[k]),
        smean: computed.styleMean ? fmt(computed.styleMean[k]) : '',
        sstd: computed.styleSpread ? fmt(computed.styleSpread[k]) : '',
        ymean: fmt(ym, 3),
        ystd: fmt(Math.sqrt(ss / m.length), 3),
        yrms: fmt(Math.sqrt(sq / m.length), 3),
      };
      const k2 = groupColors(k);
      rows.push(
        `<tr data-group="${k}" class="${k === sel ? 'selected' : ''}"${k === sel ? ' aria-current="true"' : ''}>` +
          `<th scope="row"><span class="swatch" style="background:${k2.strong}"></span>${groupName(g, k)}</th>` +
          `<td class="num count">${m.length}</td>` +
          cols.map(([cls]) => `<td class="num ${cls}">${v[cls]}</td>`).join('') +
          '</tr>',
      );
    }
    tbody.innerHTML = rows.join('');
    const check = isRms
      ? 'its per-group rms in the last column is a plain-JS check of that output (≈ 1; RMSNorm output need not have mean 0 or std 1).'
      : isAdain
        ? "its per-group mean and std in the last two columns are a plain-JS check of that output (the style's mean and std)."
        : 'its per-group mean and std in the last two columns are a plain-JS check of that output (≈ 0 and ≈ 1).';
    root.querySelector('#stats-source')!.innerHTML =
      `${html(computed.source)} Output y = normkit.<code>${html(computed.call)}</code> (no γ, β); ${check}`;
  }

  function select(cell: Cell, focus = false) {
    state.cell = cell;
    render();
    if (focus) cellEl(cell).focus();
  }

  function syncForm() {
    form.querySelector<HTMLInputElement>(`input[name=op][value=${state.op}]`)!.checked = true;
    form.querySelector<HTMLInputElement>(`input[name=axis][value=${state.axis}]`)!.checked = true;
    form.querySelector<HTMLInputElement>(`input[name=layout][value=${state.layout}]`)!.checked = true;
    groupsSel.value = String(state.groups);
  }

  form.addEventListener('change', (e) => {
    const data = new FormData(form);
    state.op = data.get('op') as Op;
    state.axis = data.get('axis') as Axis;
    state.layout = data.get('layout') as Layout;
    state.view = data.get('view') as State['view'];
    state.groups = Number(groupsSel.value);
    // Choosing a group count implies GroupNorm.
    if (e.target === groupsSel) state.op = 'group';
    syncForm();
    render();
  });

  multiples.addEventListener('click', (e) => {
    const b = (e.target as Element).closest<HTMLButtonElement>('button.mini');
    if (!b) return;
    const m = multiplesOf(state).find((x) => x.key === b.dataset.key)!;
    state.op = m.op;
    if (m.op === 'layer') state.axis = m.axis;
    syncForm();
    render();
  });

  // Mouse: any view of a cell selects it; a table row selects a cell of that group.
  panels.addEventListener('click', (e) => {
    const t = (e.target as Element).closest<HTMLElement>('.cell');
    if (t) select({ n: +t.dataset.n!, c: +t.dataset.c!, s: +t.dataset.s! }, true);
  });
  svg.addEventListener('click', (e) => {
    const t = (e.target as Element).closest<SVGElement>('polygon.face');
    if (t) select({ n: +t.dataset.n!, c: +t.dataset.c!, s: +t.dataset.s! });
  });
  memory.addEventListener('click', (e) => {
    const t = (e.target as Element).closest<HTMLElement>('.mcell');
    if (t) select(cellAt(state.layout, +t.dataset.offset!));
  });
  tbody.addEventListener('click', (e) => {
    const t = (e.target as Element).closest<HTMLElement>('tr[data-group]');
    if (!t) return;
    const k = +t.dataset.group!;
    if (groupOf(state, state.cell) !== k) select(cellAt(state.layout, computed.members[k][0]));
  });

  // Keyboard: arrows move the selected cell (← → channel, on into the next sample at the edges; ↑ ↓
  // position), Page Up / Page Down the sample, Home / End the first / last channel.
  panels.addEventListener('keydown', (e) => {
    const { n, c, s } = state.cell;
    let next: Cell | undefined;
    switch (e.key) {
      case 'ArrowRight':
        next = c < C - 1 ? { n, c: c + 1, s } : n < N - 1 ? { n: n + 1, c: 0, s } : undefined;
        break;
      case 'ArrowLeft':
        next = c > 0 ? { n, c: c - 1, s } : n > 0 ? { n: n - 1, c: C - 1, s } : undefined;
        break;
      case 'ArrowDown':
        next = s < S - 1 ? { n, c, s: s + 1 } : undefined;
        break;
      case 'ArrowUp':
        next = s > 0 ? { n, c, s: s - 1 } : undefined;
        break;
      case 'PageDown':
        next = n < N - 1 ? { n: n + 1, c, s } : undefined;
        break;
      case 'PageUp':
        next = n > 0 ? { n: n - 1, c, s } : undefined;
        break;
      case 'Home':
        next = { n, c: 0, s };
        break;
      case 'End':
        next = { n, c: C - 1, s };
        break;
      default:
        return;
    }
    e.preventDefault();
    if (next) select(next, true);
  });

  syncForm();
  render();
  return {
    state: () => ({ ...state, cell: { ...state.cell }, data: Array.from(logical), style: Array.from(logicalStyle) }),
    select: (cell: Cell) => select(cell),
  };
}
