import { describe, expect, it } from 'vitest';
import { isMpcError } from '../errors.js';
import type { PartyId } from '../ring/types.js';
import { runMal3, values, type MalRun } from '../testing/cheat.js';
import { setupCost } from './session.js';
import { macCheck } from './mac-check.js';
import { openLow } from './open.js';
import { pairBits, randBitsCost, randBitsM, xorPairBits } from './randbits.js';

const codes = (r: MalRun<unknown>): string[] => r.outcomes.map((o) => (o.status === 'fulfilled' ? 'output' : isMpcError(o.reason) ? o.reason.code : String(o.reason)));

describe('randBitsM (parity of three pair-PRG bits, MACed): random bits of the malicious mode', () => {
  it('gives n values each exactly 0 or 1 (the low 64 bits), the same at the three parties, about half ones; the MAC check passes', async () => {
    const n = 4000;
    const r = await runMal3(async (s) => {
      const b = await randBitsM(s, n);
      const out = await openLow(s, b);
      await macCheck(s);
      return Array.from(out);
    });
    const [v0, v1, v2] = values(r);
    expect(v1).toEqual(v0);
    expect(v2).toEqual(v0);
    expect(v0.every((b) => b === 0n || b === 1n)).toBe(true);
    const ones = v0.filter((b) => b === 1n).length;
    // Binomial(4000, 1/2): sd 31.6; 6 sd either side.
    expect(Math.abs(ones - n / 2)).toBeLessThan(190);
    // Pairs of consecutive bits: the four patterns about equally often (no bit copies its neighbour).
    const pairs = [0, 0, 0, 0];
    for (let e = 0; e + 1 < n; e += 2) pairs[Number(v0[e]! * 2n + v0[e + 1]!)]!++;
    for (const c of pairs) expect(Math.abs(c - n / 8)).toBeLessThan(6 * Math.sqrt((n / 2) * (1 / 4) * (3 / 4)));
  });

  it('two calls give different bits, and no single party\'s pair bits determine them (each party misses one of the three)', async () => {
    const n = 256;
    const r = await runMal3(async (s) => {
      const t = pairBits(s.ctx, n);
      const b = await xorPairBits(s, t);
      const c = await randBitsM(s, n);
      const out = [Array.from(await openLow(s, b)), Array.from(await openLow(s, c))];
      await macCheck(s);
      // What this party knows: its two shares t_i (a) and t_{i+1} (b), one bit per element.
      const known = (v: Uint32Array) => Array.from({ length: n }, (_, e) => BigInt(v[4 * e]!));
      return { out, mine: known(t.a), theirs: known(t.b) };
    });
    const vs = values(r);
    const [b, c] = vs[0].out;
    expect(b).not.toEqual(c);
    // The three pair bits XOR to b; P_i's two known bits alone agree with b on about half the elements.
    const t = [vs[0].mine, vs[1].mine, vs[2].mine];
    expect(vs[0].theirs).toEqual(t[1]);
    expect(b).toEqual(t[0].map((x, e) => x ^ t[1]![e]! ^ t[2]![e]!));
    for (const p of [0, 1, 2] as PartyId[]) {
      const guess = vs[p].mine.map((x, e) => x ^ vs[p].theirs[e]!);
      const agree = guess.filter((g, e) => g === b![e]).length;
      expect(Math.abs(agree - n / 2), `P${p}`).toBeLessThan(6 * Math.sqrt(n / 4));
    }
  });

  it('a party that uses a non-bit (2, or 2^64 + 1) for one of its pair bits is caught at both honest parties (by the opening\'s copy check or the MAC check)', async () => {
    for (const cheater of [0, 1, 2] as PartyId[]) {
      for (const [copy, value] of [['a', 2], ['b', 2], ['a', -1]] as const) {
        const n = 8;
        const r = await runMal3(async (s) => {
          const t = pairBits(s.ctx, n);
          if (s.party === cheater) {
            // Element 3 of its copy of t_i (a) or t_{i+1} (b); -1 means 2^64 + 1 (a bit mod 2^64, not mod 2^128: also a deviation).
            if (value === 2) t[copy][12] = 2;
            else { t[copy][12] = 1; t[copy][14] = 1; }
          }
          const out = await openLow(s, await xorPairBits(s, t));
          await macCheck(s);
          return Array.from(out);
        });
        const label = `P${cheater} puts ${value === 2 ? '2' : '2^64 + 1'} in its ${copy}`;
        const honest = ([0, 1, 2] as PartyId[]).filter((q) => q !== cheater);
        for (const p of honest) expect(codes(r)[p], `${label}: P${p}`).toBe('E_INTEGRITY');
        // At least one honest party found the deviation itself (the other may learn of it by its abort notice).
        const found = honest.filter((p) => { const o = r.outcomes[p]; return o.status === 'rejected' && /MAC check failed|disagree/.test(String(o.reason)); });
        expect(found.length, label).toBeGreaterThan(0);
      }
    }
  });

  it('declared cost (rounds, bytes) matches the in-memory transport\'s counters', async () => {
    for (const n of [1, 5, 64]) {
      const r = await runMal3((s) => randBitsM(s, n));
      values(r);
      expect({ rounds: r.rounds - setupCost().rounds, bytes: r.bytes - setupCost().bytes }, `n = ${n}`).toEqual(randBitsCost(n));
      expect(r.transports.reduce((t, x) => t + (x.steps.get('mal.randBits')?.bytesSent ?? 0), 0)).toBe(randBitsCost(n).bytes);
    }
    expect(randBitsCost(10)).toEqual({ rounds: 3, bytes: 2400 });
  });

  it('refuses a bad count with E_SHAPE at every party before any protocol message, and the session refuses later operations', async () => {
    for (const n of [0, -1, 1.5]) {
      const r = await runMal3(async (s) => {
        try {
          return await randBitsM(s, n);
        } finally {
          await expect(randBitsM(s, 1)).rejects.toMatchObject({ code: 'E_INTEGRITY' });
        }
      });
      expect(codes(r)).toEqual(['E_SHAPE', 'E_SHAPE', 'E_SHAPE']);
    }
  });
});
