/**
 * View simulation for the run-time range sentinel (primitives/range-sentinel.ts):
 * what P0, P1 and P2 receive must not depend on whether the checked values
 * are in range, and what the client receives (s) must say only whether some
 * value was out: with one value out or all out, s is uniform, its low bits
 * too (a count times a random odd r would keep the count's trailing zeros).
 * The same loose statistics as view.test.ts (histograms per message and
 * position, two-sample chi-square); seeds are fixed, so the test is
 * deterministic.
 */
import { describe, expect, it } from 'vitest';
import { Prg } from '../correlated/prg.js';
import { NARROW_RING_BOUND as B, rangeSentinel } from '../primitives/range-sentinel.js';
import type { AShare } from '../ring/types.js';
import { seededPrg } from '../seed-models.js';
import { k, recordViews, type ViewMsg } from '../testing/privacy.js';
import { goodnessOfFitZ, twoSampleChiSquareZ } from './stats.js';

const N = 16, RUNS = 150;
const u = (v: bigint): bigint => BigInt.asUintN(64, v);
const IN = BigUint64Array.from({ length: N }, (_, i) => u(BigInt((i - 8) * 123457)));
const ALL_OUT = BigUint64Array.from({ length: N }, (_, i) => u(i % 2 ? B + BigInt(i) * (1n << 33n) : -B - 1n - BigInt(i)));
const ONE_OUT = BigUint64Array.from(IN, (v, i) => (i === 5 ? B : v));

const isZp = (tag: string): boolean => tag.endsWith(':d') || tag.endsWith(':xbits');
type Stats = Map<string, number[]>;
function add(s: Stats, key: string, payload: Uint8Array, zp: boolean): void {
  let h = s.get(key);
  if (!h) s.set(key, (h = new Array<number>(zp ? 67 : payload.length / 2).fill(0)));
  if (zp) for (const b of payload) h[b]!++;
  else for (let e = 0; e < payload.length / 8; e++) h[4 * e + (payload[8 * e + 7]! >> 6)]!++;
}

async function collect(X: BigUint64Array, seed: number): Promise<{ stats: Stats; shape: string[]; s: bigint[] }> {
  const stats: Stats = new Map(), s: bigint[] = [];
  let shape: string[] | null = null;
  for (let run = 0; run < RUNS; run++) {
    const g = seededPrg(seed * 100000 + run);
    const s0 = g.u64(N), s1 = new BigUint64Array(N);
    k.sub(X, s0, s1);
    const own = [s0, s1, new BigUint64Array(N)];
    const w = g.bytes(16);
    const { results, views } = await recordViews(g, (ctx) => rangeSentinel(ctx, own[ctx.party] as AShare, ctx.party === 2 ? null : new Prg(w)));
    s.push(u(results[0]![0]! + results[1]![0]!));
    const sh = views.flatMap((msgs, p) => msgs.map((m) => `P${p}<P${m.from} ${m.tag} ${m.payload.length}`));
    if (shape === null) shape = sh;
    expect(sh).toEqual(shape);
    views.forEach((msgs: ViewMsg[], p) => msgs.forEach((m, i) => add(stats, `P${p}#${i} ${m.tag}`, m.payload, isZp(m.tag))));
    // P2: the sum of the two messages with one tag from P0 and P1.
    const from0 = views[2].filter((m) => m.from === 0), from1 = views[2].filter((m) => m.from === 1);
    from0.forEach((m0, i) => {
      const m1 = from1.find((m) => m.tag === m0.tag);
      if (!m1 || !isZp(m0.tag)) return;
      add(stats, `P2 pair#${i} ${m0.tag}`, m0.payload.map((b, j) => (b + m1.payload[j]!) % 67), true);
    });
  }
  return { stats, shape: shape!, s };
}

describe('range sentinel: no party\'s view depends on the values; the client learns one bit', () => {
  it('P0, P1, P2 receive the same messages with indistinguishable contents for all-in-range and all-out-of-range values; u64 messages look uniform', async () => {
    const A = await collect(IN, 1), C = await collect(ALL_OUT, 2);
    expect(C.shape).toEqual(A.shape);
    expect(new Set(A.shape.map((x) => x.slice(0, 2)))).toEqual(new Set(['P0', 'P1', 'P2']));
    let worst = { z: -Infinity, key: '' };
    for (const [key, h] of A.stats) {
      const z = twoSampleChiSquareZ(h, C.stats.get(key)!);
      if (z > worst.z) worst = { z, key };
    }
    expect(worst.z, worst.key).toBeLessThan(5);
    for (const [key, h] of A.stats) if (!key.includes(':d') && !key.includes(':xbits') && !key.startsWith('P2 pair')) expect(goodnessOfFitZ(h, new Array<number>(h.length).fill(4 / h.length / 4)), key).toBeLessThan(5);
    // The client: s = 0 in every in-range run, never 0 otherwise.
    expect(A.s.every((v) => v === 0n)).toBe(true);
    expect(C.s.every((v) => v !== 0n)).toBe(true);
  });

  it('the client\'s s is uniform whether one value or all sixteen are out: top two bits and low two bits', async () => {
    const one = await collect(ONE_OUT, 3), all = await collect(ALL_OUT, 4);
    for (const { s } of [one, all]) {
      expect(s.every((v) => v !== 0n)).toBe(true);
      const top = [0, 0, 0, 0], low = [0, 0, 0, 0];
      for (const v of s) { top[Number(v >> 62n)]!++; low[Number(v & 3n)]!++; }
      expect(goodnessOfFitZ(top, [0.25, 0.25, 0.25, 0.25])).toBeLessThan(5);
      expect(goodnessOfFitZ(low, [0.25, 0.25, 0.25, 0.25])).toBeLessThan(5);
    }
    // Power of the low-bit check: a count of 16 out times a random odd r is always divisible by 16.
    const lowOfCountTimesOdd = [0, 0, 0, 0];
    const r = seededPrg(5).u64odd(RUNS);
    for (const v of r) lowOfCountTimesOdd[Number((16n * v) & 3n)]!++;
    expect(goodnessOfFitZ(lowOfCountTimesOdd, [0.25, 0.25, 0.25, 0.25])).toBeGreaterThan(5);
  });
});
