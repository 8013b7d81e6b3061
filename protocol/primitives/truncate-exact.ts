/**
 * Exact truncation with P2's help: floor(x / 2^f) (or that + 1, as the local
 * rule) for every |x| < 2^62, with no failure probability. Not an algorithm
 * of SecureNN: the paper truncates locally (truncate.ts, SecureML's rule),
 * which is wrong by about 2^(64-f) with probability about |x| / 2^64 per
 * element. At f = 18 a MobileNetV2-sized model does ~2.9M truncations of
 * products near 2^36..2^42 per inference, and the local rule then fails in
 * about 1 of 50 inferences (model-import's fixed-sim estimate; the aryan
 * pneumonia test saw it). This protocol removes that failure for 2 rounds and
 * 32 bytes per element; the importer chooses it per model (--truncation).
 *
 * Why it is correct. Let x' = x + 2^62, in [0, 2^63) for |x| < 2^62. P0 and P1
 * draw a common uniform s (and a common rho) from their shared PRG and send
 * y_0 = x_0 + s + rho + 2^62 and y_1 = x_1 - rho to P2, which adds them:
 * z = x' + s mod 2^64. As integers x' = z - s + w 2^64 with the wrap
 * w = [x' + s >= 2^64]. Write c = MSB(s) (known to P0, P1) and m = MSB(z)
 * (known to P2). If c = 0 then x' + s < 2^64, so w = 0. If c = 1 then
 * x' + s lies in [2^63, 2^64 + 2^63), and it wrapped exactly when z < 2^63:
 * w = c (1 - m). With T = z >>_a f (arithmetic shift, = (z >> f) - m 2^(64-f))
 * and the low-bit borrow ignored (it makes the result floor or floor + 1):
 *     x' >> f = T + (1 - c) m 2^(64-f) - (s >>_a f)
 * and x >> f = x' >> f - 2^(62-f). P2 shares T and V = m 2^(64-f) over Z_2^64
 * (P0's shares from the PRG it shares with P2, P1's sent), so
 *     P0: T_0 + (1 - c) V_0 - (s >>_a f) - 2^(62-f),   P1: T_1 + (1 - c) V_1.
 *
 * What each party sees: P2 sees y_0 and y_1, each masked by rho, and their
 * sum z masked by s (uniform; P2 knows the dealt shares of a Beaver product,
 * so an unmasked x_1 would leak). P0 sees nothing new; P1 sees T_1, V_1
 * (uniform: T_0, V_0 are PRG output).
 *
 * Steps:
 *  1. P0, P1: s, rho from their PRG; y_0 = x_0 + s + rho + 2^62, y_1 = x_1 - rho, sent to P2.
 *  2. P2: z = y_0 + y_1, T = z >>_a f, V = MSB(z) 2^(64-f); T_0, V_0 from the PRG shared with P0; sends
 *     T_1 = T - T_0, V_1 = V - V_0 to P1. (P0 does not wait: it takes T_0, V_0 from the PRG.)
 *  3. P_j: the shares above.
 *
 * Cost: 2 rounds; bytes per element 8 (P0 to P2) + 8 (P1 to P2) + 16 (P2 to P1) = 32.
 */
import type { PartyContext } from '../context.js';
import { assert } from '../errors.js';
import { keepWhereBit, msb } from '../ring/ops.js';
import type { AShare } from '../ring/types.js';
import { scratchU64 } from '../ring/scratch.js';
import { recvU64, sendU64 } from '../transport/messages.js';
import type { Cost } from './cost.js';

export const truncateExactCost = (n: number): Cost => ({ rounds: 2, bytes: 32 * n });

const OFFSET = 1n << 62n;

/** floor(x / 2^f) or floor(x / 2^f) + 1 for every |x| < 2^62 (two's complement shares over Z_2^64). P2's placeholder comes back zero. */
export function truncateExact(ctx: PartyContext, x: AShare, f: number = ctx.fracBits, label = 'trunc'): Promise<AShare> {
  assert(Number.isInteger(f) && f >= 1 && f <= 62, 'E_BAD_ARGUMENT', `truncateExact: f must be an integer in [1, 62], got ${f}`);
  return ctx.step('Truncate', () => core(ctx, x, f, label));
}

async function core(ctx: PartyContext, x: AShare, f: number, label: string): Promise<AShare> {
  const k = ctx.kernels;
  const n = x.length;
  if (ctx.party === 2) {
    // Step 2.
    const [y0, y1] = await Promise.all([recvU64(ctx, 0, `${label}:y`, n), recvU64(ctx, 1, `${label}:y`, n)]);
    const z = scratchU64('trunc.p2.z', n);
    k.add(y0, y1, z);
    const g0 = ctx.pairPrg(0);
    const tv = new BigUint64Array(2 * n);
    const T1 = tv.subarray(0, n), V1 = tv.subarray(n);
    k.sar(z, f, T1);
    k.sub(T1, g0.u64Into(scratchU64('trunc.p2.t0', n)), T1);
    // V = MSB(z) 2^(64-f): (z >>_a 63) is 0 or -1, times -2^(64-f).
    k.sar(z, 63, V1);
    k.mulScalar(V1, BigInt.asUintN(64, -(1n << BigInt(64 - f))), V1);
    k.sub(V1, g0.u64Into(scratchU64('trunc.p2.v0', n)), V1);
    sendU64(ctx, 1, `${label}:t,v`, tv);
    return new BigUint64Array(n) as AShare;
  }
  const j = ctx.party;
  const g01 = ctx.pairPrg(j === 0 ? 1 : 0);
  // Step 1 (s and rho drawn in the same order at P0 and P1). s is read only before the await (c = MSB(s), and at
  // P0, which never waits, s >>_a f): scratch, like rho.
  const s = g01.u64Into(scratchU64('trunc.s', n)), rho = g01.u64Into(scratchU64('trunc.rho', n));
  const c = msb(s);
  const y = new BigUint64Array(n);
  if (j === 0) {
    k.add(x, s, y);
    k.add(y, rho, y);
    k.addScalar(y, OFFSET, y);
  } else k.sub(x, rho, y);
  sendU64(ctx, 2, `${label}:y`, y);
  // Step 3: (1 - c) V_j + T_j; P0 also - (s >>_a f) - 2^(62-f).
  let T: BigUint64Array, V: BigUint64Array;
  if (j === 0) {
    const g2 = ctx.pairPrg(2);
    T = g2.u64Into(scratchU64('trunc.t', n));
    V = g2.u64Into(scratchU64('trunc.v', n));
  } else {
    const tv = await recvU64(ctx, 2, `${label}:t,v`, 2 * n);
    T = tv.subarray(0, n);
    V = tv.subarray(n);
  }
  const out = new BigUint64Array(n);
  keepWhereBit(c, 0, V, out);
  k.add(out, T, out);
  if (j === 0) {
    const sf = scratchU64('trunc.sf', n);
    k.sar(s, f, sf);
    k.sub(out, sf, out);
    k.addScalar(out, BigInt.asUintN(64, -(OFFSET >> BigInt(f))), out);
  }
  return out as AShare;
}
