/**
 * View test for the folded comparison (compare-fold.ts): reluM opens
 * c = x + r and eps = x + rho in one checked opening. As view-compare.test.ts
 * (which runs msbM: no eps), a statistical check, not a proof. The proof:
 * rho is a fresh MACed random element, uniform over Z_2^128 (rep.ts
 * randomRep: one of its three shares comes from the seed of the two other
 * parties), used once, so eps is uniform whatever x; c as in
 * view-compare.test.ts.
 *
 * We run reluM many times on two very different inputs and compare the
 * opened eps (bits ell-2..ell-1, 62-63, 64-65, 126-127) and every message
 * each party receives, between the inputs and against uniform. A leaky
 * variant whose rho has its 64 high bits cleared (rho uniform mod 2^64 only)
 * shows the check has power on eps: bits 64-65 then follow x's sign.
 */
import { describe, expect, it } from 'vitest';
import { bump, worst, type Stats } from '../testing/view-stats.js';
import type { PartyId } from '../ring/types.js';
import { goodnessOfFitZ } from '../privacy/stats.js';
import { runMal3, values } from '../testing/cheat.js';
import { liftSigned, type Vec128 } from './ring128.js';
import type { MalSession } from './session.js';
import { inputM } from './input.js';
import { macCheck } from './mac-check.js';
import { compareMaskM, reluM } from './compare.js';

const RUNS = 120, ELL = 16, N = 4;
const INPUT_A = [0n, 0n, 0n, 0n];
const INPUT_B = [-(1n << 14n), (1n << 15n) - 1n, -1n, -(1n << 15n) + 1n];

/** Two bits of a 128-bit element (4 words) from bit `at` (at even, not crossing a word). */
const twoBits = (v: Vec128, e: number, at: number): number => (v[4 * e + (at >>> 5)]! >>> (at & 31)) & 3;

async function collect(input: bigint[], leaky: boolean): Promise<{ eps: Stats; msgs: Stats }> {
  const eps: Stats = new Map(), msgs: Stats = new Map();
  for (let run = 0; run < RUNS; run++) {
    const r = await runMal3(async (s: MalSession) => {
      const x = await inputM(s, 1, s.party === 1 ? liftSigned(BigUint64Array.from(input.map((v) => BigInt.asUintN(64, v)))) : null, N);
      const mask = await compareMaskM(s, N, ELL, 1);
      if (leaky) for (const v of [mask.rho.x.a, mask.rho.x.b]) for (let e = 0; e < N; e++) { v[4 * e] = v[4 * e]! & (2 ** (ELL - 2) - 1); v.fill(0, 4 * e + 1, 4 * e + 4); }
      const before = s.opened.length;
      await reluM(s, x, ELL, mask);
      const ys = s.opened.slice(before).map((o) => o.y);
      if (!leaky) await macCheck(s); // the leaky rho has no valid MAC
      return ys;
    });
    const views = values(r);
    expect(views[0].length).toBe(1); // one opening: c and eps together
    const y = views[0][0]!;
    expect(y.length).toBe(4 * 2 * N);
    for (let e = 0; e < N; e++) for (const at of [ELL - 2, 62, 64, 126]) bump(eps, `eps[${e}] bits ${at}-${at + 1}`, 4, twoBits(y, N + e, at));
    if (!leaky) {
      ([0, 1, 2] as PartyId[]).forEach((p) => {
        r.transports.flatMap((t) => t.sent.filter((m) => m.to === p)).forEach((m, i) => {
          for (let e = 0; e < m.payload.length / 8; e++) bump(msgs, `P${p}#${i} ${m.tag.replace(/#\d+/, '')}`, 4, m.payload[8 * e + 7]! >>> 6);
        });
      });
    }
  }
  return { eps, msgs };
}

describe('reluM (folded): the opened eps = x + rho and every received message do not depend on x', () => {
  it('eps and the messages are indistinguishable between very different inputs, and eps looks uniform', async () => {
    const A = await collect(INPUT_A, false), B = await collect(INPUT_B, false);
    for (const [stats, other] of [[A.eps, B.eps], [A.msgs, B.msgs]] as const) {
      const w = worst(stats, other);
      expect(w.z, w.key).toBeLessThan(5);
    }
    for (const [key, h] of [...A.eps, ...B.eps]) expect(goodnessOfFitZ(h, [0.25, 0.25, 0.25, 0.25]), key).toBeLessThan(5);
  }, 120_000);

  it('the same check detects a leaky rho, its shares cut to ell - 2 bits', async () => {
    const A = await collect(INPUT_A, true), B = await collect(INPUT_B, true);
    const w = worst(A.eps, B.eps);
    expect(w.z, w.key).toBeGreaterThan(5);
    expect(w.key).toMatch(/bits (14-15|62-63|64-65|126-127)/);
  }, 120_000);
});
