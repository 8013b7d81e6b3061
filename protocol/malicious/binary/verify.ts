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
 * Triples made ahead in the mask pool (mask-source.ts kind 'bin.triples',
 * `takeTriplesM`: an offline batch runs makeTriplesBody, whose cut-and-choose
 * and sacrifice finish before the batch's entry exists; a pool entry hands
 * them out once, in the recorded order) let a comparison open rho and sigma
 * in the round that opens its masked bit e (`openVerifiedBodyB`), and check
 * v with hashes sent in the next MAC check's sigma round and compared before
 * its confirm (mac-check.ts), so before any output: no round of its own,
 * and 48 W + 96 bytes more than the opening of e alone. Without a
 * source the request makes nothing (the triples are then made at the check
 * as above), so a pool-off run is as before.
 *
 * Cost with stocked triples, W words of ANDs: 2 rounds, 3 (16 W + 32) + 96
 * bytes (verifyCostB); without: tripleCostB(W) + 48 W bytes, 4 rounds
 * (verifyInlineCostB).
 */
import type { Cost } from '../../primitives/cost.js';
import { addCost } from '../../primitives/cost.js';
import { MpcError } from '../../errors.js';
import { registerMaskMaker, takeMask } from '../mask-source.js';
import type { MalSession } from '../session.js';
import { concatWordsB, xorB, WORD_BYTES_B, type BShare } from './bshare.js';
import { checkZeroBodyB, checkZeroCostB, openBodyB, openCostB, wordsOfB, type ZeroCheckB } from './open.js';
import { binaryState, pendingWords } from './state.js';
import { beaverZeroB, makeTriplesBody, sliceTriplesB, tripleCostB, type TriplesB } from './triples.js';

export const verifyCostB = (words: number): Cost => addCost(openCostB(2 * words), checkZeroCostB());
/** The verification with its triples made at the check, in the triples' own rounds (triples.ts `check`): 16 bytes per AND word per party more. */
export const verifyInlineCostB = (words: number): Cost => addCost(tripleCostB(words), { rounds: 0, bytes: 3 * 2 * WORD_BYTES_B * words });

/** The mask kind of verified AND triples (mask-source.ts): n = the AND words to verify, no parameters. */
export const TRIPLES_KIND = 'bin.triples';

/**
 * The online saving of triples from a pool entry for W AND words, against making them at the check: the opening of
 * e alone plus verifyInlineCostB(W), against openVerifiedBodyB's (one opening of e, rho, sigma and one zero check).
 */
export const triplesSavedCostB = (words: number): Cost => ({ rounds: 4, bytes: tripleCostB(words).bytes - 3 * 32 });

registerMaskMaker(TRIPLES_KIND, (s, n) => s.guard('mal.bin.triples', () => makeTriplesBody(s, n)), (n) => tripleCostB(n), triplesSavedCostB);

/** Triples handed to openVerifiedBodyB (each set once). */
const spent = new WeakSet<TriplesB>();

/**
 * Verified triples for `words` AND words from the session's mask source (a pool entry: made ahead, used once
 * here); null without a source, or from a recorder (the run then makes them at the check, verifyPendingBody).
 */
export async function takeTriplesM(s: MalSession, words: number): Promise<TriplesB | null> {
  const t = await takeMask<TriplesB | null>(s, { kind: TRIPLES_KIND, n: words, params: [] }, () => Promise.resolve(null));
  if (t && t.N < words) throw new MpcError('E_INTERNAL', `malicious.binary.verify: the source handed out ${t.N} triple words for ${words}`, { party: s.party, step: 'mal.bin.verify' });
  return t;
}

/**
 * Open `extra` (a masked value, e.g. a comparison's e = MSB XOR b) together with rho and sigma of every pending AND
 * against the triples t (made ahead: takeTriplesM), then check v = 0 (steps 1-2 of the header). Returns the opened
 * lanes of `extra`. The pending ANDs must be exactly t's words (the caller sized the request). Cost
 * openVerifiedCostB(wordsOfB(extra), W).
 */
export async function openVerifiedBodyB(s: MalSession, extra: BShare, t: TriplesB): Promise<Uint32Array> {
  // Each taken set of triples verifies once: a second use would open x XOR a and x' XOR a for the same a (x XOR x').
  if (spent.has(t)) throw new MpcError('E_INTERNAL', 'malicious.binary.verify: these triples were used before (a triple verifies one AND only)', { party: s.party, step: 'mal.bin.verify' });
  spent.add(t);
  const st = binaryState(s), words = pendingWords(s);
  if (words > t.N) throw new MpcError('E_INTERNAL', `malicious.binary.verify: ${words} AND words wait, ${t.N} triple words were taken`, { party: s.party, step: 'mal.bin.verify' });
  const pending = st.pending;
  st.pending = [];
  const used = sliceTriplesB(t, 0, words);
  const x = concatWordsB(pending.map((p) => p.x)), y = concatWordsB(pending.map((p) => p.y)), z = concatWordsB(pending.map((p) => p.z));
  const e = wordsOfB(extra), lanes = extra.a.length;
  const opened = await openBodyB(s, concatWordsB([extra, xorB(x, used.a), xorB(y, used.b)]));
  // Step 2's hashes go with the next MAC check's sigma (mac-check.ts step 3), which compares them before its confirm.
  st.zeroChecks.push({ tag: s.label('zeroB'), v: beaverZeroB(s.party, { z }, used, opened.subarray(lanes, lanes + 2 * words), opened.subarray(lanes + 2 * words)) });
  return opened.slice(0, 2 * e);
}
/** openVerifiedBodyB: one opening; the zero check's 96 bytes travel in the next MAC check's sigma round (no round of their own). */
export const openVerifiedCostB = (extraWords: number, words: number): Cost => addCost(openCostB(extraWords + 2 * words), { rounds: 0, bytes: checkZeroCostB().bytes });

/** The zero checks due (openVerifiedBodyB), taken for the MAC check that sends and compares their hashes. */
export function takeZeroChecksB(s: MalSession): ZeroCheckB[] {
  return binaryState(s).zeroChecks.splice(0);
}

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
