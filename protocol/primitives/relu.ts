/**
 * SecureNN Algorithm 7, ReLU: shares of max(a, 0).
 *  1. P0, P1 hold shares of 0 over Z_L (drawn in SelectShare).
 *  2. alpha = F_DReLU(a).
 *  3. c = F_SS(alpha, 0, a) = alpha * a (F_MatMul).
 *  4. P_j outputs c_j (+ u_j).
 * Cost: DReLU + SelectShare = 9 rounds, 536 bytes per element.
 */
import type { PartyContext } from '../context.js';
import type { AShare } from '../ring/types.js';
import { addCost, type Cost } from './cost.js';
import { drelu, dreluCost } from './drelu.js';
import { selectShare, selectShareCost } from './select-share.js';

export const reluCost = (n: number): Cost => addCost(dreluCost(n), selectShareCost(n));

export async function relu(ctx: PartyContext, a: AShare, label = 'relu'): Promise<AShare> {
  return ctx.step('ReLU', () => reluBody(ctx, a, label));
}

async function reluBody(ctx: PartyContext, a: AShare, label = 'relu'): Promise<AShare> {
  const alpha = await drelu(ctx, a, `${label}.drelu`);
  return selectShare(ctx, alpha, new BigUint64Array(a.length) as AShare, a, `${label}.ss`);
}
