/**
 * TESTS ONLY: a dealer stand-in for random MACed bits in the malicious mode.
 * P0 draws the bits (node:crypto) and inputs them with inputM, so P0 KNOWS
 * them: nothing private may depend on these bits outside tests. It lets the
 * comparison protocols (bit-lt.ts, compare.ts, maxpool.ts) be tested on
 * secret-shared bits without the real source (randbits.ts, randBitsM), and
 * has the same shape: (session, n) -> n MACed bits.
 */
import { randomBytes } from 'node:crypto';
import type { Cost } from '../primitives/cost.js';
import { alloc128, type Vec128 } from '../malicious/ring128.js';
import type { MShare } from '../malicious/rep.js';
import type { MalSession } from '../malicious/session.js';
import { inputCost, inputM } from '../malicious/input.js';

/** n uniform bits as Z_2^128 values (0 or 1). */
export function randomBitVec(n: number): Vec128 {
  const v = alloc128(n), b = randomBytes(n);
  for (let j = 0; j < n; j++) v[4 * j] = b[j]! & 1;
  return v;
}

/** n MACed bits known to P0 (input by P0). Cost dealerBitsCost(n). */
export function dealerBitsM(s: MalSession, n: number): Promise<MShare> {
  return inputM(s, 0, s.party === 0 ? randomBitVec(n) : null, n);
}

export const dealerBitsCost = (n: number): Cost => inputCost(n);
