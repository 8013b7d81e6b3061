/**
 * dilatedConvOp (conv-dilated.ts: SpaceToBatch, the undilated kernels,
 * BatchToSpace) against its definition: the convolution with the
 * zero-expanded kernel of (k - 1) d + 1 taps per axis through conv2dOp /
 * depthwiseOp and the BigInt reference kernels, exact in Z_2^64 on random
 * operands and on all 2^64 - 1. Shapes: odd sizes, d larger than the kernel,
 * d larger than the map, 'same' and 'valid', strides with dilation, batch 2,
 * unequal d_h and d_w. Also: the GEMM rows are exactly the outputs (no phase
 * computed twice), and the op's sizes are the undilated layer's.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { getKernels } from '../kernels/index.js';
import { referenceKernels as ref } from '../kernels/reference.js';
import { tsKernels } from '../kernels/ts.js';
import type { RingKernels } from '../kernels/types.js';
import { conv2dOp, depthwiseOp } from './conv.js';
import { dilatedAxis, dilatedConvOp } from './conv-dilated.js';
import { dilatedExtent, window2d } from './geometry.js';
import type { Padding } from '../ir.js';

const rand = (n: number) => new BigUint64Array(randomBytes(8 * n).buffer, 0, n);

interface Case { N: number; H: number; W: number; C: number; kh: number; kw: number; s: [number, number]; d: [number, number]; p: Padding }

/** The zero-expanded kernel [eh, ew, C, M] of a [kh, kw, C, M] kernel dilated by d. */
function expand(w: BigUint64Array, kh: number, kw: number, CM: number, d: [number, number]): BigUint64Array {
  const [eh, ew] = dilatedExtent([kh, kw], d);
  const out = new BigUint64Array(eh * ew * CM);
  for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) out.set(w.subarray((ky * kw + kx) * CM, (ky * kw + kx + 1) * CM), (ky * d[0] * ew + kx * d[1]) * CM);
  return out;
}

/** Counts the rows the GEMM / depthwise kernels compute (the multiply-adds are rows x K x Cout). */
function counting(k: RingKernels): { k: RingKernels; rows: () => number } {
  let rows = 0;
  const wrapped: RingKernels = { ...k,
    gemm: (A, B, m, kk, n, out) => { rows += m; k.gemm(A, B, m, kk, n, out); },
    depthwise: (x, w, N, H, W, C, dm, kh, kw, sh, sw, pt, pl, oh, ow, out) => { rows += N * oh * ow; k.depthwise(x, w, N, H, W, C, dm, kh, kw, sh, sw, pt, pl, oh, ow, out); } };
  return { k: wrapped, rows: () => rows };
}

const cases: [string, Case][] = [
  ['3x3 d 2 same, odd 7x5, batch 2', { N: 2, H: 7, W: 5, C: 3, kh: 3, kw: 3, s: [1, 1], d: [2, 2], p: 'same' }],
  ['3x3 d 2 valid 9x8', { N: 1, H: 9, W: 8, C: 2, kh: 3, kw: 3, s: [1, 1], d: [2, 2], p: 'valid' }],
  ['3x3 d 5 (d > kernel) same 11x9', { N: 1, H: 11, W: 9, C: 2, kh: 3, kw: 3, s: [1, 1], d: [5, 5], p: 'same' }],
  ['3x3 d 12 (d > the map) same 5x6, batch 2', { N: 2, H: 5, W: 6, C: 3, kh: 3, kw: 3, s: [1, 1], d: [12, 12], p: 'same' }],
  ['3x3 d (3, 1) same 6x7', { N: 1, H: 6, W: 7, C: 2, kh: 3, kw: 3, s: [1, 1], d: [3, 1], p: 'same' }],
  ['2x3 d (2, 3) valid 7x9', { N: 1, H: 7, W: 9, C: 2, kh: 2, kw: 3, s: [1, 1], d: [2, 3], p: 'valid' }],
  ['3x3 d 2 stride 2 same 9x7 (ONNX allows both)', { N: 2, H: 9, W: 7, C: 2, kh: 3, kw: 3, s: [2, 2], d: [2, 2], p: 'same' }],
  ['3x3 d 2 stride 3 valid 11x10 (gcd 1)', { N: 1, H: 11, W: 10, C: 2, kh: 3, kw: 3, s: [3, 3], d: [2, 2], p: 'valid' }],
  ['3x3 d 4 stride 2 same 10x9 (gcd 2)', { N: 1, H: 10, W: 9, C: 2, kh: 3, kw: 3, s: [2, 2], d: [4, 4], p: 'same' }],
  ['1x1 d 3 same (the centre alone)', { N: 1, H: 4, W: 5, C: 2, kh: 1, kw: 1, s: [1, 1], d: [3, 3], p: 'same' }],
];

describe('dilatedConvOp equals the convolution with the zero-expanded kernel', () => {
  for (const [kname, kern] of [['native or default', getKernels()], ['ts', tsKernels]] as const) {
    for (const [what, c] of cases) {
      const ext = dilatedExtent([c.kh, c.kw], c.d);
      const g = window2d(c.H, c.W, ext, c.s, c.p);
      const big = { N: c.N, H: c.H, W: c.W, C: c.C, kh: ext[0], kw: ext[1], sh: c.s[0], sw: c.s[1], g };
      it(`conv2d ${what} [${kname} kernels]`, () => {
        const Cout = 4;
        const op = dilatedConvOp({ N: c.N, H: c.H, W: c.W, C: c.C, kh: c.kh, kw: c.kw, strides: c.s, dilation: c.d, g }, { filters: Cout });
        expect([op.sizeX, op.sizeY, op.sizeZ]).toEqual([c.N * c.H * c.W * c.C, c.kh * c.kw * c.C * Cout, c.N * g.outH * g.outW * Cout]);
        for (const fill of [null, 0xffffffffffffffffn]) {
          const x = fill === null ? rand(op.sizeX) : new BigUint64Array(op.sizeX).fill(fill);
          const w = fill === null ? rand(op.sizeY) : new BigUint64Array(op.sizeY).fill(fill);
          const want = conv2dOp(big, Cout).apply(ref, x, expand(w, c.kh, c.kw, c.C * Cout, c.d));
          const ck = counting(kern);
          expect(op.apply(ck.k, x, w, rand(op.sizeZ))).toEqual(want);
          expect(ck.rows()).toBe(c.N * g.outH * g.outW);
        }
      });
      it(`depthwise (multiplier 2) ${what} [${kname} kernels]`, () => {
        const dm = 2;
        const op = dilatedConvOp({ N: c.N, H: c.H, W: c.W, C: c.C, kh: c.kh, kw: c.kw, strides: c.s, dilation: c.d, g }, { dm });
        const x = rand(op.sizeX), w = rand(op.sizeY);
        const want = depthwiseOp(big, dm).apply(ref, x, expand(w, c.kh, c.kw, c.C * dm, c.d));
        const ck = counting(kern);
        expect(op.apply(ck.k, x, w, rand(op.sizeZ))).toEqual(want);
        expect(ck.rows()).toBe(c.N * g.outH * g.outW);
      });
    }
  }

  it('dilatedAxis: every output in exactly one phase, at most a few groups per axis', () => {
    for (const [S, s, d, p] of [[32, 1, 6, 'same'], [32, 1, 12, 'same'], [32, 1, 18, 'same'], [65, 1, 36, 'same'], [17, 2, 3, 'valid'], [9, 2, 4, 'same']] as const) {
      const w = window2d(S, S, dilatedExtent([3, 3], [d, d]), [s, s], p);
      const ax = dilatedAxis(S, s, d, w.padTop, w.outH);
      const outs = ax.groups.flatMap((gr) => gr.outs).sort((a, b) => a - b);
      expect(outs).toEqual(Array.from({ length: w.outH }, (_, i) => i));
      expect(ax.groups.length).toBeLessThanOrEqual(4);
    }
  });
});
