import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import {
  encodeOnnxModel,
  floatTensor,
  int64Tensor,
  type OnnxAttributeValue,
  type OnnxDataType,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from './onnx-proto-writer.js';

/** External-data offsets are multiples of this (the largest page / mmap granularity in use). */
const externalAlignment = 65536;

/** Opset the generated graphs target: 17 keeps ReduceMean/Softmax axes as attributes. */
export const graphOpset = 17;

/** Small helper to write ONNX graphs in code: every op returns its output name(s). */
export class GraphBuilder {
  private readonly nodes: OnnxNode[] = [];
  private readonly initializers: OnnxTensor[] = [];
  private readonly inputs: OnnxValueInfo[] = [];
  private readonly outputs: OnnxValueInfo[] = [];
  private counter = 0;
  private readonly constants = new Map<string, string>();

  constructor(private readonly name: string) {}

  private fresh(prefix: string): string {
    this.counter += 1;
    return `${prefix}_${this.counter}`;
  }

  input(name: string, dataType: OnnxDataType, shape: ReadonlyArray<number | string>): string {
    this.inputs.push({ name, dataType, shape });
    return name;
  }

  output(value: string, name: string, dataType: OnnxDataType, shape: ReadonlyArray<number | string>): void {
    if (value !== name) this.op('Identity', [value], {}, name);
    this.outputs.push({ name, dataType, shape });
  }

  /** A float32 initializer. */
  weight(name: string, dims: readonly number[], data: Float32Array): string {
    this.initializers.push(floatTensor(name, dims, data));
    return name;
  }

  /** An int64 constant (deduplicated), e.g. a shape for Reshape. */
  ints(values: readonly number[]): string {
    const key = `i:${values.join(',')}`;
    const existing = this.constants.get(key);
    if (existing) return existing;
    const name = this.fresh('const_i64');
    this.initializers.push(int64Tensor(name, [values.length], values));
    this.constants.set(key, name);
    return name;
  }

  /** A float32 scalar constant (deduplicated). */
  scalar(value: number): string {
    const key = `f:${value}`;
    const existing = this.constants.get(key);
    if (existing) return existing;
    const name = this.fresh('const_f32');
    this.initializers.push(floatTensor(name, [], Float32Array.of(value)));
    this.constants.set(key, name);
    return name;
  }

  op(
    opType: string,
    inputs: readonly string[],
    attributes: Record<string, OnnxAttributeValue> = {},
    outputName?: string,
  ): string {
    const output = outputName ?? this.fresh(opType.toLowerCase());
    this.nodes.push({ opType, inputs, outputs: [output], attributes, name: this.fresh(`node_${opType}`) });
    return output;
  }

  opMulti(
    opType: string,
    inputs: readonly string[],
    outputCount: number,
    attributes: Record<string, OnnxAttributeValue> = {},
  ): string[] {
    const outputs = Array.from({ length: outputCount }, () => this.fresh(opType.toLowerCase()));
    this.nodes.push({ opType, inputs, outputs, attributes, name: this.fresh(`node_${opType}`) });
    return outputs;
  }

  // Common compound ops -------------------------------------------------------------------------

  matmul(a: string, b: string): string {
    return this.op('MatMul', [a, b]);
  }

  /** y = x @ W^T (+ bias) for a torch Linear weight [out, in], stored transposed as [in, out]. */
  linear(
    x: string,
    name: string,
    weight: Float32Array,
    outFeatures: number,
    inFeatures: number,
    bias?: Float32Array,
  ): string {
    const transposed = transpose2d(weight, outFeatures, inFeatures);
    const y = this.matmul(x, this.weight(`${name}.weight_t`, [inFeatures, outFeatures], transposed));
    return bias ? this.op('Add', [y, this.weight(`${name}.bias`, [outFeatures], bias)]) : y;
  }

  /** RMSNorm over the last axis as transformers computes it: x * rsqrt(mean(x²) + eps) * weight. */
  rmsNorm(x: string, name: string, weight: Float32Array, eps: number): string {
    const squared = this.op('Mul', [x, x]);
    const mean = this.op('ReduceMean', [squared], { axes: [-1], keepdims: 1 });
    const root = this.op('Sqrt', [this.op('Add', [mean, this.scalar(eps)])]);
    const normed = this.op('Div', [x, root]);
    return this.op('Mul', [this.weight(`${name}.weight`, [weight.length], weight), normed]);
  }

  silu(x: string): string {
    return this.op('Mul', [x, this.op('Sigmoid', [x])]);
  }

  /**
   * SwiGLU FFN from torch Linear weights (gate/up [I, H], down [H, I]):
   * `down(silu(gate(x)) * up(x))`, each projection named by `names`.
   */
  swiglu(
    x: string,
    names: { gate: string; up: string; down: string },
    weights: { gate: Float32Array; up: Float32Array; down: Float32Array },
    hiddenSize: number,
    intermediateSize: number,
  ): string {
    const H = hiddenSize;
    const I = intermediateSize;
    const gate = this.linear(x, names.gate, weights.gate, I, H);
    const up = this.linear(x, names.up, weights.up, I, H);
    return this.linear(this.op('Mul', [this.silu(gate), up]), names.down, weights.down, H, I);
  }

  reshape(x: string, shape: readonly number[]): string {
    return this.op('Reshape', [x, this.ints(shape)]);
  }

  transpose(x: string, perm: readonly number[]): string {
    return this.op('Transpose', [x], { perm });
  }

  build(): Uint8Array {
    return this.encode(this.initializers);
  }

  /**
   * Writes the graph to `dir` as `<fileName>.onnx` with every initializer of at least
   * `externalBytes` bytes stored as ONNX external data in `<fileName>.weights` (each at a 64 KiB
   * aligned offset), and returns the model's path. onnxruntime loading that path maps the weights
   * file instead of parsing them out of protobuf bytes, so the only lasting copy of a weight is the
   * session's own (see architecture/model-memory.md).
   */
  writeWithExternalWeights(dir: string, fileName: string, externalBytes = 4096): string {
    const weightsName = `${fileName}.weights`;
    const fd = openSync(join(dir, weightsName), 'w');
    let offset = 0;
    const initializers: OnnxTensor[] = [];
    try {
      for (const tensor of this.initializers) {
        const length = tensor.rawData.byteLength;
        if (length < externalBytes) {
          initializers.push(tensor);
          continue;
        }
        offset = Math.ceil(offset / externalAlignment) * externalAlignment;
        let written = 0;
        while (written < length)
          written += writeSync(fd, tensor.rawData, written, length - written, offset + written);
        initializers.push({ ...tensor, external: { location: weightsName, offset, length } });
        offset += length;
      }
    } finally {
      closeSync(fd);
    }
    const modelPath = join(dir, `${fileName}.onnx`);
    writeFileSync(modelPath, this.encode(initializers));
    return modelPath;
  }

  private encode(initializers: readonly OnnxTensor[]): Uint8Array {
    return encodeOnnxModel({
      graph: {
        name: this.name,
        nodes: this.nodes,
        initializers,
        inputs: this.inputs,
        outputs: this.outputs,
      },
      opsets: { '': graphOpset },
    });
  }
}

/** Transposes a row-major [rows, cols] matrix. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[base + c]!;
  }
  return out;
}
