// A minimal ONNX ModelProto writer: just enough protobuf to express single-op (or small composed) float32
// graphs with constant initializers, so the onnxruntime peers run models built here rather than files.
// Field numbers follow onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
// ValueInfoProto/TypeProto/TensorShapeProto, OperatorSetIdProto).

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

const FLOAT = 1; // TensorProto.DataType.FLOAT and TypeProto element type
/** TensorProto.DataType of the element types a graph may have. */
export const ELEM_TYPES = { float32: FLOAT, float16: 10, bfloat16: 16 };
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

const utf8 = new TextEncoder();

/** Growable byte buffer with the protobuf primitives; nested messages are encoded first, then embedded. */
class Writer {
  #bytes = new Uint8Array(256);
  #len = 0;

  #reserve(n) {
    if (this.#len + n <= this.#bytes.length) return;
    const grown = new Uint8Array(Math.max(this.#bytes.length * 2, this.#len + n));
    grown.set(this.#bytes.subarray(0, this.#len));
    this.#bytes = grown;
  }

  varint(value) {
    // BigInt keeps int64 fields exact and encodes negatives as the 10-byte two's complement protobuf expects.
    let v = BigInt.asUintN(64, BigInt(value));
    this.#reserve(10);
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      this.#bytes[this.#len++] = byte;
    } while (v !== 0n);
    return this;
  }

  tag(field, wire) {
    return this.varint((field << 3) | wire);
  }

  int(field, value) {
    return this.tag(field, WIRE_VARINT).varint(value);
  }

  float(field, value) {
    this.tag(field, WIRE_FIXED32);
    this.#reserve(4);
    new DataView(this.#bytes.buffer).setFloat32(this.#len, value, true);
    this.#len += 4;
    return this;
  }

  bytes(field, data) {
    this.tag(field, WIRE_LEN).varint(data.length);
    this.#reserve(data.length);
    this.#bytes.set(data, this.#len);
    this.#len += data.length;
    return this;
  }

  string(field, text) {
    return this.bytes(field, utf8.encode(text));
  }

  message(field, encode) {
    const inner = new Writer();
    encode(inner);
    return this.bytes(field, inner.finish());
  }

  finish() {
    return this.#bytes.slice(0, this.#len);
  }
}

function encodeTensor(w, name, dims, data, elemType) {
  for (const d of dims) w.int(1, d);
  w.int(2, elemType);
  w.string(8, name);
  // raw_data is little-endian float32, which is what a Float32Array holds on every platform Node runs on.
  w.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

function encodeValueInfo(w, name, dims, elemType) {
  w.string(1, name);
  w.message(2, (type) =>
    type.message(1, (tensorType) => {
      tensorType.int(1, elemType);
      tensorType.message(2, (shape) => {
        for (const d of dims) shape.message(1, (dim) => dim.int(1, d));
      });
    }),
  );
}

function encodeAttribute(w, name, value) {
  w.string(1, name);
  if ('f' in value) {
    w.float(2, value.f);
    w.int(20, ATTR_FLOAT);
  } else if ('i' in value) {
    w.int(3, value.i);
    w.int(20, ATTR_INT);
  } else {
    for (const v of value.ints) w.int(8, v);
    w.int(20, ATTR_INTS);
  }
}

function encodeNode(w, node, index) {
  for (const name of node.inputs) w.string(1, name);
  for (const name of node.outputs) w.string(2, name);
  w.string(3, `${node.op}_${index}`);
  w.string(4, node.op);
  for (const [name, value] of Object.entries(node.attrs ?? {})) w.message(5, (a) => encodeAttribute(a, name, value));
  if (node.domain) w.string(7, node.domain);
}

/**
 * Serializes a graph to ModelProto bytes: float32, or every tensor of `elemType` (ELEM_TYPES; initializer
 * data then holds that type's bits, say a Uint16Array of float16).
 * @param {object} spec
 * @param {number} spec.irVersion
 * @param {{domain?: string, version: number}[]} spec.opsets
 * @param {{op: string, domain?: string, inputs: string[], outputs: string[],
 *          attrs?: Record<string, {f: number} | {i: number} | {ints: number[]}>}[]} spec.nodes
 * @param {{name: string, dims: number[], data: Float32Array}[]} spec.initializers
 * @param {{name: string, dims: number[]}[]} spec.inputs
 * @param {{name: string, dims: number[]}[]} spec.outputs
 * @param {number} [spec.elemType]
 */
export function encodeModel({ irVersion, opsets, nodes, initializers = [], inputs, outputs, elemType = FLOAT }) {
  const w = new Writer();
  w.int(1, irVersion);
  w.string(2, 'normkit-bench');
  w.message(7, (g) => {
    nodes.forEach((node, i) => g.message(1, (n) => encodeNode(n, node, i)));
    g.string(2, 'bench');
    for (const t of initializers) g.message(5, (tw) => encodeTensor(tw, t.name, t.dims, t.data, elemType));
    for (const v of inputs) g.message(11, (vw) => encodeValueInfo(vw, v.name, v.dims, elemType));
    for (const v of outputs) g.message(12, (vw) => encodeValueInfo(vw, v.name, v.dims, elemType));
  });
  for (const { domain = '', version } of opsets) {
    w.message(8, (o) => {
      if (domain) o.string(1, domain);
      o.int(2, version);
    });
  }
  return w.finish();
}
