import { tileRows } from './reduce';

// The apply family: the one pass that writes the output, with mean, rstd, gamma and beta folded into
// coefficients. Every kernel subtracts the group's f32 pivot first: `x - pivot` is exact (or nearly) when
// the group sits far from zero, whereas the fully folded `x * a + b` would cancel two huge terms and lose
// every digit of the result. src may equal dst (in-place work).

/** y = (x - pivot) * a + b over a contiguous run of n elements. */
export function applyRun(src: usize, dst: usize, n: i32, pivot: f32, a: f32, b: f32): void {
  const k = f32x4.splat(pivot);
  const av = f32x4.splat(a);
  const bv = f32x4.splat(b);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    const x0 = v128.load(src + o);
    const x1 = v128.load(src + o, 16);
    const x2 = v128.load(src + o, 32);
    const x3 = v128.load(src + o, 48);
    v128.store(dst + o, f32x4.add(f32x4.mul(f32x4.sub(x0, k), av), bv));
    v128.store(dst + o, f32x4.add(f32x4.mul(f32x4.sub(x1, k), av), bv), 16);
    v128.store(dst + o, f32x4.add(f32x4.mul(f32x4.sub(x2, k), av), bv), 32);
    v128.store(dst + o, f32x4.add(f32x4.mul(f32x4.sub(x3, k), av), bv), 48);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(f32x4.mul(f32x4.sub(v128.load(src + o), k), av), bv));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, (load<f32>(src + o) - pivot) * a + b);
  }
}

// y = ((x - pivot) * r + t) * w[i] + bias[i]; a missing weight or bias is a literal flag so each variant
// compiles to its own loop. The zero bias is still added so that -0 never replaces a +0 bias.
@inline
function affine(
  src: usize, dst: usize, n: i32, pivot: f32, r: f32, t: f32, w: usize, bias: usize,
  hasWeight: bool, hasBias: bool,
): void {
  const k = f32x4.splat(pivot);
  const rv = f32x4.splat(r);
  const tv = f32x4.splat(t);
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    let y = f32x4.add(f32x4.mul(f32x4.sub(v128.load(src + o), k), rv), tv);
    if (hasWeight) y = f32x4.mul(y, v128.load(w + o));
    v128.store(dst + o, f32x4.add(y, hasBias ? v128.load(bias + o) : zero));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    let y = (load<f32>(src + o) - pivot) * r + t;
    if (hasWeight) y *= load<f32>(w + o);
    store<f32>(dst + o, y + (hasBias ? load<f32>(bias + o) : 0));
  }
}

/** LayerNorm's per-position affine over one row; w or bias may be 0 (absent). */
export function applyAffineRow(
  src: usize, dst: usize, n: i32, pivot: f32, r: f32, t: f32, w: usize, bias: usize,
): void {
  if (w != 0 && bias != 0) affine(src, dst, n, pivot, r, t, w, bias, true, true);
  else if (w != 0) affine(src, dst, n, pivot, r, t, w, 0, true, false);
  else if (bias != 0) affine(src, dst, n, pivot, r, t, 0, bias, false, true);
  else applyRun(src, dst, n, pivot, r, t);
}

/** Channel-last rows: y[r, c] = (x[r, c] - pivot[c]) * a[c] + b[c] for a row-major [rows, C] block. */
export function applyColumns(
  src: usize, dst: usize, rows: i32, C: i32, pivot: usize, a: usize, b: usize,
): void {
  const rowBytes = <usize>C << 2;
  const tile = tileRows(rowBytes);
  for (let r0 = 0; r0 < rows; r0 += tile) {
    const r1 = min(rows, r0 + tile);
    // 8 channels at a time, their coefficients held in registers while the tile's rows stream past.
    let c = 0;
    for (; c + 8 <= C; c += 8) {
      const o = <usize>c << 2;
      const k0 = v128.load(pivot + o);
      const k1 = v128.load(pivot + o, 16);
      const a0 = v128.load(a + o);
      const a1 = v128.load(a + o, 16);
      const b0 = v128.load(b + o);
      const b1 = v128.load(b + o, 16);
      let x = src + <usize>r0 * rowBytes + o;
      let y = dst + <usize>r0 * rowBytes + o;
      for (let r = r0; r < r1; r++) {
        const x0 = v128.load(x);
        const x1 = v128.load(x, 16);
        v128.store(y, f32x4.add(f32x4.mul(f32x4.sub(x0, k0), a0), b0));
        v128.store(y, f32x4.add(f32x4.mul(f32x4.sub(x1, k1), a1), b1), 16);
        x += rowBytes;
        y += rowBytes;
      }
    }
    for (; c < C; c += 4) {
      const o = <usize>c << 2;
      let x = src + <usize>r0 * rowBytes + o;
      let y = dst + <usize>r0 * rowBytes + o;
      if (c + 4 <= C) {
        const k = v128.load(pivot + o);
        const av = v128.load(a + o);
        const bv = v128.load(b + o);
        for (let r = r0; r < r1; r++) {
          v128.store(y, f32x4.add(f32x4.mul(f32x4.sub(v128.load(x), k), av), bv));
          x += rowBytes;
          y += rowBytes;
        }
        continue;
      }
      for (let j = c; j < C; j++) {
        const oj = <usize>(j - c) << 2;
        const k = load<f32>(pivot + o + oj);
        const aj = load<f32>(a + o + oj);
        const bj = load<f32>(b + o + oj);
        for (let r = r0; r < r1; r++) {
          const q = <usize>(r - r0) * rowBytes + oj;
          store<f32>(y + q, (load<f32>(x + q) - k) * aj + bj);
        }
      }
    }
  }
}

/** out = a + b elementwise (the residual add fused into the normalizing ops). */
export function addInto(a: usize, b: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(a + o) + load<f32>(b + o));
  }
}
