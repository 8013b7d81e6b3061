/**
 * ONNX model file (protobuf ModelProto) -> the graph the converter reads:
 * nodes in file order with their attributes, initializers as float64
 * tensors, the graph's input and outputs. Decoding is protobufjs's
 * (schema.ts); every failure of it (a truncated or corrupt file), a missing
 * graph or opset, tensors stored outside the file and element counts that do
 * not match their dims are E_MODEL_FORMAT.
 */
import { MpcError } from '../../protocol/errors.js';
import { int64, modelProto, type AttributeMsg, type ModelMsg, type TensorMsg } from './schema.js';

/** A constant tensor; integer types are held exactly (|v| < 2^53) in the same float64 array. */
export interface OnnxTensor {
  dims: number[];
  /** 'float' for FLOAT/DOUBLE/FLOAT16, 'int' for the integer and bool types. */
  kind: 'float' | 'int';
  data: Float64Array;
}

export interface OnnxNode {
  /** Position in the file's node list (for messages). */
  index: number;
  name: string;
  opType: string;
  domain: string;
  /** Input value names; '' marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attrs: Map<string, AttributeMsg>;
}

export interface OnnxModel {
  irVersion: number;
  /** Version of the default (ai.onnx) operator set. */
  opset: number;
  producer: string;
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  /** Graph inputs that are not initializers; dims null where symbolic (the batch). */
  inputs: { name: string; dims: (number | null)[] }[];
  outputs: string[];
}

const fmt = (msg: string, cause?: unknown): MpcError => new MpcError('E_MODEL_FORMAT', `ONNX file: ${msg}`, { step: 'import.parse', ...(cause !== undefined ? { cause } : {}) });

/** First byte of a ModelProto field tag that torch.onnx (ir_version, field 1) and other writers put first. */
const FIRST_TAGS = new Set([0x08, 0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x72]);

/** Whether the bytes may be an ONNX ModelProto (checked after the other formats' signatures). */
export function looksLikeOnnx(bytes: Uint8Array): boolean {
  return bytes.length > 2 && FIRST_TAGS.has(bytes[0]!);
}

const DTYPE_NAMES: Record<number, string> = { 0: 'UNDEFINED', 8: 'STRING', 14: 'COMPLEX64', 15: 'COMPLEX128', 16: 'BFLOAT16' };

function half(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** One TensorProto -> OnnxTensor; `what` names it in errors. */
export function decodeTensor(t: TensorMsg, what: string): OnnxTensor {
  const dims = t.dims.map(int64);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw fmt(`${what}: invalid dims [${dims}]`);
  const n = dims.reduce((a, b) => a * b, 1);
  if (t.data_location === 1 || t.external_data.length > 0) throw fmt(`${what}: tensor data stored in an external file is not supported (save the model with its weights inside)`);
  const dt = t.data_type ?? 0;
  const raw = t.raw_data && t.raw_data.length > 0 ? t.raw_data : undefined;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  const out = new Float64Array(n);
  const width: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8 };
  const w = width[dt];
  if (w === undefined) throw fmt(`${what}: data type ${DTYPE_NAMES[dt] ?? dt} is not supported`);
  const kind: OnnxTensor['kind'] = dt === 1 || dt === 10 || dt === 11 ? 'float' : 'int';
  if (view) {
    if (raw!.length !== n * w) throw fmt(`${what}: raw_data has ${raw!.length} bytes, dims [${dims}] need ${n * w}`);
    for (let i = 0; i < n; i++) {
      const o = i * w;
      switch (dt) {
        case 1: out[i] = view.getFloat32(o, true); break;
        case 11: out[i] = view.getFloat64(o, true); break;
        case 10: out[i] = half(view.getUint16(o, true)); break;
        case 7: out[i] = Number(view.getBigInt64(o, true)); break;
        case 13: out[i] = Number(view.getBigUint64(o, true)); break;
        case 6: out[i] = view.getInt32(o, true); break;
        case 12: out[i] = view.getUint32(o, true); break;
        case 5: out[i] = view.getInt16(o, true); break;
        case 4: out[i] = view.getUint16(o, true); break;
        case 3: out[i] = view.getInt8(o); break;
        default: out[i] = view.getUint8(o);
      }
    }
    return { dims, kind, data: out };
  }
  const typed: ArrayLike<number> =
    dt === 1 ? t.float_data : dt === 11 ? t.double_data : dt === 7 ? t.int64_data.map(int64) : dt === 13 || dt === 12 ? t.uint64_data.map(int64) : t.int32_data;
  if (typed.length !== n) throw fmt(`${what}: holds ${typed.length} values, dims [${dims}] need ${n}`);
  for (let i = 0; i < n; i++) out[i] = dt === 10 ? half(typed[i]!) : typed[i]!;
  return { dims, kind, data: out };
}

/** Decode an ONNX model file. */
export function readOnnx(bytes: Uint8Array): OnnxModel {
  let m: ModelMsg;
  try {
    m = modelProto().decode(bytes) as unknown as ModelMsg;
  } catch (e) {
    throw fmt(`not a valid ONNX protobuf (${e instanceof Error ? e.message : String(e)}; truncated or corrupt)`, e);
  }
  const g = m.graph;
  if (!g || g.node.length === 0) throw fmt('the model has no graph (truncated or not an ONNX model)');
  const def = m.opset_import.find((o) => !o.domain || o.domain === 'ai.onnx');
  if (!def) throw fmt('no opset_import for the default ai.onnx domain (truncated or not an ONNX model)');
  const opset = int64(def.version);
  if (!(opset >= 1)) throw fmt(`invalid opset version ${opset}`);
  const initializers = new Map<string, OnnxTensor>();
  for (const t of g.initializer) initializers.set(t.name ?? '', decodeTensor(t, `initializer '${t.name ?? ''}'`));
  const inputs = g.input
    .filter((v) => !initializers.has(v.name ?? ''))
    .map((v) => ({ name: v.name ?? '', dims: (v.type?.tensor_type?.shape?.dim ?? []).map((d) => (d.dim_value !== undefined && d.dim_value !== null && int64(d.dim_value) > 0 ? int64(d.dim_value) : null)) }));
  const nodes: OnnxNode[] = g.node.map((n, index) => ({
    index,
    name: n.name || `${n.op_type ?? 'node'}_${index}`,
    opType: n.op_type ?? '',
    domain: n.domain ?? '',
    inputs: n.input.slice(),
    outputs: n.output.slice(),
    attrs: new Map(n.attribute.map((a) => [a.name ?? '', a])),
  }));
  return { irVersion: int64(m.ir_version), opset, producer: [m.producer_name, m.producer_version].filter(Boolean).join(' '), nodes, initializers, inputs, outputs: g.output.map((o) => o.name ?? '') };
}
