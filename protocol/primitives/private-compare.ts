/**
 * SecureNN Algorithm 3, PrivateCompare (F_PC).
 *
 * P0 and P1 hold shares over Z_p (p = 67) of the bits x[i] of a value x that
 * neither knows, a public l-bit r they both know, and a common random bit
 * beta. P2 learns beta' = beta XOR (x > r) and nothing else; P0, P1 learn
 * nothing.
 *
 * Steps:
 *  1. t = r + 1 mod 2^l.
 *  2-5. For each bit i (from the most significant), P_j computes w_i^j and
 *     c_i^j (three cases: beta = 0; beta = 1 and r != 2^l - 1; beta = 1 and
 *     r = 2^l - 1), see RingKernels.privateCompare for the formulas.
 *  6. P_j sends d_i^j = s_i c_i^j, permuted by the common random permutation
 *     pi, to P2 (s_i uniform in Z_p^*, common to P0 and P1).
 *     pi is a uniformly random rotation of the 64 positions: it suffices,
 *     because every d_i = s_i c_i with c_i != 0 is uniform on Z_p^* and
 *     independent of the rest, so the only information in the vector is the
 *     position of its zero (if any), which a random rotation makes uniform.
 *     (Drawing 6 bits per element instead of a full permutation.)
 *     Deviation from the paper (a fix): d_i^0 and d_i^1 carry the same s_i,
 *     so P2 could divide one by the other, cancel s_i and learn c_i^0 / c_i^1,
 *     a function of r's bits given the bit shares P2 dealt itself. P0 and P1
 *     therefore also add common random shares of zero over Z_p (P0 adds m_i,
 *     P1 subtracts it): the sum d_i is unchanged and each d_i^j alone is
 *     uniform. No extra communication. (protocol/privacy/view.test.ts checks
 *     P2's view on two inputs.)
 *  7. P2 reconstructs d_i = d_i^0 + d_i^1 and sets beta' = 1 iff some d_i = 0.
 * Common randomness (beta is the caller's; s, pi, u) comes from the P0-P1 PRG.
 *
 * Width. `width` = 64 (default) compares l = 64-bit values as the paper
 * does. `width` = 32 (narrow, used by relu-direct.ts with a 32-bit
 * comparison ring) compares x, r < 2^31 on 32 positions: the kernels still
 * run 64-position rows, whose positions 32..63 hold x_i = 0 (public), r_i =
 * 0 (also t_i = 0: t = r + 1 <= 2^31 fits in position 31), so w_i = 0 and
 * c_i = 1 there (c_i = j + 0 for each share: 0 + 1): never zero, and they add
 * nothing to the suffix sums of positions 0..31. Those positions are not
 * sent: the rotation pi runs over positions 0..31 only, P0 and P1 send the
 * 32 rotated d_i per element, and P2 tests the 32 sums. The fused kernels
 * (privateCompare32, zeroTest32) compute only positions 0..31; they equal
 * the padded 64-position kernels byte for byte (kernels/narrow.ts, tested).
 * Same output, half the Z_p randomness, traffic and kernel work.
 *
 * Cost: 1 round, 2 * width * 8 bits per element (each Z_p element travels as
 * a byte, so the paper's 2 l log p with log p rounded up to 8).
 */
import type { PartyContext } from '../context.js';
import { assert } from '../errors.js';
import { L_BITS, type PShare, type Public } from '../ring/types.js';
import { allBelow2p31 } from '../kernels/narrow.js';
import { borrowU8, giveBackU8, scratchU8 } from '../ring/scratch.js';
import { recvBytes, recycleReceived, sendBytes, sendPooled } from '../transport/messages.js';
import { sendBufferU8 } from '../ring/send-pool.js';
import type { Cost } from './cost.js';

const ROTATIONS = Array.from({ length: L_BITS }, (_, r) => Uint8Array.from({ length: L_BITS }, (_, i) => (i + r) % L_BITS));
/** The permutation arrays (pi(i) = i + rot mod 64) the kernel takes, one row per element. */
function rotationPerms(rot: Uint8Array): Uint8Array {
  const perm = new Uint8Array(rot.length * L_BITS);
  for (let e = 0; e < rot.length; e++) perm.set(ROTATIONS[rot[e]!]!, e * L_BITS);
  return perm;
}

/** Comparison width: 64 (the paper's l) or 32 (values < 2^31, see the header). */
export type PcWidth = 32 | 64;

export const privateCompareCost = (n: number, width: PcWidth = 64): Cost => ({ rounds: 1, bytes: 2 * width * n });

/**
 * Step 7 at P2: receive d^0 and d^1 (`per` Z_p values per element) and set beta'[e] = 1 iff some d_i^0 + d_i^1 = 0
 * in row e (`zeroTest`: the kernel of that row width). Shared by this file's widths and private-compare-radix4.ts.
 */
export async function zeroTestAtP2(ctx: PartyContext, tag: string, n: number, per: number, zeroTest: (d0: Uint8Array, d1: Uint8Array, out: Uint8Array) => void): Promise<Uint8Array> {
  const d0 = await recvBytes(ctx, 0, tag, n * per);
  const d1 = await recvBytes(ctx, 1, tag, n * per);
  const betaPrime = new Uint8Array(n);
  zeroTest(d0, d1, betaPrime);
  // d0 and d1 are read by the kernel alone: their buffers may serve the next messages (Transport.recycle).
  recycleReceived(ctx, d0, d1);
  return betaPrime;
}

/**
 * P0/P1: pass xBits (n*64 Z_p shares, bit 0 first; width 32: n*32, and every
 * r < 2^31), r and beta; returns null.
 * P2: pass n (the other arguments are ignored); returns beta' (n bits).
 */
export async function privateCompare(ctx: PartyContext, n: number, xBits: PShare | null, r: Public | null, beta: Uint8Array | null, label = 'pc', width: PcWidth = 64, pre?: NarrowPcRandomness): Promise<Uint8Array | null> {
  return ctx.step('PrivateCompare', () => (width === 64 ? privateCompareBody(ctx, n, xBits, r, beta, label) : privateCompareNarrow(ctx, n, xBits, r, beta, label, pre)));
}

/** Width 32 (see the header): fused 32-position kernels (RingKernels.privateCompare32 / zeroTest32). */
async function privateCompareNarrow(ctx: PartyContext, n: number, xBits: PShare | null, r: Public | null, beta: Uint8Array | null, label: string, pre?: NarrowPcRandomness): Promise<Uint8Array | null> {
  const tag = `${label}:d`;
  // Step 7 over the 32 positions sent.
  if (ctx.party === 2) return zeroTestAtP2(ctx, tag, n, 32, (d0, d1, out) => ctx.kernels.zeroTest32(d0, d1, out));
  assert(xBits && r && beta && xBits.length === n * 32 && r.length === n && beta.length === n, 'E_SHAPE', `privateCompare: inputs do not match n = ${n} (width 32)`, { party: ctx.party, step: label });
  assert(allBelow2p31(r), 'E_BAD_ARGUMENT', 'privateCompare: width 32 needs every r < 2^31', { party: ctx.party, step: label });
  // Steps 1-6, the rotation pi (5 bits, positions 0..31) and the zero-sharing mask in one kernel (r < 2^31: never the r = 2^64 - 1 case).
  sendNarrowD(ctx, n, 32, tag, (s, rot, mask, d) => ctx.kernels.privateCompare32(ctx.party as 0 | 1, xBits, r, beta, s, rot, mask, d), pre);
  return null;
}

/** Step 6's common randomness on the 32-bit ring, drawn ahead (drawNarrowPcRandomness): lent buffers, handed back after use. */
export interface NarrowPcRandomness { n: number; per: number; s: Uint8Array; rot: Uint8Array; mask: Uint8Array }

/**
 * The common randomness sendNarrowD draws (from the P0-P1 PRG, in the same order: s_i in Z_p^*, the rotation,
 * the zero-sharing mask), drawn before the value compared is known: relu-direct.ts draws it while the opened c is
 * on its way. It lives across that await, so it is in lent buffers (ring/scratch.ts borrowU8), not scratch slots;
 * sendNarrowD hands them back. Nothing else may draw from that PRG between this call and sendNarrowD's.
 */
export function drawNarrowPcRandomness(ctx: PartyContext, n: number, per: number): NarrowPcRandomness {
  const g = ctx.pairPrg(ctx.party === 0 ? 1 : 0);
  const s = g.zpStarInto(borrowU8(n * per));
  const rot = g.rotations64(n);
  const mask = g.zpInto(borrowU8(n * per));
  return { n, per, s, rot, mask };
}

/**
 * Steps 1-6 on the 32-bit ring at P0/P1 (width 32 here, private-compare-radix4.ts): the common randomness
 * from the P0-P1 PRG (s_i in Z_p^*, the rotation, the zero-sharing mask; `per` values per element but the
 * rotation's one; read only by the kernel, before any await: scratch buffers, ring/scratch.ts), or `pre`, the
 * same drawn ahead (drawNarrowPcRandomness; given back here), then the kernel's d (`per` per element), sent to P2.
 */
export function sendNarrowD(ctx: PartyContext, n: number, per: number, tag: string, kernel: (s: Uint8Array, rot: Uint8Array, mask: Uint8Array, d: Uint8Array) => void, pre?: NarrowPcRandomness): void {
  if (pre) assert(pre.n === n && pre.per === per, 'E_SHAPE', `${tag}: randomness drawn for ${pre.n} x ${pre.per}, the step has ${n} x ${per}`, { party: ctx.party, step: tag });
  const g = pre ? null : ctx.pairPrg(ctx.party === 0 ? 1 : 0);
  const s = pre ? pre.s : g!.zpStarInto(scratchU8('pc.s', n * per));
  const rot = pre ? pre.rot : g!.rotations64(n);
  const mask = pre ? pre.mask : g!.zpInto(scratchU8('pc.mask', n * per));
  // A send buffer (ring/send-pool.ts): the kernel writes every byte of d.
  const d = sendBufferU8(n * per);
  kernel(s, rot, mask, d);
  if (pre) giveBackU8(pre.s, pre.mask);
  sendPooled(ctx, 2, tag, d);
}

async function privateCompareBody(ctx: PartyContext, n: number, xBits: PShare | null, r: Public | null, beta: Uint8Array | null, label = 'pc'): Promise<Uint8Array | null> {
  const tag = `${label}:d`;
  // Step 7.
  if (ctx.party === 2) return zeroTestAtP2(ctx, tag, n, L_BITS, (d0, d1, out) => ctx.kernels.zeroTest(d0, d1, out));
  assert(xBits && r && beta && xBits.length === n * L_BITS && r.length === n && beta.length === n, 'E_SHAPE', `privateCompare: inputs do not match n = ${n}`, { party: ctx.party, step: label });
  const g = ctx.pairPrg(ctx.party === 0 ? 1 : 0);
  // Common randomness: s_i in Z_p^*, permutation pi per element, u for the r = 2^l - 1 case.
  const s = g.zpStar(n * L_BITS);
  const perm = rotationPerms(g.rotations64(n));
  const rw = new Uint32Array(r.buffer, r.byteOffset, 2 * n);
  let special = false;
  for (let e = 0; e < n && !special; e++) special = beta[e] === 1 && rw[2 * e] === 0xffffffff && rw[2 * e + 1] === 0xffffffff;
  const u = special ? g.zp(n * L_BITS) : null;
  const mask = g.zp(n * L_BITS);
  // Steps 1-6.
  const d = new Uint8Array(n * L_BITS);
  ctx.kernels.privateCompare(ctx.party, xBits, r, beta, s, u, perm, d);
  // Re-randomise with shares of zero: P0 adds m_i, P1 subtracts it (mod p).
  ctx.kernels.maskZp(d, mask, ctx.party === 1);
  sendBytes(ctx, 2, tag, d);
  return null;
}
