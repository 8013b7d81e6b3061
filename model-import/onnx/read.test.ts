/**
 * onnx/read.ts on its own: tensors in every storage form torch.onnx and
 * other writers use (raw_data little-endian, float_data, int64_data,
 * int32_data for float16, double_data), and the E_MODEL_FORMAT refusals
 * (element count against dims, data stored in an external file, a file
 * without a graph or without the default opset).
 */
import { describe, expect, it } from 'vitest';
import { decodeTensor, looksLikeOnnx, readOnnx } from './read.js';
import type { ModelMsg, TensorMsg } from './schema.js';
import { buildModel, encodeModel, node } from '../testing/onnx.js';

const t = (o: Partial<TensorMsg> & { dims: number[]; data_type: number }): TensorMsg => ({ float_data: [], int32_data: [], int64_data: [], double_data: [], uint64_data: [], external_data: [], ...o }) as TensorMsg;

describe('ONNX tensors', () => {
  it('raw_data float32 / int64 / float16 little-endian, float_data, int64_data, double_data, int32_data holding float16 bits', () => {
    const f32 = new Uint8Array(new Float32Array([1.5, -2, 0.25]).buffer);
    expect(Array.from(decodeTensor(t({ dims: [3], data_type: 1, raw_data: f32 }), 'a').data)).toEqual([1.5, -2, 0.25]);
    const i64 = new Uint8Array(new BigInt64Array([-1n, 7n]).buffer);
    expect(decodeTensor(t({ dims: [2], data_type: 7, raw_data: i64 }), 'b')).toMatchObject({ kind: 'int', data: Float64Array.from([-1, 7]) });
    const f16 = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x3555]).buffer); // 1, -2, ~0.333
    const h = decodeTensor(t({ dims: [3], data_type: 10, raw_data: f16 }), 'c').data;
    expect([h[0], h[1]]).toEqual([1, -2]);
    expect(h[2]).toBeCloseTo(1 / 3, 3);
    expect(Array.from(decodeTensor(t({ dims: [2, 1], data_type: 1, float_data: [3, 4] }), 'd').data)).toEqual([3, 4]);
    expect(Array.from(decodeTensor(t({ dims: [2], data_type: 7, int64_data: [5, -6] }), 'e').data)).toEqual([5, -6]);
    expect(Array.from(decodeTensor(t({ dims: [1], data_type: 11, double_data: [0.1] }), 'f').data)).toEqual([0.1]);
    expect(Array.from(decodeTensor(t({ dims: [1], data_type: 10, int32_data: [0x3c00] }), 'g').data)).toEqual([1]);
    expect(decodeTensor(t({ dims: [], data_type: 1, float_data: [2] }), 'scalar')).toMatchObject({ dims: [], data: Float64Array.of(2) });
  });

  it('refuses a count that does not match the dims, external data and strings (E_MODEL_FORMAT)', () => {
    const bad = (x: TensorMsg, re: RegExp) => expect(() => decodeTensor(x, "initializer 'w'")).toThrow(expect.objectContaining({ code: 'E_MODEL_FORMAT', message: expect.stringMatching(re) }));
    bad(t({ dims: [2, 2], data_type: 1, raw_data: new Uint8Array(12) }), /initializer 'w': raw_data has 12 bytes, dims \[2,2\] need 16/);
    bad(t({ dims: [3], data_type: 1, float_data: [1, 2] }), /holds 2 values, dims \[3\] need 3/);
    bad(t({ dims: [1], data_type: 1, data_location: 1, external_data: [{ key: 'location', value: 'w.bin' }] }), /external file/);
    bad(t({ dims: [1], data_type: 8 }), /data type STRING is not supported/);
  });
});

describe('ONNX files', () => {
  it('a model file is recognised from its first byte and decoded; no graph or no default opset is E_MODEL_FORMAT', () => {
    const bytes = buildModel({ dims: [1, 2, 2], nodes: [node('Relu', ['x'], ['y'])] });
    expect(looksLikeOnnx(bytes)).toBe(true);
    expect(looksLikeOnnx(new TextEncoder().encode('{"format": "layers-model"}'))).toBe(false);
    const m = readOnnx(bytes);
    expect(m).toMatchObject({ opset: 13, producer: 'test', outputs: ['y'], inputs: [{ name: 'x', dims: [null, 1, 2, 2] }] });
    expect(m.nodes[0]).toMatchObject({ opType: 'Relu', inputs: ['x'], outputs: ['y'], index: 0 });
    const noOpset = encodeModel({ ir_version: 7, opset_import: [{ domain: 'com.example', version: 1 }], graph: { node: [node('Relu', ['x'], ['y'])], initializer: [], input: [], output: [], value_info: [] }, metadata_props: [] } as unknown as ModelMsg);
    expect(() => readOnnx(noOpset)).toThrow(expect.objectContaining({ code: 'E_MODEL_FORMAT', message: expect.stringMatching(/no opset_import for the default ai.onnx domain/) }));
    const noGraph = encodeModel({ ir_version: 7, opset_import: [{ domain: '', version: 13 }], metadata_props: [] } as unknown as ModelMsg);
    expect(() => readOnnx(noGraph)).toThrow(expect.objectContaining({ code: 'E_MODEL_FORMAT', message: expect.stringMatching(/has no graph/) }));
  });
});
