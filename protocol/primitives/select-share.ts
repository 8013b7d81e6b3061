/**
 * SecureNN Algorithm 2, SelectShare (F_SS): shares of x if alpha = 0, of y if
 * alpha = 1, for alpha a bit shared over Z_L.
 *  1. P0, P1 hold shares u_j of 0 over Z_L (from their common PRG).
 *  2. P_j: w_j = y_j - x_j.
 *  3. c = F_MatMul(alpha, w) (elementwise).
 *  4. P_j: z_j = x_j + c_j + u_j.
 * Cost: 1 round (see matmul.ts), 40 bytes per element.
 */
import type { PartyContext } from '../context.js';
import type { AShare } from '../ring/types.js';
import type { Cost } from './cost.js';
import { mulCost, mulShares } from './matmul.js';

export const selectShareCost = (n: number): Cost => mulCost(n);

export async function selectShare(ctx: PartyContext, alpha: AShare, x: AShare, y: AShare, label = 'ss'): Promise<AShare> {
  return ctx.step('SelectShare', () => selectShareBody(ctx, alpha, x, y, label));
}

async function selectShareBody(ctx: PartyContext, alpha: AShare, x: AShare, y: AShare, label = 'ss'): Promise<AShare> {
  const k = ctx.kernels;
  const n = x.length;
  if (ctx.party === 2) {
    await mulShares(ctx, alpha, x, `${label}.mul`);
    return new BigUint64Array(n) as AShare;
  }
  // Step 1.
  const u = ctx.pairPrg(ctx.party === 0 ? 1 : 0).u64(n);
  // Step 2.
  const w = new BigUint64Array(n);
  k.sub(y, x, w);
  // Step 3.
  const c = await mulShares(ctx, alpha, w as AShare, `${label}.mul`);
  // Step 4.
  k.add(c, x, c);
  if (ctx.party === 0) k.add(c, u, c);
  else k.sub(c, u, c);
  return c;
}
