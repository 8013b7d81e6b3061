/**
 * Dilated Conv2D / DepthwiseConv2D (IR `dilation`) through the secure
 * runners in process against the plaintext reference: the semi-honest
 * runner (conv-dilated.ts) against the IR toolkit's fixed-point and float64
 * twins, the malicious runner (index maps) against the float64 twin; odd
 * sizes, d larger than the kernel, d larger than the map, 'same' and
 * 'valid', strides with dilation (ONNX), batch 2, edge inputs. The plaintext
 * forward of a dilated node equals that of its zero-expanded kernel. The
 * declared costs (Alg. 1 with |X| = N H W C and the undilated kernel) match
 * the transport counters and are below the zero-expanded kernel's.
 */
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../fixed-point/fixed-point.js';
import { fixedArith, floatArith } from '../ir-kit/arith.js';
import { forwardReals } from '../ir-kit/forward.js';
import { IR_FORMAT_VERSION, type FloatTensor, type LayerNode, type ModelIR } from '../ir.js';
import { getKernels } from '../kernels/index.js';
import { bilinearCost } from '../primitives/matmul.js';
import { addCost } from '../primitives/cost.js';
import { reconstruct } from '../sharing/sharing.js';
import { run3, shareFor3, type Run3Options } from '../testing/run3.js';
import { MAL_F, malRunCost, malVsPlain, maxAbsErr } from '../testing/mal-forward.js';
import { seededPrg, uniform } from '../seed-models.js';
import { truncCostFor } from './activations-pl.js';
import { dilatedExtent } from './geometry.js';
import { secureForward } from './runner.js';
import { shareModel } from './share-model.js';
import { sizeOf } from './types.js';
import { inferShapes } from '../ir-kit/shapes.js';

const k = getKernels();
const g = seededPrg(40);
const t = (shape: number[], a = 0.4): FloatTensor => ({ shape, data: uniform(g, sizeOf(shape), a) });
const model = (inputShape: number[], nodes: LayerNode<FloatTensor>[], output = nodes.at(-1)!.name): ModelIR<FloatTensor> => ({ formatVersion: IR_FORMAT_VERSION, inputShape, nodes, output, outputActivation: 'linear' });
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => { let e = 0; for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!)); return e; };

async function secure(m: ModelIR<FloatTensor>, x: Float64Array, N: number, f = 13, opts: Run3Options = {}) {
  const parts = shareModel(k, m, f);
  const xs = shareFor3(encode(x, f));
  const r = await run3((ctx) => secureForward(ctx, parts[ctx.party], { shape: [N, ...m.inputShape], data: xs[ctx.party] }), { fracBits: f, ...opts });
  return { got: decode(reconstruct(k, r.results[0].data, r.results[1].data), f), shape: r.results[0].shape, r };
}

/** Branches over a 7x5x3 input: every dilated case flattened and concatenated. */
function dilatedModel(): ModelIR<FloatTensor> {
  const C = 3;
  const nodes: LayerNode<FloatTensor>[] = [
    { kind: 'conv2d', name: 'd2same', inputs: ['input'], filters: 4, kernelSize: [3, 3], strides: [1, 1], padding: 'same', dilation: [2, 2], activation: 'relu', kernel: t([3, 3, C, 4]), bias: t([4]) },
    { kind: 'conv2d', name: 'd2valid', inputs: ['input'], filters: 2, kernelSize: [2, 2], strides: [1, 1], padding: 'valid', dilation: [3, 2], activation: 'linear', kernel: t([2, 2, C, 2]) },
    { kind: 'conv2d', name: 'd9same', inputs: ['input'], filters: 3, kernelSize: [3, 3], strides: [1, 1], padding: 'same', dilation: [9, 9], activation: 'linear', kernel: t([3, 3, C, 3]), bias: t([3]) },
    { kind: 'conv2d', name: 'd4same', inputs: ['d2same'], filters: 2, kernelSize: [3, 3], strides: [1, 1], padding: 'same', dilation: [4, 4], activation: 'linear', kernel: t([3, 3, 4, 2]) },
    { kind: 'depthwise_conv2d', name: 'dw3', inputs: ['input'], kernelSize: [3, 3], strides: [1, 1], padding: 'same', dilation: [3, 3], depthMultiplier: 2, activation: 'relu6', kernel: t([3, 3, C, 2]), bias: t([6]) },
    { kind: 'depthwise_conv2d', name: 'dwvalid', inputs: ['input'], kernelSize: [3, 2], strides: [1, 1], padding: 'valid', dilation: [2, 3], depthMultiplier: 1, activation: 'linear', kernel: t([3, 2, C, 1]) },
    { kind: 'conv2d', name: 's2d2', inputs: ['input'], filters: 2, kernelSize: [3, 3], strides: [2, 2], padding: 'same', dilation: [2, 2], activation: 'linear', kernel: t([3, 3, C, 2]) },
    { kind: 'depthwise_conv2d', name: 'dws2', inputs: ['input'], kernelSize: [3, 3], strides: [2, 1], padding: 'valid', dilation: [2, 2], depthMultiplier: 1, activation: 'linear', kernel: t([3, 3, C, 1]) },
  ];
  const branches = nodes.map((n) => n.name);
  for (const b of branches) nodes.push({ kind: 'flatten', name: `fl_${b}`, inputs: [b] });
  nodes.push({ kind: 'concatenate', name: 'out', inputs: branches.map((b) => `fl_${b}`), axis: 0 });
  return model([7, 5, C], nodes);
}

/** The node with its kernel zero-expanded to (k - 1) d + 1 taps and no dilation. */
function expanded(n: LayerNode<FloatTensor>): LayerNode<FloatTensor> {
  if ((n.kind !== 'conv2d' && n.kind !== 'depthwise_conv2d') || !n.dilation) return n;
  const [kh, kw] = n.kernelSize, d = n.dilation, [eh, ew] = dilatedExtent(n.kernelSize, d);
  const CM = n.kernel.shape[2]! * n.kernel.shape[3]!;
  const data = new Float64Array(eh * ew * CM);
  for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) data.set(n.kernel.data.subarray((ky * kw + kx) * CM, (ky * kw + kx + 1) * CM), (ky * d[0] * ew + kx * d[1]) * CM);
  const { dilation: _d, ...rest } = n;
  return { ...rest, kernelSize: [eh, ew], kernel: { shape: [eh, ew, n.kernel.shape[2]!, n.kernel.shape[3]!], data } } as LayerNode<FloatTensor>;
}

describe('dilated convolutions over shares vs the plaintext reference', () => {
  const m = dilatedModel(), N = 2, f = 13;

  it('the plaintext forward of a dilated node equals its zero-expanded kernel (float64 and fixed point)', () => {
    const x = uniform(seededPrg(41), N * sizeOf(m.inputShape), 3);
    const e = { ...m, nodes: m.nodes.map(expanded) };
    expect(e.nodes.some((n) => 'dilation' in n)).toBe(false);
    expect(maxAbs(forwardReals(m, x, N, floatArith).data, forwardReals(e, x, N, floatArith).data)).toBeLessThan(1e-12);
    expect(forwardReals(m, x, N, fixedArith({ fracBits: f })).data).toEqual(forwardReals(e, x, N, fixedArith({ fracBits: f })).data);
  });

  it('semi-honest runner: d 2, 3x2, 9 (> the 7x5 map), 4 after 2, depthwise d 3 (multiplier 2, relu6), valid, strides 2 with d 2; batch 2, random and edge inputs', async () => {
    const x = uniform(seededPrg(42), N * sizeOf(m.inputShape), 4);
    [0, -4, 4, 2 ** -f, -(2 ** -f), 3.999, -3.999].forEach((v, i) => { x[i * 11] = v; });
    const { got, shape } = await secure(m, x, N, f);
    const fixed = forwardReals(m, x, N, fixedArith({ fracBits: f }));
    const float = forwardReals(m, x, N, floatArith);
    expect(shape).toEqual(float.shape);
    // Local truncation: one unit of 2^-f per truncation (one per layer here, two for d4same after d2same's), relu6 exact.
    expect(maxAbs(got, fixed.data)).toBeLessThan(8 / 2 ** f);
    expect(maxAbs(got, float.data)).toBeLessThan(2e-2);
  });

  it('malicious runner: the same model, sends exactly malForwardCost', async () => {
    const F = MAL_F, ULP = 2 ** -F;
    const x = uniform(seededPrg(43), N * sizeOf(m.inputShape), 3).map((v) => Math.round(v * 2 ** F) / 2 ** F);
    x[0] = 0; x[1] = -ULP; x[2] = ULP;
    const { got, want, r } = await malVsPlain(m, N, x);
    expect(want.length).toBe(sizeOf(forwardReals(m, x, N, floatArith).shape));
    // One truncation per layer (two on the d4same path), the weights rounded to f bits: a few ulps.
    expect(maxAbsErr(got, want)).toBeLessThan(16 * ULP);
    const c = malRunCost(m, N);
    expect(r.bytes).toBe(c.bytes);
    expect(r.rounds).toBe(c.rounds);
  }, 120_000);
});

describe('shape inference of a dilated node', () => {
  const conv = (dilation: [number, number], padding: 'same' | 'valid' = 'valid'): ModelIR<FloatTensor> => model([7, 5, 1], [{ kind: 'conv2d', name: 'c', inputs: ['input'], filters: 1, kernelSize: [3, 2], strides: [1, 1], padding, dilation, activation: 'linear', kernel: t([3, 2, 1, 1]) }]);
  it('the window spans (k - 1) d + 1; a dilation that is not two positive integers, or a window past a valid input, is E_SHAPE naming the layer', () => {
    expect(inferShapes(conv([3, 4])).get('c')).toEqual([1, 1, 1]);
    expect(inferShapes(conv([9, 9], 'same')).get('c')).toEqual([7, 5, 1]);
    expect(() => inferShapes(conv([0, 1]))).toThrow(expect.objectContaining({ code: 'E_SHAPE', message: expect.stringMatching(/^layer 'c' \(conv2d\): dilation \[0,1\] must be two positive integers/) }));
    expect(() => inferShapes(conv([1.5, 1]))).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
    expect(() => inferShapes(conv([4, 1]))).toThrow(expect.objectContaining({ code: 'E_SHAPE', message: expect.stringMatching(/window 9x2 \(the 3x2 kernel dilated by 4x1\) does not fit the 7x5 input/) }));
  });
});

describe('declared cost of a dilated layer against the transport counters', () => {
  const H = 9, W = 8, C = 3, N = 2, n = N * H * W;
  const x = uniform(seededPrg(44), n * C, 3);
  const cases: [string, LayerNode<FloatTensor>, number, number][] = [
    ['conv2d 3x3 d 4 same, 5 filters', { kind: 'conv2d', name: 'a', inputs: ['input'], filters: 5, kernelSize: [3, 3], strides: [1, 1], padding: 'same', dilation: [4, 4], activation: 'linear', kernel: t([3, 3, C, 5]), bias: t([5]) }, 3 * 3 * C * 5, n * 5],
    ['depthwise 3x3 d 12 (> the map) same, multiplier 2', { kind: 'depthwise_conv2d', name: 'a', inputs: ['input'], kernelSize: [3, 3], strides: [1, 1], padding: 'same', dilation: [12, 12], depthMultiplier: 2, activation: 'linear', kernel: t([3, 3, C, 2]) }, 3 * 3 * C * 2, n * C * 2],
  ];
  for (const [what, node, sizeY, sizeZ] of cases) {
    it(`${what}: Alg. 1 on the input as is and the undilated kernel, plus the truncation (local and exact)`, async () => {
      const m = model([H, W, C], [node]);
      const big = model([H, W, C], [expanded(node)]);
      for (const o of [{ truncation: 'local' as const }, { truncation: 'exact' as const, compareBits: 32 as const, compareRadix: 4 as const }]) {
        const { r, got } = await secure(m, x, N, 13, o);
        const ctx = { comparison: 'direct', compareBits: o.compareBits ?? 64, compareRadix: o.compareRadix ?? 4, truncation: o.truncation } as const;
        const c = addCost(bilinearCost({ sizeX: N * H * W * C, sizeY, sizeZ }), truncCostFor(ctx, sizeZ));
        expect({ rounds: r.rounds, bytes: r.bytes }).toEqual({ rounds: c.rounds, bytes: c.bytes });
        expect(maxAbs(got, forwardReals(m, x, N, floatArith).data)).toBeLessThan(2e-2);
        // The zero-expanded kernel sends 16 bytes per weight more (its F), for the same outputs.
        const e = await secure(big, x, N, 13, o);
        expect(e.r.bytes - r.bytes).toBe(16 * (big.nodes[0]! as { kernel: FloatTensor }).kernel.data.length - 16 * sizeY);
      }
    });
  }
});
