import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { ExpertQuantization } from '@switchyard/core';
import {
  defaultInt4BlockSize,
  type Int4Weight,
  type Int8Weight,
  quantizeInt4,
  quantizeInt8,
} from './expert-quantization.js';
import {
  encodeOnnxModel,
  floatTensor,
  int64Tensor,
  type OnnxAttributeValue,
  type OnnxDataType,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
  onnxDataType,
} from './onnx-proto-writer.js';

/** External-data offsets are multiples of this (the largest page / mmap granularity in use). */
const externalAlignment = 65536;

/** Opset the generated graphs target: 17 keeps ReduceMean/Softmax axes as attributes. */
export const graphOpset = 17;

/** onnxruntime's contrib-op domain (MatMulNBits, DynamicQuantizeMatMul) and the version used. */
const microsoftDomain = 'com.microsoft';

/**
 * The format of a graph's weight matrices, and for int8 the kernel: `row-matmul-integer` (default)
 * quantizes each activation row on its own (symmetric int8 per row, stored uint8 + 128) and runs
 * MatMulInteger, so a row's output never depends on the other rows of the batch; onnxruntime's
 * `dynamic-quantize-matmul` quantizes the whole activation tensor with one scale, which is faster on
 * large batches but makes every row depend on the batch it came in (measured side by side in
 * bench/quantized-experts.ts).
 */
export type GraphQuantization = ExpertQuantization & {
  int8Kernel?: 'row-matmul-integer' | 'dynamic-quantize-matmul';
};

/** Small helper to write ONNX graphs in code: every op returns its output name(s). */
export class GraphBuilder {
  private readonly nodes: OnnxNode[] = [];
  private readonly initializers: OnnxTensor[] = [];
  private readonly inputs: OnnxValueInfo[] = [];
  private readonly outputs: OnnxValueInfo[] = [];
  private counter = 0;
  private readonly constants = new Map<string, string>();
  private readonly opsets: Record<string, number> = { '': graphOpset };
  /** Per-row int8 activations already made for an input (gate and up share theirs). */
  private readonly rowCodes = new Map<string, { codes: string; scales: string }>();

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

  /** An initializer of any type from its little-endian bytes (int8 / uint8 weight codes). */
  tensor(name: string, dataType: OnnxDataType, dims: readonly number[], data: ArrayBufferView): string {
    this.initializers.push({
      name,
      dataType,
      dims,
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
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

  /** An onnxruntime contrib op (com.microsoft domain). */
  microsoftOp(
    opType: string,
    inputs: readonly string[],
    attributes: Record<string, OnnxAttributeValue>,
  ): string {
    this.opsets[microsoftDomain] = 1;
    const output = this.fresh(opType.toLowerCase());
    this.nodes.push({
      opType,
      inputs,
      outputs: [output],
      attributes,
      domain: microsoftDomain,
      name: this.fresh(`node_${opType}`),
    });
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

  /**
   * y = x @ W^T (+ bias) for a torch Linear weight [out, in], stored transposed as [in, out] in float32
   * or quantized (`quantization`).
   */
  linear(
    x: string,
    name: string,
    weight: Float32Array,
    outFeatures: number,
    inFeatures: number,
    bias?: Float32Array,
    quantization?: GraphQuantization,
  ): string {
    let y: string;
    if (quantization?.format === 'int4')
      y = this.int4Matmul(
        x,
        name,
        quantizeInt4(weight, outFeatures, inFeatures, quantization.blockSize ?? defaultInt4BlockSize),
        inFeatures,
        outFeatures,
      );
    else {
      const transposed = transpose2d(weight, outFeatures, inFeatures);
      y =
        quantization?.format === 'int8'
          ? this.int8Matmul(
              x,
              name,
              quantizeInt8(transposed, inFeatures, outFeatures),
              quantization,
              inFeatures,
              outFeatures,
            )
          : this.matmul(x, this.weight(`${name}.weight_t`, [inFeatures, outFeatures], transposed));
    }
    return bias ? this.op('Add', [y, this.weight(`${name}.bias`, [outFeatures], bias)]) : y;
  }

  /** y = x @ W for a weight already in MatMul layout [in, out] (named `name` when float32). */
  matmulWeight(
    x: string,
    name: string,
    weight: Float32Array,
    inFeatures: number,
    outFeatures: number,
    quantization?: GraphQuantization,
  ): string {
    if (quantization?.format === 'int8')
      return this.int8Matmul(
        x,
        name,
        quantizeInt8(weight, inFeatures, outFeatures),
        quantization,
        inFeatures,
        outFeatures,
      );
    if (quantization?.format === 'int4')
      return this.int4Matmul(
        x,
        name,
        quantizeInt4(
          transpose2d(weight, inFeatures, outFeatures),
          outFeatures,
          inFeatures,
          quantization.blockSize ?? defaultInt4BlockSize,
        ),
        inFeatures,
        outFeatures,
      );
    return this.matmul(x, this.weight(name, [inFeatures, outFeatures], weight));
  }

  /** MatMulNBits over packed int4 codes, computing in int8 (accuracy_level 4: activations per block). */
  private int4Matmul(
    x: string,
    name: string,
    weight: Int4Weight,
    inFeatures: number,
    outFeatures: number,
  ): string {
    const blocks = inFeatures / weight.blockSize;
    const codes = this.tensor(
      `${name}.weight_q4`,
      'uint8',
      [outFeatures, blocks, weight.blockSize / 2],
      weight.packed,
    );
    const scales = this.weight(`${name}.weight_scale`, [outFeatures * blocks], weight.scales);
    return this.microsoftOp('MatMulNBits', [x, codes, scales], {
      K: inFeatures,
      N: outFeatures,
      bits: 4,
      block_size: weight.blockSize,
      accuracy_level: 4,
    });
  }

  /** int8 weights [in, out] with per-column scales, through the kernel `quantization` names. */
  private int8Matmul(
    x: string,
    name: string,
    weight: Int8Weight,
    quantization: GraphQuantization,
    inFeatures: number,
    outFeatures: number,
  ): string {
    const codes = this.tensor(`${name}.weight_q8`, 'int8', [inFeatures, outFeatures], weight.codes);
    const scales = this.weight(`${name}.weight_scale`, [outFeatures], weight.scales);
    if (quantization.int8Kernel === 'dynamic-quantize-matmul')
      return this.microsoftOp('DynamicQuantizeMatMul', [x, codes, scales], {});
    const rows = this.quantizedRows(x);
    const accumulated = this.op('MatMulInteger', [rows.codes, codes, this.uint8Scalar(128)]);
    const rowScaled = this.op('Mul', [
      this.op('Cast', [accumulated], { to: onnxDataType.float }),
      rows.scales,
    ]);
    return this.op('Mul', [rowScaled, scales]);
  }

  /**
   * Symmetric int8 codes of each row of `x` (scale = max|row| / 127, round half to even), stored as
   * uint8 with zero point 128, and the [rows, 1] scales; made once per input.
   */
  private quantizedRows(x: string): { codes: string; scales: string } {
    const existing = this.rowCodes.get(x);
    if (existing) return existing;
    const rowMax = this.op('ReduceMax', [this.op('Abs', [x])], { axes: [-1], keepdims: 1 });
    // The smallest normal float32 keeps an all-zero row's scale positive (its codes are then 0).
    const scales = this.op('Max', [this.op('Div', [rowMax, this.scalar(127)]), this.scalar(2 ** -126)]);
    const shifted = this.op('Add', [this.op('Round', [this.op('Div', [x, scales])]), this.scalar(128)]);
    const codes = this.op('Cast', [shifted], { to: onnxDataType.uint8 });
    const made = { codes, scales };
    this.rowCodes.set(x, made);
    return made;
  }

  /** A uint8 scalar constant (deduplicated). */
  private uint8Scalar(value: number): string {
    const key = `u8:${value}`;
    const existing = this.constants.get(key);
    if (existing) return existing;
    const name = this.tensor(this.fresh('const_u8'), 'uint8', [], Uint8Array.of(value));
    this.constants.set(key, name);
    return name;
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
    quantization?: GraphQuantization,
  ): string {
    const H = hiddenSize;
    const I = intermediateSize;
    const gate = this.linear(x, names.gate, weights.gate, I, H, undefined, quantization);
    const up = this.linear(x, names.up, weights.up, I, H, undefined, quantization);
    return this.linear(
      this.op('Mul', [this.silu(gate), up]),
      names.down,
      weights.down,
      H,
      I,
      undefined,
      quantization,
    );
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
      opsets: this.opsets,
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
