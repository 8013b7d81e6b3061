/**
 * The one function through which P0 and P1 open a value inside the protocol.
 *
 * openToDataParties(ctx, v_j): P0 and P1 exchange their shares v_0, v_1 and
 * both learn v = v_0 + v_1 (mod 2^64, or mod 2^64-1 with ring 'odd').
 * It REVEALS v TO P0 AND P1. Callers must only open values masked by
 * randomness neither P0 nor P1 knows (Beaver's E = X - A and F = Y - B, where
 * P2 chose A and B; ComputeMSB's r = 2a + x, where P2 chose x), so the
 * opened value is uniformly distributed and independent of the secret.
 * P2 does not take part and learns nothing.
 */
import type { PartyContext } from '../context.js';
import { otherDataParty, recvU64, sendU64 } from '../transport/messages.js';

export async function openToDataParties(ctx: PartyContext, tag: string, mine: BigUint64Array, ring: 'L' | 'odd' = 'L'): Promise<BigUint64Array> {
  const other = otherDataParty(ctx);
  sendU64(ctx, other, tag, mine);
  const theirs = await recvU64(ctx, other, tag, mine.length);
  const out = new BigUint64Array(mine.length);
  if (ring === 'L') ctx.kernels.add(mine, theirs, out);
  else ctx.kernels.addOdd(mine, theirs, out);
  return out;
}
