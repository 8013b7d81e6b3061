/**
 * The plaintext half of piecewise-poly.ts: the fit of the pieces on
 * t = |x| >= 0, their fixed-point tables, and the twin (fixed, fixedDraw)
 * that the secure protocol reproduces within 1 ulp. No protocol here; see
 * piecewise-poly.ts for the algorithm, its steps and its error analysis.
 */
import { randomFillSync } from 'node:crypto';
import { assert } from '../errors.js';
import type { SmoothActivation } from './approx.js';

/**
 * A piecewise approximation as the four activation files state it: g is folded onto t = |x| by its symmetry and
 * the pieces fit h on [0, B_K), a constant `tail` beyond.
 *  - 'odd': g(x) - center is odd (sigmoid - 1/2, tanh): g(x) = center + sign(x) h(|x|), h(t) = g(t) - center;
 *  - 'even-relu': g(x) - ReLU(x) is even (silu, gelu): g(x) = h(|x|) + ReLU(x), h(t) = g(t) - t.
 * sign(0) = +1 (DReLU(0) = 1).
 */
export interface PiecewiseSpec {
  name: SmoothActivation['name'];
  /** The true function (reals). */
  target(x: number): number;
  symmetry: 'odd' | 'even-relu';
  /** 'odd': g(0), the value g is odd around (sigmoid 1/2, tanh 0); must be 0 for 'even-relu'. */
  center: number;
  /** Ascending positive dyadic breakpoints of t = |x| (multiples of 1/16): pieces [0, B_1), [B_1, B_2), ..., [B_{K-1}, B_K), tail [B_K, inf). */
  breakpoints: readonly number[];
  /** Polynomial degree of the pieces (cubic: the two multiplication rounds of steps 4-5). */
  degree: 3;
  /** h's constant value on the tail t >= B_K (silu, gelu: 0; sigmoid: 1/2; tanh: 1). */
  tail: number;
}

/** One segment of t: a piece [lo, hi) with its midpoint m and coefficients c (ascending powers of u = t - m), or the tail (m = 0, c = [tail, 0, 0, 0], hi = Infinity). */
export interface Segment { lo: number; hi: number; m: number; c: readonly number[] }

/** Extra fractional bits of the coefficients over f (F = f + COEF_EXTRA_BITS). */
export const COEF_EXTRA_BITS = 5;
/** Extra fractional bits of w = u^2 over f (w at f + 2 bits). */
export const W_EXTRA_BITS = 2;

/** h(t) of the spec: what the pieces fit on t >= 0. */
export const foldedTarget = (spec: PiecewiseSpec): ((t: number) => number) => (spec.symmetry === 'odd' ? (t) => spec.target(t) - spec.center : (t) => spec.target(t) - t);

/** Least-squares fit of h on [a, b] in powers of u = x - (a+b)/2, on 64 Chebyshev nodes. */
function fitSegment(h: (x: number) => number, a: number, b: number, d: number): number[] {
  const nodes = 64, mid = (a + b) / 2;
  const M = Array.from({ length: d + 1 }, () => new Array<number>(d + 2).fill(0));
  for (let i = 0; i < nodes; i++) {
    const x = mid + ((b - a) / 2) * Math.cos((Math.PI * (i + 0.5)) / nodes), u = x - mid, y = h(x);
    for (let r = 0; r <= d; r++) {
      for (let c = 0; c <= d; c++) M[r]![c]! += u ** (r + c);
      M[r]![d + 1]! += u ** r * y;
    }
  }
  // Gaussian elimination with partial pivoting on the (d+1) x (d+1) normal equations.
  for (let c = 0; c <= d; c++) {
    let p = c;
    for (let r = c + 1; r <= d; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[p]![c]!)) p = r;
    [M[c], M[p]] = [M[p]!, M[c]!];
    for (let r = 0; r <= d; r++) {
      if (r === c) continue;
      const q = M[r]![c]! / M[c]![c]!;
      for (let k = c; k <= d + 1; k++) M[r]![k]! -= q * M[c]![k]!;
    }
  }
  return M.map((row, i) => row[d + 1]! / row[i]!);
}

/** The K pieces on [0, B_K) and the tail, fitted once (module load, deterministic). */
export function buildSegments(spec: PiecewiseSpec): Segment[] {
  const B = spec.breakpoints, K = B.length, d = spec.degree;
  assert(K >= 1 && d === 3 && (spec.symmetry === 'odd' || spec.center === 0), 'E_INTERNAL', `${spec.name}: malformed piecewise spec`);
  for (let k = 0; k < K; k++) assert(Number.isInteger(B[k]! * 16) && B[k]! > (k === 0 ? 0 : B[k - 1]!), 'E_INTERNAL', `${spec.name}: breakpoints must be positive and ascend in multiples of 1/16`);
  const h = foldedTarget(spec);
  const segs: Segment[] = [];
  for (let s = 0; s < K; s++) {
    const lo = s === 0 ? 0 : B[s - 1]!, hi = B[s]!;
    segs.push({ lo, hi, m: (lo + hi) / 2, c: fitSegment(h, lo, hi, d) });
  }
  segs.push({ lo: B[K - 1]!, hi: Infinity, m: 0, c: [spec.tail, ...new Array<number>(d).fill(0)] });
  return segs;
}

/** The approximation in real arithmetic: fold, evaluate the piece of |x|, unfold. */
export function floatPiecewise(spec: PiecewiseSpec, segs: readonly Segment[], x: number): number {
  const t = Math.abs(x);
  let s = 0;
  while (s < spec.breakpoints.length && t >= spec.breakpoints[s]!) s++;
  const seg = segs[s]!, u = t - seg.m;
  let v = 0;
  for (let j = spec.degree; j >= 0; j--) v = v * u + seg.c[j]!;
  return spec.symmetry === 'odd' ? spec.center + (x >= 0 ? v : -v) : v + Math.max(x, 0);
}

/**
 * Bound (ulp of the output) of |h_secure - h_twin| before the last rounding, from the floor-or-floor+1
 * truncations of w and z: (|a_2| + |a_3| r)/4 + r^2/32 + 1/128 over the pieces of half-width r (the real
 * coefficients; F = f + 5).
 */
export function twinSlackUlps(segments: readonly Segment[]): number {
  let worst = 0;
  for (const s of segments) {
    if (s.hi === Infinity) continue;
    const r = (s.hi - s.lo) / 2, c = s.c;
    worst = Math.max(worst, (Math.abs(c[2]!) + Math.abs(c[3]!) * r) / 4 + (r * r) / 2 ** COEF_EXTRA_BITS + 1 / 128);
  }
  return worst;
}

// ---- fixed-point tables and the twin ----

export interface Table {
  F: number;
  /** Breakpoints at f bits. */
  B: bigint[];
  /** Per segment: midpoint at f bits, coefficients at F bits. */
  M: bigint[];
  A: bigint[][];
  /** 'odd': the centre at f bits. */
  C: bigint;
}

const encodeAt = (v: number, bits: number): bigint => BigInt(Math.round(v * 2 ** bits));

export function tableFor(spec: PiecewiseSpec, segs: readonly Segment[], f: number): Table {
  const F = f + COEF_EXTRA_BITS;
  return {
    F,
    B: spec.breakpoints.map((b) => encodeAt(b, f)),
    M: segs.map((s) => encodeAt(s.m, f)),
    A: segs.map((s) => s.c.map((c) => encodeAt(c, F))),
    C: encodeAt(spec.center, f),
  };
}

const floorDiv = (a: bigint, b: bigint): bigint => {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
};

/**
 * The twin: the protocol's steps on ring integers with floor truncations, the last one rounded to nearest. With
 * `draw` (uniform in [0, 1)) it is instead one draw of what the protocol computes: every truncation floor + 1
 * with probability the dropped fraction (local and exact truncation alike), else floor; the secure result has
 * exactly that distribution. The fold (|x|, ReLU(x), the sign) is exact in both.
 */
export function fixedPiecewise(spec: PiecewiseSpec, t: Table, x: BigUint64Array, f: number, draw?: () => number): BigUint64Array {
  const out = new BigUint64Array(x.length);
  const one = 1n << BigInt(f), last = 1n << BigInt(t.F + W_EXTRA_BITS), half = last >> 1n, four = 1n << BigInt(W_EXTRA_BITS);
  const odd = spec.symmetry === 'odd';
  const trunc = (a: bigint, d: bigint): bigint => {
    const q = floorDiv(a, d);
    return draw && draw() < Number(a - q * d) / Number(d) ? q + 1n : q;
  };
  for (let i = 0; i < x.length; i++) {
    const X = BigInt.asIntN(64, x[i]!), pos = X >= 0n, T = pos ? X : -X;
    let s = 0;
    while (s < t.B.length && T >= t.B[s]!) s++;
    const U = T - t.M[s]!, A = t.A[s]!;
    const W = trunc(four * U * U, one), Z = trunc(A[3]! * U + A[2]! * one, one);
    const rest = Z * W + four * (A[1]! * U + A[0]! * one);
    const H = draw ? trunc(rest, last) : floorDiv(rest + half, last);
    const y = odd ? t.C + (pos ? H : -H) : H + (pos ? X : 0n);
    out[i] = BigInt.asUintN(64, y);
  }
  return out;
}

/**
 * Sum and largest of |v| (ring units) over the values securePiecewise truncates for inputs x (step 4: w = 4 u u and
 * z = a_3 u + a_2 2^f by f bits; step 5: p + 4 (a_1 u + a_0 2^f) by F + 2 bits), each a local truncation that fails
 * with probability about |v| / 2^64 (truncate.ts): the importer's risk estimate (ir-kit/arith.ts FixedRisk). A tail
 * element's w is left out: z = 0 there, so p = z w = 0 whatever w's truncation gives.
 */
export function piecewiseTruncated(t: Table, x: BigUint64Array, f: number): { sum: number; largest: number } {
  const one = 1n << BigInt(f), four = 1n << BigInt(W_EXTRA_BITS);
  let sum = 0, largest = 0;
  const add = (v: bigint): void => { const m = Math.abs(Number(v)); sum += m; if (m > largest) largest = m; };
  for (let i = 0; i < x.length; i++) {
    const X = BigInt.asIntN(64, x[i]!), T = X >= 0n ? X : -X;
    let s = 0;
    while (s < t.B.length && T >= t.B[s]!) s++;
    const U = T - t.M[s]!, A = t.A[s]!;
    const W = four * U * U, Z = A[3]! * U + A[2]! * one;
    if (s < t.B.length) add(W);
    add(Z);
    add(floorDiv(Z, one) * floorDiv(W, one) + four * (A[1]! * U + A[0]! * one));
  }
  return { sum, largest };
}

/** Uniform reals in [0, 1) from node:crypto, 64k at a time. */
export function uniformDraws(): () => number {
  const pool = new Uint32Array(65536);
  let at = pool.length;
  return () => {
    if (at === pool.length) { randomFillSync(pool); at = 0; }
    return pool[at++]! / 2 ** 32;
  };
}
