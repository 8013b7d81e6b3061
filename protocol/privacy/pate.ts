/**
 * PATE-style private labelling (Papernot, Abadi, Erlingsson, Goodfellow,
 * Talwar, "Semi-supervised knowledge transfer for deep learning from private
 * training data", ICLR 2017): T teacher models, each trained by a different
 * hospital on its own patients and each secret-shared between P0 and P1,
 * answer the same query; the parties return only the noisy-max label. No
 * party sees any teacher's logits or vote, and the client sees only the label.
 *
 * Input: for each teacher t its logit shares [m x n] for the same m queries
 * (the party server runs secureForward once per teacher model).
 *  1. e_t = one-hot of argmax(logits_t), all T teachers batched in one
 *     secure argmax (argmax.ts, 'onehot' payload): [T m x n].
 *  2. P_j: votes_j = sum_t e_t,j (local): shares of the vote histogram per query.
 *  3. P_j: counts_j = votes_j * 2^f (local): the histogram in fixed point.
 *  4. Noise shares on every count (dp-noise.ts), from each party's CSPRNG.
 *  5. label = argmax(noisy counts) (argmax.ts, 'index' payload): Report Noisy Max.
 *     With noise on the 64-bit comparison ring whatever the context's: the
 *     noise (scale up to 2^44 ring units, unbounded tails) passes the 32-bit
 *     ring's exact range |a| < 2^31 (private-output.ts, "Comparison ring").
 * Without noise (tests, or a deployment that only wants secure majority vote)
 * the label is the plaintext majority, ties to the lowest class.
 *
 * Privacy (data-independent, per query): changing one patient changes the
 * training data of one teacher, hence at most one vote: one count -1 and
 * another +1, so the histogram has L1 sensitivity 2 and L2 sensitivity
 * sqrt(2). The Laplace mechanism on the whole histogram with b = 2 / eps is
 * eps-DP, and the label is post-processing: eps-DP per query (this is PATE's
 * "LNMax with Lap(1/gamma) is 2 gamma-DP" with gamma = eps / 2). Gaussian
 * (GNMax, Papernot et al. ICLR 2018) uses L2 sensitivity sqrt(2). The
 * accountant composes queries (accountant.ts). PATE's data-dependent
 * analyses (moments accountant, smooth sensitivity) need the vote margins,
 * which stay secret here; they are not implemented.
 *
 * Cost: argmax over T m rows with one-hot payload, then argmax over m rows.
 */
import { withCompareBits, type PartyContext } from '../context.js';
import { assert } from '../errors.js';
import { addCost, type Cost } from '../primitives/cost.js';
import { concatU64 } from '../ring/ops.js';
import type { AShare } from '../ring/types.js';
import type { PrivacyCharge } from './composition.js';
import { argmaxCost, secureArgmax } from './argmax.js';
import type { ComparisonMode } from '../context.js';
import { addNoiseShares, calibrate, type GaussianCalibration, type NoiseMechanism, type NoiseSampler, type NoiseSpec } from './dp-noise.js';
import type { RandomSource } from './random-source.js';

export interface PateDpConfig {
  mechanism: NoiseMechanism;
  /** Per-query epsilon. */
  epsilon: number;
  /** Gaussian only. */
  delta?: number;
  sampler?: NoiseSampler;
  calibration?: GaussianCalibration;
}

/** Noise for the vote counts and the per-query charge: Laplace with L1 sensitivity 2, Gaussian with L2 sensitivity sqrt(2). */
export function pateCalibrate(dp: PateDpConfig): { noise: NoiseSpec; charge: PrivacyCharge } {
  return calibrate({ ...dp, sensitivity: dp.mechanism === 'laplace' ? 2 : Math.SQRT2 });
}

export interface PateOptions {
  /** Noise on the counts (from pateCalibrate); null or absent: no noise. */
  noise?: NoiseSpec | null;
  /** TESTS ONLY: seeded byte source for the noise. */
  rng?: RandomSource;
  label?: string;
}

/** compareBits: the context's comparison ring; noised: step 5 then compares on the 64-bit ring. */
export const pateCost = (teachers: number, m: number, n: number, mode: ComparisonMode = 'direct', compareBits: 32 | 64 = 64, noised = false): Cost =>
  addCost(argmaxCost(teachers * m, n, { payload: 'onehot' }, mode, compareBits), argmaxCost(m, n, {}, mode, noised ? 64 : compareBits));

/** Shares of the noisy-max label of each of m queries (m). P2 passes placeholders of m * n elements per teacher. */
export async function pateAggregate(ctx: PartyContext, teacherLogits: readonly AShare[], m: number, n: number, opts: PateOptions = {}): Promise<AShare> {
  return ctx.step('PATE', async () => {
    const T = teacherLogits.length;
    assert(T >= 1, 'E_BAD_ARGUMENT', 'pate: at least one teacher is needed');
    teacherLogits.forEach((t, i) => assert(t.length === m * n, 'E_SHAPE', `pate: teacher ${i} has ${t.length} logits, expected ${m} x ${n}`, { party: ctx.party, step: 'pate' }));
    const label = opts.label ?? 'pate';
    const k = ctx.kernels;
    // Step 1.
    const { onehot } = await secureArgmax(ctx, concatU64([...teacherLogits]) as AShare, T * m, n, { payload: 'onehot', label: `${label}.votes` });
    // Step 2.
    const votes = new BigUint64Array(m * n);
    for (let t = 0; t < T; t++) k.add(votes, onehot!.subarray(t * m * n, (t + 1) * m * n), votes);
    // Step 3.
    k.mulScalar(votes, 1n << BigInt(ctx.fracBits), votes);
    // Step 4.
    const noisy = opts.noise ? await addNoiseShares(ctx, votes as AShare, opts.noise, opts.rng ? { rng: opts.rng } : {}) : (votes as AShare);
    // Step 5.
    const { index } = await secureArgmax(opts.noise ? withCompareBits(ctx, 64) : ctx, noisy, m, n, { label: `${label}.max` });
    return index;
  });
}
