/**
 * Convolutions as bilinear maps for Beaver multiplication (matmul.ts):
 * Conv2D by im2col + GEMM (kernel [kh, kw, Cin, Cout] is already the
 * [kh*kw*Cin, Cout] matrix), DepthwiseConv2D by one elementwise product per
 * kernel tap.
 */
import type { BilinearOp } from '../primitives/matmul.js';
import { scratchU64 } from '../ring/scratch.js';
import type { Window2D } from './geometry.js';

export interface ConvShape { N: number; H: number; W: number; C: number; kh: number; kw: number; sh: number; sw: number; g: Window2D }

export function conv2dOp(s: ConvShape, Cout: number, label = 'conv2d'): BilinearOp {
  const rows = s.N * s.g.outH * s.g.outW, K = s.kh * s.kw * s.C;
  return {
    label, sizeX: s.N * s.H * s.W * s.C, sizeY: K * Cout, sizeZ: rows * Cout,
    apply(k, x, w, out = new BigUint64Array(rows * Cout)) {
      // The im2col matrix (kh*kw times the input) is read only by the GEMM below: a scratch buffer.
      const cols = scratchU64('conv.cols', rows * K);
      k.im2col(x, s.N, s.H, s.W, s.C, s.kh, s.kw, s.sh, s.sw, s.g.padTop, s.g.padLeft, s.g.outH, s.g.outW, cols);
      k.gemm(cols, w, rows, K, Cout, out);
      return out;
    },
  };
}

/** For tap (ky, kx): x at (oy*sh + ky - padTop, ox*sw + kx - padLeft) per output position and channel, 0 outside; each channel repeated dm times. */
function tap(x: BigUint64Array, s: ConvShape, ky: number, kx: number, dm: number): BigUint64Array {
  const { N, H, W, C, g } = s;
  const out = new BigUint64Array(N * g.outH * g.outW * C * dm);
  const src = new Uint32Array(x.buffer, x.byteOffset, x.length * 2), dst = new Uint32Array(out.buffer);
  let o = 0;
  for (let b = 0; b < N; b++) for (let oy = 0; oy < g.outH; oy++) {
    const y = oy * s.sh + ky - g.padTop;
    for (let ox = 0; ox < g.outW; ox++) {
      const xx = ox * s.sw + kx - g.padLeft;
      const inside = y >= 0 && y < H && xx >= 0 && xx < W;
      const base = inside ? 2 * (((b * H + y) * W + xx) * C) : 0;
      for (let c = 0; c < C; c++) for (let m = 0; m < dm; m++, o += 2) {
        if (inside) { dst[o] = src[base + 2 * c]!; dst[o + 1] = src[base + 2 * c + 1]!; }
      }
    }
  }
  return out;
}

export function depthwiseOp(s: ConvShape, dm: number, label = 'depthwise'): BilinearOp {
  const rows = s.N * s.g.outH * s.g.outW, Co = s.C * dm;
  return {
    label, sizeX: s.N * s.H * s.W * s.C, sizeY: s.kh * s.kw * Co, sizeZ: rows * Co,
    apply(k, x, w, out = new BigUint64Array(rows * Co)) {
      out.fill(0n);
      const wt = scratchU64('depthwise.wt', rows * Co);
      const prod = scratchU64('depthwise.prod', rows * Co);
      for (let ky = 0; ky < s.kh; ky++) for (let kx = 0; kx < s.kw; kx++) {
        const t = ky * s.kw + kx;
        const wRow = w.subarray(t * Co, (t + 1) * Co);
        for (let r = 0; r < rows; r++) wt.set(wRow, r * Co);
        k.mul(tap(x, s, ky, kx, dm), wt, prod);
        k.add(out, prod, out);
      }
      return out;
    },
  };
}
