/**
 * Verified AND triples (a, b, c = a AND b) over packed replicated binary
 * sharings, by cut-and-choose and bucketing (Furukawa, Lindell, Nof,
 * Weinstein, EUROCRYPT 2017: triple generation by cut-and-choose and
 * bucketing, the sacrifice of one triple to verify another, and the
 * combinatorial bound of the bucketing game; Araki,
 * Barak, Furukawa, Lichter, Lindell, Nof, Ohara, Watzman, Weinstein, S&P
 * 2017). The unit is one u64 word (64 bit triples side by side): a
 * word is good when all its 64 bit triples are; a check of two words is
 * bitwise, so a bad word passes only against a bad word with the same
 * error, and the combinatorial game of FLNW17 is played on words (see
 * `bucketBound`).
 *
 * For N triple words, with B (bucket size) and C (opened) from
 * `tripleParams(N)`, M = N B + C:
 *
 *  1. a, b: M random words each from the pair PRGs (bshare.ts randomB);
 *     c = a AND b by resharing (and.ts, not recorded: checked here). In the
 *     same round each party sends both peers a commitment H(coin, nonce) to
 *     a fresh 16-byte coin (node:crypto).
 *  2. Each party opens its coin to both peers; a coin that does not open its
 *     commitment is E_INTEGRITY. seed = H(coin_0, coin_1, coin_2): fixed
 *     only after every triple was sent, and no party chose it alone.
 *  3. A permutation pi of the M words from the seed (Fisher-Yates on an
 *     AES-CTR PRG, rejection sampling: uniform). Cut: the words pi[0..C)
 *     are opened (a, b, c) and c = a AND b is checked by each party (a
 *     mismatch is E_INTEGRITY). Buckets: bucket k holds pi[C + kB ..
 *     C + (k + 1) B); its first word (x, y, z) is the output, each other
 *     (a_t, b_t, c_t) is sacrificed: rho_t = x XOR a_t and sigma_t =
 *     y XOR b_t are opened, in the same opening as the cut (one round).
 *  4. v_t = z XOR c_t XOR (sigma_t AND a_t) XOR (rho_t AND b_t) XOR
 *     (rho_t AND sigma_t) is 0 for good triples (local: public times
 *     shared); every v_t is checked to be 0 (open.ts checkZeroB).
 * The opened values: the cut words are thrown away; rho_t and sigma_t are
 * x and y masked by the uniform a_t, b_t, which are thrown away too.
 *
 * Cost (all parties): 4 rounds; 24 M + 192 (ANDs, commitments) + 192
 * (coins) + 3 (8 (3 C + 2 N (B - 1)) + 32) + 96 bytes.
 */
import { Prg } from '../../correlated/prg.js';
import { assert } from '../../errors.js';
import type { Cost } from '../../primitives/cost.js';
import { addCost } from '../../primitives/cost.js';
import type { PartyId } from '../../ring/types.js';
import { commitCoin, digest, freshCoin, HASH_BYTES, sameBytes, type MalSession } from '../session.js';
import { andLocal } from './and.js';
import { allocB, concatWordsB, gatherWordsB, randomB, xorB, WORD_BYTES_B, type BShare } from './bshare.js';
import { checkZeroBodyB, checkZeroCostB, openBodyB, openCostB } from './open.js';

/** Statistical security of the triples, in bits (docs/MALICIOUS.md: at least 40). */
export const TRIPLE_SECURITY_BITS = 40;
/** Fewer triple words than this are padded up to it (small batches would need large buckets: `tripleParams`). */
export const MIN_TRIPLE_WORDS = 32;

/** log Gamma(x) for x > 0 (Lanczos, g = 7, 9 terms: relative error about 1e-15). */
function lgamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lgamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** log2 binom(n, k). */
const log2Binom = (n: number, k: number): number => (k < 0 || k > n ? -Infinity : (lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)) / Math.LN2);

/** How many terms of `bucketBound` have been computed (in this process): a test counts them (the shortcut's work). */
export const bucketTermsComputed = { terms: 0 };

/** log2 of the probability that the j bad buckets' words pass (the term of `bucketBound` for j). */
const bucketTerm = (N: number, B: number, C: number, j: number): number => {
  bucketTermsComputed.terms++;
  return log2Binom(N * B + C - j * B, C) - log2Binom(N * B + C, C) + log2Binom(N, j) - log2Binom(N * B, j * B);
};

/**
 * log2 of the probability that a cheater gets a bad triple word through
 * steps 1-4 (FLNW17's bucketing game, on words): it must make t = j B bad words for some
 * j >= 1 (any other count leaves a bucket with good and bad words, caught),
 * none of them opened in the cut, probability binom(M - jB, C) / binom(M, C),
 * and all of them in j whole buckets, probability binom(N, j) / binom(NB, jB)
 * (the bad words' positions are uniform among the N B unopened ones).
 * Returns the maximum over j = 1..N. (Using a bad output triple also needs a
 * cheated AND with the same error, which is not counted: an upper bound.)
 *
 * The maximum is found without visiting every j (the loop over all N took
 * 2 s at N = 1.2 million words, on the event loop at a session's first use
 * of that size): the terms of j < K and j > N - K + 1 are computed; every
 * j in [K, N - K] is bounded by binom(N, K)^(1 - B), since both factors are
 * at most 1, binom(NB, jB) >= binom(N, j)^B (choosing j of the N words in
 * each of B blocks of N is one way to choose jB of NB) and binom(N, j) >=
 * binom(N, K) there (unimodal). When that bound is below the largest term
 * computed, it is the maximum over all j; else K doubles (at worst every j
 * is computed, as before). The one term not computed nor covered by that
 * bound, j = N - K + 1, is at most the computed term of K - 1: the last two
 * factors are symmetric in j <-> N - j, and the first falls as j grows.
 * `bucketBoundAll` is the plain loop (tests).
 */
export function bucketBound(N: number, B: number, C: number): number {
  let worst = -Infinity, done = 0; // terms j = 1..done and N - done + 1..N computed
  for (let K = 8; ; K *= 2) {
    const upto = Math.min(K - 1, Math.ceil(N / 2));
    for (let j = done + 1; j <= upto; j++) {
      worst = Math.max(worst, bucketTerm(N, B, C, j));
      if (N - j + 1 > upto) worst = Math.max(worst, bucketTerm(N, B, C, N - j + 1));
    }
    done = upto;
    if (2 * upto >= N) return worst; // every j computed
    if ((1 - B) * log2Binom(N, K) < worst) return worst;
  }
}

/** bucketBound by the plain loop over every j = 1..N (the reference its shortcut is tested against). */
export function bucketBoundAll(N: number, B: number, C: number): number {
  let worst = -Infinity;
  for (let j = 1; j <= N; j++) worst = Math.max(worst, bucketTerm(N, B, C, j));
  return worst;
}

const paramCache = new Map<number, { N: number; B: number; C: number }>();

/**
 * Bucket size B and opened words C for N triple words (padded to
 * MIN_TRIPLE_WORDS): the smallest B in 2..16, with C = B (FLNW17's choice),
 * such that bucketBound <= -TRIPLE_SECURITY_BITS. Deterministic in N, so the
 * three parties agree. N: the (padded) number of words made.
 */
export function tripleParams(words: number): { N: number; B: number; C: number } {
  assert(Number.isInteger(words) && words >= 1, 'E_SHAPE', `malicious.binary.triples: the number of triple words must be a positive integer, got ${words}`);
  const N = Math.max(words, MIN_TRIPLE_WORDS);
  const kept = paramCache.get(N);
  if (kept) return kept;
  for (let B = 2; B <= 16; B++) {
    if (bucketBound(N, B, B) <= -TRIPLE_SECURITY_BITS) {
      const p = { N, B, C: B };
      paramCache.set(N, p);
      return p;
    }
  }
  throw new Error(`tripleParams: no bucket size up to 16 for ${N} words`); // not reached for N >= MIN_TRIPLE_WORDS (triples.test.ts)
}

export const tripleCostB = (words: number): Cost => {
  const { N, B, C } = tripleParams(words), M = N * B + C;
  return addCost(
    { rounds: 1, bytes: 3 * WORD_BYTES_B * M + 6 * HASH_BYTES },
    { rounds: 1, bytes: 6 * HASH_BYTES },
    openCostB(3 * C + 2 * N * (B - 1)),
    checkZeroCostB(),
  );
};

/** Verified triples: a, b, c as one plane of N words each (N >= the words asked for). */
export interface TriplesB { readonly a: BShare; readonly b: BShare; readonly c: BShare; readonly N: number }

/** Words [from, to) of a one-plane word vector. */
const wordsB = (x: BShare, from: number, to: number): BShare => ({ n: 64 * (to - from), planes: 1, a: x.a.slice(2 * from, 2 * to), b: x.b.slice(2 * from, 2 * to) });

/** A uniform permutation of [0, m) from a 16-byte seed (Fisher-Yates, rejection sampling on 32-bit draws). */
export function permutation(seed: Uint8Array, m: number): Int32Array {
  const prg = new Prg(seed.subarray(0, 16));
  const pi = Int32Array.from({ length: m }, (_, i) => i);
  const buf = new Uint32Array(256);
  let pos = buf.length;
  const draw = (): number => { if (pos === buf.length) { prg.fill(new Uint8Array(buf.buffer)); pos = 0; } return buf[pos++]!; };
  for (let i = m - 1; i > 0; i--) {
    const range = i + 1, limit = Math.floor(0x100000000 / range) * range;
    let r = draw();
    while (r >= limit) r = draw();
    const j = r % range;
    const t = pi[i]!; pi[i] = pi[j]!; pi[j] = t;
  }
  return pi;
}

/**
 * Beaver's check of (x, y, z) against a triple (a, b, c) with rho = x XOR a and sigma = y XOR b opened (FLNW17
 * verifying a triple with another): v = z XOR c XOR (sigma AND a) XOR (rho AND b) XOR (rho AND sigma), a sharing of 0 when both are
 * right (local). Used by the sacrifice (step 4) and by verify.ts.
 */
export function beaverZeroB(party: PartyId, x: { z: BShare }, t: { a: BShare; b: BShare; c: BShare }, rho: Uint32Array, sigma: Uint32Array): BShare {
  // One pass per share instead of five vectors: z ^ c ^ (a & sigma) ^ (b & rho), and rho & sigma (public) on share
  // x_0 (P0's a, P2's b) as xorPublicB; the same bits as the composition (binary.test.ts, cheat-bin tests).
  const n = x.z.a.length, out = allocB(x.z.n, x.z.planes);
  assert(t.c.a.length === n && t.a.a.length === n && t.b.a.length === n && rho.length === n && sigma.length === n, 'E_SHAPE', `malicious.binary.beaverZero: ${n} lanes`);
  const { z } = x, { a, b, c } = t, pa = party === 0 ? -1 : 0, pb = party === 2 ? -1 : 0;
  for (let i = 0; i < n; i++) {
    const r = rho[i]!, g = sigma[i]!, rs = r & g;
    out.a[i] = z.a[i]! ^ c.a[i]! ^ (a.a[i]! & g) ^ (b.a[i]! & r) ^ (rs & pa);
    out.b[i] = z.b[i]! ^ c.b[i]! ^ (a.b[i]! & g) ^ (b.b[i]! & r) ^ (rs & pb);
  }
  return out;
}

/** ANDs (x, y, z as W whole words each) to check against the first W output triples in the same rounds (verify.ts). */
export interface AndsToCheck { readonly x: BShare; readonly y: BShare; readonly z: BShare; readonly words: number }

/**
 * makeTriplesB without its own step. With `check` (W words, W <= words), the ANDs are checked against the first W
 * output triples in the triples' own rounds: their rho, sigma join step 3's opening and their v step 4's zero check
 * (4 rounds in all instead of 4 + 2; the W triples are spent).
 */
export async function makeTriplesBody(s: MalSession, words: number, check?: AndsToCheck): Promise<TriplesB> {
  const { N, B, C } = tripleParams(words), M = N * B + C;
  const tag = s.label('triplesB');
  const peers: PartyId[] = [s.prev, s.next];
  // Step 1: random a, b; c = a AND b (resharing), and the commitments to the coins, in one round.
  const a = randomB(s.ctx, 64 * M), b = randomB(s.ctx, 64 * M);
  const cz = andLocal(s, a, b);
  const coin = freshCoin();
  s.send(s.prev, `${tag}:and`, new Uint8Array(cz.buffer.slice(0)));
  for (const p of peers) s.send(p, `${tag}:commit`, commitCoin(s.party, coin, 'mal.bin.coin'));
  const got = await s.recv(s.next, `${tag}:and`, 4 * cz.length);
  const c: BShare = { n: 64 * M, planes: 1, a: cz, b: new Uint32Array(got.buffer.slice(got.byteOffset, got.byteOffset + got.byteLength)) };
  const commits = new Map<PartyId, Uint8Array>();
  for (const p of peers) commits.set(p, (await s.recv(p, `${tag}:commit`, HASH_BYTES)).slice());
  // Step 2: open the coins; seed from all three.
  const opening = new Uint8Array(32); opening.set(coin.share); opening.set(coin.nonce, 16);
  for (const p of peers) s.send(p, `${tag}:coin`, opening);
  const coins: Uint8Array[] = [];
  coins[s.party] = coin.share;
  for (const p of peers) {
    const o = await s.recv(p, `${tag}:coin`, 32);
    if (!sameBytes(commitCoin(p, { share: o.subarray(0, 16), nonce: o.subarray(16) }, 'mal.bin.coin'), commits.get(p)!)) s.fail(tag, `P${p}'s coin does not open its commitment`);
    coins[p] = o.slice(0, 16);
  }
  const seed = digest('mal.bin.seed', coins[0]!, coins[1]!, coins[2]!);
  // Step 3: permutation, cut, buckets.
  const pi = permutation(seed, M);
  const cut = pi.subarray(0, C);
  const first: number[] = [], others: number[] = [];
  for (let k = 0; k < N; k++) {
    first.push(pi[C + k * B]!);
    for (let t = 1; t < B; t++) others.push(pi[C + k * B + t]!);
  }
  const firstOfOther = Int32Array.from({ length: N * (B - 1) }, (_, q) => first[Math.floor(q / (B - 1))]!);
  const x = gatherWordsB(a, firstOfOther), y = gatherWordsB(b, firstOfOther), z = gatherWordsB(c, firstOfOther);
  const at = gatherWordsB(a, others), bt = gatherWordsB(b, others), ct = gatherWordsB(c, others);
  const out = Int32Array.from(first);
  const triples: TriplesB = { a: gatherWordsB(a, out), b: gatherWordsB(b, out), c: gatherWordsB(c, out), N };
  const W = check?.words ?? 0, used = W > 0 ? sliceTriplesB(triples, 0, W) : null;
  const checked = check && used ? [xorB(check.x, used.a), xorB(check.y, used.b)] : [];
  const opened = await openBodyB(s, concatWordsB([gatherWordsB(a, cut), gatherWordsB(b, cut), gatherWordsB(c, cut), xorB(x, at), xorB(y, bt), ...checked]));
  for (let w = 0; w < 2 * C; w++) {
    const oa = opened[w]!, ob = opened[2 * C + w]!, oc = opened[4 * C + w]!;
    if (oc !== ((oa & ob) >>> 0)) s.fail(tag, 'an opened triple is not an AND (cut-and-choose)');
  }
  const K = 2 * N * (B - 1); // u32 lanes of the sacrificed words
  const rho = opened.subarray(6 * C, 6 * C + K), sigma = opened.subarray(6 * C + K, 6 * C + 2 * K);
  // Step 4: v = z ^ c_t ^ sigma a_t ^ rho b_t ^ rho sigma, checked to be 0 (with the ANDs' v when given).
  const v = beaverZeroB(s.party, { z }, { a: at, b: bt, c: ct }, rho, sigma);
  const base = 6 * C + 2 * K;
  const vs = check && used ? [v, beaverZeroB(s.party, check, used, opened.subarray(base, base + 2 * W), opened.subarray(base + 2 * W, base + 4 * W))] : [v];
  await checkZeroBodyB(s, concatWordsB(vs));
  return triples;
}

/** At least `words` verified triple words (see the header). Cost tripleCostB(words). */
export function makeTriplesB(s: MalSession, words: number): Promise<TriplesB> {
  return s.guard('mal.bin.triples', () => makeTriplesBody(s, words));
}

/** Words [from, to) of verified triples. */
export const sliceTriplesB = (t: TriplesB, from: number, to: number): TriplesB => ({ a: wordsB(t.a, from, to), b: wordsB(t.b, from, to), c: wordsB(t.c, from, to), N: to - from });

