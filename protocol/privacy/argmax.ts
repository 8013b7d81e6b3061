/**
 * Secure argmax over the classes of each row of a shared [m x n] matrix (the
 * logits of a batch): the label is computed inside the protocol and only its
 * shares leave P0 and P1, so the client learns the label and nothing else
 * about the logits (SecureNN's MaxPool tournament, Alg. 9, carrying the
 * argument along with the maximum).
 *
 * Tournament tree, all rows batched; per level, with candidates c and
 * q = floor(c/2) pairs (L, R) = (candidate 2i, candidate 2i + 1):
 *  1. P_j: w_j = L_j - R_j.
 *  2. d = F_DReLU(w) = (L >= R);  P_j: b_j = j - d_j, so b = (R > L).
 *  3. One F_SS call (SecureNN Alg. 2) on the concatenation of
 *       values:   F_SS(b, L, R)               -> max(L, R)
 *       payload:  'index':  F_SS(b, iL, iR)   -> index of the winner
 *                 'onehot': F_SS(b, oL, 0) ++ F_SS(b, 0, oR)
 *     where iL, iR are the candidates' index shares (P0 starts with the
 *     public column index, P1 with 0) and oL, oR the one-hot vectors over the
 *     classes each candidate covers (a contiguous block; the blocks of a row
 *     always partition its n classes, so the one-hot state is one [m x n]
 *     matrix, P0 starting with all ones).
 *  4. An odd last candidate passes to the next level unchanged.
 * Ties go to the lower index (the left candidate wins when L >= R, and left
 * blocks hold lower classes), as numpy's argmax does. With 'onehot' the
 * index is sum_c c * onehot_c, computed locally.
 *
 * Optional confidence bucket (public ascending thresholds tau_1..tau_K in
 * real units): with the one-hot e of the winner,
 *  5. runner-up = MaxPool(x - 2^60 e)  (SecureNN Alg. 9; the winner is masked out),
 *  6. margin = max - runner-up,
 *  7. bits_k = F_DReLU(margin - tau_k), bucket = sum_k bits_k in {0..K}
 *     (locally; only the bucket's shares are returned, not the bits).
 *
 * Range: exact for |x| < 2^60 ring units (|real| < 2^47 at f = 13): every
 * DReLU input then lies in (-2^62, 2^62) (drelu.ts).
 *
 * Cost: per level DReLU(m q) + SelectShare(m (q + payload)), payload = q
 * ('index') or the classes covered by the q pairs ('onehot'); ceil(log2 n)
 * levels. Confidence adds MaxPool(m rows of n) + DReLU(m K).
 * P2 passes a placeholder of m * n elements.
 */
import { pushDown, type PartyContext } from '../context.js';
import { assert } from '../errors.js';
import { encodeScalar } from '../fixed-point/fixed-point.js';
import { addCost, type Cost } from '../primitives/cost.js';
import { dreluCostFor, dreluFor } from '../primitives/compare.js';
import type { ComparisonMode } from '../context.js';
import { maxPool, maxPoolCost } from '../primitives/maxpool.js';
import { selectShare, selectShareCost } from '../primitives/select-share.js';
import type { AShare } from '../ring/types.js';

export type ArgmaxPayload = 'index' | 'onehot';

export interface ArgmaxOptions {
  /** What the tree carries along (default 'index'); confidence thresholds force 'onehot'. */
  payload?: ArgmaxPayload;
  /** Public margin thresholds, ascending, in real units (fixed point at ctx.fracBits). */
  confidenceThresholds?: readonly number[];
  /** Message tag prefix. */
  label?: string;
}

export interface ArgmaxShares {
  /** Shares of the argmax of each row (m). */
  index: AShare;
  /** Shares of the maximum of each row (m). Internal: never return it to a client. */
  max: AShare;
  /** Shares of the one-hot of the argmax ([m x n]) when payload is 'onehot'. */
  onehot?: AShare;
  /** Shares of the confidence bucket in 0..K (m) when thresholds are given. */
  bucket?: AShare;
}


/** Block sizes per level of the tree: sizes[level] = classes covered by each candidate at that level. */
function levelsOf(n: number): { c: number; q: number; covered: number }[] {
  const out: { c: number; q: number; covered: number }[] = [];
  let sizes = Array<number>(n).fill(1);
  while (sizes.length > 1) {
    const c = sizes.length, q = Math.floor(c / 2);
    let covered = 0;
    const next: number[] = [];
    for (let i = 0; i < q; i++) { next.push(sizes[2 * i]! + sizes[2 * i + 1]!); covered += next[i]!; }
    if (c % 2) next.push(sizes[c - 1]!);
    out.push({ c, q, covered });
    sizes = next;
  }
  return out;
}

const usesOneHot = (o: ArgmaxOptions): boolean => o.payload === 'onehot' || (o.confidenceThresholds?.length ?? 0) > 0;

/** compareBits: the context's comparison ring (radix 4 on the 32-bit ring). */
export function argmaxCost(m: number, n: number, opts: ArgmaxOptions = {}, mode: ComparisonMode = 'direct', compareBits: 32 | 64 = 64): Cost {
  const oh = usesOneHot(opts);
  const parts: Cost[] = levelsOf(n).map(({ q, covered }) => addCost(dreluCostFor(m * q, mode, compareBits), selectShareCost(m * (q + (oh ? covered : q)))));
  const K = opts.confidenceThresholds?.length ?? 0;
  if (K > 0) parts.push(maxPoolCost(m, n, mode, compareBits), dreluCostFor(m * K, mode, compareBits));
  return addCost({ rounds: 0, bytes: 0 }, ...parts);
}

/** Shares of the argmax (and optionally one-hot and confidence bucket) of each row of x [m x n]. */
export async function secureArgmax(ctx: PartyContext, x: AShare, m: number, n: number, opts: ArgmaxOptions = {}): Promise<ArgmaxShares> {
  return ctx.step('Argmax', () => argmaxBody(ctx, x, m, n, opts));
}

async function argmaxBody(ctx: PartyContext, x: AShare, m: number, n: number, opts: ArgmaxOptions): Promise<ArgmaxShares> {
  assert(Number.isInteger(m) && Number.isInteger(n) && m >= 1 && n >= 1 && x.length === m * n, 'E_SHAPE', `argmax: expected ${m} x ${n} = ${m * n} elements, got ${x.length}`, { party: ctx.party, step: 'argmax' });
  const K = opts.confidenceThresholds?.length ?? 0;
  const thresholds = opts.confidenceThresholds ?? [];
  assert(K === 0 || n >= 2, 'E_BAD_ARGUMENT', 'argmax: a confidence bucket needs at least 2 classes', { party: ctx.party });
  assert(thresholds.every((t, i) => Number.isFinite(t) && (i === 0 || t > thresholds[i - 1]!)), 'E_BAD_ARGUMENT', 'argmax: confidence thresholds must be finite and strictly ascending');
  const label = opts.label ?? 'argmax';
  const k = ctx.kernels;
  const j = ctx.party;
  const oneHot = usesOneHot(opts);
  const one = j === 0 ? 1n : 0n; // P0 holds public constants

  let vals = BigUint64Array.from(x);
  let idx = oneHot ? null : new BigUint64Array(m * n).map((_, i) => (j === 0 ? BigInt(i % n) : 0n));
  const oh = oneHot ? new BigUint64Array(m * n).fill(one) : null;
  let starts = Array.from({ length: n }, (_, i) => i); // first class of each candidate's block

  let level = 0;
  for (const { c, q, covered } of levelsOf(n)) {
    const odd = c % 2;
    const pay = oneHot ? covered : q;
    const tot = m * (q + pay);
    const alpha = new BigUint64Array(tot), X = new BigUint64Array(tot), Y = new BigUint64Array(tot);
    // Step 1: w = L - R.
    const w = new BigUint64Array(m * q);
    for (let r = 0; r < m; r++) for (let i = 0; i < q; i++) {
      X[r * q + i] = vals[r * c + 2 * i]!;
      Y[r * q + i] = vals[r * c + 2 * i + 1]!;
    }
    k.sub(X.subarray(0, m * q), Y.subarray(0, m * q), w);
    // Step 2: b = j - DReLU(L - R) = (R > L).
    const d = await dreluFor(ctx, w as AShare, `${label}.l${level}.drelu`);
    const b = new BigUint64Array(m * q);
    k.sub(new BigUint64Array(m * q).fill(j === 1 ? 1n : 0n), d, b);
    alpha.set(b, 0);
    // Step 3: payload operands.
    const base = m * q;
    if (!oneHot) {
      alpha.set(b, base);
      for (let r = 0; r < m; r++) for (let i = 0; i < q; i++) {
        X[base + r * q + i] = idx![r * c + 2 * i]!;
        Y[base + r * q + i] = idx![r * c + 2 * i + 1]!;
      }
    } else {
      for (let i = 0; i < q; i++) {
        const l0 = starts[2 * i]!, r0 = starts[2 * i + 1]!, end = 2 * i + 2 < c ? starts[2 * i + 2]! : n;
        for (let r = 0; r < m; r++) {
          const bi = b[r * q + i]!;
          for (let p = l0; p < end; p++) {
            const o = base + r * covered + p;
            alpha[o] = bi;
            if (p < r0) X[o] = oh![r * n + p]!;
            else Y[o] = oh![r * n + p]!;
          }
        }
      }
    }
    const s = await selectShare(ctx, alpha as AShare, X as AShare, Y as AShare, `${label}.l${level}.ss`);
    // Step 4: assemble the next level; the odd candidate is carried.
    const c2 = q + odd;
    const nextVals = new BigUint64Array(m * c2);
    const nextIdx = oneHot ? null : new BigUint64Array(m * c2);
    for (let r = 0; r < m; r++) {
      for (let i = 0; i < q; i++) {
        nextVals[r * c2 + i] = s[r * q + i]!;
        if (nextIdx) nextIdx[r * c2 + i] = s[base + r * q + i]!;
      }
      if (odd) {
        nextVals[r * c2 + q] = vals[r * c + c - 1]!;
        if (nextIdx) nextIdx[r * c2 + q] = idx![r * c + c - 1]!;
      }
      if (oh) oh.set(s.subarray(base + r * covered, base + (r + 1) * covered), r * n);
    }
    starts = starts.filter((_, i) => i % 2 === 0);
    vals = nextVals;
    idx = nextIdx;
    level++;
  }

  let index: BigUint64Array;
  if (oh) {
    index = new BigUint64Array(m);
    for (let r = 0; r < m; r++) {
      let acc = 0n;
      for (let c = 1; c < n; c++) acc += BigInt(c) * oh[r * n + c]!;
      index[r] = BigInt.asUintN(64, acc);
    }
  } else index = idx!;
  const res: ArgmaxShares = { index: index as AShare, max: vals as AShare, ...(oh ? { onehot: oh as AShare } : {}) };
  if (K === 0) return res;

  // Step 5: runner-up = max of x with the winner pushed down (2^60, or 2^29 on the 32-bit comparison ring: context.ts pushDown).
  const masked = new BigUint64Array(m * n);
  k.mulScalar(oh!, pushDown(ctx), masked);
  k.sub(x, masked, masked);
  const second = await maxPool(ctx, masked as AShare, m, n, `${label}.second`);
  // Step 6.
  const margin = new BigUint64Array(m);
  k.sub(vals, second, margin);
  // Step 7: bits_k = DReLU(margin - tau_k) (P0 subtracts the public thresholds).
  const tau = thresholds.map((t) => encodeScalar(t, ctx.fracBits));
  const wq = new BigUint64Array(m * K);
  for (let r = 0; r < m; r++) for (let t = 0; t < K; t++) wq[r * K + t] = j === 0 ? BigInt.asUintN(64, margin[r]! - tau[t]!) : margin[r]!;
  const bits = await dreluFor(ctx, wq as AShare, `${label}.conf`);
  const bucket = new BigUint64Array(m);
  for (let r = 0; r < m; r++) {
    let acc = 0n;
    for (let t = 0; t < K; t++) acc += bits[r * K + t]!;
    bucket[r] = BigInt.asUintN(64, acc);
  }
  return { ...res, bucket: bucket as AShare };
}
