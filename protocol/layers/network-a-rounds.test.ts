/**
 * Which of MNIST Network A's rounds are which, as the party servers run it: kept weight masks ('use' runs: only
 * E = X - A is opened in each dense layer, correlated/weight-masks.ts), the 32-bit comparison ring in radix 4, local
 * truncation, and a preprocessed bundle (correlated/dealer.ts: P2's triples and comparison masks dealt before the
 * run). The rounds are the transport's Lamport depths (transport/transport.ts); this test rebuilds the longest chains
 * of dependent messages from what each party sent and received and names every link of them.
 *
 * What it pins (issue 28, "count rounds again"): the 9 rounds are dense_0's opening of E, then per hidden layer the
 * direct ReLU's three (P0 <-> P1 open c, both send PrivateCompare's d to P2, P2 sends z and w to P1) and the next
 * dense layer's opening. With a bundle the first opening is round 1's only message (live, P2's C_1 of dense_0 is on
 * the chain beside it): removing it (a client that sends E = X - A itself) leaves 8 only if P0's and P1's shares of
 * the first layer's triple are in place before the run (docs/FIRST-LAYER-MASK.md).
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { p0Bundle, p1Bundle, prepareBundle, type DealScript, type PartyBundle } from '../correlated/dealer.js';
import { dealSeeds } from '../correlated/prg.js';
import { MemoryWeightMasks } from '../correlated/weight-masks.js';
import { createContext } from '../context.js';
import { decode, encode } from '../fixed-point/fixed-point.js';
import { getKernels } from '../kernels/index.js';
import { plainForward } from '../reference/forward.js';
import type { PartyId } from '../ring/types.js';
import { reconstruct } from '../sharing/sharing.js';
import { networkA, seededPrg, uniform } from '../seed-models.js';
import { shareFor3 } from '../testing/run3.js';
import { memoryTransports, type MemoryTransport } from '../transport/memory.js';
import type { Transport } from '../transport/transport.js';
import { secureForward } from './runner.js';
import { shareModel } from './share-model.js';

const k = getKernels();
const PARTIES = [0, 1, 2] as PartyId[];
const F = 16;

/** One message: who sent it to whom, its tag, the sender's depth when sending, and when it was sent and received. */
interface Msg { from: PartyId; to: PartyId; tag: string; bytes: number; depth: number; sentAt: number; recvAt: number }

/** Records every message of a run in a global order of events (sends and completed receives). */
class Trace {
  readonly msgs: Msg[] = [];
  private clock = 0;
  wrap(t: MemoryTransport): Transport {
    const sent = (from: PartyId, to: PartyId): Msg[] => this.msgs.filter((m) => m.from === from && m.to === to);
    const received = new Map<PartyId, number>();
    return {
      get party() { return t.party; },
      get counters() { return t.counters; },
      get steps() { return t.steps; },
      send: (to, tag, payload) => {
        this.msgs.push({ from: t.party, to, tag, bytes: payload.byteLength, depth: t.counters.depth, sentAt: this.clock++, recvAt: -1 });
        t.send(to, tag, payload);
      },
      recv: async (from, tag) => {
        const p = await t.recv(from, tag);
        // Pairs are FIFO (Transport): the n-th message received from `from` is the n-th it sent to this party.
        const n = received.get(from) ?? 0;
        received.set(from, n + 1);
        sent(from, t.party)[n]!.recvAt = this.clock++;
        return p;
      },
      close: (reason) => t.close(reason),
    };
  }

  /**
   * The links of the longest chains: for each position r (1 = first), the tags of the messages that lie on some
   * chain of maximal length at position r. A message m' precedes m when m' reached m's sender before m was sent.
   */
  chains(): { rounds: number; links: string[][] } {
    const len = new Map<Msg, number>(), before = new Map<Msg, Msg[]>();
    const ordered = [...this.msgs].sort((a, b) => a.sentAt - b.sentAt);
    for (const m of ordered) {
      const prev = this.msgs.filter((p) => p.to === m.from && p.recvAt >= 0 && p.recvAt < m.sentAt);
      before.set(m, prev);
      len.set(m, 1 + Math.max(0, ...prev.map((p) => len.get(p)!)));
    }
    const rounds = Math.max(...len.values());
    const on = new Set<Msg>(ordered.filter((m) => len.get(m) === rounds));
    // Walk back: a predecessor is on a longest chain when its length is one less than its successor's.
    for (let r = rounds; r > 1; r--) {
      for (const m of [...on].filter((x) => len.get(x) === r)) for (const p of before.get(m)!) if (len.get(p) === r - 1) on.add(p);
    }
    const links = Array.from({ length: rounds }, (_, i) => [...new Set([...on].filter((m) => len.get(m) === i + 1).map((m) => m.tag))].sort());
    return { rounds, links };
  }
}

type Dealing = 'live' | 'bundle';

async function runNetworkA(x: Float64Array, stores: MemoryWeightMasks[], mode: 'build' | 'use', extra: { bundles?: PartyBundle[]; script?: DealScript; fuse?: boolean } = {}) {
  const net = networkA();
  const parts = shareModel(k, net, F);
  const xs = shareFor3(encode(x, F));
  const ts = memoryTransports();
  const trace = new Trace();
  const seeds = dealSeeds();
  const results = await Promise.all(PARTIES.map((p) => {
    const ctx = createContext(p, trace.wrap(ts[p]), seeds[p], {
      fracBits: F, compareBits: 32, compareRadix: 4, truncation: 'local', comparison: 'direct',
      weightMasks: stores[p]!.session(mode),
      ...(extra.bundles ? { bundle: extra.bundles[p]! } : {}), ...(extra.script && p === 2 ? { dealScript: extra.script } : {}),
    });
    return secureForward(ctx, parts[p], { shape: [1, 784], data: xs[p] }, { fuseReluIntoDense: extra.fuse === true }).catch((e: unknown) => { ts.forEach((t) => t.close(e as Error)); throw e; });
  }));
  const got = decode(reconstruct(k, results[0].data, results[1].data), F);
  return { got, want: plainForward(net, x, 1).data, trace, transports: ts };
}

/** A build run, then (for 'bundle') a recorded live run replayed into a bundle, then the measured 'use' run. */
async function asServed(dealing: Dealing, x: Float64Array, fuse = false) {
  const stores = PARTIES.map(() => new MemoryWeightMasks());
  await runNetworkA(uniform(seededPrg(1), 784, 1), stores, 'build', { fuse });
  if (dealing === 'live') return runNetworkA(x, stores, 'use', { fuse });
  const script: DealScript = [];
  await runNetworkA(uniform(seededPrg(2), 784, 1), stores, 'use', { script, fuse });
  const s02 = randomBytes(16), s12 = randomBytes(16);
  const { forP1, p2 } = prepareBundle(k, script, s02, s12);
  return runNetworkA(x, stores, 'use', { bundles: [p0Bundle(s02), p1Bundle(s12, forP1), p2], fuse });
}

const NAMED = [
  ['dense_0:E'],
  ['dense_0.act:c'],
  ['dense_0.act.pc:d'],
  ['dense_0.act:z,w'],
  ['dense_1:E'],
  ['dense_1.act:c'],
  ['dense_1.act.pc:d'],
  ['dense_1.act:z,w'],
  ['dense_2:E'],
];

describe('MNIST Network A rounds as the party servers run it (kept weight masks, 32-bit radix-4 direct ReLU)', () => {
  for (const dealing of ['live', 'bundle'] as const) {
    it(`${dealing} dealing: 9 rounds, named from the counters: each dense layer's opening of E and each ReLU's c, d, (z, w)`, async () => {
      const x = uniform(seededPrg(7), 784, 1).map((v) => (v + 1) / 2);
      const { got, want, trace, transports } = await asServed(dealing, x);
      for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-3 * Math.max(1, Math.abs(want[i]!)));
      expect(Math.max(...transports.map((t) => t.counters.depth))).toBe(9);
      const { rounds, links } = trace.chains();
      expect(rounds).toBe(9);
      // Live, P2's correction C_1 of dense_0's triple reaches P1 in round 1 too, and P1 needs it before its share of
      // dense_0's output: it is on the chain beside the opening. With a bundle, P1 holds it before the run.
      expect(links).toEqual(dealing === 'live' ? [['dense_0:C1', 'dense_0:E'], ...NAMED.slice(1)] : NAMED);
      expect(transports.map((t) => t.pending)).toEqual([0, 0, 0]);
    });
  }

  it('with the ReLU fused into the last dense layer (relu-dense.ts, fuseReluIntoDense): 8 rounds, dense_2\'s opening gone, P2\'s last message carries R, M, N (32 KiB); 14 messages instead of 16', async () => {
    const x = uniform(seededPrg(9), 784, 1).map((v) => (v + 1) / 2);
    const plain = await asServed('bundle', x), fused = await asServed('bundle', x, true);
    for (const r of [plain, fused]) for (let i = 0; i < r.want.length; i++) expect(Math.abs(r.got[i]! - r.want[i]!)).toBeLessThan(1e-3 * Math.max(1, Math.abs(r.want[i]!)));
    const { rounds, links } = fused.trace.chains();
    expect(rounds).toBe(8);
    expect(links).toEqual([...NAMED.slice(0, 7), ['dense_1.act:z,w,RMN']]);
    expect([plain.trace.msgs.length, fused.trace.msgs.length]).toEqual([16, 14]);
    expect(fused.trace.msgs.filter((m) => m.tag.startsWith('dense_2'))).toEqual([]);
    expect(fused.trace.msgs.find((m) => m.tag === 'dense_1.act:z,w,RMN')!.bytes).toBe(8 * (2 * 128 + 3 * 128 * 10));
  });

  it('bundle: round 1 is the first opening alone (P0 <-> P1, 6272 bytes each way) and P2 sends only ReLU\'s z, w during the run', async () => {
    const x = uniform(seededPrg(8), 784, 1).map((v) => (v + 1) / 2);
    const { trace } = await asServed('bundle', x);
    const first = trace.msgs.filter((m) => m.depth === 0 && m.from !== 2);
    expect(first.map((m) => [m.from, m.to, m.tag, m.bytes])).toEqual([[0, 1, 'dense_0:E', 8 * 784], [1, 0, 'dense_0:E', 8 * 784]]);
    expect(trace.msgs.filter((m) => m.from === 2).map((m) => m.tag)).toEqual(['dense_0.act:z,w', 'dense_1.act:z,w']);
    // Live dealing sends P2's first-layer correction C_1 at depth 0, in parallel with the opening.
    const live = await asServed('live', x);
    const c1 = live.trace.msgs.find((m) => m.tag === 'dense_0:C1')!;
    expect([c1.from, c1.to, c1.depth]).toEqual([2, 1, 0]);
  });
});
