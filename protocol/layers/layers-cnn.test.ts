/**
 * The layers the medical CNNs need (DenseNet, EfficientNet, MobileNetV3,
 * U-Net): over shares against the IR toolkit's fixed-point and float64
 * twins, on random and edge inputs, and their declared costs against the
 * transport counters.
 */
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../fixed-point/fixed-point.js';
import { fixedArith, floatArith } from '../ir-kit/arith.js';
import { forwardReals } from '../ir-kit/forward.js';
import type { Activation, FloatTensor, LayerNode, ModelIR } from '../ir.js';
import { IR_FORMAT_VERSION } from '../ir.js';
import { getKernels } from '../kernels/index.js';
import { bilinearCost } from '../primitives/matmul.js';
import { addCost, type Cost } from '../primitives/cost.js';
import { reconstruct } from '../sharing/sharing.js';
import { run3, shareFor3, type Run3Options } from '../testing/run3.js';
import { seededPrg, uniform } from '../seed-models.js';
import { clampLinearCost, hardSiluCost, leakyReluCost, maximumCost, multiplyCost, preluCost, truncCostFor } from './activations-pl.js';
import { rescalingCost, secureForward } from './runner.js';
import { shareModel } from './share-model.js';
import { sizeOf } from './types.js';

const k = getKernels();
const g = seededPrg(20);
const t = (shape: number[], a = 0.4): FloatTensor => ({ shape, data: uniform(g, sizeOf(shape), a) });
const model = (inputShape: number[], nodes: LayerNode<FloatTensor>[], output = nodes.at(-1)!.name): ModelIR<FloatTensor> => ({ formatVersion: IR_FORMAT_VERSION, inputShape, nodes, output, outputActivation: 'linear' });

async function secure(m: ModelIR<FloatTensor>, x: Float64Array, N: number, f = 13, opts: Run3Options = {}) {
  const parts = shareModel(k, m, f);
  const xs = shareFor3(encode(x, f));
  const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [N, ...m.inputShape], data: xs[ctx.party] }), { fracBits: f, ...opts });
  return { got: decode(reconstruct(k, r.results[0].data, r.results[1].data), f), shape: r.results[0].shape, r };
}
/** Secure vs fixed-point twin: a few units of 2^-f per truncation on the way, more on large products. */
const tol = (v: number, f: number) => 32 / 2 ** f + 1e-4 * Math.abs(v);
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => { let e = 0; for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!)); return e; };

/** Every new layer kind as one branch; the output concatenates the flattened branches (Concatenate on axis 0 of flat vectors). */
function allNew(act: Activation[] = ['hard_sigmoid', 'hard_sigmoid_k2', 'hard_silu']): ModelIR<FloatTensor> {
  const C = 4;
  const nodes: LayerNode<FloatTensor>[] = [
    { kind: 'conv2d', name: 'c4', inputs: ['input'], filters: C, kernelSize: [3, 3], strides: [1, 1], padding: 'same', activation: 'linear', kernel: t([3, 3, C, C]), bias: t([C]) },
    { kind: 'concatenate', name: 'catC', inputs: ['input', 'c4'], axis: 2 },
    { kind: 'concatenate', name: 'catH', inputs: ['input', 'c4', 'input'], axis: 0 },
    { kind: 'subtract', name: 'sub', inputs: ['input', 'c4'] },
    { kind: 'average', name: 'avg', inputs: ['input', 'c4', 'input'] },
    { kind: 'maximum', name: 'max', inputs: ['input', 'c4'] },
    { kind: 'maximum', name: 'tie', inputs: ['input', 'input'] },
    // Squeeze-excite: GAP -> [1, 1, C] -> 1x1 conv with a hard_sigmoid gate -> multiply broadcast over [H, W, C].
    { kind: 'global_avgpool2d', name: 'gap', inputs: ['input'] },
    { kind: 'reshape', name: 'gap11', inputs: ['gap'], targetShape: [1, 1, C] },
    { kind: 'conv2d', name: 'gate', inputs: ['gap11'], filters: C, kernelSize: [1, 1], strides: [1, 1], padding: 'valid', activation: 'hard_sigmoid', kernel: t([1, 1, C, C], 1), bias: t([C]) },
    { kind: 'multiply', name: 'se', inputs: ['input', 'gate'] },
    { kind: 'multiply', name: 'sq', inputs: ['c4', 'c4'] },
    // Conv2DTranspose, 3x3 stride 2 'same' (pad [2, 1]) and 2x2 stride 2 'valid' (pad [1, 1]).
    { kind: 'conv2d_transpose', name: 'ct', inputs: ['input'], filters: 3, kernelSize: [3, 3], strides: [2, 2], pad: [[2, 1], [2, 1]], activation: 'relu', kernel: t([3, 3, C, 3]), bias: t([3]) },
    { kind: 'conv2d_transpose', name: 'ct2', inputs: ['input'], filters: 2, kernelSize: [2, 2], strides: [2, 2], pad: [[1, 1], [1, 1]], activation: 'linear', kernel: t([2, 2, C, 2]) },
    { kind: 'upsampling2d', name: 'upn', inputs: ['input'], size: [2, 3], interpolation: 'nearest' },
    { kind: 'upsampling2d', name: 'upb', inputs: ['input'], size: [2, 2], interpolation: 'bilinear' },
    { kind: 'cropping2d', name: 'crop', inputs: ['input'], cropping: [[1, 2], [0, 1]] },
    { kind: 'leaky_relu', name: 'leaky', inputs: ['input'], alpha: 0.1 },
    { kind: 'prelu', name: 'prelu', inputs: ['input'], kernel: t([C], 0.5) },
    ...act.map((a): LayerNode<FloatTensor> => ({ kind: 'activation', name: `act_${a}`, inputs: ['input'], activation: a })),
  ];
  const branches = nodes.filter((n) => !['c4', 'gap', 'gap11', 'gate'].includes(n.name)).map((n) => n.name);
  for (const b of branches) nodes.push({ kind: 'flatten', name: `fl_${b}`, inputs: [b] });
  nodes.push({ kind: 'concatenate', name: 'out', inputs: branches.map((b) => `fl_${b}`), axis: 0 });
  return model([6, 5, C], nodes);
}

describe('new layers over shares vs the IR toolkit twins', () => {
  const m = allNew();
  it('every new layer kind (concatenate, multiply with broadcasting, subtract/average/maximum, conv2d_transpose, upsampling nearest/bilinear, cropping, leaky/PReLU, hard_sigmoid (Keras 2 and 3), hard_silu): random inputs, batch 2', async () => {
    const N = 2, f = 13;
    const x = uniform(seededPrg(21), N * sizeOf(m.inputShape), 4);
    const { got, shape } = await secure(m, x, N, f);
    const fixed = forwardReals(m, x, N, fixedArith({ fracBits: f }));
    const float = forwardReals(m, x, N, floatArith);
    expect(shape).toEqual(float.shape);
    // The secure truncations land within a unit of the twin's rounding to nearest at every step; products carry those units on.
    for (let i = 0; i < got.length; i++) expect(Math.abs(got[i]! - fixed.data[i]!)).toBeLessThanOrEqual(tol(fixed.data[i]!, f));
    expect(maxAbs(got, float.data)).toBeLessThan(2e-2);
  });

  it('edge inputs: all zeros, all negative, and large magnitudes (|x| = 1000, with exact ties for Maximum)', async () => {
    const N = 3, f = 13, n = sizeOf(m.inputShape);
    const x = new Float64Array(N * n);
    for (let i = 0; i < n; i++) { x[n + i] = -0.5 - (i % 7); x[2 * n + i] = i % 2 ? 1000 : -1000; }
    const { got } = await secure(m, x, N, f, { compareBits: 64 });
    const fixed = forwardReals(m, x, N, fixedArith({ fracBits: f }));
    const float = forwardReals(m, x, N, floatArith);
    // Relative to the magnitudes involved (|x|^2 = 1e6 in the products).
    for (let i = 0; i < got.length; i++) expect(Math.abs(got[i]! - fixed.data[i]!)).toBeLessThanOrEqual(tol(fixed.data[i]!, f));
    // Against float64 the weights' rounding (2^-14 each) is multiplied by |x| = 1000: relative to the largest output.
    expect(maxAbs(got, float.data) / Math.max(...Array.from(float.data, Math.abs))).toBeLessThan(1e-3);
    // Zero input: every branch of an all-zero input is exactly the bias-driven twin (no comparison error at 0).
    const per = got.length / N;
    expect(maxAbs(got.subarray(0, per), fixed.data.subarray(0, per))).toBeLessThan(32 / 2 ** f);
  });

  it('the float twin of Conv2DTranspose equals the scatter definition (out[y s + ky - crop] += x[y] K[ky]), same and valid', () => {
    const x = uniform(seededPrg(22), 2 * 6 * 5 * 4, 1);
    const y = forwardReals(m, x, 2, floatArith);
    void y;
    for (const name of ['ct', 'ct2'] as const) {
      const node = m.nodes.find((n) => n.name === name) as Extract<LayerNode<FloatTensor>, { kind: 'conv2d_transpose' }>;
      const sub = model(m.inputShape, [node]);
      const got = forwardReals(sub, x, 2, floatArith);
      // Keras layout kernel [kh, kw, Cout, Cin] from the IR's flipped [kh, kw, Cin, Cout].
      const [kh, kw, Cin, Co] = node.kernel.shape as [number, number, number, number];
      const K = (ky: number, kx: number, o: number, i: number) => node.kernel.data[(((kh - 1 - ky) * kw + (kw - 1 - kx)) * Cin + i) * Co + o]!;
      const [H, W] = [6, 5], s = node.strides[0];
      const [oh, ow] = got.shape.slice(1, 3) as [number, number];
      const crop = node.pad[0][0] === kh - 1 ? 0 : kh - 1 - node.pad[0][0];
      const cropW = kw - 1 - node.pad[1][0];
      const want = new Float64Array(got.data.length);
      for (let n = 0; n < 2; n++) for (let yy = 0; yy < H; yy++) for (let xx = 0; xx < W; xx++) for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) {
        const oy = yy * s + ky - crop, ox = xx * s + kx - cropW;
        if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
        for (let o = 0; o < Co; o++) for (let i = 0; i < Cin; i++) want[((n * oh + oy) * ow + ox) * Co + o]! += x[((n * H + yy) * W + xx) * Cin + i]! * K(ky, kx, o, i);
      }
      const B = node.bias?.data;
      for (let i = 0; i < want.length; i++) { const v = want[i]! + (B ? B[i % Co]! : 0); want[i] = node.activation === 'relu' ? Math.max(v, 0) : v; }
      expect(maxAbs(got.data, want)).toBeLessThan(1e-12);
    }
  });

  it('bilinear UpSampling2D uses half-pixel centres (TF resize): a ramp stays a clamped ramp', () => {
    const up = model([1, 4, 1], [{ kind: 'upsampling2d', name: 'u', inputs: ['input'], size: [1, 2], interpolation: 'bilinear' }]);
    const y = forwardReals(up, Float64Array.of(0, 1, 2, 3), 1, floatArith).data;
    expect(Array.from(y)).toEqual([0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3]);
  });
});

describe('declared costs of the new layers against the transport counters', () => {
  const x = uniform(seededPrg(23), 2 * 6 * 5 * 4, 3);
  const one = (node: LayerNode<FloatTensor>, ...extra: LayerNode<FloatTensor>[]) => model([6, 5, 4], [...extra, node], node.name);
  const n = 2 * 6 * 5 * 4;
  const cases: [string, LayerNode<FloatTensor>, LayerNode<FloatTensor>[], (o: Run3Options & Required<Pick<Run3Options, 'truncation'>>) => Cost][] = [
    ['hard_sigmoid', { kind: 'activation', name: 'a', inputs: ['input'], activation: 'hard_sigmoid' }, [], (o) => clampLinearCost(ctxOf(o), n)],
    ['hard_silu', { kind: 'activation', name: 'a', inputs: ['input'], activation: 'hard_silu' }, [], (o) => hardSiluCost(ctxOf(o), n)],
    ['leaky_relu', { kind: 'leaky_relu', name: 'a', inputs: ['input'], alpha: 0.2 }, [], (o) => leakyReluCost(ctxOf(o), n)],
    ['prelu', { kind: 'prelu', name: 'a', inputs: ['input'], kernel: t([4]) }, [], (o) => preluCost(ctxOf(o), n)],
    ['maximum of 3', { kind: 'maximum', name: 'a', inputs: ['input', 'input', 'input'] }, [], (o) => maximumCost(ctxOf(o), n, 3)],
    ['multiply, [1,1,C] broadcast over [H,W,C]', { kind: 'multiply', name: 'a', inputs: ['input', 'r'] }, [{ kind: 'global_avgpool2d', name: 'p', inputs: ['input'] }, { kind: 'reshape', name: 'r', inputs: ['p'], targetShape: [1, 1, 4] }], (o) => multiplyCost(ctxOf(o), n)],
    ['bilinear upsampling (two truncations by 24 bits)', { kind: 'upsampling2d', name: 'a', inputs: ['input'], size: [2, 2], interpolation: 'bilinear' }, [], (o) => addCost(truncCostFor(ctxOf(o), 2 * 12 * 5 * 4), truncCostFor(ctxOf(o), 2 * 12 * 10 * 4))],
    ['concatenate, cropping, nearest upsampling, subtract, average (local: no messages)', { kind: 'concatenate', name: 'a', inputs: ['c', 'u', 's', 'v'], axis: 0 }, [
      { kind: 'cropping2d', name: 'c', inputs: ['input'], cropping: [[0, 0], [0, 0]] }, { kind: 'upsampling2d', name: 'u', inputs: ['input'], size: [1, 1], interpolation: 'nearest' },
      { kind: 'subtract', name: 's', inputs: ['input', 'input'] }, { kind: 'average', name: 'v', inputs: ['input', 'input'] }], () => ({ rounds: 0, bytes: 0 })],
    ['rescaling by 1 (the offset alone: no division)', { kind: 'rescaling', name: 'a', inputs: ['input'], scale: 1, offset: -0.5 }, [], (o) => rescalingCost(ctxOf(o), 1, n)],
    ['rescaling by 1/255 (a local division)', { kind: 'rescaling', name: 'a', inputs: ['input'], scale: 1 / 255, offset: 0.25 }, [], (o) => rescalingCost(ctxOf(o), 1 / 255, n)],
    ['rescaling by 0.75 (a product truncated by 24 bits)', { kind: 'rescaling', name: 'a', inputs: ['input'], scale: 0.75, offset: 0.25 }, [], (o) => rescalingCost(ctxOf(o), 0.75, n)],
    ['conv2d_transpose (a Beaver product on the undilated input: E has N*H*W*C elements)', { kind: 'conv2d_transpose', name: 'a', inputs: ['input'], filters: 3, kernelSize: [3, 3], strides: [2, 2], pad: [[2, 1], [2, 1]], activation: 'linear', kernel: t([3, 3, 4, 3]) }, [],
      (o) => addCost(bilinearCost({ sizeX: 2 * 6 * 5 * 4, sizeY: 3 * 3 * 4 * 3, sizeZ: 2 * 12 * 10 * 3 }), truncCostFor(ctxOf(o), 2 * 12 * 10 * 3))],
  ];
  function ctxOf(o: Run3Options & Required<Pick<Run3Options, 'truncation'>>) {
    return { comparison: o.comparison ?? 'direct', compareBits: o.compareBits ?? 64, compareRadix: o.compareRadix ?? 4, truncation: o.truncation } as const;
  }
  for (const [what, node, extra, cost] of cases) {
    it(`${what}: rounds and bytes as declared (local and exact truncation, 32-bit radix-4 comparisons)`, async () => {
      for (const o of [{ truncation: 'local' as const }, { truncation: 'exact' as const, compareBits: 32 as const, compareRadix: 4 as const }]) {
        const m = one(node, ...extra);
        const { r, got } = await secure(m, x, 2, 13, o);
        const c = cost(o);
        expect({ rounds: r.rounds, bytes: r.bytes }).toEqual({ rounds: c.rounds, bytes: c.bytes });
        expect(maxAbs(got, forwardReals(m, x, 2, floatArith).data)).toBeLessThan(2e-2);
      }
    });
  }
});
