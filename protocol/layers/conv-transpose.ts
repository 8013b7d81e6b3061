/**
 * Conv2DTranspose as a bilinear map for Beaver multiplication (matmul.ts,
 * SecureNN Alg. 1), by sub-pixel (phase) decomposition.
 *
 * The layer is the stride-1 'valid' convolution of the zero-dilated, padded
 * input xd (xd[t + s i] = x[i], zero elsewhere; the IR's kernel is already
 * flipped into that convolution's [kh, kw, Cin, Cout] layout). Along one
 * axis, output o = s q + r reads xd[o + ky], which is nonzero only for
 * ky = ky0(r) + s a with ky0(r) = (t - r) mod s, at input row
 * i = q + a + d_r, d_r = (r + ky0(r) - t) / s. So every phase (r, r') of the
 * output is a stride-1 convolution of the undilated x with the sub-kernel
 * K[ky0 + s a, kx0 + s b] and padding -d_r: s_h s_w smaller convolutions
 * whose multiply-accumulates skip the zeros of xd (3/4 of them at stride 2),
 * with the same sums in Z_2^64, so exactly the same result. The Beaver
 * product also opens E = X - A of the undilated input: 1/(s_h s_w) of the
 * dilated one's bytes.
 *
 * Cost: Alg. 1's (matmul.ts bilinearCost) with |X| = N H W C, |Y| = kh kw C
 * Cout and |Z| = N outH outW Cout: 1 round; layers-cnn.test.ts checks the
 * layer's declared cost against the transport counters.
 */
import type { BilinearOp } from '../primitives/matmul.js';
import { scratchU64 } from '../ring/scratch.js';
import { copyWords, im2colGemmInto } from './conv.js';

export interface ConvTransposeShape {
  N: number; H: number; W: number; C: number; kh: number; kw: number;
  /** Strides [s_h, s_w] and the dilated input's padding [[top, bottom], [left, right]], as in the IR node. */
  strides: [number, number]; pad: [[number, number], [number, number]];
}

/** One axis of the decomposition: per phase r < s, taps ky0 + s a (a < taps), rows q < count, input offset d. */
interface Phase { r: number; ky0: number; taps: number; count: number; d: number }

/** The s phases of one axis of kernel size k, stride s, padding t before; counts filled in by the caller. */
function phases(k: number, s: number, t: number): Phase[] {
  const ph: Phase[] = [];
  for (let r = 0; r < s; r++) {
    const ky0 = (((t - r) % s) + s) % s;
    ph.push({ r, ky0, taps: ky0 < k ? Math.ceil((k - ky0) / s) : 0, count: 0, d: (r + ky0 - t) / s });
  }
  return ph;
}

/** Output size of the transposed convolution along one axis: dilated size plus padding, minus k - 1. */
export function transposeOutSize(size: number, k: number, s: number, pad: [number, number]): number {
  return (size - 1) * s + 1 + pad[0] + pad[1] - k + 1;
}

export function conv2dTransposeOp(sh: ConvTransposeShape, Cout: number, label = 'conv2d_transpose'): BilinearOp {
  const { N, H, W, C, kh, kw, strides: [s0, s1], pad } = sh;
  const outH = transposeOutSize(H, kh, s0, pad[0]), outW = transposeOutSize(W, kw, s1, pad[1]);
  const rowsPh = phases(kh, s0, pad[0][0]), colsPh = phases(kw, s1, pad[1][0]);
  for (const p of rowsPh) p.count = p.r < outH ? Math.ceil((outH - p.r) / s0) : 0;
  for (const p of colsPh) p.count = p.r < outW ? Math.ceil((outW - p.r) / s1) : 0;
  const sizeZ = N * outH * outW * Cout;
  return {
    label, sizeX: N * H * W * C, sizeY: kh * kw * C * Cout, sizeZ,
    apply(k, x, w, out = new BigUint64Array(sizeZ)) {
      const ow = new Uint32Array(out.buffer, out.byteOffset, 2 * sizeZ);
      for (const pr of rowsPh) for (const pc of colsPh) {
        if (pr.count === 0 || pc.count === 0) continue;
        const rows = N * pr.count * pc.count;
        if (pr.taps === 0 || pc.taps === 0) {
          // No kernel tap lands on an input value for this phase: its outputs are 0.
          for (let b = 0; b < N; b++) for (let q = 0; q < pr.count; q++) for (let q2 = 0; q2 < pc.count; q2++) {
            const o = ((b * outH + q * s0 + pr.r) * outW + q2 * s1 + pc.r) * Cout;
            out.fill(0n, o, o + Cout);
          }
          continue;
        }
        // Sub-kernel rows (ky0 + s a, kx0 + s b, c) of the [kh*kw*C, Cout] matrix.
        const K = pr.taps * pc.taps * C;
        const wSub = scratchU64('convT.w', K * Cout);
        for (let a = 0; a < pr.taps; a++) for (let bb = 0; bb < pc.taps; bb++) {
          const src = ((pr.ky0 + s0 * a) * kw + pc.ky0 + s1 * bb) * C * Cout;
          wSub.set(w.subarray(src, src + C * Cout), (a * pc.taps + bb) * C * Cout);
        }
        const z = scratchU64('convT.z', rows * Cout);
        im2colGemmInto(k, 'convT.cols', x, N, H, W, C, pr.taps, pc.taps, 1, 1, -pr.d, -pc.d, pr.count, pc.count, wSub, Cout, z);
        // Scatter row (b, q, q2) of the phase to output row (b, s q + r, s q2 + r').
        const zw = new Uint32Array(z.buffer, z.byteOffset, 2 * rows * Cout), c2 = 2 * Cout;
        let i = 0;
        for (let b = 0; b < N; b++) for (let q = 0; q < pr.count; q++) {
          const rowBase = (b * outH + q * s0 + pr.r) * outW;
          for (let q2 = 0; q2 < pc.count; q2++, i += c2) {
            copyWords(ow, 2 * (rowBase + q2 * s1 + pc.r) * Cout, zw, i, c2);
          }
        }
      }
      return out;
    },
  };
}
