/**
 * The malicious mode's products mod 2^128 on the context's kernels. When the
 * kernels have the Z_2^128 ones (RingKernels.gemm128 / mul128 / mulScalar128:
 * the native addon's unsigned __int128 kernels, protocol/kernels/native/ring128.cc)
 * they do the product; otherwise (the TS kernels, an addon built before them)
 * it is computed from Z_2^64 products (RingKernels.gemm / mul: the native
 * AVX-512 / AVX2 / NEON GEMM, or the TS one), as below. Both give the same
 * bits (gemm128.test.ts checks native, fallback and ring128.ts's matmul128).
 * add128Kernels / sub128Kernels likewise use RingKernels.add128 / sub128 when
 * present, else ring128.ts's add128 / sub128: the protocols' sums and
 * differences of long vectors (product.ts, rep.ts with kernels, open.ts,
 * input.ts) go through them.
 *
 * Write a = sum_q a_q 2^(32q) (32-bit words a_0..a_3) and a_0 = a00 + 2^16 a01,
 * a_1 = a10 + 2^16 a11 (16-bit limbs). AB mod 2^128 = sum over shifts t of
 * G_t 2^t, where each G_t is a sum of Z_2^64 GEMMs of selections of A and B
 * (each selection made once):
 *
 *   t = 0:  A00 B00                              exact (< k 2^32)
 *   t = 16: A00 B01 + A01 B00                    exact (< 2k 2^32)
 *   t = 32: A01 B01 + A00 B10 + A10 B00          exact
 *   t = 48: A00 B11 + A01 B10 + A10 B01 + A11 B00  exact (< 4k 2^32)
 *   t = 64: A01 B11 + A11 B01 + A_0 B_2 + A_1 B_1 + A_2 B_0   mod 2^64 suffices
 *   t = 96: A_0 B_3 + A_1 B_2 + A_2 B_1 + A_3 B_0             mod 2^32 suffices
 *
 * (the terms at t <= 48 must be exact because they reach bits above 64; the
 * limb products are below 2^32, so their sums stay below 2^64 for k < 2^30).
 * 19 GEMMs of the product's shape in all, against 36 limb products per
 * term in ring128.ts's TS loop. The result equals matmul128 bit for bit (a test checks, on the TS
 * and on the runtime's kernels).
 */
import { assert } from '../errors.js';
import type { RingKernels } from '../kernels/types.js';
import { add128, len128, sub128, type Vec128 } from './ring128.js';


/** A selection of each element: word q shifted right by `shift`, masked (a 32-bit word, or one of its 16-bit limbs). */
interface Sel { id: string; q: number; shift: number; mask: number }
const W = (q: number): Sel => ({ id: `w${q}`, q, shift: 0, mask: 0xffffffff });
const LO = (q: number): Sel => ({ id: `lo${q}`, q, shift: 0, mask: 0xffff });
const HI = (q: number): Sel => ({ id: `hi${q}`, q, shift: 16, mask: 0xffff });

/** The selection of every element of v as a u64 vector (same layout: row-major). */
function select(v: Vec128, { q, shift, mask }: Sel): BigUint64Array {
  const n = len128(v);
  const out = new BigUint64Array(n);
  const w = new Uint32Array(out.buffer);
  for (let e = 0; e < n; e++) w[2 * e] = (v[4 * e + q]! >>> shift) & mask;
  return out;
}

/** The six sums G_t: [shift, pairs (selection of A, selection of B)]. */
const PLAN: [number, [Sel, Sel][]][] = [
  [0, [[LO(0), LO(0)]]],
  [16, [[LO(0), HI(0)], [HI(0), LO(0)]]],
  [32, [[HI(0), HI(0)], [LO(0), LO(1)], [LO(1), LO(0)]]],
  [48, [[LO(0), HI(1)], [HI(0), LO(1)], [LO(1), HI(0)], [HI(1), LO(0)]]],
  [64, [[HI(0), HI(1)], [HI(1), HI(0)], [W(0), W(2)], [W(1), W(1)], [W(2), W(0)]]],
  [96, [[W(0), W(3)], [W(1), W(2)], [W(2), W(1)], [W(3), W(0)]]],
];

/** out = A B mod 2^128 (A m x k, B k x n, row-major): kernels.gemm128 when present, else 19 Z_2^64 GEMMs of `kernels`. */
export function matmul128Gemm(kernels: Pick<RingKernels, 'gemm' | 'add' | 'gemm128'>, A: Vec128, B: Vec128, m: number, k: number, n: number, out: Vec128): Vec128 {
  assert(len128(A) === m * k && len128(B) === k * n && len128(out) === m * n, 'E_SHAPE', `ring128.matmul: expected ${m}x${k} by ${k}x${n} into ${m}x${n}, got ${len128(A)}, ${len128(B)}, ${len128(out)} elements`);
  assert(k < 1 << 30, 'E_SHAPE', `ring128.matmul: inner dimension ${k} is 2^30 or more`);
  if (kernels.gemm128) {
    kernels.gemm128(A, B, m, k, n, out);
    return out;
  }
  return viaZ64(kernels, A, B, m * n, (a, b, o) => kernels.gemm(a, b, m, k, n, o), out);
}

/** out = a * b mod 2^128 elementwise: kernels.mul128 when present, else 19 Z_2^64 elementwise products of `kernels` (the same plan with k = 1). */
export function mul128Kernels(kernels: Pick<RingKernels, 'mul' | 'add' | 'mul128'>, a: Vec128, b: Vec128, out: Vec128): Vec128 {
  assert(a.length === b.length && a.length === out.length, 'E_SHAPE', `ring128.mul: lengths ${len128(a)}, ${len128(b)}, ${len128(out)} differ`);
  if (kernels.mul128) {
    kernels.mul128(a, b, out);
    return out;
  }
  return viaZ64(kernels, a, b, len128(a), (x, y, o) => kernels.mul(x, y, o), out);
}

/** out = s * a mod 2^128 for one public or shared scalar s (a 1-element vector): kernels.mulScalar128 when present, else through mul128Kernels. */
export function mulScalar128Kernels(kernels: Pick<RingKernels, 'mul' | 'add' | 'mul128' | 'mulScalar128'>, a: Vec128, sc: Vec128, out: Vec128): Vec128 {
  assert(sc.length === 4, 'E_SHAPE', `ring128.mulScalar: the scalar has ${len128(sc)} elements, expected 1`);
  assert(a.length === out.length, 'E_SHAPE', `ring128.mulScalar: lengths ${len128(a)} and ${len128(out)} differ`);
  if (kernels.mulScalar128) {
    kernels.mulScalar128(a, sc, out);
    return out;
  }
  const b = new Uint32Array(a.length) as Vec128;
  for (let i = 0; i < b.length; i += 4) b.set(sc, i);
  return mul128Kernels(kernels, a, b, out);
}

/** out = a + b mod 2^128: kernels.add128 when present, else ring128.ts's add128 (same bits). */
export function add128Kernels(kernels: Pick<RingKernels, 'add128'>, a: Vec128, b: Vec128, out: Vec128): Vec128 {
  assert(a.length === b.length && a.length === out.length, 'E_SHAPE', `ring128.add: lengths ${len128(a)}, ${len128(b)}, ${len128(out)} differ`);
  if (!kernels.add128) return add128(a, b, out);
  kernels.add128(a, b, out);
  return out;
}

/** out = a - b mod 2^128: kernels.sub128 when present, else ring128.ts's sub128 (same bits). */
export function sub128Kernels(kernels: Pick<RingKernels, 'sub128'>, a: Vec128, b: Vec128, out: Vec128): Vec128 {
  assert(a.length === b.length && a.length === out.length, 'E_SHAPE', `ring128.sub: lengths ${len128(a)}, ${len128(b)}, ${len128(out)} differ`);
  if (!kernels.sub128) return sub128(a, b, out);
  kernels.sub128(a, b, out);
  return out;
}

/**
 * acc[r len + i] += k[r len + i] x[r stride + i] mod 2^128 for k in {-1, 0, 1} (only the sign is read), for the
 * k.length / len rows r and i < len: kernels.signedSum128 when present (one add or subtract per non-zero
 * coefficient, no product), else the same loop here on 32-bit words (same bits: signed-sum128.test.ts).
 */
export function signedSum128Kernels(kernels: Pick<RingKernels, 'signedSum128'>, acc: Vec128, x: Vec128, k: Int8Array, len: number, stride: number): void {
  const rows = k.length / len;
  // The message is built only on failure (this runs once per term and share vector: hundreds of times per comparison).
  if (!(Number.isInteger(len) && len >= 1 && Number.isInteger(rows) && Number.isInteger(stride) && stride >= 0 && acc.length === 4 * k.length && (rows === 0 || len128(x) >= (rows - 1) * stride + len))) {
    assert(false, 'E_SHAPE', `ring128.signedSum: ${len128(acc)} sums, ${len128(x)} terms, ${k.length} coefficients in rows of ${len} at stride ${stride}`);
  }
  if (kernels.signedSum128) { kernels.signedSum128(acc, x, k, len, stride); return; }
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < len; i++) {
      const c = k[r * len + i]!;
      if (c === 0) continue;
      const o = 4 * (r * len + i), q = 4 * (r * stride + i);
      acc1(acc, o, x, q, c);
    }
  }
}

/**
 * out[r len + i] = coef[p width] one + sum_{S >= 1} coef[p width + S] x_S[base_S + r stride_S + i] mod 2^128 for
 * the pattern p = pat[r len + i] (< coef.length / width), coefficients in {-1, 0, 1} (signs only), x_S = src[3S] ?
 * x1 : x0, base_S = src[3S + 1], stride_S = src[3S + 2] (entries 0..2 unused): kernels.blockComb128 when present
 * (one pass, each element only its pattern's non-zero terms), else the same loop here on 32-bit words (same
 * bits: signed-sum128.test.ts). BitLT's radix-4 level (bit-lt-quads.ts quadLevel).
 */
export function blockComb128Kernels(kernels: Pick<RingKernels, 'blockComb128'>, out: Vec128, x0: Vec128, x1: Vec128, pat: Uint8Array, coef: Int8Array, width: number, src: Uint32Array, len: number, one: Vec128): void {
  const rows = pat.length / len, patterns = coef.length / width;
  assert(Number.isInteger(width) && width >= 1 && width <= 16 && Number.isInteger(patterns) && patterns <= 256 && src.length === 3 * width && Number.isInteger(len) && len >= 1 && Number.isInteger(rows) && out.length === 4 * pat.length && one.length === 4, 'E_SHAPE', 'ring128.blockComb: the pattern, coefficient, source or output lengths do not fit');
  if (kernels.blockComb128) { kernels.blockComb128(out, x0, x1, pat, coef, width, src, len, one); return; }
  for (let S = 1; S < width && rows > 0; S++) {
    assert(src[3 * S]! <= 1 && len128(src[3 * S] ? x1 : x0) >= src[3 * S + 1]! + (rows - 1) * src[3 * S + 2]! + len, 'E_SHAPE', `ring128.blockComb: monomial ${S} reads past its source`);
  }
  for (let o = 0; o < pat.length; o++) if (pat[o]! >= patterns) assert(false, 'E_BAD_ARGUMENT', `ring128.blockComb: pattern ${pat[o]} at ${o}, expected below ${patterns}`);
  const xs = [x0, x1];
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < len; i++) {
      const o = r * len + i, p = pat[o]!, q = 4 * o;
      out[q] = 0; out[q + 1] = 0; out[q + 2] = 0; out[q + 3] = 0;
      for (let S = 0; S < width; S++) {
        const c = coef[p * width + S]!;
        if (c === 0) continue;
        const x = S === 0 ? one : xs[src[3 * S]!]!, e = S === 0 ? 0 : 4 * (src[3 * S + 1]! + r * src[3 * S + 2]! + i);
        acc1(out, q, x, e, c);
      }
    }
  }
}

/** Sum over the plan of product(selection of A, selection of B) 2^t, mod 2^128, into out (size elements). */
function viaZ64(kernels: Pick<RingKernels, 'add'>, A: Vec128, B: Vec128, size: number, product: (a: BigUint64Array, b: BigUint64Array, out: BigUint64Array) => void, out: Vec128): Vec128 {
  const selA = new Map<string, BigUint64Array>(), selB = new Map<string, BigUint64Array>();
  const get = (cache: Map<string, BigUint64Array>, v: Vec128, sel: Sel): BigUint64Array => {
    let x = cache.get(sel.id);
    if (!x) cache.set(sel.id, (x = select(v, sel)));
    return x;
  };
  const g = new BigUint64Array(size), tmp = new BigUint64Array(size);
  const gw = new Uint32Array(g.buffer);
  out.fill(0);
  for (const [shift, pairs] of PLAN) {
    g.fill(0n);
    for (const [sa, sb] of pairs) {
      product(get(selA, A, sa), get(selB, B, sb), tmp);
      kernels.add(g, tmp, g);
    }
    addShifted(out, gw, size, shift);
  }
  return out;
}

/** out += g 2^shift mod 2^128 for each of n u64 values g (as word pairs), shift a multiple of 16 below 128. */
function addShifted(out: Uint32Array, g: Uint32Array, n: number, shift: number): void {
  const word = shift >>> 5, bits = shift & 31;
  for (let e = 0; e < n; e++) {
    const lo = g[2 * e]!, hi = g[2 * e + 1]!;
    // g 2^bits as three words (the third is 0 when bits = 0).
    const w0 = bits ? (lo << bits) >>> 0 : lo;
    const w1 = bits ? ((lo >>> (32 - bits)) | (hi << bits)) >>> 0 : hi;
    const w2 = bits ? hi >>> (32 - bits) : 0;
    const o = 4 * e + word;
    let t = out[o]! + w0;
    out[o] = t;
    if (word === 3) continue;
    t = out[o + 1]! + w1 + (t > 0xffffffff ? 1 : 0);
    out[o + 1] = t;
    if (word === 2) continue;
    t = out[o + 2]! + w2 + (t > 0xffffffff ? 1 : 0);
    out[o + 2] = t;
    if (word === 1) continue;
    out[o + 3] = out[o + 3]! + (t > 0xffffffff ? 1 : 0);
  }
}

/** dst[o..o+3] += sign src[q..q+3] mod 2^128, word offsets (sign +-1; carries and borrows by hand, as bit-ops.ts accSigned): the TS fallbacks' one signed step. */
function acc1(dst: Uint32Array, o: number, src: Uint32Array, q: number, sign: number): void {
  if (sign > 0) {
    let t = dst[o]! + src[q]!;
    dst[o] = t;
    t = dst[o + 1]! + src[q + 1]! + (t > 0xffffffff ? 1 : 0);
    dst[o + 1] = t;
    t = dst[o + 2]! + src[q + 2]! + (t > 0xffffffff ? 1 : 0);
    dst[o + 2] = t;
    dst[o + 3] = dst[o + 3]! + src[q + 3]! + (t > 0xffffffff ? 1 : 0);
  } else {
    let t = dst[o]! - src[q]!;
    dst[o] = t;
    t = dst[o + 1]! - src[q + 1]! - (t < 0 ? 1 : 0);
    dst[o + 1] = t;
    t = dst[o + 2]! - src[q + 2]! - (t < 0 ? 1 : 0);
    dst[o + 2] = t;
    dst[o + 3] = dst[o + 3]! - src[q + 3]! - (t < 0 ? 1 : 0);
  }
}
