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
  const cv = C & ~3;
  for (let r = 0; r < rows; r++) {
    const x = src + <usize>r * rowBytes;
    const y = dst + <usize>r * rowBytes;
    let c = 0;
    for (; c < cv; c += 4) {
      const o = <usize>c << 2;
      const d = f32x4.sub(v128.load(x + o), v128.load(pivot + o));
      v128.store(y + o, f32x4.add(f32x4.mul(d, v128.load(a + o)), v128.load(b + o)));
    }
    for (; c < C; c++) {
      const o = <usize>c << 2;
      store<f32>(y + o, (load<f32>(x + o) - load<f32>(pivot + o)) * load<f32>(a + o) + load<f32>(b + o));
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
