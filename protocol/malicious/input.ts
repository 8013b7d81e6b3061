/**
 * Input of a value held by one party, with its MAC (SPDZ-style masked input:
 * Damgård, Pastro, Smart, Zakarias, CRYPTO 2012, §"Input"; in the replicated
 * MACed setting of Dalskov, Escudero, Keller 2020, §3, Pi_Input; the design
 * in docs/MALICIOUS.md "The client", with the owner in the client's place):
 *
 *  1. The parties draw a random replicated [r] from the pair PRGs and, in the
 *     same round, compute its MAC [alpha r] (product.ts macOf) and open r to
 *     the owner only (open.ts openTo: the owner's missing share from one
 *     holder, its hash from the other).
 *  2. The owner sends d = x - r (uniform: r is) to the two other parties.
 *  3. [x] = [r] + d, [alpha x] = [alpha r] + d [alpha] (rep.ts addPublicM).
 *     Every party adds d to its view; an owner that sends different d to the
 *     two others is caught by the MAC check's confirm round (mac-check.ts),
 *     which compares the views before any output.
 *
 * A wrong [alpha r] (a cheating reshare) breaks the MAC of x and is caught
 * by the MAC check on any opened value that depends on x.
 *
 * Cost: 2 rounds, 96 n + 32 bytes (macOf 48 n, openTo 16 n + 32, d 32 n).
 * publicM ([c] for a public c) is local: 0 rounds, 0 bytes.
 */
import type { Cost } from '../primitives/cost.js';
import { assert } from '../errors.js';
import type { PartyId } from '../ring/types.js';
import { alloc128, bytes128, len128, view128, WORD_BYTES, type Vec128 } from './ring128.js';
import { sub128Kernels } from './gemm128.js';
import { addPublicM, macPublic, randomRep, type MShare } from './rep.js';
import { macOfBody, macOfCost } from './product.js';
import { openToBody, openToCost } from './open.js';
import type { MalSession } from './session.js';

/** Step 1 (macOf and openTo in parallel: one round), then step 2 (d to two parties: one round). */
export const inputCost = (n: number): Cost => ({
  rounds: Math.max(macOfCost(n).rounds, openToCost(n).rounds) + 1,
  bytes: macOfCost(n).bytes + openToCost(n).bytes + 2 * WORD_BYTES * n,
});

/** [x] for x held by `owner` (x: its n values there, null at the others). Cost inputCost(n). */
export function inputM(s: MalSession, owner: PartyId, x: Vec128 | null, n: number): Promise<MShare> {
  return s.guard('mal.input', async () => {
    if (s.party === owner) assert(x !== null && len128(x) === n, 'E_SHAPE', `malicious.input: the owner P${owner} must give ${n} values`, { party: s.party });
    const tag = s.label('input');
    // Step 1: [r], its MAC and r at the owner, in one round.
    const r = randomRep(s.ctx, n);
    const [rm, rOwner] = await Promise.all([macOfBody(s, r), openToBody(s, r, owner)]);
    // Step 2.
    let d: Vec128;
    if (s.party === owner) {
      d = sub128Kernels(s.ctx.kernels, x!, rOwner!, rOwner!); // rOwner (a fresh sum) is not used again
      s.send(s.prev, `${tag}:d`, bytes128(d));
      s.send(s.next, `${tag}:d`, bytes128(d));
    } else {
      d = view128(await s.recv(owner, `${tag}:d`, n * WORD_BYTES));
    }
    s.observe(tag, bytes128(d));
    // Step 3.
    return addPublicM(s.party, s.alpha, rm, d, s.ctx.kernels);
  });
}

/** [c] for a public c known to all three parties (added to the view, so parties that disagree on c abort at the MAC check). */
export function publicM(s: MalSession, c: Vec128): MShare {
  const n = len128(c);
  s.observe(s.label('public'), bytes128(c));
  const zero = alloc128(n);
  const x = { a: s.party === 0 ? c.slice() as Vec128 : zero, b: s.party === 2 ? c.slice() as Vec128 : zero.slice() as Vec128 };
  return { n, x, m: macPublic(s.alpha, c, s.ctx.kernels) };
}
