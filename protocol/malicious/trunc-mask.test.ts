/**
 * The truncation mask from the pair PRGs (trunc-mask.ts): the mask is
 * exactly (r, (r mod 2^m) >> f, bit m-1 of r mod 2^m) on random components
 * and on chosen ones that reach every carry (q = 0, 1, 2; kappa = 0, 1, 2;
 * top = 0, 1), its declared cost matches the counters, truncM with it
 * stays within floor(x / 2^f) + {0, 1} (exact on multiples of 2^f), the
 * maker is chosen by bytes offline and by bytes and rounds online (both
 * choices exact, their costs matching the counters), a cheater on any of its messages or splitting
 * another copy of its component is caught, a mask keeps only what the pool
 * counts, and overlapping calls on one session neither hide ANDs nor output.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Cost } from '../primitives/cost.js';
import type { PartyId } from '../ring/types.js';
import { runMal3, values } from '../testing/cheat.js';
import { everyAlteration } from '../testing/cheat-loop.js';
import { fromBigints, toBigints } from './ring128.js';
import { reconstructRep, type MShare, type Rep } from './rep.js';
import { setupCost, type MalSession } from './session.js';
import { macCheck } from './mac-check.js';
import { inputM, publicM } from './input.js';
import { openLow } from './open.js';
import { materialBytes } from './mask-pool.js';
import { andB } from './binary/and.js';
import { randomB } from './binary/bshare.js';
import { pendingWords } from './binary/state.js';
import { splitMask, splitMaskFrom, truncMaskSplitCostM } from './trunc-mask.js';
import { maskScore, ROUND_BYTES, truncCostM, truncM, truncMaskBitsCostM, truncMaskCostM, truncMaskM, usesSplitMask, type TruncMask } from './trunc.js';
import { makeMask } from './mask-source.js';

/** The mask an offline batch makes for a truncation request (mask-pool.ts: the registered maker, the offline choice). */
const offlineMask = (s: MalSession, n: number, f: number, ell: number): Promise<TruncMask> => makeMask(s, { kind: 'trunc', n, params: [f, ell] }) as Promise<TruncMask>;
/** The split maker's mask as a TruncMask (whatever usesSplitMask would pick). */
const splitTruncMask = async (s: MalSession, n: number, f: number, ell: number): Promise<TruncMask> => ({ n, f, ell, ...(await splitMask(s, n, f, ell)), used: false });

const rand128 = (): bigint => BigInt('0x' + randomBytes(16).toString('hex'));
const M128 = (1n << 128n) - 1n;
const value = (zs: [MShare, MShare, MShare]): bigint[] => toBigints(reconstructRep([zs[0].x, zs[1].x, zs[2].x]));

/** Party i's part (u_i, u_{i+1}) of components u[j] (one list per component). */
const partOf = (p: PartyId, u: [bigint[], bigint[], bigint[]]): Rep => ({ a: fromBigints(u[p]), b: fromBigints(u[(p + 1) % 3]!) });

/** Components that reach every carry: all ones below 2^m (q = 2, kappa = 2), zeros, one 2^(m-1), low parts 2^f - 1, and random. */
function components(n: number, m: number, f: number): [bigint[], bigint[], bigint[]] {
  const M = (1n << BigInt(m)) - 1n, F = (1n << BigInt(f)) - 1n, hi = (h: bigint) => rand128() & ~M | h;
  const fixed: [bigint, bigint, bigint][] = [
    [M, M, M], [0n, 0n, 0n], [1n << BigInt(m - 1), 0n, 0n], [F, F, F], [F, 1n, 0n], [M, 1n, 0n], [M - F, F + 1n, 0n],
    [1n << BigInt(m - 1), 1n << BigInt(m - 1), 1n << BigInt(m - 1)], [hi(M), hi(M), hi(0n)],
  ];
  const u: [bigint[], bigint[], bigint[]] = [[], [], []];
  for (let e = 0; e < n; e++) {
    const c = fixed[e] ?? [rand128(), rand128(), rand128()];
    for (let j = 0; j < 3; j++) u[j]!.push(c[j]! & M128);
  }
  return u;
}

describe('truncation mask from the pair PRGs (trunc-mask.ts, edaBit-style split)', () => {
  it('is exactly r = u_0 + u_1 + u_2, r\' = (r mod 2^m) >> f, top = bit m-1, on chosen components (every carry) and random ones', async () => {
    for (const [f, ell] of [[13, 48], [24, 57], [1, 2], [1, 12], [11, 12], [2, 16], [30, 63], [20, 52], [31, 40], [32, 63], [33, 63]] as const) {
      const m = ell + 1, n = 20, u = components(n, m, f);
      const r = await runMal3(async (s) => {
        const mk = await splitMaskFrom(s, partOf(s.party, u), n, f, ell);
        await macCheck(s);
        return mk;
      });
      const v = values(r);
      const R = value([v[0].r, v[1].r, v[2].r]), Rs = value([v[0].rShift, v[1].rShift, v[2].rShift]), T = value([v[0].top, v[1].top, v[2].top]);
      const seen = new Set<string>();
      for (let e = 0; e < n; e++) {
        const sum = u[0][e]! + u[1][e]! + u[2][e]!, low = sum & ((1n << BigInt(m)) - 1n);
        const S = [0, 1, 2].reduce((t, j) => t + (u[j]![e]! & ((1n << BigInt(m)) - 1n)), 0n);
        const kappa = [0, 1, 2].reduce((t, j) => t + (u[j]![e]! & ((1n << BigInt(f)) - 1n)), 0n) >> BigInt(f);
        seen.add(`q${S >> BigInt(m)}`); seen.add(`k${kappa}`); seen.add(`t${(low >> BigInt(m - 1)) & 1n}`);
        const at = `f = ${f}, ell = ${ell}, element ${e}`;
        expect(R[e], at).toBe(sum & M128);
        expect(Rs[e], at).toBe(low >> BigInt(f)); // an exact lift: no multiple of 2^64 left over
        expect(T[e], at).toBe((low >> BigInt(m - 1)) & 1n);
      }
      for (const c of ['q0', 'q1', 'q2', 'k0', 'k1', ...(f >= 2 ? ['k2'] : []), 't0', 't1']) expect(seen.has(c), `f = ${f}, ell = ${ell}: ${c} reached`).toBe(true);
    }
  }, 120_000);

  it('declared costs (rounds, bytes) match the in-memory transport\'s counters, alone and inside truncMaskM / truncM', async () => {
    const alone = async (fn: (s: MalSession) => Promise<unknown>): Promise<Cost> => {
      const r = await runMal3(fn);
      values(r);
      return { rounds: r.rounds - setupCost().rounds, bytes: r.bytes - setupCost().bytes };
    };
    const differ: string[] = [];
    for (const [n, f, ell] of [[9, 13, 48], [64, 13, 48], [65, 24, 57], [130, 16, 48], [20, 1, 2], [40, 30, 63], [17, 2, 12], [700, 13, 48]] as const) {
      expect(await alone((s) => splitMask(s, n, f, ell)), `${n}, ${f}, ${ell}`).toEqual(truncMaskSplitCostM(n, f, ell));
      const split = truncMaskSplitCostM(n, f, ell), bits = truncMaskBitsCostM(n, ell);
      expect(usesSplitMask(n, f, ell, 'offline'), `${n}, ${f}, ${ell}`).toBe(split.bytes < bits.bytes);
      expect(usesSplitMask(n, f, ell), `${n}, ${f}, ${ell}`).toBe(split.bytes + ROUND_BYTES.online * split.rounds < bits.bytes + ROUND_BYTES.online * bits.rounds);
      if (usesSplitMask(n, f, ell) !== usesSplitMask(n, f, ell, 'offline')) differ.push(`${n}, ${f}, ${ell}`);
      // Inline (truncMaskM: the online choice) and in an offline batch (the registered maker: the offline choice).
      expect(await alone((s) => truncMaskM(s, n, f, ell))).toEqual(truncMaskCostM(n, f, ell));
      expect(await alone((s) => offlineMask(s, n, f, ell))).toEqual(truncMaskCostM(n, f, ell, 'offline'));
      const x = Array.from({ length: n }, (_, i) => BigInt(i) - 3n);
      expect(await alone((s) => truncM(s, publicM(s, fromBigints(x)), f, ell))).toEqual(truncCostM(n, f, ell));
    }
    expect(differ.length).toBeGreaterThanOrEqual(4); // the two choices differ on most of these sizes: both costs were checked
  }, 120_000);

  it('is chosen offline wherever it sends fewer bytes (from 9 elements at ell = 48), online only where its bytes and rounds weigh less (from 215): Network A\'s truncations keep the 3-round mask inline', () => {
    expect(usesSplitMask(8, 13, 48, 'offline')).toBe(false);
    expect(usesSplitMask(9, 13, 48, 'offline')).toBe(true);
    expect(usesSplitMask(214, 13, 48)).toBe(false);
    expect(usesSplitMask(215, 13, 48)).toBe(true);
    for (let n = 215; n <= 20_000; n += 97) expect(usesSplitMask(n, 13, 48), `n = ${n}`).toBe(true);
    // The score: bytes + ROUND_BYTES per round; offline the rounds weigh nothing (the rule before).
    expect(maskScore({ rounds: 3, bytes: 100 }, 'online')).toBe(100 + 3 * ROUND_BYTES.online);
    expect(maskScore({ rounds: 3, bytes: 100 }, 'offline')).toBe(100);
    // Network A at batch 1 (Dense 128, 128, 10) inline: the bits (3 rounds each, 45 fewer than the split masks); in a pool batch: split.
    for (const n of [10, 128]) {
      expect(truncMaskCostM(n, 13, 48)).toEqual(truncMaskBitsCostM(n, 48));
      expect(truncMaskCostM(n, 13, 48, 'offline')).toEqual(truncMaskSplitCostM(n, 13, 48));
    }
    // At batch 8 the 1,024-element layers take the split mask inline too (measured 2.7x faster served, docs/MALICIOUS.md).
    expect(usesSplitMask(1024, 13, 48)).toBe(true);
    expect(truncMaskCostM(8, 13, 48)).toEqual(truncMaskBitsCostM(8, 48));
    const per = (n: number, f: number, ell: number) => truncMaskCostM(n, f, ell).bytes / n;
    expect(usesSplitMask(100_000, 24, 57)).toBe(true);
    expect(Math.round(per(100_000, 13, 48))).toBe(2200); // was 11,808
    expect(per(100_000, 24, 57)).toBeLessThan(2400); // was 13,968
    expect(truncMaskSplitCostM(100_000, 13, 48).rounds).toBe(18); // was 3
  });

  it('a party splitting another copy of its component (a local deviation, no message altered) is caught before any output', async () => {
    const n = 20, f = 13, ell = 48, m = ell + 1, u = components(n, m, f);
    // bits below m: the circuit's split (caught by the ANDs' check in the maker); bit 55 (m <= 55 < 64): read by U and V only (the MAC check)
    for (const [cheater, bit] of [[0, 0], [1, m - 1], [2, f], [0, 40], [1, 55]] as const) {
      const r = await runMal3(async (s) => {
        const mine = partOf(s.party, u);
        if (s.party === cheater) mine.a[4 * 7 + (bit >>> 5)]! ^= 1 << (bit & 31); // element 7 of u_cheater, at one holder only
        const mk = await s.guard('mal.truncMask', () => splitMaskFrom(s, mine, n, f, ell)); // the guard sends the abort notice, as truncMaskM's
        await macCheck(s);
        return mk;
      });
      for (const p of [0, 1, 2].filter((q) => q !== cheater)) expect((r.outcomes[p]! as PromiseRejectedResult).reason?.code, `P${cheater} bit ${bit}: P${p}`).toBe('E_INTEGRITY');
    }
  });

  it('overlapping calls in one session: the ANDs made before the mask stay pending for the MAC check, and an overlapping chain never yields an output', async () => {
    // Made while the mask's carry circuit runs (its 6th message sent): the session's pending ANDs must still show the
    // AND made before it (100 words), so that a MAC check then (another chain of the session) verifies it. As merged,
    // the mask took them out of the session for its own check and put them back after: an overlapping check saw
    // none of them.
    const seen = values(await runMal3(async (s) => {
      await andB(s, randomB(s.ctx, 64 * 100), randomB(s.ctx, 64 * 100));
      const c = s.ctx.transport.counters, from = c.messagesSent;
      const mask = splitMask(s, 16, 4, 20);
      while (c.messagesSent < from + 6) await null;
      const during = pendingWords(s);
      await mask;
      const after = pendingWords(s);
      await macCheck(s);
      return { during, after, end: pendingWords(s) };
    }));
    for (const v of seen) expect(v).toEqual({ during: 100, after: 100, end: 0 });
    // Two chains at once on one session (a mask and a MAC check, or two masks): the parties' ordered message queues
    // fall out of step, and every party aborts (E_INTEGRITY); none returns a value.
    for (const second of [(s: MalSession) => macCheck(s), (s: MalSession) => splitMask(s, 16, 4, 20)]) {
      const r = await runMal3(async (s) => {
        await andB(s, randomB(s.ctx, 64 * 100), randomB(s.ctx, 64 * 100));
        const c = s.ctx.transport.counters, from = c.messagesSent;
        const mask = splitMask(s, 16, 4, 20);
        while (c.messagesSent < from + 6) await null;
        await Promise.all([mask, second(s)]);
        await macCheck(s);
        return 'output';
      });
      for (const o of r.outcomes) expect(o.status === 'rejected' && (o.reason as { code?: string }).code).toBe('E_INTEGRITY');
    }
  });

  it('a mask holds no more memory than the pool counts (materialBytes: no view into a larger buffer), from either maker', async () => {
    /** The bytes of the distinct ArrayBuffers reachable from x: what keeping x in memory costs. */
    const retained = (x: unknown, bufs = new Set<ArrayBufferLike>(), seen = new Set<unknown>()): number => {
      if (x === null || typeof x !== 'object' || seen.has(x)) return 0;
      seen.add(x);
      if (ArrayBuffer.isView(x)) { if (bufs.has(x.buffer)) return 0; bufs.add(x.buffer); return x.buffer.byteLength; }
      return Object.values(x as Record<string, unknown>).reduce((t: number, v) => t + retained(v, bufs, seen), 0);
    };
    for (const n of [8, 100]) {
      for (const where of ['online', 'offline'] as const) {
        const r = await runMal3((s) => (where === 'online' ? truncMaskM(s, n, 13, 48) : offlineMask(s, n, 13, 48)));
        for (const mk of values(r)) {
          expect(materialBytes(mk), `n = ${n}`).toBe(3 * 64 * n); // r, r', top: 4 share vectors of 16 bytes each
          expect(retained(mk), `n = ${n} (${usesSplitMask(n, 13, 48, where) ? 'split' : 'bits'} mask)`).toBe(materialBytes(mk));
        }
      }
    }
    expect(usesSplitMask(100, 13, 48, 'offline') && !usesSplitMask(100, 13, 48)).toBe(true); // both makers' masks were measured
  });

  it('truncM with either maker\'s mask (online / offline choice, and the split one explicitly): floor(x / 2^f) or one more on random and edge inputs (0, ±1, ±max magnitude, multiples of 2^f exact)', async () => {
    for (const [f, ell] of [[13, 48], [24, 57], [20, 63], [4, 12]] as const) {
      const max = (1n << BigInt(ell - 1)) - 1n, p = 1n << BigInt(f);
      const xs = [0n, 1n, -1n, max, -max, -(max + 1n), p, -p, 5n * p, -7n * p, p - 1n, -(p - 1n), (max >> BigInt(f)) << BigInt(f)];
      while (xs.length < 40) xs.push(BigInt.asIntN(ell, rand128()) >> 1n);
      const makers = {
        online: (s: MalSession) => truncMaskM(s, xs.length, f, ell),
        offline: (s: MalSession) => offlineMask(s, xs.length, f, ell),
        split: (s: MalSession) => splitTruncMask(s, xs.length, f, ell),
      };
      expect(usesSplitMask(xs.length, f, ell, 'offline')).toBe(true);
      for (const [name, make] of Object.entries(makers)) {
        const r = await runMal3(async (s) => {
          const x = await inputM(s, 2, s.party === 2 ? fromBigints(xs) : null, xs.length);
          const z = await truncM(s, x, f, ell, await make(s));
          await macCheck(s);
          return z;
        });
        const z = value(values(r)).map((v) => BigInt.asIntN(128, v));
        xs.forEach((x, i) => {
          const d = z[i]! - (x >> BigInt(f));
          expect(d === 0n || d === 1n, `${name} mask, f = ${f}, ell = ${ell}, x = ${x}: ${z[i]}`).toBe(true);
          if (x % p === 0n) expect(d, `${name} mask, x = ${x} (a multiple of 2^f)`).toBe(0n);
        });
      }
    }
  }, 120_000);

  it('a cheater on any message of the split mask (each party, each alteration) makes every honest party abort', async () => {
    const XS = Array.from({ length: 16 }, (_, i) => BigInt(i * 1000 - 7000)), F = 4, ELL = 20;
    const { cases } = await everyAlteration(async (s) => {
      const x = await inputM(s, 1, s.party === 1 ? fromBigints(XS) : null, XS.length);
      const mask = await s.guard('mal.truncMask', () => splitTruncMask(s, XS.length, F, ELL)); // the split maker, whatever the choice at this size
      const out = await openLow(s, await truncM(s, x, F, ELL, mask));
      await macCheck(s);
      return Array.from(out);
    }, (v) => v.forEach((z, i) => { const d = BigInt.asIntN(64, z) - (XS[i]! >> BigInt(F)); expect(d === 0n || d === 1n).toBe(true); }), 15);
    expect(cases).toBeGreaterThan(400); // 3 parties x about 38 messages x 4 alterations, less the no-op replays
  }, 300_000);
});
