/**
 * View test for the truncation mask from the pair PRGs (trunc-mask.ts), in
 * the style of view-bits.test.ts: statistical checks, not proofs. What a
 * party receives while the mask is made (the MAC resharing, the daBits'
 * products, the ANDs of the carry circuit, the triples' cut-and-choose,
 * the B2A opening) must not depend on the mask's secret carries, which
 * depend on the component the party misses: the top bit t of r mod 2^m,
 * q = floor(S / 2^m) and kappa (the low carry), each taken mod 2. Per
 * element e we count bit e of every received 8-byte word (binary messages:
 * bit e of a plane is element e) or the low bit of every 16-byte word of
 * element e (arithmetic messages), separately for secret 0 and 1, and
 * compare the two groups; the same for the values the party opens (the
 * B2A's e = bits XOR daBits, the triples' openings). A leaky variant that opens the carry bits
 * without their daBits shows the test has power.
 */
import { describe, expect, it } from 'vitest';
import type { PartyId } from '../ring/types.js';
import { worstPair, type PairStats } from '../testing/view-stats.js';
import { runMal3, values } from '../testing/cheat.js';
import { randomRep } from './rep.js';
import { toBigints } from './ring128.js';
import type { MalSession } from './session.js';
import { macCheck } from './mac-check.js';
import { carryBitsB, splitMaskFrom } from './trunc-mask.js';
import { openBodyB } from './binary/open.js';

const RUNS = 150, N = 16, F = 4, ELL = 20, M = ELL + 1;
type Stats = PairStats;

function count(s: Stats, key: string, group: number, bit: number): void {
  let h = s.get(key);
  if (!h) s.set(key, (h = [[0, 0], [0, 0]]));
  h[group]![bit]!++;
}

/** The run; returns this party's components and the values it opened (binary openings: what it learns from them). */
async function maskRun(s: MalSession, leaky: boolean) {
  const opened: { label: string; bytes: Uint8Array }[] = [], observe = s.observe.bind(s);
  s.observe = (label, bytes) => { if (label.startsWith('openB')) opened.push({ label: label.replace(/#\d+/, ''), bytes: bytes.slice() }); observe(label, bytes); };
  const u = randomRep(s.ctx, N);
  if (leaky) await s.guard('leak', async () => openBodyB(s, await carryBitsB(s, u, N, M, F)));
  await splitMaskFrom(s, u, N, F, ELL);
  await macCheck(s);
  return { u, opened };
}

/** The secrets of element e, from the three components: [t, q mod 2, kappa mod 2]. */
function secrets(u: bigint[][], e: number): number[] {
  const low = (v: bigint, b: number) => v & ((1n << BigInt(b)) - 1n);
  const S = u.reduce((t, c) => t + low(c[e]!, M), 0n), kappa = u.reduce((t, c) => t + low(c[e]!, F), 0n) >> BigInt(F);
  return [Number((low(S, M) >> BigInt(M - 1)) & 1n), Number((S >> BigInt(M)) & 1n), Number(kappa & 1n)];
}

async function collect(leaky: boolean): Promise<Stats> {
  const stats: Stats = new Map();
  for (let run = 0; run < RUNS; run++) {
    const r = await runMal3((s) => maskRun(s, leaky));
    const v = values(r);
    const u = [0, 1, 2].map((j) => toBigints(v[j]!.u.a));
    const sec = Array.from({ length: N }, (_, e) => secrets(u, e));
    for (const p of [0, 1, 2] as PartyId[]) {
      let i = 0;
      const received = r.transports.flatMap((tr) => tr.sent.filter((x) => x.to === p).map((m) => ({ tag: `<P${tr.party} ${m.tag}`, payload: m.payload })));
      const learnt = v[p].opened.map((o) => ({ tag: `opened ${o.label}`, payload: o.bytes }));
      for (const m of [...received, ...learnt]) {
        const key = `P${p}#${i++}${m.tag.replace(/#\d+/, '')}`, binary = /andB|openB|zeroB|triplesB/.test(m.tag);
        const words = binary ? Math.min(m.payload.length / 8, 64) : m.payload.length / 16;
        for (let w = 0; w < words; w++) {
          for (let e = 0; e < N; e++) {
            if (!binary && w % N !== e) continue;
            const bit = binary ? (m.payload[8 * w + (e >>> 3)]! >>> (e & 7)) & 1 : m.payload[16 * w]! & 1;
            sec[e]!.forEach((g, k) => count(stats, `${key} w${binary ? w : 0} s${k}`, g, bit));
          }
        }
      }
    }
  }
  return stats;
}

describe('malicious mode views: the truncation mask from the pair PRGs', () => {
  it('no party\'s received messages depend on the mask\'s carries (top bit, wrap count, low carry)', async () => {
    const stats = await collect(false);
    for (const tag of ['mal:macOf', 'mal:mul', 'mal:andB', 'mal:openB', 'mal:triplesB', 'opened openB']) expect([...stats.keys()].some((k) => k.includes(tag)), tag).toBe(true);
    const w = worstPair(stats);
    expect(w.z, w.key).toBeLessThan(5);
  }, 300_000);

  it('the same check finds a leaky variant that opens the carry bits without their daBits', async () => {
    const w = worstPair(await collect(true));
    expect(w.key).toMatch(/opened openB/);
    expect(w.z).toBeGreaterThan(20);
  }, 300_000);
});
