import { describe, expect, it } from 'vitest';
import { Prg } from '../correlated/prg.js';
import { withCompareSampler } from '../context.js';
import { referenceKernels as ref } from '../kernels/reference.js';
import { plainDrelu, plainOutOfRange } from '../reference/plain.js';
import { reconstruct } from '../sharing/sharing.js';
import { run3, shareFor3 } from '../testing/run3.js';
import { MAX_U64, randomSigned, randomU64s, withEdges } from '../testing/values.js';
import { dreluDirect } from './relu-direct.js';
import { NARROW_RING_BOUND as B, RangeSampler, rangeIndicators, rangeSentinel, rangeSentinelCost, sentinelSampleCount } from './range-sentinel.js';

const u = (v: bigint): bigint => BigInt.asUintN(64, v);
const H = 1n << 63n;
// The edges the brief names: 0, +-(B-1), +-B, +-2^40, the largest |x| (-2^63, 2^63-1), and values within B of +-2^63 (where x -+ B wraps).
const EDGES = [0n, B - 1n, u(-(B - 1n)), B, u(-B), u(-B - 1n), B + 1n, 1n << 40n, u(-(1n << 40n)), H - 1n, H, H + 1n, H - B, H - B - 1n, H + B, H + B - 1n, MAX_U64, 1n];
const small = Array.from(randomU64s(200), (v) => u(BigInt.asIntN(32, v))); // |x| <= 2^31: mostly in range, -2^31 included
const X = BigUint64Array.from([...EDGES, ...withEdges(randomSigned(200)), ...randomU64s(100), ...small]);
const seed = (): Uint8Array => new Uint8Array(16).fill(7);

describe('range sentinel over Z_2^64 (two exact 64-bit DReLUs per value, one batch)', () => {
  it('per value: u + v is 1 exactly outside [-2^31, 2^31) on random and edge values (0, +-(B-1), +-B, +-2^40, -2^63, 2^63-1); 3 rounds, the declared bytes', async () => {
    const xs = shareFor3(X);
    const r = await run3((ctx) => rangeIndicators(ctx, xs[ctx.party]));
    const uv = reconstruct(ref, r.results[0], r.results[1]);
    const n = X.length;
    const out = uv.subarray(0, n).map((a, i) => a + uv[n + i]!);
    // Within B of +-2^63 both indicators are set (2): still nonzero, so compare "nonzero" with the plaintext twin.
    expect(out.map((v) => (v === 0n ? 0n : 1n))).toEqual(plainOutOfRange(X, B));
    expect(Array.from(uv, (v) => v <= 1n).every(Boolean)).toBe(true);
    expect({ rounds: r.rounds, bytes: r.bytes }).toEqual(rangeSentinelCost(n));
    expect(rangeSentinelCost(1)).toEqual({ rounds: 3, bytes: 432 });
    expect(r.transports.map((t) => t.pending)).toEqual([0, 0, 0]);
  });

  it('the sentinel s is 0 iff every value is in range; one value out (either end) makes it nonzero; counts match the transport', async () => {
    const inRange = BigUint64Array.from([0n, B - 1n, u(-B), 1n, u(-1n), ...small.filter((v) => plainOutOfRange(BigUint64Array.of(v), B)[0] === 0n)]);
    for (const [x, want] of [[inRange, true], ...[B, u(-B - 1n), 1n << 40n, H - 1n, H].map((v) => [BigUint64Array.from([...inRange, v]), false] as const)] as const) {
      const xs = shareFor3(x);
      const r = await run3((ctx) => rangeSentinel(ctx, xs[ctx.party], ctx.party === 2 ? null : new Prg(seed())));
      const s = reconstruct(ref, r.results[0], r.results[1]);
      expect(s.length).toBe(1);
      expect(s[0] === 0n).toBe(want);
      const step = r.transports.map((t) => t.steps.get('RangeSentinel')!);
      expect({ rounds: Math.max(...step.map((c) => c.rounds)), bytes: step.reduce((a, c) => a + c.bytesSent, 0) }).toEqual(rangeSentinelCost(x.length));
      expect({ rounds: r.rounds, bytes: r.bytes }).toEqual(rangeSentinelCost(x.length));
    }
  });

  it('an empty sample costs nothing and gives s = 0; a bad bound is refused with a coded error', async () => {
    const r = await run3((ctx) => rangeSentinel(ctx, new BigUint64Array(0) as never, ctx.party === 2 ? null : new Prg(seed())));
    expect(reconstruct(ref, r.results[0], r.results[1])).toEqual(BigUint64Array.of(0n));
    expect(r.bytes).toBe(0);
    const xs = shareFor3(BigUint64Array.of(1n));
    await expect(run3((ctx) => rangeIndicators(ctx, xs[ctx.party], 1n << 63n))).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT' });
  });
});

describe('RangeSampler (the sample of the 32-bit ring\'s compared values)', () => {
  it('takes ceil(n/32), at least 32, at most n values per call, one per stratum, the same positions at P0 and P1', () => {
    expect([1, 8, 32, 33, 1024, 1025, 4096].map(sentinelSampleCount)).toEqual([1, 8, 32, 32, 32, 33, 128]);
    const a = BigUint64Array.from({ length: 4096 }, (_, i) => BigInt(i));
    const s0 = new RangeSampler(new Prg(seed())), s1 = new RangeSampler(new Prg(seed()));
    s0.collect(a); s1.collect(a); s0.collect(a.subarray(0, 5)); s1.collect(a.subarray(0, 5));
    const v = s0.values();
    expect(v).toEqual(s1.values());
    expect(v.length).toBe(128 + 5);
    // Stratum i of the 4096-value call is [32 i, 32 i + 32): one position in each.
    expect(Array.from(v.subarray(0, 128), (x, i) => Number(x) >= 32 * i && Number(x) < 32 * i + 32).every(Boolean)).toBe(true);
    expect(Array.from(v.subarray(128))).toEqual([0n, 1n, 2n, 3n, 4n]);
    const p2 = new RangeSampler(null);
    p2.collect(a); p2.collect(a.subarray(0, 5));
    expect(p2.count).toBe(v.length);
    expect(p2.calls).toBe(2);
  });

  it('relu-direct hands it the values of narrow comparisons only (64-bit calls are not sampled)', async () => {
    const x = BigUint64Array.from(small.slice(0, 200)); // 200 values: 32 sampled
    const xs = shareFor3(x);
    const samplers = [0, 1, 2].map((p) => new RangeSampler(p === 2 ? null : new Prg(seed())));
    const r = await run3(async (ctx) => {
      const c = withCompareSampler(ctx, samplers[ctx.party]!);
      await dreluDirect(c, xs[ctx.party], 'wide');
      return dreluDirect(c, xs[ctx.party], 'narrow');
    }, { compareBits: 64 });
    expect(plainDrelu(x)).toEqual(reconstruct(ref, r.results[0], r.results[1]));
    expect(samplers.map((s) => s.count)).toEqual([0, 0, 0]);
    const r32 = await run3((ctx) => dreluDirect(withCompareSampler(ctx, samplers[ctx.party]!), xs[ctx.party]), { compareBits: 32 });
    expect(reconstruct(ref, r32.results[0], r32.results[1])).toEqual(plainDrelu(x));
    expect(samplers.map((s) => s.count)).toEqual([32, 32, 32]);
    // The sampled shares reconstruct to values of x.
    const got = reconstruct(ref, samplers[0]!.values(), samplers[1]!.values());
    expect(Array.from(got).every((v) => x.includes(v))).toBe(true);
  });
});
