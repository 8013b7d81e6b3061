/**
 * Conv and ConvTranspose 'dilations'. Conv maps them to the IR's dilation
 * (the kernel as it is: the secure runner does the undilated kernel's
 * multiply-adds, protocol/layers/conv-dilated.ts), with strides too;
 * ConvTranspose keeps the equivalent undilated kernel of (k - 1) d + 1 taps
 * with zeros between them (exact, at the larger kernel's cost). Expectations
 * by hand from the spec: Conv y[j] = sum_t x[j s + t d - pad] w[t];
 * ConvTranspose y[i s + t d - pad] += x[i] w[t]. (The probe against
 * onnxruntime agrees, except where onnxruntime-web 1.20 combines dilations
 * with output_padding: it leaves those cells uninitialised.) A 2-D graph
 * (dilated Conv, depthwise Conv with group = C, a strided dilated Conv)
 * against the same graph with zero-expanded initializers and no dilations
 * (the spec's definition), and through the three-party runner. Pooling
 * dilations stay refused.
 */
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../protocol/fixed-point/fixed-point.js';
import { getKernels } from '../../protocol/kernels/index.js';
import { secureForward } from '../../protocol/layers/runner.js';
import { shareModel } from '../../protocol/layers/share-model.js';
import { seededPrg, uniform } from '../../protocol/seed-models.js';
import { reconstruct } from '../../protocol/sharing/sharing.js';
import { run3, shareFor3 } from '../../protocol/testing/run3.js';
import { referenceLogits } from '../reference.js';
import { loadOnnx } from './load.js';
import { attr, buildModel, floatTensor, node } from '../testing/onnx.js';
import type { AttributeMsg, NodeMsg, TensorMsg } from './schema.js';
import { irToKeras } from '../keras-from-ir.js';

const x = Float32Array.from([1, 2, 3, 4, 5]);
const run = (op: string, W: number, attrs: ReturnType<typeof attr>[], bias = false): number[] => {
  const inits = [floatTensor('w', [1, 1, 1, 2], [1, 10]), ...(bias ? [floatTensor('b', [1], [0.5])] : [])];
  const { ir } = loadOnnx(buildModel({ dims: [1, 1, W], nodes: [node(op, ['x', 'w', ...(bias ? ['b'] : [])], ['y'], [attr('kernel_shape', [1, 2]), ...attrs])], initializers: inits }));
  return Array.from(referenceLogits(ir, x.subarray(0, W), 1));
};

describe('Conv dilations as the IR dilation, ConvTranspose dilations as a zero-expanded kernel', () => {
  it('Conv, kernel [1, 10], dilation 2 on [1..5]: y[j] = x[j] + 10 x[j + 2] = [31, 42, 53]', () => {
    expect(run('Conv', 5, [attr('dilations', [1, 2])])).toEqual([31, 42, 53]);
  });

  it('Conv, dilation 2, stride 2, pads [1, 1]: taps at (-1, 1), (1, 3), (3, 5) with x[-1] = x[5] = 0: [0 + 20, 2 + 40, 4 + 0]', () => {
    expect(run('Conv', 5, [attr('dilations', [1, 2]), attr('strides', [1, 2]), attr('pads', [0, 1, 0, 1])])).toEqual([20, 42, 4]);
  });

  it('Conv, dilation 3, auto_pad SAME_UPPER on 5 (effective kernel 4: total 3, pads [1, 2]): taps (j - 1, j + 2): [0 + 30, 1 + 40, 2 + 50, 3, 4]', () => {
    expect(run('Conv', 5, [attr('dilations', [1, 3]), attr('auto_pad', 'SAME_UPPER')])).toEqual([30, 41, 52, 3, 4]);
  });

  it('Conv imports its dilations as the IR node\'s dilation, with the kernel as it is; ConvTranspose with the expanded kernel', () => {
    const conv = loadOnnx(buildModel({ dims: [1, 1, 5], nodes: [node('Conv', ['x', 'w'], ['y'], [attr('kernel_shape', [1, 2]), attr('dilations', [1, 2])])], initializers: [floatTensor('w', [1, 1, 1, 2], [1, 10])] })).ir.nodes.at(-1)!;
    expect(conv).toMatchObject({ kind: 'conv2d', kernelSize: [1, 2], dilation: [1, 2], kernel: { shape: [1, 2, 1, 1] } });
    const ct = loadOnnx(buildModel({ dims: [1, 1, 4], nodes: [node('ConvTranspose', ['x', 'w'], ['y'], [attr('kernel_shape', [1, 2]), attr('dilations', [1, 2])])], initializers: [floatTensor('w', [1, 1, 1, 2], [1, 10])] })).ir.nodes.at(-1)!;
    expect(ct).toMatchObject({ kind: 'conv2d_transpose', kernelSize: [1, 3] });
  });

  it('ConvTranspose, kernel [1, 10], dilation 2 on [1..4]: y = [1, 2, 3 + 10, 4 + 20, 30, 40]', () => {
    expect(run('ConvTranspose', 4, [attr('dilations', [1, 2])])).toEqual([1, 2, 13, 24, 30, 40]);
  });

  it('ConvTranspose, dilation 2, output_padding 1 (< dilation), bias 0.5: one more cell holding the bias only', () => {
    expect(run('ConvTranspose', 4, [attr('dilations', [1, 2]), attr('output_padding', [0, 1]), attr('strides', [1, 1])], true)).toEqual([1.5, 2.5, 13.5, 24.5, 30.5, 40.5, 0.5]);
  });

  it('MaxPool dilations stay refused (a zero tap is not neutral for a max)', () => {
    expect(() => loadOnnx(buildModel({ dims: [1, 1, 5], nodes: [node('MaxPool', ['x'], ['y'], [attr('kernel_shape', [1, 2]), attr('dilations', [1, 2])])] }))).toThrow(/\(MaxPool\): attribute 'dilations' = \[1,2\] is not supported \(1 only\)/);
  });
});

describe('a 2-D graph with dilated Convs: the spec\'s definition and the three-party runner', () => {
  const g = seededPrg(95);
  const C = 3, H = 9, W = 7;
  const wts = { a: Array.from(uniform(g, 3 * 3 * 3 * 3, 0.4)), b: Array.from(uniform(g, 3 * 3 * 3, 0.5)), c: Array.from(uniform(g, 3 * 3 * 3, 0.4)) };
  /** [M, Cg, 3, 3] dilated by d as the zero-expanded [M, Cg, 2d + 1, 2d + 1]. */
  const expand = (v: number[], MC: number, d: number): number[] => {
    const e = 2 * d + 1, out = new Array<number>(MC * e * e).fill(0);
    for (let a = 0; a < MC; a++) for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) out[(a * e + ky * d) * e + kx * d] = v[(a * 3 + ky) * 3 + kx]!;
    return out;
  };
  /** Conv(d 2, pads 2: 'same') -> Relu -> depthwise Conv(group 3, d 3, SAME_UPPER) -> Conv(3 -> 1, d 2, strides 2, pads 1: explicit). */
  const graph = (expanded: boolean): { nodes: NodeMsg[]; inits: TensorMsg[] } => {
    const dil = (d: number): AttributeMsg[] => (expanded ? [] : [attr('dilations', [d, d])]);
    const k = (name: string, v: number[], M: number, Cg: number, d: number) => (expanded ? floatTensor(name, [M, Cg, 2 * d + 1, 2 * d + 1], expand(v, M * Cg, d)) : floatTensor(name, [M, Cg, 3, 3], v));
    return {
      nodes: [
        node('Conv', ['x', 'wa'], ['a'], [...dil(2), attr('pads', [2, 2, 2, 2])]),
        node('Relu', ['a'], ['r']),
        node('Conv', ['r', 'wb'], ['b'], [...dil(3), attr('group', 3), attr('auto_pad', 'SAME_UPPER')]),
        node('Conv', ['b', 'wc'], ['y'], [...dil(2), attr('strides', [2, 2]), attr('pads', [1, 1, 1, 1])]),
      ],
      inits: [k('wa', wts.a, 3, 3, 2), k('wb', wts.b, 3, 1, 3), k('wc', wts.c, 1, 3, 2)],
    };
  };
  const load = (expanded: boolean) => { const m = graph(expanded); return loadOnnx(buildModel({ dims: [C, H, W], nodes: m.nodes, initializers: m.inits })).ir; };
  const x = Float32Array.from(uniform(g, C * H * W, 2));

  it('equals the same graph with zero-expanded kernels and no dilations; the IR keeps the 3x3 kernels', () => {
    const ir = load(false), big = load(true);
    const convs = ir.nodes.filter((nd) => nd.kind === 'conv2d' || nd.kind === 'depthwise_conv2d');
    expect(convs.map((nd) => [nd.kind, (nd as { dilation?: number[] }).dilation, (nd as { kernelSize: number[] }).kernelSize])).toEqual([
      ['conv2d', [2, 2], [3, 3]], ['depthwise_conv2d', [3, 3], [3, 3]], ['conv2d', [2, 2], [3, 3]]]);
    const want = referenceLogits(big, x, 1), got = referenceLogits(ir, x, 1);
    expect(got.length).toBe(4 * 3); // (9 + 2 - 5) / 2 + 1 = 4 rows, (7 + 2 - 5) / 2 + 1 = 3 columns, one channel
    expect(Math.max(...Array.from(got, (v, i) => Math.abs(v - want[i]!)))).toBeLessThan(1e-5);
  });

  it('through the three-party runner (f = 13) against the reference', async () => {
    const ir = load(false), k = getKernels(), F = 13;
    const xs = shareFor3(encode(Float64Array.from(x), F));
    const parts = shareModel(k, ir, F);
    const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [1, ...ir.inputShape], data: xs[ctx.party]! }), { fracBits: F });
    const got = decode(reconstruct(k, r.results[0].data, r.results[1].data), F), want = referenceLogits(ir, x, 1);
    expect(got.length).toBe(want.length);
    expect(Math.max(...Array.from(got, (v, i) => Math.abs(v - want[i]!)))).toBeLessThan(0.01);
  });

  it('its Keras twin (keras-from-ir.ts) is refused at the strided dilated Conv, naming the node and both options (Keras has no such layer)', () => {
    expect(() => irToKeras(load(false), 'dil')).toThrow(/keras twin: node 'y' \(conv2d\): dilation 2x2 with strides 2x2 has no Keras equivalent/);
  });
});
