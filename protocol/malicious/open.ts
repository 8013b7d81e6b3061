/**
 * Checked opening of a replicated sharing (Furukawa, Lindell, Nof, Weinstein,
 * EUROCRYPT 2017, §2.2 "reconstruct": each share is held by two parties, so
 * the one a party lacks comes from one holder and is checked against the
 * other; here the second holder sends a hash of it, as MP-SPDZ's
 * honest-majority ring protocols do):
 *
 *  1. P_j sends its b = x_{j+1} to P_{j-1} (who lacks exactly that share) and
 *     H(x_j) to P_{j+1} (who lacks x_j and gets it as a value from P_{j+2}).
 *  2. P_i receives x_{i+2} from P_{i+1} and H(x_{i+2}) from P_{i-1}; a
 *     mismatch is E_INTEGRITY at once.
 *  3. x = x_i + x_{i+1} + x_{i+2}; the value and its MAC shares are logged
 *     for the batched MAC check (mac-check.ts), which must pass before
 *     anything derived from x leaves the parties.
 *
 * What it reveals: all 128 bits of x to all three parties. Open only values
 * masked over the whole ring, or use openLow, which adds 2^64 [rho] first so
 * that the high 64 bits (SPDZ_2k's slack, which after a product depend on
 * more than x mod 2^64) are uniform (SPDZ_2k, Cramer et al. §3, output).
 *
 * Cost: 1 round, each party sends 16 bytes per element and a 32-byte hash:
 * 48 n + 96 bytes in all; openTo (one receiver): 16 n + 32.
 */
import type { Cost } from '../primitives/cost.js';
import type { PartyId } from '../ring/types.js';
import { alloc128, bytes128, len128, low64, view128, WORD_BYTES, type Vec128 } from './ring128.js';
import { add128Kernels } from './gemm128.js';
import { addShl128Into } from './mvec.js';
import type { MShare, Rep } from './rep.js';
import { randomMacced, macOfCost } from './product.js';
import { digest, HASH_BYTES, sameBytes, type MalSession } from './session.js';
import { addCost } from '../primitives/cost.js';

export const openCost = (n: number): Cost => ({ rounds: 1, bytes: 3 * (WORD_BYTES * n + HASH_BYTES) });
export const openToCost = (n: number): Cost => ({ rounds: 1, bytes: WORD_BYTES * n + HASH_BYTES });
export const openLowCost = (n: number): Cost => addCost(macOfCost(n), openCost(n));

const shareHash = (tag: string, x: Vec128): Uint8Array => digest(`mal.open:${tag}`, bytes128(x));

/** Steps 1-2 for all three receivers: returns x_{i+2}, checked. */
async function missingShare(s: MalSession, tag: string, x: Rep): Promise<Vec128> {
  const n = len128(x.a);
  s.send(s.prev, `${tag}:v`, bytes128(x.b));
  s.send(s.next, `${tag}:h`, shareHash(tag, x.a));
  const v = view128(await s.recv(s.next, `${tag}:v`, n * WORD_BYTES));
  const h = await s.recv(s.prev, `${tag}:h`, HASH_BYTES);
  if (!sameBytes(h, shareHash(tag, v))) s.fail(tag, `the share from P${s.next} and the hash from P${s.prev} disagree`);
  return v;
}

/** x_i + x_{i+1} + v into a fresh vector, on the context's kernels. */
function sum3(s: MalSession, x: Rep, v: Vec128): Vec128 {
  const y = add128Kernels(s.ctx.kernels, x.a, x.b, alloc128(len128(v)));
  return add128Kernels(s.ctx.kernels, y, v, y);
}

/** Open [x] to all three parties (all 128 bits; see the header), checked; logged for the MAC check. Cost openCost(n). */
export function openM(s: MalSession, x: MShare): Promise<Vec128> {
  return s.guard('mal.open', () => openBody(s, x));
}

/** openM without its own step (the MAC check opens its masked combination with it). */
export async function openBody(s: MalSession, x: MShare): Promise<Vec128> {
  const tag = s.label('open');
  const v = await missingShare(s, tag, x.x);
  const y = sum3(s, x.x, v);
  s.record(tag, y, x.m);
  return y;
}

/**
 * Open x mod 2^64 (the fixed-point value) without its high bits: opens
 * [x + 2^64 rho] for a fresh random MACed rho. Cost openLowCost(n): 2 rounds.
 */
export function openLow(s: MalSession, x: MShare): Promise<BigUint64Array> {
  return s.guard('mal.openLow', async () => {
    const rho = await randomMacced(s, x.n);
    // [x + 2^64 rho]: each share of x plus its rho share shifted by 64 bits (the product by 2^64, without a product).
    const plus = (u: Vec128, r: Vec128): Vec128 => addShl128Into(u.slice() as Vec128, r, 64);
    const y = await openM(s, { n: x.n, x: { a: plus(x.x.a, rho.x.a), b: plus(x.x.b, rho.x.b) }, m: { a: plus(x.m.a, rho.m.a), b: plus(x.m.b, rho.m.b) } });
    return low64(y);
  });
}

/**
 * Open a replicated sharing (no MAC) to `to` only: P_{to+1} sends the
 * missing share x_{to+2}, P_{to+2} its hash; a mismatch is E_INTEGRITY at
 * `to`. Returns x at `to`, null elsewhere. Used to give an input's owner its
 * mask (input.ts). Cost openToCost(n).
 */
export function openTo(s: MalSession, x: Rep, to: PartyId): Promise<Vec128 | null> {
  return s.guard('mal.openTo', () => openToBody(s, x, to));
}

/** openTo without its own step (input.ts runs it alongside macOf). */
export async function openToBody(s: MalSession, x: Rep, to: PartyId): Promise<Vec128 | null> {
  const tag = s.label('openTo');
  const n = len128(x.a);
  if (s.party === (to + 1) % 3) s.send(to, `${tag}:v`, bytes128(x.b));
  if (s.party === (to + 2) % 3) s.send(to, `${tag}:h`, shareHash(tag, x.a));
  if (s.party !== to) return null;
  const v = view128(await s.recv(s.next, `${tag}:v`, n * WORD_BYTES));
  const h = await s.recv(s.prev, `${tag}:h`, HASH_BYTES);
  if (!sameBytes(h, shareHash(tag, v))) s.fail(tag, `the share from P${s.next} and the hash from P${s.prev} disagree`);
  return sum3(s, x, v);
}
