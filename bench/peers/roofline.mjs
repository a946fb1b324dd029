// The roofline: Float32Array.prototype.set moving the same bytes as the op (half the traffic read, half
// written). A normalization reads its inputs at least once and writes its output once, so this is the
// floor any implementation could reach on this machine.
import { trafficFloats } from '../cases.mjs';

export async function create() {
  return [
    {
      id: 'roofline',
      label: 'roofline: dst.set(src) of the same byte traffic (Uint16Arrays for the half-precision cases)',
      info: {},
      prepare(c) {
        const n = Math.ceil(trafficFloats(c) / 2);
        // Half-precision cases move 2-byte elements.
        const Type = c.dtype ? Uint16Array : Float32Array;
        const src = new Type(n).fill(1);
        const dst = new Type(n);
        return { run: () => dst.set(src), isAsync: false, read: () => null };
      },
    },
  ];
}
