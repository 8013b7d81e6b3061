/**
 * ONNX graph -> layer IR. Walks the nodes in file order (ONNX requires a
 * topological order): constants and shape arithmetic are folded (fold.ts),
 * every other operator is mapped onto the IR the Keras importer produces
 * (ops-linear.ts, ops-window.ts, ops-misc.ts) with NCHW converted to the
 * runner's NHWC once, here; then the common finish (BatchNorm folding, ReLU
 * merging, output activation: ../finish.ts). An operator, domain or
 * attribute outside the supported set is E_UNSUPPORTED_LAYER naming the
 * node, its op_type and the attribute.
 */
import { MpcError } from '../../protocol/errors.js';
import type { FloatTensor, ModelIR } from '../../protocol/ir.js';
import { finishGraph } from '../finish.js';
import { Ctx, irShape, unsupported } from './context.js';
import { foldShape, tryFold } from './fold.js';
import { batchNorm, conv, convTranspose, gemm, matmul } from './ops-linear.js';
import { arith, clip, concat, flatten, hardSigmoid, hardSwish, leakyRelu, passThrough, prelu, relu, reshape, sigmoidTanh, softmax, squeeze } from './ops-misc.js';
import { globalPool, pad, pool, reduceMean, resize } from './ops-window.js';
import type { OnnxModel, OnnxNode } from './read.js';

type Op = (ctx: Ctx, n: OnnxNode) => void;

const OPS: Record<string, Op> = {
  Conv: conv, ConvTranspose: convTranspose, Gemm: gemm, MatMul: matmul, BatchNormalization: batchNorm,
  Relu: relu, LeakyRelu: leakyRelu, PRelu: prelu, Clip: clip, HardSigmoid: hardSigmoid, HardSwish: hardSwish, Sigmoid: sigmoidTanh, Tanh: sigmoidTanh, Softmax: softmax, LogSoftmax: softmax,
  MaxPool: pool, AveragePool: pool, GlobalAveragePool: globalPool, GlobalMaxPool: globalPool, ReduceMean: reduceMean, Pad: pad, Resize: resize, Upsample: resize,
  Add: arith, Sub: arith, Mul: arith, Div: arith, Concat: concat, Flatten: flatten, Reshape: reshape, Squeeze: squeeze, Unsqueeze: squeeze,
  Identity: passThrough, Dropout: passThrough, Cast: passThrough,
};

/** The operators the importer maps (besides the folded shape arithmetic). */
export const SUPPORTED_ONNX_OPS: readonly string[] = Object.keys(OPS).sort();

export interface OnnxConvertOptions {
  /** Input shape without batch in the IR's order [H, W, C], for inputs whose dims are symbolic. */
  inputShape?: number[];
  labels?: string[];
}

const fmt = (msg: string): MpcError => new MpcError('E_MODEL_FORMAT', `ONNX graph: ${msg}`, { step: 'import.convert' });

export function convertOnnx(m: OnnxModel, opts: OnnxConvertOptions = {}): ModelIR<FloatTensor> {
  if (m.inputs.length !== 1) throw new MpcError('E_UNSUPPORTED_LAYER', `ONNX graph: ${m.inputs.length} inputs (${m.inputs.map((i) => `'${i.name}'`).join(', ')}); one image input is supported`, { step: 'import.convert' });
  if (m.outputs.length !== 1) throw new MpcError('E_UNSUPPORTED_LAYER', `ONNX graph: ${m.outputs.length} outputs; one output is supported`, { step: 'import.convert' });
  const ctx = new Ctx(m.opset);
  for (const n of m.nodes) for (const i of n.inputs) if (i) ctx.used.add(i);
  ctx.used.add(m.outputs[0]!);
  for (const [name, t] of m.initializers) ctx.vals.set(name, { kind: 'const', t });

  // The input: [N, C, H, W] or [N, F]; the batch is dynamic (folded as 1).
  const inp = m.inputs[0]!;
  const dims = inp.dims.slice();
  if (dims.length !== 4 && dims.length !== 2) throw new MpcError('E_UNSUPPORTED_LAYER', `ONNX graph: input '${inp.name}' of rank ${dims.length} is not supported (NCHW images or [N, features])`, { step: 'import.convert' });
  if (opts.inputShape) {
    const s = opts.inputShape;
    const want = dims.length === 4 ? [s[2], s[0], s[1]] : [s[0]];
    if (s.length !== (dims.length === 4 ? 3 : 1)) throw new MpcError('E_BAD_ARGUMENT', `--input-shape [${s}] does not fit the ONNX input of rank ${dims.length}`);
    want.forEach((d, i) => {
      if (dims[i + 1] !== null && dims[i + 1] !== d) throw new MpcError('E_BAD_ARGUMENT', `--input-shape [${s}] differs from the file's input [${inp.dims.map((d) => d ?? 'N')}]`);
      dims[i + 1] = d!;
    });
  }
  if (dims.slice(1).some((d) => d === null)) throw fmt(`input '${inp.name}' has symbolic dims [${inp.dims.map((d) => d ?? '?')}]; pass --input-shape H,W,C`);
  if (dims[0] !== null && dims[0] !== 1) throw fmt(`input '${inp.name}' has a fixed batch of ${dims[0]}; export with a dynamic batch or batch 1`);
  dims[0] = 1;
  const node0: OnnxNode = { index: -1, name: inp.name, opType: 'input', domain: '', inputs: [], outputs: [], attrs: new Map() };
  const inputShape = irShape(node0, dims as number[]);
  ctx.shapes.set('input', inputShape);
  ctx.vals.set(inp.name, { kind: 'act', ir: 'input', dims: dims as number[], nonneg: false });

  for (const n of m.nodes) {
    if (n.domain !== '' && n.domain !== 'ai.onnx') throw unsupported(n, `operator domain '${n.domain}' is not supported (ai.onnx only)`);
    if (n.opType === 'Shape') { foldShape(ctx, n); continue; }
    if (tryFold(ctx, n)) continue;
    const op = OPS[n.opType];
    if (!op) throw unsupported(n, `operator ${n.opType} is not supported by the secure protocol (supported: ${SUPPORTED_ONNX_OPS.join(', ')}; shape arithmetic on constants is folded)`);
    op(ctx, n);
  }

  const out = ctx.vals.get(m.outputs[0]!);
  if (!out) throw fmt(`output '${m.outputs[0]}' is not produced by any node`);
  if (out.kind !== 'act') throw new MpcError('E_UNSUPPORTED_LAYER', `ONNX graph: output '${m.outputs[0]}' is a constant`, { step: 'import.convert' });
  if (out.perm) throw new MpcError('E_UNSUPPORTED_LAYER', `ONNX graph: output '${m.outputs[0]}' is a flattened C x H x W map (its order would differ from the runner's H x W x C); end in a Gemm/MatMul or a 1x1 map`, { step: 'import.convert' });
  if (out.dims.length === 4 && out.dims[1]! > 1 && out.dims[2]! * out.dims[3]! > 1) throw new MpcError('E_UNSUPPORTED_LAYER', `ONNX graph: output '${m.outputs[0]}' is an NCHW map with ${out.dims[1]} channels (the runner returns it as NHWC)`, { step: 'import.convert' });
  ctx.g.output = ctx.g.resolve(out.ir);
  return finishGraph(ctx.g, ctx.shapes, inputShape, opts.labels);
}
