import { tileRows } from './reduce';
import { EPILOGUE_IDENTITY, EPILOGUE_RELU, EPILOGUE_SILU, EPILOGUE_GELU, EPILOGUE_GELU_TANH } from './abi';
import { activate, activateScalar } from './activations';

// The apply family: the one pass that writes the output, with mean, rstd, gamma and beta folded into
// coefficients: y = epilogue((x - pivot) * a + b). The fold chooses the pivot (fold.ts): 0 where the
// folded x * a + b is accurate, which saves one operation per element, and the group's mean rounded to
// f32 where it is not: then x - pivot is exact for a group far from zero, where x * a + b would cancel two
// huge terms. Each kernel has a variant without the subtraction, picked once per call. src may equal dst
// (in-place work). Channels the fold marked exact are applied in f64 by the exact* functions.

// ---- the epilogue --------------------------------------------------------------------------------------
// The elementwise function after x * a + b. Every loop below takes its kind as an argument that is a
// literal at the call site (the dispatch in each exported function), so inlining compiles one loop per
// kind without a branch per element.


@inline function epilogue(v: v128, kind: i32): v128 {
  return activate(v, kind);
}

@inline function epilogueScalar(y: f32, kind: i32): f32 {
  return activateScalar(y, kind);
}

@inline
function run(src: usize, dst: usize, n: i32, pivot: f32, a: f32, b: f32, shifted: bool, kind: i32): void {
  const k = f32x4.splat(pivot);
  const av = f32x4.splat(a);
  const bv = f32x4.splat(b);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    let x0 = v128.load(src + o);
    let x1 = v128.load(src + o, 16);
    let x2 = v128.load(src + o, 32);
    let x3 = v128.load(src + o, 48);
    if (shifted) {
      x0 = f32x4.sub(x0, k);
      x1 = f32x4.sub(x1, k);
      x2 = f32x4.sub(x2, k);
      x3 = f32x4.sub(x3, k);
    }
    v128.store(dst + o, epilogue(f32x4.add(f32x4.mul(x0, av), bv), kind));
    v128.store(dst + o, epilogue(f32x4.add(f32x4.mul(x1, av), bv), kind), 16);
    v128.store(dst + o, epilogue(f32x4.add(f32x4.mul(x2, av), bv), kind), 32);
    v128.store(dst + o, epilogue(f32x4.add(f32x4.mul(x3, av), bv), kind), 48);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    let x = v128.load(src + o);
    if (shifted) x = f32x4.sub(x, k);
    v128.store(dst + o, epilogue(f32x4.add(f32x4.mul(x, av), bv), kind));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, epilogueScalar((load<f32>(src + o) - pivot) * a + b, kind));
  }
}

/** y = (x - pivot) * a + b over `runs` runs of `runLen` elements, `stride` bytes apart (one channel's planes). */
export function applyRuns(
  src: usize, dst: usize, runLen: i32, runs: i32, stride: usize, pivot: f32, a: f32, b: f32, kind: i32,
): void {
  switch (kind) { // the epilogue dispatch
    case EPILOGUE_RELU: runsRelu(src, dst, runLen, runs, stride, pivot, a, b); break;
    case EPILOGUE_SILU: runsSilu(src, dst, runLen, runs, stride, pivot, a, b); break;
    case EPILOGUE_GELU: runsGelu(src, dst, runLen, runs, stride, pivot, a, b); break;
    case EPILOGUE_GELU_TANH: runsGeluTanh(src, dst, runLen, runs, stride, pivot, a, b); break;
    default: runsIdentity(src, dst, runLen, runs, stride, pivot, a, b);
  }
}

// One function per epilogue kind (here and for the other apply shapes below): V8 compiles a loop markedly
// slower beside another kind's long activation body in the same function (2x for the plain loops).
function runsIdentity(src: usize, dst: usize, runLen: i32, runs: i32, stride: usize, pivot: f32, a: f32, b: f32): void {
  runsOf(src, dst, runLen, runs, stride, pivot, a, b, EPILOGUE_IDENTITY);
}
function runsRelu(src: usize, dst: usize, runLen: i32, runs: i32, stride: usize, pivot: f32, a: f32, b: f32): void {
  runsOf(src, dst, runLen, runs, stride, pivot, a, b, EPILOGUE_RELU);
}
function runsSilu(src: usize, dst: usize, runLen: i32, runs: i32, stride: usize, pivot: f32, a: f32, b: f32): void {
  runsOf(src, dst, runLen, runs, stride, pivot, a, b, EPILOGUE_SILU);
}
function runsGelu(src: usize, dst: usize, runLen: i32, runs: i32, stride: usize, pivot: f32, a: f32, b: f32): void {
  runsOf(src, dst, runLen, runs, stride, pivot, a, b, EPILOGUE_GELU);
}
function runsGeluTanh(src: usize, dst: usize, runLen: i32, runs: i32, stride: usize, pivot: f32, a: f32, b: f32): void {
  runsOf(src, dst, runLen, runs, stride, pivot, a, b, EPILOGUE_GELU_TANH);
}

@inline
function runsOf(
  src: usize, dst: usize, runLen: i32, runs: i32, stride: usize, pivot: f32, a: f32, b: f32, kind: i32,
): void {
  for (let r = 0; r < runs; r++) {
    const o = <usize>r * stride;
    if (pivot == 0) run(src + o, dst + o, runLen, 0, a, b, false, kind);
    else run(src + o, dst + o, runLen, pivot, a, b, true, kind);
  }
}

// y = ((x - pivot) * r + t) * w[i] + bias[i]. Every flag is a literal at its call site, so each variant
// compiles to its own loop; `hasShift` false drops the + t (RMSNorm's t is 0). Without a bias a zero is
// still added, so that -0 never replaces a +0 bias.
@inline
function affine(
  src: usize, dst: usize, n: i32, pivot: f32, r: f32, t: f32, w: usize, bias: usize,
  shifted: bool, hasShift: bool, hasWeight: bool, hasBias: bool, kind: i32,
): void {
  const k = f32x4.splat(pivot);
  const rv = f32x4.splat(r);
  const tv = f32x4.splat(t);
  const zero = f32x4.splat(0);
  // Pointer-relative addressing and four vectors a step: this loop is bound by its three loads and one
  // store per vector, and the wider step measured ~25% faster than two vectors.
  const dw = w - src;
  const db = bias - src;
  const dd = dst - src;
  const end = src + (<usize>(n & ~15) << 2);
  for (let s = src; s < end; s += 64) {
    let x0 = v128.load(s);
    let x1 = v128.load(s, 16);
    let x2 = v128.load(s, 32);
    let x3 = v128.load(s, 48);
    if (shifted) {
      x0 = f32x4.sub(x0, k);
      x1 = f32x4.sub(x1, k);
      x2 = f32x4.sub(x2, k);
      x3 = f32x4.sub(x3, k);
    }
    let y0 = f32x4.mul(x0, rv);
    let y1 = f32x4.mul(x1, rv);
    let y2 = f32x4.mul(x2, rv);
    let y3 = f32x4.mul(x3, rv);
    if (hasShift) {
      y0 = f32x4.add(y0, tv);
      y1 = f32x4.add(y1, tv);
      y2 = f32x4.add(y2, tv);
      y3 = f32x4.add(y3, tv);
    }
    if (hasWeight) {
      y0 = f32x4.mul(y0, v128.load(s + dw));
      y1 = f32x4.mul(y1, v128.load(s + dw, 16));
      y2 = f32x4.mul(y2, v128.load(s + dw, 32));
      y3 = f32x4.mul(y3, v128.load(s + dw, 48));
    }
    if (hasBias) {
      y0 = f32x4.add(y0, v128.load(s + db));
      y1 = f32x4.add(y1, v128.load(s + db, 16));
      y2 = f32x4.add(y2, v128.load(s + db, 32));
      y3 = f32x4.add(y3, v128.load(s + db, 48));
    } else {
      y0 = f32x4.add(y0, zero);
      y1 = f32x4.add(y1, zero);
      y2 = f32x4.add(y2, zero);
      y3 = f32x4.add(y3, zero);
    }
    const d = s + dd;
    v128.store(d, epilogue(y0, kind));
    v128.store(d, epilogue(y1, kind), 16);
    v128.store(d, epilogue(y2, kind), 32);
    v128.store(d, epilogue(y3, kind), 48);
  }
  let i = n & ~15;
  for (; i < n; i++) {
    const o = <usize>i << 2;
    let y = (load<f32>(src + o) - pivot) * r + t;
    if (hasWeight) y *= load<f32>(w + o);
    store<f32>(dst + o, epilogueScalar(y + (hasBias ? load<f32>(bias + o) : 0), kind));
  }
}

@inline
function affineShifted(
  src: usize, dst: usize, n: i32, pivot: f32, r: f32, t: f32, w: usize, bias: usize, shifted: bool, kind: i32,
): void {
  if (w != 0 && bias != 0) affine(src, dst, n, pivot, r, t, w, bias, shifted, true, true, true, kind);
  else if (w != 0) affine(src, dst, n, pivot, r, t, w, 0, shifted, true, true, false, kind);
  else affine(src, dst, n, pivot, r, t, 0, bias, shifted, true, false, true, kind);
}

@inline
function affineRow(
  src: usize, dst: usize, n: i32, pivot: f32, r: f32, t: f32, w: usize, bias: usize, kind: i32,
): void {
  if (w == 0 && bias == 0) {
    if (pivot == 0) run(src, dst, n, 0, r, t, false, kind);
    else run(src, dst, n, pivot, r, t, true, kind);
  } else if (pivot == 0 && t == 0 && bias == 0) affine(src, dst, n, 0, r, 0, w, 0, false, false, true, false, kind);
  else if (pivot == 0) affineShifted(src, dst, n, 0, r, t, w, bias, false, kind);
  else affineShifted(src, dst, n, pivot, r, t, w, bias, true, kind);
}

/** LayerNorm's y = ((x - pivot) * r + t) * w[i] + bias[i] over one row; w or bias may be 0 (absent). */
export function applyAffineRow(
  src: usize, dst: usize, n: i32, pivot: f32, r: f32, t: f32, w: usize, bias: usize, kind: i32,
): void {
  switch (kind) { // the epilogue dispatch
    case EPILOGUE_RELU: affineRelu(src, dst, n, pivot, r, t, w, bias); break;
    case EPILOGUE_SILU: affineSilu(src, dst, n, pivot, r, t, w, bias); break;
    case EPILOGUE_GELU: affineGelu(src, dst, n, pivot, r, t, w, bias); break;
    case EPILOGUE_GELU_TANH: affineGeluTanh(src, dst, n, pivot, r, t, w, bias); break;
    default: affineIdentity(src, dst, n, pivot, r, t, w, bias);
  }
}

function affineIdentity(src: usize, dst: usize, n: i32, pivot: f32, r: f32, t: f32, w: usize, bias: usize): void {
  affineRow(src, dst, n, pivot, r, t, w, bias, EPILOGUE_IDENTITY);
}
function affineRelu(src: usize, dst: usize, n: i32, pivot: f32, r: f32, t: f32, w: usize, bias: usize): void {
  affineRow(src, dst, n, pivot, r, t, w, bias, EPILOGUE_RELU);
}
function affineSilu(src: usize, dst: usize, n: i32, pivot: f32, r: f32, t: f32, w: usize, bias: usize): void {
  affineRow(src, dst, n, pivot, r, t, w, bias, EPILOGUE_SILU);
}
function affineGelu(src: usize, dst: usize, n: i32, pivot: f32, r: f32, t: f32, w: usize, bias: usize): void {
  affineRow(src, dst, n, pivot, r, t, w, bias, EPILOGUE_GELU);
}
function affineGeluTanh(src: usize, dst: usize, n: i32, pivot: f32, r: f32, t: f32, w: usize, bias: usize): void {
  affineRow(src, dst, n, pivot, r, t, w, bias, EPILOGUE_GELU_TANH);
}

// Channel-last rows with per-channel coefficients; see applyColumns.
@inline
function columns(
  src: usize, dst: usize, rows: i32, C: i32, rowBytes: usize, pivot: usize, a: usize, b: usize, shifted: bool, kind: i32,
): void {
  const tile = tileRows(<usize>C << 2);
  const zero = f32x4.splat(0);
  for (let r0 = 0; r0 < rows; r0 += tile) {
    const r1 = min(rows, r0 + tile);
    // 16 channels (a cache line of each row) at a time, their coefficients held in registers while the
    // tile's rows stream past: measured ~30% faster than 8 and as fast as a plain copy.
    let c = 0;
    for (; c + 16 <= C; c += 16) {
      const o = <usize>c << 2;
      const k0 = shifted ? v128.load(pivot + o) : zero;
      const k1 = shifted ? v128.load(pivot + o, 16) : zero;
      const k2 = shifted ? v128.load(pivot + o, 32) : zero;
      const k3 = shifted ? v128.load(pivot + o, 48) : zero;
      const a0 = v128.load(a + o);
      const a1 = v128.load(a + o, 16);
      const a2 = v128.load(a + o, 32);
      const a3 = v128.load(a + o, 48);
      const b0 = v128.load(b + o);
      const b1 = v128.load(b + o, 16);
      const b2 = v128.load(b + o, 32);
      const b3 = v128.load(b + o, 48);
      let x = src + <usize>r0 * rowBytes + o;
      let y = dst + <usize>r0 * rowBytes + o;
      for (let r = r0; r < r1; r++) {
        let x0 = v128.load(x);
        let x1 = v128.load(x, 16);
        let x2 = v128.load(x, 32);
        let x3 = v128.load(x, 48);
        if (shifted) {
          x0 = f32x4.sub(x0, k0);
          x1 = f32x4.sub(x1, k1);
          x2 = f32x4.sub(x2, k2);
          x3 = f32x4.sub(x3, k3);
        }
        v128.store(y, epilogue(f32x4.add(f32x4.mul(x0, a0), b0), kind));
        v128.store(y, epilogue(f32x4.add(f32x4.mul(x1, a1), b1), kind), 16);
        v128.store(y, epilogue(f32x4.add(f32x4.mul(x2, a2), b2), kind), 32);
        v128.store(y, epilogue(f32x4.add(f32x4.mul(x3, a3), b3), kind), 48);
        x += rowBytes;
        y += rowBytes;
      }
    }
    for (; c < C; c += 4) {
      const o = <usize>c << 2;
      let x = src + <usize>r0 * rowBytes + o;
      let y = dst + <usize>r0 * rowBytes + o;
      if (c + 4 <= C) {
        const k = shifted ? v128.load(pivot + o) : zero;
        const av = v128.load(a + o);
        const bv = v128.load(b + o);
        for (let r = r0; r < r1; r++) {
          let xv = v128.load(x);
          if (shifted) xv = f32x4.sub(xv, k);
          v128.store(y, epilogue(f32x4.add(f32x4.mul(xv, av), bv), kind));
          x += rowBytes;
          y += rowBytes;
        }
        continue;
      }
      for (let j = c; j < C; j++) {
        const oj = <usize>(j - c) << 2;
        const k: f32 = shifted ? load<f32>(pivot + o + oj) : 0;
        const aj = load<f32>(a + o + oj);
        const bj = load<f32>(b + o + oj);
        for (let r = r0; r < r1; r++) {
          const q = <usize>(r - r0) * rowBytes + oj;
          store<f32>(y + q, epilogueScalar((load<f32>(x + q) - k) * aj + bj, kind));
        }
      }
    }
  }
}

/**
 * Channel-last rows: y[r, c] = (x[r, c] - pivot[c]) * a[c] + b[c] for C channels of a row-major block
 * of `rows` rows, `rowBytes` apart; pivot 0 (no array) when every pivot is zero.
 */
export function applyColumns(
  src: usize, dst: usize, rows: i32, C: i32, rowBytes: usize, pivot: usize, a: usize, b: usize, kind: i32,
): void {
  switch (kind) { // the epilogue dispatch
    case EPILOGUE_RELU: columnsRelu(src, dst, rows, C, rowBytes, pivot, a, b); break;
    case EPILOGUE_SILU: columnsSilu(src, dst, rows, C, rowBytes, pivot, a, b); break;
    case EPILOGUE_GELU: columnsGelu(src, dst, rows, C, rowBytes, pivot, a, b); break;
    case EPILOGUE_GELU_TANH: columnsGeluTanh(src, dst, rows, C, rowBytes, pivot, a, b); break;
    default: columnsIdentity(src, dst, rows, C, rowBytes, pivot, a, b);
  }
}

function columnsIdentity(src: usize, dst: usize, rows: i32, C: i32, rowBytes: usize, pivot: usize, a: usize, b: usize): void {
  columnsOf(src, dst, rows, C, rowBytes, pivot, a, b, EPILOGUE_IDENTITY);
}
function columnsRelu(src: usize, dst: usize, rows: i32, C: i32, rowBytes: usize, pivot: usize, a: usize, b: usize): void {
  columnsOf(src, dst, rows, C, rowBytes, pivot, a, b, EPILOGUE_RELU);
}
function columnsSilu(src: usize, dst: usize, rows: i32, C: i32, rowBytes: usize, pivot: usize, a: usize, b: usize): void {
  columnsOf(src, dst, rows, C, rowBytes, pivot, a, b, EPILOGUE_SILU);
}
function columnsGelu(src: usize, dst: usize, rows: i32, C: i32, rowBytes: usize, pivot: usize, a: usize, b: usize): void {
  columnsOf(src, dst, rows, C, rowBytes, pivot, a, b, EPILOGUE_GELU);
}
function columnsGeluTanh(src: usize, dst: usize, rows: i32, C: i32, rowBytes: usize, pivot: usize, a: usize, b: usize): void {
  columnsOf(src, dst, rows, C, rowBytes, pivot, a, b, EPILOGUE_GELU_TANH);
}

// The column loop with or without the pivots (pivot 0: no array), for one epilogue kind.
@inline
function columnsOf(src: usize, dst: usize, rows: i32, C: i32, rowBytes: usize, pivot: usize, a: usize, b: usize, kind: i32): void {
  if (pivot != 0) columns(src, dst, rows, C, rowBytes, pivot, a, b, true, kind);
  else columns(src, dst, rows, C, rowBytes, 0, a, b, false, kind);
}

// ---- the exact apply -----------------------------------------------------------------------------------
// For channels whose coefficients f32 cannot carry (fold.ts): y = (x - mean) * a + b in f64, rounded once.
// Scalar and slow, and only ever taken by such groups.

/** Over `runs` runs of `runLen` elements, `stride` bytes apart. */
export function exactRuns(
  src: usize, dst: usize, runLen: i32, runs: i32, stride: usize, mean: f64, a: f64, b: f64, kind: i32,
): void {
  for (let r = 0; r < runs; r++) {
    const o = <usize>r * stride;
    for (let i = 0; i < runLen; i++) {
      const q = o + (<usize>i << 2);
      store<f32>(dst + q, epilogueScalar(<f32>((<f64>load<f32>(src + q) - mean) * a + b), kind));
    }
  }
}

/** LayerNorm's row: y = (x - mean) * scale * w[i] + bias[i]; w or bias may be 0 (absent). */
export function exactRow(
  src: usize, dst: usize, n: i32, mean: f64, scale: f64, w: usize, bias: usize, kind: i32,
): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    let y = (<f64>load<f32>(src + o) - mean) * scale;
    if (w != 0) y *= <f64>load<f32>(w + o);
    if (bias != 0) y += <f64>load<f32>(bias + o);
    store<f32>(dst + o, epilogueScalar(<f32>y, kind));
  }
}

/**
 * out = x + v[c] for a sample of C channels of HW elements: v holds one value per channel (a skip input
 * or bias that is the same over the spatial axes), x is laid out NCHW or NHWC (rows `rowBytes` apart).
 */
export function addChannels(x: usize, v: usize, out: usize, C: i32, HW: i32, channelsLast: bool, rowBytes: usize): void {
  if (channelsLast) {
    for (let p = 0; p < HW; p++) addInto(x + <usize>p * rowBytes, v, out + <usize>p * rowBytes, C);
    return;
  }
  const planeBytes = <usize>HW << 2;
  for (let c = 0; c < C; c++) {
    const o = <usize>c * planeBytes;
    const k = load<f32>(v + (<usize>c << 2));
    const kv = f32x4.splat(k);
    let i = 0;
    for (; i + 4 <= HW; i += 4) {
      const q = o + (<usize>i << 2);
      v128.store(out + q, f32x4.add(v128.load(x + q), kv));
    }
    for (; i < HW; i++) {
      const q = o + (<usize>i << 2);
      store<f32>(out + q, load<f32>(x + q) + k);
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
