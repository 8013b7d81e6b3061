import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runMal3, values } from '../testing/cheat.js';
import { alloc128, type Vec128 } from './ring128.js';
import { setupCost, type MalSession } from './session.js';
import { inputM, publicM } from './input.js';
import { openLow } from './open.js';
import { macCheck } from './mac-check.js';
import { bitLtCostM, bitLtLevels, bitLtM, bitLtPairs } from './bit-lt.js';
import { mulM } from './product.js';
import { concatM, sliceM } from './mvec.js';

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
    const q = bitLtPairs(m);
    const pairs = withPairs ? await mulM(s, concatM(Array.from({ length: q }, (_, j) => sliceM(rb, (2 * j + 1) * n, (2 * j + 2) * n))), concatM(Array.from({ length: q }, (_, j) => sliceM(rb, 2 * j * n, (2 * j + 1) * n)))) : undefined;
    const lt = await bitLtM(s, bitsOf(cs, m), rb, m, pairs);
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
  it('m = 1, 2, 3, 4: every pair (c, r) of m-bit values; m = 5 random; level 1 computed or from precomputed products', async () => {
    for (const withPairs of [false, true]) {
      for (const m of [1, 2, 3, 4]) {
        const all = Array.from({ length: 1 << m }, (_, v) => BigInt(v));
        const cs = all.flatMap((c) => all.map(() => c)), rs = all.flatMap(() => all);
        expect(await compare(cs, rs, m, withPairs), `m = ${m}, level 1 precomputed: ${withPairs}`).toEqual(cs.map((c, i) => (c < rs[i]! ? 1n : 0n)));
      }
      const cs = randomValues(40, 5), rs = randomValues(40, 5);
      expect(await compare(cs, rs, 5, withPairs)).toEqual(cs.map((c, i) => (c < rs[i]! ? 1n : 0n)));
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
      // With the level-1 products given: one level fewer.
      const q = bitLtPairs(m);
      const r2 = await runMal3(async (s: MalSession) => bitLtM(s, new Uint8Array(n * m), publicM(s, bits), m, q > 0 ? publicM(s, alloc128(q * n)) : undefined));
      values(r2);
      expect({ rounds: r2.rounds - setupCost().rounds, bytes: r2.bytes - setupCost().bytes }, `pairs, n = ${n}, m = ${m}`).toEqual(bitLtCostM(n, m, true));
      expect(bitLtCostM(n, m, true).rounds).toBe(Math.max(0, Math.ceil(Math.log2(m)) - 1));
    }
  });

  it('refuses bits that are not a whole number of m-bit values (E_SHAPE, the session aborts)', async () => {
    const r = await runMal3(async (s) => bitLtM(s, new Uint8Array(5), publicM(s, alloc128(5)), 2));
    for (const o of r.outcomes) expect(o.status === 'rejected' && (o.reason as { code?: string }).code).toBe('E_SHAPE');
  });
});
