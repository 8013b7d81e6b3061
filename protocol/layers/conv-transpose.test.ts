/**
 * Conv2DTranspose by sub-pixel decomposition (conv-transpose.ts) against its
 * definition, the stride-1 'valid' convolution of the zero-dilated, padded
 * input: bit-identical in Z_2^64 on random and edge (all 2^64 - 1) operands,
 * with the native and the TS kernels, for strides 1 to 3, asymmetric
 * padding, kernels smaller than the stride (phases with no tap) and batch 2.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dilatePadIndex, gather } from '../ir-kit/layout.js';
import { getKernels } from '../kernels/index.js';
import { tsKernels } from '../kernels/ts.js';
import type { RingKernels } from '../kernels/types.js';
import { conv2dOp } from './conv.js';
import { conv2dTransposeOp, transposeOutSize, type ConvTransposeShape } from './conv-transpose.js';
import { window2d } from './geometry.js';

const rand = (n: number) => new BigUint64Array(randomBytes(8 * n).buffer, 0, n);

/** The definition: gather into the dilated, padded input, then conv2dOp stride 1 'valid'. */
function viaDilation(k: RingKernels, s: ConvTransposeShape, Cout: number, x: BigUint64Array, w: BigUint64Array): BigUint64Array {
  const { N, H, W, C, kh, kw, strides, pad } = s;
  const xd = gather(x, dilatePadIndex([H, W, C], strides, pad, N));
  const Hd = (H - 1) * strides[0] + 1 + pad[0][0] + pad[0][1], Wd = (W - 1) * strides[1] + 1 + pad[1][0] + pad[1][1];
  const g = window2d(Hd, Wd, [kh, kw], [1, 1], 'valid');
  return conv2dOp({ N, H: Hd, W: Wd, C, kh, kw, sh: 1, sw: 1, g }, Cout).apply(k, xd, w);
}

const cases: [string, ConvTransposeShape, number][] = [
  ["3x3 stride 2 'same' (pad [2, 1])", { N: 2, H: 6, W: 5, C: 4, kh: 3, kw: 3, strides: [2, 2], pad: [[2, 1], [2, 1]] }, 3],
  ["2x2 stride 2 'valid' (U-Net's up-convolutions, pad [1, 1])", { N: 2, H: 5, W: 7, C: 3, kh: 2, kw: 2, strides: [2, 2], pad: [[1, 1], [1, 1]] }, 5],
  ['3x3 stride 1 (one phase)', { N: 1, H: 5, W: 4, C: 2, kh: 3, kw: 3, strides: [1, 1], pad: [[1, 1], [2, 0]] }, 3],
  ['1x1 stride 2: kernel smaller than the stride, phases without a tap give 0', { N: 2, H: 3, W: 4, C: 3, kh: 1, kw: 1, strides: [2, 2], pad: [[0, 1], [0, 1]] }, 2],
  ["2x1 kernel, strides [3, 2] 'valid' as Keras sizes it (in * stride rows: pad [1, 2], [0, 1])", { N: 2, H: 3, W: 4, C: 2, kh: 2, kw: 1, strides: [3, 2], pad: [[1, 2], [0, 1]] }, 3],
  ['4x3 kernel, strides [3, 2], uneven padding', { N: 1, H: 4, W: 5, C: 3, kh: 4, kw: 3, strides: [3, 2], pad: [[3, 2], [1, 0]] }, 4],
  ['5x5 stride 2 with output padding (pad [4, 4])', { N: 1, H: 3, W: 3, C: 2, kh: 5, kw: 5, strides: [2, 2], pad: [[4, 4], [4, 4]] }, 2],
  ['no padding: output smaller than the dilated input', { N: 1, H: 6, W: 6, C: 2, kh: 3, kw: 3, strides: [2, 2], pad: [[0, 0], [0, 0]] }, 64],
];

describe('conv2dTransposeOp (sub-pixel decomposition) equals the convolution of the dilated input', () => {
  for (const [kname, k] of [['native or default', getKernels()], ['ts', tsKernels]] as const) {
    for (const [what, s, Cout] of cases) {
      it(`${what} [${kname} kernels]: random and all-ones operands`, () => {
        const op = conv2dTransposeOp(s, Cout);
        expect(op.sizeX).toBe(s.N * s.H * s.W * s.C);
        expect(op.sizeZ).toBe(s.N * transposeOutSize(s.H, s.kh, s.strides[0], s.pad[0]) * transposeOutSize(s.W, s.kw, s.strides[1], s.pad[1]) * Cout);
        for (const fill of [null, 0xffffffffffffffffn]) {
          const x = fill === null ? rand(op.sizeX) : new BigUint64Array(op.sizeX).fill(fill);
          const w = fill === null ? rand(op.sizeY) : new BigUint64Array(op.sizeY).fill(fill);
          const want = viaDilation(k, s, Cout, x, w);
          expect(want.length).toBe(op.sizeZ);
          // A dirty `out` buffer: every element must be written.
          const got = op.apply(k, x, w, rand(op.sizeZ));
          expect(got).toEqual(want);
        }
      });
    }
  }
});
