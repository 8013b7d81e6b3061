/**
 * torchvision families beyond the ONNX fixtures, as the small structures
 * that set them apart (the way torch.onnx exports them), built as graphs
 * here: each either imports and matches a plaintext NCHW reference of
 * ONNX's semantics written in this file, or is refused with
 * E_UNSUPPORTED_LAYER naming the node, its op_type and what is supported.
 * Imported graphs end in Flatten -> identity Gemm: the output is in ONNX's
 * C x H x W order, so the comparison also checks the Gemm's row order after
 * the runner's H x W x C flatten.
 *  - RegNetY / EfficientNet squeeze-excite: GAP -> 1x1 Conv -> Relu -> 1x1
 *    Conv -> Sigmoid -> Mul(gate [N, C, 1, 1], x) (gate first, as
 *    torchvision's SqueezeExcitation writes `scale * input`);
 *  - SqueezeNet Fire: squeeze 1x1 + Relu, expand 1x1 and 3x3 (pad 1) + Relu,
 *    Concat on channels;
 *  - VGG / AlexNet AdaptiveAvgPool2d((7, 7)) on a 7x7 map and on a 14x14
 *    map (exported as AveragePool k = s = 1 and k = s = 2);
 *  - refused: ShuffleNetV2's channel shuffle (Reshape to 5-D, Transpose)
 *    and chunk (Split, Slice of channels), GoogLeNet's transform_input
 *    (Gather of one input channel), ConvNeXt's LayerNorm2d (ReduceMean
 *    over channels, LayerNormalization) and GELU (Erf).
 */
import { describe, expect, it } from 'vitest';
import { referenceLogits } from '../reference.js';
import { seededPrg, uniform } from '../../protocol/seed-models.js';
import type { FloatTensor, ModelIR } from '../../protocol/ir.js';
import { loadOnnx } from './load.js';
import { attr, buildModel, floatTensor, intTensor, nchwToHwc, node } from '../testing/onnx.js';
import type { NodeMsg, TensorMsg } from './schema.js';

type T3 = { C: number; H: number; W: number; d: Float64Array };
const at = (t: T3, c: number, y: number, x: number): number => t.d[(c * t.H + y) * t.W + x]!;
const rand = (C: number, H: number, W: number, seed: number, a = 2): T3 => ({ C, H, W, d: Float64Array.from(uniform(seededPrg(seed), C * H * W, a), (v) => Math.fround(v)) });
const f32 = (n: number, seed: number, a = 0.5): Float64Array => Float64Array.from(uniform(seededPrg(seed), n, a), (v) => Math.fround(v));
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => { let e = 0; for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!)); return e; };

/** The graph `nodes` from 'x' to 'h', then Flatten and an identity Gemm to 'y'; the IR and its output on x. */
function run(x: T3, nodes: NodeMsg[], inits: TensorMsg[], out: [number, number, number]): { ir: ModelIR<FloatTensor>; y: Float32Array } {
  const K = out[0] * out[1] * out[2];
  const eye = new Float64Array(K * K);
  for (let i = 0; i < K; i++) eye[i * K + i] = 1;
  const bytes = buildModel({ dims: [x.C, x.H, x.W], nodes: [...nodes, node('Flatten', ['h'], ['f'], [attr('axis', 1)]), node('Gemm', ['f', 'eye'], ['y'], [attr('transB', 1)])], initializers: [...inits, floatTensor('eye', [K, K], eye)] });
  const { ir } = loadOnnx(bytes);
  return { ir, y: referenceLogits(ir, nchwToHwc(Float32Array.from(x.d), [x.C, x.H, x.W]), 1) };
}

/** ONNX Conv, group 1, pads [t, l, b, r] symmetric p, stride 1. */
function refConv(x: T3, w: Float64Array, M: number, k: number, b: Float64Array, p: number): T3 {
  const oh = x.H + 2 * p - k + 1, ow = x.W + 2 * p - k + 1, d = new Float64Array(M * oh * ow);
  for (let m = 0; m < M; m++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
    let acc = b[m]!;
    for (let c = 0; c < x.C; c++) for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) {
      const iy = oy + ky - p, ix = ox + kx - p;
      if (iy >= 0 && iy < x.H && ix >= 0 && ix < x.W) acc += at(x, c, iy, ix) * w[((m * x.C + c) * k + ky) * k + kx]!;
    }
    d[(m * oh + oy) * ow + ox] = acc;
  }
  return { C: M, H: oh, W: ow, d };
}
const relu = (t: T3): T3 => ({ ...t, d: t.d.map((v) => Math.max(v, 0)) });
const refConcat = (a: T3, b: T3): T3 => ({ C: a.C + b.C, H: a.H, W: a.W, d: Float64Array.from([...a.d, ...b.d]) });

describe('torchvision families: structures that import match the NCHW reference', () => {
  it('RegNetY / EfficientNet squeeze-excite: Sigmoid gate [N, C, 1, 1] first in the Mul, broadcast over H and W', () => {
    const C = 4, R = 2, x = rand(C, 5, 6, 11);
    const w1 = f32(R * C, 12), b1 = f32(R, 13, 0.1), w2 = f32(C * R, 14), b2 = f32(C, 15, 0.1);
    const { ir, y } = run(x, [
      node('GlobalAveragePool', ['x'], ['s']),
      node('Conv', ['s', 'w1', 'b1'], ['s1'], [attr('kernel_shape', [1, 1])]), node('Relu', ['s1'], ['s2']),
      node('Conv', ['s2', 'w2', 'b2'], ['s3'], [attr('kernel_shape', [1, 1])]), node('Sigmoid', ['s3'], ['gate']),
      node('Mul', ['gate', 'x'], ['h']),
    ], [floatTensor('w1', [R, C, 1, 1], w1), floatTensor('b1', [R], b1), floatTensor('w2', [C, R, 1, 1], w2), floatTensor('b2', [C], b2)], [C, 5, 6]);
    expect(ir.nodes.map((nd) => nd.kind)).toContain('multiply');
    // Reference: mean over H, W; two 1x1 convs as mat-vecs; sigmoid; gate * x per channel.
    const HW = x.H * x.W, mean = Array.from({ length: C }, (_, c) => x.d.subarray(c * HW, (c + 1) * HW).reduce((s, v) => s + v, 0) / HW);
    const h1 = Array.from({ length: R }, (_, r) => Math.max(0, b1[r]! + mean.reduce((s, v, c) => s + v * w1[r * C + c]!, 0)));
    const gate = Array.from({ length: C }, (_, c) => 1 / (1 + Math.exp(-(b2[c]! + h1.reduce((s, v, r) => s + v * w2[c * R + r]!, 0)))));
    const want = Float64Array.from(x.d, (v, i) => v * gate[Math.floor(i / HW)]!);
    expect(maxAbs(y, want)).toBeLessThan(1e-5);
  });

  it('torchvision EfficientNet: SiLU as x * Sigmoid(x) (fused into silu), stochastic depth as Identity, residual Add', () => {
    const C = 3, x = rand(C, 4, 5, 41), wc = f32(C * C, 42), bc = f32(C, 43, 0.1);
    const { ir, y } = run(x, [
      node('Conv', ['x', 'wc', 'bc'], ['c'], [attr('kernel_shape', [1, 1])]), node('Sigmoid', ['c'], ['sg']), node('Mul', ['c', 'sg'], ['si']),
      node('Identity', ['si'], ['sd']), node('Add', ['sd', 'x'], ['h']),
    ], [floatTensor('wc', [C, C, 1, 1], wc), floatTensor('bc', [C], bc)], [C, 4, 5]);
    expect(ir.nodes.map((nd) => nd.kind)).toEqual(['conv2d', 'add', 'flatten', 'dense']);
    expect(ir.nodes[0]).toMatchObject({ activation: 'silu' });
    const c = refConv(x, wc, C, 1, bc, 0);
    const want = c.d.map((v, i) => v / (1 + Math.exp(-v)) + x.d[i]!);
    expect(maxAbs(y, want)).toBeLessThan(1e-5);
  });

  it('torchvision MobileNetV3 squeeze-excite: Hardsigmoid gate first in the Mul (not fused as hardswish), HardSwish after', () => {
    const C = 2, x = rand(C, 3, 3, 51), w1 = f32(C * C, 52), b1 = f32(C, 53, 0.1);
    const { ir, y } = run(x, [
      node('GlobalAveragePool', ['x'], ['s']), node('Conv', ['s', 'w1', 'b1'], ['s1'], [attr('kernel_shape', [1, 1])]),
      node('HardSigmoid', ['s1'], ['gate'], [attr('alpha', { float: 1 / 6 }), attr('beta', { float: 0.5 })]), node('Mul', ['gate', 'x'], ['m']), node('HardSwish', ['m'], ['h']),
    ], [floatTensor('w1', [C, C, 1, 1], w1), floatTensor('b1', [C], b1)], [C, 3, 3]);
    expect(ir.nodes.map((nd) => nd.kind)).toContain('multiply');
    const mean = [0, 1].map((c) => x.d.subarray(c * 9, c * 9 + 9).reduce((s, v) => s + v, 0) / 9);
    const hs = (v: number) => Math.min(Math.max(v / 6 + 0.5, 0), 1);
    const gate = [0, 1].map((o) => hs(b1[o]! + mean.reduce((s, v, c) => s + v * w1[o * C + c]!, 0)));
    const want = Float64Array.from(x.d, (v, i) => { const m = v * gate[Math.floor(i / 9)]!; return m * hs(m); });
    expect(maxAbs(y, want)).toBeLessThan(1e-5);
  });

  it('SqueezeNet Fire module: squeeze 1x1 + Relu, expand 1x1 and 3x3 (pad 1) + Relu, Concat on channels', () => {
    const x = rand(3, 5, 4, 21), S = 2, E1 = 2, E3 = 3;
    const ws = f32(S * 3, 22), bs = f32(S, 23, 0.1), we1 = f32(E1 * S, 24), be1 = f32(E1, 25, 0.1), we3 = f32(E3 * S * 9, 26), be3 = f32(E3, 27, 0.1);
    const { ir, y } = run(x, [
      node('Conv', ['x', 'ws', 'bs'], ['q'], [attr('kernel_shape', [1, 1])]), node('Relu', ['q'], ['qr']),
      node('Conv', ['qr', 'we1', 'be1'], ['e1'], [attr('kernel_shape', [1, 1])]), node('Relu', ['e1'], ['e1r']),
      node('Conv', ['qr', 'we3', 'be3'], ['e3'], [attr('kernel_shape', [3, 3]), attr('pads', [1, 1, 1, 1])]), node('Relu', ['e3'], ['e3r']),
      node('Concat', ['e1r', 'e3r'], ['h'], [attr('axis', 1)]),
    ], [floatTensor('ws', [S, 3, 1, 1], ws), floatTensor('bs', [S], bs), floatTensor('we1', [E1, S, 1, 1], we1), floatTensor('be1', [E1], be1), floatTensor('we3', [E3, S, 3, 3], we3), floatTensor('be3', [E3], be3)], [E1 + E3, 5, 4]);
    expect(ir.nodes.map((nd) => nd.kind)).toEqual(['conv2d', 'conv2d', 'conv2d', 'concatenate', 'flatten', 'dense']);
    const q = relu(refConv(x, ws, S, 1, bs, 0));
    const want = refConcat(relu(refConv(q, we1, E1, 1, be1, 0)), relu(refConv(q, we3, E3, 3, be3, 1)));
    expect(maxAbs(y, want.d)).toBeLessThan(1e-5);
  });

  it('VGG / AlexNet AdaptiveAvgPool2d((7, 7)) as exported: AveragePool k = s = 1 on a 7x7 map (identity), k = s = 2 on 14x14', () => {
    for (const [H, k] of [[7, 1], [14, 2]] as const) {
      const x = rand(2, H, H, 31 + H);
      const { y } = run(x, [node('AveragePool', ['x'], ['h'], [attr('kernel_shape', [k, k]), attr('strides', [k, k])])], [], [2, 7, 7]);
      const d = new Float64Array(2 * 49);
      for (let c = 0; c < 2; c++) for (let oy = 0; oy < 7; oy++) for (let ox = 0; ox < 7; ox++) {
        let s = 0;
        for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) s += at(x, c, oy * k + ky, ox * k + kx);
        d[(c * 7 + oy) * 7 + ox] = s / (k * k);
      }
      expect(maxAbs(y, d), `${H}x${H}`).toBeLessThan(1e-5);
    }
  });
});

describe('torchvision families: structures the protocol does not run are refused naming the node, the op and what is supported', () => {
  const C = 4;
  const shapeT = (name: string, v: number[]) => intTensor(name, [v.length], v);
  const cases: [string, NodeMsg[], TensorMsg[], RegExp][] = [
    ['ShuffleNetV2 channel shuffle: Reshape [N, C, H, W] -> [N, g, C/g, H, W]', [node('Reshape', ['x', 's5'], ['r'], [], '/stage2/Reshape'), node('Transpose', ['r'], ['t'], [attr('perm', [0, 2, 1, 3, 4])]), node('Reshape', ['t', 's4'], ['h'])], [shapeT('s5', [1, 2, 2, 3, 3]), shapeT('s4', [1, 4, 3, 3])],
      /node #0 '\/stage2\/Reshape' \(Reshape\): attribute 'shape' \[1,2,2,3,3\] of a \[1,4,3,3\] tensor is not supported \(flattening an NCHW map, or \[N, C\] <-> \[N, C, 1, 1\]\)/],
    ['ShuffleNetV2 chunk as Split', [node('Split', ['x'], ['a', 'h'], [attr('axis', 1)], '/stage2/Split')], [],
      /node #0 '\/stage2\/Split' \(Split\): operator Split is not supported by the secure protocol \(supported: .*Concat.*Conv/],
    ['a channel Slice of an activation (chunk in older exports)', [node('Slice', ['x', 'st', 'en', 'ax'], ['h'], [], '/Slice')], [shapeT('st', [0]), shapeT('en', [2]), shapeT('ax', [1])],
      /node #0 '\/Slice' \(Slice\): operator Slice is not supported by the secure protocol/],
    ['a Transpose of activations (NCHW -> NHWC, ConvNeXt permute)', [node('Transpose', ['x'], ['h'], [attr('perm', [0, 2, 3, 1])], '/Permute')], [],
      /node #0 '\/Permute' \(Transpose\): operator Transpose is not supported by the secure protocol/],
    ["GoogLeNet transform_input: Gather of input channel 0", [node('Gather', ['x', 'i0'], ['g'], [attr('axis', 1)], '/Gather'), node('Unsqueeze', ['g', 'a1'], ['h'])], [intTensor('i0', [], [0]), shapeT('a1', [1])],
      /node #0 '\/Gather' \(Gather\): operator Gather is not supported by the secure protocol/],
    ['ConvNeXt LayerNorm2d as ReduceMean over the channels', [node('ReduceMean', ['x'], ['h'], [attr('axes', [1]), attr('keepdims', 1)], '/norm/ReduceMean')], [],
      /node #0 '\/norm\/ReduceMean' \(ReduceMean\): attribute 'axes' = \[1\] is not supported \(the spatial axes \[2, 3\] only\)/],
    ['ConvNeXt LayerNormalization (opset 17)', [node('LayerNormalization', ['x', 'lg', 'lb'], ['h'], [attr('axis', -1), attr('epsilon', { float: 1e-6 })], '/norm/LayerNormalization')], [floatTensor('lg', [3], [1, 1, 1]), floatTensor('lb', [3], [0, 0, 0])],
      /node #0 '\/norm\/LayerNormalization' \(LayerNormalization\): operator LayerNormalization is not supported/],
    ['ConvNeXt GELU as Erf', [node('Div', ['x', 'sq2'], ['d']), node('Erf', ['d'], ['h'], [], '/act/Erf')], [floatTensor('sq2', [], [Math.SQRT2])],
      /node #1 '\/act\/Erf' \(Erf\): operator Erf is not supported/],
    ['an instance norm (x - mean) / sqrt(var): the broadcast Sub maps, the Sqrt of a computed tensor does not', [node('ReduceMean', ['x'], ['m'], [attr('axes', [2, 3]), attr('keepdims', 1)]), node('Sub', ['x', 'm'], ['d'], [], '/Sub'), node('Mul', ['d', 'd'], ['q']), node('ReduceMean', ['q'], ['v'], [attr('axes', [2, 3]), attr('keepdims', 1)]), node('Sqrt', ['v'], ['s'], [], '/Sqrt'), node('Div', ['d', 's'], ['h'])], [],
      /node #4 '\/Sqrt' \(Sqrt\): operator Sqrt is not supported by the secure protocol/],
  ];
  it.each(cases)('%s', (_what, nodes, inits, msg) => {
    const bytes = buildModel({ dims: [C, 3, 3], nodes: [...nodes, node('Flatten', ['h'], ['f'], [attr('axis', 1)])], initializers: inits, output: 'f' });
    let err: unknown;
    try { loadOnnx(bytes); } catch (e) { err = e; }
    expect(err).toMatchObject({ code: 'E_UNSUPPORTED_LAYER', message: expect.stringMatching(msg) });
  });
});
