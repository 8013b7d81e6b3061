/**
 * Test support for the ONNX importer: the fixtures (../shared/fixtures/onnx:
 * real torch.onnx exports with onnxruntime's outputs), NCHW -> NHWC, and a
 * small ModelProto writer (protobufjs encode with the same schema) for
 * graphs built in tests or rewritten from a fixture.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { modelProto, type AttributeMsg, type ModelMsg, type NodeMsg, type TensorMsg } from '../onnx/schema.js';

export const ONNX_FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'fixtures', 'onnx');
export const ONNX_MODELS = ['seed-cnn-torch', 'torchvision-mobilenet_v2', 'torchvision-densenet121-chexnet'] as const;
export const haveOnnxFixtures = ONNX_MODELS.every((m) => existsSync(path.join(ONNX_FIXTURES, m, 'model.onnx')));

export interface OnnxGolden { inputs: string[]; outputs: number[][]; input_shape_nchw: number[]; ops: string[]; output: string; preprocessing: string }
export const onnxGolden = (m: string): OnnxGolden => JSON.parse(readFileSync(path.join(ONNX_FIXTURES, m, 'golden.json'), 'utf8')) as OnnxGolden;
export const onnxModelFile = (m: string): string => path.join(ONNX_FIXTURES, m, 'model.onnx');

/** Golden input i of model m, converted from NCHW to the runner's HWC (flat). */
export function onnxInputHwc(m: string, i: number): Float32Array {
  const g = onnxGolden(m);
  const b = readFileSync(path.join(ONNX_FIXTURES, m, g.inputs[i]!));
  const x = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
  return nchwToHwc(x, g.input_shape_nchw as [number, number, number]);
}

export function nchwToHwc(x: ArrayLike<number>, [C, H, W]: [number, number, number]): Float32Array {
  const out = new Float32Array(C * H * W);
  for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) out[(h * W + w) * C + c] = x[(c * H + h) * W + w]!;
  return out;
}

/** Decode a model file to protobufjs's message (to rewrite it in a test). */
export function decodeModel(bytes: Uint8Array): ModelMsg {
  return modelProto().decode(bytes) as unknown as ModelMsg;
}
export function encodeModel(m: ModelMsg): Uint8Array {
  const T = modelProto();
  return T.encode(T.fromObject(m as unknown as Record<string, unknown>)).finish();
}

// ---- building graphs ---------------------------------------------------------------

export function floatTensor(name: string, dims: number[], data: ArrayLike<number>): TensorMsg {
  const raw = new Uint8Array(new Float32Array(Array.from(data)).buffer);
  return { name, dims, data_type: 1, raw_data: raw } as unknown as TensorMsg;
}
export function intTensor(name: string, dims: number[], data: number[]): TensorMsg {
  return { name, dims, data_type: 7, int64_data: data } as unknown as TensorMsg;
}

type AttrV = number | number[] | string | TensorMsg | { float: number } | { floats: number[] };
export function attr(name: string, v: AttrV): AttributeMsg {
  if (typeof v === 'number') return { name, type: 2, i: v } as unknown as AttributeMsg;
  if (typeof v === 'string') return { name, type: 3, s: Buffer.from(v) } as unknown as AttributeMsg;
  if (Array.isArray(v)) return { name, type: 7, ints: v } as unknown as AttributeMsg;
  if ('float' in v) return { name, type: 1, f: v.float } as unknown as AttributeMsg;
  if ('floats' in v) return { name, type: 6, floats: v.floats } as unknown as AttributeMsg;
  return { name, type: 4, t: v } as unknown as AttributeMsg;
}
export function node(op: string, inputs: string[], outputs: string[], attrs: AttributeMsg[] = [], name = outputs[0]): NodeMsg {
  return { op_type: op, input: inputs, output: outputs, attribute: attrs, name } as unknown as NodeMsg;
}

/** A ModelProto with one input 'x' ([N, ...dims], N symbolic) and one output 'y'. */
export function buildModel(o: { dims: number[]; nodes: NodeMsg[]; initializers?: TensorMsg[]; opset?: number; output?: string }): Uint8Array {
  const dim = [{ dim_param: 'N' }, ...o.dims.map((d) => ({ dim_value: d }))];
  const m = {
    ir_version: 7,
    producer_name: 'test',
    opset_import: [{ domain: '', version: o.opset ?? 13 }],
    graph: {
      name: 'g',
      node: o.nodes,
      initializer: o.initializers ?? [],
      input: [{ name: 'x', type: { tensor_type: { elem_type: 1, shape: { dim } } } }],
      output: [{ name: o.output ?? 'y' }],
    },
  };
  return encodeModel(m as unknown as ModelMsg);
}
