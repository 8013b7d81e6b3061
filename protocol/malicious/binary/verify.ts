/**
 * Verification of the ANDs of a session against verified triples
 * (Furukawa, Lindell, Nof, Weinstein, EUROCRYPT 2017, verifying a
 * multiplication with a triple; Beaver's check): for each
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
 * without a stock they are made here and the ANDs checked in the triples'
 * own rounds (their rho and sigma in its opening, their v in its zero check).
 *
 * Cost with stocked triples, W words of ANDs: 2 rounds, 3 (16 W + 32) + 96
 * bytes (verifyCostB); without: tripleCostB(W) + 48 W bytes, 4 rounds
 * (verifyInlineCostB).
 */
import type { Cost } from '../../primitives/cost.js';
import { addCost } from '../../primitives/cost.js';
import type { MalSession } from '../session.js';
import { concatWordsB, xorB, WORD_BYTES_B } from './bshare.js';
import { checkZeroBodyB, checkZeroCostB, openBodyB, openCostB } from './open.js';
import { binaryState, pendingWords } from './state.js';
import { beaverZeroB, makeTriplesBody, sliceTriplesB, tripleCostB, type TriplesB } from './triples.js';

export const verifyCostB = (words: number): Cost => addCost(openCostB(2 * words), checkZeroCostB());
/** The verification with its triples made at the check, in the triples' own rounds (triples.ts `check`): 16 bytes per AND word per party more. */
export const verifyInlineCostB = (words: number): Cost => addCost(tripleCostB(words), { rounds: 0, bytes: 3 * 2 * WORD_BYTES_B * words });

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

/** `words` triple words from the stock (left >= words), or its rest and fresh ones (a stock too small). */
async function takeTriples(s: MalSession, words: number): Promise<TriplesB> {
  const st = binaryState(s), stock = st.stock!;
  const left = stock.a.a.length / 2 - stock.used;
  const old = sliceTriplesB({ a: stock.a, b: stock.b, c: stock.c, N: 0 }, stock.used, stock.used + Math.min(left, words));
  stock.used += Math.min(left, words);
  if (left >= words) return old;
  st.stock = null;
  const more = sliceTriplesB(await makeTriplesBody(s, words - left), 0, words - left);
  return { a: concatWordsB([old.a, more.a]), b: concatWordsB([old.b, more.b]), c: concatWordsB([old.c, more.c]), N: words };
}

/**
 * Verify every AND made since the last verification (steps 1-2); no-op without any. Without a stock, the triples
 * are made now and the ANDs checked in their rounds (verifyInlineCostB: 4 rounds); with a stock large enough,
 * verifyCostB (2 rounds); with a stock too small, its rest and fresh triples, then steps 1-2 (tripleCostB of the
 * missing words + verifyCostB).
 */
export async function verifyPendingBody(s: MalSession): Promise<void> {
  const st = binaryState(s);
  if (st.pending.length === 0) return;
  const words = pendingWords(s);
  const pending = st.pending;
  st.pending = [];
  const x = concatWordsB(pending.map((p) => p.x)), y = concatWordsB(pending.map((p) => p.y)), z = concatWordsB(pending.map((p) => p.z));
  const stock = st.stock;
  if (!stock || stock.a.a.length / 2 - stock.used === 0) {
    st.stock = null;
    await makeTriplesBody(s, words, { x, y, z, words });
    return;
  }
  const t = await takeTriples(s, words);
  const opened = await openBodyB(s, concatWordsB([xorB(x, t.a), xorB(y, t.b)]));
  await checkZeroBodyB(s, beaverZeroB(s.party, { z }, t, opened.subarray(0, 2 * words), opened.subarray(2 * words)));
}

/** Verify the session's pending ANDs now (mac-check.ts does it before every MAC check). Cost verifyCostB(words) with stocked triples. */
export function verifyAndsB(s: MalSession): Promise<void> {
  return s.guard('mal.bin.verify', () => verifyPendingBody(s));
}
