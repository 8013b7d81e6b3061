/**
 * ReLU(max(x_X, x_Y)) for pairs of elements in the rounds of ONE direct
 * comparison (relu-direct.ts): a MaxPool pair pass fused with the ReLU that
 * the runner moves after the pool (ir-kit/deferred.ts). An optimisation of
 * ours built on SecureNN's Alg. 3 (PrivateCompare), not an algorithm of the
 * paper: the paper's ReLU (Alg. 8) and MaxPool (Alg. 9) run one after the other.
 *
 * Inputs: shares of the elements e (nE values) and, per pair k, two indices
 * X = iX[k], Y = iY[k] into e (pairs may share elements: the overlapping
 * windows of a stride-1 pool). Output per pair: h_k = max(ReLU(e_X), ReLU(e_Y))
 * = ReLU(max(e_X, e_Y)).
 *
 * Why it is correct. Run relu-direct's steps 1-3 on the nE elements and on the
 * nP differences d_k = e_Y - e_X together (one mask r, one opening, one
 * PrivateCompare over nE + nP values). For every compared value v = c - r
 * (c public to P0, P1; r and the bit z known to P2; b = c_msb XOR beta public
 * to P0, P1), relu-direct's step 5 gives DReLU(v) = 1 - (b XOR z), i.e.
 * DReLU(v) = s + t z with public s, t (b = 0: s = 1, t = -1; b = 1: s = 0, t = 1).
 * With delta_e = DReLU(e), gamma = DReLU(d) = [e_Y >= e_X], R_e = ReLU(e_e):
 *     h = R_X + gamma (R_Y - R_X)               (a tie selects e_Y = e_X: exact)
 *     R_e = s_e e_e + t_e (c_e z_e - w_e),       w_e = r_e z_e (relu-direct's ReLU)
 *     gamma (R_Y - R_X) = s' (R_Y - R_X) + t' (Z_Y - Z_X),   Z_e = z' R_e, and
 *     Z_e = s_e (c_e z' - z' r_e) + t_e (c_e z' z_e - z' r_e z_e)   (e_e = c_e - r_e).
 * Every term is a value public to P0, P1 times a value P2 knows after step 3
 * (z_e, w_e, z', z' z_e, z' r_e, z' r_e z_e): P2 deals shares of those in its
 * step-4 message, as relu-direct deals w = r z, and P0, P1 get shares of h
 * locally. So b' = 0: h = R_Y - (Z_Y - Z_X); b' = 1: h = R_X + (Z_Y - Z_X).
 *
 * Narrow ring (ctx.compareBits = 32): as relu-direct, exact while every
 * element and every difference is below 2^31 ring units in magnitude (the
 * unfused pass compares the same differences, and the ReLU the maxima: here
 * every element, whose magnitude is at most the largest input's). The
 * elements' c is opened in full (the products c_e z_e stay in Z_2^64), the
 * differences' c mod 2^32 only (only their bit is used).
 *
 * What each party sees: P0, P1: c of the elements (uniform: masked by r in
 * Z_2^64) and of the differences (uniform mod 2^32 or 2^64), and their shares
 * of the dealt values (P0's from the PRG it shares with P2, P1's the value
 * minus P0's: uniform); P2: the PrivateCompare messages (uniform with the
 * zero-sharing mask, beta' masked by beta), nothing of e.
 *
 * Steps:
 *  1. P2 deals r_0, r_1 through the PRGs for the nE + nP values and the Z_p digit (bit) shares of r' (P1's sent, or
 *     in a preprocessed bundle), and keeps r.
 *  2. P_j: d_j = e_Y,j - e_X,j; c_j = [e_j; d_j] + r_j; P0, P1 open c (elements in full, differences mod 2^32 on the
 *     narrow ring).
 *  3. F_PC({r'[i]_j}, c', beta): P2 learns beta' for all nE + nP values.
 *  4. P2: z = r_msb XOR beta'; shares of z_e, w_e (elements), z' and z' z_e, z' r_e, z' r_e z_e for e = X, Y (pairs)
 *     over Z_L; P1's sent in one message, P0's from the PRG with P2.
 *  5. P_j: b = c_msb XOR beta; R_e, Z_e, h as above.
 *
 * Cost: 3 rounds (relu-direct's). Bytes: the elements as relu-direct's ReLU (reluDirectCost(nE)), the differences as
 * its DReLU (dreluDirectCost(nP)) plus 6 dealt values of 8 bytes per pair: on the narrow ring in radix 4,
 * 112 nE + 144 nP. With a preprocessed bundle the digit shares (comparisonDealtBytes(nE + nP)) travel before the run.
 */
import type { PartyContext } from '../context.js';
import { assert } from '../errors.js';
import { selectByBit } from '../ring/ops.js';
import { borrowU64, borrowU8, giveBackU8, scratchU64, scratchU8 } from '../ring/scratch.js';
import { sendBufferU64 } from '../ring/send-pool.js';
import type { AShare, PShare, Public } from '../ring/types.js';
import { openLow32ToDataParties, openToDataParties } from '../sharing/open.js';
import { bytesU64 } from '../sharing/sharing.js';
import { flushSends, recvU64, recycleReceived, sendPooled } from '../transport/messages.js';
import type { Cost } from './cost.js';
import { drawNarrowPcRandomness, privateCompare } from './private-compare.js';
import { privateCompareRadix4, R4_DIGITS } from './private-compare-radix4.js';
import { comparisonDealtBytes, comparisonMaskJob, dreluDirectCost, low31, low31of32, low63, reluDirectCost, signBit, xorInto } from './relu-direct.js';

/** Bytes per pair beyond the difference's DReLU: the six dealt products z' z_e, z' r_e, z' r_e z_e (e = X, Y). */
export const PAIR_PRODUCT_BYTES = 6 * 8;

export const reluMaxPairsCost = (nE: number, nP: number, bits: 32 | 64 = 64, radix: 2 | 4 = 4): Cost =>
  ({ rounds: 3, bytes: reluDirectCost(nE, bits, radix).bytes + dreluDirectCost(nP, bits, radix).bytes + PAIR_PRODUCT_BYTES * nP });

/**
 * Reads of per-element arrays at one end of every pair (end 0: X, 1: Y). Consecutive pairs whose ends are
 * consecutive elements form runs (the runner's pair passes: one run per image or per row); with one run a read is a
 * view of the source (never written through), with few runs slice copies, else element by element.
 */
class PairEnds {
  private readonly runs: number[] | null;
  constructor(private readonly iX: Uint32Array, private readonly iY: Uint32Array) {
    const runs: number[] = [], n = iX.length;
    let q = 0;
    while (q < n && runs.length < 3 * Math.max(1, n >> 4)) {
      let t = q + 1;
      while (t < n && iX[t] === iX[t - 1]! + 1 && iY[t] === iY[t - 1]! + 1) t++;
      runs.push(iX[q]!, iY[q]!, t - q);
      q = t;
    }
    this.runs = q >= n ? runs : null;
  }
  /** src at `end` of every pair: a view (one run) or `out` filled. */
  at<T extends BigUint64Array | Uint8Array>(src: T, end: 0 | 1, out: () => T): T {
    const r = this.runs;
    if (r && r.length === 3) return src.subarray(r[end]!, r[end]! + r[2]!) as T;
    const o = out();
    if (r) {
      for (let i = 0, p = 0; i < r.length; i += 3) { o.set(src.subarray(r[i + end]!, r[i + end]! + r[i + 2]!) as never, p); p += r[i + 2]!; }
    } else if (src instanceof BigUint64Array) {
      const idx = end ? this.iY : this.iX;
      const w = new Uint32Array(src.buffer, src.byteOffset, 2 * src.length), ow = new Uint32Array(o.buffer, o.byteOffset, 2 * o.length);
      for (let q = 0; q < idx.length; q++) { const i = 2 * idx[q]!; ow[2 * q] = w[i]!; ow[2 * q + 1] = w[i + 1]!; }
    } else {
      const idx = end ? this.iY : this.iX;
      for (let q = 0; q < idx.length; q++) o[q] = src[idx[q]!]!;
    }
    return o;
  }
}

/**
 * P2's step 4 for one dealt value per element: out[q] = (bit[q] ? v[q] : 0) - out[q] over Z_2^64 (v null: the value
 * 1), where out holds P0's shares: P1's shares in place, on 32-bit words (no array of the values, no second pass).
 */
function correction(out: BigUint64Array, bit: Uint8Array, v: BigUint64Array | null): void {
  const o = new Uint32Array(out.buffer, out.byteOffset, 2 * out.length), w = v ? new Uint32Array(v.buffer, v.byteOffset, 2 * v.length) : null;
  for (let q = 0; q < bit.length; q++) {
    const m = -(bit[q]! & 1), i = 2 * q;
    const lo = (w ? w[i]! & m : m & 1) >>> 0, hi = (w ? w[i + 1]! & m : 0) >>> 0, plo = o[i]!;
    o[i] = (lo - plo) >>> 0;
    o[i + 1] = (hi - o[i + 1]! - (lo < plo ? 1 : 0)) >>> 0;
  }
}

/** Length of P2's step-4 message (u64 values): z_E, w_E, z', then (z' z_e, z' r_e, z' r_e z_e) for e = X, then Y. */
const zwLength = (nE: number, nP: number): number => 2 * nE + 7 * nP;

/**
 * P0, P1: shares of ReLU(max(e[iX[k]], e[iY[k]])) for every k (a fresh array of iX.length values).
 * P2: pass its placeholder e (only its length is read); returns a placeholder.
 */
export function reluMaxOfPairs(ctx: PartyContext, e: AShare, iX: Uint32Array, iY: Uint32Array, label = 'relumax'): Promise<AShare> {
  return ctx.step('ReLU+MaxPool', () => core(ctx, e, iX, iY, label));
}

async function core(ctx: PartyContext, e: AShare, iX: Uint32Array, iY: Uint32Array, label: string): Promise<AShare> {
  const k = ctx.kernels;
  const nE = e.length, nP = iX.length, n = nE + nP;
  assert(iY.length === nP, 'E_SHAPE', `${label}: ${nP} first and ${iY.length} second indices`, { party: ctx.party, step: label });
  let inside = true;
  for (let q = 0; q < nP; q++) inside &&= iX[q]! < nE && iY[q]! < nE;
  assert(inside, 'E_SHAPE', `${label}: a pair indexes past the ${nE} elements`, { party: ctx.party, step: label });
  const ends = new PairEnds(iX, iY);
  const narrow = ctx.compareBits === 32, width = narrow ? 32 : 64;
  const r4 = narrow && ctx.compareRadix === 4;
  const dealt = comparisonDealtBytes(1, width, ctx.compareRadix);
  const L = zwLength(nE, nP);
  // Step 2's differences d = e_Y - e_X (P2: zero placeholders); the compared values are [e; d]. Read before the
  // first await (the sentinel copies its sample): a scratch buffer.
  const a = scratchU64('rmp.a', n);
  const d = a.subarray(nE);
  if (ctx.party !== 2) {
    a.set(e);
    k.sub(ends.at(e, 1, () => scratchU64('rmp.e1', nP)), ends.at(e, 0, () => scratchU64('rmp.e0', nP)), d);
  } else new Uint8Array(a.buffer, a.byteOffset, a.byteLength).fill(0);
  // The range sentinel's sample of the values compared on the 32-bit ring (range-sentinel.ts; every party, P2 its count).
  if (narrow) { ctx.compareSampler?.collect(a.subarray(0, nE)); ctx.compareSampler?.collect(d); }
  if (ctx.party === 2) return atP2(ctx, nE, ends, nP, label, narrow, r4);
  const j = ctx.party;
  const g2 = ctx.pairPrg(2), g01 = ctx.pairPrg(j === 0 ? 1 : 0), d2 = ctx.dealer.prg(2);
  // Steps 1-2: r_j from the dealing PRG shared with P2 (the job's order: r, then the digit shares), c_j = a_j + r_j.
  const cj = d2.u64Into(new BigUint64Array(n));
  k.add(a, cj, cj);
  const beta = g01.bits(n);
  // As relu-direct: P0 draws its digit shares and PrivateCompare's common randomness before the opening, P1 after
  // its c is on the wire (same PRG order either way).
  const xb0 = j === 0 ? (narrow ? d2.zpInto(borrowU8(n * dealt)) : d2.zp(n * dealt)) : null;
  let pre = j === 0 && narrow ? drawNarrowPcRandomness(ctx, n, r4 ? R4_DIGITS : 32) : undefined;
  // Narrow: the elements' c in full (c_e z_e stays in Z_2^64), the differences' mod 2^32 (two messages, one round).
  const openE = openToDataParties(ctx, `${label}:c`, narrow ? cj.subarray(0, nE) : cj);
  const openD = narrow ? openLow32ToDataParties(ctx, `${label}:cd`, cj.subarray(nE)) : null;
  // Both awaited below, one after the other: a failure of either (a closed run, a desync) while this party waits for
  // the other, or during P1's flush, must not be an unhandled rejection, which ends a party process (relu-direct.ts).
  openE.catch(() => undefined);
  openD?.catch(() => undefined);
  if (j === 1) {
    const flushed = flushSends(ctx, 'drained');
    if (flushed) await flushed;
    if (narrow) pre = drawNarrowPcRandomness(ctx, n, r4 ? R4_DIGITS : 32);
  }
  const c = await openE;
  const c32 = openD ? await openD : null;
  const xb = xb0 ?? await ctx.dealer.take(`${label}:xbits`, n * dealt);
  // Step 3 on c' (c mod 2^31, or mod 2^63): read by the kernel before PrivateCompare's first await (scratch).
  let cPub: BigUint64Array;
  if (narrow) {
    cPub = scratchU64('rmp.c31', n);
    low31(c, cPub.subarray(0, nE));
    low31of32(c32!, cPub.subarray(nE));
  } else cPub = low63(c);
  if (r4) await privateCompareRadix4(ctx, n, xb, cPub as Public, beta, `${label}.pc`, pre);
  else await privateCompare(ctx, n, xb as PShare, cPub as Public, beta, `${label}.pc`, width, pre);
  if (j === 0 && narrow) giveBackU8(xb);
  const flushedD = flushSends(ctx, j === 0 ? 'drained' : 'turn');
  if (flushedD) await flushedD;
  if (j === 1) recycleReceived(ctx, xb);
  // Step 5's b = c_msb XOR beta (bit 31 of the low word on the narrow ring, else bit 63), in place of beta.
  const b = beta;
  const cw = new Uint32Array(c.buffer, c.byteOffset, 2 * c.length), hi = narrow ? 0 : 1;
  for (let i = 0; i < nE; i++) b[i]! ^= cw[2 * i + hi]! >>> 31;
  if (c32) for (let q = 0; q < nP; q++) b[nE + q]! ^= c32[q]! >>> 31;
  else for (let q = 0; q < nP; q++) b[nE + q]! ^= cw[2 * (nE + q) + 1]! >>> 31;
  // Step 4: P0's shares from the PRG with P2 (read only below, after the last await: scratch), P1's in P2's message.
  const zw = j === 0 ? g2.u64Into(scratchU64('rmp.zw', L)) : await recvU64(ctx, 2, `${label}:zw`, L);
  const out = fusedOutputs(ctx, e, c.subarray(0, nE), b, zw, ends, nP);
  if (j === 1) recycleReceived(ctx, zw, c, ...(c32 ? [c32] : []));
  return out;
}

/** Step 5 at P0, P1 (synchronous: temporaries in scratch buffers): R_e for the elements, Z_e at both ends of every pair, then h. */
function fusedOutputs(ctx: PartyContext, e: BigUint64Array, cE: BigUint64Array, b: Uint8Array, zw: BigUint64Array, ends: PairEnds, nP: number): AShare {
  const k = ctx.kernels;
  const nE = e.length;
  const part = (o: number, len: number) => zw.subarray(o, o + len);
  const zE = part(0, nE), wE = part(nE, nE), zD = part(2 * nE, nP);
  const bE = b.subarray(0, nE), bD = b.subarray(nE);
  // R_e = b_e ? (c z - w) : e - (c z - w)  (relu-direct's ReLU).
  const az = scratchU64('rmp.az', nE), R = scratchU64('rmp.R', nE);
  k.mul(cE, zE, az);
  k.sub(az, wE, az);
  k.sub(e, az, R);
  selectByBit(bE, az, R, R);
  // Z_e: t1 = c_e z' z_e - z' r_e z_e (b_e = 1); t0 = c_e z' - z' r_e - t1 (b_e = 0).
  const Z = ([0, 1] as const).map((end) => {
    const o = 2 * nE + (end ? 4 : 1) * nP;
    const ce = ends.at(cE, end, () => scratchU64(`rmp.ce${end}`, nP)), be = ends.at(bE, end, () => scratchU8(`rmp.be${end}`, nP));
    const t1 = scratchU64(`rmp.t1${end}`, nP), t0 = scratchU64('rmp.t0', nP);
    k.mul(ce, part(o, nP), t1);
    k.sub(t1, part(o + 2 * nP, nP), t1);
    k.mul(ce, zD, t0);
    k.sub(t0, part(o + nP, nP), t0);
    k.sub(t0, t1, t0);
    selectByBit(be, t1, t0, t1);
    return t1;
  });
  // dz = Z_Y - Z_X; h = b' ? R_X + dz : R_Y - dz.
  const dz = Z[1]!, up = Z[0]!;
  k.sub(dz, up, dz);
  k.add(ends.at(R, 0, () => scratchU64('rmp.r0', nP)), dz, up);
  k.sub(ends.at(R, 1, () => scratchU64('rmp.r1', nP)), dz, dz);
  const h = new BigUint64Array(nP);
  selectByBit(bD, up, dz, h);
  return h as AShare;
}

/** P2: steps 1, 3, 4. */
async function atP2(ctx: PartyContext, nE: number, ends: PairEnds, nP: number, label: string, narrow: boolean, r4: boolean): Promise<AShare> {
  const n = nE + nP;
  // Step 1 (ctx.dealer: now, or from a bundle made before the run): P2 keeps all of r (w_e and the products need r_e).
  const kept = ctx.dealer.deal(`${label}:xbits`, comparisonMaskJob(n, narrow, r4, true));
  assert(kept.length === 8 * n, 'E_PROTOCOL_DESYNC', `${label}: the dealt mask has ${kept.length} bytes, the step needs ${8 * n}`, { party: 2, step: label });
  const r = bytesU64(kept);
  const z = signBit(r, narrow);
  const rE = r.subarray(0, nE);
  // What does not depend on beta', while the PrivateCompare messages are on their way: P0's shares of step 4 and
  // r_e at both ends of every pair (views of r, or lent buffers: they live across the await).
  const msg = sendBufferU64(zwLength(nE, nP));
  ctx.pairPrg(0).u64Into(msg);
  const lent: BigUint64Array[] = [];
  const re = ([0, 1] as const).map((end) => ends.at(rE, end, () => { const v = borrowU64(nP); lent.push(v); return v; }));
  // Step 3.
  const betaP = (r4 ? await privateCompareRadix4(ctx, n, null, null, null, `${label}.pc`) : await privateCompare(ctx, n, null, null, null, `${label}.pc`, narrow ? 32 : 64))!;
  // Step 4 (synchronous from here: scratch buffers): z = r_msb XOR beta'; P1's share of each value, written over P0's.
  xorInto(z, betaP);
  const zE = z.subarray(0, nE), zD = z.subarray(nE);
  const part = (o: number, len: number) => msg.subarray(o, o + len);
  correction(part(0, nE), zE, null);
  correction(part(nE, nE), zE, rE);
  correction(part(2 * nE, nP), zD, null);
  const both = scratchU8('rmp.both', nP);
  for (const end of [0, 1] as const) {
    const o = 2 * nE + (end ? 4 : 1) * nP;
    const ze = ends.at(zE, end, () => scratchU8('rmp.ze', nP));
    for (let q = 0; q < nP; q++) both[q] = ze[q]! & zD[q]!;
    correction(part(o, nP), both, null);
    correction(part(o + nP, nP), zD, re[end]!);
    correction(part(o + 2 * nP, nP), both, re[end]!);
  }
  if (lent.length) giveBackU8(...lent);
  sendPooled(ctx, 1, `${label}:zw`, msg);
  return new BigUint64Array(nP) as AShare;
}
