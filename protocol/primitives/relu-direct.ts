/**
 * DReLU and ReLU directly over Z_2^64 with one 63-bit PrivateCompare: an
 * optimisation of SecureNN's Alg. 6/7 (not an algorithm of the paper), used
 * by the layer runner by default; drelu.ts / relu.ts keep the paper's
 * ShareConvert + ComputeMSB route and are tested the same way.
 *
 * Why it is correct. P2 knows r = r_0 + r_1 (both shares come from PRGs it
 * shares with P0 and P1), P0 and P1 open c = a + r. Write c = c_63 2^63 + c',
 * r = r_63 2^63 + r' with c', r' < 2^63. Then a = c - r, and the subtraction
 * of the low 63 bits borrows exactly when r' > c', so
 *     MSB(a) = c_63 XOR r_63 XOR (r' > c').
 * F_PC (Alg. 3) on the bits of r' (dealt by P2) against the public c' with a
 * common random beta gives P2 beta' = beta XOR (r' > c'), so with
 * z = r_63 XOR beta' (known to P2) and b = c_63 XOR beta (known to P0, P1):
 *     MSB(a) = b XOR z,  DReLU(a) = 1 - (b XOR z).
 * For ReLU, a DReLU(a) = (b ? a z : a - a z), and a z is linear in shares once
 * P2 also deals shares of w = r z: P2 knows r and z, P0 and P1 know c = a + r
 * in full, so a z = (c - r) z = c z - w, i.e. (a z)_j = c z_j - w_j. (An
 * optimisation of ours; an earlier version had P0, P1 send a + m to P2 for
 * w = z (a + m), 16 bytes more into P2 per element.)
 * Unlike drelu.ts this is exact for every a in Z_2^64 (no |a| < 2^62 bound).
 *
 * What each party sees: P0, P1: c (uniform, masked by r), their shares of
 * z, w (uniform); P2: the PrivateCompare messages (uniform with the
 * zero-sharing mask, beta' masked by beta), nothing of a.
 *
 * Steps:
 *  1. P2 deals r_0, r_1 through the PRGs (no message), the bits of r' over Z_p (P1's share sent).
 *  2. P_j: c_j = a_j + r_j; P0, P1 open c.
 *  3. F_PC({r'[i]_j}, c', beta): P2 learns beta'.
 *  4. P2: z = r_63 XOR beta', shares z (ReLU: and w = r z) over Z_L, sends P1's.
 *  5. P_j: b = c_63 XOR beta; DReLU_j = j - (b ? j - z_j : z_j); ReLU_j = b ? (a z)_j : a_j - (a z)_j
 *     with (a z)_j = c z_j - w_j.
 *
 * Narrow ring (ctx.compareBits = 32). For |a| < 2^31 the sign of a is bit
 * 31 of a mod 2^32, and additive shares mod 2^64 reduce to shares mod 2^32
 * locally. With c and r read mod 2^32 (c = c_31 2^31 + c', r = r_31 2^31 +
 * r', c', r' < 2^31) the same derivation gives MSB_32(a) = c_31 XOR r_31
 * XOR (r' > c'), with a 31-bit PrivateCompare over 32 positions
 * (private-compare.ts, width 32). Exact for every |a| < 2^31 ring units
 * (2^(31-f) real); outside that range the sign is wrong. For DReLU only c
 * mod 2^32 is opened (openLow32ToDataParties: uniform, r mod 2^32 is), 4
 * bytes each way; ReLU opens all of c (8 bytes each way), since its product
 * a z = c z - r z stays in Z_2^64.
 *
 * Radix 4 (ctx.compareRadix = 4, the default on the narrow ring): step 1 deals
 * shares of the prefix indicators of r''s 16 radix-4 digits (48 Z_p values)
 * and step 3 runs private-compare-radix4.ts (16 values per data party):
 * 48 + 8 + 32 + 8 = 96 bytes for DReLU, 48 + 16 + 32 + 16 = 112 for ReLU.
 *
 * Cost: 3 rounds. Bytes per element: 64 (bits of r') + 16 (open c) + 128
 * (PrivateCompare) + 8 (z) = 216 for DReLU; plus 8 (w) = 224 for ReLU.
 * Narrow ring: 32 + 8 (open c mod 2^32) + 64 + 8 = 112 for DReLU; ReLU
 * 32 + 16 (open c) + 64 + 16 = 128.
 * With a preprocessed bundle (correlated/dealer.ts) the bits of r' (64, narrow
 * 32 bytes: comparisonDealtBytes) travel before the run, not in it; rounds unchanged.
 */
import type { PartyContext } from '../context.js';
import { L_BITS, type AShare, type PShare, type Public } from '../ring/types.js';
import { bitsToU64, keepWhereBit, msb, selectByBit } from '../ring/ops.js';
import { borrowU8, giveBackU8, scratchU64, scratchU8 } from '../ring/scratch.js';
import { openLow32ToDataParties, openToDataParties } from '../sharing/open.js';
import { bytesU64, u64Bytes } from '../sharing/sharing.js';
import { flushSends, recvU64, recycleReceived, sendPooled } from '../transport/messages.js';
import { sendBufferU64, sendBufferU8 } from '../ring/send-pool.js';
import type { DealJob } from '../correlated/dealer.js';
import { assert } from '../errors.js';
import type { Cost } from './cost.js';
import { drawNarrowPcRandomness, privateCompare } from './private-compare.js';
import { privateCompareRadix4, R4_DEALT, R4_DIGITS } from './private-compare-radix4.js';

/** Bytes per element to open c: 8 each way, 4 each way on the 32-bit ring for DReLU (ReLU opens all of c). */
const openC = (bits: 32 | 64, relu: boolean): number => (bits === 64 || relu ? 16 : 8);
/** radix: digits of the narrow ring's PrivateCompare (ctx.compareRadix; ignored for 64 bits). */
export const dreluDirectCost = (n: number, bits: 32 | 64 = 64, radix: 2 | 4 = 4): Cost => ({ rounds: 3, bytes: (dealtPerElement(bits, radix) + pcBytes(bits, radix) + openC(bits, false) + 8) * n });
export const reluDirectCost = (n: number, bits: 32 | 64 = 64, radix: 2 | 4 = 4): Cost => ({ rounds: 3, bytes: (dealtPerElement(bits, radix) + pcBytes(bits, radix) + openC(bits, true) + 8 + 8) * n });

/** Z_p shares dealt per element: the bits of r' (64, narrow 32), or 48 for radix-4 digits on the narrow ring. */
const dealtPerElement = (bits: 32 | 64, radix: 2 | 4): number => (bits === 64 ? L_BITS : radix === 4 ? R4_DEALT : 32);
/** PrivateCompare bytes per element (both data parties to P2). */
const pcBytes = (bits: 32 | 64, radix: 2 | 4): number => (bits === 64 ? 2 * L_BITS : radix === 4 ? 2 * R4_DIGITS : 64);
/** Bytes of step 1 (P1's shares of r'), the part a preprocessed bundle sends ahead. */
export const comparisonDealtBytes = (n: number, bits: 32 | 64 = 64, radix: 2 | 4 = 4): number => dealtPerElement(bits, radix) * n;

const LOW31 = 0x7fffffff;
/** a with only bits 0..30 kept, into out. */
export function low31(a: BigUint64Array, out: BigUint64Array): BigUint64Array {
  const w = new Uint32Array(a.buffer, a.byteOffset, 2 * a.length), o = new Uint32Array(out.buffer, out.byteOffset, 2 * out.length);
  for (let i = 0; i < a.length; i++) { o[2 * i] = w[2 * i]! & LOW31; o[2 * i + 1] = 0; }
  return out;
}
/** Bit 31 of each element. */
function bit31(a: BigUint64Array): Uint8Array {
  const out = new Uint8Array(a.length);
  const w = new Uint32Array(a.buffer, a.byteOffset, 2 * a.length);
  for (let i = 0; i < a.length; i++) out[i] = w[2 * i]! >>> 31;
  return out;
}
/** The compared sign bit of each element: bit 63, or bit 31 on the narrow ring. */
export const signBit = (a: BigUint64Array, narrow: boolean): Uint8Array => (narrow ? bit31(a) : msb(a));

/** a[i] ^= b[i] for every byte, four bytes per step where both views are 4-byte aligned. */
export function xorInto(a: Uint8Array, b: Uint8Array): void {
  let i = 0;
  if ((a.byteOffset & 3) === 0 && (b.byteOffset & 3) === 0) {
    const words = a.length >>> 2, wa = new Uint32Array(a.buffer, a.byteOffset, words), wb = new Uint32Array(b.buffer, b.byteOffset, words);
    for (let k = 0; k < words; k++) wa[k]! ^= wb[k]!;
    i = 4 * words;
  }
  for (; i < a.length; i++) a[i]! ^= b[i]!;
}

/** c' = c mod 2^31 as u64 values, from c mod 2^32, into out. */
export function low31of32(c: Uint32Array, out: BigUint64Array): BigUint64Array {
  const o = new Uint32Array(out.buffer, out.byteOffset, 2 * out.length);
  for (let i = 0; i < c.length; i++) { o[2 * i] = c[i]! & LOW31; o[2 * i + 1] = 0; }
  return out;
}
/** Copy of a with bit 63 cleared (word operation). */
export function low63(a: BigUint64Array): BigUint64Array {
  const out = a.slice();
  const w = new Uint32Array(out.buffer);
  for (let i = 1; i < w.length; i += 2) w[i]! &= 0x7fffffff;
  return out;
}

/**
 * Step 1 as P2 deals it (correlated/dealer.ts): r = r_0 + r_1 from the dealing PRGs, the Z_p bit shares of
 * r' (P0's from the PRG, P1's returned to send), and what step 4 needs kept: z = r_63 (narrow: r_31) one
 * byte per element, or for ReLU (keepR) all of r, 8 bytes per element (w = r z).
 */
export function comparisonMaskJob(n: number, narrow: boolean, radix4 = false, keepR = false): DealJob {
  const per = dealtPerElement(narrow ? 32 : 64, radix4 ? 4 : 2);
  return {
    bytesToP1: n * per,
    run(k, g0, g1) {
      const r = keepR ? g0.u64(n) : g0.u64Into(scratchU64('relu.p2.r', n));
      k.add(r, g1.u64Into(scratchU64('relu.p2.r1', n)), r);
      // DReLU's step 4 needs only r_63 (narrow: r_31): one byte per element, taken now so that r is scratch.
      const keep = keepR ? u64Bytes(r) : signBit(r, narrow);
      // Sent (or put in a bundle): a send buffer (ring/send-pool.ts), every byte written by the kernel below.
      const xb1 = sendBufferU8(n * per);
      if (narrow) {
        // r' = r mod 2^31: the prefix indicators of its 16 radix-4 digits (private-compare-radix4.ts), or its bits on 32 positions.
        const low = low31(r, scratchU64('relu.p2.low', n)), p0 = g0.zpInto(scratchU8('relu.p2.rb', n * per));
        if (radix4) k.digitShareZp16(low, p0, xb1);
        else k.bitShareZp32(low, p0, xb1);
      } else k.bitShareZp(low63(r), g0.zp(n * L_BITS), xb1);
      return { toP1: xb1, keep };
    },
  };
}

/**
 * What a ReLU's step 4 carries for the product that consumes it (relu-dense.ts): P2 appends `words` more words to
 * P1's (z, w) message (P0 draws its share of them from the PRG it shares with P2, after z_0 and w_0), and P0 and P1
 * finish with them instead of returning ReLU's shares. prepare, deal (P2): the values to share; finish (P0, P1):
 * from this party's ReLU share x, b (1: ReLU = a z), the opened c and its share t of the dealt words.
 */
export interface ReluTail {
  readonly words: number;
  readonly tag: string;
  /** P2, before step 3 (off the critical path): what depends on the mask r alone. */
  prepare(r: BigUint64Array): void;
  /** P2, after step 3: the values to share, into `out` (every word written). */
  deal(z: Uint8Array, out: BigUint64Array): void;
  finish(x: BigUint64Array, b: Uint8Array, c: BigUint64Array, t: BigUint64Array): AShare;
}

async function core(ctx: PartyContext, a: AShare, wantRelu: boolean, label: string, tail?: ReluTail): Promise<AShare> {
  const k = ctx.kernels;
  const n = a.length;
  const narrow = ctx.compareBits === 32;
  const width = narrow ? 32 : 64;
  const r4 = narrow && ctx.compareRadix === 4;
  const dealt = dealtPerElement(width, ctx.compareRadix);
  // The range sentinel's sample of the values read on the 32-bit ring (range-sentinel.ts; every party, P2 its count).
  if (narrow) ctx.compareSampler?.collect(a);
  // Temporaries read only before the next await use scratch buffers (ring/scratch.ts); what is sent or read after an await is fresh.
  if (ctx.party === 2) {
    // Step 1 (ctx.dealer: now, or taken from a bundle made before the run): z = r_63 (narrow: r_31), or for
    // ReLU r itself; P1's bit shares sent.
    const kept = ctx.dealer.deal(`${label}:xbits`, comparisonMaskJob(n, narrow, r4, wantRelu));
    assert(kept.length === (wantRelu ? 8 * n : n), 'E_PROTOCOL_DESYNC', `${label}: the dealt mask has ${kept.length} bytes, the step needs ${wantRelu ? 8 * n : n}`, { party: 2, step: label });
    const r = wantRelu ? bytesU64(kept) : null;
    const z = r ? signBit(r, narrow) : kept;
    // z_0 (ReLU: and w_0), which P0 draws in step 4 from the PRG it shares with P2, do not depend on beta': drawn
    // now, while P0's and P1's d are on their way, into the message P1 gets (a send buffer, ring/send-pool.ts: it is
    // sent, and every element is drawn here); the same stream as drawing them after step 3.
    const g0 = ctx.pairPrg(0);
    const extra = tail?.words ?? 0;
    const zw = sendBufferU64((wantRelu ? 2 * n : n) + extra);
    const z1 = zw.subarray(0, n);
    g0.u64Into(z1);
    if (wantRelu) g0.u64Into(zw.subarray(n, 2 * n));
    if (tail) { g0.u64Into(zw.subarray(2 * n)); tail.prepare(r!); }
    // Step 3.
    const betaP = (r4 ? await privateCompareRadix4(ctx, n, null, null, null, `${label}.pc`) : await privateCompare(ctx, n, null, null, null, `${label}.pc`, width))!;
    // Step 4: z = r_63 XOR beta' (narrow: r_31), shared over Z_L (z_1 = z - z_0 sent); ReLU: w = r z too
    // (w_1 = w - w_0 sent with z_1). P0 needs no message from P2 here: it goes on while P2 computes.
    xorInto(z, betaP);
    k.sub(bitsToU64(z, scratchU64('relu.p2.z', n)), z1, z1);
    if (wantRelu) {
      const w1 = zw.subarray(n, 2 * n), w = scratchU64('relu.p2.w', n);
      keepWhereBit(z, 1, r!, w);
      k.sub(w, w1, w1);
    }
    if (tail) {
      // The consumer's words, shared like z and w: P1's share = value - P0's draw (relu-dense.ts).
      const t1 = zw.subarray(2 * n), t = scratchU64('relu.p2.tail', extra);
      tail.deal(z, t);
      k.sub(t, t1, t1);
    }
    sendPooled(ctx, 1, tail ? `${label}:${tail.tag}` : wantRelu ? `${label}:z,w` : `${label}:z`, zw);
    return new BigUint64Array(n) as AShare;
  }
  const j = ctx.party;
  const g2 = ctx.pairPrg(2), g01 = ctx.pairPrg(j === 0 ? 1 : 0), d2 = ctx.dealer.prg(2);
  // Steps 1-2: r_j from the dealing PRG shared with P2, c_j = a_j + r_j (in place). For DReLU on the narrow ring
  // c_j is read only by openLow32ToDataParties before its first await (it sends c_j mod 2^32 from a copy): scratch.
  const low32Only = narrow && !wantRelu;
  // ReLU's c_j is sent whole and read by openToDataParties after its await: a send buffer (ring/send-pool.ts), back
  // to the pool once written and read (sendU64Held); every element drawn here.
  const cj = d2.u64Into(low32Only ? scratchU64('relu.cj', n) : sendBufferU64(n));
  k.add(a, cj, cj);
  const beta = g01.bits(n);
  // DReLU on the narrow ring needs only c mod 2^32 (c_31 and c'), so only the low 32 bits of c_j travel; ReLU needs all of c.
  // What step 3 needs that does not depend on c (P0's Z_p shares from the dealing PRG; on the narrow ring step 6's
  // common randomness) is drawn off the critical path, in the same PRG order as after the opening (nothing else
  // draws from d2 or g01 in between): P0, which runs ahead (it does not wait for P2's z), draws it before sending
  // c_0 and then keeps its event loop free for P1's c_1; P1, whose c_1 P0 is waiting for, first waits until c_1 is on
  // the wire (Transport.flush 'drained'), then draws while nothing of its own is in flight. Both live across an
  // await: lent buffers (ring/scratch.ts), given back once the kernel has read them.
  const xb0 = j === 0 ? (narrow ? d2.zpInto(borrowU8(n * dealt)) : d2.zp(n * dealt)) : null;
  let pre = j === 0 && narrow ? drawNarrowPcRandomness(ctx, n, r4 ? R4_DIGITS : 32) : undefined;
  const opening = low32Only ? openLow32ToDataParties(ctx, `${label}:c`, cj) : openToDataParties(ctx, `${label}:c`, cj);
  if (j === 1) {
    // The opening is awaited below; if it fails during the flush (P0's c of the wrong size or tag: a desync, a
    // cheating P0) it must not be an unhandled rejection meanwhile, which ends a party process and all its sessions.
    opening.catch(() => undefined);
    const flushedC = flushSends(ctx, 'drained');
    if (flushedC) await flushedC;
    if (narrow) pre = drawNarrowPcRandomness(ctx, n, r4 ? R4_DIGITS : 32);
  }
  const opened = await opening;
  const c = low32Only ? null : (opened as BigUint64Array);
  const c32 = low32Only ? (opened as Uint32Array) : null;
  // P0's bit shares came from the PRG above; privateCompare consumes them before its first await (P0/P1 send without waiting).
  const xb = xb0 ?? await ctx.dealer.take(`${label}:xbits`, n * dealt);
  // Step 3 (narrow ring: radix-4 digits unless ctx.compareRadix = 2).
  const cPub = (narrow ? (c32 ? low31of32(c32, scratchU64('relu.c31', n)) : low31(c!, scratchU64('relu.c31', n))) : low63(c!)) as Public;
  if (r4) await privateCompareRadix4(ctx, n, xb, cPub, beta, `${label}.pc`, pre);
  else await privateCompare(ctx, n, xb as PShare, cPub, beta, `${label}.pc`, width, pre);
  if (j === 0 && narrow) giveBackU8(xb);
  // d to P2 onto the wire before step 5 and the next layer's work. P0 waits until all of d_0 is out: P2 waits for
  // it, and P0's next work (step 5, the next layer up to its opening) is not on that path; P1 waits for P2's z next.
  const flushedD = flushSends(ctx, j === 0 ? 'drained' : 'turn');
  if (flushedD) await flushedD;
  // P1's dealt shares (P2's message, or its item of a preprocessed bundle) were read by the kernel alone, before
  // privateCompare's first await: their buffer may serve the next messages (Transport.recycle). P0's were lent
  // (given back above) or, on the 64-bit ring, fresh.
  if (j === 1) recycleReceived(ctx, xb);
  // Step 5's b = c_63 XOR beta (narrow: c_31), in place of beta: it needs no z, so before P1 waits for P2's.
  const b = beta;
  if (c32) for (let i = 0; i < n; i++) b[i]! ^= c32[i]! >>> 31;
  else {
    // The sign bit of c read from its words (bit 31 of the low word, or bit 63: bit 31 of the high one).
    const cw = new Uint32Array(c!.buffer, c!.byteOffset, 2 * n), hi = narrow ? 0 : 1;
    for (let i = 0; i < n; i++) b[i]! ^= cw[2 * i + hi]! >>> 31;
  }
  // Step 4.
  let zj: BigUint64Array, wj: BigUint64Array | null = null, tj: BigUint64Array | null = null;
  const extra = tail?.words ?? 0;
  if (j === 0) {
    zj = g2.u64Into(scratchU64('relu.z', n));
    if (wantRelu) wj = g2.u64Into(scratchU64('relu.w', n));
    if (tail) tj = g2.u64Into(scratchU64('relu.tail', extra));
  } else if (!wantRelu) zj = await recvU64(ctx, 2, `${label}:z`, n);
  else {
    const zw = await recvU64(ctx, 2, tail ? `${label}:${tail.tag}` : `${label}:z,w`, 2 * n + extra);
    zj = zw.subarray(0, n); wj = zw.subarray(n, 2 * n); tj = tail ? zw.subarray(2 * n) : null;
  }
  // P1's z_j is a view of P2's message, which is P1's (Transport.recv): the result goes over it (every z_j is read
  // before it is overwritten below), no fresh array. P0's z_j is a scratch buffer.
  const out = j === 1 ? zj : new BigUint64Array(n);
  if (!wantRelu) {
    // msb_j = b ? j - z_j : z_j; DReLU_j = j - msb_j = b ? z_j : j - z_j.
    const notZ = scratchU64('relu.notz', n);
    k.sub(scratchU64('relu.j', n).fill(BigInt(j)), zj, notZ);
    selectByBit(b, zj, notZ, out);
    // c, or c32 (the other data party's share with ours added in place, open.ts) was last read in step 5: its buffer
    // may serve the next messages (Transport.recycle).
    recycleReceived(ctx, (c ?? c32)!);
    return out as AShare;
  }
  // (a z)_j = c z_j - w_j (a = c - r, w = r z); ReLU_j = b ? (a z)_j : a_j - (a z)_j.
  const az = scratchU64('relu.az', n);
  k.mul(c!, zj, az);
  k.sub(az, wj!, az);
  const aMinus = scratchU64('relu.aminus', n);
  k.sub(a, az, aMinus);
  selectByBit(b, az, aMinus, out);
  // The consumer's product (relu-dense.ts) reads out, b, c and t_j synchronously; its result is fresh.
  const res = tail ? tail.finish(out, b, c!, tj!) : out;
  // c's last read (it is the other data party's c_j with ours added in place, open.ts): its buffer may serve the next messages.
  recycleReceived(ctx, c!);
  return res as AShare;
}

/** DReLU(a) = 1 if a >= 0 (two's complement), else 0; shares over Z_2^64. */
export function dreluDirect(ctx: PartyContext, a: AShare, label = 'drelu'): Promise<AShare> {
  return ctx.step('DReLU', () => core(ctx, a, false, label));
}

/** ReLU(a) = max(a, 0) (two's complement); shares over Z_2^64. */
export function reluDirect(ctx: PartyContext, a: AShare, label = 'relu'): Promise<AShare> {
  return ctx.step('ReLU', () => core(ctx, a, true, label));
}

/** ReLU(a) with `tail` finishing it inside step 4 (relu-dense.ts: the product that consumes it); returns the tail's result. */
export function reluDirectInto(ctx: PartyContext, a: AShare, label: string, tail: ReluTail): Promise<AShare> {
  return ctx.step('ReLU', () => core(ctx, a, true, label, tail));
}
