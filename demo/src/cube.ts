/**
 * The tensor as cubes (SVG): N into the page (up and to the right), C across, H·W down.
 *  - explodedCube: the main cube, one slab per sample pulled apart, so every cell of every sample shows a
 *    face (nothing hides behind sample 0) and every face can be clicked;
 *  - seeThroughCube: the small multiples, a wire-frame cube with the chosen cells drawn solid inside it,
 *    like the classic figure of normalization methods but with the groups inside the cube visible too.
 */
import { C, N, S, type Cell } from './model.js';

const SVG = 'http://www.w3.org/2000/svg';

function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

const pts = (p: [number, number][]) => p.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ');

export interface CubeFace extends SVGPolygonElement {
  dataset: DOMStringMap & { n: string; c: string; s: string; face: 'front' | 'top' | 'right' };
}

/** Builds the exploded cube into `svg` and returns its faces (data-n, data-c, data-s, data-face). */
export function explodedCube(svg: SVGSVGElement): CubeFace[] {
  const cw = 26; // a front face cell
  const ch = 18;
  const dx = 14; // one sample of depth
  const dy = 10;
  const shiftX = 30; // between slabs
  const shiftY = S * ch + dy + 12;
  const left = 58;
  const top = 22;
  const width = left + (N - 1) * shiftX + C * cw + dx + 10;
  const height = top + (N - 1) * shiftY + dy + S * ch + 24;
  svg.innerHTML = '';
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  const faces: CubeFace[] = [];
  // Slab n's front face has its top-left corner at (x0, y0); the back samples are higher up.
  const corner = (n: number): [number, number] => [left + n * shiftX, top + dy + (N - 1 - n) * shiftY];
  const face = (p: [number, number][], n: number, c: number, s: number, kind: 'front' | 'top' | 'right') => {
    const f = el('polygon', { points: pts(p), class: `face ${kind}` }) as CubeFace;
    f.dataset.n = String(n);
    f.dataset.c = String(c);
    f.dataset.s = String(s);
    f.dataset.face = kind;
    faces.push(f);
    svg.append(f);
  };
  for (let n = N - 1; n >= 0; n--) {
    const [x0, y0] = corner(n);
    for (let c = 0; c < C; c++)
      face(
        [
          [x0 + c * cw, y0],
          [x0 + (c + 1) * cw, y0],
          [x0 + (c + 1) * cw + dx, y0 - dy],
          [x0 + c * cw + dx, y0 - dy],
        ],
        n, c, 0, 'top',
      );
    for (let s = 0; s < S; s++)
      face(
        [
          [x0 + C * cw, y0 + s * ch],
          [x0 + C * cw + dx, y0 + s * ch - dy],
          [x0 + C * cw + dx, y0 + (s + 1) * ch - dy],
          [x0 + C * cw, y0 + (s + 1) * ch],
        ],
        n, C - 1, s, 'right',
      );
    for (let s = 0; s < S; s++)
      for (let c = 0; c < C; c++)
        face(
          [
            [x0 + c * cw, y0 + s * ch],
            [x0 + (c + 1) * cw, y0 + s * ch],
            [x0 + (c + 1) * cw, y0 + (s + 1) * ch],
            [x0 + c * cw, y0 + (s + 1) * ch],
          ],
          n, c, s, 'front',
        );
    const label = el('text', { x: x0 - 6, y: y0 + (S * ch) / 2, 'text-anchor': 'end', 'dominant-baseline': 'middle' });
    label.textContent = `n = ${n}`;
    svg.append(label);
  }
  const [bx, by] = corner(0);
  const cLabel = el('text', { x: bx + (C * cw) / 2, y: by + S * ch + 16, 'text-anchor': 'middle' });
  cLabel.textContent = 'C (channels) →';
  const [tx, ty] = corner(N - 1);
  const nLabel = el('text', { x: tx + C * cw + dx, y: ty - dy - 6, 'text-anchor': 'end' });
  nLabel.textContent = 'N (samples) ↗';
  const hLabel = el('text', { x: 4, y: by + S * ch + 16 });
  hLabel.textContent = 'H·W ↓';
  svg.append(cLabel, nLabel, hLabel);
  return faces;
}

export interface SeeThroughColors {
  front: string;
  top: string;
  side: string;
  edge: string;
}

/** Draws the see-through cube with the cells for which `lit` is true drawn solid. */
export function seeThroughCube(svg: SVGSVGElement, lit: (cell: Cell) => boolean, colors: SeeThroughColors, mark?: Cell) {
  const cw = 15;
  const ch = 12;
  const dx = 9;
  const dy = 7;
  const ox = 3;
  const oy = 3 + N * dy;
  const width = ox + C * cw + N * dx + 3;
  const height = oy + S * ch + 3;
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  // Point (c, s, n) of the lattice: n = 0 is the front face.
  const P = (c: number, s: number, n: number): [number, number] => [ox + c * cw + n * dx, oy + s * ch - n * dy];
  const parts: string[] = [];
  const poly = (p: [number, number][], cls: string, fill?: string) =>
    parts.push(`<polygon points="${pts(p)}" class="${cls}"${fill ? ` style="fill:${fill}"` : ''}/>`);
  const line = (a: [number, number], b: [number, number], cls: string) =>
    parts.push(`<line x1="${a[0]}" y1="${a[1]}" x2="${b[0]}" y2="${b[1]}" class="${cls}"/>`);
  // The hidden edges, dashed, then a faint grid on the three visible outer faces.
  line(P(0, S, N), P(C, S, N), 'hid');
  line(P(0, S, N), P(0, 0, N), 'hid');
  line(P(0, S, N), P(0, S, 0), 'hid');
  for (let c = 1; c < C; c++) {
    line(P(c, 0, 0), P(c, S, 0), 'gl');
    line(P(c, 0, 0), P(c, 0, N), 'gl');
  }
  for (let s = 1; s < S; s++) {
    line(P(0, s, 0), P(C, s, 0), 'gl');
    line(P(C, s, 0), P(C, s, N), 'gl');
  }
  for (let n = 1; n < N; n++) {
    line(P(0, 0, n), P(C, 0, n), 'gl');
    line(P(C, 0, n), P(C, S, n), 'gl');
  }
  // The chosen cells as solid boxes, back to front (n descending), bottom to top, left to right.
  for (let n = N - 1; n >= 0; n--)
    for (let s = S - 1; s >= 0; s--)
      for (let c = 0; c < C; c++) {
        if (!lit({ n, c, s })) continue;
        poly([P(c, s, n), P(c + 1, s, n), P(c + 1, s, n + 1), P(c, s, n + 1)], 'vox top', colors.top);
        poly([P(c + 1, s, n), P(c + 1, s + 1, n), P(c + 1, s + 1, n + 1), P(c + 1, s, n + 1)], 'vox side', colors.side);
        poly([P(c, s, n), P(c + 1, s, n), P(c + 1, s + 1, n), P(c, s + 1, n)], 'vox front', colors.front);
      }
  // The visible outer edges.
  const outline: [number, number][][] = [
    [P(0, 0, 0), P(C, 0, 0)], [P(C, 0, 0), P(C, S, 0)], [P(C, S, 0), P(0, S, 0)], [P(0, S, 0), P(0, 0, 0)],
    [P(0, 0, 0), P(0, 0, N)], [P(C, 0, 0), P(C, 0, N)], [P(C, S, 0), P(C, S, N)],
    [P(0, 0, N), P(C, 0, N)], [P(C, 0, N), P(C, S, N)],
  ];
  for (const [a, b] of outline) line(a, b, 'edge');
  // The chosen cell itself: a ring at the centre of its front face, drawn over everything.
  if (mark) {
    const [x, y] = P(mark.c + 0.5 + 0, mark.s + 0.5, mark.n);
    parts.push(`<circle cx="${x}" cy="${y}" r="3.2" class="mark"/>`);
  }
  svg.innerHTML = parts.join('');
  svg.style.setProperty('--edge', colors.edge);
}
