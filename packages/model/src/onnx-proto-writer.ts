/**
 * A minimal protobuf writer for the ONNX messages Switchyard builds (ModelProto, GraphProto,
 * NodeProto, AttributeProto, TensorProto, ValueInfoProto). Field numbers follow onnx/onnx.proto3.
 * Writing our own keeps protobufjs (and its install script) out of the expert function's path;
 * onnx-proto-writer.test.ts reads what it writes back with onnx-proto (a dev dependency only).
 */

/** ONNX TensorProto.DataType values used here. */
export const onnxDataType = {
  float: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float8e4m3fn: 17,
  float8e5m2: 19,
  float8e8m0: 24,
} as const;
export type OnnxDataType = keyof typeof onnxDataType;

export interface OnnxTensor {
  name: string;
  dataType: OnnxDataType;
  dims: readonly number[];
  /** Little-endian element bytes (written inline unless `external` is set). */
  rawData: Uint8Array;
  /**
   * Store the bytes outside the model (TensorProto data_location EXTERNAL): the model names
   * `location` and the byte range, and onnxruntime reads them from a file or an in-memory buffer
   * registered under that name (`externalData` session option).
   */
  external?: { location: string; offset: number; length: number };
}

export type OnnxAttributeValue =
  | number
  | string
  | readonly number[]
  | { ints: readonly number[] }
  | { float: number }
  | { tensor: OnnxTensor };

export interface OnnxNode {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  domain?: string;
  attributes?: Record<string, OnnxAttributeValue>;
}

export interface OnnxValueInfo {
  name: string;
  dataType: OnnxDataType;
  /** A number for a fixed size, a string for a symbolic dimension. */
  shape: ReadonlyArray<number | string>;
}

export interface OnnxGraph {
  name: string;
  nodes: readonly OnnxNode[];
  initializers: readonly OnnxTensor[];
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
}

export interface OnnxModel {
  graph: OnnxGraph;
  /** Opset versions by domain ('' = ai.onnx). */
  opsets: Record<string, number>;
  irVersion?: number;
  producerName?: string;
}

const textEncoder = new TextEncoder();

/** Growable byte buffer with protobuf primitives. */
class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private current = new Uint8Array(256);
  private position = 0;
  length = 0;

  private ensure(bytes: number): void {
    if (this.position + bytes <= this.current.length) return;
    this.chunks.push(this.current.subarray(0, this.position));
    this.current = new Uint8Array(Math.max(256, bytes));
    this.position = 0;
  }

  varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    this.ensure(10);
    while (v >= 0x80n) {
      this.current[this.position++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
      this.length++;
    }
    this.current[this.position++] = Number(v);
    this.length++;
  }

  /** Fast path for small non-negative integers (tags, lengths). */
  uint(value: number): void {
    if (value < 0 || value > 0x7fffffff) {
      this.varint(value);
      return;
    }
    this.ensure(5);
    let v = value;
    while (v >= 0x80) {
      this.current[this.position++] = (v & 0x7f) | 0x80;
      v >>>= 7;
      this.length++;
    }
    this.current[this.position++] = v;
    this.length++;
  }

  bytes(data: Uint8Array): void {
    if (data.length > 4096) {
      this.chunks.push(this.current.subarray(0, this.position));
      this.chunks.push(data);
      this.current = new Uint8Array(256);
      this.position = 0;
    } else {
      this.ensure(data.length);
      this.current.set(data, this.position);
      this.position += data.length;
    }
    this.length += data.length;
  }

  fixed32Float(value: number): void {
    this.ensure(4);
    new DataView(this.current.buffer, this.current.byteOffset).setFloat32(this.position, value, true);
    this.position += 4;
    this.length += 4;
  }

  tag(field: number, wireType: 0 | 1 | 2 | 5): void {
    this.uint((field << 3) | wireType);
  }

  int(field: number, value: number): void {
    this.tag(field, 0);
    this.varint(value);
  }

  string(field: number, value: string): void {
    const encoded = textEncoder.encode(value);
    this.tag(field, 2);
    this.uint(encoded.length);
    this.bytes(encoded);
  }

  rawBytes(field: number, value: Uint8Array): void {
    this.tag(field, 2);
    this.uint(value.length);
    this.bytes(value);
  }

  message(field: number, write: (writer: ProtoWriter) => void): void {
    const inner = new ProtoWriter();
    write(inner);
    this.tag(field, 2);
    this.uint(inner.length);
    for (const chunk of inner.finishChunks()) this.bytes(chunk);
  }

  finishChunks(): Uint8Array[] {
    return [...this.chunks, this.current.subarray(0, this.position)];
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const chunk of this.finishChunks()) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}

function writeTensor(writer: ProtoWriter, tensor: OnnxTensor): void {
  for (const dim of tensor.dims) writer.int(1, dim);
  writer.int(2, onnxDataType[tensor.dataType]);
  writer.string(8, tensor.name);
  if (tensor.external) {
    // StringStringEntryProto { key = 1, value = 2 } entries, then data_location = EXTERNAL (1).
    const { location, offset, length } = tensor.external;
    for (const [key, value] of [
      ['location', location],
      ['offset', String(offset)],
      ['length', String(length)],
    ] as const)
      writer.message(13, (entry) => {
        entry.string(1, key);
        entry.string(2, value);
      });
    writer.int(14, 1);
  } else {
    writer.rawBytes(9, tensor.rawData);
  }
}

// AttributeProto.AttributeType
const attributeType = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7 } as const;

function writeAttribute(writer: ProtoWriter, name: string, value: OnnxAttributeValue): void {
  writer.string(1, name);
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: use { float } for non-integers`);
    writer.int(3, value);
    writer.int(20, attributeType.int);
  } else if (typeof value === 'string') {
    writer.rawBytes(4, textEncoder.encode(value));
    writer.int(20, attributeType.string);
  } else if (Array.isArray(value) || 'ints' in (value as object)) {
    const ints = Array.isArray(value) ? value : (value as { ints: readonly number[] }).ints;
    for (const v of ints) writer.int(8, v);
    writer.int(20, attributeType.ints);
  } else if ('float' in (value as object)) {
    writer.tag(2, 5);
    writer.fixed32Float((value as { float: number }).float);
    writer.int(20, attributeType.float);
  } else {
    writer.message(5, (w) => writeTensor(w, (value as { tensor: OnnxTensor }).tensor));
    writer.int(20, attributeType.tensor);
  }
}

function writeNode(writer: ProtoWriter, node: OnnxNode): void {
  for (const input of node.inputs) writer.string(1, input);
  for (const output of node.outputs) writer.string(2, output);
  if (node.name) writer.string(3, node.name);
  writer.string(4, node.opType);
  for (const [name, value] of Object.entries(node.attributes ?? {})) {
    writer.message(5, (w) => writeAttribute(w, name, value));
  }
  if (node.domain) writer.string(7, node.domain);
}

function writeValueInfo(writer: ProtoWriter, info: OnnxValueInfo): void {
  writer.string(1, info.name);
  // TypeProto { tensor_type = 1 { elem_type = 1, shape = 2 { dim = 1 { dim_value = 1 | dim_param = 2 } } } }
  writer.message(2, (type) =>
    type.message(1, (tensorType) => {
      tensorType.int(1, onnxDataType[info.dataType]);
      tensorType.message(2, (shape) => {
        for (const dim of info.shape) {
          shape.message(1, (d) => (typeof dim === 'number' ? d.int(1, dim) : d.string(2, dim)));
        }
      });
    }),
  );
}

/** Encodes an ONNX ModelProto. */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const writer = new ProtoWriter();
  writer.int(1, model.irVersion ?? 9);
  writer.string(2, model.producerName ?? 'switchyard');
  writer.message(7, (graph) => {
    for (const node of model.graph.nodes) graph.message(1, (w) => writeNode(w, node));
    graph.string(2, model.graph.name);
    for (const tensor of model.graph.initializers) graph.message(5, (w) => writeTensor(w, tensor));
    for (const input of model.graph.inputs) graph.message(11, (w) => writeValueInfo(w, input));
    for (const output of model.graph.outputs) graph.message(12, (w) => writeValueInfo(w, output));
  });
  for (const [domain, version] of Object.entries(model.opsets)) {
    writer.message(8, (w) => {
      if (domain) w.string(1, domain);
      w.int(2, version);
    });
  }
  return writer.finish();
}

/** A float32 initializer (copies into little-endian bytes; the host is little-endian). */
export function floatTensor(name: string, dims: readonly number[], data: Float32Array): OnnxTensor {
  return {
    name,
    dataType: 'float',
    dims,
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

/** An int64 initializer. */
export function int64Tensor(name: string, dims: readonly number[], values: readonly number[]): OnnxTensor {
  const data = BigInt64Array.from(values.map((v) => BigInt(v)));
  return { name, dataType: 'int64', dims, rawData: new Uint8Array(data.buffer) };
}
