// A worker thread for test/workers.node.test.ts: loads its own copy of normkit (workerData.moduleUrl, a build
// of src/), checks NOT_READY before ready(), then runs the calls it is given, in copy mode and zero-copy,
// while growing its own wasm memory, and posts back every output and its memoryStats().
import { parentPort, workerData } from 'node:worker_threads';

const { moduleUrl, calls, repeat, growBytes } = workerData;
const nk = await import(moduleUrl);

let notReady = 'no error';
try {
  nk.layerNorm(new Float32Array(4), [4]);
} catch (e) {
  notReady = e instanceof nk.NormkitError ? e.code : `other: ${e}`;
}
await nk.ready();
const statsAtStart = nk.memoryStats();

/** Runs one call `[op, args]`; with `zeroCopy`, every Float32Array argument becomes a Tensor and out = x. */
function run([op, args], zeroCopy) {
  const tensors = [];
  const conv = (v) => {
    if (!zeroCopy || !(v instanceof Float32Array)) return v;
    const t = nk.tensor(v);
    tensors.push(t);
    return t;
  };
  const a = args.map((v) => (v && typeof v === 'object' && !(v instanceof Float32Array) && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v).map(([k, w]) => [k, conv(w)]))
    : Array.isArray(v) ? v : conv(v)));
  if (zeroCopy) {
    const last = a[a.length - 1];
    last.out = a[0];
  }
  const y = nk[op](...a).slice();
  for (const t of tensors) t.free();
  return y;
}

const results = [];
let grower;
for (let r = 0; r < repeat; r++) {
  // Grow this instance's memory half way through: the kernels must not notice.
  if (r === Math.floor(repeat / 2) && growBytes > 0) grower = nk.tensor(growBytes / 4);
  for (const call of calls) {
    const plain = run(call, false);
    const zero = run(call, true);
    if (r === repeat - 1) results.push({ plain, zero });
  }
}
const statsAtEnd = nk.memoryStats();
grower?.free();
parentPort.postMessage({ notReady, statsAtStart, statsAtEnd, results });
