/**
 * The runner's pooling passes over pairs of adjacent values (1x2 or 2x1
 * windows, stride 1, no padding: the separable passes of a 2x2 stride-1
 * MaxPool): the operands as contiguous slices for maxOfPairs, and the last
 * pass fused with the ReLU the runner moves after the pool
 * (primitives/relu-max-pairs.ts: ReLU(max) in one comparison's 3 rounds).
 */
import type { PartyContext } from '../context.js';
import { maxOfPairs } from '../primitives/maxpool.js';
import { reluMaxOfPairs } from '../primitives/relu-max-pairs.js';
import { borrowU64 } from '../ring/scratch.js';
import type { AShare } from '../ring/types.js';
import type { Window2D } from './geometry.js';

/** 'w' / 'h' for a pass whose windows are two adjacent values along W / H (stride 1, no padding), else null. */
export function adjacentAxis(h: number, w: number, k: [number, number], s: [number, number], g: Window2D): 'w' | 'h' | null {
  if (k[0] === 1 && k[1] === 2 && s[0] === 1 && s[1] === 1 && g.padLeft === 0 && g.padRight === 0 && g.padTop === 0 && g.outH === h && g.outW === w - 1) return 'w';
  if (k[0] === 2 && k[1] === 1 && s[0] === 1 && s[1] === 1 && g.padTop === 0 && g.padBottom === 0 && g.padLeft === 0 && g.outH === h - 1 && g.outW === w) return 'h';
  return null;
}

/**
 * For such a pass, the first and second values of every window as two contiguous arrays in output order (null for
 * any other window).
 */
export function adjacentPairs(v: BigUint64Array, N: number, h: number, w: number, C: number, k: [number, number], s: [number, number], g: Window2D, helper: boolean): { X: BigUint64Array; Y: BigUint64Array } | null {
  const axis = adjacentAxis(h, w, k, s, g);
  if (!axis) return null;
  const n = N * g.outH * g.outW * C;
  // Lent buffers (ring/scratch.ts borrowU64: they live across the comparison's awaits), every element written here;
  // the caller hands them back once maxOfPairs is done with them. P2 holds no share of the activations (its values
  // are zero placeholders, and maxOfPairs reads only their length there): one zeroed array for both operands.
  if (helper) { const z = borrowU64(n); new Uint8Array(z.buffer, 0, z.byteLength).fill(0); return { X: z, Y: z }; }
  const X = borrowU64(n), Y = borrowU64(n);
  if (axis === 'w') {
    const row = (w - 1) * C;
    for (let r = 0; r < N * h; r++) {
      X.set(v.subarray(r * w * C, r * w * C + row), r * row);
      Y.set(v.subarray(r * w * C + C, (r + 1) * w * C), r * row);
    }
  } else {
    const img = (h - 1) * w * C;
    for (let b = 0; b < N; b++) {
      X.set(v.subarray(b * h * w * C, b * h * w * C + img), b * img);
      Y.set(v.subarray(b * h * w * C + w * C, (b + 1) * h * w * C), b * img);
    }
  }
  return { X, Y };
}

/** maxOfPairs counted as a MaxPool step (as maxPool's own calls are). */
export function maxPool2(ctx: PartyContext, X: BigUint64Array, Y: BigUint64Array, label: string): Promise<AShare> {
  return ctx.step('MaxPool', () => maxOfPairs(ctx, X, Y, label));
}

/** The pairs of `imgs` images of such a pass as indices into their values (output order: adjacentPairs' X, Y). */
export function adjacentPairIndices(imgs: number, h: number, w: number, C: number, axis: 'w' | 'h'): { iX: Uint32Array; iY: Uint32Array } {
  const per = axis === 'w' ? h * (w - 1) * C : (h - 1) * w * C;
  const iX = new Uint32Array(imgs * per), iY = new Uint32Array(imgs * per);
  let q = 0;
  if (axis === 'w') {
    for (let r = 0; r < imgs * h; r++) for (let t = 0; t < (w - 1) * C; t++, q++) { iX[q] = r * w * C + t; iY[q] = iX[q]! + C; }
  } else {
    for (let b = 0; b < imgs; b++) for (let t = 0; t < (h - 1) * w * C; t++, q++) { iX[q] = b * h * w * C + t; iY[q] = iX[q]! + w * C; }
  }
  return { iX, iY };
}

/**
 * ReLU(max) of such a pass over N images of [h, w, C] (relu-max-pairs.ts), whole images per call, at most `limit`
 * compared values (elements and pair differences) per call; null when one image alone has more (the caller then
 * runs the pass and the ReLU apart). Counted as a MaxPool step.
 */
export async function reluMaxAdjacent(ctx: PartyContext, v: BigUint64Array, N: number, h: number, w: number, C: number, axis: 'w' | 'h', limit: number, tag: string): Promise<AShare | null> {
  const nE = h * w * C, nP = axis === 'w' ? h * (w - 1) * C : (h - 1) * w * C;
  if (nE + nP > limit) return null;
  const per = Math.max(1, Math.floor(limit / (nE + nP)));
  const out = new BigUint64Array(N * nP);
  for (let b0 = 0, i = 0; b0 < N; b0 += per, i++) {
    const imgs = Math.min(per, N - b0);
    const { iX, iY } = adjacentPairIndices(imgs, h, w, C, axis);
    // P2 holds zero placeholders (only their length is read there).
    const e = ctx.party === 2 ? new BigUint64Array(imgs * nE) : v.subarray(b0 * nE, (b0 + imgs) * nE);
    out.set(await ctx.step('MaxPool', () => reluMaxOfPairs(ctx, e as AShare, iX, iY, `${i ? `${tag}#${i}` : tag}.l0.rmax`)), b0 * nP);
  }
  return out as AShare;
}
