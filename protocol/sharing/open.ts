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
 * v is written over the received share (the receiver's own array), never a scratch slot.
 */
import type { PartyContext } from '../context.js';
import { otherDataParty, recvBytes, recvU64, sendBytes, sendU64Held } from '../transport/messages.js';

export async function openToDataParties(ctx: PartyContext, tag: string, mine: BigUint64Array, ring: 'L' | 'odd' = 'L'): Promise<BigUint64Array> {
  const other = otherDataParty(ctx);
  // `mine` is read again below: a send buffer (ring/send-pool.ts; relu-direct's c_j) goes back only after that too.
  const doneWithMine = sendU64Held(ctx, other, tag, mine);
  const theirs = await recvU64(ctx, other, tag, mine.length);
  // v goes over the received share: a received payload is the receiver's (Transport.recv), so no fresh array. Never
  // into a scratch slot: an async function's result reaches its caller a microtask later, after other sessions'
  // continuations that may take the same slot (two runs at once whose messages arrive in one read: ring/scratch.ts).
  const out = theirs;
  if (ring === 'L') ctx.kernels.add(mine, theirs, out);
  else ctx.kernels.addOdd(mine, theirs, out);
  doneWithMine();
  return out;
}

/**
 * openLow32ToDataParties(ctx, v_j): P0 and P1 exchange v_j mod 2^32 and both
 * learn v mod 2^32 (4 bytes per element each way instead of 8). It REVEALS v
 * mod 2^32 TO P0 AND P1; the same rule as above applies: v must be masked by
 * randomness uniform mod 2^32 that neither knows (relu-direct's c = a + r on
 * the 32-bit comparison ring). P2 learns nothing. It reads `mine` only
 * before its first await (callers may pass a scratch buffer).
 */
export async function openLow32ToDataParties(ctx: PartyContext, tag: string, mine: BigUint64Array): Promise<Uint32Array> {
  const other = otherDataParty(ctx);
  const n = mine.length;
  const w = new Uint32Array(mine.buffer, mine.byteOffset, 2 * n);
  const low = new Uint32Array(n);
  for (let i = 0; i < n; i++) low[i] = w[2 * i]!;
  sendBytes(ctx, other, tag, new Uint8Array(low.buffer));
  const b = await recvBytes(ctx, other, tag, 4 * n);
  const theirs = b.byteOffset % 4 === 0 ? new Uint32Array(b.buffer, b.byteOffset, n) : new Uint32Array(b.slice().buffer);
  // Into the received share (the receiver's, Transport.recv), not into `low`: that was handed to the transport, which may serialise it later.
  for (let i = 0; i < n; i++) theirs[i] = (low[i]! + theirs[i]!) >>> 0;
  return theirs;
}
