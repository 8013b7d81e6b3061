/**
 * Pure TypeScript kernels: the fallback when the native addon is not built.
 * Bit-identical to reference.ts, without a BigInt per element: a u64 is read
 * as two little-endian u32 words of the BigUint64Array's buffer, products use
 * 16-bit halves (exact in doubles) and Math.imul (products mod 2^32). BigInt
 * appears only for per-call scalars.
 *
 * Word helpers below work on (lo, hi) pairs held in numbers in [0, 2^32).
 */
import { MpcError } from '../errors.js';
import { checkBigint, checkBinary, checkInt, checkLen, checkNarrowPc, checkNoOverlap, checkStrideAndPad, checkType, checkUnary, checkWindowReach, sizeOf } from './check.js';
import { allBelow2p31 } from './narrow.js';
import { referenceKernels } from './reference.js';
import { radix4Kernels } from './radix4.js';
import { zeroTestRows } from './zp-rows.js';
import type { RingKernels } from './types.js';

const TWO32 = 4294967296;
const P = 67;

const words = (a: BigUint64Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length * 2);
const iwords = (a: BigUint64Array): Int32Array => new Int32Array(a.buffer, a.byteOffset, a.length * 2);

/** (bit - r) mod p for bit in {0, 1} and a byte r: BIT_MINUS[bit * 256 + r]. */
const BIT_MINUS = new Uint8Array(512);
/** v mod p for v in [-256, 511]: MODP[v + 256]. */
const MODP = new Uint8Array(768);
for (let v = 0; v < 256; v++) {
  BIT_MINUS[v] = (P - (v % P)) % P;
  BIT_MINUS[256 + v] = (((1 - v) % P) + P) % P;
}
for (let v = -256; v < 512; v++) MODP[v + 256] = ((v % P) + P) % P;

function splitScalar(s: bigint): [lo: number, hi: number] {
  const v = BigInt.asUintN(64, s);
  return [Number(v & 0xffffffffn), Number(v >> 32n)];
}

/** out = a * b mod 2^64 for (al, ah), (bl, bh); writes o[2i], o[2i+1]. */
function mulInto(o: Uint32Array, i: number, al: number, ah: number, bl: number, bh: number): void {
  const a0 = al & 0xffff, a1 = al >>> 16, b0 = bl & 0xffff, b1 = bl >>> 16;
  const mid = a0 * b1 + a1 * b0; // < 2^33
  const t = a0 * b0 + (mid & 0xffff) * 65536; // < 2^33
  const tlo = t >>> 0;
  o[2 * i] = tlo;
  o[2 * i + 1] = a1 * b1 + (mid - (mid & 0xffff)) / 65536 + (t - tlo) / TWO32 + Math.imul(al, bh) + Math.imul(ah, bl);
}

const fast: RingKernels = {
  name: 'ts',
  ...radix4Kernels,

  add(a, b, out) {
    checkBinary('add', a, b, out);
    const x = words(a), y = words(b), o = words(out);
    for (let i = 0; i < x.length; i += 2) {
      const lo = x[i]! + y[i]!;
      const c = lo >= TWO32 ? 1 : 0;
      o[i + 1] = x[i + 1]! + y[i + 1]! + c;
      o[i] = lo;
    }
  },

  sub(a, b, out) {
    checkBinary('sub', a, b, out);
    const x = words(a), y = words(b), o = words(out);
    for (let i = 0; i < x.length; i += 2) {
      const lo = x[i]! - y[i]!;
      const c = lo < 0 ? 1 : 0;
      o[i + 1] = x[i + 1]! - y[i + 1]! - c;
      o[i] = lo;
    }
  },

  mul(a, b, out) {
    checkBinary('mul', a, b, out);
    const x = words(a), y = words(b), o = words(out);
    const n = a.length;
    for (let i = 0; i < n; i++) mulInto(o, i, x[2 * i]!, x[2 * i + 1]!, y[2 * i]!, y[2 * i + 1]!);
  },

  mulScalar(a, s, out) {
    checkUnary('mulScalar', a, out);
    checkBigint('mulScalar', 's', s);
    const [sl, sh] = splitScalar(s);
    const x = words(a), o = words(out);
    const n = a.length;
    for (let i = 0; i < n; i++) mulInto(o, i, x[2 * i]!, x[2 * i + 1]!, sl, sh);
  },

  addScalar(a, s, out) {
    checkUnary('addScalar', a, out);
    checkBigint('addScalar', 's', s);
    const [sl, sh] = splitScalar(s);
    const x = words(a), o = words(out);
    for (let i = 0; i < x.length; i += 2) {
      const lo = x[i]! + sl;
      const c = lo >= TWO32 ? 1 : 0;
      o[i + 1] = x[i + 1]! + sh + c;
      o[i] = lo;
    }
  },

  divShare(a, d, party, out) {
    checkUnary('divShare', a, out);
    checkType('divShare', 'd', d, Uint32Array);
    checkInt('divShare', 'party', party, 0, 1);
    if (d.length !== 1 && d.length !== a.length) throw new MpcError('E_SHAPE', `divShare: expected d of length 1 or ${a.length}, got ${d.length}`);
    for (let i = 0; i < d.length; i++) if (d[i] === 0) throw new MpcError('E_BAD_ARGUMENT', 'divShare: divisor 0');
    const x = words(a), o = words(out);
    const n = a.length;
    if (d.length === 1 && (d[0]! & (d[0]! - 1)) === 0) return divSharePow2(x, 31 - Math.clz32(d[0]!), party, o, n);
    const bcast = d.length === 1;
    for (let i = 0; i < n; i++) {
      const dv = bcast ? d[0]! : d[i]!;
      let lo = x[2 * i]!, hi = x[2 * i + 1]!;
      if (party === 0) {
        divInto(o, i, hi, lo, dv);
        continue;
      }
      // Party 1: 2^64 - floor((2^64 - a) / d) mod 2^64. For a != 0, 2^64 - a
      // is -a as a u64; for a == 0, floor(2^64 / d) = floor((2^64 - d) / d) + 1,
      // which wraps to 0 for d == 1 just as 2^64 - 2^64 == 0.
      const zero = lo === 0 && hi === 0;
      if (zero) { hi = 0xffffffff; lo = TWO32 - dv; } else if (lo === 0) { hi = TWO32 - hi; } else { hi = 0xffffffff - hi; lo = TWO32 - lo; }
      divInto(o, i, hi, lo, dv);
      let ql = o[2 * i]!, qh = o[2 * i + 1]!;
      if (zero) { ql += 1; if (ql === TWO32) { ql = 0; qh = (qh + 1) >>> 0; } }
      // -q mod 2^64
      if (ql === 0) { o[2 * i] = 0; o[2 * i + 1] = TWO32 - qh; } else { o[2 * i] = TWO32 - ql; o[2 * i + 1] = 0xffffffff - qh; }
    }
  },

  sar(a, f, out) {
    checkUnary('sar', a, out);
    checkInt('sar', 'f', f, 0, Number.MAX_SAFE_INTEGER);
    const s = f > 63 ? 63 : f;
    const x = iwords(a), o = iwords(out);
    const len = x.length;
    if (s === 0) { for (let i = 0; i < len; i++) o[i] = x[i]!; return; } // a loop, not set(): same order as the reference if out overlaps a shifted
    if (s < 32) {
      for (let i = 0; i < len; i += 2) { const hi = x[i + 1]!; o[i] = (x[i]! >>> s) | (hi << (32 - s)); o[i + 1] = hi >> s; }
    } else {
      const t = s - 32;
      for (let i = 0; i < len; i += 2) { const hi = x[i + 1]!; o[i] = hi >> t; o[i + 1] = hi >> 31; }
    }
  },

  wrap(a, b, out) {
    checkType('wrap', 'a', a, BigUint64Array);
    checkType('wrap', 'b', b, BigUint64Array);
    checkType('wrap', 'out', out, Uint8Array);
    checkLen('wrap', 'b', b.length, a.length);
    checkLen('wrap', 'out', out.length, a.length);
    const x = words(a), y = words(b);
    const n = a.length;
    for (let i = 0; i < n; i++) {
      const c = x[2 * i]! + y[2 * i]! >= TWO32 ? 1 : 0;
      out[i] = x[2 * i + 1]! + y[2 * i + 1]! + c >= TWO32 ? 1 : 0;
    }
  },

  addOdd(a, b, out) {
    checkBinary('addOdd', a, b, out);
    const x = words(a), y = words(b), o = words(out);
    for (let i = 0; i < x.length; i += 2) {
      // a + b = C * 2^64 + s == s + C (mod 2^64 - 1); with C = 1, s <= 2^64 - 2.
      let lo = x[i]! + y[i]!;
      let hi = x[i + 1]! + y[i + 1]!;
      if (lo >= TWO32) { lo -= TWO32; hi += 1; }
      if (hi >= TWO32) { hi -= TWO32; lo += 1; if (lo === TWO32) { lo = 0; hi += 1; } }
      if (lo === 0xffffffff && hi === 0xffffffff) { lo = 0; hi = 0; }
      o[i] = lo;
      o[i + 1] = hi;
    }
  },

  subOdd(a, b, out) {
    checkBinary('subOdd', a, b, out);
    const x = words(a), y = words(b), o = words(out);
    for (let i = 0; i < x.length; i += 2) {
      let xl = x[i]!, xh = x[i + 1]!, yl = y[i]!, yh = y[i + 1]!;
      if (xl === 0xffffffff && xh === 0xffffffff) { xl = 0; xh = 0; }
      if (yl === 0xffffffff && yh === 0xffffffff) { yl = 0; yh = 0; }
      let lo = xl - yl, hi = xh - yh;
      if (lo < 0) { lo += TWO32; hi -= 1; }
      if (hi < 0) {
        // x < y: x - y + (2^64 - 1) = (x - y mod 2^64) - 1, which stays >= 1.
        hi += TWO32;
        lo -= 1;
        if (lo < 0) { lo += TWO32; hi -= 1; }
      }
      o[i] = lo;
      o[i + 1] = hi;
    }
  },

  reduceOdd(a, out) {
    checkUnary('reduceOdd', a, out);
    const x = words(a), o = words(out);
    for (let i = 0; i < x.length; i += 2) {
      const lo = x[i]!, hi = x[i + 1]!;
      if (lo === 0xffffffff && hi === 0xffffffff) { o[i] = 0; o[i + 1] = 0; } else { o[i] = lo; o[i + 1] = hi; }
    }
  },

  gemm(A, B, m, k, n, out) {
    checkType('gemm', 'A', A, BigUint64Array);
    checkType('gemm', 'B', B, BigUint64Array);
    checkType('gemm', 'out', out, BigUint64Array);
    checkInt('gemm', 'm', m, 0, 2 ** 40);
    checkInt('gemm', 'k', k, 0, 2 ** 40);
    checkInt('gemm', 'n', n, 0, 2 ** 40);
    checkLen('gemm', 'A (m*k)', A.length, sizeOf('gemm', 'm*k', m, k));
    checkLen('gemm', 'B (k*n)', B.length, sizeOf('gemm', 'k*n', k, n));
    checkLen('gemm', 'out (m*n)', out.length, sizeOf('gemm', 'm*n', m, n));
    checkNoOverlap('gemm', 'out', out, 'A', A);
    checkNoOverlap('gemm', 'out', out, 'B', B);
    gemmTs(A, B, m, k, n, out);
  },

  im2col(x, N, H, W, C, kh, kw, sh, sw, padTop, padLeft, outH, outW, out) {
    const op = 'im2col';
    checkType(op, 'x', x, BigUint64Array);
    checkType(op, 'out', out, BigUint64Array);
    const dims = { N, H, W, C, kh, kw, outH, outW };
    for (const [name, v] of Object.entries(dims)) checkInt(op, name, v, 0, 2 ** 40);
    checkStrideAndPad(op, sh, sw, padTop, padLeft);
    checkLen(op, 'x (N*H*W*C)', x.length, sizeOf(op, 'N*H*W*C', N, H, W, C));
    checkLen(op, 'out (N*outH*outW*kh*kw*C)', out.length, sizeOf(op, 'N*outH*outW*kh*kw*C', N, outH, outW, kh, kw, C));
    checkWindowReach(op, outH, kh, sh, outW, kw, sw);
    checkNoOverlap(op, 'out', out, 'x', x);
    const xs = iwords(x), os = iwords(out);
    const c2 = 2 * C, row = kw * c2;
    let o = 0;
    for (let b = 0; b < N; b++) for (let oy = 0; oy < outH; oy++) for (let ox = 0; ox < outW; ox++) {
      const x0 = ox * sw - padLeft;
      // Window columns kx in [kx0, kx1) fall inside the image.
      const kx0 = Math.min(kw, Math.max(0, -x0));
      const kx1 = Math.max(kx0, Math.min(kw, W - x0));
      for (let ky = 0; ky < kh; ky++) {
        const y = oy * sh + ky - padTop;
        if (y < 0 || y >= H) { os.fill(0, o, o + row); o += row; continue; }
        if (kx0 > 0) os.fill(0, o, o + kx0 * c2);
        const len = (kx1 - kx0) * c2;
        let src = ((b * H + y) * W + x0 + kx0) * c2;
        const dst = o + kx0 * c2;
        if (len >= 64) os.set(xs.subarray(src, src + len), dst);
        else for (let t = dst, end = dst + len; t < end; t++) os[t] = xs[src++]!;
        if (kx1 < kw) os.fill(0, o + kx1 * c2, o + row);
        o += row;
      }
    }
  },

  depthwise(x, w, N, H, W, C, dm, kh, kw, sh, sw, padTop, padLeft, outH, outW, out) {
    const op = 'depthwise';
    checkType(op, 'x', x, BigUint64Array);
    checkType(op, 'w', w, BigUint64Array);
    checkType(op, 'out', out, BigUint64Array);
    const dims = { N, H, W, C, dm, kh, kw, outH, outW };
    for (const [name, v] of Object.entries(dims)) checkInt(op, name, v, 0, 2 ** 40);
    checkStrideAndPad(op, sh, sw, padTop, padLeft);
    checkLen(op, 'x (N*H*W*C)', x.length, sizeOf(op, 'N*H*W*C', N, H, W, C));
    checkLen(op, 'w (kh*kw*C*dm)', w.length, sizeOf(op, 'kh*kw*C*dm', kh, kw, C, dm));
    checkLen(op, 'out (N*outH*outW*C*dm)', out.length, sizeOf(op, 'N*outH*outW*C*dm', N, outH, outW, C, dm));
    checkWindowReach(op, outH, kh, sh, outW, kw, sw);
    checkNoOverlap(op, 'out', out, 'x', x);
    checkNoOverlap(op, 'out', out, 'w', w);
    const xs = words(x), ws = words(w), os = words(out);
    const Co = C * dm;
    const p = new Uint32Array(2);
    os.fill(0);
    let o = 0;
    for (let b = 0; b < N; b++) for (let oy = 0; oy < outH; oy++) for (let ox = 0; ox < outW; ox++, o += 2 * Co) {
      for (let ky = 0; ky < kh; ky++) {
        const y = oy * sh + ky - padTop;
        if (y < 0 || y >= H) continue;
        for (let kx = 0; kx < kw; kx++) {
          const xx = ox * sw + kx - padLeft;
          if (xx < 0 || xx >= W) continue;
          const xb = 2 * ((b * H + y) * W + xx) * C, wb = 2 * (ky * kw + kx) * Co;
          for (let c = 0; c < C; c++) {
            const al = xs[xb + 2 * c]!, ah = xs[xb + 2 * c + 1]!;
            for (let m = 0; m < dm; m++) {
              const e = c * dm + m;
              mulInto(p, 0, al, ah, ws[wb + 2 * e]!, ws[wb + 2 * e + 1]!);
              const lo = os[o + 2 * e]! + p[0]!;
              os[o + 2 * e + 1] = os[o + 2 * e + 1]! + p[1]! + (lo >= TWO32 ? 1 : 0);
              os[o + 2 * e] = lo;
            }
          }
        }
      }
    }
  },

  bitShareZp(x, r, out) { bitShareRows('bitShareZp', 64, x, r, out); },

  privateCompare(j, xb, r, beta, s, u, perm, d) {
    const op = 'privateCompare';
    checkInt(op, 'j', j, 0, 1);
    checkType(op, 'xb', xb, Uint8Array);
    checkType(op, 'r', r, BigUint64Array);
    checkType(op, 'beta', beta, Uint8Array);
    checkType(op, 's', s, Uint8Array);
    if (u !== null && u !== undefined) checkType(op, 'u', u, Uint8Array);
    checkType(op, 'perm', perm, Uint8Array);
    checkType(op, 'd', d, Uint8Array);
    const n = r.length, n64 = sizeOf(op, '64*r.length', n, 64);
    checkLen(op, 'xb (64*r.length)', xb.length, n64);
    checkLen(op, 'beta (r.length)', beta.length, n);
    checkLen(op, 's (64*r.length)', s.length, n64);
    if (u) checkLen(op, 'u (64*r.length)', u.length, n64);
    checkLen(op, 'perm (64*r.length)', perm.length, n64);
    checkLen(op, 'd (64*r.length)', d.length, n64);
    checkNoOverlap(op, 'd', d, 'xb', xb);
    checkNoOverlap(op, 'd', d, 's', s);
    if (u) checkNoOverlap(op, 'd', d, 'u', u);
    checkNoOverlap(op, 'd', d, 'perm', perm);
    let bad = 0;
    for (let i = 0; i < n64; i++) bad |= perm[i]!;
    if (bad & 0xc0) throw new MpcError('E_BAD_ARGUMENT', `${op}: perm entries must be in [0, 63]`);
    const rw = words(r);
    if (!u) {
      for (let e = 0; e < n; e++) {
        if (beta[e] === 1 && rw[2 * e] === 0xffffffff && rw[2 * e + 1] === 0xffffffff) throw new MpcError('E_BAD_ARGUMENT', `${op}: u required when beta = 1 and r = 2^64-1`);
      }
    }
    for (let e = 0; e < n; e++) {
      const o = e * 64, be = beta[e]!;
      let vl = rw[2 * e]!, vh = rw[2 * e + 1]!;
      if (be === 1 && vl === 0xffffffff && vh === 0xffffffff) {
        // c_i = (1-j)(u_i + 1) - j u_i for i != 0, c_0 = (-1)^j u_0.
        for (let i = 63; i >= 0; i--) {
          const ui = u![o + i]!;
          const c = j === 0 ? MODP[256 + ui + (i !== 0 ? 1 : 0)]! : MODP[256 - ui]!;
          d[o + perm[o + i]!] = (s[o + i]! * c) % P;
        }
        continue;
      }
      if (be !== 0) { vl += 1; if (vl === TWO32) { vl = 0; vh = (vh + 1) >>> 0; } } // t = r + 1
      // c = j v - x + j + suffix (beta = 0), -j v + x + j + suffix (otherwise). The suffix sum
      // is kept unreduced (|sum| <= 64 * 256) and shifted by 256 p before the one reduction.
      const sign = be === 0 ? -1 : 1;
      let suffix = 0; // sum_{k>i} w_k
      for (let half = 1; half >= 0; half--) {
        const word = half === 1 ? vh : vl, base = o + 32 * half;
        for (let b = 31; b >= 0; b--) {
          const v = (word >>> b) & 1, q = base + b;
          const xi = xb[q]!;
          const c = ((sign * (xi - j * v) + j + suffix + 256 * P) | 0) % P;
          suffix = (suffix + xi + j * v - 2 * v * xi) | 0;
          d[o + perm[q]!] = (s[q]! * c) % P;
        }
      }
    }
  },

  zeroTest(d0, d1, out) { zeroTestRows('zeroTest', 64, d0, d1, out); },

  bitShareZp32(x, r, out) { bitShareRows('bitShareZp32', 32, x, r, out); },

  privateCompare32(j, xb, r, beta, s, rot, mask, d) {
    const op = 'privateCompare32';
    const n = checkNarrowPc(op, 32, 32, 'xb', j, xb, r, beta, s, rot, mask, d);
    if (!allBelow2p31(r)) throw new MpcError('E_BAD_ARGUMENT', `${op}: every r must be < 2^31`);
    const rw = words(r);
    for (let e = 0; e < n; e++) {
      const o = e * 32, be = beta[e]!, ro = rot[e]! & 31;
      const v = be === 0 ? rw[2 * e]! : rw[2 * e]! + 1; // t = r + 1 <= 2^31
      const sign = be === 0 ? -1 : 1;
      let suffix = 0; // sum_{k>i} w_k, unreduced
      for (let b = 31; b >= 0; b--) {
        const vi = (v >>> b) & 1, q = o + b, xi = xb[q]!;
        const c = ((sign * (xi - j * vi) + j + suffix + 256 * P) | 0) % P;
        suffix = (suffix + xi + j * vi - 2 * vi * xi) | 0;
        const k = o + ((b + ro) & 31);
        const val = (s[q]! * c) % P;
        const m = j === 0 ? val + mask[k]! : val - mask[k]!;
        d[k] = j === 0 ? (m >= P ? m - P : m) : (m < 0 ? m + P : m);
      }
    }
  },

  zeroTest32(d0, d1, out) { zeroTestRows('zeroTest32', 32, d0, d1, out); },


  maskZp(d, mask, subtract) {
    checkType('maskZp', 'd', d, Uint8Array);
    checkType('maskZp', 'mask', mask, Uint8Array);
    checkLen('maskZp', 'mask (d.length)', mask.length, d.length);
    if (subtract) for (let i = 0; i < d.length; i++) { const v = d[i]! - mask[i]!; d[i] = v < 0 ? v + P : v; }
    else for (let i = 0; i < d.length; i++) { const v = d[i]! + mask[i]!; d[i] = v >= P ? v - P : v; }
  },

  rejectSample(raw, table, out, filled) {
    checkLen('rejectSample', 'table', table.length, 256);
    for (let i = 0; i < raw.length && filled < out.length; i++) {
      const v = table[raw[i]!]!;
      if (v !== 255) out[filled++] = v;
    }
    return filled;
  },
};

/** out[e*width + i] = (bit_i(x[e]) - r[e*width + i]) mod p for i < width (bitShareZp, bitShareZp32). */
function bitShareRows(op: string, width: 32 | 64, x: BigUint64Array, r: Uint8Array, out: Uint8Array): void {
  checkType(op, 'x', x, BigUint64Array);
  checkType(op, 'r', r, Uint8Array);
  checkType(op, 'out', out, Uint8Array);
  const len = sizeOf(op, `${width}*x.length`, x.length, width);
  checkLen(op, `r (${width}*x.length)`, r.length, len);
  checkLen(op, `out (${width}*x.length)`, out.length, len);
  const w = words(x);
  for (let e = 0; e < x.length; e++) {
    const o = e * width;
    for (let half = 0; half < width / 32; half++) {
      const word = w[2 * e + half]!, base = o + 32 * half;
      for (let i = 0; i < 32; i++) out[base + i] = BIT_MINUS[((word >>> i) & 1) * 256 + r[base + i]!]!;
    }
  }
}


/** floor((hi * 2^32 + lo) / d) for 1 <= d < 2^32, by 16-bit long division (every step exact in doubles). */
function divInto(o: Uint32Array, i: number, hi: number, lo: number, d: number): void {
  const qh = Math.floor(hi / d);
  const r1 = hi - qh * d;
  const t1 = r1 * 65536 + (lo >>> 16); // < d * 2^16 <= 2^48
  const q1 = Math.floor(t1 / d);
  const t2 = (t1 - q1 * d) * 65536 + (lo & 0xffff);
  const q2 = Math.floor(t2 / d);
  o[2 * i] = q1 * 65536 + q2;
  o[2 * i + 1] = qh;
}

/** divShare with a broadcast divisor 2^f, 0 <= f <= 31: shifts. */
function divSharePow2(x: Uint32Array, f: number, party: 0 | 1, o: Uint32Array, n: number): void {
  if (f === 0) { for (let i = 0; i < 2 * n; i++) o[i] = x[i]!; return; } // floor(a / 1) = a; 2^64 - (2^64 - a) = a
  const g = 32 - f;
  if (party === 0) {
    for (let i = 0; i < n; i++) { const lo = x[2 * i]!, hi = x[2 * i + 1]!; o[2 * i] = (lo >>> f) | (hi << g); o[2 * i + 1] = hi >>> f; }
    return;
  }
  // a != 0: -((-a) >> f); a == 0: -(2^(64-f)).
  for (let i = 0; i < n; i++) {
    let lo = x[2 * i]!, hi = x[2 * i + 1]!;
    if (lo === 0 && hi === 0) { o[2 * i] = 0; o[2 * i + 1] = TWO32 - 2 ** g; continue; }
    if (lo === 0) { hi = TWO32 - hi; } else { hi = 0xffffffff - hi; lo = TWO32 - lo; } // -a
    let ql = ((lo >>> f) | (hi << g)) >>> 0;
    const qh = hi >>> f;
    if (ql === 0) { o[2 * i] = 0; o[2 * i + 1] = TWO32 - qh; } else { ql = TWO32 - ql; o[2 * i] = ql; o[2 * i + 1] = 0xffffffff - qh; }
  }
}

// ---- GEMM ----
// out[i, j] = sum_t A[i, t] B[t, j] mod 2^64. With a = ah 2^32 + a1 2^16 + a0
// and b likewise, a b mod 2^64 = a0 b0 + (a0 b1 + a1 b0) 2^16
// + (a1 b1 + (al bh + ah bl mod 2^32)) 2^32. The three 16-bit products are
// summed in doubles (exact while the sums stay below 2^53, i.e. for up to
// 2^19 terms; blocks of KC terms are far below that) and the cross terms with
// Math.imul in int32. B is transposed once into word and 16-bit-limb arrays so
// each output is a dot product of two contiguous runs.
const KC = 512;
const NB = 32;

function gemmTs(A: BigUint64Array, B: BigUint64Array, m: number, k: number, n: number, out: BigUint64Array): void {
  const o = words(out);
  o.fill(0);
  if (m === 0 || n === 0 || k === 0) return;
  const a = iwords(A), b = words(B);
  const kc = Math.min(KC, k);
  // B^T for one k block: bw[j * kc * 2 + 2t (+1)] = lo (hi) word, bl[...] = lo & 0xffff, lo >>> 16.
  const bw = new Int32Array(2 * kc * n);
  const bl = new Float64Array(2 * kc * n);
  for (let p0 = 0; p0 < k; p0 += kc) {
    const kb = Math.min(kc, k - p0);
    for (let t = 0; t < kb; t++) {
      const src = 2 * (p0 + t) * n;
      for (let j = 0; j < n; j++) {
        const lo = b[src + 2 * j]!, q = 2 * (j * kb + t);
        bw[q] = lo;
        bw[q + 1] = b[src + 2 * j + 1]!;
        bl[q] = lo & 0xffff;
        bl[q + 1] = lo >>> 16;
      }
    }
    for (let j0 = 0; j0 < n; j0 += NB) {
      const j1 = Math.min(n, j0 + NB);
      for (let i = 0; i < m; i++) {
        const arow = 2 * (i * k + p0);
        let j = j0;
        for (; j + 1 < j1; j += 2) dot2(a, arow, bw, bl, 2 * j * kb, 2 * (j + 1) * kb, kb, o, 2 * (i * n + j));
        if (j < j1) dot1(a, arow, bw, bl, 2 * j * kb, kb, o, 2 * (i * n + j));
      }
    }
  }
}

/** Adds s00 + s01 2^16 + (s11 + x) 2^32 to the u64 at o[q], o[q+1]. */
function accumulate(o: Uint32Array, q: number, s00: number, s01: number, s11: number, x: number): void {
  const m01 = s01 % 65536;
  const low = (s00 % TWO32) + m01 * 65536 + o[q]!; // < 3 * 2^32
  const lo = low % TWO32;
  o[q] = lo;
  o[q + 1] = (Math.floor(s00 / TWO32) + (s01 - m01) / 65536 + (s11 % TWO32) + (low - lo) / TWO32 + o[q + 1]! + (x >>> 0)) % TWO32;
}

function dot1(a: Int32Array, ai: number, bw: Int32Array, bl: Float64Array, bi: number, kb: number, o: Uint32Array, q: number): void {
  let s00 = 0, s01 = 0, s11 = 0, x = 0;
  for (let t = 0; t < 2 * kb; t += 2) {
    const al = a[ai + t]!, ah = a[ai + t + 1]!;
    const a0 = al & 0xffff, a1 = al >>> 16;
    const b0 = bl[bi + t]!, b1 = bl[bi + t + 1]!;
    s00 += a0 * b0;
    s01 += a0 * b1 + a1 * b0;
    s11 += a1 * b1;
    x = (x + Math.imul(al, bw[bi + t + 1]!) + Math.imul(ah, bw[bi + t]!)) | 0;
  }
  accumulate(o, q, s00, s01, s11, x);
}

function dot2(a: Int32Array, ai: number, bw: Int32Array, bl: Float64Array, bi: number, bj: number, kb: number, o: Uint32Array, q: number): void {
  let s00 = 0, s01 = 0, s11 = 0, x = 0;
  let u00 = 0, u01 = 0, u11 = 0, y = 0;
  for (let t = 0; t < 2 * kb; t += 2) {
    const al = a[ai + t]!, ah = a[ai + t + 1]!;
    const a0 = al & 0xffff, a1 = al >>> 16;
    const b0 = bl[bi + t]!, b1 = bl[bi + t + 1]!;
    const c0 = bl[bj + t]!, c1 = bl[bj + t + 1]!;
    s00 += a0 * b0;
    s01 += a0 * b1 + a1 * b0;
    s11 += a1 * b1;
    u00 += a0 * c0;
    u01 += a0 * c1 + a1 * c0;
    u11 += a1 * c1;
    x = (x + Math.imul(al, bw[bi + t + 1]!) + Math.imul(ah, bw[bi + t]!)) | 0;
    y = (y + Math.imul(al, bw[bj + t + 1]!) + Math.imul(ah, bw[bj + t]!)) | 0;
  }
  accumulate(o, q, s00, s01, s11, x);
  accumulate(o, q + 2, u00, u01, u11, y);
}

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The TS kernels; on a big-endian host (none supported today) the word views would be wrong, so it falls back to the reference. */
export const tsKernels: RingKernels = littleEndian ? fast : { ...referenceKernels, name: 'ts' };
