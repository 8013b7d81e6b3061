/**
 * Comparisons of the malicious mode through the binary domain: MSB, DReLU
 * and ReLU of MACed x with |x| < 2^(ell-1) (2 <= ell <= 64), the bits as a
 * packed binary sharing instead of MACed arithmetic values (compare.ts):
 *
 *  1. The MSB of x mod 2^ell as a binary sharing: A2B by splitting, carry-
 *     save and carry tree (a2b.ts), no mask, no opening.
 *  2. B2A with a daBit (dabit.ts; made ahead): e = MSB XOR b is opened with
 *     a checked binary opening (open.ts openB). b is uniform and unknown to
 *     every party, so e is too, whatever x (also if a cheater added an
 *     error to an AND: e = (MSB XOR d) XOR b is still masked by b).
 *  3. [MSB] = e + [b] - 2 e [b] (local: [b] where e = 0, 1 - [b] where
 *     e = 1; bit-ops.ts xorPublicM). DReLU = 1 - MSB = the same with NOT e.
 *  4. ReLU = x DReLU(x) = x - x MSB, with x MSB = e x + (1 - 2e) [x b]: the
 *     product [x b] (one mulM, product.ts) does not depend on the MSB, so it
 *     is sent in the round of step 1's first AND (mulStartM); then ReLU =
 *     [x b] where e = 1, x - [x b] where e = 0 (local: a public choice
 *     between two MACed values).
 * (Escudero, Ghosh, Keller, Rachuri, Scholl, CRYPTO 2020, for A2B and
 * B2A with daBits in the malicious setting; Mohassel and Rindal, ABY3, CCS
 * 2018, §5.3 for the bit decomposition; Dalskov, Escudero, Keller 2020 for
 * the MACed arithmetic side.)
 *
 * Checks: the ANDs of step 1 wait in the session's binary state and are
 * verified against cut-and-choose triples (verify.ts, triples.ts) at the
 * next MAC check, before it (mac-check.ts); the arithmetic parts (the
 * daBit's [b], the product) by the MAC check. Nothing derived from the
 * result may leave the parties before that check, as for every malicious
 * primitive. Only bits 0..ell-1 of x's shares and the low bits of the MACed
 * values are used, so errors in multiples of 2^k change nothing.
 *
 * Cost (n elements, w = ceil(n / 64)): offline the daBits (randBitsCost(n))
 * and the triples for the ANDs (triples.ts); online msbBitsCostB + openCostB(w)
 * (+ mulCostM(n)'s bytes for ReLU, in the first AND's round); at the check
 * verifyCostB(the AND words). The runner's ReLU (`reluBinCheckedM`) takes
 * its daBits and triples from the session's mask source (a pool entry made
 * ahead, mask-source.ts) when it has one: online then msbBitsCostB +
 * openVerifiedCostB(w, W) (e, rho, sigma in one opening, one zero check),
 * for ell = 32: 7 + 2 rounds, against 3 + 8 + 4 with everything inline.
 */
import type { Cost } from '../../primitives/cost.js';
import { addCost } from '../../primitives/cost.js';
import { xorPublicM } from '../bit-ops.js';
import { mulCostM, mulStartM } from '../product.js';
import { subM, type MShare } from '../rep.js';
import type { MalSession } from '../session.js';
import { msbBitsBody, msbBitsCostB } from './a2b.js';
import { bitAt, wordsOf, xorB } from './bshare.js';
import { daBitsCostB, daBitsM, type DaBits } from './dabit.js';
import { openBodyB, openCostB } from './open.js';
import { assert } from '../../errors.js';
import { pendingWords } from './state.js';
import type { TriplesB } from './triples.js';
import { openVerifiedBodyB, openVerifiedCostB, takeTriplesM, verifyInlineCostB, verifyPendingBody } from './verify.js';

/** Online cost of msbBinM / dreluBinM with the daBits made before. */
export const msbBinOnlineCostB = (n: number, ell: number): Cost => addCost(msbBitsCostB(n, ell), openCostB(wordsOf(n)));
/** Online cost of reluBinM with the daBits made before: the product's bytes ride in the first AND's round. */
export const reluBinOnlineCostB = (n: number, ell: number): Cost => addCost(msbBinOnlineCostB(n, ell), { rounds: 0, bytes: mulCostM(n).bytes });
/** AND words a comparison of n elements records for verification (what verify.ts and the triples are sized by). */
export const andWordsB = (n: number, ell: number): number => msbBitsCostB(n, ell).bytes / 24;
/** The offline part: the daBits. */
export const compareBinOfflineCostB = (n: number): Cost => daBitsCostB(n);

/** Steps 1-2: e = MSB XOR b opened (with rho, sigma of every pending AND and their zero check when `verify` triples are given). */
async function msbPublicE(s: MalSession, x: MShare, ell: number, d: DaBits, alongside?: () => void, verify?: TriplesB): Promise<Uint8Array> {
  assert(d.bin.n === x.n && d.arith.n === x.n, 'E_SHAPE', `malicious.binary.compare: ${d.bin.n} daBits for ${x.n} elements`, { party: s.party });
  const msb = await msbBitsBody(s, x, ell, alongside);
  const masked = xorB(msb, d.bin);
  const e = verify ? await openVerifiedBodyB(s, masked, verify) : await openBodyB(s, masked);
  const out = new Uint8Array(x.n);
  for (let i = 0; i < x.n; i++) out[i] = bitAt(e, x.n, 0, i);
  return out;
}

/** [MSB(x mod 2^ell)] as a MACed 0/1 value (steps 1-3); daBits made here when not given. Cost msbBinOnlineCostB (+ daBitsCostB(n) without them). */
export function msbBinM(s: MalSession, x: MShare, ell: number, dabits?: DaBits): Promise<MShare> {
  return s.guard('mal.bin.compare', async () => {
    const d = dabits ?? await daBitsM(s, x.n);
    const e = await msbPublicE(s, x, ell, d);
    return xorPublicM(s.party, s.alpha, d.arith, e, s.ctx.kernels);
  });
}

/** [DReLU(x)] = 1 - MSB. Cost as msbBinM. */
export function dreluBinM(s: MalSession, x: MShare, ell: number, dabits?: DaBits): Promise<MShare> {
  return s.guard('mal.bin.compare', async () => {
    const d = dabits ?? await daBitsM(s, x.n);
    const e = await msbPublicE(s, x, ell, d);
    return xorPublicM(s.party, s.alpha, d.arith, e.map((b) => b ^ 1), s.ctx.kernels);
  });
}

/** zero_i := one_i where e_i = 1 (a public choice between two MACed values: local); returns zero, changed in place. Exported for cpu-cuts.test.ts (old-vs-new). */
export function chooseM(e: Uint8Array, one: MShare, zero: MShare): MShare {
  const out = zero;
  // Word copies, no subarray per element (each was a fresh typed-array view: most of this function's time and GC).
  for (const [src, dst] of [[one.x.a, out.x.a], [one.x.b, out.x.b], [one.m.a, out.m.a], [one.m.b, out.m.b]] as const) {
    for (let i = 0; i < e.length; i++) {
      if (!e[i]) continue;
      const w = 4 * i;
      dst[w] = src[w]!; dst[w + 1] = src[w + 1]!; dst[w + 2] = src[w + 2]!; dst[w + 3] = src[w + 3]!;
    }
  }
  return out;
}

/**
 * [ReLU(x)] (step 4): [x b] sent in the first AND's round, then x b where e = 1, x - x b where e = 0. With `verify`
 * (triples made ahead for every pending AND and this call's: the caller sized them), the ANDs are verified in e's
 * opening and one more round. Cost reluBinOnlineCostB (+ daBitsCostB(n) without daBits; with `verify` the opening is
 * openVerifiedCostB instead of openCostB).
 */
export function reluBinM(s: MalSession, x: MShare, ell: number, dabits?: DaBits, verify?: TriplesB): Promise<MShare> {
  return s.guard('mal.bin.relu', async () => {
    const d = dabits ?? await daBitsM(s, x.n);
    let xb: (() => Promise<MShare>) | null = null;
    const e = await msbPublicE(s, x, ell, d, () => { xb = mulStartM(s, x, d.arith); }, verify);
    const p = await xb!();
    return chooseM(e, p, subM(x, p, s.ctx.kernels));
  });
}

export { daBitsM, daBitsCostB };
export const reluBinCostB = (n: number, ell: number): Cost => addCost(daBitsCostB(n), reluBinOnlineCostB(n, ell));

/**
 * The runner's ReLU in the binary domain (primitives.ts `BINARY_COMPARE_PRIMITIVES`): daBits and verified triples
 * from the session's mask source (a pool entry made ahead: mask-source.ts kinds 'bin.dabits', 'bin.triples'), else
 * made here; the ReLU; its ANDs verified before the layer ends (with pooled triples in e's opening and one zero
 * check, else with triples made at the check, verify.ts), so that the layer's declared cost is exact and no AND
 * waits for the next MAC check. Cost reluBinCheckedCostB inline; a pool entry saves daBitsCostB(n) and
 * triplesSavedCostB(W) (mask-source.ts savedCost).
 */
export function reluBinCheckedM(s: MalSession, x: MShare, ell: number): Promise<MShare> {
  return s.guard('mal.bin.reluChecked', async () => {
    const d = await daBitsM(s, x.n);
    const t = await takeTriplesM(s, pendingWords(s) + andWordsB(x.n, ell));
    const y = await reluBinM(s, x, ell, d, t ?? undefined);
    if (!t) await verifyPendingBody(s);
    return y;
  });
}
export const reluBinCheckedCostB = (n: number, ell: number): Cost => addCost(reluBinCostB(n, ell), verifyInlineCostB(andWordsB(n, ell)));
/** reluBinCheckedM's online cost with its daBits and triples from a pool entry. */
export const reluBinPooledCostB = (n: number, ell: number): Cost =>
  addCost(msbBitsCostB(n, ell), openVerifiedCostB(wordsOf(n), andWordsB(n, ell)), { rounds: 0, bytes: mulCostM(n).bytes });
