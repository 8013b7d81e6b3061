import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isMpcError } from '../errors.js';
import type { Cost } from '../primitives/cost.js';
import type { PartyId } from '../ring/types.js';
import { runMal3, values, type MalRun } from '../testing/cheat.js';
import { fromBigints, toBigints } from './ring128.js';
import { addPublicM, reconstructRep, type MShare } from './rep.js';
import { setupCost, type MalSession } from './session.js';
import { mulM } from './product.js';
import { openCost, openLow } from './open.js';
import { inputM, publicM } from './input.js';
import { macCheck } from './mac-check.js';
import { TRUNC_ELL, truncCostM, truncM, truncMaskCostM, truncMaskM, truncOnlineCostM } from './trunc.js';

const codes = (r: MalRun<unknown>): string[] => r.outcomes.map((o) => (o.status === 'fulfilled' ? 'output' : isMpcError(o.reason) ? o.reason.code : String(o.reason)));
/** A uniform signed integer with |x| < 2^(bits - 1). */
const randSigned = (bits: number): bigint => {
  const v = BigInt('0x' + randomBytes(8).toString('hex')) & ((1n << BigInt(bits - 1)) - 1n);
  return randomBytes(1)[0]! & 1 ? -v : v;
};
const own = (s: MalSession, p: PartyId, xs: bigint[]) => (s.party === p ? fromBigints(xs) : null);
/** The three parties' results as signed integers (dealer-side reconstruction, checking the copies). */
const signed = (zs: [MShare, MShare, MShare]): bigint[] => toBigints(reconstructRep([zs[0].x, zs[1].x, zs[2].x])).map((v) => BigInt.asIntN(128, v));

/** 0, ±1, ±max magnitude, the most negative value, exact multiples of 2^f, and random values, for |x| < 2^(ell-1). */
function edges(f: number, ell: number): bigint[] {
  const max = (1n << BigInt(ell - 1)) - 1n, p = 1n << BigInt(f);
  const xs = [0n, 1n, -1n, max, -max, -(max + 1n), p, -p, 3n * p, -3n * p, (max >> BigInt(f)) << BigInt(f), -((max >> BigInt(f)) << BigInt(f)), p - 1n, -(p - 1n), p + 1n];
  for (let i = 0; i < 10; i++) xs.push(randSigned(ell));
  return xs.filter((x) => x <= max && x >= -(max + 1n));
}

async function truncRun(xs: bigint[], f: number, ell: number): Promise<bigint[]> {
  const r = await runMal3(async (s) => {
    const x = await inputM(s, 1, own(s, 1, xs), xs.length);
    const z = await truncM(s, x, f, ell);
    await macCheck(s);
    return z;
  });
  return signed(values(r));
}

describe('truncM (TruncPr over Z_2^k with the mask\'s top bit): x / 2^f within one unit, on random and edge inputs', () => {
  it('gives floor(x / 2^f) or one more for every f, ell (both sides of the word boundaries), exact on multiples of 2^f; the result is an exact signed lift', async () => {
    for (const [f, ell] of [[13, 48], [16, 48], [1, 2], [4, 16], [16, 31], [16, 32], [20, 63], [31, 63], [32, 63], [33, 40], [8, 33]] as const) {
      const xs = edges(f, ell);
      const z = await truncRun(xs, f, ell);
      xs.forEach((x, i) => {
        const floor = x >> BigInt(f), d = z[i]! - floor;
        expect(d === 0n || d === 1n, `f = ${f}, ell = ${ell}, x = ${x}: got ${z[i]}, floor ${floor}`).toBe(true);
        if (x % (1n << BigInt(f)) === 0n) expect(z[i], `f = ${f}, ell = ${ell}, x = ${x} (a multiple of 2^f)`).toBe(floor);
      });
    }
  });

  it('reads only the low 64 bits of x: high bits 2^64 h (garbage a cheater can add undetected, or a non-lifted value) do not change the result mod 2^64', async () => {
    const f = 16, ell = TRUNC_ELL, xs = edges(f, ell), n = xs.length;
    const hs = Array.from({ length: n }, (_, i) => (i === 0 ? (1n << 64n) - 1n : BigInt('0x' + randomBytes(8).toString('hex'))));
    const r = await runMal3(async (s) => {
      const x = await inputM(s, 2, own(s, 2, xs), n);
      const high = addPublicM(s.party, s.alpha, x, fromBigints(hs.map((h) => h << 64n)), s.ctx.kernels);
      const z = await truncM(s, high, f, ell);
      await macCheck(s);
      return z;
    });
    const z = signed(values(r));
    xs.forEach((x, i) => {
      const d = BigInt.asIntN(64, z[i]! - (x >> BigInt(f)));
      expect(d === 0n || d === 1n, `x = ${x}`).toBe(true);
    });
  });

  it('rounds up with probability (x mod 2^f) / 2^f (TruncPr\'s rounding; unbiased)', async () => {
    const n = 1500, f = 8;
    const xs = Array.from({ length: n }, (_, i) => (i % 2 ? 5n * 256n + 64n : -(7n * 256n) + 64n)); // fraction 1/4 for both signs
    const z = await truncRun(xs, f, 24);
    const up = z.filter((v, i) => v === (xs[i]! >> 8n) + 1n).length;
    expect(z.every((v, i) => v - (xs[i]! >> 8n) === 0n || v - (xs[i]! >> 8n) === 1n)).toBe(true);
    // Binomial(1500, 1/4): sd 16.8; 6 sd.
    expect(Math.abs(up - n / 4)).toBeLessThan(101);
  });

  it('after a product of two fixed-point values with f = 16 (the real use): within one unit of floor(a b / 2^16)', async () => {
    const f = 16, n = 24;
    const enc = (v: number): bigint => BigInt(Math.round(v * 2 ** f));
    const as = [0, -1 / 65536, 1, -1, 127.99, -128, ...Array.from({ length: n - 6 }, (_, i) => ((i * 37) % 200) - 100 + i / 7)].map(enc);
    const bs = [5, 3, -1, -1, 127.99, 127.99, ...Array.from({ length: n - 6 }, (_, i) => 50 - ((i * 53) % 100) - i / 11)].map(enc);
    const r = await runMal3(async (s) => {
      const a = await inputM(s, 0, own(s, 0, as), n);
      const b = await inputM(s, 2, own(s, 2, bs), n);
      const z = await truncM(s, await mulM(s, a, b), f);
      await macCheck(s);
      return z;
    });
    const z = signed(values(r));
    as.forEach((a, i) => {
      const d = z[i]! - ((a * bs[i]!) >> BigInt(f));
      expect(d === 0n || d === 1n, `element ${i}`).toBe(true);
    });
  });

  it('masks made before the input (truncMaskM) give the same results; the online part is one opening; a mask is used once', async () => {
    const xs = edges(16, TRUNC_ELL), n = xs.length;
    const r = await runMal3(async (s) => {
      const mask = await truncMaskM(s, n, 16);
      const x = await inputM(s, 0, own(s, 0, xs), n);
      const before = { d: s.ctx.transport.counters.depth, b: s.ctx.transport.counters.bytesSent };
      const z = await truncM(s, x, 16, TRUNC_ELL, mask);
      const online = { d0: before.d, d1: s.ctx.transport.counters.depth, b: s.ctx.transport.counters.bytesSent - before.b };
      await macCheck(s);
      return { z, online, used: mask.used };
    });
    const v = values(r);
    signed([v[0].z, v[1].z, v[2].z]).forEach((z, i) => { const d = z - (xs[i]! >> 16n); expect(d === 0n || d === 1n).toBe(true); });
    expect(v.map((p) => p.used)).toEqual([true, true, true]);
    expect(v.reduce((t, p) => t + p.online.b, 0)).toBe(truncOnlineCostM(n).bytes);
    // Rounds: the deepest party after, less the deepest before (Lamport depth).
    expect(Math.max(...v.map((p) => p.online.d1)) - Math.max(...v.map((p) => p.online.d0))).toBe(truncOnlineCostM(n).rounds);
    // Reuse: refused at every party before any message (E_BAD_ARGUMENT), the session then refuses everything.
    const again = await runMal3(async (s) => {
      const mask = await truncMaskM(s, 2, 4, 12);
      const x = publicM(s, fromBigints([5n, -9n]));
      await truncM(s, x, 4, 12, mask);
      return truncM(s, x, 4, 12, mask);
    });
    expect(codes(again)).toEqual(['E_BAD_ARGUMENT', 'E_BAD_ARGUMENT', 'E_BAD_ARGUMENT']);
    // A mask for other parameters: E_SHAPE.
    for (const [n2, f2, ell2] of [[3, 4, 12], [2, 5, 12], [2, 4, 13]] as const) {
      const other = await runMal3(async (s) => truncM(s, publicM(s, fromBigints([5n, -9n])), 4, 12, await truncMaskM(s, n2, f2, ell2)));
      expect(codes(other), `${n2}, ${f2}, ${ell2}`).toEqual(['E_SHAPE', 'E_SHAPE', 'E_SHAPE']);
    }
  });

  it('a cheater that computes with a wrong share of x or of its mask (one copy changed in a low bit) makes both honest parties abort, unless the change had no effect', async () => {
    const xs = [100n, -7n, 0n];
    for (const what of ['x', 'r', 'rShift', 'top'] as const) {
      let aborts = 0;
      for (const cheater of [0, 1, 2] as PartyId[]) {
        const r = await runMal3(async (s) => {
          const mask = await truncMaskM(s, 3, 4, 12);
          const x = await inputM(s, 0, own(s, 0, xs), 3);
          if (s.party === cheater) for (const w of [0, 4, 8]) (what === 'x' ? x : mask[what]).x.a[w]! ^= 1; // every element of its share x_i, low bit
          const out = await openLow(s, await truncM(s, x, 4, 12, mask));
          await macCheck(s);
          return Array.from(out);
        });
        const c = codes(r), honest = ([0, 1, 2] as PartyId[]).filter((q) => q !== cheater);
        if (c[honest[0]!] === 'output' && c[honest[1]!] === 'output') {
          // Possible only where the change is multiplied by a public 0: the top bit where c's bit m - 1 is 1 (w = b_{m-1}(1 - c_{m-1})).
          expect(what, `P${cheater} changes its ${what}`).toBe('top');
          for (const o of honest) { const v = r.outcomes[o]; if (v.status === 'fulfilled') v.value.forEach((z, i) => { const d = BigInt.asIntN(64, z) - (xs[i]! >> 4n); expect(d === 0n || d === 1n).toBe(true); }); }
        } else {
          aborts++;
          for (const p of honest) expect(c[p], `P${cheater} changes its ${what}: P${p}`).toBe('E_INTEGRITY');
        }
      }
      expect(aborts, what).toBeGreaterThan(0);
    }
  });

  it('declared costs (rounds, bytes) match the in-memory transport\'s counters', async () => {
    const alone = async (fn: (s: MalSession) => Promise<unknown>): Promise<Cost> => {
      const r = await runMal3(fn);
      values(r);
      return { rounds: r.rounds - setupCost().rounds, bytes: r.bytes - setupCost().bytes };
    };
    for (const [n, f, ell] of [[1, 13, 48], [5, 16, 48], [3, 4, 12], [2, 30, 63]] as const) {
      const x = Array.from({ length: n }, () => randSigned(ell));
      expect(await alone((s) => truncM(s, publicM(s, fromBigints(x)), f, ell)), `${n}, ${f}, ${ell}`).toEqual(truncCostM(n, f, ell));
      expect(await alone((s) => truncMaskM(s, n, f, ell))).toEqual(truncMaskCostM(n, f, ell));
    }
    expect(truncCostM(1, 16)).toEqual({ rounds: 4, bytes: 240 * 49 + 48 + openCost(1).bytes });
    expect(truncOnlineCostM(7)).toEqual(openCost(7));
  });

  it('refuses bad parameters with a coded error at every party (f outside [1, ell - 1], ell outside [2, 63], no elements)', async () => {
    for (const [f, ell, n, code] of [[0, 48, 2, 'E_BAD_ARGUMENT'], [48, 48, 2, 'E_BAD_ARGUMENT'], [16, 64, 2, 'E_BAD_ARGUMENT'], [1, 1, 2, 'E_BAD_ARGUMENT'], [1.5, 48, 2, 'E_BAD_ARGUMENT'], [16, 48, 0, 'E_SHAPE']] as const) {
      const r = await runMal3(async (s) => truncM(s, publicM(s, fromBigints(Array.from({ length: n }, () => 3n))), f, ell));
      expect(codes(r), `f = ${f}, ell = ${ell}, n = ${n}`).toEqual([code, code, code]);
    }
  });
});
