/**
 * Truncation x -> x / 2^f of the malicious mode: probabilistic truncation
 * (Catrina and de Hoogh, SCN 2010, Protocol 3.1 "TruncPr") in its Z_2^k form
 * whose wrap-around is handled exactly with the mask's top bit (Escudero,
 * Ghosh, Keller, Rachuri, Scholl, CRYPTO 2020, probabilistic truncation over
 * Z_2^k; Dalskov, Escudero, Keller, PoPETs 2020, for its use in quantized
 * networks; the same identity as MP-SPDZ's TruncPrRing, which shifts the
 * value to the top of its ring where we work at m bits), on MACed replicated
 * shares over Z_2^128.
 *
 * Input: [x] with |x| < 2^(ell-1) as a signed value mod 2^k (k = 64: only the
 * low 64 bits are guaranteed by the MAC check; the high 64 may carry an
 * undetectable multiple of 2^64 and are never used). m = ell + 1 mask bits.
 *
 * Mask (input-independent, truncMaskM; can be made ahead of the input):
 *   b_0 .. b_{m-1} random MACed bits (randbits.ts), R a random MACed element
 *   of Z_2^128; [r] = sum_{i<m} 2^i [b_i] + 2^m [R] (uniform in Z_2^128),
 *   [r'] = sum_{f<=i<m} 2^(i-f) [b_i] ((r mod 2^m) >> f), and [b_{m-1}].
 *
 * Online (truncM):
 *  1. [y] = [x] + 2^(ell-1) (public shift: 0 <= y < 2^ell <= 2^(m-1)).
 *  2. Open c = y + r (openM, checked; all 128 bits, uniform: r is).
 *  3. From the low m bits only: c_m = c mod 2^m, c' = c_m >> f, and the top
 *     bit c_{m-1}. The wrap of y + (r mod 2^m) past 2^m is
 *     w = b_{m-1} (1 - c_{m-1}) (exact for y < 2^(m-1): the sum of y and the
 *     low m - 1 bits of r is below 2^m, so it carries out iff b_{m-1} = 1
 *     and the carry into bit m - 1 cleared c_{m-1}); linear in [b_{m-1}].
 *  4. [z] = c' - [r'] + 2^(m-f) [w] - 2^(ell-1-f). Then
 *     z = floor(x / 2^f) + v with v = [c mod 2^f < r mod 2^f] in {0, 1}
 *     (the dropped low carry: TruncPr's rounding, up with probability
 *     (x mod 2^f) / 2^f, so E[z] = x / 2^f; exact for multiples of 2^f).
 *
 * Why only the low k bits matter: step 3 reads c mod 2^m with m <= 64, and
 * the bits and r' enter linearly, so z mod 2^64 depends only on x mod 2^64,
 * the bits mod 2^64 and c mod 2^64, all verified by the batched MAC check
 * (an adversary's undetectable errors are multiples of 2^64 and vanish).
 * Failure probability per element: 0 for |x| < 2^(ell-1): no wrap is dropped
 * (the top bit makes it exact), the result is always floor or floor + 1;
 * the only other failure is the MAC check's, 2^(-s + log s) per run
 * (docs/MALICIOUS.md). In an honest run z is an exact signed lift in
 * Z_2^128 (every term is an exact integer), so products of truncated values
 * stay exact. For |x| >= 2^(ell-1) the result is wrong (not the privacy:
 * c is uniform whatever x).
 *
 * Privacy: c = y + (r mod 2^m) + 2^m R mod 2^128 with r mod 2^m uniform in
 * [0, 2^m) and R uniform in Z_2^128, so c is uniform whatever x (perfect
 * masking, no statistical gap). A mask must be used once (reuse reveals a
 * difference of inputs): truncM marks it used and refuses it again.
 *
 * Cost: mask 3 rounds, randBitsCost(m n) + macOfCost(n) (R's MAC rides in
 * the bits' macOf): 240 m n + 48 n bytes; online 1 round, openCost(n):
 * 48 n + 96 bytes. With ell = 48 (TRUNC_ELL): 11,808 n mask bytes (11,760 n
 * for the 49 n bits, 48 n for R's MAC).
 */
import type { Cost } from '../primitives/cost.js';
import { addCost } from '../primitives/cost.js';
import { assert, MpcError } from '../errors.js';
import { alloc128, len128, scalar128, sub128, type Vec128 } from './ring128.js';
import { addM, addPublicM, allocM, randomRep, subM, type LocalKernels, type MShare } from './rep.js';
import { add128Kernels } from './gemm128.js';
import { macOfBody, macOfCost } from './product.js';
import { openBody, openCost } from './open.js';
import { pairBits, parityM, randBitsCost } from './randbits.js';
import { concatM, concatReps, shlM, sliceM } from './mvec.js';
import { splitMask, truncMaskSplitCostM } from './trunc-mask.js';
import type { MalSession } from './session.js';
import { registerMaskMaker, takeMask } from './mask-source.js';

/**
 * Default bound: |x| < 2^(TRUNC_ELL - 1) before truncation. 48 = the 32-bit
 * comparison ring the service compares in (values below 2^31 after
 * truncation) plus f <= 16 fractional bits of a product; a caller with wider
 * values passes ell up to MAX_TRUNC_ELL (the runner: ranges.ts, 57 for the
 * divisions by 2^24, max(48, 32 + f) after products). The cost grows with
 * ell + 1 bits.
 */
export const TRUNC_ELL = 48;
/** m = ell + 1 mask bits must fit in the k = 64 bits the MAC check guarantees. */
export const MAX_TRUNC_ELL = 63;

/** A mask for one truncation of n elements by f bits with bound ell (truncMaskM). Use once. */
export interface TruncMask {
  readonly n: number;
  readonly f: number;
  readonly ell: number;
  /** r = sum_{i<m} 2^i b_i + 2^m R. */
  readonly r: MShare;
  /** r' = (r mod 2^m) >> f = sum_{f<=i<m} 2^(i-f) b_i. */
  readonly rShift: MShare;
  /** b_{m-1}, the mask's top bit. */
  readonly top: MShare;
  /** Set by truncM: a mask is used once. */
  used: boolean;
}

/** The mask from m = ell + 1 random MACed bits (randbits.ts; bitsMaskBody). */
export const truncMaskBitsCostM = (n: number, ell: number = TRUNC_ELL): Cost => {
  const c = randBitsCost((ell + 1) * n);
  return { rounds: c.rounds, bytes: c.bytes + macOfCost(n).bytes };
};
/**
 * Where a mask is made, which decides how its maker is chosen (usesSplitMask): 'online' inline, in a session that
 * waits for it (a client's run without a pool entry, or the recorded first run): its rounds add to the
 * prediction's latency; 'offline' in an offline batch of the mask pool (mask-pool.ts), which runs while the party
 * has no client run in flight: its rounds are on no prediction's path, and what it costs is its bytes (and the
 * CPU of the MACed arithmetic behind them).
 */
export type MaskWhere = 'online' | 'offline';
/**
 * The cost model of the choice: one round weighs as much as this many bytes (all parties together). Online:
 * 128 KiB, from served pool-off Network A measured both ways on the 2-core box (docs/MALICIOUS.md "Choosing the
 * truncation mask's maker": at 128 elements the split mask's 15 more rounds cost more than its 1.2 MB fewer bytes
 * save, at 1,024 elements its 9.6 MB fewer save far more than the rounds cost; a round about 1 ms and a byte of
 * the bits mask about 10 ns there, so break-even near 100-120 KB per round); offline: 0, the batch's rounds delay
 * no prediction (bytes only, the rule before).
 */
export const ROUND_BYTES: Readonly<Record<MaskWhere, number>> = { online: 128 * 1024, offline: 0 };
/** A maker's cost as one number: bytes + ROUND_BYTES[where] x rounds. */
export const maskScore = (c: Cost, where: MaskWhere): number => c.bytes + ROUND_BYTES[where] * c.rounds;
/**
 * Which maker makes a mask: the pair-PRG split of trunc-mask.ts (few bytes: 64 elements per binary word; 17-18
 * rounds) where its score (maskScore) is lower, else the random bits (3 rounds, 240 bytes per bit). Offline
 * that is every request of 9 elements or more at ell = 48 (bytes only); online only large ones (from 215
 * elements at ell = 48, f = 13: trunc-mask.test.ts; Network A's 128 and 10 at batch 1 keep the bits). Both make the same mask (the same distribution of r, r',
 * top), so the choice, a function of the public (n, f, ell, where) the three parties share (a session's source is
 * agreed at its hellos, an offline batch is run by all three), changes only the cost.
 */
export const usesSplitMask = (n: number, f: number, ell: number, where: MaskWhere = 'online'): boolean =>
  maskScore(truncMaskSplitCostM(n, f, ell), where) < maskScore(truncMaskBitsCostM(n, ell), where);
/** The declared cost of a mask made `where` (default online: inline in the session that uses it). */
export const truncMaskCostM = (n: number, f: number, ell: number = TRUNC_ELL, where: MaskWhere = 'online'): Cost =>
  (usesSplitMask(n, f, ell, where) ? truncMaskSplitCostM(n, f, ell) : truncMaskBitsCostM(n, ell));
/** Online part with a pre-made mask: one checked opening. */
export const truncOnlineCostM = (n: number): Cost => openCost(n);
/** truncM without a mask given: the mask, then the opening. */
export const truncCostM = (n: number, f: number, ell: number = TRUNC_ELL): Cost => addCost(truncMaskCostM(n, f, ell), truncOnlineCostM(n));

export function checkParams(s: MalSession, step: string, n: number, f: number, ell: number): void {
  const ctx = { party: s.party, step };
  assert(Number.isInteger(n) && n >= 1, 'E_SHAPE', `malicious.trunc: the number of elements must be a positive integer, got ${n}`, ctx);
  assert(Number.isInteger(ell) && ell >= 2 && ell <= MAX_TRUNC_ELL, 'E_BAD_ARGUMENT', `malicious.trunc: ell must be an integer in [2, ${MAX_TRUNC_ELL}] (ell + 1 mask bits within k = 64), got ${ell}`, ctx);
  assert(Number.isInteger(f) && f >= 1 && f <= ell - 1, 'E_BAD_ARGUMENT', `malicious.trunc: f must be an integer in [1, ell - 1] = [1, ${ell - 1}], got ${f}`, ctx);
}

/**
 * The mask's two weighted sums of its bit blocks (block i = elements i n .. i n + n),
 * local: rShift = sum_{f <= i < m} 2^(i - f) [b_i] and low = sum_{i < m} 2^i [b_i],
 * by Horner's rule from the top block down (acc = 2 acc + b_i: two additions
 * per block on the context's kernels, no shift), low continuing from rShift
 * (low = 2^f rShift + sum_{i < f} 2^i b_i): every block is read once.
 */
function weightedSums(bits: MShare, n: number, f: number, m: number, kernels: LocalKernels): { rShift: MShare; low: MShare } {
  const both = (v: Vec128): [Vec128, Vec128] => {
    const block = (i: number): Vec128 => v.subarray(4 * i * n, 4 * (i + 1) * n) as Vec128;
    const acc = block(m - 1).slice() as Vec128;
    const step = (i: number): void => {
      add128Kernels(kernels, acc, acc, acc);
      add128Kernels(kernels, acc, block(i), acc);
    };
    for (let i = m - 2; i >= f; i--) step(i);
    const high = acc.slice() as Vec128;
    for (let i = f - 1; i >= 0; i--) step(i);
    return [high, acc];
  };
  const [xa, xb, ma, mb] = [bits.x.a, bits.x.b, bits.m.a, bits.m.b].map(both) as [[Vec128, Vec128], [Vec128, Vec128], [Vec128, Vec128], [Vec128, Vec128]];
  return {
    rShift: { n, x: { a: xa[0], b: xb[0] }, m: { a: ma[0], b: mb[0] } },
    low: { n, x: { a: xa[1], b: xb[1] }, m: { a: ma[1], b: mb[1] } },
  };
}

/** The body of truncMaskM, without its own step: the maker usesSplitMask picks for where the mask is made. */
async function maskBody(s: MalSession, n: number, f: number, ell: number, where: MaskWhere = 'online'): Promise<TruncMask> {
  if (!usesSplitMask(n, f, ell, where)) return bitsMaskBody(s, n, f, ell);
  const { r, rShift, top } = await splitMask(s, n, f, ell);
  return { n, f, ell, r, rShift, top, used: false };
}

/** The mask from m random MACed bits (truncMaskBitsCostM): r = sum_i 2^i b_i + 2^m R. */
export async function bitsMaskBody(s: MalSession, n: number, f: number, ell: number): Promise<TruncMask> {
  const m = ell + 1, nb = m * n;
  // Pair bits for the m n mask bits and a random [R], MACed in one resharing (randbits.ts steps 1-2).
  const t = pairBits(s.ctx, nb);
  const R = randomRep(s.ctx, n);
  const macced = await macOfBody(s, concatReps([t, R]));
  const bits = await parityM(s, sliceM(macced, 0, nb)); // bit i of element e at i n + e
  const Rm = sliceM(macced, nb, nb + n);
  const { rShift, low } = weightedSums(bits, n, f, m, s.ctx.kernels);
  const r = addM(low, shlM(Rm, m), s.ctx.kernels);
  // top copied: a view would keep all m n bits alive as long as the mask (the pool counts materialBytes: n elements)
  return { n, f, ell, r, rShift, top: concatM([sliceM(bits, (m - 1) * n, m * n)]), used: false };
}

/** The request for the mask of a truncation (mask-source.ts: kind 'trunc', parameters f and ell). */
const maskRequest = (n: number, f: number, ell: number) => ({ kind: 'trunc', n, params: [f, ell] });
// The registered maker runs only in offline batches (mask-pool.ts): the offline choice; what a pooled run saves is
// the online (inline) mask's cost, which the run would have paid without the entry.
registerMaskMaker('trunc', (s, n, [f, ell]) => s.guard('mal.truncMask', () => maskBody(s, n, f!, ell!, 'offline')),
  (n, [f, ell]) => truncMaskCostM(n, f!, ell, 'offline'), (n, [f, ell]) => truncMaskCostM(n, f!, ell, 'online'));

/**
 * The input-independent mask of a truncation of n elements by f bits
 * (bound ell): can be made ahead of the input and passed to truncM. Its
 * values are verified by the batched MAC check. Taken from the session's
 * mask source when it has one (mask-source.ts). Cost truncMaskCostM(n, f, ell).
 */
export function truncMaskM(s: MalSession, n: number, f: number, ell: number = TRUNC_ELL): Promise<TruncMask> {
  return s.guard('mal.truncMask', async () => {
    checkParams(s, 'mal.truncMask', n, f, ell);
    return takeMask(s, maskRequest(n, f, ell), () => maskBody(s, n, f, ell));
  });
}

/** n copies of a public constant (mod 2^128) as a vector. */
export function constant(n: number, c: bigint): Vec128 {
  const out = alloc128(n);
  if (n === 0) return out;
  out.set(scalar128(c), 0);
  for (let have = 1; have < n; have *= 2) out.copyWithin(4 * have, 0, 4 * Math.min(have, n - have)); // doubling: log2 n copies
  return out;
}

/** [x] with the elements where keep[e] = 0 set to 0 (value and MAC shares): multiplication by a public 0/1 vector, local. Exported for cpu-cuts.test.ts (old-vs-new). */
export function keepWhere(x: MShare, keep: Uint8Array): MShare {
  const out = allocM(x.n);
  // Word copies where kept (out starts at 0): no fill() call per dropped element.
  const sel = (v: Vec128, o: Vec128): void => {
    for (let e = 0; e < x.n; e++) {
      if (!keep[e]) continue;
      const w = 4 * e;
      o[w] = v[w]!; o[w + 1] = v[w + 1]!; o[w + 2] = v[w + 2]!; o[w + 3] = v[w + 3]!;
    }
  };
  sel(x.x.a, out.x.a); sel(x.x.b, out.x.b); sel(x.m.a, out.m.a); sel(x.m.b, out.m.b);
  return out;
}

/** Step 3's public part: c' = (c mod 2^m) >> f as a vector, and 1 - c_{m-1} per element. Reads only the low m <= 64 bits of c. */
export function lowBits(c: Vec128, m: number, f: number): { cShift: Vec128; notTop: Uint8Array } {
  const n = len128(c);
  const cShift = alloc128(n), notTop = new Uint8Array(n);
  const hiMask = m < 64 && m > 32 ? 2 ** (m - 32) - 1 : 0xffffffff; // once, not per element
  for (let e = 0; e < n; e++) {
    let lo = c[4 * e]!, hi = c[4 * e + 1]!;
    if (m <= 32) { lo = m === 32 ? lo : lo & ((1 << m) - 1); hi = 0; } else if (m < 64) hi &= hiMask;
    const top = m - 1 < 32 ? (lo >>> (m - 1)) & 1 : (hi >>> (m - 33)) & 1;
    notTop[e] = 1 - top;
    if (f < 32) {
      cShift[4 * e] = ((lo >>> f) | (hi << (32 - f))) >>> 0;
      cShift[4 * e + 1] = hi >>> f;
    } else {
      cShift[4 * e] = hi >>> (f - 32);
    }
  }
  return { cShift, notTop };
}

/**
 * [x / 2^f] for signed x with |x| < 2^(ell-1): floor(x / 2^f) or one more
 * (probabilistic rounding; exact for multiples of 2^f). With `mask` (from
 * truncMaskM, same n, f, ell, unused) only the online opening runs; without
 * it the mask comes from the session's mask source (mask-source.ts) or is
 * made inline. Release
 * nothing derived from the result before macCheck. Cost truncCostM(n, f, ell),
 * or truncOnlineCostM(n) with a mask.
 */
export function truncM(s: MalSession, x: MShare, f: number, ell: number = TRUNC_ELL, mask?: TruncMask): Promise<MShare> {
  return s.guard('mal.trunc', async () => {
    checkParams(s, 'mal.trunc', x.n, f, ell);
    if (mask) {
      if (mask.n !== x.n || mask.f !== f || mask.ell !== ell) throw new MpcError('E_SHAPE', `malicious.trunc: the mask is for ${mask.n} elements, f = ${mask.f}, ell = ${mask.ell}; the call has ${x.n}, ${f}, ${ell}`, { party: s.party, step: 'mal.trunc' });
      if (mask.used) throw new MpcError('E_BAD_ARGUMENT', 'malicious.trunc: the mask was used before (a mask is used once: reuse would reveal a difference of inputs)', { party: s.party, step: 'mal.trunc' });
    }
    const mk = mask ?? await takeTruncMask(s, x.n, f, ell);
    mk.used = true;
    // Steps 1-2: c = x + 2^(ell-1) + r, opened (checked, logged for the MAC check).
    const c = await openBody(s, maskedForOpening(s, x, mk));
    return truncFinish(s, mk, c);
  });
}

/** A truncation's mask from the session's mask source, or made inline (no step of its own: the caller's). */
export function takeTruncMask(s: MalSession, n: number, f: number, ell: number): Promise<TruncMask> {
  return takeMask(s, maskRequest(n, f, ell), () => maskBody(s, n, f, ell));
}

/** Steps 1-2's local part: [x + 2^(ell-1) + r], the value opened as c. */
export function maskedForOpening(s: MalSession, x: MShare, mk: TruncMask): MShare {
  const y = addPublicM(s.party, s.alpha, x, constant(x.n, 1n << BigInt(mk.ell - 1)), s.ctx.kernels);
  return addM(y, mk.r, s.ctx.kernels);
}

/** Steps 3-4 (local) from the opened c: reads the low m = ell + 1 bits of c only. */
export function truncFinish(s: MalSession, mk: TruncMask, c: Vec128): MShare {
  const { n, f, ell } = mk, m = ell + 1;
  // Step 3: the low m bits of c only.
  const { cShift, notTop } = lowBits(c, m, f);
  const w = keepWhere(mk.top, notTop);
  // Step 4: z = c' - r' + 2^(m-f) w - 2^(ell-1-f).
  const pub = sub128(cShift, constant(n, 1n << BigInt(ell - 1 - f)), alloc128(n));
  return addPublicM(s.party, s.alpha, subM(shlM(w, m - f), mk.rShift, s.ctx.kernels), pub, s.ctx.kernels);
}
