/**
 * Piecewise polynomial evaluation over shares: the common engine of
 * sigmoid.ts, silu.ts, tanh.ts and gelu.ts. Not an algorithm of SecureNN
 * (which has only ReLU-type activations); the method is SecureML's piecewise
 * sigmoid (Mohassel-Zhang, S&P 2017, Sect. 4.3: compare against public
 * breakpoints, select a piece) with polynomial pieces of degree 3 instead of
 * linear ones, as Falcon (Wagh et al., PoPETs 2021) and SIRNN-style spline
 * approximations (Rathee et al., S&P 2021) do for smooth functions.
 *
 * The approximation. Breakpoints B_0 < ... < B_{K-1} (dyadic, so exact in
 * fixed point for f >= 4) cut the line into K + 1 segments: segment 0 is
 * (-inf, B_0), segment s (1 <= s < K) is [B_{s-1}, B_s), segment K is
 * [B_{K-1}, inf). Segment s computes
 *     P_s(u) + lambda_s x,   u = x - m_s,
 * with m_s the segment's midpoint (0 outside), P_s = a_0 + a_1 u + a_2 u^2 +
 * a_3 u^3 a cubic in the centred u (least squares on 64 Chebyshev nodes of
 * the segment, a near-minimax fit; the centring keeps every coefficient
 * below 1 in magnitude) and lambda_s in {0, 1} an exact integer linear part
 * (silu and gelu: 1 for x >= 0, so the pieces fit the small, even function
 * g(x) - x there, and the right tail is x itself). The outer segments are
 * constants (the saturation values) with lambda as given.
 *
 * Protocol (P0, P1 hold x at f fractional bits; P2 helps):
 *  1. One batch of K comparisons: d_k = DReLU(x - B_k 2^f) for k < K (n K
 *     elements, one call of the context's comparison: 3 rounds with the
 *     direct route). d_k = [x >= B_k]; d is monotone in k, so segment s is
 *     selected by d_{s-1} (1 - d_s).
 *  2. Local selection: every per-segment public value T_s (coefficients at F
 *     fractional bits, midpoints at f, lambda) is T_0 + sum_k d_k (T_{k+1} -
 *     T_k): public integers times shared bits, no communication.
 *     u = x - m (local).
 *  3. One multiplication round (SecureNN Alg. 1, elementwise, one batch):
 *     u u, a_3 u, a_1 u, and lambda x (exact: lambda is an integer). Then
 *     w = Trunc_f(4 u u) (f + 2 bits), z = Trunc_f(a_3 u + a_2 2^f) (F bits),
 *     one truncation call on both.
 *  4. One multiplication round: p = z w, so P = a_0 + a_1 u + u^2 (a_2 + a_3 u):
 *     y = Trunc_{F+2}(p + 4 (a_1 u + a_0 2^f)) + lambda x (f bits).
 * Truncations follow ctx.truncation: local (truncate.ts, 0 rounds) or exact
 * (truncate-exact.ts, 2 rounds each).
 *
 * Fixed-point precision. Coefficients carry F = f + 5 fractional bits. Each
 * truncation gives floor or floor + 1, so p differs from the twin's (floor
 * truncations) by at most |z| 2^-(f+2) + |w| 2^-F real, at most
 * twinSlackUlps = max over pieces of (|a_2| + |a_3| h)/4 + h^2/32 (+ 1/128)
 * ulp for half-width h (under 0.2 ulp for the four activations; a test checks
 * < 1/2). The twin (fixedPiecewise) rounds the last step to nearest, so
 * secure = twin + {-1, 0, 1} ulp. The twin differs from the real
 * approximation by coefficient rounding (sum_j h^j 2^-(F+1) <= 0.31 ulp),
 * the floors of w, z (< 0.2 ulp) and its final rounding (1/2 ulp).
 *
 * Range. Comparisons are exact while every x - B_k stays within the
 * comparison ring: |x| <= 2^(31-f) - max|B_k| - 1 (real units) with
 * ctx.compareBits = 32 (8179 at f = 18 for silu's |B| <= 12), 2^(62-f) -
 * max|B_k| - 1 with 64 (comparableLimit). Beyond it the segment is wrong.
 * In the tails every coefficient but a_0 is exactly 0 and u = x, so z = 0
 * (both truncations map a sharing of 0 to 0: no low bits carry) and p = 0
 * whatever w is: a large |x| whose u u wraps or whose truncation
 * fails never reaches the output (lambda x is an exact product). Inside the
 * pieces the truncated values are below 2^(2f+9) ring units; local
 * truncation fails with probability about 2^(2f+10-64) per truncation
 * (2^-18 at f = 18, 2^-28 at f = 13; PROTOCOL-NOTES), three per element: at
 * f >= 16 a model with millions of these activations wants truncation
 * 'exact'.
 *
 * Cost: the comparison batch (n K elements) + 2 multiplication rounds
 * (3 n + n elements, 160 n bytes; 200 n with lambda x) + with exact
 * truncation 2 truncations (2 rounds each, 64 n + 32 n bytes). Direct route:
 * 5 rounds (local truncation), 9 (exact); the paper's route (securenn):
 * 8 + 2 = 10 (local).
 */
import { randomFillSync } from 'node:crypto';
import type { ComparisonMode, PartyContext, TruncationMode } from '../context.js';
import { assert } from '../errors.js';
import { checkFracBits } from '../fixed-point/fixed-point.js';
import type { AShare } from '../ring/types.js';
import { dreluFor } from './compare.js';
import { addCost, type Cost } from './cost.js';
import { dreluCost } from './drelu.js';
import { mulCost, mulShares } from './matmul.js';
import { dreluDirectCost } from './relu-direct.js';
import { truncate } from './truncate.js';
import { truncateExact, truncateExactCost } from './truncate-exact.js';
import type { SmoothActivation } from './approx.js';

/** A piecewise approximation as the four activation files state it. */
export interface PiecewiseSpec {
  name: SmoothActivation['name'];
  /** The true function (reals). */
  target(x: number): number;
  /** Ascending dyadic breakpoints (multiples of 1/16). */
  breakpoints: readonly number[];
  /** Polynomial degree of the inner pieces (cubic: the two multiplication rounds of step 3-4). */
  degree: 3;
  /** Constant value of the left tail (x < B_0) and right tail (x >= B_{K-1}), besides lambda x. */
  left: number;
  right: number;
  /** lambda_s for the K + 1 segments (exact integer linear part, 0 or 1). */
  lambda: readonly (0 | 1)[];
}

/** Options that change the declared cost: the context's comparison route and truncation (defaults as createContext's). */
export interface ApproxCostOptions {
  comparison?: ComparisonMode;
  compareBits?: 32 | 64;
  compareRadix?: 2 | 4;
  truncation?: TruncationMode;
}

/** Options of a context, as cost wants them. */
export const costOptionsOf = (ctx: PartyContext): ApproxCostOptions => ({ comparison: ctx.comparison, compareBits: ctx.compareBits, compareRadix: ctx.compareRadix, truncation: ctx.truncation });

/** A SmoothActivation built from a spec, with the cost taking the context's options and the segment table exposed. */
export interface PiecewiseActivation extends SmoothActivation {
  cost(n: number, f: number, opts?: ApproxCostOptions): Cost;
  readonly spec: PiecewiseSpec;
  /** Real coefficients (ascending powers of u) and midpoints of the K + 1 segments. */
  readonly segments: readonly { m: number; c: readonly number[]; lambda: 0 | 1 }[];
}

/** Extra fractional bits of the coefficients over f (F = f + COEF_EXTRA_BITS). */
export const COEF_EXTRA_BITS = 5;

/**
 * Largest |x| (real units) whose comparisons against every breakpoint are exact: every x - B_k must stay
 * within +-2^31 ring units on the 32-bit comparison ring, +-2^62 on the 64-bit one (drelu.ts's range; the
 * direct route holds more, the subtraction x - B_k must not wrap either way). 2^(w-f) - max|B_k| - 1.
 */
export function comparableLimit(spec: Pick<PiecewiseSpec, 'breakpoints'>, f: number, compareBits: 32 | 64): number {
  const bmax = Math.max(...spec.breakpoints.map(Math.abs));
  return 2 ** ((compareBits === 32 ? 31 : 62) - f) - bmax - 1;
}

// ---- fitting (module load, deterministic) ----

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

function buildSegments(spec: PiecewiseSpec): { m: number; c: number[]; lambda: 0 | 1 }[] {
  const B = spec.breakpoints, K = B.length, d = spec.degree;
  assert(K >= 1 && spec.lambda.length === K + 1 && d === 3, 'E_INTERNAL', `${spec.name}: malformed piecewise spec`);
  for (let k = 0; k < K; k++) assert(Number.isInteger(B[k]! * 16) && (k === 0 || B[k]! > B[k - 1]!), 'E_INTERNAL', `${spec.name}: breakpoints must ascend in multiples of 1/16`);
  const tail = (v: number, lambda: 0 | 1) => ({ m: 0, c: [v, ...new Array<number>(d).fill(0)], lambda });
  const segs = [tail(spec.left, spec.lambda[0]!)];
  for (let s = 1; s < K; s++) {
    const lambda = spec.lambda[s]!, a = B[s - 1]!, b = B[s]!;
    segs.push({ m: (a + b) / 2, c: fitSegment((x) => spec.target(x) - lambda * x, a, b, d), lambda });
  }
  segs.push(tail(spec.right, spec.lambda[K]!));
  return segs;
}

// ---- fixed-point tables ----

interface Table {
  F: number;
  /** Breakpoints at f bits. */
  B: bigint[];
  /** Per segment: midpoint at f bits, coefficients at F bits, lambda. */
  M: bigint[];
  A: bigint[][];
  L: bigint[];
}

const encodeAt = (v: number, bits: number): bigint => BigInt(Math.round(v * 2 ** bits));

function tableFor(spec: PiecewiseSpec, segs: readonly { m: number; c: readonly number[]; lambda: 0 | 1 }[], f: number): Table {
  const F = f + COEF_EXTRA_BITS;
  return {
    F,
    B: spec.breakpoints.map((b) => encodeAt(b, f)),
    M: segs.map((s) => encodeAt(s.m, f)),
    A: segs.map((s) => s.c.map((c) => encodeAt(c, F))),
    L: segs.map((s) => BigInt(s.lambda)),
  };
}

const floorDiv = (a: bigint, b: bigint): bigint => {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
};

/**
 * The twin: steps 3-4 with floor truncations, the last one rounded to nearest. With `draw` (uniform in [0, 1)) it
 * is instead one draw of what the protocol computes: every truncation floor + 1 with probability the dropped
 * fraction (local and exact truncation alike), else floor; the secure result has exactly that distribution.
 */
function fixedPiecewise(t: Table, x: BigUint64Array, f: number, draw?: () => number): BigUint64Array {
  const out = new BigUint64Array(x.length);
  const one = 1n << BigInt(f), last = 1n << BigInt(t.F + W_EXTRA_BITS), half = last >> 1n, four = 1n << BigInt(W_EXTRA_BITS);
  const trunc = (a: bigint, d: bigint): bigint => {
    const q = floorDiv(a, d);
    return draw && draw() < Number(a - q * d) / Number(d) ? q + 1n : q;
  };
  for (let i = 0; i < x.length; i++) {
    const X = BigInt.asIntN(64, x[i]!);
    let s = 0;
    while (s < t.B.length && X >= t.B[s]!) s++;
    const U = X - t.M[s]!, A = t.A[s]!;
    const W = trunc(four * U * U, one), Z = trunc(A[3]! * U + A[2]! * one, one);
    const rest = Z * W + four * (A[1]! * U + A[0]! * one);
    const y = (draw ? trunc(rest, last) : floorDiv(rest + half, last)) + t.L[s]! * X;
    out[i] = BigInt.asUintN(64, y);
  }
  return out;
}

/** Uniform reals in [0, 1) from node:crypto, 64k at a time. */
function uniformDraws(): () => number {
  const pool = new Uint32Array(65536);
  let at = pool.length;
  return () => {
    if (at === pool.length) { randomFillSync(pool); at = 0; }
    return pool[at++]! / 2 ** 32;
  };
}

/** Extra fractional bits of w = u^2 over f (w at f + 2 bits). */
const W_EXTRA_BITS = 2;

/**
 * Bound (ulp of the output) of |p_secure - p_twin| / 2^(F+2) from the floor-or-floor+1 truncations of w and z:
 * (|a_2| + |a_3| h)/4 + h^2/32 + 1/128 over the inner pieces of half-width h (the real coefficients; F = f + 5).
 */
export function twinSlackUlps(spec: PiecewiseSpec, segments: readonly { c: readonly number[] }[]): number {
  let worst = 0;
  for (let s = 1; s < spec.breakpoints.length; s++) {
    const h = (spec.breakpoints[s]! - spec.breakpoints[s - 1]!) / 2, c = segments[s]!.c;
    worst = Math.max(worst, (Math.abs(c[2]!) + Math.abs(c[3]!) * h) / 4 + (h * h) / 2 ** COEF_EXTRA_BITS + 1 / 128);
  }
  return worst;
}

function floatPiecewise(spec: PiecewiseSpec, segs: readonly { m: number; c: readonly number[]; lambda: 0 | 1 }[], x: number): number {
  let s = 0;
  while (s < spec.breakpoints.length && x >= spec.breakpoints[s]!) s++;
  const seg = segs[s]!, u = x - seg.m;
  let v = 0;
  for (let j = spec.degree; j >= 0; j--) v = v * u + seg.c[j]!;
  return v + seg.lambda * x;
}

// ---- protocol ----

const truncFor = (ctx: PartyContext, x: AShare, bits: number, label: string): Promise<AShare> =>
  ctx.truncation === 'exact' ? truncateExact(ctx, x, bits, label) : Promise.resolve(truncate(ctx, x, bits));

/** Step 2: T_0 (P0 only) + sum_k d_k (T_{k+1} - T_k), for a public per-segment column T. */
function selectColumn(ctx: PartyContext, d: BigUint64Array, n: number, T: readonly bigint[]): AShare {
  const k = ctx.kernels, out = new BigUint64Array(n), tmp = new BigUint64Array(n);
  if (ctx.party === 0 && T[0]! !== 0n) out.fill(BigInt.asUintN(64, T[0]!));
  for (let s = 0; s + 1 < T.length; s++) {
    const delta = BigInt.asUintN(64, T[s + 1]! - T[s]!);
    if (delta === 0n) continue;
    k.mulScalar(d.subarray(s * n, (s + 1) * n), delta, tmp);
    k.add(out, tmp, out);
  }
  return out as AShare;
}

async function securePiecewise(ctx: PartyContext, spec: PiecewiseSpec, tables: Map<number, Table>, x: AShare, f: number, label: string): Promise<AShare> {
  const t = tables.get(f)!;
  const k = ctx.kernels, n = x.length, K = t.B.length;
  const hasLambda = t.L.some((l) => l !== 0n);
  const helper = ctx.party === 2;
  // Step 1: one comparison batch, x - B_k for every breakpoint.
  const diffs = new BigUint64Array(n * K);
  if (!helper) {
    for (let s = 0; s < K; s++) {
      const seg = diffs.subarray(s * n, (s + 1) * n);
      seg.set(x);
      if (ctx.party === 0) k.addScalar(seg, BigInt.asUintN(64, -t.B[s]!), seg);
    }
  }
  const bits = await dreluFor(ctx, diffs as AShare, `${label}.cmp`);
  // Step 2: local selection of the segment's midpoint, coefficients and lambda; u = x - m.
  const col = (T: readonly bigint[]): AShare => (helper ? (new BigUint64Array(n) as AShare) : selectColumn(ctx, bits, n, T));
  const u = col(t.M);
  if (!helper) k.sub(x, u, u);
  const a = [0, 1, 2, 3].map((j) => col(t.A.map((row) => row[j]!)));
  const lam = hasLambda ? col(t.L) : null;
  // Step 3: u u, a_3 u, a_1 u (and lambda x) in one round; w = Trunc_f(4 u u), z = Trunc_f(a_3 u + a_2 2^f) in one call.
  const left = concatAll(lam ? [u, a[3]!, a[1]!, lam] : [u, a[3]!, a[1]!]), right = concatAll(lam ? [u, u, u, x] : [u, u, u]);
  const prod = await mulShares(ctx, left, right, `${label}.m1`);
  const wz = prod.subarray(0, 2 * n) as AShare;
  if (!helper) {
    const w = wz.subarray(0, n), z = wz.subarray(n);
    k.mulScalar(w, 1n << BigInt(W_EXTRA_BITS), w);
    k.mulScalar(a[2]!, 1n << BigInt(f), a[2]!);
    k.add(z, a[2]!, z);
  }
  const wzT = await truncFor(ctx, wz.slice() as AShare, f, `${label}.t1`);
  // Step 4: p = z w; y = Trunc_{F+2}(p + 4 (a_1 u + a_0 2^f)) + lambda x.
  const p = await mulShares(ctx, wzT.subarray(n) as AShare, wzT.subarray(0, n) as AShare, `${label}.m2`);
  if (!helper) {
    const rest = prod.subarray(2 * n, 3 * n);
    k.mulScalar(a[0]!, 1n << BigInt(f), a[0]!);
    k.add(rest, a[0]!, rest);
    k.mulScalar(rest, 1n << BigInt(W_EXTRA_BITS), rest);
    k.add(p, rest, p);
  }
  const y = await truncFor(ctx, p, t.F + W_EXTRA_BITS, `${label}.t2`);
  if (helper) return new BigUint64Array(n) as AShare;
  if (lam) k.add(y, prod.subarray(3 * n), y);
  return y;
}

const concatAll = (parts: BigUint64Array[]): AShare => {
  const out = new BigUint64Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out as AShare;
};

/** Declared cost of securePiecewise on n elements. */
export function piecewiseCost(spec: PiecewiseSpec, n: number, opts: ApproxCostOptions = {}): Cost {
  const K = spec.breakpoints.length;
  const mode = opts.comparison ?? 'direct', bits = opts.compareBits ?? 64, radix = opts.compareRadix ?? 4;
  const cmp = mode === 'direct' ? dreluDirectCost(n * K, bits, radix) : dreluCost(n * K);
  const hasLambda = spec.lambda.some((l) => l !== 0);
  const exact = opts.truncation === 'exact';
  const zero: Cost = { rounds: 0, bytes: 0 };
  return addCost(cmp, mulCost((hasLambda ? 4 : 3) * n), exact ? truncateExactCost(2 * n) : zero, mulCost(n), exact ? truncateExactCost(n) : zero);
}

/**
 * The SmoothActivation of a spec: segments fitted once, fixed-point tables per f built on first use. The error
 * bound and input range are the activation file's statement (its tests check them).
 */
export function piecewiseActivation(spec: PiecewiseSpec, maxAbsError: number): PiecewiseActivation {
  const segments = buildSegments(spec);
  const tables = new Map<number, Table>();
  const table = (f: number): Table => {
    checkFracBits(f);
    let t = tables.get(f);
    if (!t) tables.set(f, (t = tableFor(spec, segments, f)));
    return t;
  };
  const B = spec.breakpoints;
  return {
    name: spec.name,
    spec,
    segments,
    maxAbsError,
    inputRange: [B[0]!, B[B.length - 1]!],
    secure(ctx, x, f, label) {
      table(f);
      return ctx.step(stepName[spec.name], () => securePiecewise(ctx, spec, tables, x, f, label));
    },
    fixed: (x, f) => fixedPiecewise(table(f), x, f),
    fixedDraw: (x, f) => fixedPiecewise(table(f), x, f, uniformDraws()),
    float: (x) => floatPiecewise(spec, segments, x),
    cost: (n, _f, opts) => piecewiseCost(spec, n, opts),
  };
}

const stepName: Record<SmoothActivation['name'], string> = { sigmoid: 'Sigmoid', silu: 'SiLU', tanh: 'Tanh', gelu: 'GELU' };
