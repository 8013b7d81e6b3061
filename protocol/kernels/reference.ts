/**
 * BigInt reference kernels: the obvious code, used only as a test oracle for
 * the native and TS kernels. Far too slow for real use (one BigInt per element).
 */
import { MpcError } from '../errors.js';
import { narrowViaWide } from './narrow.js';
import { radix4Kernels } from './radix4.js';
import type { RingKernels } from './types.js';

const M64 = (1n << 64n) - 1n;
const L = 1n << 64n;
const ODD = L - 1n;
const p = 67;
const modp = (v: number): number => ((v % p) + p) % p;

const wide = {
  name: 'reference',
  add(a, b, out) { for (let i = 0; i < a.length; i++) out[i] = (a[i]! + b[i]!) & M64; },
  sub(a, b, out) { for (let i = 0; i < a.length; i++) out[i] = (a[i]! - b[i]!) & M64; },
  mul(a, b, out) { for (let i = 0; i < a.length; i++) out[i] = (a[i]! * b[i]!) & M64; },
  mulScalar(a, s, out) { for (let i = 0; i < a.length; i++) out[i] = (a[i]! * s) & M64; },
  addScalar(a, s, out) { for (let i = 0; i < a.length; i++) out[i] = (a[i]! + s) & M64; },
  divShare(a, d, party, out) {
    for (let i = 0; i < a.length; i++) {
      const di = BigInt(d.length === 1 ? d[0]! : d[i]!);
      if (di === 0n) throw new MpcError('E_BAD_ARGUMENT', 'divShare: divisor 0');
      out[i] = party === 0 ? a[i]! / di : (L - (L - a[i]!) / di) & M64;
    }
  },
  sar(a, f, out) { for (let i = 0; i < a.length; i++) out[i] = BigInt.asUintN(64, BigInt.asIntN(64, a[i]!) >> BigInt(f)); },
  wrap(a, b, out) { for (let i = 0; i < a.length; i++) out[i] = a[i]! + b[i]! >= L ? 1 : 0; },
  addOdd(a, b, out) { for (let i = 0; i < a.length; i++) out[i] = (a[i]! + b[i]!) % ODD; },
  subOdd(a, b, out) { for (let i = 0; i < a.length; i++) out[i] = (((a[i]! - b[i]!) % ODD) + ODD) % ODD; },
  reduceOdd(a, out) { for (let i = 0; i < a.length; i++) out[i] = a[i]! % ODD; },
  gemm(A, B, m, k, n, out) {
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let s = 0n;
      for (let t = 0; t < k; t++) s += A[i * k + t]! * B[t * n + j]!;
      out[i * n + j] = s & M64;
    }
  },
  im2col(x, N, H, W, C, kh, kw, sh, sw, padTop, padLeft, outH, outW, out) {
    let o = 0;
    for (let n = 0; n < N; n++) for (let oy = 0; oy < outH; oy++) for (let ox = 0; ox < outW; ox++)
      for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) {
        const y = oy * sh + ky - padTop, xx = ox * sw + kx - padLeft;
        for (let c = 0; c < C; c++) out[o++] = y >= 0 && y < H && xx >= 0 && xx < W ? x[((n * H + y) * W + xx) * C + c]! : 0n;
      }
  },
  depthwise(x, w, N, H, W, C, dm, kh, kw, sh, sw, padTop, padLeft, outH, outW, out) {
    const Co = C * dm;
    for (let n = 0; n < N; n++) for (let oy = 0; oy < outH; oy++) for (let ox = 0; ox < outW; ox++) for (let c = 0; c < C; c++) for (let m = 0; m < dm; m++) {
      let s = 0n;
      for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) {
        const y = oy * sh + ky - padTop, xx = ox * sw + kx - padLeft;
        if (y >= 0 && y < H && xx >= 0 && xx < W) s += x[((n * H + y) * W + xx) * C + c]! * w[(ky * kw + kx) * Co + c * dm + m]!;
      }
      out[((n * outH + oy) * outW + ox) * Co + c * dm + m] = s & M64;
    }
  },
  bitShareZp(x, r, out) {
    for (let e = 0; e < x.length; e++) for (let i = 0; i < 64; i++) {
      const bit = Number((x[e]! >> BigInt(i)) & 1n);
      out[e * 64 + i] = modp(bit - r[e * 64 + i]!);
    }
  },
  privateCompare(j, xb, r, beta, s, u, perm, d) {
    for (let e = 0; e < r.length; e++) {
      const re = r[e]!, be = beta[e]!;
      const special = be === 1 && re === M64;
      if (special && !u) throw new MpcError('E_BAD_ARGUMENT', 'privateCompare: u required when beta = 1 and r = 2^64-1');
      const t = (re + 1n) & M64;
      let suffix = 0; // sum_{k>i} w_k mod p
      for (let i = 63; i >= 0; i--) {
        const idx = e * 64 + i;
        const xi = xb[idx]!;
        let c: number;
        if (special) {
          const ui = u![idx]!;
          c = i !== 0 ? modp((1 - j) * (ui + 1) - j * ui) : modp(j === 0 ? ui : -ui);
        } else {
          const v = Number(((be === 0 ? re : t) >> BigInt(i)) & 1n);
          const w = modp(xi + j * v - 2 * v * xi);
          c = be === 0 ? modp(j * v - xi + j + suffix) : modp(-j * v + xi + j + suffix);
          suffix = modp(suffix + w);
        }
        d[e * 64 + perm[idx]!] = (s[idx]! * c) % p;
      }
    }
  },
  maskZp(d, mask, subtract) {
    for (let i = 0; i < d.length; i++) d[i] = modp(d[i]! + (subtract ? -mask[i]! : mask[i]!));
  },
  rejectSample(raw, table, out, filled) {
    for (let i = 0; i < raw.length && filled < out.length; i++) if (table[raw[i]!] !== 255) out[filled++] = table[raw[i]!]!;
    return filled;
  },
  zeroTest(d0, d1, out) {
    for (let e = 0; e < out.length; e++) {
      let z = 0;
      for (let i = 0; i < 64; i++) if ((d0[e * 64 + i]! + d1[e * 64 + i]!) % p === 0) z = 1;
      out[e] = z;
    }
  },
} satisfies Omit<RingKernels, 'bitShareZp32' | 'privateCompare32' | 'zeroTest32' | 'digitShareZp16' | 'privateCompareR4' | 'zeroTest16'>;

/** The narrow kernels are defined through the wide ones (narrow.ts). */
export const referenceKernels: RingKernels = { ...wide, ...narrowViaWide(wide), ...radix4Kernels };
