import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runMal3, values } from '../../testing/cheat.js';
import { liftSigned } from '../ring128.js';
import { setupCost } from '../session.js';
import { inputM } from '../input.js';
import { randomMacced } from '../product.js';
import { openLow } from '../open.js';
import { macCheck } from '../mac-check.js';
import type { PoolInput, PoolWindow } from '../maxpool.js';
import { maxPoolBinCostB, maxPoolBinM, sliceDaBits } from './maxpool-bin.js';
import { daBitsM } from './dabit.js';
import { reconstructB } from './bshare.js';
import { maxPoolReference } from '../../testing/maxpool-reference.js';

const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);


/** Values with |x| < 2^(ell-2): random, the extremes, 0, +-1, and ties. */
function image(n: number, ell: number): bigint[] {
  const max = (1n << BigInt(ell - 2)) - 1n, edges = [0n, -1n, 1n, max, -max, 5n, 5n];
  return Array.from({ length: n }, (_, i) => {
    if (i % 3 === 0) return edges[(i / 3) % edges.length]!;
    const v = BigInt('0x' + randomBytes(8).toString('hex')) & max;
    return randomBytes(1)[0]! & 1 ? -v : v;
  });
}

const CASES: [PoolInput, PoolWindow][] = [
  [{ h: 4, w: 4, c: 2 }, { kh: 2, kw: 2, sh: 2, sw: 2 }],
  [{ h: 4, w: 5, c: 1 }, { kh: 3, kw: 3, sh: 1, sw: 1, padding: 'same' }],
  [{ h: 5, w: 3, c: 2 }, { kh: 3, kw: 2, sh: 2, sw: 1, padding: 'same' }],
  [{ h: 3, w: 3, c: 3 }, { kh: 2, kw: 2, sh: 1, sw: 1 }],
  [{ h: 4, w: 5, c: 2 }, { kh: 2, kw: 2, sh: 1, sw: 1 }], // separable, h != w
];

describe('maxPoolBinM (the tournament of maxpool.ts on the binary ReLU) against a plaintext reference', () => {
  for (const ell of [32, 8, 64]) {
    for (const [sh, p] of CASES) {
      it(`ell = ${ell}, ${sh.h}x${sh.w}x${sh.c}, window ${p.kh}x${p.kw} stride ${p.sh}x${p.sw} ${p.padding ?? 'valid'}`, async () => {
        const xs = image(sh.h * sh.w * sh.c, ell);
        const r = await runMal3(async (s) => {
          const x = await inputM(s, 2, s.party === 2 ? liftSigned(BigUint64Array.from(xs.map(u64))) : null, xs.length);
          const y = await maxPoolBinM(s, x, sh, p, ell);
          await macCheck(s);
          const out = await openLow(s, y);
          await macCheck(s);
          return Array.from(out, (v) => BigInt.asIntN(64, v));
        });
        for (const v of values(r)) expect(v).toEqual(maxPoolReference(xs, sh, p));
      });
    }
  }

  it('declared cost matches the counters (a random MACed input: every party starts at the same depth)', async () => {
    for (const [sh, p] of CASES) {
      const n = sh.h * sh.w * sh.c;
      const r = await runMal3(async (s) => maxPoolBinM(s, await randomMacced(s, n), sh, p, 32));
      values(r);
      const steps = (k: 'bytesSent' | 'rounds') => r.transports.map((t) => t.steps.get('mal.bin.maxPool')?.[k] ?? 0);
      expect({ rounds: Math.max(...steps('rounds')), bytes: steps('bytesSent').reduce((a, b) => a + b, 0) }).toEqual(maxPoolBinCostB(sh, p, 32));
      expect(r.bytes).toBe(setupCost().bytes + 48 * n + maxPoolBinCostB(sh, p, 32).bytes);
    }
  });

  it('sliceDaBits takes the same bits from both parts, at any offset', async () => {
    const r = await runMal3(async (s) => {
      const d = await daBitsM(s, 150);
      const part = sliceDaBits(d, 37, 120);
      const arith = Array.from(await openLow(s, part.arith));
      await macCheck(s);
      return { arith, bin: part.bin };
    });
    const v = values(r);
    const bin = reconstructB([v[0].bin, v[1].bin, v[2].bin]);
    expect(v[0].arith.length).toBe(83);
    expect(v[0].arith.map((_, i) => BigInt((bin[i >>> 5]! >>> (i & 31)) & 1))).toEqual(v[0].arith);
  });
});
