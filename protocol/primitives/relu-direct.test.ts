import { describe, expect, it } from 'vitest';
import { referenceKernels as ref } from '../kernels/reference.js';
import { plainDrelu, plainRelu } from '../reference/plain.js';
import { reconstruct } from '../sharing/sharing.js';
import { run3, shareFor3 } from '../testing/run3.js';
import { MAX_U64, randomSigned, randomU64s, withEdges } from '../testing/values.js';
import { dreluDirect, dreluDirectCost, reluDirect, reluDirectCost } from './relu-direct.js';

// Every ring value, not only |a| < 2^62: the direct route has no range bound.
const A = BigUint64Array.from([...withEdges(randomSigned(300)), ...randomU64s(200), 1n << 63n, (1n << 63n) - 1n, MAX_U64, 0n]);

describe('DReLU / ReLU directly over Z_2^64 (one 63-bit PrivateCompare)', () => {
  it('DReLU is 1 for a >= 0 and 0 for a < 0 on every ring value, incl. -2^63, 2^63-1, 0, -1', async () => {
    const as = shareFor3(A);
    const r = await run3((ctx) => dreluDirect(ctx, as[ctx.party]));
    expect(reconstruct(ref, r.results[0], r.results[1])).toEqual(plainDrelu(A));
    expect({ rounds: r.rounds, bytes: r.bytes }).toEqual(dreluDirectCost(A.length));
    expect(r.transports.map((t) => t.pending)).toEqual([0, 0, 0]);
  });
  it('ReLU equals max(a, 0) exactly in 3 rounds', async () => {
    const as = shareFor3(A);
    const r = await run3((ctx) => reluDirect(ctx, as[ctx.party]));
    expect(reconstruct(ref, r.results[0], r.results[1])).toEqual(plainRelu(A));
    expect({ rounds: r.rounds, bytes: r.bytes }).toEqual(reluDirectCost(A.length));
    expect(r.transports.map((t) => t.pending)).toEqual([0, 0, 0]);
  });
});

// The narrow ring (ctx.compareBits = 32): exact for |a| < 2^31 ring units, including both ends.
const B31 = 1n << 31n;
const inRange = (v: bigint): boolean => { const s = BigInt.asIntN(64, v); return s >= -B31 && s < B31; };
const NARROW = BigUint64Array.from([
  ...randomSigned(300).filter(inRange), ...Array.from(randomU64s(300), (v) => BigInt.asUintN(64, BigInt.asIntN(32, v))),
  0n, MAX_U64, 1n, B31 - 1n, BigInt.asUintN(64, -B31), BigInt.asUintN(64, -(B31 - 1n)), B31 - 2n, 1n << 30n, BigInt.asUintN(64, -(1n << 30n)),
]);

describe('DReLU / ReLU over the 32-bit comparison ring (31-bit PrivateCompare on 32 positions)', () => {
  for (const [radix, dreluB, reluB] of [[2, 112, 128], [4, 96, 112]] as const) {
    it(`PrivateCompare in ${radix === 2 ? 'bits (the paper)' : 'radix-4 digits (the default)'}: DReLU and ReLU are exact for every |a| < 2^31 (incl. -2^31, 2^31-1, 0, -1); cost ${dreluB} / ${reluB} bytes per element, 3 rounds`, async () => {
      expect(NARROW.every(inRange)).toBe(true);
      const as = shareFor3(NARROW);
      const d = await run3((ctx) => dreluDirect(ctx, as[ctx.party]), { compareBits: 32, compareRadix: radix });
      expect(reconstruct(ref, d.results[0], d.results[1])).toEqual(plainDrelu(NARROW));
      expect({ rounds: d.rounds, bytes: d.bytes }).toEqual(dreluDirectCost(NARROW.length, 32, radix));
      expect(dreluDirectCost(1, 32, radix).bytes).toBe(dreluB);
      const r = await run3((ctx) => reluDirect(ctx, as[ctx.party]), { compareBits: 32, compareRadix: radix });
      expect(reconstruct(ref, r.results[0], r.results[1])).toEqual(plainRelu(NARROW));
      expect({ rounds: r.rounds, bytes: r.bytes }).toEqual(reluDirectCost(NARROW.length, 32, radix));
      expect(reluDirectCost(1, 32, radix).bytes).toBe(reluB);
      expect(r.transports.map((t) => t.pending)).toEqual([0, 0, 0]);
      // The PrivateCompare step alone: 2 x 16 (radix 4) or 2 x 32 (bits) bytes per element, 1 round.
      const pc = r.transports[0].steps.get('PrivateCompare')!;
      expect(pc.bytesSent).toBe((radix === 4 ? 16 : 32) * NARROW.length);
    });
  }
  it('outside the range the sign is wrong (the bound is real): 2^31 reads as negative', async () => {
    const big = BigUint64Array.from([B31, 3n << 31n]);
    const as = shareFor3(big);
    const d = await run3((ctx) => dreluDirect(ctx, as[ctx.party]), { compareBits: 32 });
    expect(reconstruct(ref, d.results[0], d.results[1])).toEqual(BigUint64Array.from([0n, 0n]));
  });
});
