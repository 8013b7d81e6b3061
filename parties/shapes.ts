/** Output shape (without batch) of an IR model, from its layer geometry; weights are not read. */
import { assert, MpcError } from '../protocol/errors.js';
import type { LayerNode, ModelIR } from '../protocol/ir.js';
import { window2d } from '../protocol/layers/geometry.js';
import { sizeOf } from '../protocol/layers/types.js';

function hwc(s: number[], node: { name: string }): [number, number, number] {
  assert(s.length === 3, 'E_SHAPE', `layer '${node.name}' expects an HWC input, got rank ${s.length}`);
  return s as [number, number, number];
}

function nodeShape(node: LayerNode<unknown>, ins: number[][]): number[] {
  const s = ins[0]!;
  switch (node.kind) {
    case 'conv2d':
    case 'depthwise_conv2d': {
      const [H, W, C] = hwc(s, node);
      const g = window2d(H, W, node.kernelSize, node.strides, node.padding);
      return [g.outH, g.outW, node.kind === 'conv2d' ? node.filters : C * node.depthMultiplier];
    }
    case 'maxpool2d':
    case 'avgpool2d': {
      const [H, W, C] = hwc(s, node);
      const g = window2d(H, W, node.poolSize, node.strides, node.padding);
      return [g.outH, g.outW, C];
    }
    case 'dense': return [node.units];
    case 'global_avgpool2d': return [hwc(s, node)[2]];
    case 'flatten': return [sizeOf(s)];
    case 'reshape': return node.targetShape.slice();
    case 'zero_padding2d': {
      const [H, W, C] = hwc(s, node);
      const [[t, b], [l, r]] = node.padding;
      return [H + t + b, W + l + r, C];
    }
    case 'activation':
    case 'rescaling':
    case 'add':
      return s.slice();
    default:
      throw new MpcError('E_UNSUPPORTED_LAYER', `layer kind '${(node as { kind: string }).kind}' is not supported`);
  }
}

export function outputShapeOf(model: ModelIR<unknown>): number[] {
  const shapes = new Map<string, number[]>([['input', model.inputShape.slice()]]);
  for (const node of model.nodes) {
    const ins = node.inputs.map((i) => {
      const s = shapes.get(i);
      assert(s, 'E_MODEL_FORMAT', `layer '${node.name}' reads '${i}', which is not computed before it`);
      return s;
    });
    shapes.set(node.name, nodeShape(node, ins));
  }
  const out = shapes.get(model.output);
  assert(out, 'E_MODEL_FORMAT', `model output '${model.output}' is not a node`);
  return out;
}
