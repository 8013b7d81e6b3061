/**
 * View test for the comparisons (compare.ts msbM, and so DReLU, ReLU and
 * MaxPool, which add only products), in the style of view.test.ts: a
 * statistical check, not a proof. The proof: c = x + r is uniform in
 * Z_2^128 whatever x (r mod 2^ell is uniform from the random bits, 2^ell r'
 * covers the bits above ell), and every other received message is a
 * resharing masked by a fresh zero sharing or a masked opening.
 *
 * We run msbM many times on two very different inputs and compare (a) the
 * opened value c (bits just below and at ell - 1, just above ell, and the
 * top of the 128-bit word), and (b) every message each party receives (top
 * two bits of every 8-byte lane), between the inputs and against uniform. A
 * deliberately leaky variant that opens x + sum 2^i b_i without 2^ell r'
 * shows the check has power (the bits above ell then follow x's sign).
 */
import { describe, expect, it } from 'vitest';
import { bump, worst, type Stats } from '../testing/view-stats.js';
import type { PartyId } from '../ring/types.js';
import { goodnessOfFitZ } from '../privacy/stats.js';
import { runMal3, values } from '../testing/cheat.js';
import { liftSigned, type Vec128 } from './ring128.js';
import { addM, type MShare } from './rep.js';
import type { MalSession } from './session.js';
import { inputM } from './input.js';
import { openM } from './open.js';
import { macCheck } from './mac-check.js';
import { randBitsM } from './randbits.js';
import { sliceM } from './mvec.js';
import { msbM } from './compare.js';

const RUNS = 150, ELL = 16, N = 4;
const INPUT_A = [0n, 0n, 0n, 0n];
const INPUT_B = [-(1n << 14n), (1n << 15n) - 1n, -1n, -(1n << 15n) + 1n];

/** Buckets of the opened c per element: bits ell-2..ell-1, bits ell..ell+1, bits 126..127. */
function opened(s: Stats, c: Vec128): void {
  for (let e = 0; e < c.length / 4; e++) {
    const low = c[4 * e]!;
    bump(s, `c[${e}] bits ${ELL - 2}-${ELL - 1}`, 4, (low >>> (ELL - 2)) & 3);
    bump(s, `c[${e}] bits ${ELL}-${ELL + 1}`, 4, (low >>> ELL) & 3);
    bump(s, `c[${e}] bits 126-127`, 4, c[4 * e + 3]! >>> 30);
  }
}

/** The leaky variant: c = open(x + sum 2^i b_i), no 2^ell r'. */
async function leakyOpen(s: MalSession, x: MShare): Promise<void> {
  const b = await randBitsM(s, N * ELL);
  let r = sliceM(b, (ELL - 1) * N, ELL * N);
  for (let i = ELL - 2; i >= 0; i--) r = addM(addM(r, r), sliceM(b, i * N, (i + 1) * N));
  await openM(s, addM(x, r));
}

async function collect(input: bigint[], leaky: boolean): Promise<{ c: Stats; msgs: Stats }> {
  const c: Stats = new Map(), msgs: Stats = new Map();
  for (let run = 0; run < RUNS; run++) {
    const r = await runMal3(async (s) => {
      const x = await inputM(s, 1, s.party === 1 ? liftSigned(BigUint64Array.from(input.map((v) => BigInt.asUintN(64, v)))) : null, N);
      const before = s.opened.length;
      if (leaky) await leakyOpen(s, x);
      else await msbM(s, x, ELL);
      const cs = s.opened.slice(before).map((o) => o.y);
      await macCheck(s);
      return cs;
    });
    const views = values(r);
    expect(views[0].length).toBe(1); // msbM opens one value: c
    opened(c, views[0][0]!);
    ([0, 1, 2] as PartyId[]).forEach((p) => {
      r.transports.flatMap((t) => t.sent.filter((m) => m.to === p)).forEach((m, i) => {
        for (let e = 0; e < m.payload.length / 8; e++) bump(msgs, `P${p}#${i} ${m.tag.replace(/#\d+/, '')}`, 4, m.payload[8 * e + 7]! >>> 6);
      });
    });
  }
  return { c, msgs };
}

describe('msbM: no single party\'s view, nor the opened c = x + r, depends on x', () => {
  it('the opened c and every received message are indistinguishable between very different inputs, and look uniform', async () => {
    const A = await collect(INPUT_A, false), B = await collect(INPUT_B, false);
    for (const [stats, other] of [[A.c, B.c], [A.msgs, B.msgs]] as const) {
      const w = worst(stats, other);
      expect(w.z, w.key).toBeLessThan(5);
    }
    for (const [key, h] of [...A.c, ...B.c]) expect(goodnessOfFitZ(h, [0.25, 0.25, 0.25, 0.25]), key).toBeLessThan(5);
  }, 120_000);

  it('the same check detects a leaky variant that opens x + sum 2^i b_i without the 2^ell r\' mask', async () => {
    const A = await collect(INPUT_A, true), B = await collect(INPUT_B, true);
    const w = worst(A.c, B.c);
    expect(w.z, w.key).toBeGreaterThan(5); // the threshold the honest protocol stays under
    expect(w.key).toMatch(/bits (16-17|126-127)/);
    const fit = Math.max(...[...A.c].filter(([k]) => /bits (16-17|126-127)/.test(k)).map(([, h]) => goodnessOfFitZ(h, [0.25, 0.25, 0.25, 0.25])));
    expect(fit).toBeGreaterThan(10); // the honest runs stay under 5
  }, 120_000);
});
