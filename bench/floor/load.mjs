// Builds bench/floor/probes.ts with asc in memory and lays out its input and output in linear memory.
// compileEntry builds any AssemblyScript entry the same way (test/activations.node.test.ts uses it).
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const PAGE = 65536;

/**
 * The bytes of an AssemblyScript entry compiled in memory (-O3, stub runtime); entry is a path or a file:
 * URL, features asc's --enable list, e.g. 'simd' or 'simd,relaxed-simd'.
 */
export async function compileEntry(entry, features = 'simd') {
  let bytes;
  const source = entry instanceof URL ? fileURLToPath(entry) : entry;
  const { error, stderr } = await asc.main(
    [source, '-O3', '--runtime', 'stub', '--enable', features, '--outFile', 'entry.wasm'],
    { writeFile: (name, contents) => void (name.endsWith('.wasm') && (bytes = contents)) },
  );
  if (error) throw new Error(`asc: ${error.message}\n${stderr}`);
  return bytes;
}

/** The probe module's bytes; features is asc's --enable list, e.g. 'simd' or 'simd,relaxed-simd'. */
export async function compileProbes(features) {
  return compileEntry(new URL('./probes.ts', import.meta.url), features);
}

/** An instance with x (filled with values in [-2, 3)) and y, n floats each, at byte offsets x and y. */
export async function loadProbes(bytes, n) {
  const { instance } = await WebAssembly.instantiate(bytes, {});
  const { memory } = instance.exports;
  const x = PAGE;
  const y = x + n * 4 + PAGE / 2; // half a page apart, so loads and stores never alias on 4 KiB strides
  memory.grow(Math.ceil((y + n * 4) / PAGE));
  const xs = new Float32Array(memory.buffer, x, n);
  for (let i = 0; i < n; i++) xs[i] = ((i * 7919) % 1000) / 200 - 2;
  return { k: instance.exports, memory, x, y };
}

/** Bounds on probeErrors' figures: copy is exact, the f32 sums and the affine are rounded. */
export const PROBE_TOLERANCE = { copy: 0, sum: 1e-5, moments: 1e-5, affine: 1e-6, roundTrip: 0 };

/**
 * The largest error of each probe against a float64 reference, over lengths with and without a whole
 * 1024-float block: sums relative to their size, copy and affine absolute.
 */
export async function probeErrors(bytes) {
  const worst = { copy: 0, sum: 0, moments: 0, affine: 0, roundTrip: 0 };
  for (const n of [16, 1024, 4096 + 48]) {
    const { k, memory, x, y } = await loadProbes(bytes, n);
    const xs = new Float32Array(memory.buffer, x, n).slice();
    const ys = new Float32Array(memory.buffer, y, n);
    let s1 = 0;
    let s2 = 0;
    for (const v of xs) {
      s1 += v;
      s2 += v * v;
    }
    k.copy(x, y, n);
    xs.forEach((v, i) => (worst.copy = Math.max(worst.copy, Math.abs(ys[i] - v))));
    worst.sum = Math.max(worst.sum, Math.abs(k.sum(x, n) - s1) / (1 + Math.abs(s1)));
    worst.moments = Math.max(worst.moments, Math.abs(k.moments(x, n) - (s1 + s2)) / (1 + s1 + s2));
    k.affine(x, y, n, 0.7, 0.3);
    xs.forEach((v, i) => (worst.affine = Math.max(worst.affine, Math.abs(ys[i] - (v * 0.7 + 0.3)))));
    // Half-precision round trips are the identity on every non-NaN pattern: count the patterns that differ.
    const hx = new Uint16Array(memory.buffer, x, n);
    const hy = new Uint16Array(memory.buffer, y, n);
    hx.forEach((_, i) => (hx[i] = (i * 7919) & 0x7bff));
    for (const trip of [k.roundTripF16, k.roundTripBF16]) {
      trip(x, y, n);
      hx.forEach((h, i) => (worst.roundTrip += hy[i] === h ? 0 : 1));
    }
  }
  return worst;
}

/** Throws unless every probe of the build is within PROBE_TOLERANCE: a wrong loop is not timed. */
export async function checkProbes(bytes, name) {
  const worst = await probeErrors(bytes);
  const bad = Object.entries(worst).filter(([probe, err]) => !(err <= PROBE_TOLERANCE[probe]));
  if (bad.length) throw new Error(`${name} probes are wrong: ${bad.map(([p, e]) => `${p} ${e}`).join(', ')}`);
  return worst;
}
