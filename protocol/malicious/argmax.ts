/**
 * Secure argmax over the classes of each row of a MACed [m x n] matrix (the
 * logits), in the malicious mode: the tournament of the semi-honest
 * protocol/privacy/argmax.ts ('index' payload; SecureNN Alg. 9 carrying the
 * argument along, as Falcon, Wagh et al. 2021, does for its argmax), with
 * the comparison of compare.ts (Escudero et al. 2020; Catrina and de Hoogh
 * 2010's BitLT) and the verified product (product.ts mulM).
 *
 *  1. Masks of every level's comparisons in one call (compareMaskM,
 *     input-independent). Leaves: candidate j of a row carries its value and
 *     its class index j (a public constant, bit-ops.ts constantM).
 *  2. Per level, with q = floor(c / 2) pairs (L, R) = (candidate 2i, 2i + 1)
 *     of every row, d = DReLU(L - R) = [L >= R]: max = R + d (L - R) and
 *     index = iR + d (iL - iR), both products from compare.ts
 *     timesDreluBody on the level's slice of the masks (two payloads: the
 *     products fold into BitLT's tree, compare-fold.ts, no mulM after it).
 *     An odd last candidate passes up
 *     unchanged.
 *  3. The index left in each row is the argmax (a MACed value; open it with
 *     openLow after the MAC check, or compare it further).
 *
 * Ties go to the lower index (L >= R keeps the left candidate, and left
 * candidates hold lower classes), as the semi-honest argmax and numpy do.
 * Range: |x| < 2^(ell-2) so that every difference fits ell bits.
 *
 * Cost (argmaxCostM): compareMaskCostM(m (n - 1), ell, 2), then per level
 * timesDreluOnlineCostM(m q, ell, 2); ceil(log2 n) levels.
 */
import type { Cost } from '../primitives/cost.js';
import { addCost } from '../primitives/cost.js';
import { assert } from '../errors.js';
import { alloc128 } from './ring128.js';
import { addM, subM, type MShare } from './rep.js';
import { constantM, gatherM } from './bit-ops.js';
import { concatM } from './mvec.js';
import { compareMaskCostM, compareMaskM, MAX_COMPARE_BITS, sliceMask, timesDreluBody, timesDreluOnlineCostM } from './compare.js';
import type { MalSession } from './session.js';

function levels(n: number): number[] {
  const qs: number[] = [];
  for (let c = n; c > 1; c = Math.ceil(c / 2)) qs.push(Math.floor(c / 2));
  return qs;
}

export function argmaxCostM(m: number, n: number, ell: number): Cost {
  const qs = levels(n);
  if (qs.length === 0) return { rounds: 0, bytes: 0 };
  return addCost(compareMaskCostM(m * (n - 1), ell, 2), ...qs.map((q) => timesDreluOnlineCostM(m * q, ell, 2)));
}

/** Row-major [m x c] -> [m x q] of columns j -> col(j). */
function columns(x: MShare, m: number, c: number, q: number, col: (j: number) => number): MShare {
  const idx = new Int32Array(m * q);
  for (let r = 0; r < m; r++) for (let j = 0; j < q; j++) idx[r * q + j] = r * c + col(j);
  return gatherM(x, idx);
}

/** The MACed argmax (class index) of each row of x ([m x n], row-major, |x| < 2^(ell-2)). Cost argmaxCostM(m, n, ell). */
export function argmaxM(s: MalSession, x: MShare, m: number, n: number, ell: number): Promise<MShare> {
  return s.guard('mal.argmax', async () => {
    assert(Number.isInteger(m) && Number.isInteger(n) && m >= 1 && n >= 1 && x.n === m * n, 'E_SHAPE', `malicious.argmax: ${x.n} elements for ${m} rows of ${n} classes`, { party: s.party, step: 'mal.argmax' });
    assert(Number.isInteger(ell) && ell >= 3 && ell <= MAX_COMPARE_BITS, 'E_BAD_ARGUMENT', `malicious.argmax: ell must be an integer in [3, ${MAX_COMPARE_BITS}], got ${ell}`, { party: s.party, step: 'mal.argmax' });
    // Step 1: masks, and the class index of every candidate.
    const masks = n > 1 ? await compareMaskM(s, m * (n - 1), ell, 2) : null;
    const classes = alloc128(m * n);
    for (let r = 0; r < m; r++) for (let j = 0; j < n; j++) classes[4 * (r * n + j)] = j;
    let val = x, idx = constantM(s.party, s.alpha, classes, s.ctx.kernels), used = 0;
    // Step 2: the levels.
    for (let c = n; c > 1;) {
      const q = Math.floor(c / 2), next = q + (c % 2), k = m * q;
      const L = columns(val, m, c, q, (j) => 2 * j), R = columns(val, m, c, q, (j) => 2 * j + 1);
      const iL = columns(idx, m, c, q, (j) => 2 * j), iR = columns(idx, m, c, q, (j) => 2 * j + 1);
      const w = subM(L, R);
      const [dw, di] = await timesDreluBody(s, w, ell, [w, subM(iL, iR)], sliceMask(masks!, used, used + k));
      used += k;
      let best = addM(R, dw!), bestI = addM(iR, di!);
      if (c % 2 === 1) {
        // Row r's candidates at the next level: its q winners, then its odd last candidate.
        const keep = new Int32Array(m * next);
        for (let r = 0; r < m; r++) {
          for (let j = 0; j < q; j++) keep[r * next + j] = r * q + j;
          keep[r * next + q] = k + r * c + c - 1;
        }
        best = gatherM(concatM([best, val]), keep);
        bestI = gatherM(concatM([bestI, idx]), keep);
      }
      val = best; idx = bestI; c = next;
    }
    // Step 3.
    return idx;
  });
}
