/**
 * SecureNN Algorithm 6, DReLU: shares over Z_L of DReLU(a) = 1 - MSB(a)
 * (1 for a >= 0, 0 for a < 0).
 *  1. P0, P1 hold shares of 0 over Z_{L-1} (ShareConvert and ComputeMSB already
 *     re-randomise their outputs, so they are drawn there).
 *  2. P_j: c_j = 2 a_j mod L.
 *  3. y = F_SC(c): c over Z_{L-1}. c is even, so c != L - 1 as F_SC requires.
 *  4. alpha = F_MSB(y).
 *  5. P_j: gamma_j = j - alpha_j.
 * MSB(2a) equals MSB(a) whenever -2^62 <= a < 2^62 (bits 62 and 63 agree), the
 * documented range of every comparison in this library; the doubling is what
 * makes a = -1 (= L - 1) work, which F_SC alone cannot convert.
 *
 * Cost: ShareConvert then ComputeMSB: 9 rounds naive; ComputeMSB's dealing
 * (step 3) does not depend on the input, so it overlaps and the measured
 * depth is 8 rounds; 496 bytes per element.
 */
import type { PartyContext } from '../context.js';
import type { AShare } from '../ring/types.js';
import { computeMsb, computeMsbCost } from './compute-msb.js';
import { addCost, type Cost } from './cost.js';
import { shareConvert, shareConvertCost } from './share-convert.js';

export const dreluCost = (n: number): Cost => {
  const c = addCost(shareConvertCost(n), computeMsbCost(n));
  return { rounds: c.rounds - 1, bytes: c.bytes };
};

export async function drelu(ctx: PartyContext, a: AShare, label = 'drelu'): Promise<AShare> {
  return ctx.step('DReLU', () => dreluBody(ctx, a, label));
}

async function dreluBody(ctx: PartyContext, a: AShare, label = 'drelu'): Promise<AShare> {
  const k = ctx.kernels;
  const n = a.length;
  // Step 2.
  const c = new BigUint64Array(n);
  if (ctx.party !== 2) k.add(a, a, c);
  // Steps 3-4.
  const y = await shareConvert(ctx, c as AShare, `${label}.sc`);
  const alpha = await computeMsb(ctx, y, `${label}.msb`);
  if (ctx.party === 2) return alpha;
  // Step 5: gamma_j = j - alpha_j.
  const gamma = new BigUint64Array(n);
  k.sub(new BigUint64Array(n).fill(ctx.party === 1 ? 1n : 0n), alpha, gamma);
  return gamma as AShare;
}
