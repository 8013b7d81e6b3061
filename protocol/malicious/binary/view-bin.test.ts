/**
 * View test for the binary domain (a statistical check, in the style of
 * ../view-compare.test.ts, not a proof). The argument: every AND message is
 * masked by a fresh binary zero sharing whose pair seed the receiver lacks;
 * the opened e = MSB XOR b is masked by the daBit b, uniform and unknown to
 * every party; the verification opens x XOR a and y XOR b for triples used
 * once; the triples' openings are of words thrown away or masked by them;
 * the zero checks hash sharings of 0.
 *
 * We run the ReLU with its MAC check (so the triples and the verification
 * too) many times on two very different inputs (all 0, and values of both
 * signs near the edges) and compare, between the inputs, (a) the opened e
 * per element and (b) every message each party receives (the low two bits
 * of every byte). A leaky variant that opens the MSB without the daBit
 * shows the check has power.
 *
 * The pooled path (daBits and triples made ahead in an offline batch, the
 * runner's reluBinCheckedM taking them from the entry: e opened with rho and
 * sigma of every AND, one zero check, the product x b in the first AND's
 * round) is compared the same way on the messages of its online part.
 */
import { describe, expect, it } from 'vitest';
import { bump, worst, type Stats } from '../../testing/view-stats.js';
import type { PartyId } from '../../ring/types.js';
import { runMal3, values } from '../../testing/cheat.js';
import { liftSigned } from '../ring128.js';
import type { MalSession } from '../session.js';
import { inputM } from '../input.js';
import { macCheck } from '../mac-check.js';
import { msbBitsB } from './a2b.js';
import { bitAt, xorB } from './bshare.js';
import { daBitsM } from './dabit.js';
import { openB } from './open.js';
import { offlineBatch } from '../mask-pool.js';
import { andWordsB, reluBinCheckedM } from './compare-bin.js';

const RUNS = 150, ELL = 8, N = 6;
const INPUT_A = [0n, 0n, 0n, 0n, 0n, 0n];
const INPUT_B = [-128n, 127n, -1n, 1n, -100n, 64n];

/** The comparison's steps as compare-bin.ts runs them (the opened e returned); leaky: e = MSB, no daBit. */
async function run(s: MalSession, input: bigint[], leaky: boolean): Promise<number[]> {
  const x = await inputM(s, 1, s.party === 1 ? liftSigned(BigUint64Array.from(input.map((v) => BigInt.asUintN(64, v)))) : null, N);
  const d = await daBitsM(s, N);
  const msb = await msbBitsB(s, x, ELL);
  const e = await openB(s, leaky ? msb : xorB(msb, d.bin));
  await macCheck(s);
  return Array.from({ length: N }, (_, i) => bitAt(e, N, 0, i));
}

/** The runner's ReLU with its daBits and triples from a pool entry made in this session first; returns the number of messages each party sent before the online part. */
async function pooledRun(s: MalSession, input: bigint[]): Promise<number[]> {
  const [entry] = await offlineBatch(s, [{ kind: 'bin.dabits', n: N, params: [] }, { kind: 'bin.triples', n: andWordsB(N, ELL), params: [] }], 1, 'v');
  s.masks = entry;
  const before = (s.ctx.transport as unknown as { sent: unknown[] }).sent.length;
  const x = await inputM(s, 1, s.party === 1 ? liftSigned(BigUint64Array.from(input.map((v) => BigInt.asUintN(64, v)))) : null, N);
  await reluBinCheckedM(s, x, ELL);
  await macCheck(s);
  return [before];
}

async function collect(input: bigint[], leaky: boolean, pooled = false): Promise<{ e: Stats; msgs: Stats }> {
  const e: Stats = new Map(), msgs: Stats = new Map();
  for (let k = 0; k < RUNS; k++) {
    const r = await runMal3((s) => (pooled ? pooledRun(s, input) : run(s, input, leaky)));
    if (!pooled) values(r)[0].forEach((bit, i) => bump(e, `e[${i}]`, 2, bit));
    const from = pooled ? values(r).map((v) => v[0]!) : [0, 0, 0];
    ([0, 1, 2] as PartyId[]).forEach((p) => {
      r.transports.flatMap((t, q) => t.sent.slice(from[q]).filter((m) => m.to === p)).forEach((m, i) => {
        for (let b = 0; b < m.payload.length; b++) bump(msgs, `P${p}#${i} ${m.tag.replace(/#\d+/, '')}`, 4, m.payload[b]! & 3);
      });
    });
  }
  return { e, msgs };
}

describe('binary domain: no single party\'s view, nor the opened e = MSB XOR b, depends on the input', () => {
  it('the opened e and every received message (ANDs, triples, verification, daBits, MAC check) are indistinguishable between very different inputs', async () => {
    const A = await collect(INPUT_A, false), B = await collect(INPUT_B, false);
    expect(A.msgs.size).toBeGreaterThan(30);
    for (const [stats, other] of [[A.e, B.e], [A.msgs, B.msgs]] as const) {
      const w = worst(stats, other);
      expect(w.z, w.key).toBeLessThan(5);
    }
  }, 300_000);

  it('pooled daBits and triples (reluBinCheckedM on a pool entry): every message of the online part is indistinguishable between very different inputs', async () => {
    const A = await collect(INPUT_A, false, true), B = await collect(INPUT_B, false, true);
    expect(A.msgs.size).toBeGreaterThan(30);
    expect([...A.msgs.keys()].some((k) => k.includes('openB'))).toBe(true);
    expect([...A.msgs.keys()].some((k) => k.includes('zeroB'))).toBe(true);
    const w = worst(A.msgs, B.msgs);
    expect(w.z, w.key).toBeLessThan(5);
  }, 300_000);

  it('the same check detects a leaky variant that opens the MSB without the daBit', async () => {
    const A = await collect(INPUT_A, true), B = await collect(INPUT_B, true);
    const w = worst(A.e, B.e);
    expect(w.z, w.key).toBeGreaterThan(5);
  }, 300_000);
});
