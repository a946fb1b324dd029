/**
 * Every misuse normkit detects is reported as a NormkitError, thrown before any memory is written.
 * `code` is stable and machine-readable; the message names the argument, what was expected and what was given.
 */
export type NormkitErrorCode =
  | 'NOT_READY' // an op was called before `await ready()` resolved
  | 'INVALID_TENSOR' // not a Float32Array, Uint16Array, Float16Array or live Tensor (plain array, Float64Array, null, ...)
  | 'INVALID_DTYPE' // an unknown dtype, a Uint16Array without the dtype option, a Float16Array the runtime lacks
  | 'DTYPE_MISMATCH' // half-precision arguments of two dtypes in one call (a bfloat16 Tensor with dtype 'float16')
  | 'INVALID_SHAPE' // not an array of non-negative safe integers
  | 'LENGTH_MISMATCH' // an array's length does not match what the shape requires
  | 'RANK_TOO_LOW' // the shape has fewer axes than the op needs
  | 'INVALID_AXIS' // axis not an integer in [-rank, rank)
  | 'INVALID_EPS' // eps not a finite number >= 0
  | 'INVALID_MOMENTUM' // momentum not a finite number in [0, 1]
  | 'INVALID_GROUPS' // numGroups not a positive integer dividing C
  | 'INVALID_LAYOUT' // layout not 'NCHW' or 'NHWC'
  | 'INVALID_OPTION' // an option of the wrong type (e.g. training not a boolean, sumOut without residual)
  | 'UNKNOWN_OPTION' // an option name the op does not take (a PyTorch/ONNX spelling, or another op's option)
  | 'MISSING_RUNNING_STATS' // batchNorm inference without runningMean and runningVar
  | 'BATCH_TOO_SMALL' // batchNorm training with one value per channel (unbiased variance undefined)
  | 'STYLE_MISMATCH' // adaIN style shape incompatible with the content shape
  | 'INVALID_BROADCAST' // a *Shape option that does not broadcast against x's shape as the op needs
  | 'ALIASING' // an output overlaps an input in a way the op cannot honour
  | 'TENSOR_FREED' // a Tensor was used after free()
  | 'TOO_LARGE' // the tensors cannot fit in wasm32 linear memory (4 GiB)
  | 'KERNEL_FAULT' // a kernel trapped (a normkit bug: the arguments were validated); nothing was copied out
  | 'WORKER_FAULT'; // a worker thread failed to start, exited or trapped during a call; ready() rebuilds the pool

export class NormkitError extends Error {
  readonly code: NormkitErrorCode;
  constructor(code: NormkitErrorCode, message: string) {
    super(message);
    this.name = 'NormkitError';
    this.code = code;
  }
}

/** Short, bounded description of any value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) {
    const head = value.slice(0, 8).map((v) => (typeof v === 'number' ? describe(v) : typeof v)).join(', ');
    // The length only where the entries are cut short: "[2, 4] (length 2)" reads like a dimension.
    return value.length > 8 ? `array [${head}, …] (${value.length} entries)` : `[${head}]`;
  }
  if (ArrayBuffer.isView(value)) {
    const len = (value as unknown as { length?: number }).length;
    return `${value.constructor.name}${len === undefined ? '' : ` of length ${len}`}`;
  }
  if (typeof value === 'function') return 'function';
  const name = (value as object).constructor?.name;
  return name && name !== 'Object' ? `${name} object` : 'object';
}
