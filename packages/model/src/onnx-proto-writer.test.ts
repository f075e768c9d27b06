import { createRandom } from '@switchyard/core';
import fc from 'fast-check';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { swigluGraph } from './expert-graph.js';
import { encodeOnnxModel, floatTensor, int64Tensor, type OnnxModel } from './onnx-proto-writer.js';

// An independent reader: onnx-proto is protobufjs code generated from onnx.proto (onnx 1.10), so these
// tests check our hand-written writer against the schema itself, not against our own reading of it.
const { onnx } = onnxProto;

/** Decodes ModelProto bytes with onnx-proto into plain objects (int64 as numbers, enums as names). */
// biome-ignore lint/suspicious/noExplicitAny: toObject gives untyped plain objects; the tests read fields by name
function decode(bytes: Uint8Array): Record<string, any> {
  const message = onnx.ModelProto.decode(bytes);
  return onnx.ModelProto.toObject(message, { longs: Number, enums: String, bytes: Array });
}

const weights = Float32Array.of(1.5, -2, 0.25, 3e-8, -0, 65504);

const model: OnnxModel = {
  irVersion: 8,
  producerName: 'round-trip test',
  opsets: { '': 17, 'com.microsoft': 1 },
  graph: {
    name: 'every-field',
    inputs: [
      { name: 'x', dataType: 'float', shape: ['T', 6] },
      { name: 'ids', dataType: 'int64', shape: [3] },
    ],
    outputs: [{ name: 'y', dataType: 'float', shape: ['T', 'S', 1] }],
    initializers: [
      floatTensor('w', [2, 3], weights),
      int64Tensor('shape', [3], [-1, 3, 2 ** 40]),
      {
        ...floatTensor('big', [6], weights),
        external: { location: 'graph.weights', offset: 65536, length: 24 },
      },
    ],
    nodes: [
      { opType: 'Reshape', inputs: ['x', 'shape'], outputs: ['r'], name: 'reshape' },
      {
        opType: 'Softmax',
        inputs: ['r'],
        outputs: ['s'],
        name: 'softmax',
        attributes: { axis: -1, mode: 'fast', perm: [2, 0, 1], axes: { ints: [-1] }, eps: { float: 1e-6 } },
      },
      {
        opType: 'Constant',
        inputs: [],
        outputs: ['c'],
        domain: 'com.microsoft',
        attributes: { value: { tensor: int64Tensor('c0', [2], [7, -7]) } },
      },
      { opType: 'Identity', inputs: ['s'], outputs: ['y', 'y2'] },
    ],
  },
};

describe('encodeOnnxModel, read back by onnx-proto', () => {
  it('writes every field the graphs use where onnx.proto says', () => {
    const decoded = decode(encodeOnnxModel(model));
    expect(decoded.irVersion).toBe(8);
    expect(decoded.producerName).toBe('round-trip test');
    expect(decoded.opsetImport).toEqual([{ version: 17 }, { domain: 'com.microsoft', version: 1 }]);
    const graph = decoded.graph;
    expect(graph.name).toBe('every-field');
    expect(graph.input).toEqual([
      {
        name: 'x',
        type: {
          tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'T' }, { dimValue: 6 }] } },
        },
      },
      { name: 'ids', type: { tensorType: { elemType: 7, shape: { dim: [{ dimValue: 3 }] } } } },
    ]);
    expect(graph.output[0].type.tensorType.shape.dim).toEqual([
      { dimParam: 'T' },
      { dimParam: 'S' },
      { dimValue: 1 },
    ]);

    const [w, shape, big] = graph.initializer;
    expect(w).toMatchObject({ name: 'w', dims: [2, 3], dataType: 1 });
    expect(new Float32Array(Uint8Array.from(w.rawData).buffer)).toEqual(weights);
    expect(shape).toMatchObject({ name: 'shape', dims: [3], dataType: 7 });
    expect(Array.from(new BigInt64Array(Uint8Array.from(shape.rawData).buffer), Number)).toEqual([
      -1,
      3,
      2 ** 40,
    ]);
    expect(big.rawData).toBeUndefined();
    expect(big.dataLocation).toBe('EXTERNAL');
    expect(big.externalData).toEqual([
      { key: 'location', value: 'graph.weights' },
      { key: 'offset', value: '65536' },
      { key: 'length', value: '24' },
    ]);

    const [reshape, softmax, constant, identity] = graph.node;
    expect(reshape).toEqual({ input: ['x', 'shape'], output: ['r'], name: 'reshape', opType: 'Reshape' });
    expect(identity).toEqual({ input: ['s'], output: ['y', 'y2'], opType: 'Identity' });
    const attributes = Object.fromEntries(
      softmax.attribute.map((attribute: Record<string, unknown>) => [attribute.name, attribute]),
    );
    expect(attributes.axis).toEqual({ name: 'axis', i: -1, type: 'INT' });
    expect(attributes.mode).toEqual({
      name: 'mode',
      s: Array.from(new TextEncoder().encode('fast')),
      type: 'STRING',
    });
    expect(attributes.perm).toEqual({ name: 'perm', ints: [2, 0, 1], type: 'INTS' });
    expect(attributes.axes).toEqual({ name: 'axes', ints: [-1], type: 'INTS' });
    expect(attributes.eps.type).toBe('FLOAT');
    expect(attributes.eps.f).toBe(Math.fround(1e-6));
    expect(constant.domain).toBe('com.microsoft');
    expect(constant.attribute[0]).toMatchObject({
      name: 'value',
      type: 'TENSOR',
      t: { name: 'c0', dims: [2], dataType: 7 },
    });
    expect(
      Array.from(new BigInt64Array(Uint8Array.from(constant.attribute[0].t.rawData).buffer), Number),
    ).toEqual([7, -7]);
  });

  it('round-trips any float initializer, int64 constant and integer attribute', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ noNaN: true }), { minLength: 1, maxLength: 300 }),
        fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 }), { maxLength: 8 }),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        (values, ints, attribute) => {
          const data = Float32Array.from(values);
          const bytes = encodeOnnxModel({
            opsets: { '': 17 },
            graph: {
              name: 'g',
              inputs: [],
              outputs: [],
              initializers: [
                floatTensor('data', [data.length], data),
                int64Tensor('ints', [ints.length], ints),
              ],
              nodes: [
                { opType: 'Op', inputs: ['data'], outputs: ['o'], attributes: { a: attribute, list: ints } },
              ],
            },
          });
          const graph = decode(bytes).graph;
          expect(new Float32Array(Uint8Array.from(graph.initializer[0].rawData).buffer)).toEqual(data);
          expect(graph.initializer[0].dims).toEqual([data.length]);
          const decodedInts = graph.initializer[1].rawData ?? [];
          expect(Array.from(new BigInt64Array(Uint8Array.from(decodedInts).buffer), Number)).toEqual(ints);
          const [a, list] = graph.node[0].attribute;
          expect(a.i ?? 0).toBe(attribute);
          expect(list.ints ?? []).toEqual(ints);
        },
      ),
    );
  });

  it('encodes a GraphBuilder expert graph that onnx-proto reads back node for node', () => {
    const random = createRandom(11);
    const H = 8;
    const I = 12;
    const weight = (size: number) => Float32Array.from({ length: size }, () => random() - 0.5);
    const gate = weight(I * H);
    const graph = decode(
      swigluGraph({
        hiddenSize: H,
        intermediateSize: I,
        gate,
        up: weight(I * H),
        down: weight(H * I),
      }).build(),
    ).graph;
    expect(graph.input.map((value: { name: string }) => value.name)).toEqual(['hidden_states']);
    expect(graph.output.map((value: { name: string }) => value.name)).toEqual(['expert_output']);
    expect(graph.node.map((node: { opType: string }) => node.opType)).toEqual([
      'MatMul',
      'MatMul',
      'Sigmoid',
      'Mul',
      'Mul',
      'MatMul',
      'Identity',
    ]);
    // The gate weight is stored transposed ([H, I]) for x @ W^T.
    const stored = graph.initializer.find((tensor: { name: string }) => tensor.name === 'gate_proj.weight_t');
    expect(stored.dims).toEqual([H, I]);
    const transposed = new Float32Array(Uint8Array.from(stored.rawData).buffer);
    for (let i = 0; i < I; i++)
      for (let h = 0; h < H; h++) expect(transposed[h * I + i]).toBe(gate[i * H + h]);
    // Every node input is a graph input, an initializer or an earlier node's output.
    const known = new Set<string>([
      ...graph.input.map((value: { name: string }) => value.name),
      ...graph.initializer.map((tensor: { name: string }) => tensor.name),
    ]);
    for (const node of graph.node) {
      for (const input of node.input) expect(known.has(input), input).toBe(true);
      for (const output of node.output) known.add(output);
    }
  });
});
