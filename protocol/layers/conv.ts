/**
 * Convolutions as bilinear maps for Beaver multiplication (matmul.ts):
 * Conv2D by im2col + GEMM (kernel [kh, kw, Cin, Cout] is already the
 * [kh*kw*Cin, Cout] matrix), DepthwiseConv2D by the kernels' depthwise
 * (one multiply-accumulate pass, no per-tap copies).
 */
import type { BilinearOp } from '../primitives/matmul.js';
import { scratchU64 } from '../ring/scratch.js';
import type { RingKernels } from '../kernels/types.js';
import type { Window2D } from './geometry.js';

export interface ConvShape { N: number; H: number; W: number; C: number; kh: number; kw: number; sh: number; sw: number; g: Window2D }

/**
 * out = im2col(x) · w (w [kh kw C, Cout]): in one call where the kernels build the im2col matrix beside the GEMM (the
 * CUDA set: on the device), else im2col into the scratch slot `slot` (kh*kw times the input, read only by the GEMM)
 * and the GEMM. Conv2D, the transposed convolution's sub-kernels and the dilated convolution's phases all go here.
 */
export function im2colGemmInto(k: RingKernels, slot: string, x: BigUint64Array, N: number, H: number, W: number, C: number, kh: number, kw: number, sh: number, sw: number, padTop: number, padLeft: number, outH: number, outW: number, w: BigUint64Array, Cout: number, out: BigUint64Array): void {
  if (k.im2colGemm) { k.im2colGemm(x, N, H, W, C, kh, kw, sh, sw, padTop, padLeft, outH, outW, w, Cout, out); return; }
  const rows = N * outH * outW, K = kh * kw * C;
  const cols = scratchU64(slot, rows * K);
  k.im2col(x, N, H, W, C, kh, kw, sh, sw, padTop, padLeft, outH, outW, cols);
  k.gemm(cols, w, rows, K, Cout, out);
}

/** Copy n 32-bit words (two per ring element): a typed-array set for long runs, a loop for short ones. */
export function copyWords(dst: Uint32Array, o: number, src: Uint32Array, i: number, n: number): void {
  if (n >= 64) dst.set(src.subarray(i, i + n), o);
  else for (let e = 0; e < n; e++) dst[o + e] = src[i + e]!;
}

export function conv2dOp(s: ConvShape, Cout: number, label = 'conv2d'): BilinearOp {
  const rows = s.N * s.g.outH * s.g.outW, K = s.kh * s.kw * s.C;
  const pointwise = s.kh === 1 && s.kw === 1 && s.sh === 1 && s.sw === 1 && s.g.padTop === 0 && s.g.padLeft === 0 && s.g.outH === s.H && s.g.outW === s.W;
  return {
    label, sizeX: s.N * s.H * s.W * s.C, sizeY: K * Cout, sizeZ: rows * Cout,
    apply(k, x, w, out = new BigUint64Array(rows * Cout)) {
      // A 1x1 window, stride 1, no padding (pointwise convolutions): the im2col matrix is x itself.
      if (pointwise) { k.gemm(x, w, rows, K, Cout, out); return out; }
      im2colGemmInto(k, 'conv.cols', x, s.N, s.H, s.W, s.C, s.kh, s.kw, s.sh, s.sw, s.g.padTop, s.g.padLeft, s.g.outH, s.g.outW, w, Cout, out);
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
