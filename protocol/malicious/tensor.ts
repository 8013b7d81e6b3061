/**
 * Tensors of MACed replicated shares for the malicious-mode runner
 * (runner.ts): a batch-first NHWC shape and one party's MShare. Moving
 * elements (im2col, pooling windows, padding, flatten, bias tiling) is an
 * index map applied to the four share vectors (x_i, x_{i+1} and their MAC
 * shares): local, no message, and the MAC relation is kept element by
 * element. A padded position (index < 0) gets zero shares with zero MACs, a
 * valid sharing of 0.
 */
import { assert } from '../errors.js';
import type { Window2D } from '../layers/geometry.js';
import { alloc128, len128, type Vec128 } from './ring128.js';
import { allocM, type MShare, type Rep } from './rep.js';

export interface MTensor {
  /** Full shape including batch. */
  shape: number[];
  data: MShare;
}

/** out[i] = v[idx[i]] (zero where idx[i] < 0), elements of 4 words. */
export function gather128(v: Vec128, idx: Int32Array): Vec128 {
  const out = alloc128(idx.length);
  for (let i = 0; i < idx.length; i++) {
    const j = idx[i]!;
    if (j < 0) continue;
    out[4 * i] = v[4 * j]!; out[4 * i + 1] = v[4 * j + 1]!; out[4 * i + 2] = v[4 * j + 2]!; out[4 * i + 3] = v[4 * j + 3]!;
  }
  return out;
}

const mapRep = (r: Rep, f: (v: Vec128) => Vec128): Rep => ({ a: f(r.a), b: f(r.b) });

/** The index map applied to value and MAC shares, zero (a valid sharing of 0) where the index is -1: local. */
export function gatherZeroM(x: MShare, idx: Int32Array): MShare {
  return { n: idx.length, x: mapRep(x.x, (v) => gather128(v, idx)), m: mapRep(x.m, (v) => gather128(v, idx)) };
}

/** x repeated `times` times (a per-channel bias over all positions). */
export function tileM(x: MShare, times: number): MShare {
  const out = allocM(x.n * times);
  const t = (v: Vec128, o: Vec128): void => { for (let i = 0; i < times; i++) o.set(v, 4 * x.n * i); };
  t(x.x.a, out.x.a); t(x.x.b, out.x.b); t(x.m.a, out.m.a); t(x.m.b, out.m.b);
  return out;
}

/**
 * im2col as an index map: row r = (image, output y, output x), columns
 * (ky, kx, c) in the kernel's [kh, kw, Cin, Cout] order, so the rows times
 * the kernel matrix [kh kw Cin, Cout] is the convolution. -1 at padding.
 * Dilated [dh, dw]: tap (ky, kx) reads dh ky, dw kx cells from the window's
 * corner (g: the dilated window's geometry).
 */
export function im2colIndex(N: number, H: number, W: number, C: number, kh: number, kw: number, sh: number, sw: number, g: Window2D, [dh, dw]: [number, number] = [1, 1]): Int32Array {
  const K = kh * kw * C;
  const idx = new Int32Array(N * g.outH * g.outW * K).fill(-1);
  let o = 0;
  for (let b = 0; b < N; b++) for (let oy = 0; oy < g.outH; oy++) for (let ox = 0; ox < g.outW; ox++) {
    for (let ky = 0; ky < kh; ky++) {
      const y = oy * sh + ky * dh - g.padTop;
      for (let kx = 0; kx < kw; kx++) {
        const xx = ox * sw + kx * dw - g.padLeft;
        const inside = y >= 0 && y < H && xx >= 0 && xx < W;
        for (let c = 0; c < C; c++, o++) if (inside) idx[o] = ((b * H + y) * W + xx) * C + c;
      }
    }
  }
  return idx;
}

/**
 * Pooling windows as an index map: tap t of output element r (NHWC order)
 * at idx[t * m + r] (tap-major, so the taps of all outputs are contiguous
 * slices to add), -1 at padding; counts[r] = the number of real elements.
 */
export function poolIndex(N: number, H: number, W: number, C: number, k: [number, number], s: [number, number], g: Window2D): { idx: Int32Array; counts: Uint32Array; m: number } {
  const m = N * g.outH * g.outW * C, taps = k[0] * k[1];
  const idx = new Int32Array(taps * m).fill(-1);
  const counts = new Uint32Array(m);
  let r = 0;
  for (let b = 0; b < N; b++) for (let oy = 0; oy < g.outH; oy++) for (let ox = 0; ox < g.outW; ox++) for (let c = 0; c < C; c++, r++) {
    for (let ky = 0, t = 0; ky < k[0]; ky++) for (let kx = 0; kx < k[1]; kx++, t++) {
      const y = oy * s[0] + ky - g.padTop, xx = ox * s[1] + kx - g.padLeft;
      if (y >= 0 && y < H && xx >= 0 && xx < W) { idx[t * m + r] = ((b * H + y) * W + xx) * C + c; counts[r]!++; }
    }
  }
  return { idx, counts, m };
}

/** Zero padding of an NHWC tensor as an index map. */
export function padIndex(N: number, H: number, W: number, C: number, [[t, bt], [l, rt]]: [[number, number], [number, number]]): Int32Array {
  const H2 = H + t + bt, W2 = W + l + rt;
  const idx = new Int32Array(N * H2 * W2 * C).fill(-1);
  for (let b = 0; b < N; b++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < C; c++) {
    idx[((b * H2 + y + t) * W2 + x + l) * C + c] = ((b * H + y) * W + x) * C + c;
  }
  return idx;
}

export function checkSize(what: string, x: MShare, n: number): void {
  assert(x.n === n, 'E_SHAPE', `malicious.${what}: expected ${n} elements, got ${x.n}`);
}
