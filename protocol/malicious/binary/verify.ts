/**
 * Verification of the ANDs of a session against verified triples
 * (Furukawa, Lindell, Nof, Weinstein, EUROCRYPT 2017, §2.4 Protocol 2.6,
 * "verify a multiplication triple using another"; Beaver's check): for each
 * AND computed by and.ts, (x, y, z) with z = x AND y XOR d, and a verified
 * triple (a, b, c) (triples.ts):
 *
 *  1. rho = x XOR a and sigma = y XOR b are opened (open.ts openB: one
 *     checked opening for all ANDs); a and b are uniform and used once, so
 *     they reveal nothing of x and y.
 *  2. v = z XOR c XOR (sigma AND a) XOR (rho AND b) XOR (rho AND sigma) =
 *     d XOR (the triple's error) is checked to be 0 (open.ts checkZeroB).
 *     The triple is good except with probability 2^-40 (triples.ts), so a
 *     nonzero d is caught.
 *
 * Run before any output: mac-check.ts calls `verifyPendingBody` first when
 * ANDs wait (state.ts), so the binary domain is checked at the MAC check
 * point, with the same E_INTEGRITY abort. Triples come from the session's
 * stock (`stockTriplesB`, made ahead: input-independent) while it lasts;
 * the rest are made here (4 more rounds).
 *
 * Cost with stocked triples, W words of ANDs: 2 rounds, 3 (16 W + 32) + 96
 * bytes (verifyCostB); without: + tripleCostB(W).
 */
import type { Cost } from '../../primitives/cost.js';
import { addCost } from '../../primitives/cost.js';
import type { MalSession } from '../session.js';
import { andPublicB, concatWordsB, xorB, xorPublicB, type BShare } from './bshare.js';
import { checkZeroBodyB, checkZeroCostB, openBodyB, openCostB } from './open.js';
import { binaryState, pendingWords } from './state.js';
import { makeTriplesBody, sliceTriplesB, tripleCostB, type TriplesB } from './triples.js';

export const verifyCostB = (words: number): Cost => addCost(openCostB(2 * words), checkZeroCostB());
/** The verification with its triples made at the check. */
export const verifyInlineCostB = (words: number): Cost => addCost(tripleCostB(words), verifyCostB(words));

/** Make verified triples for `words` AND words ahead of the ANDs (input-independent), kept for the next verifications. Cost tripleCostB(words). */
export function stockTriplesB(s: MalSession, words: number): Promise<void> {
  return s.guard('mal.bin.triples', async () => {
    const t = await makeTriplesBody(s, words);
    const st = binaryState(s);
    const left = st.stock ? st.stock.a.a.length / 2 - st.stock.used : 0;
    if (left > 0) {
      const k = st.stock!, old = sliceTriplesB({ a: k.a, b: k.b, c: k.c, N: 0 }, k.used, k.used + left);
      st.stock = { a: concatWordsB([old.a, t.a]), b: concatWordsB([old.b, t.b]), c: concatWordsB([old.c, t.c]), used: 0 };
    } else st.stock = { a: t.a, b: t.b, c: t.c, used: 0 };
  });
}

/** `words` triple words: from the stock first, the rest made now. */
async function takeTriples(s: MalSession, words: number): Promise<TriplesB> {
  const st = binaryState(s), stock = st.stock;
  const left = stock ? stock.a.a.length / 2 - stock.used : 0;
  if (stock && left >= words) {
    const t = sliceTriplesB({ a: stock.a, b: stock.b, c: stock.c, N: 0 }, stock.used, stock.used + words);
    stock.used += words;
    return t;
  }
  const fresh = await makeTriplesBody(s, words - left);
  if (!stock || left === 0) return sliceTriplesB(fresh, 0, words);
  const old = sliceTriplesB({ a: stock.a, b: stock.b, c: stock.c, N: 0 }, stock.used, stock.used + left);
  st.stock = null;
  const more = sliceTriplesB(fresh, 0, words - left);
  return { a: concatWordsB([old.a, more.a]), b: concatWordsB([old.b, more.b]), c: concatWordsB([old.c, more.c]), N: words };
}

/** Verify every AND made since the last verification (steps 1-2); no-op without any. */
export async function verifyPendingBody(s: MalSession): Promise<void> {
  const st = binaryState(s);
  if (st.pending.length === 0) return;
  const words = pendingWords(s);
  const pending = st.pending;
  st.pending = [];
  const x = concatWordsB(pending.map((p) => p.x)), y = concatWordsB(pending.map((p) => p.y)), z = concatWordsB(pending.map((p) => p.z));
  const t = await takeTriples(s, words);
  const opened = await openBodyB(s, concatWordsB([xorB(x, t.a), xorB(y, t.b)]));
  const rho = opened.subarray(0, 2 * words), sigma = opened.subarray(2 * words);
  const rs = rho.map((r, i) => r & sigma[i]!);
  const v: BShare = xorPublicB(s.party, xorB(xorB(xorB(z, t.c), andPublicB(t.a, sigma)), andPublicB(t.b, rho)), rs);
  await checkZeroBodyB(s, v);
}

/** Verify the session's pending ANDs now (mac-check.ts does it before every MAC check). Cost verifyCostB(words) with stocked triples. */
export function verifyAndsB(s: MalSession): Promise<void> {
  return s.guard('mal.bin.verify', () => verifyPendingBody(s));
}
