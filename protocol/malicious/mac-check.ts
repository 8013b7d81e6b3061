/**
 * Batched MAC check of SPDZ_2k (Cramer, Damgård, Escudero, Scholl, Xing,
 * CRYPTO 2018, §3 Fig. "Pi_MACCheck"), on replicated shares (Dalskov,
 * Escudero, Keller 2020, §3): every value opened since the last check is
 * verified at once, before anything derived from it leaves the parties.
 *
 *  1. Coin: each party opens the coin share it committed to (session.ts:
 *     H(share, nonce) sent at set-up or with the previous check's confirm);
 *     a commitment that does not open is E_INTEGRITY. seed = H(coin_0,
 *     coin_1, coin_2) is fixed only now, after every checked value was
 *     opened, and no party chose it alone.
 *  2. Combine: chi_j in Z_2^s (s = 64) from a PRG on the seed, one per opened
 *     element y_j; y = sum chi_j y_j (public), [mu] = sum chi_j [m_j] (local),
 *     [sigma] = [mu] - y [alpha] (local). alpha is never opened.
 *  3. Open sigma, checked (open.ts: the missing share from one holder, its
 *     hash from the other; the hash also binds this party's view and the
 *     seed). sigma != 0 is E_INTEGRITY: an opened value or its MAC was
 *     altered (passes with probability about 2^(-s + log s), SPDZ_2k Thm. 1).
 *  4. Confirm: each party sends both peers H(view, seed, sigma) and the
 *     commitment to its next coin; a confirm hash that differs from its own
 *     is E_INTEGRITY. This is where the two honest parties learn that the
 *     other saw the same values (an input broadcast to them differently, a
 *     coin opened differently, or one of them aborted: its abort notice
 *     arrives in this round at the latest).
 *
 * The last message cannot be protected this way: if the cheater alters its
 * confirm to one honest party, that party aborts and the other, which has
 * nothing left to receive, does not (agreement on an abort needs a
 * broadcast; three parties with one cheater have none). The client, which
 * needs all three parties' output shares (docs/MALICIOUS.md, "The client"),
 * then gets E_INTEGRITY from one honest party and no prediction.
 *
 * Cost: 3 rounds, 720 bytes whatever the number of opened values
 * (coins 6 x 32, sigma 3 x (16 + 32), confirms 6 x 64).
 */
import { Prg } from '../correlated/prg.js';
import type { Cost } from '../primitives/cost.js';
import type { PartyId } from '../ring/types.js';
import { add128, alloc128, bytes128, dot128, fromBytes128, isZero128, len128, mulScalar128, random128, sub128, WORD_BYTES, type Vec128 } from './ring128.js';
import { commitCoin, digest, freshCoin, HASH_BYTES, sameBytes, type MalSession } from './session.js';

export const macCheckCost = (): Cost => ({ rounds: 3, bytes: 3 * 2 * 2 * 16 + 3 * (WORD_BYTES + HASH_BYTES) + 3 * 2 * 2 * HASH_BYTES });

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.byteLength; }
  return out;
}

function concat128(parts: Vec128[]): Vec128 {
  return fromBytes128(concat(parts.map(bytes128)));
}

/** chi_j uniform in Z_2^64 (s = 64), as elements of Z_2^128. */
function coefficients(seed: Uint8Array, n: number): Vec128 {
  const chi = random128(new Prg(seed.subarray(0, 16)), n);
  for (let e = 0; e < n; e++) { chi[4 * e + 2] = 0; chi[4 * e + 3] = 0; }
  return chi;
}

/** Run the batched MAC check over every value opened since the last one. Cost macCheckCost(). */
export function macCheck(s: MalSession): Promise<void> {
  return s.guard('mal.macCheck', async () => {
    const tag = s.label('check');
    const view = s.viewDigest();
    const peers: PartyId[] = [s.prev, s.next];
    // Step 1: open the committed coins.
    const mine = concat([s.coin.share, s.coin.nonce]);
    for (const p of peers) s.send(p, `${tag}:coin`, mine);
    const coins: Uint8Array[] = [];
    coins[s.party] = s.coin.share;
    for (const p of peers) {
      const c = await s.recv(p, `${tag}:coin`, 32);
      const coin = { share: c.subarray(0, 16), nonce: c.subarray(16) };
      if (!sameBytes(commitCoin(p, coin), s.peerCommit(p))) s.fail(tag, `P${p}'s coin does not open its commitment`);
      coins[p] = coin.share;
    }
    const seed = digest('mal.seed', coins[0]!, coins[1]!, coins[2]!);
    // Step 2: the random linear combination.
    const ys = s.opened.map((o) => o.y);
    const total = ys.reduce((t, y) => t + len128(y), 0);
    const chi = coefficients(seed, total);
    const y = dot128(chi, concat128(ys));
    const muA = dot128(chi, concat128(s.opened.map((o) => o.m.a)));
    const muB = dot128(chi, concat128(s.opened.map((o) => o.m.b)));
    const sigA = sub128(muA, mulScalar128(y, s.alpha.a, alloc128(1)), alloc128(1));
    const sigB = sub128(muB, mulScalar128(y, s.alpha.b, alloc128(1)), alloc128(1));
    // Step 3: open sigma, checked, binding view and seed.
    const h = (v: Vec128) => digest(`mal.sigma:${tag}`, bytes128(v), view, seed);
    s.send(s.prev, `${tag}:sigma`, bytes128(sigB));
    s.send(s.next, `${tag}:sigmaHash`, h(sigA));
    const v = fromBytes128(await s.recv(s.next, `${tag}:sigma`, WORD_BYTES));
    const hv = await s.recv(s.prev, `${tag}:sigmaHash`, HASH_BYTES);
    if (!sameBytes(hv, h(v))) s.fail(tag, `the sigma share from P${s.next} and the hash from P${s.prev} disagree`);
    const sigma = add128(add128(sigA, sigB, alloc128(1)), v, alloc128(1));
    if (!isZero128(sigma)) s.fail(tag, 'the MAC check failed: an opened value or its MAC was altered');
    // Step 4: confirm, with the commitment to the next coin.
    const nextCoin = freshCoin();
    const confirm = digest(`mal.confirm:${tag}`, view, seed);
    const out = concat([confirm, commitCoin(s.party, nextCoin)]);
    for (const p of peers) s.send(p, `${tag}:confirm`, out);
    const commits = new Map<PartyId, Uint8Array>();
    for (const p of peers) {
      const c = await s.recv(p, `${tag}:confirm`, 2 * HASH_BYTES);
      if (!sameBytes(c.subarray(0, HASH_BYTES), confirm)) s.fail(tag, `P${p} saw other values than this party (its view or coin differs)`);
      commits.set(p, c.slice(HASH_BYTES));
    }
    s.passCheck(nextCoin, commits);
  });
}
