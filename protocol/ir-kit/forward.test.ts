/**
 * The IR toolkit's Conv2D (forward.ts conv: nonzero inputs gathered per output
 * pixel, dot products with the transposed kernel, four output channels at a
 * time) against the accumulation it replaced, written out here: per output
 * pixel, acc[o] += x * K[ky, kx, c, o] over (ky, kx, c) in order, padding and
 * zero inputs skipped. Same terms in the same order, so float64 results equal
 * bit for bit (the plaintext reference's outputs did not move), and the
 * fixed-point twin's truncations see the same sums.
 */
import { describe, expect, it } from 'vitest';
import { window2d } from '../layers/geometry.js';
import { IR_FORMAT_VERSION, type FloatTensor, type LayerNode, type ModelIR, type Padding } from '../ir.js';
import { seededPrg, uniform } from '../seed-models.js';
import { fixedArith, floatArith, kerasFloatArith, type Arith } from './arith.js';
import { forwardIR } from './forward.js';

const g = seededPrg(31);

/** Reals in [-a, a]; about `zeros` of them exactly 0 (the inputs after a ReLU). */
function values(n: number, a: number, zeros = 0): Float64Array {
  const v = uniform(g, n, a);
  const u = uniform(g, n, 0.5);
  for (let i = 0; i < n; i++) if (u[i]! + 0.5 < zeros) v[i] = 0;
  return v;
}

type Conv = Extract<LayerNode<FloatTensor>, { kind: 'conv2d' }>;

/** The per-output-channel accumulation (the loop forward.ts ran before), then the arithmetic's product, bias and ReLU. */
function accumulated(node: Conv, x: Float64Array, shape: [number, number, number, number], ar: Arith): Float64Array {
  const [N, H, W, C] = shape;
  const [kh, kw] = node.kernelSize, [sh, sw] = node.strides, Co = node.filters;
  const geo = window2d(H, W, node.kernelSize, node.strides, node.padding);
  const K = ar.weights(node.kernel), B = node.bias ? ar.weights(node.bias) : undefined;
  const xs = Float64Array.from(x, (v) => ar.encode(v));
  const out = new Float64Array(N * geo.outH * geo.outW * Co);
  const acc = new Float64Array(Co);
  for (let n = 0; n < N; n++) for (let oy = 0; oy < geo.outH; oy++) for (let ox = 0; ox < geo.outW; ox++) {
    acc.fill(0);
    for (let ky = 0; ky < kh; ky++) {
      const iy = oy * sh + ky - geo.padTop;
      if (iy < 0 || iy >= H) continue;
      for (let kx = 0; kx < kw; kx++) {
        const ix = ox * sw + kx - geo.padLeft;
        if (ix < 0 || ix >= W) continue;
        for (let c = 0; c < C; c++) {
          const xv = xs[((n * H + iy) * W + ix) * C + c]!;
          if (xv === 0) continue;
          for (let o = 0; o < Co; o++) acc[o]! += xv * K[((ky * kw + kx) * C + c) * Co + o]!;
        }
      }
    }
    const oo = ((n * geo.outH + oy) * geo.outW + ox) * Co;
    for (let o = 0; o < Co; o++) { const v = ar.product(acc[o]!) + (B ? B[o]! : 0); out[oo + o] = node.activation === 'relu' && !(v > 0) ? 0 : v; }
  }
  return out;
}

/** Equal as float64 values, bit for bit (Object.is: +0 and -0 differ, NaN equals NaN). */
function firstDifference(a: Float64Array, b: Float64Array): number {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return a.length === b.length ? -1 : a.length;
}

const CASES: { what: string; in: [number, number, number]; k: [number, number]; s: [number, number]; p: Padding; Co: number }[] = [
  { what: '3x3 same, stride 1, 3 -> 8 channels', in: [9, 7, 3], k: [3, 3], s: [1, 1], p: 'same', Co: 8 },
  { what: '3x3 valid, stride 1, 4 -> 6 channels (a remainder after the groups of four)', in: [8, 8, 4], k: [3, 3], s: [1, 1], p: 'valid', Co: 6 },
  { what: '4x4 same, stride 2 (TF asymmetric padding), 1 -> 5 channels', in: [11, 10, 1], k: [4, 4], s: [2, 2], p: 'same', Co: 5 },
  { what: '8x8 same, stride 2, 1 -> 16 channels (the seed CNN\'s first layer)', in: [15, 12, 1], k: [8, 8], s: [2, 2], p: 'same', Co: 16 },
  { what: '1x1 valid, 16 -> 3 channels', in: [5, 4, 16], k: [1, 1], s: [1, 1], p: 'valid', Co: 3 },
  { what: '2x3 valid, stride 1x2, 2 -> 4 channels', in: [7, 9, 2], k: [2, 3], s: [1, 2], p: 'valid', Co: 4 },
];

describe('IR toolkit Conv2D: dot products over the gathered nonzero inputs = the per-channel accumulation, bit for bit', () => {
  for (const c of CASES) {
    it(`${c.what}: float64, Keras float32 weights and fixed point (f = 13 and 16), dense and ReLU-sparse inputs, batch 2`, () => {
      const [H, W, C] = c.in;
      for (const zeros of [0, 0.5, 1]) {
        const node: Conv = {
          kind: 'conv2d', name: 'conv', inputs: ['input'], filters: c.Co, kernelSize: c.k, strides: c.s, padding: c.p, activation: zeros === 0.5 ? 'relu' : 'linear',
          kernel: { shape: [...c.k, C, c.Co], data: values(c.k[0] * c.k[1] * C * c.Co, 0.7, 0.1) }, bias: { shape: [c.Co], data: values(c.Co, 0.2) },
        };
        const m: ModelIR<FloatTensor> = { formatVersion: IR_FORMAT_VERSION, inputShape: [H, W, C], nodes: [node], output: 'conv', outputActivation: 'linear' };
        const x = values(2 * H * W * C, 3, zeros);
        for (const ar of [floatArith, kerasFloatArith(), fixedArith({ fracBits: 13 }), fixedArith({ fracBits: 16, rounding: 'floor' })]) {
          const got = forwardIR(m, x, 2, ar);
          const want = accumulated(node, x, [2, H, W, C], ar);
          expect(got.data).toHaveLength(want.length);
          expect(firstDifference(got.data, want), `${ar.kind}${ar.fracBits ? ` f = ${ar.fracBits}` : ''}, ${zeros * 100}% zero inputs`).toBe(-1);
        }
      }
    });
  }

  it('a kernel used by several layers and runs keeps one transposed copy per kernel array; a new kernel array gets its own', () => {
    const kernel = { shape: [3, 3, 2, 4], data: values(72, 0.5) };
    const conv = (name: string, input: string): Conv => ({ kind: 'conv2d', name, inputs: [input], filters: 4, kernelSize: [3, 3], strides: [1, 1], padding: 'same', activation: 'linear', kernel });
    const m: ModelIR<FloatTensor> = { formatVersion: IR_FORMAT_VERSION, inputShape: [5, 5, 2], nodes: [conv('a', 'input'), { ...conv('b', 'input'), kernel: { shape: [3, 3, 2, 4], data: values(72, 0.5) } }], output: 'b', outputActivation: 'linear' };
    const x = values(50, 1);
    const first = forwardIR({ ...m, output: 'a' }, x, 1, floatArith).data;
    const again = forwardIR({ ...m, output: 'a' }, x, 1, floatArith).data;
    expect(firstDifference(first, again)).toBe(-1);
    // Layer b's own kernel: its output is its own accumulation, not a's.
    const b = forwardIR(m, x, 1, floatArith).data;
    expect(firstDifference(b, accumulated(m.nodes[1] as Conv, x, [1, 5, 5, 2], floatArith))).toBe(-1);
    expect(firstDifference(b, first)).not.toBe(-1);
  });
});
