/**
 * BatchNormalization at inference is a per-channel affine map
 * y = x * s + t with s = gamma / sqrt(var + eps), t = beta - mean * s.
 * It is removed in one of three exact ways, in this order:
 *  1. backward: into the Conv2D / DepthwiseConv2D / Dense that produces its
 *     input (linear activation, no other reader): kernel[..., o] *= s[o],
 *     bias[o] = bias[o] * s[o] + t[o];
 *  2. forward: through max pooling (only if every s > 0), average pooling,
 *     global average pooling and Flatten, into the next 'valid' (zero
 *     padding) Conv2D / DepthwiseConv2D or the next Dense:
 *     kernel[.., c, ..] *= s[c], bias += sum kernel[.., c, ..] * t[c];
 *  3. otherwise as a 1x1 DepthwiseConv2D with kernel s and bias t (one
 *     secure multiplication, still exact), reshaping a flat input to 1x1xC.
 */
import type { FloatTensor } from '../protocol/ir.js';
import type { AffineNode, WorkGraph, WorkNode } from './graph.js';
import { pad1d } from './shapes.js';
import { dilatedExtent, dilationOf } from '../protocol/layers/geometry.js';

type Linear = Extract<WorkNode, { kind: 'conv2d' | 'depthwise_conv2d' | 'dense' }>;
type Producer = Linear | Extract<WorkNode, { kind: 'conv2d_transpose' }>;

function isLinear(n: WorkNode | undefined): n is Linear {
  return !!n && (n.kind === 'conv2d' || n.kind === 'depthwise_conv2d' || n.kind === 'dense');
}

/** Nodes a BatchNorm folds backward into: the linear ones and Conv2DTranspose (kernel [kh, kw, Cin, Cout]). */
function isProducer(n: WorkNode | undefined): n is Producer {
  return isLinear(n) || n?.kind === 'conv2d_transpose';
}

function outChannels(n: Producer): number {
  const s = n.kernel.shape;
  return n.kind === 'depthwise_conv2d' ? s[2]! * s[3]! : s[s.length - 1]!;
}

function copy(t: FloatTensor): FloatTensor {
  return { shape: t.shape.slice(), data: Float64Array.from(t.data) };
}

function biasOf(n: Producer): FloatTensor {
  return n.bias ? copy(n.bias) : { shape: [outChannels(n)], data: new Float64Array(outChannels(n)) };
}

function foldBackward(g: WorkGraph, bn: AffineNode): boolean {
  const p = g.get(bn.inputs[0]!);
  if (!isProducer(p) || p.activation !== 'linear' || g.uses(p.name) !== 1) return false;
  const C = bn.scale.length;
  if (outChannels(p) !== C) return false;
  const kernel = copy(p.kernel);
  for (let i = 0; i < kernel.data.length; i++) kernel.data[i]! *= bn.scale[i % C]!;
  const bias = biasOf(p);
  for (let o = 0; o < C; o++) bias.data[o] = bias.data[o]! * bn.scale[o]! + bn.shift[o]!;
  p.kernel = kernel;
  p.bias = bias;
  g.replace(bn.name, p.name);
  return true;
}

/** Input channel of flat kernel index i, and the output channel it feeds. */
function kernelIndex(n: Linear, i: number, C: number): { c: number; o: number } {
  const s = n.kernel.shape;
  if (n.kind === 'conv2d') {
    const cout = s[3]!;
    return { c: Math.floor(i / cout) % s[2]!, o: i % cout };
  }
  if (n.kind === 'depthwise_conv2d') {
    const dm = s[3]!;
    return { c: Math.floor(i / dm) % s[2]!, o: i % (s[2]! * dm) };
  }
  const units = s[1]!;
  return { c: Math.floor(i / units) % C, o: i % units };
}

function foldForward(g: WorkGraph, bn: AffineNode, shapes: Map<string, number[]>): boolean {
  const C = bn.scale.length;
  const allPositive = bn.scale.every((v) => v > 0);
  let cur: string = bn.name;
  for (;;) {
    if (g.uses(cur) !== 1 || cur === g.output) return false;
    const next = g.consumers(cur)[0]!;
    if (next.inputs.length !== 1) return false;
    if (next.kind === 'maxpool2d' && allPositive) cur = next.name;
    else if (next.kind === 'avgpool2d' || next.kind === 'global_avgpool2d' || next.kind === 'flatten') cur = next.name;
    else if (isLinear(next)) {
      if (next.kind !== 'dense') {
        const inS = shapes.get(cur)!;
        // A dilated kernel pads for its extent (k - 1) d + 1.
        const ext = dilatedExtent(next.kernelSize, dilationOf(next));
        const ph = pad1d(inS[0]!, ext[0], next.strides[0], next.padding);
        const pw = pad1d(inS[1]!, ext[1], next.strides[1], next.padding);
        if (ph.before + ph.after + pw.before + pw.after !== 0) return false;
        if (shapes.get(cur)!.length !== 3) return false;
      }
      const kernel = copy(next.kernel);
      const bias = biasOf(next);
      const w = next.kernel.data;
      for (let i = 0; i < w.length; i++) {
        const { c, o } = kernelIndex(next, i, C);
        bias.data[o]! += w[i]! * bn.shift[c]!;
        kernel.data[i] = w[i]! * bn.scale[c]!;
      }
      next.kernel = kernel;
      next.bias = bias;
      g.replace(bn.name, bn.inputs[0]!);
      return true;
    } else return false;
  }
}

function asDepthwise(g: WorkGraph, bn: AffineNode, shapes: Map<string, number[]>): void {
  const C = bn.scale.length;
  const inShape = shapes.get(bn.inputs[0]!)!;
  const dw = (name: string, input: string): WorkNode => ({
    kind: 'depthwise_conv2d',
    name,
    inputs: [input],
    kernelSize: [1, 1],
    strides: [1, 1],
    padding: 'valid',
    depthMultiplier: 1,
    activation: 'linear',
    kernel: { shape: [1, 1, C, 1], data: Float64Array.from(bn.scale) },
    bias: { shape: [C], data: Float64Array.from(bn.shift) },
  });
  const at = g.nodes.indexOf(bn);
  const origin = g.origin.get(bn.name);
  if (inShape.length === 3) {
    g.nodes.splice(at, 1, dw(bn.name, bn.inputs[0]!));
    return;
  }
  const toHwc = g.fresh(`${bn.name}/to_hwc`);
  const aff = g.fresh(`${bn.name}/affine`);
  g.nodes.splice(at, 1, { kind: 'reshape', name: toHwc, inputs: [bn.inputs[0]!], targetShape: [1, 1, C] }, dw(aff, toHwc), { kind: 'reshape', name: bn.name, inputs: [aff], targetShape: inShape.slice() });
  if (origin) {
    g.origin.set(toHwc, origin);
    g.origin.set(aff, origin);
  }
  shapes.set(toHwc, [1, 1, C]);
  shapes.set(aff, [1, 1, C]);
}

export function foldBatchNorms(g: WorkGraph, shapes: Map<string, number[]>): void {
  for (const bn of g.nodes.filter((n): n is AffineNode => n.kind === 'batchnorm')) {
    if (foldBackward(g, bn) || foldForward(g, bn, shapes)) continue;
    asDepthwise(g, bn, shapes);
  }
}
