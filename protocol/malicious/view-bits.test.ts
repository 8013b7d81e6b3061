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
 *
 * Truncation: the opened c = x + 2^(ell-1) + r, and every message a party
 * receives, must not depend on x. We run on two very different inputs and
 * compare the distributions of the top two and low two bits of every 8-byte
 * lane of c and of each received message. A leaky variant that opens x
 * plus one mask bit only shows the test has power.
 */
import { describe, expect, it } from 'vitest';
import type { PartyId } from '../ring/types.js';
import { worst, worstPair, type PairStats } from '../testing/view-stats.js';
import { runMal3, values } from '../testing/cheat.js';
import { bytes128 } from './ring128.js';
import { reconstructRep, type MShare, type Rep } from './rep.js';
import type { MalSession } from './session.js';
import { macCheck } from './mac-check.js';
import { pairBits, xorPairBits } from './randbits.js';
import { addM } from './rep.js';
import { fromBigints } from './ring128.js';
import { inputM } from './input.js';
import { openBody } from './open.js';
import { truncM, truncMaskM } from './trunc.js';

const RUNS = 150;
const N = 8;

type Stats = PairStats;

function count(s: Stats, key: string, group: number, bucket: number, buckets: number): void {
  let h = s.get(key);
  if (!h) s.set(key, (h = [new Array<number>(buckets).fill(0), new Array<number>(buckets).fill(0)]));
  h[group]![bucket]!++;
}

async function bitsRun(s: MalSession, leaky: boolean): Promise<{ b: MShare; t: Rep }> {
  const t = pairBits(s.ctx, N);
  if (leaky && s.party === 1) s.send(0, 'leak', bytes128(t.b).slice()); // P1's t_2: with its own t_0, t_1, P0 knows b
  if (leaky && s.party === 0) await s.recv(1, 'leak', N * 16);
  const b = await xorPairBits(s, t);
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
      const own = (e: number) => (t.a[4 * e]! ^ t.b[4 * e]!) & 1;
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

describe('malicious mode views: random bits', () => {
  it('no party\'s received messages, alone or with its own pair bits, depend on the bits made', async () => {
    const stats = await collectBits(false);
    expect([...stats.keys()].some((k) => k.includes('mal:macOf')) && [...stats.keys()].some((k) => k.includes('mal:mul'))).toBe(true);
    const w = worstPair(stats);
    expect(w.z, w.key).toBeLessThan(5);
  }, 60_000);

  it('the same check finds a leaky variant in which P1 sends its pair bit t_2 to P0', async () => {
    const w = worstPair(await collectBits(true));
    expect(w.key).toMatch(/P0.*leak \+own/);
    expect(w.z).toBeGreaterThan(20);
  }, 60_000);
});

const TX_A = [0n, 0n, 0n, 0n], TX_B = [(1n << 22n) - 1n, -(1n << 22n), -1n, 123456n];

/** x input by P0, truncated (f = 8, ell = 24); returns the opened c (the last opened value before the MAC check). */
async function truncRun(s: MalSession, xs: bigint[], leaky: boolean): Promise<Uint8Array> {
  const x = await inputM(s, 0, s.party === 0 ? fromBigints(xs) : null, 4);
  if (leaky) {
    const mask = await truncMaskM(s, 4, 8, 24);
    const c = await s.guard('leak', () => openBody(s, addM(x, mask.top)));
    await macCheck(s);
    return new Uint8Array(c.buffer.slice(0));
  }
  await truncM(s, x, 8, 24);
  const c = s.opened[s.opened.length - 1]!.y;
  await macCheck(s);
  return new Uint8Array(c.buffer.slice(0));
}

type Hist = Map<string, number[]>;
function lanes(h: Hist, key: string, payload: Uint8Array): void {
  let v = h.get(key);
  if (!v) h.set(key, (v = new Array<number>(16 * (payload.length / 8)).fill(0)));
  for (let l = 0; l < payload.length / 8; l++) v[16 * l + 4 * (payload[8 * l + 7]! >> 6) + (payload[8 * l]! & 3)]!++;
}

async function collectTrunc(xs: bigint[], leaky: boolean): Promise<Hist> {
  const h: Hist = new Map();
  for (let run = 0; run < RUNS; run++) {
    const r = await runMal3((s) => truncRun(s, xs, leaky));
    const cs = values(r);
    lanes(h, 'opened c', cs[0]);
    for (const p of [0, 1, 2] as PartyId[]) {
      let i = 0;
      for (const tr of r.transports) for (const m of tr.sent.filter((x) => x.to === p)) lanes(h, `P${p}#${i++}<P${tr.party} ${m.tag.replace(/#\d+/, '')}`, m.payload);
    }
  }
  return h;
}

describe('malicious mode views: truncation', () => {
  it('the opened c and every received message have the same distribution on very different inputs', async () => {
    const A = await collectTrunc(TX_A, false), B = await collectTrunc(TX_B, false);
    expect([...A.keys()].some((k) => k.includes('mal:open'))).toBe(true);
    const w = worst(A, B);
    expect(w.z, w.key).toBeLessThan(5);
  }, 60_000);

  it('the same check finds a leaky variant that opens x plus one mask bit', async () => {
    const w = worst(await collectTrunc(TX_A, true), await collectTrunc(TX_B, true));
    expect(w.key).toMatch(/opened c|mal:open/);
    expect(w.z).toBeGreaterThan(20);
  }, 60_000);
});
