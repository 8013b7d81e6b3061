/**
 * The one shape inference of the layer IR (shapes without the batch
 * dimension). Model import, the party servers and both plaintext forward
 * passes use it; each layer kind's output shape is written here once.
 * Errors are E_SHAPE (callers may rewrap them, e.g. model import as
 * E_MODEL_FORMAT) and name the layer, never a value.
 */
import { MpcError } from '../errors.js';
import type { LayerNode, ModelIR } from '../ir.js';
import { dilatedExtent, dilationOf, window2d } from '../layers/geometry.js';
import { sizeOf } from '../layers/types.js';

function shapeErr(node: { name: string; kind: string }, msg: string): MpcError {
  return new MpcError('E_SHAPE', `layer '${node.name}' (${node.kind}): ${msg}`);
}

export function hwc(node: LayerNode<unknown>, s: number[]): [number, number, number] {
  if (s.length !== 3) throw shapeErr(node, `expects an input of rank 3 (H, W, C), got [${s}]`);
  return s as [number, number, number];
}

const same = (a: number[], b: number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/** Output shape of one node from its input shapes. */
export function outputShape(node: LayerNode<unknown>, ins: number[][]): number[] {
  const x = ins[0]!;
  switch (node.kind) {
    case 'conv2d':
    case 'depthwise_conv2d':
    case 'maxpool2d':
    case 'avgpool2d': {
      const [h, w, c] = hwc(node, x);
      const k = 'kernelSize' in node ? dilatedExtent(node.kernelSize, dilationOf(node)) : node.poolSize;
      if ('kernelSize' in node && !dilationOf(node).every((d) => Number.isInteger(d) && d >= 1)) throw shapeErr(node, `dilation [${dilationOf(node)}] must be two positive integers`);
      if ((node.padding === 'valid' && (h < k[0] || w < k[1]))) throw shapeErr(node, `window ${k[0]}x${k[1]}${'kernelSize' in node && node.dilation ? ` (the ${node.kernelSize.join('x')} kernel dilated by ${node.dilation.join('x')})` : ''} does not fit the ${h}x${w} input`);
      const g = window2d(h, w, k, node.strides, node.padding);
      const oc = node.kind === 'conv2d' ? node.filters : node.kind === 'depthwise_conv2d' ? c * node.depthMultiplier : c;
      return [g.outH, g.outW, oc];
    }
    case 'dense':
      if (x.length !== 1) throw shapeErr(node, `expects a flat input, got [${x}] (add a Flatten)`);
      return [node.units];
    case 'activation':
    case 'rescaling':
      return x.slice();
    case 'global_avgpool2d':
      return [hwc(node, x)[2]];
    case 'flatten':
      return [sizeOf(x)];
    case 'reshape': {
      const t = node.targetShape.slice();
      const unknown = t.indexOf(-1);
      if (unknown >= 0) t[unknown] = sizeOf(x) / -sizeOf(t);
      if (!t.every((d) => Number.isInteger(d) && d > 0) || sizeOf(t) !== sizeOf(x)) throw shapeErr(node, `cannot reshape [${x}] to [${node.targetShape}]`);
      return t;
    }
    case 'zero_padding2d': {
      const [h, w, c] = hwc(node, x);
      const [[t, b], [l, r]] = node.padding;
      return [h + t + b, w + l + r, c];
    }
    case 'add':
      for (const s of ins) if (!same(s, x)) throw shapeErr(node, `inputs have different shapes [${x}] and [${s}]`);
      return x.slice();
    case 'subtract':
    case 'average':
    case 'maximum':
      if (ins.length < 2 || (node.kind === 'subtract' && ins.length !== 2)) throw shapeErr(node, `needs ${node.kind === 'subtract' ? 'exactly two' : 'at least two'} inputs, got ${ins.length}`);
      for (const s of ins) if (!same(s, x)) throw shapeErr(node, `inputs have different shapes [${x}] and [${s}]`);
      return x.slice();
    case 'multiply': {
      if (ins.length !== 2) throw shapeErr(node, `needs two inputs, got ${ins.length}`);
      const y = ins[1]!;
      if (y.length !== x.length || x.some((d, i) => d !== y[i] && d !== 1 && y[i] !== 1)) throw shapeErr(node, `cannot broadcast [${x}] with [${y}]`);
      return x.map((d, i) => Math.max(d, y[i]!));
    }
    case 'concatenate': {
      const a = node.axis;
      if (!Number.isInteger(a) || a < 0 || a >= x.length) throw shapeErr(node, `axis ${a} is outside a rank-${x.length} input`);
      for (const s of ins) if (s.length !== x.length || s.some((d, i) => i !== a && d !== x[i])) throw shapeErr(node, `inputs [${x}] and [${s}] differ outside axis ${a}`);
      return x.map((d, i) => (i === a ? ins.reduce((t, s) => t + s[a]!, 0) : d));
    }
    case 'conv2d_transpose': {
      const [h, w] = hwc(node, x);
      const [[t, b], [l, r]] = node.pad;
      const oh = (h - 1) * node.strides[0] + 1 + t + b - node.kernelSize[0] + 1, ow = (w - 1) * node.strides[1] + 1 + l + r - node.kernelSize[1] + 1;
      if (oh < 1 || ow < 1 || [t, b, l, r].some((p) => p < 0)) throw shapeErr(node, `padding [${node.pad}] does not fit the ${h}x${w} input`);
      return [oh, ow, node.filters];
    }
    case 'upsampling2d': {
      const [h, w, c] = hwc(node, x);
      return [h * node.size[0], w * node.size[1], c];
    }
    case 'cropping2d': {
      const [h, w, c] = hwc(node, x);
      const [[t, b], [l, r]] = node.cropping;
      if (t + b >= h || l + r >= w) throw shapeErr(node, `cropping [${node.cropping}] leaves nothing of the ${h}x${w} input`);
      return [h - t - b, w - l - r, c];
    }
    case 'leaky_relu':
    case 'prelu':
      return x.slice();
    default:
      throw new MpcError('E_UNSUPPORTED_LAYER', `layer '${(node as { name: string }).name}': kind '${(node as { kind: string }).kind}' is not supported`);
  }
}

/** Shapes of every node's output (and 'input'), in node order. */
export function inferShapes(model: Pick<ModelIR<unknown>, 'inputShape' | 'nodes'>): Map<string, number[]> {
  const shapes = new Map<string, number[]>([['input', model.inputShape.slice()]]);
  for (const node of model.nodes) {
    const ins = node.inputs.map((i) => {
      const s = shapes.get(i);
      if (!s) throw new MpcError('E_SHAPE', `layer '${node.name}' reads '${i}', which is not computed before it`);
      return s;
    });
    shapes.set(node.name, outputShape(node, ins));
  }
  return shapes;
}

/** Output shape (without batch) of a model. */
export function modelOutputShape(model: Pick<ModelIR<unknown>, 'inputShape' | 'nodes' | 'output'>): number[] {
  const out = inferShapes(model).get(model.output);
  if (!out) throw new MpcError('E_SHAPE', `model output '${model.output}' is not a node`);
  return out;
}
