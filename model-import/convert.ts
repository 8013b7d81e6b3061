/**
 * Keras layers -> layer IR. Checks every option the secure protocol cannot
 * run (E_UNSUPPORTED_LAYER, naming the layer, its class and position) and
 * every weight shape (E_WEIGHT_SHAPE) before anything is written; removes
 * inference no-ops (Dropout, identity Resizing, linear Activation); moves a
 * final softmax/sigmoid to `outputActivation`; folds BatchNormalization
 * (bn-fold.ts) and merges a ReLU/ReLU6 into the Conv2D/Dense before it.
 *
 * This file walks the graph; layer-map.ts maps each layer class to work
 * nodes, with the config and weight readers of layer-args.ts.
 */
import { MpcError } from '../protocol/errors.js';
import type { FloatTensor, ModelIR } from '../protocol/ir.js';
import { finishGraph } from './finish.js';
import { WorkGraph, type Origin, type WorkNode } from './graph.js';
import type { KerasGraph } from './keras-config.js';
import { convertLayer } from './layer-map.js';
import { outputShape } from './shapes.js';

export { activationName } from './layer-args.js';

export interface ConvertOptions {
  /** Overrides (or supplies) the input shape without batch. */
  inputShape?: number[];
  labels?: string[];
  /**
   * Keras major version that wrote the file (its definition of hard_sigmoid:
   * 2: clip(0.2 x + 0.5, 0, 1), 3: relu6(x + 3) / 6). Default 3.
   */
  kerasMajor?: 2 | 3;
}

function workShape(n: WorkNode, ins: number[][]): number[] {
  return n.kind === 'batchnorm' ? ins[0]!.slice() : outputShape(n, ins);
}

/** Convert a flattened Keras graph (weights attached) to the float IR. */
export function convertGraph(kg: KerasGraph, opts: ConvertOptions = {}): ModelIR<FloatTensor> {
  const inputShape = opts.inputShape ?? kg.inputShape;
  if (!inputShape || inputShape.some((d) => d === null || !Number.isInteger(d) || (d as number) <= 0)) {
    throw new MpcError('E_MODEL_FORMAT', `model input shape is not fixed ([${(inputShape ?? []).map((d) => d ?? 'None')}]); pass an input shape`, { step: 'import.convert' });
  }
  const shapes = new Map<string, number[]>([['input', inputShape as number[]]]);
  const g = new WorkGraph();
  for (const L of kg.layers) {
    L.inputs = L.inputs.map((i) => g.resolve(i));
    const ins = L.inputs.map((i) => shapes.get(i)!);
    const origin: Origin = { className: L.className, position: L.position, scope: L.scope };
    const conv = convertLayer(L, ins, g, opts.kerasMajor ?? 3);
    if (conv.nodes.length === 0) {
      g.replace(L.name, L.inputs[0]!);
      continue;
    }
    for (const n of conv.nodes) {
      g.add(n, origin);
      shapes.set(n.name, workShape(n, n.inputs.map((i) => shapes.get(i)!)));
    }
    if (conv.final) g.finalActivation.set(L.name, conv.final);
  }
  g.output = g.resolve(kg.output);
  return finishGraph(g, shapes, inputShape as number[], opts.labels);
}
