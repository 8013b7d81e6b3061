/**
 * Shape inference over the IR (shapes without batch) and TF-style padding.
 * 'same' padding follows TensorFlow: out = ceil(in / s), total padding
 * max((out - 1) s + k - in, 0), the smaller half on top/left.
 */
import { MpcError } from '../protocol/errors.js';
import type { LayerNode, ModelIR, Padding } from '../protocol/ir.js';

export interface Pad1D {
  out: number;
  before: number;
  after: number;
}

export function pad1d(inSize: number, k: number, s: number, padding: Padding): Pad1D {
  if (padding === 'valid') {
    const out = Math.floor((inSize - k) / s) + 1;
    return { out, before: 0, after: 0 };
  }
  const out = Math.ceil(inSize / s);
  const total = Math.max((out - 1) * s + k - inSize, 0);
  const before = Math.floor(total / 2);
  return { out, before, after: total - before };
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function shapeErr(node: { name: string; kind: string }, msg: string): MpcError {
  return new MpcError('E_MODEL_FORMAT', `layer '${node.name}' (${node.kind}): ${msg}`, { step: 'import.shapes' });
}

function need3(node: LayerNode<unknown>, s: number[]): [number, number, number] {
  if (s.length !== 3) throw shapeErr(node, `expects an input of rank 3 (H, W, C), got [${s}]`);
  return s as [number, number, number];
}

/** Output shape of one node from its input shapes. */
export function outputShape(node: LayerNode<unknown>, ins: number[][]): number[] {
  const x = ins[0]!;
  switch (node.kind) {
    case 'conv2d':
    case 'depthwise_conv2d':
    case 'maxpool2d':
    case 'avgpool2d': {
      const [h, w, c] = need3(node, x);
      const k = 'kernelSize' in node ? node.kernelSize : node.poolSize;
      const ph = pad1d(h, k[0], node.strides[0], node.padding);
      const pw = pad1d(w, k[1], node.strides[1], node.padding);
      if (ph.out < 1 || pw.out < 1) throw shapeErr(node, `window ${k[0]}x${k[1]} does not fit the ${h}x${w} input`);
      const oc = node.kind === 'conv2d' ? node.filters : node.kind === 'depthwise_conv2d' ? c * node.depthMultiplier : c;
      return [ph.out, pw.out, oc];
    }
    case 'dense':
      if (x.length !== 1) throw shapeErr(node, `expects a flat input, got [${x}] (add a Flatten)`);
      return [node.units];
    case 'activation':
    case 'rescaling':
      return x.slice();
    case 'global_avgpool2d':
      return [need3(node, x)[2]];
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
      const [h, w, c] = need3(node, x);
      const [[t, b], [l, r]] = node.padding;
      return [h + t + b, w + l + r, c];
    }
    case 'add':
      for (const s of ins) if (s.length !== x.length || s.some((d, i) => d !== x[i])) throw shapeErr(node, `inputs have different shapes [${x}] and [${s}]`);
      return x.slice();
  }
}

/** Shapes of every node's output (and 'input'), in node order. */
export function inferShapes(model: Pick<ModelIR<unknown>, 'inputShape' | 'nodes'>): Map<string, number[]> {
  const shapes = new Map<string, number[]>([['input', model.inputShape.slice()]]);
  for (const node of model.nodes) {
    const ins = node.inputs.map((i) => {
      const s = shapes.get(i);
      if (!s) throw new MpcError('E_MODEL_FORMAT', `layer '${node.name}' reads '${i}', which is not defined before it`, { step: 'import.shapes' });
      return s;
    });
    shapes.set(node.name, outputShape(node, ins));
  }
  return shapes;
}
