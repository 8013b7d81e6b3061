/**
 * View tests for the random bits (randbits.ts) and the truncation
 * (trunc.ts), in the style of view.test.ts: statistical checks, not proofs.
 *
 * Random bits: what a party receives must not depend on the bits it helps
 * make, even combined with what it knows (its two pair bits t_i, t_{i+1}).
 * Per received 16-byte word (element e = word mod n), we count its low bit,
 * and its low bit XOR t_i XOR t_{i+1} (the bit the party would learn if the
 * word were the missing t_{i+2}), separately for b_e = 0 and b_e = 1, and
 * compare the two groups. A leaky variant (P1 sends its t_2 to P0) shows the
 * test has power.
 */
import { describe, expect, it } from 'vitest';
import type { PartyId } from '../ring/types.js';
import { twoSampleChiSquareZ } from '../privacy/stats.js';
import { runMal3, values } from '../testing/cheat.js';
import { bytes128 } from './ring128.js';
import { reconstructRep, type MShare, type Rep } from './rep.js';
import type { MalSession } from './session.js';
import { macCheck } from './mac-check.js';
import { pairBits, xorPairBits } from './randbits.js';

const RUNS = 150;
const N = 8;

type Stats = Map<string, [number[], number[]]>;

function count(s: Stats, key: string, group: number, bucket: number, buckets: number): void {
  let h = s.get(key);
  if (!h) s.set(key, (h = [new Array<number>(buckets).fill(0), new Array<number>(buckets).fill(0)]));
  h[group]![bucket]!++;
}

async function bitsRun(s: MalSession, leaky: boolean): Promise<{ b: MShare; t: Rep }> {
  const t = pairBits(s.ctx, N);
  if (leaky && s.party === 1) s.send(0, 'leak', bytes128(t.b).slice(2 * N * 16)); // P1's t_2: with its own t_0, t_1, P0 knows b
  if (leaky && s.party === 0) await s.recv(1, 'leak', N * 16);
  const b = await xorPairBits(s, t, N);
  await macCheck(s);
  return { b, t };
}

async function collectBits(leaky: boolean): Promise<Stats> {
  const stats: Stats = new Map();
  for (let run = 0; run < RUNS; run++) {
    const r = await runMal3((s) => bitsRun(s, leaky));
    const v = values(r);
    const b = reconstructRep([v[0].b.x, v[1].b.x, v[2].b.x]);
    for (const p of [0, 1, 2] as PartyId[]) {
      const { t } = v[p];
      const own = (e: number) => (t.a[4 * (p * N + e)]! ^ t.b[4 * (((p + 1) % 3) * N + e)]!) & 1;
      let i = 0;
      for (const tr of r.transports) {
        for (const m of tr.sent.filter((x) => x.to === p)) {
          const key = `P${p}#${i++}<P${tr.party} ${m.tag.replace(/#\d+/, '')}`;
          for (let w = 0; w < m.payload.length / 16; w++) {
            const e = w % N, bit = m.payload[16 * w]! & 1, group = b[4 * e]! & 1;
            count(stats, key, group, bit * 4 + (m.payload[16 * w + 7]! >> 6), 8);
            count(stats, `${key} +own`, group, bit ^ own(e), 2);
          }
        }
      }
    }
  }
  return stats;
}

function worst(stats: Stats): { z: number; key: string } {
  let w = { z: -Infinity, key: '' };
  for (const [key, [h0, h1]] of stats) {
    const z = twoSampleChiSquareZ(h0, h1);
    if (z > w.z) w = { z, key };
  }
  return w;
}

describe('malicious mode views: random bits', () => {
  it('no party\'s received messages, alone or with its own pair bits, depend on the bits made', async () => {
    const stats = await collectBits(false);
    expect([...stats.keys()].some((k) => k.includes('mal:macOf')) && [...stats.keys()].some((k) => k.includes('mal:mul'))).toBe(true);
    const w = worst(stats);
    expect(w.z, w.key).toBeLessThan(5);
  }, 60_000);

  it('the same check finds a leaky variant in which P1 sends its pair bit t_2 to P0', async () => {
    const w = worst(await collectBits(true));
    expect(w.key).toMatch(/P0.*leak \+own/);
    expect(w.z).toBeGreaterThan(20);
  }, 60_000);
});
