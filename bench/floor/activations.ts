// The activation probe (assembly/activations.ts): each activation over a buffer, in the apply pass's
// loop shape (four vectors a step, then one, then a scalar tail) and all-scalar. Compiled at test time by
// test/activations.node.test.ts, which checks it against a float64 reference; `kind` is a literal at
// every inlined call, as in the kernels.
import {
  activate, activateScalar,
  ACTIVATION_NONE, ACTIVATION_RELU, ACTIVATION_SILU, ACTIVATION_GELU, ACTIVATION_GELU_TANH,
} from '../../assembly/activations';

@inline function vector(src: usize, dst: usize, n: i32, kind: i32): void {
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    const x0 = v128.load(src + o);
    const x1 = v128.load(src + o, 16);
    const x2 = v128.load(src + o, 32);
    const x3 = v128.load(src + o, 48);
    v128.store(dst + o, activate(x0, kind));
    v128.store(dst + o, activate(x1, kind), 16);
    v128.store(dst + o, activate(x2, kind), 32);
    v128.store(dst + o, activate(x3, kind), 48);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, activate(v128.load(src + o), kind));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, activateScalar(load<f32>(src + o), kind));
  }
}

@inline function scalar(src: usize, dst: usize, n: i32, kind: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, activateScalar(load<f32>(src + o), kind));
  }
}

// One function per kind, not switch arms around one inlined loop: Binaryen's code folding merges arms that
// differ only in the kind's literal back into one loop that tests the kind at run time.
function vectorRelu(src: usize, dst: usize, n: i32): void { vector(src, dst, n, ACTIVATION_RELU); }
function vectorSilu(src: usize, dst: usize, n: i32): void { vector(src, dst, n, ACTIVATION_SILU); }
function vectorGelu(src: usize, dst: usize, n: i32): void { vector(src, dst, n, ACTIVATION_GELU); }
function vectorGeluTanh(src: usize, dst: usize, n: i32): void { vector(src, dst, n, ACTIVATION_GELU_TANH); }
function vectorNone(src: usize, dst: usize, n: i32): void { vector(src, dst, n, ACTIVATION_NONE); }
function scalarRelu(src: usize, dst: usize, n: i32): void { scalar(src, dst, n, ACTIVATION_RELU); }
function scalarSilu(src: usize, dst: usize, n: i32): void { scalar(src, dst, n, ACTIVATION_SILU); }
function scalarGelu(src: usize, dst: usize, n: i32): void { scalar(src, dst, n, ACTIVATION_GELU); }
function scalarGeluTanh(src: usize, dst: usize, n: i32): void { scalar(src, dst, n, ACTIVATION_GELU_TANH); }
function scalarNone(src: usize, dst: usize, n: i32): void { scalar(src, dst, n, ACTIVATION_NONE); }

/** dst[i] = activation(src[i]) for i < n, vector body and scalar tail. */
export function apply(kind: i32, src: usize, dst: usize, n: i32): void {
  switch (kind) {
    case ACTIVATION_RELU: vectorRelu(src, dst, n); break;
    case ACTIVATION_SILU: vectorSilu(src, dst, n); break;
    case ACTIVATION_GELU: vectorGelu(src, dst, n); break;
    case ACTIVATION_GELU_TANH: vectorGeluTanh(src, dst, n); break;
    default: vectorNone(src, dst, n);
  }
}

/** The same through activateScalar alone. */
export function applyScalar(kind: i32, src: usize, dst: usize, n: i32): void {
  switch (kind) {
    case ACTIVATION_RELU: scalarRelu(src, dst, n); break;
    case ACTIVATION_SILU: scalarSilu(src, dst, n); break;
    case ACTIVATION_GELU: scalarGelu(src, dst, n); break;
    case ACTIVATION_GELU_TANH: scalarGeluTanh(src, dst, n); break;
    default: scalarNone(src, dst, n);
  }
}
