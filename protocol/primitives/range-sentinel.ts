/**
 * Run-time range sentinel: does any of the shared values x_1..x_n lie outside
 * [-B, B)? Built on the exact 64-bit DReLU (relu-direct.ts, SecureNN Alg. 6
 * computed directly over Z_2^64); the composition is ours, not an algorithm
 * of the paper. Used to check a sample of the values the 32-bit comparison
 * ring compared (B = 2^31: the narrow ring reads the sign of a correctly iff
 * -2^31 <= a < 2^31), so that a model whose ring rests on the import's
 * samples only aborts instead of giving a silently wrong result.
 *
 * Steps (P0, P1 hold x_j; P2 the helper):
 *  1. P_j: y = (x - B, x + B) (P0 subtracts / adds the public B; P1 copies).
 *  2. DReLU over Z_2^64 of all 2n values of y in one call (relu-direct.ts):
 *     d_i = DReLU(x_i - B), e_i = DReLU(x_i + B).
 *     For every x in Z_2^64 and 0 < B <= 2^62:  x >= B (or x near +2^63) gives
 *     d = 1; x < -B gives e = 0; in range gives d = 0, e = 1. So with
 *     u_i = d_i and v_i = 1 - e_i, x_i is out of range iff (u_i, v_i) != (0, 0)
 *     (values within B of +-2^63, where x - B or x + B wraps, have both set).
 *  3. P0, P1 draw public weights w_i, w'_i uniform in Z_2^64 from the PRG they
 *     share (P2 and the client do not know them) and compute locally
 *     s_j = sum_i w_i u_i,j + w'_i v_i,j  (one 1 x 2n by 2n x 1 product).
 *  4. s_0 and s_1 go to the client only (with the output; the caller sends
 *     them): s = 0 when every x_i is in range; otherwise s is a sum of
 *     independent uniform weights, so s is uniform in Z_2^64 and is 0 with
 *     probability 2^-64 only.
 *
 * Why weights instead of a count times a random odd r: c r with r a unit
 * keeps the number of trailing zero bits of the count c, so the client would
 * learn the parity (and more) of how many sampled values overflowed. A random
 * linear combination reveals exactly one bit: s == 0 or not. It needs no
 * Beaver triple and no round: each weight multiplies a share by a value both
 * data parties know (local, as SecureNN's multiplication by public values).
 *
 * What each party sees: the DReLU messages (relu-direct.ts: masked c,
 * PrivateCompare messages, shares of z), nothing of x, of the bits or of s.
 * The client sees s only. Not covered: a client colluding with P0 or P1
 * (it would know the weights and could tell which sampled positions
 * overflowed), and malicious parties (protocol/malicious/ does not run it).
 *
 * Cost: the 64-bit DReLU of 2n values (3 rounds, 2 x 216 bytes per value);
 * steps 1, 3 and 4 are local (the 16 bytes to the client are counted with
 * the output, not here).
 */
import { withCompareBits, type CompareSampler, type PartyContext } from '../context.js';
import { assert } from '../errors.js';
import type { Prg } from '../correlated/prg.js';
import type { AShare } from '../ring/types.js';
import type { Cost } from './cost.js';
import { dreluDirect, dreluDirectCost } from './relu-direct.js';

/** The 32-bit comparison ring's bound: its sign is right for -2^31 <= a < 2^31 (ring units). */
export const NARROW_RING_BOUND = 1n << 31n;
/** Fraction of each narrow comparison call's values the sentinel checks (at least RANGE_SENTINEL_MIN_PER_CALL). */
export const RANGE_SENTINEL_FRACTION = 1 / 32;
/**
 * Least number of values checked per narrow comparison call (all of them when the call has fewer). Small calls
 * (a dense head, a squeeze-excite block's 1x1 convolutions) are where an overflow sits in few values: with 8 the
 * seed CNN at 65536x its input range escaped in 2 of 10 runs, with 32 (56 values more, small calls) in none of 20
 * (BENCHMARKS.md "Run-time range sentinel"). At most 32 x 432 bytes = 13.8 KB more per call.
 */
export const RANGE_SENTINEL_MIN_PER_CALL = 32;

/** Values sampled from one comparison call of n values: ceil(n / 32), at least 32, at most n. */
export const sentinelSampleCount = (n: number): number => Math.min(n, Math.max(RANGE_SENTINEL_MIN_PER_CALL, Math.ceil(n * RANGE_SENTINEL_FRACTION)));

/** Declared cost of checking n values (steps 2; 1, 3, 4 are local). */
export const rangeSentinelCost = (n: number): Cost => (n === 0 ? { rounds: 0, bytes: 0 } : dreluDirectCost(2 * n, 64));

/**
 * Step 1-2: shares of u (x >= B) and v (x < -B) as [u_1..u_n, v_1..v_n]
 * (each 0 or 1, both 1 within B of +-2^63). P2's result is a placeholder.
 */
export async function rangeIndicators(ctx: PartyContext, x: AShare, bound: bigint = NARROW_RING_BOUND, label = 'sentinel'): Promise<AShare> {
  assert(bound > 0n && bound <= 1n << 62n, 'E_BAD_ARGUMENT', `range sentinel: the bound must be in (0, 2^62], got 2^${bound > 0n ? bound.toString(2).length - 1 : '?'}`, { party: ctx.party, step: label });
  const k = ctx.kernels, n = x.length;
  // Step 1: y = (x - B, x + B); P0 adds the public constants.
  const y = new BigUint64Array(2 * n);
  if (ctx.party === 0) {
    k.addScalar(x, BigInt.asUintN(64, -bound), y.subarray(0, n));
    k.addScalar(x, bound, y.subarray(n));
  } else if (ctx.party === 1) { y.set(x, 0); y.set(x, n); }
  // Step 2: one exact DReLU over Z_2^64 for both halves.
  const d = await dreluDirect(withCompareBits(ctx, 64), y as AShare, `${label}.drelu`);
  if (ctx.party === 2) return d;
  // v = 1 - e: P0 holds 1 - e_0, P1 holds -e_1.
  const v = d.subarray(n);
  k.sub(new BigUint64Array(n).fill(ctx.party === 0 ? 1n : 0n), v, v);
  return d;
}

/**
 * The sentinel (steps 1-3): this party's share of s, one element, 0 iff every
 * x_i is in [-B, B) (see the header). `weights`: the PRG P0 and P1 share
 * (the same stream at both, unknown to P2 and the client); P2 passes null.
 */
export function rangeSentinel(ctx: PartyContext, x: AShare, weights: Prg | null, bound: bigint = NARROW_RING_BOUND, label = 'sentinel'): Promise<AShare> {
  return ctx.step('RangeSentinel', async () => {
    assert((ctx.party === 2) === (weights === null), 'E_BAD_ARGUMENT', 'range sentinel: P0 and P1 need the weights\' PRG, P2 none', { party: ctx.party, step: label });
    const s = new BigUint64Array(1);
    // Nothing sampled (the model compared nothing on the 32-bit ring): s = 0, no message (all three know the count).
    if (x.length === 0) return s as AShare;
    const uv = await rangeIndicators(ctx, x, bound, label);
    if (ctx.party === 2) return s as AShare;
    // Step 3: s_j = sum_i w_i u_i,j + w'_i v_i,j, as a 1 x 2n by 2n x 1 product.
    ctx.kernels.gemm(weights!.u64(uv.length), uv, 1, uv.length, 1, s);
    return s as AShare;
  });
}

/**
 * Collects, from every narrow comparison call, sentinelSampleCount(n) of its
 * values: one uniform position in each of m equal strata of [0, n), so the
 * sample spreads over the layer's positions and channels. The positions come
 * from a PRG seeded per session by P0 and P1 together (P2 needs only the
 * counts, which follow from the calls' sizes; it collects zero placeholders).
 */
export class RangeSampler implements CompareSampler {
  private readonly parts: BigUint64Array[] = [];
  private total = 0;
  /** Narrow comparison calls seen and values taken. */
  calls = 0;
  constructor(private readonly positions: Prg | null) {}
  collect(a: BigUint64Array): void {
    const n = a.length;
    if (n === 0) return;
    const m = sentinelSampleCount(n);
    const out = new BigUint64Array(m);
    if (this.positions) {
      const r = new Uint32Array(m);
      this.positions.fill(new Uint8Array(r.buffer));
      for (let s = 0; s < m; s++) {
        const lo = Math.floor((s * n) / m), len = Math.floor(((s + 1) * n) / m) - lo;
        out[s] = a[lo + Math.floor((r[s]! * len) / 2 ** 32)]!;
      }
    }
    this.parts.push(out);
    this.total += m;
    this.calls++;
  }
  /** All values taken so far, in order of collection. */
  values(): AShare {
    const out = new BigUint64Array(this.total);
    let o = 0;
    for (const p of this.parts) { out.set(p, o); o += p.length; }
    return out as AShare;
  }
  get count(): number { return this.total; }
}
