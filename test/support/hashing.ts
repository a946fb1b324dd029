/**
 * Engine-independent test data and output hashes, shared by the browser bit-identity test and the output-hash
 * corpus: an integer-only generator (no Math.log/sin, so the same bits in every JS engine) and SHA-256 over
 * the bits of Float32Arrays, with web-standard APIs only (crypto.subtle), so it runs in Node and browsers.
 */

/** xorshift32 in integer arithmetic only; values are multiples of 2^-16, exactly representable in f32. */
export function makeGen(seed: number): (offset?: number, scale?: number) => number {
  let s = seed >>> 0 || 1;
  const u = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  // Sum of four uniforms: roughly normal, mean 0, sd ~1.15; exact in float64 and float32.
  return (offset = 0, scale = 1) => {
    const a = ((u() >>> 16) + (u() >>> 16) + (u() >>> 16) + (u() >>> 16)) / 65536 - 2;
    return Math.fround(offset + scale * a);
  };
}

/** `length` values of `offset + scale * g` from {@link makeGen}'s generator, rounded to float32. */
export function filled(seed: number, length: number, offset = 0, scale = 1): Float32Array {
  const g = makeGen(seed);
  const a = new Float32Array(length);
  for (let i = 0; i < length; i++) a[i] = g(offset, scale);
  return a;
}

const hex = (buf: ArrayBuffer) =>
  Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');

/** SHA-256 over the concatenated bits of the arrays, with every NaN mapped to one canonical pattern. */
export async function hashArrays(arrays: readonly Float32Array[]): Promise<string> {
  const total = arrays.reduce((n, a) => n + a.length, 0);
  const bits = new Uint32Array(total + arrays.length);
  let k = 0;
  for (const a of arrays) {
    bits[k++] = a.length; // separates arrays so [1,2][3] and [1][2,3] hash differently
    const u = new Uint32Array(a.buffer, a.byteOffset, a.length);
    for (let i = 0; i < a.length; i++) bits[k++] = Number.isNaN(a[i]) ? 0x7fc00000 : u[i];
  }
  return hex(await crypto.subtle.digest('SHA-256', bits));
}
