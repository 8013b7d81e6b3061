/**
 * Gathering of pooling windows from an NHWC tensor of u64 values into a
 * [N*outH*outW*C, kh*kw] matrix (one row per output element), with a fill
 * value at padded positions, and the count of real (unpadded) elements per
 * row. Word copies only, no arithmetic.
 */
import type { Window2D } from './geometry.js';

export interface Gathered { rows: BigUint64Array; counts: Uint32Array }

export function gatherWindows(x: BigUint64Array, N: number, H: number, W: number, C: number, k: [number, number], s: [number, number], g: Window2D, fill: bigint): Gathered {
  const [kh, kw] = k, n = kh * kw;
  const m = N * g.outH * g.outW * C;
  const rows = new BigUint64Array(m * n);
  const counts = new Uint32Array(m);
  const fw = new Uint32Array(BigUint64Array.of(fill).buffer);
  const src = new Uint32Array(x.buffer, x.byteOffset, x.length * 2);
  const dst = new Uint32Array(rows.buffer);
  let r = 0;
  for (let b = 0; b < N; b++) for (let oy = 0; oy < g.outH; oy++) for (let ox = 0; ox < g.outW; ox++) for (let c = 0; c < C; c++, r++) {
    let t = 0, cnt = 0;
    for (let ky = 0; ky < kh; ky++) {
      const y = oy * s[0] + ky - g.padTop;
      for (let kx = 0; kx < kw; kx++, t++) {
        const xx = ox * s[1] + kx - g.padLeft;
        const o = 2 * (r * n + t);
        if (y >= 0 && y < H && xx >= 0 && xx < W) {
          const i = 2 * (((b * H + y) * W + xx) * C + c);
          dst[o] = src[i]!; dst[o + 1] = src[i + 1]!;
          cnt++;
        } else {
          dst[o] = fw[0]!; dst[o + 1] = fw[1]!;
        }
      }
    }
    counts[r] = cnt;
  }
  return { rows, counts };
}

/** Sum each row of an [m x n] matrix (mod 2^64) with the ring kernels' add. */
export function sumRows(add: (a: BigUint64Array, b: BigUint64Array, out: BigUint64Array) => void, rows: BigUint64Array, m: number, n: number): BigUint64Array {
  // Transpose-free: accumulate column t of every row, via a strided copy.
  const acc = new BigUint64Array(m);
  const col = new BigUint64Array(m);
  const src = new Uint32Array(rows.buffer, rows.byteOffset, rows.length * 2);
  const cw = new Uint32Array(col.buffer);
  for (let t = 0; t < n; t++) {
    for (let r = 0; r < m; r++) { cw[2 * r] = src[2 * (r * n + t)]!; cw[2 * r + 1] = src[2 * (r * n + t) + 1]!; }
    add(acc, col, acc);
  }
  return acc;
}
