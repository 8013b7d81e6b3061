/**
 * AND of two packed replicated binary sharings by resharing (Araki,
 * Furukawa, Lindell, Nof, Ohara, CCS 2016, §2.2 for Z_2; semi-honest as
 * sent, made malicious by the verification of verify.ts):
 *
 *  1. z_i = x_i y_i XOR x_i y_{i+1} XOR x_{i+1} y_i XOR alpha_i, alpha a
 *     three-party zero sharing from the pair PRGs (bshare.ts zeroShareB).
 *  2. P_i sends z_i to P_{i-1}.
 *  3. P_i holds (z_i, z_{i+1}): a replicated sharing of x AND y.
 *
 * No check here. What a cheater can do is known (Furukawa, Lindell, Nof,
 * Weinstein, EUROCRYPT 2017: the semi-honest multiplication is secure up to
 * an additive attack): every term of its
 * z_i is computed from shares it holds, so any deviation (another z_i, or
 * other copies of its shares) makes z = x AND y XOR d with d a function of
 * values it knows, independent of the honest parties' secrets. The call is
 * recorded in the session's binary state (state.ts) and verified against a
 * triple before any output (verify.ts, run by mac-check.ts). What is sent is
 * uniform (alpha_i is unknown to the receiver P_{i-1}: it lacks the seed of
 * P_i and P_{i+1}), whatever x and y.
 *
 * Cost: 1 round; each party sends 8 bytes per u64 word: 24 W bytes for W
 * words (all planes together: a whole circuit level in one call).
 */
import type { Cost } from '../../primitives/cost.js';
import { assert } from '../../errors.js';
import type { MalSession } from '../session.js';
import { WORD_BYTES_B, lanesOf, zeroShareB, type BShare } from './bshare.js';
import { binaryState } from './state.js';

export const andCostB = (n: number, planes = 1): Cost => ({ rounds: 1, bytes: 3 * WORD_BYTES_B * (lanesOf(n) / 2) * planes });

/** Step 1 (local): z_i for x, y (same layout). */
export function andLocal(s: MalSession, x: BShare, y: BShare): Uint32Array {
  const l = x.a.length, z = zeroShareB(s.ctx, l);
  const xa = x.a, xb = x.b, ya = y.a, yb = y.b;
  for (let i = 0; i < l; i++) z[i]! ^= (xa[i]! & (ya[i]! ^ yb[i]!)) ^ (xb[i]! & ya[i]!);
  return z;
}

/** AND without its own step (for protocols that run several in one step); recorded for verification. */
export async function andBody(s: MalSession, x: BShare, y: BShare): Promise<BShare> {
  assert(x.n === y.n && x.planes === y.planes, 'E_SHAPE', `malicious.binary.and: ${x.planes} x ${x.n} and ${y.planes} x ${y.n} bits`, { party: s.party });
  const tag = s.label('andB');
  const z = andLocal(s, x, y);
  s.send(s.prev, tag, new Uint8Array(z.buffer.slice(0)));
  const got = await s.recv(s.next, tag, 4 * z.length);
  const b = new Uint32Array(got.buffer.slice(got.byteOffset, got.byteOffset + got.byteLength));
  const out: BShare = { n: x.n, planes: x.planes, a: z, b };
  binaryState(s).pending.push({ x, y, z: out });
  return out;
}

/** [x AND y] for shared x, y (same n and planes). Cost andCostB(n, planes). */
export function andB(s: MalSession, x: BShare, y: BShare): Promise<BShare> {
  return s.guard('mal.bin.and', () => andBody(s, x, y));
}
