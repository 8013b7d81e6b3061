/**
 * Batched MAC check of SPDZ_2k (Cramer, Damgård, Escudero, Scholl, Xing,
 * CRYPTO 2018, §3 Fig. "Pi_MACCheck"), on replicated shares (Dalskov,
 * Escudero, Keller 2020, §3): every value opened since the last check, and
 * every MACed value made by communication (session.ts `pending`: products,
 * MACs of random values and inputs), is verified at once, before anything
 * derived from them leaves the parties.
 *
 *  1. Coin: each party, once it holds both peers' commitments (the set-up's
 *     ride in the first messages of the session: session.ts), opens the coin
 *     share it committed to (H(share,
 *     nonce), sent at set-up or in the previous check's step 1) and sends
 *     the commitment to its next coin; a commitment that does not open is
 *     E_INTEGRITY. seed = H(coin_0, coin_1, coin_2) is fixed only now, after
 *     every checked value was made, and no party chose it alone. In the same
 *     round the parties make a random MACed mask [rho] (product.ts macOf).
 *  2. Secret values: with chi'_j from the seed (one per pending element v_j),
 *     open u = rho + sum chi'_j v_j (checked, open.ts) with its MAC
 *     [alpha rho] + sum chi'_j [alpha v_j]; rho makes u uniform. u joins the
 *     opened values.
 *  3. Opened values: chi_j in Z_2^s (s = 64) from the seed, one per opened
 *     element y_j; y = sum chi_j y_j (public), [mu] = sum chi_j [m_j],
 *     [sigma] = [mu] - y [alpha] (local; alpha is never opened). Open sigma,
 *     checked (the hash also binds this party's view and the seed); sigma != 0
 *     is E_INTEGRITY: a value or its MAC was altered (passes with probability
 *     about 2^(-s + log s), SPDZ_2k Thm. 1).
 *  4. Confirm: each party sends both peers H(view, seed, the three next
 *     commitments); one that differs from its own is E_INTEGRITY. Here the
 *     two honest parties learn that the other saw the same values (an input
 *     broadcast to them differently, a coin or commitment sent differently,
 *     or one of them aborted: its abort notice arrives here at the latest).
 *
 * The last message cannot be protected this way: if the cheater alters its
 * confirm to one honest party, that party aborts and the other, which has
 * nothing left to receive, does not (agreement on an abort needs a
 * broadcast; three parties with one cheater have none). The client, which
 * needs all three parties' output shares (docs/MALICIOUS.md, "The client"),
 * then gets E_INTEGRITY from one honest party and no prediction.
 *
 * 0. Binary domain (binary/): when ANDs of packed binary sharings wait for
 *    their verification (binary/state.ts), they are verified first against
 *    cut-and-choose triples (binary/verify.ts; E_INTEGRITY as here), so
 *    the binary side is checked at the same point, before any output.
 *    Nothing is added when none wait. The zero checks of ANDs verified
 *    with triples from the pool (binary/verify.ts openVerifiedBodyB) send
 *    their hashes in step 3's round and are compared before step 4 (their
 *    bytes are declared by their layers: no round, no byte here).
 *
 * Cost: 4 rounds, 912 bytes whatever the number of checked values (coins
 * and commitments 6 x 64, the mask's MAC 48, u 48 + 96, sigma 3 x (16 + 32),
 * confirms 6 x 32).
 */
import { Prg } from '../correlated/prg.js';
import type { Cost } from '../primitives/cost.js';
import type { PartyId } from '../ring/types.js';
import { matmul128Gemm } from './gemm128.js';
import { add128, alloc128, bytes128, fromBytes128, isZero128, len128, mulScalar128, random128, sub128, WORD_BYTES, type Vec128 } from './ring128.js';
import { addCost } from '../primitives/cost.js';
import { addRep, randomRep, type MShare, type Rep } from './rep.js';
import { macOfBody, macOfCost } from './product.js';
import { openBody, openCost } from './open.js';
import { commitCoin, digest, freshCoin, HASH_BYTES, sameBytes, type MalSession } from './session.js';
import { hasPendingAnds } from './binary/state.js';
import { takeZeroChecksB, verifyPendingBody } from './binary/verify.js';
import { checkZeroHashesB, zeroHashesB } from './binary/open.js';

export const macCheckCost = (): Cost => addCost(
  { rounds: 1, bytes: 3 * 2 * 2 * HASH_BYTES + macOfCost(1).bytes },
  openCost(1),
  { rounds: 1, bytes: 3 * (WORD_BYTES + HASH_BYTES) },
  { rounds: 1, bytes: 3 * 2 * HASH_BYTES },
);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.byteLength; }
  return out;
}

/** n coefficients uniform in Z_2^64 (s = 64), as elements of Z_2^128, from the seed and a purpose label. */
function coefficients(seed: Uint8Array, purpose: string, n: number): Vec128 {
  const chi = random128(new Prg(digest(purpose, seed).subarray(0, 16)), n);
  for (let e = 0; e < n; e++) { chi[4 * e + 2] = 0; chi[4 * e + 3] = 0; }
  return chi;
}

/** sum_j chi_j [v_j] over the elements of several vectors laid end to end (both shares): local. */
function combine(s: MalSession, chi: Vec128, reps: Rep[]): Rep {
  return { a: dot(s, chi, reps.map((r) => r.a)), b: dot(s, chi, reps.map((r) => r.b)) };
}

/**
 * sum_j chi_j v_j over the elements of the vectors vs laid end to end (chi
 * has their total length), as a 1-element vector: one (1 x n_q)(n_q x 1)
 * product per vector on the context's GEMM (gemm128.ts), on views of chi
 * and of each vector (nothing copied or transposed).
 */
function dot(s: MalSession, chi: Vec128, vs: Vec128[]): Vec128 {
  const acc = alloc128(1), t = alloc128(1);
  let off = 0;
  for (const v of vs) {
    const nq = len128(v);
    if (nq === 0) continue;
    matmul128Gemm(s.ctx.kernels, chi.subarray(4 * off, 4 * (off + nq)) as Vec128, v, 1, nq, 1, t);
    add128(acc, t, acc);
    off += nq;
  }
  return acc;
}

/** Run the batched MAC check over every value opened or made since the last one. Cost macCheckCost(). */
export function macCheck(s: MalSession): Promise<void> {
  return s.guard('mal.macCheck', async () => {
    // Step 0: the binary domain's ANDs (binary/verify.ts), when any wait.
    if (hasPendingAnds(s)) await verifyPendingBody(s);
    const tag = s.label('check');
    const peers: PartyId[] = [s.prev, s.next];
    const pending = s.pending;
    s.pending = [];
    // The peers' commitments to the coins opened now (session.ts: received with their first message; here at the
    // latest, before this party reveals its coin, so that no peer commits after seeing it). Awaited only when one is
    // missing, and before step 1's first message: a wait between that message and the coins would put them a round later.
    const missing = s.commitsMissing();
    if (missing) await missing;
    // Step 1: the mask's MAC first (its message to P_{i-1} goes ahead of the coin, in the order P_{i-1} receives them), then the coins.
    const maskP = macOfBody(s, randomRep(s.ctx, 1), false);
    // Awaited below, after the coins are sent; a send that throws first (the view closed meanwhile: its deadline, a peer's
    // mal-drop, a process fault) must not leave maskP rejected without a handler: in a party process that is a process
    // fault, which ends every session in it (closed-view.test.ts). The rejection still reaches the await.
    maskP.catch(() => undefined);
    const nextCoin = freshCoin();
    const mine = concat([s.coin.share, s.coin.nonce, commitCoin(s.party, nextCoin)]);
    for (const p of peers) s.send(p, `${tag}:coin`, mine);
    // Await the mask before the coins: its receive was queued first, and a failure there (a peer's abort notice) must end this step.
    const rho = await maskP;
    const coins: Uint8Array[] = [], commits: Uint8Array[] = [];
    coins[s.party] = s.coin.share;
    commits[s.party] = commitCoin(s.party, nextCoin);
    for (const p of peers) {
      const c = await s.recv(p, `${tag}:coin`, 2 * HASH_BYTES);
      const coin = { share: c.subarray(0, 16), nonce: c.subarray(16, 32) };
      if (!sameBytes(commitCoin(p, coin), s.peerCommit(p))) s.fail(tag, `P${p}'s coin does not open its commitment`);
      coins[p] = coin.share;
      commits[p] = c.slice(32);
    }
    const seed = digest('mal.seed', coins[0]!, coins[1]!, coins[2]!);
    // Step 2: open rho + sum chi'_j v_j over the pending secret values.
    const chiS = coefficients(seed, 'mal.chi.secret', pending.reduce((t, v) => t + v.n, 0));
    const u: MShare = { n: 1, x: addRep(rho.x, combine(s, chiS, pending.map((v) => v.x))), m: addRep(rho.m, combine(s, chiS, pending.map((v) => v.m))) };
    await openBody(s, u);
    // Step 3: the random linear combination of the opened values, sigma opened, checked.
    const view = s.viewDigest();
    const chi = coefficients(seed, 'mal.chi.open', s.opened.reduce((t, o) => t + len128(o.y), 0));
    const y = dot(s, chi, s.opened.map((o) => o.y));
    const mu = combine(s, chi, s.opened.map((o) => o.m));
    const sigA = sub128(mu.a, mulScalar128(y, s.alpha.a, alloc128(1)), alloc128(1));
    const sigB = sub128(mu.b, mulScalar128(y, s.alpha.b, alloc128(1)), alloc128(1));
    const h = (v: Vec128) => digest(`mal.sigma:${tag}`, bytes128(v), view, seed);
    s.send(s.prev, `${tag}:sigma`, bytes128(sigB));
    s.send(s.next, `${tag}:sigmaHash`, h(sigA));
    const vP = s.recv(s.next, `${tag}:sigma`, WORD_BYTES);
    // Step 0's zero checks made with pooled triples (binary/verify.ts openVerifiedBodyB): their hashes in this round, to
    // P_{i-1} after sigma, received from P_{i+1} after sigma (the same order at the three parties).
    const zero = takeZeroChecksB(s);
    let zP: Promise<Uint8Array> | null = null;
    if (zero.length > 0) {
      s.send(s.prev, `${tag}:zeroB`, zeroHashesB(zero));
      zP = s.recv(s.next, `${tag}:zeroB`, HASH_BYTES * zero.length);
      zP.catch(() => undefined); // awaited below; a failure before that (sigma's) must not be an unhandled rejection
    }
    const v = fromBytes128(await vP);
    const hv = await s.recv(s.prev, `${tag}:sigmaHash`, HASH_BYTES);
    if (!sameBytes(hv, h(v))) s.fail(tag, `the sigma share from P${s.next} and the hash from P${s.prev} disagree`);
    if (!isZero128(add128(add128(sigA, sigB, alloc128(1)), v, alloc128(1)))) s.fail(tag, 'the MAC check failed: a value or its MAC was altered');
    if (zP) checkZeroHashesB(s, zero, await zP); // before the confirm: a failure here makes the other honest party abort too
    // Step 4: confirm the views, the seed and the next commitments.
    const confirm = digest(`mal.confirm:${tag}`, view, seed, commits[0]!, commits[1]!, commits[2]!);
    for (const p of peers) s.send(p, `${tag}:confirm`, confirm);
    for (const p of peers) {
      if (!sameBytes(await s.recv(p, `${tag}:confirm`, HASH_BYTES), confirm)) s.fail(tag, `P${p} saw other values than this party (its view, coin or commitments differ)`);
    }
    s.passCheck(nextCoin, new Map(peers.map((p) => [p, commits[p]!])));
  });
}
