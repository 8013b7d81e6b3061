/**
 * Convolutions as bilinear maps for Beaver multiplication (matmul.ts):
 * Conv2D by im2col + GEMM (kernel [kh, kw, Cin, Cout] is already the
 * [kh*kw*Cin, Cout] matrix), DepthwiseConv2D by the kernels' depthwise
 * (one multiply-accumulate pass, no per-tap copies).
 */
import type { BilinearOp } from '../primitives/matmul.js';
import { scratchU64 } from '../ring/scratch.js';
import type { Window2D } from './geometry.js';

export interface ConvShape { N: number; H: number; W: number; C: number; kh: number; kw: number; sh: number; sw: number; g: Window2D }

export function conv2dOp(s: ConvShape, Cout: number, label = 'conv2d'): BilinearOp {
  const rows = s.N * s.g.outH * s.g.outW, K = s.kh * s.kw * s.C;
  const pointwise = s.kh === 1 && s.kw === 1 && s.sh === 1 && s.sw === 1 && s.g.padTop === 0 && s.g.padLeft === 0 && s.g.outH === s.H && s.g.outW === s.W;
  return {
    label, sizeX: s.N * s.H * s.W * s.C, sizeY: K * Cout, sizeZ: rows * Cout,
    apply(k, x, w, out = new BigUint64Array(rows * Cout)) {
      // A 1x1 window, stride 1, no padding (pointwise convolutions): the im2col matrix is x itself.
      if (pointwise) { k.gemm(x, w, rows, K, Cout, out); return out; }
      // Kernels that build the im2col matrix where the GEMM runs (the CUDA set: on the device) do both in one call.
      if (k.im2colGemm) { k.im2colGemm(x, s.N, s.H, s.W, s.C, s.kh, s.kw, s.sh, s.sw, s.g.padTop, s.g.padLeft, s.g.outH, s.g.outW, w, Cout, out); return out; }
      // The im2col matrix (kh*kw times the input) is read only by the GEMM below: a scratch buffer.
      const cols = scratchU64('conv.cols', rows * K);
      k.im2col(x, s.N, s.H, s.W, s.C, s.kh, s.kw, s.sh, s.sw, s.g.padTop, s.g.padLeft, s.g.outH, s.g.outW, cols);
      k.gemm(cols, w, rows, K, Cout, out);
      return out;
    },
  };
}

/** Depthwise: one pass of the ring kernels' depthwise (a multiply-accumulate per tap inside the image). */
export function depthwiseOp(s: ConvShape, dm: number, label = 'depthwise'): BilinearOp {
  const rows = s.N * s.g.outH * s.g.outW, Co = s.C * dm;
  return {
    label, sizeX: s.N * s.H * s.W * s.C, sizeY: s.kh * s.kw * Co, sizeZ: rows * Co,
    apply(k, x, w, out = new BigUint64Array(rows * Co)) {
      k.depthwise(x, w, s.N, s.H, s.W, s.C, dm, s.kh, s.kw, s.sh, s.sw, s.g.padTop, s.g.padLeft, s.g.outH, s.g.outW, out);
      return out;
    },
  };
}
