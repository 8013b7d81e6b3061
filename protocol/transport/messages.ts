/**
 * Typed send/receive helpers over a Transport: u64 arrays travel as raw
 * little-endian bytes, Z_p and bit arrays as one byte per element.
 */
import { assert } from '../errors.js';
import type { Transport } from './transport.js';
import type { PartyId } from '../ring/types.js';
import { bytesU64, u64Bytes } from '../sharing/sharing.js';
import { handOver, handOverHeld, inFlight } from '../ring/send-pool.js';

/** What sending and receiving need of a run's context (a PartyContext has it; no import of context.ts, which imports the dealer, which imports this). */
export interface Wire { readonly party: PartyId; readonly transport: Transport }

/** A send buffer (ring/send-pool.ts) still being written may not be sent again (E_INTERNAL). */
function notInFlight(a: ArrayBufferView): void {
  assert(!inFlight(a), 'E_INTERNAL', 'a send buffer was sent again before the transport gave it back');
}

export function sendU64(ctx: Wire, to: PartyId, tag: string, a: BigUint64Array): void {
  notInFlight(a);
  ctx.transport.send(to, tag, u64Bytes(a));
}

export async function recvU64(ctx: Wire, from: PartyId, tag: string, n: number): Promise<BigUint64Array> {
  return bytesU64(await ctx.transport.recv(from, tag), n);
}

export function sendBytes(ctx: Wire, to: PartyId, tag: string, a: Uint8Array): void {
  notInFlight(a);
  ctx.transport.send(to, tag, a);
}

/**
 * Send a buffer from ring/send-pool.ts (sendBufferU8 / sendBufferU64), once: where the transport can say when it has
 * written it (Transport.sendWithRelease) the buffer goes back to the pool then, for a later message; elsewhere it is
 * the transport's (left to the GC). Any other array is sent as sendBytes does. The caller never touches it again.
 */
export function sendPooled(ctx: Wire, to: PartyId, tag: string, a: Uint8Array | BigUint64Array): void {
  const bytes = a instanceof Uint8Array ? a : u64Bytes(a);
  const release = handOver(bytes);
  const t = ctx.transport;
  if (release && t.sendWithRelease) t.sendWithRelease(to, tag, bytes, release);
  else t.send(to, tag, bytes);
}

const NOTHING = (): void => undefined;

/**
 * As sendU64 for an array the sender still reads after sending it (never writes): returns the function to call once
 * it reads it no more. A send buffer (ring/send-pool.ts) goes back to the pool when both that and the transport's
 * release have come; any other array is sent as sendU64 does (the function does nothing).
 */
export function sendU64Held(ctx: Wire, to: PartyId, tag: string, a: BigUint64Array): () => void {
  const bytes = u64Bytes(a);
  const t = ctx.transport;
  const fns = t.sendWithRelease ? handOverHeld(bytes) : null;
  if (!fns) { sendU64(ctx, to, tag, a); return NOTHING; }
  t.sendWithRelease!(to, tag, bytes, fns[0]!);
  return fns[1]!;
}

export async function recvBytes(ctx: Wire, from: PartyId, tag: string, n: number): Promise<Uint8Array> {
  const b = await ctx.transport.recv(from, tag);
  assert(b.byteLength === n, 'E_SHAPE', `message '${tag}': expected ${n} bytes from P${from}, got ${b.byteLength}`, { party: ctx.party, step: tag });
  return b;
}

/**
 * Hand received payloads back to the transport (Transport.recycle) once nothing reads them any more: the party
 * processes' h2 link reuses their buffers for the next messages of that size (fewer fresh ArrayBuffers, fewer
 * mark-compacts). Only for payloads that recv returned and that no result, scratch or later step keeps.
 */
export function recycleReceived(ctx: Wire, ...payloads: ArrayBufferView[]): void {
  const t = ctx.transport;
  // A u64 view (recvU64) names the same bytes as the payload it was made from.
  if (t.recycle) for (const p of payloads) t.recycle(p instanceof Uint8Array ? p : new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
}

/**
 * Let what this party has sent reach the wire before a long synchronous stretch (Transport.flush): a promise to
 * await, or undefined where the transport needs none (the in-memory one), so the caller adds no turn there.
 */
export function flushSends(ctx: Wire, until: 'turn' | 'drained' = 'turn'): Promise<void> | undefined {
  return ctx.transport.flush?.(until);
}

/** The other data party: 1 for P0, 0 for P1. */
export function otherDataParty(ctx: Wire): 0 | 1 {
  assert(ctx.party !== 2, 'E_INTERNAL', 'otherDataParty called by P2');
  return ctx.party === 0 ? 1 : 0;
}
