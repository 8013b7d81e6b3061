import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runMal3, values } from '../testing/cheat.js';
import { isMpcError } from '../errors.js';
import type { PartyId } from '../ring/types.js';
import { alloc128, type Vec128 } from './ring128.js';
import { setupCost, type MalSession } from './session.js';
import { inputM, publicM } from './input.js';
import { openLow } from './open.js';
import { macCheck } from './mac-check.js';
import { bitLtCostM, bitLtLevels, bitLtM } from './bit-lt.js';
import { bitLtBlockSizes, bitLtProducts, bitLtProductsCostM, makeBitLtProducts } from './bit-lt-quads.js';

/** Random m-bit values (m <= 63) as bigints, with edges 0, 1, 2^m - 1, 2^(m-1). */
function randomValues(n: number, m: number): bigint[] {
  const mask = (1n << BigInt(m)) - 1n;
  return Array.from({ length: n }, () => BigInt('0x' + randomBytes(8).toString('hex')) & mask);
}

/** Bit-major bits of values (bit i of element e at i n + e). */
function bitsOf(xs: bigint[], m: number): Uint8Array {
  const n = xs.length, out = new Uint8Array(n * m);
  xs.forEach((x, e) => { for (let i = 0; i < m; i++) out[i * n + e] = Number((x >> BigInt(i)) & 1n); });
  return out;
}

const asVec = (bits: Uint8Array): Vec128 => {
  const v = alloc128(bits.length);
  bits.forEach((b, j) => { v[4 * j] = b; });
  return v;
};

/** [c < r] with r's bits input by P1 (secret) and c public; opened (low 64 bits) after the MAC check. */
async function compare(cs: bigint[], rs: bigint[], m: number, withPairs = false): Promise<bigint[]> {
  const n = cs.length;
  const r = await runMal3(async (s) => {
    const rb = await inputM(s, 1, s.party === 1 ? asVec(bitsOf(rs, m)) : null, n * m);
    const products = withPairs ? await makeBitLtProducts(s, rb, m) : undefined;
    const lt = await bitLtM(s, bitsOf(cs, m), rb, m, products);
    const out = await openLow(s, lt);
    await macCheck(s);
    return Array.from(out);
  });
  const [a, b, c] = values(r);
  expect(b).toEqual(a);
  expect(c).toEqual(a);
  return a;
}

describe('bitLtM (Catrina-de Hoogh BitLT as a carry-lookahead tree over MACed bits) against a plaintext reference', () => {
  it('m = 1 to 5: every pair (c, r) of m-bit values (blocks of 4 with a top block of 0 to 3 bits); m = 6, 7, 9 random; the leaves computed or the blocks of 4 from precomputed products', async () => {
    for (const withPairs of [false, true]) {
      for (const m of [1, 2, 3, 4, 5]) {
        const all = Array.from({ length: 1 << m }, (_, v) => BigInt(v));
        const cs = all.flatMap((c) => all.map(() => c)), rs = all.flatMap(() => all);
        expect(await compare(cs, rs, m, withPairs), `m = ${m}, level 1 precomputed: ${withPairs}`).toEqual(cs.map((c, i) => (c < rs[i]! ? 1n : 0n)));
      }
      for (const m of [6, 7, 9]) {
        const cs = randomValues(40, m), rs = [...cs.slice(0, 8), ...randomValues(32, m)];
        expect(await compare(cs, rs, m, withPairs), `m = ${m}`).toEqual(cs.map((c, i) => (c < rs[i]! ? 1n : 0n)));
      }
    }
  });

  it('m = 31 and 63: random values and edges (equal, 0, max, neighbours, top bit only)', async () => {
    for (const m of [31, 63]) {
      const max = (1n << BigInt(m)) - 1n, top = 1n << BigInt(m - 1);
      const rnd = randomValues(12, m);
      const cs = [0n, 0n, max, max, 5n, top, top - 1n, top, 1n, max - 1n, ...rnd, ...rnd.slice(0, 4)];
      const rs = [0n, max, max, 0n, 5n, top - 1n, top, top, 0n, max, ...randomValues(12, m), ...rnd.slice(0, 4).map((v) => v ^ 1n)];
      for (const withPairs of [false, true]) expect(await compare(cs, rs, m, withPairs), `m = ${m}, ${withPairs}`).toEqual(cs.map((c, i) => (c < rs[i]! ? 1n : 0n)));
    }
  });

  it('declared cost (ceil(log2 m) rounds, one mulM per level) matches the transport counters', async () => {
    expect(bitLtLevels(1)).toEqual([]);
    expect(bitLtLevels(63)).toEqual([61, 31, 15, 7, 3, 1]);
    expect(bitLtLevels(31)).toEqual([29, 15, 7, 3, 1]);
    for (const [n, m] of [[3, 1], [3, 2], [2, 7], [4, 31], [1, 63]] as const) {
      const bits = asVec(new Uint8Array(n * m).map(() => randomBytes(1)[0]! & 1));
      const r = await runMal3(async (s: MalSession) => bitLtM(s, new Uint8Array(n * m), publicM(s, bits), m));
      values(r);
      expect({ rounds: r.rounds - setupCost().rounds, bytes: r.bytes - setupCost().bytes }, `n = ${n}, m = ${m}`).toEqual(bitLtCostM(n, m));
      expect(bitLtCostM(n, m).rounds).toBe(Math.ceil(Math.log2(m)));
      // With the block products given: the tree from ceil(m / 4) blocks, two levels fewer (radix 4).
      const r2 = await runMal3(async (s: MalSession) => bitLtM(s, new Uint8Array(n * m), publicM(s, bits), m, publicM(s, alloc128(bitLtProducts(m) * n))));
      values(r2);
      expect({ rounds: r2.rounds - setupCost().rounds, bytes: r2.bytes - setupCost().bytes }, `products, n = ${n}, m = ${m}`).toEqual(bitLtCostM(n, m, true));
      expect(bitLtCostM(n, m, true).rounds).toBe(Math.ceil(Math.log2(Math.ceil(m / 4))));
      // Making the products: 2 rounds (1 for pairs at most), the counters as declared.
      const r3 = await runMal3(async (s: MalSession) => makeBitLtProducts(s, publicM(s, bits), m));
      values(r3);
      expect({ rounds: r3.rounds - setupCost().rounds, bytes: r3.bytes - setupCost().bytes }, `making the products, n = ${n}, m = ${m}`).toEqual(bitLtProductsCostM(n, m));
    }
    expect(bitLtBlockSizes(31)).toEqual([4, 4, 4, 4, 4, 4, 4, 3]);
    expect([bitLtProducts(31), bitLtProducts(63), bitLtProducts(3), bitLtProducts(2), bitLtProducts(1)]).toEqual([81, 169, 4, 1, 0]);
    expect(bitLtCostM(1, 31, true)).toEqual({ rounds: 3, bytes: 11 * 96 });
    expect(bitLtCostM(1, 63, true)).toEqual({ rounds: 4, bytes: 26 * 96 });
    expect(bitLtProductsCostM(1, 31)).toEqual({ rounds: 2, bytes: 81 * 96 });
    expect(bitLtProductsCostM(1, 2)).toEqual({ rounds: 1, bytes: 96 });
  });

  it('a cheater with a wrong share of a precomputed block product (r_0 r_1 r_2 r_3 of block 0, copies consistent after the next product) is caught by the MAC check at both honest parties; without the check the result would be wrong', async () => {
    // c = 0 and r = 15 (bits 0-3 set): every coefficient of r_0123 in G_0 is nonzero and every P above block 0 is 1, so an error reaches [c < r].
    const n = 2, m = 31, cs = [0n, 0n], rs = [15n, 15n];
    const run = (cheater: PartyId | null, check: boolean) => runMal3(async (s) => {
      const rb = await inputM(s, 1, s.party === 1 ? asVec(bitsOf(rs, m)) : null, n * m);
      const w = await makeBitLtProducts(s, rb, m);
      if (s.party === cheater) w.x.a[4 * (10 * n)]! ^= 1; // row 10 of block 0 (r_0123), element 0, low bit of its share x_i; MAC share untouched
      const out = await openLow(s, await bitLtM(s, bitsOf(cs, m), rb, m, w));
      if (check) await macCheck(s);
      return Array.from(out);
    });
    expect(values(await run(null, true))[0]).toEqual([1n, 1n]);
    for (const cheater of [0, 1, 2] as PartyId[]) {
      const r = await run(cheater, true);
      for (const p of ([0, 1, 2] as PartyId[]).filter((q) => q !== cheater)) {
        const o = r.outcomes[p];
        expect(o.status === 'rejected' && isMpcError(o.reason) && o.reason.code === 'E_INTEGRITY' && /MAC check failed/.test(o.reason.message), `P${cheater} cheats, P${p}: ${String(o.status === 'rejected' ? o.reason : 'output')}`).toBe(true);
      }
      const unchecked = await run(cheater, false);
      const honest = ([0, 1, 2] as PartyId[]).find((q) => q !== cheater)!;
      const o = unchecked.outcomes[honest];
      expect(o.status === 'fulfilled' && o.value[0] !== 1n, `P${cheater} cheats, no MAC check: ${o.status === 'fulfilled' ? o.value.join(',') : String(o.reason)}`).toBe(true);
    }
  });

  it('refuses bits that are not a whole number of m-bit values (E_SHAPE, the session aborts)', async () => {
    const r = await runMal3(async (s) => bitLtM(s, new Uint8Array(5), publicM(s, alloc128(5)), 2));
    for (const o of r.outcomes) expect(o.status === 'rejected' && (o.reason as { code?: string }).code).toBe('E_SHAPE');
  });
});
