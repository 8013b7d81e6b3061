/**
 * MaxPool with the comparisons in the binary domain: the tournament of
 * ../maxpool.ts (max(a, b) = b + ReLU(a - b), all windows of a level at
 * once; Dalskov, Escudero, Keller 2020; Falcon, Wagh et al. 2021) with
 * compare-bin.ts's ReLU:
 *
 *  1. The daBits of every level's comparisons in one call (dabit.ts:
 *     input-independent, its rounds paid once).
 *  2. The levels (maxpool.ts tournamentM): per level reluBinM on its slice
 *     of the daBits (split A2B, carry tree, e opened, one mulM).
 *  3. The ANDs of every level verified at once, so that the layer's
 *     declared cost is exact and nothing waits for the next MAC check: with
 *     triples from the session's mask source (a pool entry made ahead,
 *     verify.ts takeTriplesM, asked for after the daBits) in the last
 *     level's opening of e and one zero check; without, against triples
 *     made here after the last level (verify.ts).
 *
 * Range as maxPoolM: |x| < 2^(ell-2), 3 <= ell <= 64.
 *
 * Cost (maxPoolBinCostB): daBitsCostB(total) + per level reluBinOnlineCostB(n_l,
 * ell) + verifyInlineCostB(the levels' AND words), n_l the level's comparisons
 * (maxpool.ts maxPoolComparisons: m q, or the separable case's h outW c and
 * outH outW c); a pool entry saves daBitsCostB(total) and triplesSavedCostB(the AND words).
 */
import type { Cost } from '../../primitives/cost.js';
import { addCost } from '../../primitives/cost.js';
import { sliceM } from '../mvec.js';
import type { MShare } from '../rep.js';
import type { MalSession } from '../session.js';
import { maxPoolComparisons, tournamentM, type PoolInput, type PoolWindow } from '../maxpool.js';
import { bitRange } from './planes.js';
import { andWordsB, reluBinM, reluBinOnlineCostB } from './compare-bin.js';
import { daBitsCostB, daBitsM, type DaBits } from './dabit.js';
import { pendingWords } from './state.js';
import { takeTriplesM, verifyInlineCostB, verifyPendingBody } from './verify.js';

/** daBits [from, to) of d (the binary part repacked from bit `from`). */
export function sliceDaBits(d: DaBits, from: number, to: number): DaBits {
  const k = to - from;
  return { arith: sliceM(d.arith, from, to), bin: { n: k, planes: 1, a: bitRange(d.bin.a, from, k), b: bitRange(d.bin.b, from, k) } };
}

export function maxPoolBinCostB(shape: PoolInput, pool: PoolWindow, ell: number): Cost {
  const { ns, total } = maxPoolComparisons(shape, pool);
  if (total === 0) return { rounds: 0, bytes: 0 };
  const words = ns.reduce((t, n) => t + andWordsB(n, ell), 0);
  return addCost(daBitsCostB(total), ...ns.map((n) => reluBinOnlineCostB(n, ell)), verifyInlineCostB(words));
}

/** MaxPool over one NHWC image with binary comparisons (steps 1-3). Cost maxPoolBinCostB. */
export function maxPoolBinM(s: MalSession, x: MShare, shape: PoolInput, pool: PoolWindow, ell: number): Promise<MShare> {
  return s.guard('mal.bin.maxPool', async () => {
    const { ns, total } = maxPoolComparisons(shape, pool);
    const valid = total > 0 && x.n === shape.h * shape.w * shape.c && Number.isInteger(ell) && ell >= 3 && ell <= 64;
    const d = valid ? await daBitsM(s, total) : null;
    const t = valid ? await takeTriplesM(s, pendingWords(s) + ns.reduce((w, n) => w + andWordsB(n, ell), 0)) : null;
    let level = 0;
    const y = await tournamentM(s, x, shape, pool, ell, (diff, from, to) => reluBinM(s, diff, ell, sliceDaBits(d!, from, to), ++level === ns.length ? t ?? undefined : undefined));
    if (!t) await verifyPendingBody(s);
    return y;
  });
}
