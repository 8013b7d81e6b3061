/**
 * Per-element decisions of a sigmoid output, computed inside the protocol:
 * multi-label heads (CheXNet's 14 findings, one decision per label) and
 * sigmoid segmentation masks (one bit per pixel). Only the shares of the bits
 * (and optionally of a coarse confidence bucket per element) leave P0 and
 * P1; the logits and the probabilities never exist outside the shares.
 *
 * Not an algorithm of the paper: one batched call of SecureNN's DReLU
 * (Alg. 6, or the direct route of primitives/relu-direct.ts as ctx.comparison
 * says) on public shifts of the logits, as secure argmax's confidence step
 * does (argmax.ts steps 7).
 *
 * Inputs: shares of the logits x (n elements, channel c(e) = e mod C), public
 * probability thresholds t_c (one per channel) and optional public margins
 * mu_1 < ... < mu_K (logit units, > 0).
 *  0. Public, in fixed point: tau_c = ceil(logit(t_c) 2^f), logit(t) =
 *     ln(t / (1 - t)); m_k = max(1, round(mu_k 2^f)).
 *  1. P0: w_e = x_e - tau_c(e); P1: w_e = x_e (so w = x - tau).
 *     With margins, also u_{e,k} = w_e - m_k (P0 subtracts m_k) and
 *     v_{e,k} = -w_e - m_k (both negate, P0 subtracts m_k).
 *  2. One F_DReLU call on [w | u_1 | v_1 | ... | u_K | v_K]:
 *     d = [w >= 0], a_k = [w >= m_k], b_k = [-w >= m_k].
 *  3. decision = d (locally; fresh shares of a bit);
 *     bucket = sum_k (a_k + b_k) = #{k : |w| >= m_k} in 0..K (locally; a_k
 *     and b_k are never both 1 since m_k >= 1). Only the bucket's shares
 *     are returned, not the bits.
 *
 * Rounding at the threshold: tau is the least lattice point at or above
 * logit(t), so on the lattice x >= tau iff x 2^-f >= logit(t) iff
 * sigmoid(x 2^-f) >= t: the decision the logits mode (client SDK) and
 * mpc-import's reference make of the same reconstructed logit, positive at
 * the threshold itself. (tau = round(...) until 2026-12-07: where it rounded
 * down, the lattice point just below logit(t) was positive here and
 * negative in logits mode.) Against the float model's logit z it can differ
 * only when |z - logit(t)| <= |x 2^-f - z|: the network's fixed-point error.
 *
 * Range: every DReLU input must lie in the comparison range: |x - tau| +
 * m_K below 2^62 ring units (2^31 on the 32-bit comparison ring, context.ts).
 *
 * Cost: DReLU on n (1 + 2K) elements (thresholdDecisionsCost); with the
 * direct route 3 rounds whatever n and K.
 */
import type { ComparisonMode, PartyContext } from '../context.js';
import { assert } from '../errors.js';
import { encodeScalar } from '../fixed-point/fixed-point.js';
import type { Cost } from '../primitives/cost.js';
import { dreluCostFor, dreluFor } from '../primitives/compare.js';
import type { AShare } from '../ring/types.js';

export interface DecisionOptions {
  /** Probability threshold per channel (one value: every channel), each in (0, 1). */
  thresholds: readonly number[];
  /** Margins |logit - logit(t)| in logit units, ascending, > 0: the confidence bucket counts those reached. */
  confidenceThresholds?: readonly number[];
  /** Message tag prefix. */
  label?: string;
}

export interface DecisionShares {
  /** Shares of [x_e >= tau_c(e)] per element (n). */
  decision: AShare;
  /** Shares of the bucket #{k : |x_e - tau_c(e)| >= m_k} in 0..K per element (n), when margins are given. */
  bucket?: AShare;
}

/** logit(t) = ln(t / (1 - t)): the logit whose sigmoid is the probability threshold t. */
export const logitOf = (t: number): number => Math.log(t / (1 - t));

/** The public fixed-point threshold tau = ceil(logit(t) 2^f) (step 0), as a signed integer: the least lattice point at or above logit(t). */
export function logitThreshold(t: number, fracBits: number): bigint {
  assert(Number.isFinite(t) && t > 0 && t < 1, 'E_BAD_ARGUMENT', `decisions: a probability threshold must lie in (0, 1), got ${t}`);
  return BigInt(Math.ceil(logitOf(t) * 2 ** fracBits));
}

/** The public fixed-point margin m = max(1, round(mu 2^f)) (step 0). */
export function marginUnits(mu: number, fracBits: number): bigint {
  assert(Number.isFinite(mu) && mu > 0, 'E_BAD_ARGUMENT', `decisions: a confidence margin must be a positive number, got ${mu}`);
  const m = BigInt.asIntN(64, encodeScalar(mu, fracBits));
  return m < 1n ? 1n : m;
}

/** Declared cost: one DReLU batch of n (1 + 2K) elements (compareBits: the direct route's ring width, context.ts). */
export function thresholdDecisionsCost(n: number, margins: number, mode: ComparisonMode = 'direct', compareBits: 32 | 64 = 64): Cost {
  return dreluCostFor(n * (1 + 2 * margins), mode, compareBits);
}

/** Shares of the decision bits (and buckets) of the n logits x; C = thresholds' channels (x.length a multiple of it). */
export async function thresholdDecisions(ctx: PartyContext, x: AShare, opts: DecisionOptions): Promise<DecisionShares> {
  return ctx.step('Decisions', () => body(ctx, x, opts));
}

async function body(ctx: PartyContext, x: AShare, opts: DecisionOptions): Promise<DecisionShares> {
  const n = x.length;
  const C = opts.thresholds.length;
  assert(C >= 1 && n % C === 0, 'E_SHAPE', `decisions: ${n} logits are not a whole number of rows of ${C} thresholds`, { party: ctx.party, step: 'decisions' });
  const mus = opts.confidenceThresholds ?? [];
  assert(mus.every((m, i) => i === 0 || m > mus[i - 1]!), 'E_BAD_ARGUMENT', 'decisions: confidence margins must be strictly ascending', { party: ctx.party });
  const K = mus.length;
  const k = ctx.kernels;
  const j = ctx.party;
  const tau = opts.thresholds.map((t) => logitThreshold(t, ctx.fracBits));
  const m = mus.map((mu) => marginUnits(mu, ctx.fracBits));
  // Step 1: w = x - tau (P0 subtracts the public thresholds, tiled over the rows).
  const all = new BigUint64Array(n * (1 + 2 * K));
  const w = all.subarray(0, n);
  if (j === 0) {
    const tiled = new BigUint64Array(n);
    for (let c = 0; c < C; c++) tiled[c] = BigInt.asUintN(64, tau[c]!);
    for (let filled = C; filled < n; filled *= 2) tiled.copyWithin(filled, 0, Math.min(filled, n - filled));
    k.sub(x, tiled, w);
  } else if (j === 1) w.set(x);
  if (K > 0 && j !== 2) {
    const neg = new BigUint64Array(n);
    k.sub(neg, w, neg);
    for (let q = 0; q < K; q++) {
      const u = all.subarray(n * (1 + 2 * q), n * (2 + 2 * q)), v = all.subarray(n * (2 + 2 * q), n * (3 + 2 * q));
      const shift = j === 0 ? BigInt.asUintN(64, -m[q]!) : 0n;
      k.addScalar(w, shift, u);
      k.addScalar(neg, shift, v);
    }
  }
  // Step 2: one DReLU over all of them.
  const d = await dreluFor(ctx, all as AShare, `${opts.label ?? 'decide'}.drelu`);
  // Step 3.
  const decision = d.slice(0, n) as AShare;
  if (K === 0) return { decision };
  const bucket = new BigUint64Array(n);
  for (let q = 0; q < 2 * K; q++) k.add(bucket, d.subarray(n * (1 + q), n * (2 + q)), bucket);
  return { decision, bucket: bucket as AShare };
}
