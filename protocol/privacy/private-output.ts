/**
 * What the party server runs after secureForward: turns this party's share of
 * the logits [N, C] into the shares of what the resolved policy lets the
 * client see.
 *  1. dp.clip: each logit clipped to [-clip, clip] as x - ReLU(x - clip) + ReLU(-x - clip)
 *     (SecureNN Alg. 7, both ReLUs in one call).
 *  2. dp: noise shares added by P0 and P1 (dp-noise.ts; 0 rounds).
 *  3. 'label' / 'label+confidence', by the policy's decision rule
 *     (output-kind.ts), with the confidence bucket for the latter:
 *     'argmax': secure argmax per image (argmax.ts). A single-logit model
 *       (sigmoid output) is treated as the two logits [0, x]: label 1 iff x > 0,
 *       margin |x|.
 *     'threshold' (multi-label heads, sigmoid masks): one bit per output
 *       element, logit >= logit(t) for its channel's threshold t, bucket from
 *       |logit - logit(t)| (decisions.ts).
 *     'pixel-argmax' (masks with C > 1 softmax channels): secure argmax over
 *       the C channels of every pixel, rows = pixels.
 *     DP noise (step 2) comes first, so every decision is post-processing of
 *     the noisy logits: the same charge as the logits mode, no extra cost.
 * Comparison ring. Without DP the comparisons run on the context's ring
 * (the party's compareBits): the logits stay in the range the importer
 * bounded for it. With DP, steps 1 and 3 compare on the 64-bit ring whatever
 * the context's: the clip bound (up to 2^44 ring units, policy.ts) and the
 * noise (scale up to 2^44, unbounded tails) pass the 32-bit ring's exact
 * range |a| < 2^31, where a comparison is silently wrong (a clip of 1e6 at
 * f = 13 negated every logit; the noisy argmax was not the argmax of the
 * noisy logits). On the 64-bit ring every compared value stays below 2^60
 * (noisy logits below 2^(63-f) + 2^54, outputs.ts in the SDK).
 * Only the returned shares may leave the party: the logits shares are not
 * returned at all in the label modes.
 */
import { withCompareBits, type PartyContext } from '../context.js';
import { assert } from '../errors.js';
import { encodeScalar } from '../fixed-point/fixed-point.js';
import type { ShareTensor } from '../layers/types.js';
import { addCost, type Cost } from '../primitives/cost.js';
import { reluCostFor, reluFor } from '../primitives/compare.js';
import type { ComparisonMode } from '../context.js';
import type { AShare } from '../ring/types.js';
import { argmaxCost, secureArgmax } from './argmax.js';
import { thresholdDecisions, thresholdDecisionsCost } from './decisions.js';
import { addNoiseShares } from './dp-noise.js';
import type { ResolvedPolicy } from './policy.js';
import type { RandomSource } from './random-source.js';

export type PrivateOutputShares =
  | { mode: 'logits'; shape: [number, number]; logits: AShare }
  /**
   * shape [N] ('argmax': one class per image) or [N, P] (P decisions per image: 'threshold', one per output
   * element; 'pixel-argmax', one class per pixel); label and confidence hold N P elements, image by image.
   */
  | { mode: 'label'; shape: [number] | [number, number]; label: AShare; confidence?: AShare; confidenceBuckets?: number };

export interface PrivateOutputOptions {
  /** TESTS ONLY: seeded byte source for the DP noise. */
  rng?: RandomSource;
}

/** The comparison ring of steps 1 and 3: 64 bits with DP, else the context's (file comment, "Comparison ring"). */
const outputBits = (policy: ResolvedPolicy, compareBits: 32 | 64): 32 | 64 => (policy.dp ? 64 : compareBits);

/** compareBits: the context's comparison ring (radix 4 on the 32-bit ring, the parties' default). */
export function privateOutputCost(N: number, C: number, policy: ResolvedPolicy, mode: ComparisonMode = 'direct', compareBits: 32 | 64 = 64): Cost {
  const bits = outputBits(policy, compareBits);
  const parts: Cost[] = [];
  if (policy.dp?.clip !== undefined) parts.push(reluCostFor(2 * N * C, mode, bits));
  if (policy.outputMode !== 'logits') parts.push(decideCost(N, C, policy, mode, bits));
  return addCost({ rounds: 0, bytes: 0 }, ...parts);
}

function decideCost(N: number, C: number, policy: ResolvedPolicy, mode: ComparisonMode, bits: 32 | 64): Cost {
  const conf = { confidenceThresholds: policy.confidenceThresholds };
  if (policy.decision === 'threshold') return thresholdDecisionsCost(N * C, policy.confidenceThresholds.length, mode, bits);
  if (policy.decision === 'pixel-argmax') return argmaxCost(N * (C / channels(policy, C)), channels(policy, C), conf, mode, bits);
  return argmaxCost(N, Math.max(C, 2), conf, mode, bits);
}

/** 'pixel-argmax': the channels of a pixel (policy.decisionChannels). */
function channels(policy: ResolvedPolicy, C: number): number {
  const ch = policy.decisionChannels;
  assert(Number.isInteger(ch) && ch >= 1 && C % ch === 0, 'E_SHAPE', `private output: ${C} outputs per image are not whole pixels of ${ch} channels`);
  return ch;
}

export async function privateOutput(ctx: PartyContext, logits: ShareTensor, policy: ResolvedPolicy, opts: PrivateOutputOptions = {}): Promise<PrivateOutputShares> {
  return ctx.step('PrivateOutput', async () => {
    assert(logits.shape.length === 2 && logits.data.length === logits.shape[0]! * logits.shape[1]!, 'E_SHAPE', `private output: expected logits [N, C], got [${logits.shape.join(', ')}]`, { party: ctx.party });
    const [N, C] = logits.shape as [number, number];
    const k = ctx.kernels;
    let x: AShare = logits.data;
    // The ring of the comparisons in steps 1 and 3 (file comment, "Comparison ring").
    const cmp = withCompareBits(ctx, outputBits(policy, ctx.compareBits));
    // Step 1.
    if (policy.dp?.clip !== undefined) {
      const c = encodeScalar(policy.dp.clip, ctx.fracBits);
      const n = x.length;
      const both = new BigUint64Array(2 * n);
      if (ctx.party !== 2) {
        k.sub(new BigUint64Array(n), x, both.subarray(n)); // -x
        both.set(x, 0);
        if (ctx.party === 0) { k.addScalar(both, BigInt.asUintN(64, -c), both); }
      }
      const r = await reluFor(cmp, both as AShare, 'out.clip');
      const y = new BigUint64Array(n);
      k.sub(x, r.subarray(0, n), y);
      k.add(y, r.subarray(n), y);
      x = y as AShare;
    }
    // Step 2.
    if (policy.noise) x = await addNoiseShares(ctx, x, policy.noise, opts.rng ? { rng: opts.rng } : {});
    if (policy.outputMode === 'logits') return { mode: 'logits', shape: [N, C], logits: x };
    // Step 3.
    const K = policy.confidenceThresholds.length;
    const bucketsOf = (b: AShare | undefined) => (K > 0 ? { confidence: b!, confidenceBuckets: K + 1 } : {});
    if (policy.decision === 'threshold') {
      assert(policy.decisionThresholds.length >= 1 && C % policy.decisionThresholds.length === 0, 'E_SHAPE', `private output: ${C} outputs per image are not whole rows of ${policy.decisionThresholds.length} thresholds`, { party: ctx.party });
      const d = await thresholdDecisions(cmp, x, { thresholds: policy.decisionThresholds, confidenceThresholds: policy.confidenceThresholds, label: 'out.decide' });
      return { mode: 'label', shape: [N, C], label: d.decision, ...bucketsOf(d.bucket) };
    }
    if (policy.decision === 'pixel-argmax') {
      const ch = channels(policy, C), P = C / ch;
      const r = await secureArgmax(cmp, x, N * P, ch, { confidenceThresholds: policy.confidenceThresholds, label: 'out.argmax' });
      return { mode: 'label', shape: [N, P], label: r.index, ...bucketsOf(r.bucket) };
    }
    let cols = C;
    if (C === 1) {
      const two = new BigUint64Array(2 * N);
      for (let i = 0; i < N; i++) two[2 * i + 1] = x[i]!;
      x = two as AShare;
      cols = 2;
    }
    const r = await secureArgmax(cmp, x, N, cols, { confidenceThresholds: policy.confidenceThresholds, label: 'out.argmax' });
    return { mode: 'label', shape: [N], label: r.index, ...(K > 0 ? { confidence: r.bucket!, confidenceBuckets: K + 1 } : {}) };
  });
}
