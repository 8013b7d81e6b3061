/**
 * Piecewise polynomial evaluation over shares, folded on the function's
 * symmetry: the common engine of sigmoid.ts, silu.ts, tanh.ts and gelu.ts.
 * Not an algorithm of SecureNN (which has only ReLU-type activations); the
 * method is SecureML's piecewise sigmoid (Mohassel-Zhang, S&P 2017, Sect.
 * 4.3: compare against public breakpoints, select a piece) with polynomial
 * pieces of degree 3 instead of linear ones, as Falcon (Wagh et al., PoPETs
 * 2021) and SIRNN-style spline approximations (Rathee et al., S&P 2021) do
 * for smooth functions; the fold on the sign of x uses SecureNN's DReLU /
 * ReLU (Alg. 7, 8; relu-direct.ts by default) and Beaver products (Alg. 1).
 *
 * The fold (piecewise-fit.ts PiecewiseSpec). With t = |x|:
 *  - odd (sigmoid, tanh): g(x) = c + sign(x) h(t), h(t) = g(t) - c;
 *  - even-relu (silu, gelu): g(x) = h(t) + ReLU(x), h(t) = g(t) - t (the
 *    function minus its ReLU is even: silu(x) = x - x sigmoid(-x)).
 * So only t is compared, against the K positive breakpoints 0 < B_1 < ...
 * < B_K (dyadic, exact in fixed point for f >= 4): segment s < K is
 * [B_s, B_{s+1}) with B_0 = 0, segment K is [B_K, inf). Segment s < K computes
 * P_s(u), u = t - m_s, m_s its midpoint, P_s = a_0 + a_1 u + a_2 u^2 + a_3 u^3
 * a cubic in the centred u (least squares on 64 Chebyshev nodes of the
 * segment, a near-minimax fit; the centring keeps every coefficient below 1
 * in magnitude); the tail is the constant h(inf) (m = 0). The unfolded
 * approximation used 2K + 1 comparisons (both signs and 0); this one K + 1.
 *
 * Protocol (P0, P1 hold x at f fractional bits; P2 helps):
 *  1. Sign. even-relu: r = ReLU(x) (one comparison call), t = 2 r - x
 *     (local). odd: d = DReLU(x) (one comparison call), then one
 *     multiplication round dx = d x (exact: d is an integer), t = 2 dx - x
 *     = (2d - 1) x. t = |x| exactly (no truncation).
 *  2. One batch of K comparisons: e_k = DReLU(t - B_k 2^f) (n K elements, one
 *     call of the context's comparison: 3 rounds with the direct route).
 *     e_k = [t >= B_k] is monotone in k, so segment s is e_s (1 - e_{s+1}).
 *  3. Local selection: every per-segment public value T_s (coefficients at F
 *     fractional bits, midpoints at f) is T_0 + sum_k e_k (T_{k+1} - T_k):
 *     public integers times shared bits, no communication. u = t - m (local).
 *  4. One multiplication round (elementwise, one batch): u u, a_3 u, a_1 u.
 *     Then w = Trunc_f(4 u u) (f + 2 bits), z = Trunc_f(a_3 u + a_2 2^f)
 *     (F bits), one truncation call on both.
 *  5. One multiplication round: p = z w, so P = a_0 + a_1 u + u^2 (a_2 + a_3 u):
 *     h = Trunc_{F+2}(p + 4 (a_1 u + a_0 2^f)) (f bits).
 *  6. Unfold. even-relu: y = h + r (local). odd: one multiplication round
 *     dh = d h (exact), y = c 2^f + 2 dh - h = c + (2d - 1) h.
 * Truncations follow ctx.truncation: local (truncate.ts, 0 rounds) or exact
 * (truncate-exact.ts, 2 rounds each).
 *
 * Fixed-point precision. Coefficients carry F = f + 5 fractional bits. Each
 * truncation gives floor or floor + 1, so p differs from the twin's (floor
 * truncations) by at most |z| 2^-(f+2) + |w| 2^-F real, at most
 * twinSlackUlps = max over pieces of (|a_2| + |a_3| r)/4 + r^2/32 (+ 1/128)
 * ulp for half-width r (under 0.2 ulp for the four activations; a test checks
 * < 1/2). The twin (piecewise-fit.ts fixedPiecewise) rounds the last step to
 * nearest, so secure h = twin h + {-1, 0, 1} ulp, and the fold and unfold
 * are exact (integer products, no truncation): secure = twin +- 1 ulp. The
 * twin differs from the real approximation by coefficient rounding
 * (sum_j r^j 2^-(F+1) <= 0.31 ulp), the floors of w, z (< 0.2 ulp) and its
 * final rounding (1/2 ulp).
 *
 * Range. The sign comparison is exact for |x| < 2^31 ring units (32-bit
 * comparison ring) or 2^62 (64-bit ring, drelu.ts's range), the others
 * while every t - B_k stays in it; comparableLimit keeps the unfolded
 * engine's bound |x| <= 2^(31-f) - max B_k - 1 (real units) with
 * ctx.compareBits = 32 (8179 at f = 18 for silu's B_K = 12), 2^(62-f) -
 * max B_k - 1 with 64, which holds both (conservative for the fold: t >= 0,
 * so t - B_k stays in the ring for every |x| < 2^31 ring units; the tests
 * run +-(2^31 - 1) and -2^31). Beyond the ring's range the result is wrong
 * (2^31 reads as negative: sigmoid gives 0, not 1; a test shows it), so the
 * importer's range check (ir-kit/forward.ts, |x| + B_K) must keep it out.
 * In the tail every coefficient but a_0 is exactly 0 and u = t, so z = 0
 * (both truncations map a sharing of 0 to 0: no low bits carry) and p = 0
 * whatever w is: a large t whose u u wraps or whose truncation fails never
 * reaches the output (the fold's products are exact). Inside the pieces the
 * truncated values are below 2^(2f+9) ring units; local truncation fails
 * with probability about 2^(2f+10-64) per truncation (2^-18 at f = 18, 2^-28
 * at f = 13; PROTOCOL-NOTES), three per element: at f >= 16 a model with
 * millions of these activations wants truncation 'exact'.
 *
 * Cost (piecewiseCost): step 1 (even-relu: one ReLU of n; odd: one DReLU of
 * n + 1 multiplication round of n) + the comparison batch (n K elements) +
 * 2 multiplication rounds (3 n + n elements, 160 n bytes) + with exact
 * truncation 2 truncations (2 rounds each, 64 n + 32 n bytes) + odd: 1
 * multiplication round of n. Direct route, local truncation: 8 rounds
 * (even-relu), 10 (odd); exact truncation 4 more.
 */
import type { ComparisonMode, PartyContext, TruncationMode } from '../context.js';
import { checkFracBits } from '../fixed-point/fixed-point.js';
import type { AShare } from '../ring/types.js';
import { dreluFor, reluFor } from './compare.js';
import { addCost, type Cost } from './cost.js';
import { dreluCost } from './drelu.js';
import { mulCost, mulShares } from './matmul.js';
import { buildSegments, fixedPiecewise, piecewiseTruncated, floatPiecewise, tableFor, uniformDraws, W_EXTRA_BITS, type PiecewiseSpec, type Segment, type Table } from './piecewise-fit.js';
import { reluCost } from './relu.js';
import { dreluDirectCost, reluDirectCost } from './relu-direct.js';
import { truncate } from './truncate.js';
import { truncateExact, truncateExactCost } from './truncate-exact.js';
import type { SmoothActivation } from './approx.js';

export { COEF_EXTRA_BITS, twinSlackUlps, type PiecewiseSpec, type Segment } from './piecewise-fit.js';

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
  /** The K pieces of t = |x| and the tail: bounds, midpoint, real coefficients (ascending powers of u). */
  readonly segments: readonly Segment[];
}

/**
 * Largest |x| (real units) whose comparisons are exact: every x and t - B_k must stay within +-2^31 ring units
 * on the 32-bit comparison ring, +-2^62 on the 64-bit one (drelu.ts's range; the direct route holds more).
 * 2^(w-f) - max B_k - 1, the unfolded engine's bound (both sides of x compared against +-B_k), kept.
 */
export function comparableLimit(spec: Pick<PiecewiseSpec, 'breakpoints'>, f: number, compareBits: 32 | 64): number {
  const bmax = Math.max(...spec.breakpoints.map(Math.abs));
  return 2 ** ((compareBits === 32 ? 31 : 62) - f) - bmax - 1;
}

// ---- protocol ----

const truncFor = (ctx: PartyContext, x: AShare, bits: number, label: string): Promise<AShare> =>
  ctx.truncation === 'exact' ? truncateExact(ctx, x, bits, label) : Promise.resolve(truncate(ctx, x, bits));

/** Step 3: T_0 (P0 only) + sum_k e_k (T_{k+1} - T_k), for a public per-segment column T. */
function selectColumn(ctx: PartyContext, e: BigUint64Array, n: number, T: readonly bigint[]): AShare {
  const k = ctx.kernels, out = new BigUint64Array(n), tmp = new BigUint64Array(n);
  if (ctx.party === 0 && T[0]! !== 0n) out.fill(BigInt.asUintN(64, T[0]!));
  for (let s = 0; s + 1 < T.length; s++) {
    const delta = BigInt.asUintN(64, T[s + 1]! - T[s]!);
    if (delta === 0n) continue;
    k.mulScalar(e.subarray(s * n, (s + 1) * n), delta, tmp);
    k.add(out, tmp, out);
  }
  return out as AShare;
}

/** 2 a - b into a (P0, P1). */
function twiceMinus(ctx: PartyContext, a: BigUint64Array, b: BigUint64Array): void {
  ctx.kernels.add(a, a, a);
  ctx.kernels.sub(a, b, a);
}

async function securePiecewise(ctx: PartyContext, spec: PiecewiseSpec, t: Table, x: AShare, f: number, label: string): Promise<AShare> {
  const k = ctx.kernels, n = x.length, K = t.B.length;
  const helper = ctx.party === 2, odd = spec.symmetry === 'odd';
  // Step 1: the sign. even-relu: r = ReLU(x), |x| = 2 r - x. odd: d = DReLU(x), |x| = 2 d x - x.
  let d: AShare | null = null, r: AShare | null = null, abs: BigUint64Array;
  if (odd) {
    d = await dreluFor(ctx, x, `${label}.sign`);
    abs = await mulShares(ctx, d, x, `${label}.m0`);
  } else {
    r = await reluFor(ctx, x, `${label}.relu`);
    abs = r.slice();
  }
  if (!helper) twiceMinus(ctx, abs, x);
  // Step 2: one comparison batch, |x| - B_k for the K positive breakpoints.
  const diffs = new BigUint64Array(n * K);
  if (!helper) {
    for (let s = 0; s < K; s++) {
      const seg = diffs.subarray(s * n, (s + 1) * n);
      seg.set(abs);
      if (ctx.party === 0) k.addScalar(seg, BigInt.asUintN(64, -t.B[s]!), seg);
    }
  }
  const bits = await dreluFor(ctx, diffs as AShare, `${label}.cmp`);
  // Step 3: local selection of the segment's midpoint and coefficients; u = |x| - m.
  const col = (T: readonly bigint[]): AShare => (helper ? (new BigUint64Array(n) as AShare) : selectColumn(ctx, bits, n, T));
  const u = col(t.M);
  if (!helper) k.sub(abs, u, u);
  const a = [0, 1, 2, 3].map((j) => col(t.A.map((row) => row[j]!)));
  // Step 4: u u, a_3 u, a_1 u in one round; w = Trunc_f(4 u u), z = Trunc_f(a_3 u + a_2 2^f) in one call.
  const prod = await mulShares(ctx, concatAll([u, a[3]!, a[1]!]), concatAll([u, u, u]), `${label}.m1`);
  const wz = prod.subarray(0, 2 * n) as AShare;
  if (!helper) {
    const w = wz.subarray(0, n), z = wz.subarray(n);
    k.mulScalar(w, 1n << BigInt(W_EXTRA_BITS), w);
    k.mulScalar(a[2]!, 1n << BigInt(f), a[2]!);
    k.add(z, a[2]!, z);
  }
  const wzT = await truncFor(ctx, wz.slice() as AShare, f, `${label}.t1`);
  // Step 5: p = z w; h = Trunc_{F+2}(p + 4 (a_1 u + a_0 2^f)).
  const p = await mulShares(ctx, wzT.subarray(n) as AShare, wzT.subarray(0, n) as AShare, `${label}.m2`);
  if (!helper) {
    const rest = prod.subarray(2 * n, 3 * n);
    k.mulScalar(a[0]!, 1n << BigInt(f), a[0]!);
    k.add(rest, a[0]!, rest);
    k.mulScalar(rest, 1n << BigInt(W_EXTRA_BITS), rest);
    k.add(p, rest, p);
  }
  const h = await truncFor(ctx, p, t.F + W_EXTRA_BITS, `${label}.t2`);
  // Step 6: unfold. even-relu: y = h + r. odd: y = c + 2 d h - h.
  if (!odd) {
    if (helper) return new BigUint64Array(n) as AShare;
    k.add(h, r!, h);
    return h;
  }
  const dh = await mulShares(ctx, d!, h, `${label}.m3`);
  if (helper) return new BigUint64Array(n) as AShare;
  twiceMinus(ctx, dh, h);
  if (ctx.party === 0 && t.C !== 0n) k.addScalar(dh, BigInt.asUintN(64, t.C), dh);
  return dh as AShare;
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
  const drelu = (m: number): Cost => (mode === 'direct' ? dreluDirectCost(m, bits, radix) : dreluCost(m));
  const relu = (m: number): Cost => (mode === 'direct' ? reluDirectCost(m, bits, radix) : reluCost(m));
  const odd = spec.symmetry === 'odd';
  const exact = opts.truncation === 'exact';
  const zero: Cost = { rounds: 0, bytes: 0 };
  const sign = odd ? addCost(drelu(n), mulCost(n)) : relu(n);
  return addCost(sign, drelu(n * K), mulCost(3 * n), exact ? truncateExactCost(2 * n) : zero, mulCost(n), exact ? truncateExactCost(n) : zero, odd ? mulCost(n) : zero);
}

/**
 * The SmoothActivation of a spec: segments fitted once, fixed-point tables per f built on first use. The error
 * bound is the activation file's statement (its tests check it); inputRange is [-B_K, B_K].
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
  const top = spec.breakpoints[spec.breakpoints.length - 1]!;
  return {
    name: spec.name,
    spec,
    segments,
    maxAbsError,
    inputRange: [-top, top],
    secure(ctx, x, f, label) {
      const t = table(f);
      return ctx.step(stepName[spec.name], () => securePiecewise(ctx, spec, t, x, f, label));
    },
    fixed: (x, f) => fixedPiecewise(spec, table(f), x, f),
    fixedDraw: (x, f) => fixedPiecewise(spec, table(f), x, f, uniformDraws()),
    truncated: (x, f) => piecewiseTruncated(table(f), x, f),
    float: (x) => floatPiecewise(spec, segments, x),
    cost: (n, _f, opts) => piecewiseCost(spec, n, opts),
  };
}

const stepName: Record<SmoothActivation['name'], string> = { sigmoid: 'Sigmoid', silu: 'SiLU', tanh: 'Tanh', gelu: 'GELU' };
