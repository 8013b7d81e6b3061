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
 *  4. ReLU = x DReLU(x): one mulM (product.ts).
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
 * (+ mulCostM(n) for ReLU); at the check verifyCostB(the AND words).
 */
import type { Cost } from '../../primitives/cost.js';
import { addCost } from '../../primitives/cost.js';
import { xorPublicM } from '../bit-ops.js';
import { mulCostM, mulM } from '../product.js';
import type { MShare } from '../rep.js';
import type { MalSession } from '../session.js';
import { msbBitsBody, msbBitsCostB } from './a2b.js';
import { bitAt, wordsOf, xorB } from './bshare.js';
import { daBitsCostB, daBitsM, type DaBits } from './dabit.js';
import { openBodyB, openCostB } from './open.js';
import { assert } from '../../errors.js';
import { verifyInlineCostB, verifyPendingBody } from './verify.js';

/** Online cost of msbBinM / dreluBinM with the daBits made before. */
export const msbBinOnlineCostB = (n: number, ell: number): Cost => addCost(msbBitsCostB(n, ell), openCostB(wordsOf(n)));
export const reluBinOnlineCostB = (n: number, ell: number): Cost => addCost(msbBinOnlineCostB(n, ell), mulCostM(n));
/** AND words a comparison of n elements records for verification (what verify.ts and the triples are sized by). */
export const andWordsB = (n: number, ell: number): number => msbBitsCostB(n, ell).bytes / 24;
/** The offline part: the daBits. */
export const compareBinOfflineCostB = (n: number): Cost => daBitsCostB(n);

async function msbPublicE(s: MalSession, x: MShare, ell: number, d: DaBits): Promise<Uint8Array> {
  assert(d.bin.n === x.n && d.arith.n === x.n, 'E_SHAPE', `malicious.binary.compare: ${d.bin.n} daBits for ${x.n} elements`, { party: s.party });
  const msb = await msbBitsBody(s, x, ell);
  const e = await openBodyB(s, xorB(msb, d.bin));
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

/** [ReLU(x)] = x DReLU(x) (step 4). Cost reluBinOnlineCostB (+ daBitsCostB(n) without daBits). */
export function reluBinM(s: MalSession, x: MShare, ell: number, dabits?: DaBits): Promise<MShare> {
  return s.guard('mal.bin.relu', async () => {
    const d = await dreluBinM(s, x, ell, dabits);
    return mulM(s, x, d);
  });
}

export { daBitsM, daBitsCostB };
export const reluBinCostB = (n: number, ell: number): Cost => addCost(daBitsCostB(n), reluBinOnlineCostB(n, ell));

/**
 * The runner's ReLU in the binary domain (primitives.ts `BINARY_COMPARE_PRIMITIVES`): daBits made here, the ReLU,
 * then its ANDs verified at once with triples made here (verify.ts), so that the layer's declared cost is exact and
 * no AND waits for the next MAC check (no triple stock in the runner: nothing made ahead). Cost reluBinCheckedCostB.
 */
export function reluBinCheckedM(s: MalSession, x: MShare, ell: number): Promise<MShare> {
  return s.guard('mal.bin.reluChecked', async () => {
    const y = await reluBinM(s, x, ell);
    await verifyPendingBody(s);
    return y;
  });
}
export const reluBinCheckedCostB = (n: number, ell: number): Cost => addCost(reluBinCostB(n, ell), verifyInlineCostB(andWordsB(n, ell)));
