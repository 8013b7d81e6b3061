/**
 * SecureNN Algorithm 9, MaxPool: shares of the maximum of each window.
 *
 * The paper compares the running maximum with each next element:
 *   max_1 = x_1; for i = 2..n: w = x_i - max; beta = F_DReLU(w);
 *   max = F_SS(beta, max, x_i)        (9 (n-1) rounds in our accounting)
 * Here the same step (DReLU of the difference, then SelectShare) runs as a
 * tournament tree: at each level the current candidates are paired, every
 * pair of every window goes through one DReLU and one SelectShare together,
 * and an odd candidate passes to the next level. Rounds drop from (n-1) to
 * ceil(log2 n) comparison levels; bytes are unchanged ((n-1) comparisons per
 * window). Ties: DReLU(0) = 1 selects the second of an equal pair, which has
 * the same value.
 *
 * With ctx.comparison = 'direct' a level is max(x, y) = x + ReLU(y - x) with
 * relu-direct.ts (3 rounds per level instead of 9). With fuseRelu ('direct'
 * only) the result is ReLU(max): the last level (always one pair per window)
 * runs as relu-max-pairs.ts, the ReLU in that level's 3 rounds.
 *
 * Input: m windows of n values, row-major [m x n]. Output: m values.
 * Cost: per level with q pairs per window: DReLU(m q) + SelectShare(m q)
 * ('securenn') or ReLU-direct(m q) ('direct'); fuseRelu: the last level
 * reluMaxPairsCost(2m, m).
 */
import type { ComparisonMode, PartyContext } from '../context.js';
import { assert } from '../errors.js';
import type { AShare } from '../ring/types.js';
import { addCost, type Cost } from './cost.js';
import { drelu, dreluCost } from './drelu.js';
import { reluDirect, reluDirectCost } from './relu-direct.js';
import { reluMaxOfPairs, reluMaxPairsCost } from './relu-max-pairs.js';
import { selectShare, selectShareCost } from './select-share.js';

export function maxPoolCost(m: number, n: number, mode: ComparisonMode = 'securenn', compareBits: 32 | 64 = 64, fuseRelu = false): Cost {
  const levels: Cost[] = [];
  for (let c = n; c > 1; c = Math.ceil(c / 2)) {
    const q = Math.floor(c / 2);
    if (fuseRelu && c === 2) levels.push(reluMaxPairsCost(2 * m, m, compareBits));
    else levels.push(mode === 'direct' ? reluDirectCost(m * q, compareBits) : addCost(dreluCost(m * q), selectShareCost(m * q)));
  }
  return addCost({ rounds: 0, bytes: 0 }, ...levels);
}

/** Copy columns `cols` of an [m x c] u64 matrix into a new [m x cols.length] matrix. */
function gatherColumns(src: BigUint64Array, m: number, c: number, cols: number[]): BigUint64Array {
  const q = cols.length;
  const out = new BigUint64Array(m * q);
  const s = new Uint32Array(src.buffer, src.byteOffset, src.length * 2);
  const o = new Uint32Array(out.buffer);
  for (let r = 0; r < m; r++) {
    for (let t = 0; t < q; t++) {
      const si = 2 * (r * c + cols[t]!), oi = 2 * (r * q + t);
      o[oi] = s[si]!;
      o[oi + 1] = s[si + 1]!;
    }
  }
  return out;
}

/**
 * One comparison level for m pairs: max(X_i, Y_i) for every i, as the
 * tournament's levels run it (w = Y - X; 'direct': X + ReLU(w);
 * 'securenn': SelectShare(DReLU(w), X, Y)). X is read after the protocol
 * call, Y may be overwritten ('direct'). The runner calls it directly for
 * windows of two adjacent values (2x2 stride-1 pools run separably as such
 * pairs), without gathering windows.
 */
export async function maxOfPairs(ctx: PartyContext, X: BigUint64Array, Y: BigUint64Array, label: string): Promise<AShare> {
  assert(X.length === Y.length, 'E_SHAPE', `maxOfPairs: ${X.length} and ${Y.length} values`, { party: ctx.party, step: label });
  const k = ctx.kernels;
  // 'direct' needs only X afterwards, so w = Y - X in place of Y; 'securenn' selects from Y.
  const w = ctx.comparison === 'direct' ? Y : new BigUint64Array(X.length);
  if (ctx.party !== 2) k.sub(Y, X, w);
  if (ctx.comparison === 'direct') {
    // max(X, Y) = X + ReLU(Y - X).
    const best = await reluDirect(ctx, w as AShare, `${label}.relu`);
    if (ctx.party !== 2) k.add(best, X, best);
    return best;
  }
  const beta = await drelu(ctx, w as AShare, `${label}.drelu`);
  return selectShare(ctx, beta, X as AShare, Y as AShare, `${label}.ss`);
}

/** fuseRelu: ReLU(max) of each window ('direct' comparisons, n >= 2). */
export async function maxPool(ctx: PartyContext, x: AShare, m: number, n: number, label = 'maxpool', fuseRelu = false): Promise<AShare> {
  return ctx.step('MaxPool', () => maxPoolBody(ctx, x, m, n, label, fuseRelu));
}

async function maxPoolBody(ctx: PartyContext, x: AShare, m: number, n: number, label: string, fuseRelu: boolean): Promise<AShare> {
  assert(x.length === m * n && n >= 1, 'E_SHAPE', `maxPool: expected ${m} windows of ${n} values, got ${x.length} elements`, { party: ctx.party, step: label });
  assert(!fuseRelu || (n >= 2 && ctx.comparison === 'direct'), 'E_BAD_ARGUMENT', `maxPool: the ReLU fuses only into 'direct' comparisons of windows of 2 or more (got ${n}, '${ctx.comparison}')`, { party: ctx.party, step: label });
  let cur: BigUint64Array = x;
  let c = n;
  for (let level = 0; c > 1; level++) {
    if (fuseRelu && c === 2) {
      // The last level, one pair (2r, 2r + 1) per window of cur [m x 2]: ReLU(max) in its 3 rounds.
      const iX = Uint32Array.from({ length: m }, (_, r) => 2 * r), iY = iX.map((v) => v + 1);
      return reluMaxOfPairs(ctx, cur as AShare, iX, iY, `${label}.l${level}.rmax`);
    }
    const q = Math.floor(c / 2);
    const even = Array.from({ length: q }, (_, i) => 2 * i);
    const X = gatherColumns(cur, m, c, even);
    const Y = gatherColumns(cur, m, c, even.map((i) => i + 1));
    // w = Y - X; beta = DReLU(w) = (Y >= X); max = SelectShare(beta, X, Y) (or X + ReLU(w)).
    const best = await maxOfPairs(ctx, X, Y, `${label}.l${level}`);
    if (c % 2 === 1) {
      // The odd candidate of each window goes up unchanged.
      const carry = gatherColumns(cur, m, c, [c - 1]);
      const next = new BigUint64Array(m * (q + 1));
      const b = new Uint32Array(best.buffer, best.byteOffset, best.length * 2), cr = new Uint32Array(carry.buffer), nx = new Uint32Array(next.buffer);
      for (let r = 0; r < m; r++) {
        nx.set(b.subarray(2 * r * q, 2 * (r + 1) * q), 2 * r * (q + 1));
        nx[2 * (r * (q + 1) + q)] = cr[2 * r]!;
        nx[2 * (r * (q + 1) + q) + 1] = cr[2 * r + 1]!;
      }
      cur = next;
      c = q + 1;
    } else {
      cur = best;
      c = q;
    }
  }
  return cur as AShare;
}
