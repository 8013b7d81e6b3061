/**
 * The convolution ops of conv.ts against their definitions with the BigInt
 * reference kernels: Conv2D's pointwise shortcut (1x1, stride 1, no
 * padding: the GEMM reads x as the im2col matrix) and the general im2col
 * path, DepthwiseConv2D through the kernels' depthwise; random operands and
 * all 2^64 - 1, exact in Z_2^64.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { getKernels } from '../kernels/index.js';
import { referenceKernels as ref } from '../kernels/reference.js';
import { tsKernels } from '../kernels/ts.js';
import { conv2dOp, depthwiseOp, type ConvShape } from './conv.js';
import { window2d } from './geometry.js';
import type { Padding } from '../ir.js';

const rand = (n: number) => new BigUint64Array(randomBytes(8 * n).buffer, 0, n);
const shape = (N: number, H: number, W: number, C: number, kh: number, kw: number, sh: number, sw: number, p: Padding): ConvShape =>
  ({ N, H, W, C, kh, kw, sh, sw, g: window2d(H, W, [kh, kw], [sh, sw], p) });

/** im2col + GEMM with the reference kernels. */
function conv2dRef(s: ConvShape, Cout: number, x: BigUint64Array, w: BigUint64Array): BigUint64Array {
  const rows = s.N * s.g.outH * s.g.outW, K = s.kh * s.kw * s.C;
  const cols = new BigUint64Array(rows * K), out = new BigUint64Array(rows * Cout);
  ref.im2col(x, s.N, s.H, s.W, s.C, s.kh, s.kw, s.sh, s.sw, s.g.padTop, s.g.padLeft, s.g.outH, s.g.outW, cols);
  ref.gemm(cols, w, rows, K, Cout, out);
  return out;
}

describe('conv2dOp and depthwiseOp equal their definitions (reference kernels)', () => {
  const convs: [string, ConvShape, number][] = [
    ['1x1 stride 1 valid (pointwise shortcut)', shape(2, 5, 4, 6, 1, 1, 1, 1, 'valid'), 7],
    ['1x1 stride 1 same (pointwise shortcut)', shape(1, 3, 3, 3, 1, 1, 1, 1, 'same'), 2],
    ['1x1 stride 2 (im2col)', shape(1, 5, 5, 3, 1, 1, 2, 2, 'same'), 4],
    ['3x3 stride 1 same (im2col)', shape(2, 5, 4, 3, 3, 3, 1, 1, 'same'), 4],
  ];
  for (const [kname, k] of [['native or default', getKernels()], ['ts', tsKernels]] as const) {
    for (const [what, s, Cout] of convs) {
      it(`conv2d ${what} [${kname} kernels]`, () => {
        const op = conv2dOp(s, Cout);
        for (const fill of [null, 0xffffffffffffffffn]) {
          const x = fill === null ? rand(op.sizeX) : new BigUint64Array(op.sizeX).fill(fill);
          const w = fill === null ? rand(op.sizeY) : new BigUint64Array(op.sizeY).fill(fill);
          expect(op.apply(k, x, w, rand(op.sizeZ))).toEqual(conv2dRef(s, Cout, x, w));
        }
      });
    }
    for (const [what, s, dm] of [['3x3 stride 2 same', shape(2, 7, 6, 5, 3, 3, 2, 2, 'same'), 1], ['5x5 stride 1 same, multiplier 2', shape(1, 6, 5, 3, 5, 5, 1, 1, 'same'), 2]] as const) {
      it(`depthwise ${what} [${kname} kernels]`, () => {
        const op = depthwiseOp(s, dm);
        const x = rand(op.sizeX), w = rand(op.sizeY);
        const want = new BigUint64Array(op.sizeZ);
        ref.depthwise(x, w, s.N, s.H, s.W, s.C, dm, s.kh, s.kw, s.sh, s.sw, s.g.padTop, s.g.padLeft, s.g.outH, s.g.outW, want);
        expect(op.apply(k, x, w, rand(op.sizeZ))).toEqual(want);
      });
    }
  }
});
