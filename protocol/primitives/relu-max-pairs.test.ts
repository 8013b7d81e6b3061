import { describe, expect, it } from 'vitest';
import { referenceKernels as ref } from '../kernels/reference.js';
import { reconstruct } from '../sharing/sharing.js';
import { run3, shareFor3 } from '../testing/run3.js';
import { randomU64s } from '../testing/values.js';
import { reluDirectCost } from './relu-direct.js';
import { reluMaxOfPairs, reluMaxPairsCost } from './relu-max-pairs.js';

const B31 = 1n << 31n;
const u = (v: bigint): bigint => BigInt.asUintN(64, v);
const s = (v: bigint): bigint => BigInt.asIntN(64, v);

/** Plaintext: max(ReLU(e_X), ReLU(e_Y)) per pair, as ring values. */
function plain(e: BigUint64Array, iX: Uint32Array, iY: Uint32Array): BigUint64Array {
  return BigUint64Array.from(iX, (x, q) => { const m = [s(e[x]!), s(e[iY[q]!]!), 0n].reduce((p, v) => (v > p ? v : p)); return u(m); });
}

/** The runner's H pass of a 2x2 stride-1 pool: rows of `row` values, pairs (i, i + row) within each of `imgs` images of `h` rows. */
function verticalPairs(imgs: number, h: number, row: number): { iX: Uint32Array; iY: Uint32Array } {
  const iX: number[] = [], iY: number[] = [];
  for (let b = 0; b < imgs; b++) for (let i = 0; i < h - 1; i++) for (let q = 0; q < row; q++) { const x = (b * h + i) * row + q; iX.push(x); iY.push(x + row); }
  return { iX: Uint32Array.from(iX), iY: Uint32Array.from(iY) };
}

/** Signed values in [-2^(bits-1), 2^(bits-1)) from fresh randomness. */
const randomWithin = (n: number, bits: number): BigUint64Array => BigUint64Array.from(randomU64s(n), (v) => u(BigInt.asIntN(bits, v)));

async function check(e: BigUint64Array, iX: Uint32Array, iY: Uint32Array, opts: { compareBits?: 32 | 64; compareRadix?: 2 | 4 } = {}) {
  const es = shareFor3(e);
  const r = await run3((ctx) => reluMaxOfPairs(ctx, es[ctx.party], iX, iY), opts);
  expect(reconstruct(ref, r.results[0], r.results[1])).toEqual(plain(e, iX, iY));
  expect({ rounds: r.rounds, bytes: r.bytes }).toEqual(reluMaxPairsCost(e.length, iX.length, opts.compareBits ?? 64, opts.compareRadix ?? 4));
  expect(r.transports.map((t) => t.pending)).toEqual([0, 0, 0]);
  return r;
}

describe('ReLU(max(x_X, x_Y)) in one direct comparison (relu-max-pairs.ts)', () => {
  it('32-bit ring, radix 4: random values with overlapping pairs (a 2x2 stride-1 pool\'s H pass, 3 images): exact; 3 rounds; 112 / 144 bytes per element / pair', async () => {
    const { iX, iY } = verticalPairs(3, 7, 10);
    await check(randomWithin(3 * 7 * 10, 31), iX, iY, { compareBits: 32 });
    expect(reluMaxPairsCost(1, 0, 32, 4).bytes).toBe(reluDirectCost(1, 32, 4).bytes);
    expect(reluMaxPairsCost(1, 0, 32, 4).bytes).toBe(112);
    expect(reluMaxPairsCost(0, 1, 32, 4).bytes).toBe(144);
  });

  it('32-bit ring: edges (zero, -1, +-1, max magnitude -2^31 and 2^31 - 1 with differences up to 2^31 - 1, ties of equal, all-equal and negative neighbours), radix 4 and 2', async () => {
    const v = [0n, -1n, 1n, B31 - 1n, -B31, -B31 + 1n, 5n, 5n, -7n, -7n, 0n, 0n, B31 - 1n, B31 - 1n, -B31, -B31, 3n, -3n, -3n, 3n];
    const e = BigUint64Array.from(v, u);
    const pairs: [number, number][] = [];
    for (let i = 0; i + 1 < v.length; i++) pairs.push([i, i + 1], [i + 1, i]);
    pairs.push([0, 0], [6, 6], [8, 9], [9, 8], [14, 15], [12, 13]);
    // Differences must stay in [-2^31, 2^31): drop pairs whose difference is out (e.g. 2^31 - 1 vs -2^31).
    const ok = pairs.filter(([x, y]) => { const d = v[y]! - v[x]!; return d >= -B31 && d < B31; });
    expect(ok.length).toBeGreaterThan(30);
    const iX = Uint32Array.from(ok, (p) => p[0]), iY = Uint32Array.from(ok, (p) => p[1]);
    for (const radix of [4, 2] as const) await check(e, iX, iY, { compareBits: 32, compareRadix: radix });
  });

  it('all-equal windows (positive, zero, negative) and disjoint pairs (a stride-2 pool\'s last level): exact', async () => {
    const e = BigUint64Array.from([9n, 9n, 9n, 9n, 0n, 0n, 0n, 0n, -4n, -4n, -4n, -4n].map(u));
    const iX = Uint32Array.from([0, 2, 4, 6, 8, 10]), iY = Uint32Array.from([1, 3, 5, 7, 9, 11]);
    await check(e, iX, iY, { compareBits: 32 });
    await check(e, iX, iY);
  });

  it('64-bit ring: random values below 2^62 in magnitude with overlapping pairs, and the edges: exact, cost as declared', async () => {
    const { iX, iY } = verticalPairs(2, 6, 9);
    await check(randomWithin(2 * 6 * 9, 62), iX, iY);
    const big = (1n << 62n) - 1n;
    const e = BigUint64Array.from([big, -big, 0n, big, big, -1n].map(u));
    await check(e, Uint32Array.from([0, 1, 2, 3, 4, 5, 1]), Uint32Array.from([1, 2, 3, 4, 5, 0, 1]));
  });

  it('no pairs, and one element in many pairs', async () => {
    await check(randomWithin(5, 30), new Uint32Array(0), new Uint32Array(0), { compareBits: 32 });
    const e = randomWithin(4, 30);
    await check(e, Uint32Array.from([0, 0, 0, 1, 2]), Uint32Array.from([1, 2, 3, 0, 0]), { compareBits: 32 });
  });

  it('refuses a pair that indexes past the elements (E_SHAPE)', async () => {
    const es = shareFor3(randomWithin(3, 30));
    await expect(run3((ctx) => reluMaxOfPairs(ctx, es[ctx.party], Uint32Array.of(0), Uint32Array.of(3)), { compareBits: 32 })).rejects.toMatchObject({ code: 'E_SHAPE' });
  });
});
