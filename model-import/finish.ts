/**
 * The last steps of every importer (Keras: convert.ts, ONNX: onnx/convert.ts)
 * on the working graph: nodes that do not reach the output dropped, linear
 * activations removed, softmax/sigmoid only as the final op (a sigmoid
 * inside the network through its secure approximation), BatchNorm-like
 * affine nodes folded (bn-fold.ts), ReLU/ReLU6 merged into the linear layer
 * before it; then the ModelIR.
 */
import { MpcError } from '../protocol/errors.js';
import { smoothActivation } from '../protocol/layers/activations.js';
import { IR_FORMAT_VERSION, type FloatTensor, type LayerNode, type ModelIR, type OutputActivation } from '../protocol/ir.js';
import { foldBatchNorms } from './bn-fold.js';
import type { WorkGraph } from './graph.js';
import { sizeOf } from './shapes.js';

function dropDead(g: WorkGraph): void {
  const live = new Set<string>([g.output]);
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    if (live.has(n.name)) n.inputs.forEach((s) => live.add(s));
  }
  g.nodes = g.nodes.filter((n) => live.has(n.name));
}

/** Finish a converted working graph (g.output set; shapes of every node) into the float IR. */
export function finishGraph(g: WorkGraph, shapes: Map<string, number[]>, inputShape: number[], labels?: string[]): ModelIR<FloatTensor> {
  dropDead(g);
  // Linear Activation nodes are identities (the ones carrying a final softmax/sigmoid go after the check below).
  for (const n of [...g.nodes]) if (n.kind === 'activation' && n.activation === 'linear' && !g.finalActivation.has(n.name)) g.replace(n.name, n.inputs[0]!);

  // softmax / sigmoid: only as the very last operation.
  let outputActivation: OutputActivation = 'linear';
  // A sigmoid inside the network runs through its registered secure approximation (protocol/layers/activations.ts).
  for (const [name, a] of g.finalActivation) {
    if (!g.get(name) && g.resolve(name) === name) continue; // dropped: it does not reach the output
    if (g.resolve(name) !== g.output) {
      const n = g.get(name);
      if (a === 'sigmoid' && n && 'activation' in n && n.activation === 'linear') {
        if (!smoothActivation('sigmoid')) throw new MpcError('E_UNSUPPORTED_LAYER', `${g.describe(name)}: activation 'sigmoid' inside the network: secure approximation not available`, { step: 'import.convert' });
        n.activation = 'sigmoid';
        continue;
      }
      throw new MpcError('E_UNSUPPORTED_LAYER', `${g.describe(name)}: ${a} is only supported as the model's final operation`, { step: 'import.convert' });
    }
    outputActivation = a;
  }
  for (const n of [...g.nodes]) if (n.kind === 'activation' && n.activation === 'linear') g.replace(n.name, n.inputs[0]!);

  foldBatchNorms(g, shapes);

  // Merge ReLU / ReLU6 into a linear Conv2D / DepthwiseConv2D / Dense that only feeds it.
  for (const n of [...g.nodes]) {
    if (n.kind !== 'activation') continue;
    const p = g.get(n.inputs[0]!);
    if (!p || !(p.kind === 'conv2d' || p.kind === 'depthwise_conv2d' || p.kind === 'dense' || p.kind === 'conv2d_transpose') || p.activation !== 'linear' || g.uses(p.name) !== 1) continue;
    p.activation = n.activation;
    g.replace(n.name, p.name);
  }

  dropDead(g);
  const nodes = g.nodes;
  for (const n of nodes) if (n.kind === 'batchnorm') throw new MpcError('E_INTERNAL', `import: BatchNormalization '${n.name}' was not folded`);
  if (g.output === 'input') throw new MpcError('E_UNSUPPORTED_LAYER', 'model has no layers the protocol would compute', { step: 'import.convert' });
  if (sizeOf(shapes.get(g.output) ?? [0]) === 0) throw new MpcError('E_MODEL_FORMAT', 'model output is empty', { step: 'import.convert' });
  return {
    formatVersion: IR_FORMAT_VERSION,
    inputShape: inputShape.slice(),
    nodes: nodes as LayerNode<FloatTensor>[],
    output: g.output,
    outputActivation,
    ...(labels ? { labels: labels.slice() } : {}),
  };
}
