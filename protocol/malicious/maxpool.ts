/**
 * MaxPool over MACed shares in the malicious mode: the tournament tree of the
 * semi-honest protocol (protocol/primitives/maxpool.ts, SecureNN Alg. 9 run as
 * a tree) with the comparison of compare.ts: max(a, b) = b + ReLU(a - b)
 * = b + DReLU(a - b) (a - b) (Dalskov, Escudero, Keller, PoPETs 2020, §4;
 * Falcon, Wagh et al. 2021, Alg. "Maxpool").
 *
 *  1. Windows (local): one image in NHWC (h, w, c); TensorFlow's window
 *     rule ('valid' / 'same', layers/geometry.ts window2d, the same as the
 *     semi-honest layer). Each output (oy, ox, ch), in NHWC order, has the
 *     kh kw candidates of its window, row-major; a padded position holds
 *     the public constant -2^(ell-2), below every value in range (every
 *     'same' window has at least one real value, so it never wins).
 *  2. Masks: the random part of every level's comparisons in one call
 *     (compare.ts compareMaskM: input-independent), so its rounds are paid
 *     once, not per level. Levels: candidates 2j and 2j+1 of every window,
 *     all windows at once: d = a - b, max = b + reluM(d) (one reluM call per
 *     level, on its slice of the masks); an odd last candidate goes up
 *     unchanged. ceil(log2(kh kw)) comparison levels.
 *  3. The single candidate left is the window's maximum.
 *
 * Separable case (2x2 windows, stride 1, 'valid': the seed CNN's MaxPooling2D(2, 1)): the pairs of level 1 are
 * horizontal neighbours, (y, x) and (y, x + 1), and window (oy, ox)'s second pair is window (oy + 1, ox)'s first;
 * level 1 is therefore run once per pair of the image, h outW c comparisons, not twice (2 outH outW c), and level 2
 * compares rows oy and oy + 1 of its result (slices, no gather). Same pairs, same operand order, so the same
 * maximum as the tree (also on ties); (h + outH) outW c comparisons instead of 3 outH outW c (a third fewer
 * for large h), the same 2 levels (rounds).
 *
 * Ties: a - b = 0 gives DReLU = 1 and max = b + 0 = b, the same value as the
 * semi-honest tree's (which selects its second operand on a tie).
 *
 * Range: ell is the width of the comparisons of differences; inputs must
 * satisfy |x| < 2^(ell-2), so that every difference, also with the padding
 * constant, is below 2^(ell-1) in magnitude (ell <= 64 = k: compare.ts).
 *
 * Cost (maxPoolCostM): the masks, compareMaskCostM(total, ell), then per
 * level reluOnlineCostM(n_l, ell) with n_l the level's comparisons
 * (`maxPoolComparisons`: m q with q pairs per window for m = outH outW c
 * windows; separable: h outW c, then outH outW c); all add up.
 */
import type { Cost } from '../primitives/cost.js';
import { addCost } from '../primitives/cost.js';
import { assert } from '../errors.js';
import { window2d, type Window2D } from '../layers/geometry.js';
import type { Padding } from '../ir.js';
import { fromBigints } from './ring128.js';
import { addM, subM, type MShare } from './rep.js';
import { constantM, gatherM } from './bit-ops.js';
import { concatM, sliceM } from './mvec.js';
import { compareMaskCostM, compareMaskM, MAX_COMPARE_BITS, reluM, reluOnlineCostM, sliceMask } from './compare.js';
import type { MalSession } from './session.js';

export interface PoolInput { readonly h: number; readonly w: number; readonly c: number }
export interface PoolWindow { readonly kh: number; readonly kw: number; readonly sh: number; readonly sw: number; readonly padding?: Padding }

/** Pairs per window at each level of the tree over n candidates. */
function levels(n: number): number[] {
  const qs: number[] = [];
  for (let c = n; c > 1; c = Math.ceil(c / 2)) qs.push(Math.floor(c / 2));
  return qs;
}

function geometry(shape: PoolInput, pool: PoolWindow): Window2D {
  for (const [k, v] of Object.entries({ ...shape, kh: pool.kh, kw: pool.kw, sh: pool.sh, sw: pool.sw })) {
    assert(Number.isInteger(v) && v >= 1, 'E_BAD_ARGUMENT', `malicious.maxPool: ${k} must be a positive integer, got ${v}`);
  }
  const padding = pool.padding ?? 'valid';
  assert(padding === 'valid' || padding === 'same', 'E_BAD_ARGUMENT', `malicious.maxPool: padding must be 'valid' or 'same', got '${String(padding)}'`);
  return window2d(shape.h, shape.w, [pool.kh, pool.kw], [pool.sh, pool.sw], padding);
}

/** Declared cost of maxPoolM. */
export function maxPoolCostM(shape: PoolInput, pool: PoolWindow, ell: number): Cost {
  const { ns, total } = maxPoolComparisons(shape, pool);
  if (ns.length === 0) return { rounds: 0, bytes: 0 };
  return addCost(compareMaskCostM(total, ell), ...ns.map((n) => reluOnlineCostM(n, ell)));
}

/** 2x2 windows, stride 1, 'valid', at least 2 x 2 (the separable case of the header). */
function separable(shape: PoolInput, pool: PoolWindow): boolean {
  return pool.kh === 2 && pool.kw === 2 && pool.sh === 1 && pool.sw === 1 && (pool.padding ?? 'valid') === 'valid' && shape.h >= 2 && shape.w >= 2;
}

/** Step 1: the index of every candidate (row-major [m x kh kw]), -1 for a padded position. */
function windowIndex(shape: PoolInput, pool: PoolWindow, g: Window2D): Int32Array {
  const { w, c } = shape, n = pool.kh * pool.kw;
  const idx = new Int32Array(g.outH * g.outW * c * n);
  let o = 0;
  for (let oy = 0; oy < g.outH; oy++) for (let ox = 0; ox < g.outW; ox++) for (let ch = 0; ch < c; ch++) {
    for (let dy = 0; dy < pool.kh; dy++) for (let dx = 0; dx < pool.kw; dx++) {
      const y = oy * pool.sh + dy - g.padTop, x = ox * pool.sw + dx - g.padLeft;
      idx[o++] = y < 0 || y >= shape.h || x < 0 || x >= w ? -1 : (y * w + x) * c + ch;
    }
  }
  return idx;
}

/** The comparisons of a pass: ns[l] at level l (m q for m windows and q pairs per window; separable: h outW c, outH outW c), their total. */
export function maxPoolComparisons(shape: PoolInput, pool: PoolWindow): { ns: number[]; total: number } {
  const g = geometry(shape, pool), m = g.outH * g.outW * shape.c;
  const ns = separable(shape, pool) ? [shape.h * g.outW * shape.c, m] : levels(pool.kh * pool.kw).map((q) => m * q);
  return { ns, total: ns.reduce((t, n) => t + n, 0) };
}

/** The separable tournament (header): level 1 on horizontal pairs, level 2 on rows oy and oy + 1 of its result. */
async function separableM(s: MalSession, x: MShare, shape: PoolInput, relu: (d: MShare, from: number, to: number) => Promise<MShare>): Promise<MShare> {
  const { h, w, c } = shape, outW = w - 1, n1 = h * outW * c, rowN = outW * c, n2 = (h - 1) * rowN;
  const ia = new Int32Array(n1), ib = new Int32Array(n1);
  for (let y = 0, j = 0; y < h; y++) for (let ox = 0; ox < outW; ox++) for (let ch = 0; ch < c; ch++, j++) { ia[j] = (y * w + ox) * c + ch; ib[j] = ia[j]! + c; }
  const k = s.ctx.kernels, a = gatherM(x, ia), b = gatherM(x, ib);
  const rows = addM(b, await relu(subM(a, b, k), 0, n1), k);
  const a2 = sliceM(rows, 0, n2), b2 = sliceM(rows, rowN, rowN + n2);
  return addM(b2, await relu(subM(a2, b2, k), n1, n1 + n2), k);
}

/**
 * Steps 1 and 3 with each level's ReLU given: `relu(d, from, to)` returns
 * ReLU(d) for the comparisons [from, to) of the pass (m q per level, in
 * order). maxPoolM passes reluM on its slice of the masks; binary/
 * maxpool-bin.ts the binary ReLU on its slice of the daBits.
 */
export async function tournamentM(s: MalSession, x: MShare, shape: PoolInput, pool: PoolWindow, ell: number, relu: (d: MShare, from: number, to: number) => Promise<MShare>): Promise<MShare> {
  const g = geometry(shape, pool);
  assert(x.n === shape.h * shape.w * shape.c, 'E_SHAPE', `malicious.maxPool: ${x.n} elements for a ${shape.h}x${shape.w}x${shape.c} image`, { party: s.party, step: 'mal.maxPool' });
  assert(Number.isInteger(ell) && ell >= 3 && ell <= MAX_COMPARE_BITS, 'E_BAD_ARGUMENT', `malicious.maxPool: ell must be an integer in [3, ${MAX_COMPARE_BITS}], got ${ell}`, { party: s.party, step: 'mal.maxPool' });
  if (separable(shape, pool)) return separableM(s, x, shape, relu);
  const m = g.outH * g.outW * shape.c;
  // Step 1: the candidates, padding = -2^(ell-2).
  let cur = gatherM(x, windowIndex(shape, pool, g), constantM(s.party, s.alpha, fromBigints([-(1n << BigInt(ell - 2))]), s.ctx.kernels));
  let used = 0;
  for (let cnt = pool.kh * pool.kw; cnt > 1;) {
    const q = Math.floor(cnt / 2), next = q + (cnt % 2);
    const ia = new Int32Array(m * q), ib = new Int32Array(m * q);
    for (let r = 0; r < m; r++) for (let j = 0; j < q; j++) { ia[r * q + j] = r * cnt + 2 * j; ib[r * q + j] = r * cnt + 2 * j + 1; }
    const a = gatherM(cur, ia), b = gatherM(cur, ib);
    const best = addM(b, await relu(subM(a, b, s.ctx.kernels), used, used + m * q), s.ctx.kernels);
    used += m * q;
    if (cnt % 2 === 0) cur = best;
    else {
      // Window r's candidates at the next level: its q maxima, then its odd last candidate.
      const keep = new Int32Array(m * next);
      for (let r = 0; r < m; r++) {
        for (let j = 0; j < q; j++) keep[r * next + j] = r * q + j;
        keep[r * next + q] = best.n + r * cnt + cnt - 1;
      }
      cur = gatherM(concatM([best, cur]), keep);
    }
    cnt = next;
  }
  // Step 3.
  return cur;
}

/**
 * The maximum of every pooling window of one NHWC image (h, w, c) of MACed
 * values with |x| < 2^(ell-2). Output NHWC (outH, outW, c). Cost maxPoolCostM.
 */
export function maxPoolM(s: MalSession, x: MShare, shape: PoolInput, pool: PoolWindow, ell: number): Promise<MShare> {
  return s.guard('mal.maxPool', async () => {
    const { total } = maxPoolComparisons(shape, pool);
    // Step 2: the masks of every level's comparisons at once (input-independent), then the levels.
    const masks = total > 0 && x.n === shape.h * shape.w * shape.c && Number.isInteger(ell) && ell >= 3 && ell <= MAX_COMPARE_BITS ? await compareMaskM(s, total, ell) : null;
    return tournamentM(s, x, shape, pool, ell, (d, from, to) => reluM(s, d, ell, sliceMask(masks!, from, to)));
  });
}
