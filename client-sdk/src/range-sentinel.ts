/**
 * The client's side of the run-time range sentinel
 * (protocol/primitives/range-sentinel.ts): P0 and P1 send their shares of s
 * with the output; s = 0 when every sampled value the 32-bit comparison ring
 * compared was in range, otherwise s is uniform in Z_2^64 (nonzero except
 * with probability 2^-64). Only the client learns s; it refuses the result
 * when s != 0.
 */
import { PrivateInferenceError } from './errors.js';
import { reconstructShares } from './ring.js';

export const RANGE_SENTINEL_MESSAGE = 'an intermediate value left the comparison ring; the result would be unreliable';

/** One party's x-range-sentinel header as its share (one element): 16 hex digits; anything else (or none) is E_INTERNAL, never "in range". */
export function parseSentinelShare(h: string | null | undefined, party: 0 | 1): BigUint64Array {
  if (typeof h !== 'string' || !/^[0-9a-f]{16}$/.test(h)) {
    throw new PrivateInferenceError('E_INTERNAL', `party ${party}: the parties run the range sentinel for this model, but its output came ${typeof h === 'string' ? 'with a malformed' : 'without a'} range sentinel share (x-range-sentinel); the result is refused`, { party });
  }
  const s = new BigUint64Array(1);
  s[0] = BigInt(`0x${h}`);
  return s;
}

/** predict(): both parties' headers, reconstructed and checked (E_INTERNAL when one is missing or malformed, E_RANGE_SENTINEL when s != 0). */
export function requireRangeSentinel(h0: string | null | undefined, h1: string | null | undefined): void {
  checkRangeSentinel(parseSentinelShare(h0, 0), parseSentinelShare(h1, 1));
}

/** Throws E_RANGE_SENTINEL when the sentinel's shares (one element each) do not add up to 0. */
export function checkRangeSentinel(s0: BigUint64Array, s1: BigUint64Array): void {
  if (s0.length !== 1 || s1.length !== 1) throw new PrivateInferenceError('E_SHAPE', `range sentinel: expected one share element from each of P0 and P1, got ${s0.length} and ${s1.length}`);
  const s = reconstructShares(s0, s1);
  if (s[0] !== 0n) throw new PrivateInferenceError('E_RANGE_SENTINEL', `${RANGE_SENTINEL_MESSAGE} (the run-time range sentinel found a sampled value beyond the 32-bit comparison ring; the input is unlike the images the model was imported with)`);
}
