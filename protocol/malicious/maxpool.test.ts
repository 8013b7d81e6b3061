import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runMal3, values } from '../testing/cheat.js';
import { isMpcError } from '../errors.js';
import { fromBigints, liftSigned } from './ring128.js';
import { setupCost } from './session.js';
import { inputM, publicM } from './input.js';
import { openLow } from './open.js';
import { macCheck } from './mac-check.js';
import { maxPoolComparisons, maxPoolCostM, maxPoolM, type PoolInput, type PoolWindow } from './maxpool.js';
import { maxPoolReference } from '../testing/maxpool-reference.js';

const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);


/** Values with |x| < 2^(ell-2): random, the extremes +-(2^(ell-2) - 1), 0, -1, 1, and repeated values (ties). */
function image(n: number, ell: number, ties: boolean): bigint[] {
  const max = (1n << BigInt(ell - 2)) - 1n;
  const edges = [0n, -1n, 1n, max, -max];
  return Array.from({ length: n }, (_, i) => {
    if (ties) return [5n, 5n, -max, -max][i % 4]!;
    if (i % 3 === 0) return edges[(i / 3) % edges.length]!;
    const v = BigInt('0x' + randomBytes(8).toString('hex')) & max;
    return randomBytes(1)[0]! & 1 ? -v : v;
  });
}

async function pool(xs: bigint[], sh: PoolInput, p: PoolWindow, ell: number): Promise<bigint[]> {
  const r = await runMal3(async (s) => {
    const x = await inputM(s, 2, s.party === 2 ? liftSigned(BigUint64Array.from(xs.map(u64))) : null, xs.length);
    const out = await openLow(s, await maxPoolM(s, x, sh, p, ell));
    await macCheck(s);
    return Array.from(out, (v) => BigInt.asIntN(64, v));
  });
  const [a, b, c] = values(r);
  expect(b).toEqual(a);
  expect(c).toEqual(a);
  return a;
}

const CASES: [PoolInput, PoolWindow][] = [
  [{ h: 4, w: 4, c: 2 }, { kh: 2, kw: 2, sh: 2, sw: 2 }],
  [{ h: 4, w: 5, c: 1 }, { kh: 3, kw: 3, sh: 1, sw: 1, padding: 'same' }],
  [{ h: 4, w: 5, c: 3 }, { kh: 2, kw: 2, sh: 1, sw: 1 }], // separable (the seed CNN's MaxPooling2D(2, 1))
  [{ h: 5, w: 3, c: 2 }, { kh: 3, kw: 2, sh: 2, sw: 1, padding: 'same' }],
  [{ h: 3, w: 5, c: 1 }, { kh: 2, kw: 3, sh: 1, sw: 2, padding: 'valid' }],
  [{ h: 3, w: 3, c: 1 }, { kh: 3, kw: 3, sh: 3, sw: 3 }],
  [{ h: 2, w: 3, c: 3 }, { kh: 1, kw: 1, sh: 1, sw: 1 }],
];

describe('maxPoolM (tournament tree of max(a, b) = b + ReLU(a - b) over MACed shares) against a plaintext max pool', () => {
  for (const ell of [32, 64]) {
    it(`ell = ${ell}: valid and same padding, strides, odd windows, random and edge values`, async () => {
      for (const [sh, p] of CASES) {
        const xs = image(sh.h * sh.w * sh.c, ell, false);
        expect(await pool(xs, sh, p, ell), JSON.stringify([sh, p])).toEqual(maxPoolReference(xs, sh, p));
      }
    });
  }

  it('ties (equal values in a window, also at -(2^(ell-2) - 1), equal to the padding plus one) give the tied value', async () => {
    for (const [sh, p] of CASES.slice(0, 3)) {
      const xs = image(sh.h * sh.w * sh.c, 32, true);
      expect(await pool(xs, sh, p, 32)).toEqual(maxPoolReference(xs, sh, p));
    }
    const sh = { h: 2, w: 2, c: 1 }, p = { kh: 2, kw: 2, sh: 1, sw: 1, padding: 'same' as const };
    const xs = [-(1n << 30n) + 1n, -(1n << 30n) + 1n, -(1n << 30n) + 1n, -(1n << 30n) + 1n];
    expect(await pool(xs, sh, p, 32)).toEqual(maxPoolReference(xs, sh, p));
  });

  it('declared cost (the masks of all levels in one call, then one reluM per level) matches the transport counters', async () => {
    for (const [sh, p] of CASES.slice(0, 4)) {
      for (const ell of [8, 32]) {
        const xs = fromBigints(image(sh.h * sh.w * sh.c, ell, false).map((v) => BigInt.asUintN(128, v)));
        const r = await runMal3(async (s) => maxPoolM(s, publicM(s, xs), sh, p, ell));
        values(r);
        expect({ rounds: r.rounds - setupCost().rounds, bytes: r.bytes - setupCost().bytes }, JSON.stringify([sh, p, ell])).toEqual(maxPoolCostM(sh, p, ell));
      }
    }
    expect(maxPoolCostM({ h: 3, w: 3, c: 1 }, { kh: 1, kw: 1, sh: 1, sw: 1 }, 32)).toEqual({ rounds: 0, bytes: 0 });
  });

  it('2x2 stride 1 valid (separable): each horizontal pair compared once, (h + outH) outW c comparisons, not 3 outH outW c; right on ties, edges, 2x2 and one-row-wide images', async () => {
    const p: PoolWindow = { kh: 2, kw: 2, sh: 1, sw: 1 };
    expect(maxPoolComparisons({ h: 75, w: 63, c: 16 }, p)).toEqual({ ns: [75 * 62 * 16, 74 * 62 * 16], total: (75 + 74) * 62 * 16 });
    expect(maxPoolComparisons({ h: 75, w: 63, c: 16 }, { ...p, padding: 'same' }).total).toBe(3 * 75 * 63 * 16); // not separable: the tree
    for (const sh of [{ h: 2, w: 2, c: 1 }, { h: 2, w: 5, c: 2 }, { h: 5, w: 2, c: 1 }, { h: 3, w: 4, c: 2 }]) {
      for (const ties of [false, true]) {
        const xs = image(sh.h * sh.w * sh.c, 32, ties);
        expect(await pool(xs, sh, p, 32), JSON.stringify([sh, ties])).toEqual(maxPoolReference(xs, sh, p));
      }
    }
    // Equal neighbours in every direction, and all-equal windows at the range's low end.
    const sh = { h: 3, w: 3, c: 1 }, low = -(1n << 30n) + 1n;
    for (const xs of [[1n, 1n, 0n, 1n, 1n, 0n, -1n, -1n, -1n], Array<bigint>(9).fill(low), [low, 7n, low, 7n, low, 7n, 0n, 0n, 0n]]) {
      expect(await pool(xs, sh, p, 32)).toEqual(maxPoolReference(xs, sh, p));
    }
  });

  it('refuses a wrong element count, a window larger than a valid input, a bad width (coded errors; the session aborts)', async () => {
    const bad: [number, PoolInput, PoolWindow, number, string][] = [
      [5, { h: 2, w: 2, c: 1 }, { kh: 2, kw: 2, sh: 2, sw: 2 }, 32, 'E_SHAPE'],
      [4, { h: 2, w: 2, c: 1 }, { kh: 3, kw: 3, sh: 1, sw: 1 }, 32, 'E_SHAPE'],
      [4, { h: 2, w: 2, c: 1 }, { kh: 2, kw: 2, sh: 0, sw: 1 }, 32, 'E_BAD_ARGUMENT'],
      [4, { h: 2, w: 2, c: 1 }, { kh: 2, kw: 2, sh: 1, sw: 1 }, 65, 'E_BAD_ARGUMENT'],
    ];
    for (const [n, sh, p, ell, code] of bad) {
      const r = await runMal3(async (s) => maxPoolM(s, publicM(s, fromBigints(new Array<bigint>(n).fill(1n))), sh, p, ell));
      for (const o of r.outcomes) expect(o.status === 'rejected' && isMpcError(o.reason) && o.reason.code, JSON.stringify([n, sh, p, ell])).toBe(code);
    }
  });
});
