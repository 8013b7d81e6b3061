/**
 * The ring Z_2^128 = Z_2^(k+s), k = 64, s = 64, of the malicious mode
 * (docs/MALICIOUS.md; SPDZ_2k, Cramer et al., CRYPTO 2018, §3: values live in
 * Z_2^k, shares and MACs in Z_2^(k+s)).
 *
 * A vector of n elements is a Uint32Array of 4n little-endian words,
 * element i at words 4i..4i+3 (interleaved lanes). No BigInt per element:
 * products split words into 16-bit limbs whose products (< 2^32) and sums of
 * up to 2^16 products stay exact in doubles, carries are propagated once per
 * output. BigInt appears only in the conversions for tests and per-call
 * scalars (`fromBigints`, `toBigints`, `scalar128`).
 *
 * Every operation is mod 2^128; only the low 64 bits carry a fixed-point
 * value (`low64`), the high bits are the SPDZ_2k slack. The protocols run
 * their products on the context's kernels instead (gemm128.ts: the native
 * unsigned __int128 kernels when present, else Z_2^64 products; equal bit
 * for bit); the products here are the reference for those.
 */
import { assert } from '../errors.js';
import type { Prg } from '../correlated/prg.js';

/** n elements of Z_2^128, 4 words each. */
export type Vec128 = Uint32Array & { readonly __ring: 'Z_2^128' };

export const WORD_BYTES = 16;
const TWO16 = 65536;
const TWO32 = 4294967296;
/** Dot products longer than this are cut in blocks (a limb sum stays below 2^52). */
const BLOCK = 1 << 16;

export const alloc128 = (n: number): Vec128 => new Uint32Array(4 * n) as Vec128;
export const len128 = (v: Vec128): number => v.length >>> 2;

/** The bytes of v (a view, not a copy), as a message payload. */
export const bytes128 = (v: Vec128): Uint8Array => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

/** A vector from a payload of 16n bytes (copied, so the result is aligned). */
export function fromBytes128(b: Uint8Array): Vec128 {
  assert(b.byteLength % WORD_BYTES === 0, 'E_SHAPE', `ring128: a payload of ${b.byteLength} bytes is not a whole number of 16-byte words`);
  const out = alloc128(b.byteLength / WORD_BYTES);
  bytes128(out).set(b);
  return out;
}

/**
 * A received payload of 16n bytes as a vector without a copy when it is
 * 4-byte aligned (the transports hand the receiver a buffer of its own: the
 * in-memory one copies on send, gRPC decodes into a fresh one), else copied.
 */
export function view128(b: Uint8Array): Vec128 {
  assert(b.byteLength % WORD_BYTES === 0, 'E_SHAPE', `ring128: a payload of ${b.byteLength} bytes is not a whole number of 16-byte words`);
  if (b.byteOffset % 4 !== 0) return fromBytes128(b);
  return new Uint32Array(b.buffer, b.byteOffset, b.byteLength >>> 2) as Vec128;
}

/** n uniform elements from a PRG (16n bytes of its stream). */
export function random128(prg: Prg, n: number): Vec128 {
  const out = alloc128(n);
  prg.fill(bytes128(out));
  return out;
}

const same = (op: string, a: Vec128, b: Vec128, out: Vec128): void => {
  assert(a.length === b.length && a.length === out.length, 'E_SHAPE', `ring128.${op}: lengths ${len128(a)}, ${len128(b)}, ${len128(out)} differ`);
};

/** out = a + b mod 2^128. */
export function add128(a: Vec128, b: Vec128, out: Vec128): Vec128 {
  same('add', a, b, out);
  for (let i = 0; i < a.length; i += 4) {
    let t = a[i]! + b[i]!;
    out[i] = t;
    t = a[i + 1]! + b[i + 1]! + (t > 0xffffffff ? 1 : 0);
    out[i + 1] = t;
    t = a[i + 2]! + b[i + 2]! + (t > 0xffffffff ? 1 : 0);
    out[i + 2] = t;
    out[i + 3] = a[i + 3]! + b[i + 3]! + (t > 0xffffffff ? 1 : 0);
  }
  return out;
}

/** out = a - b mod 2^128. */
export function sub128(a: Vec128, b: Vec128, out: Vec128): Vec128 {
  same('sub', a, b, out);
  for (let i = 0; i < a.length; i += 4) {
    let t = a[i]! - b[i]!;
    out[i] = t;
    t = a[i + 1]! - b[i + 1]! - (t < 0 ? 1 : 0);
    out[i + 1] = t;
    t = a[i + 2]! - b[i + 2]! - (t < 0 ? 1 : 0);
    out[i + 2] = t;
    out[i + 3] = a[i + 3]! - b[i + 3]! - (t < 0 ? 1 : 0);
  }
  return out;
}

/** out = -a mod 2^128. */
export const neg128 = (a: Vec128, out: Vec128): Vec128 => sub128(alloc128(len128(a)), a, out);

export function equal128(a: Vec128, b: Vec128): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function isZero128(a: Vec128): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) return false;
  return true;
}

/** The 8 16-bit limbs of element e of v into dst[off..off+8). */
function limbs(v: Uint32Array, e: number, dst: Float64Array, off: number): void {
  for (let w = 0; w < 4; w++) {
    const x = v[4 * e + w]!;
    dst[off + 2 * w] = x & 0xffff;
    dst[off + 2 * w + 1] = x >>> 16;
  }
}

/** acc[o..o+8) += a[ai..ai+8) * b[bi..bi+8) as limb convolution, truncated at limb 8 (mod 2^128). */
function convAcc(acc: Float64Array, o: number, a: Float64Array, ai: number, b: Float64Array, bi: number): void {
  for (let u = 0; u < 8; u++) {
    const x = a[ai + u]!;
    if (x === 0) continue;
    for (let w = 0; w < 8 - u; w++) acc[o + u + w]! += x * b[bi + w]!;
  }
}

/** Adds the limb accumulator acc[o..o+8) (each < 2^52) to element e of out, mod 2^128. */
function flushAdd(acc: Float64Array, o: number, out: Uint32Array, e: number): void {
  let carry = 0;
  for (let w = 0; w < 4; w++) {
    const cur = out[4 * e + w]!;
    const lo = acc[o + 2 * w]! + carry + (cur & 0xffff);
    const l0 = lo % TWO16;
    const hi = acc[o + 2 * w + 1]! + (lo - l0) / TWO16 + (cur >>> 16);
    const l1 = hi % TWO16;
    carry = (hi - l1) / TWO16;
    out[4 * e + w] = l0 + l1 * TWO16;
  }
}

/** out = a * b mod 2^128, elementwise. */
export function mul128(a: Vec128, b: Vec128, out: Vec128): Vec128 {
  same('mul', a, b, out);
  const la = new Float64Array(8), lb = new Float64Array(8), acc = new Float64Array(8);
  for (let e = 0; e < len128(a); e++) {
    limbs(a, e, la, 0);
    limbs(b, e, lb, 0);
    acc.fill(0);
    convAcc(acc, 0, la, 0, lb, 0);
    out.fill(0, 4 * e, 4 * e + 4);
    flushAdd(acc, 0, out, e);
  }
  return out;
}

/** A per-call scalar of Z_2^128 (bigint, reduced mod 2^128) as a 1-element vector. */
export function scalar128(s: bigint): Vec128 {
  return fromBigints([s]);
}

/** out = s * a mod 2^128 for one public scalar s (a 1-element vector). */
export function mulScalar128(a: Vec128, s: Vec128, out: Vec128): Vec128 {
  assert(s.length === 4, 'E_SHAPE', `ring128.mulScalar: the scalar has ${len128(s)} elements, expected 1`);
  assert(a.length === out.length, 'E_SHAPE', `ring128.mulScalar: lengths ${len128(a)} and ${len128(out)} differ`);
  const ls = new Float64Array(8), la = new Float64Array(8), acc = new Float64Array(8);
  limbs(s, 0, ls, 0);
  for (let e = 0; e < len128(a); e++) {
    limbs(a, e, la, 0);
    acc.fill(0);
    convAcc(acc, 0, ls, 0, la, 0);
    out.fill(0, 4 * e, 4 * e + 4);
    flushAdd(acc, 0, out, e);
  }
  return out;
}

/**
 * out = A B mod 2^128 for A (m x k) and B (k x n), row-major; out (m x n)
 * is overwritten. Limb products accumulate in doubles over blocks of 2^16
 * terms and are carried into out once per block.
 */
export function matmul128(A: Vec128, B: Vec128, m: number, k: number, n: number, out: Vec128): Vec128 {
  assert(len128(A) === m * k && len128(B) === k * n && len128(out) === m * n, 'E_SHAPE', `ring128.matmul: expected ${m}x${k} by ${k}x${n} into ${m}x${n}, got ${len128(A)}, ${len128(B)}, ${len128(out)} elements`);
  out.fill(0);
  const lb = new Float64Array(8 * k * n);
  for (let e = 0; e < k * n; e++) limbs(B, e, lb, 8 * e);
  const la = new Float64Array(8), acc = new Float64Array(8 * n);
  for (let i = 0; i < m; i++) {
    for (let p0 = 0; p0 < k; p0 += BLOCK) {
      acc.fill(0);
      for (let p = p0; p < Math.min(k, p0 + BLOCK); p++) {
        limbs(A, i * k + p, la, 0);
        for (let j = 0; j < n; j++) convAcc(acc, 8 * j, la, 0, lb, 8 * (p * n + j));
      }
      for (let j = 0; j < n; j++) flushAdd(acc, 8 * j, out, i * n + j);
    }
  }
  return out;
}

/** out = sum_j c[j] * v[j] over the elements of one vector v and public coefficients c (same length), as a 1-element vector. */
export function dot128(c: Vec128, v: Vec128): Vec128 {
  return matmul128(c, v, 1, len128(c), 1, alloc128(1));
}

/** x in Z_2^64 (two's complement) sign-extended into Z_2^128: the lift of a fixed-point value. */
export function liftSigned(x: BigUint64Array): Vec128 {
  const out = alloc128(x.length);
  const w = new Uint32Array(x.buffer, x.byteOffset, 2 * x.length);
  for (let e = 0; e < x.length; e++) {
    const hi = w[2 * e + 1]!;
    const ext = hi >= 0x80000000 ? 0xffffffff : 0;
    out[4 * e] = w[2 * e]!;
    out[4 * e + 1] = hi;
    out[4 * e + 2] = ext;
    out[4 * e + 3] = ext;
  }
  return out;
}

/** The low 64 bits of each element: the value in Z_2^64 (the fixed-point ring). */
export function low64(v: Vec128): BigUint64Array {
  const out = new BigUint64Array(len128(v));
  const w = new Uint32Array(out.buffer);
  for (let e = 0; e < out.length; e++) {
    w[2 * e] = v[4 * e]!;
    w[2 * e + 1] = v[4 * e + 1]!;
  }
  return out;
}

/** Conversions for tests and scalars (BigInt per element: not for hot paths). */
export function fromBigints(xs: readonly bigint[]): Vec128 {
  const out = alloc128(xs.length);
  xs.forEach((x0, e) => {
    let x = BigInt.asUintN(128, x0);
    for (let w = 0; w < 4; w++) {
      out[4 * e + w] = Number(x & 0xffffffffn);
      x >>= 32n;
    }
  });
  return out;
}

export function toBigints(v: Vec128): bigint[] {
  return Array.from({ length: len128(v) }, (_, e) => {
    let x = 0n;
    for (let w = 3; w >= 0; w--) x = (x << 32n) | BigInt(v[4 * e + w]!);
    return x;
  });
}
