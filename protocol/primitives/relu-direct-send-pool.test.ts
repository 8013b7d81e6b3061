/**
 * The send buffers (ring/send-pool.ts) that relu-direct.ts, private-compare.ts and the live dealer send with
 * sendPooled: a transport that gives each back once it has copied the bytes (the in-memory one; lateCopy: only
 * when the receiver takes them, as a lazily writing link does) and that poisons the buffer the moment it gives it
 * back, under several comparisons in one run and two runs at once, still gives the plaintext reference's results.
 * So a buffer read after it was given back, or a kernel that leaves part of a reused buffer unwritten, fails here.
 * Also: a send buffer sent twice before it came back is refused, and a transport without sendWithRelease never
 * gives one back (it stays the transport's).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MpcError } from '../errors.js';
import { referenceKernels as ref } from '../kernels/reference.js';
import { plainDrelu, plainRelu } from '../reference/plain.js';
import { sendBufferU8, sendPoolStats, sendPoolTesting } from '../ring/send-pool.js';
import { reconstruct } from '../sharing/sharing.js';
import { makeContexts, shareFor3, type Run3Options } from '../testing/run3.js';
import { randomSigned, randomU64s, withEdges } from '../testing/values.js';
import { sendBytes, sendPooled } from '../transport/messages.js';
import type { PartyContext } from '../context.js';
import type { AShare, PartyId } from '../ring/types.js';
import type { Transport } from '../transport/transport.js';
import { dreluDirect, reluDirect } from './relu-direct.js';

// 2100 elements: every pooled message is at least 16 KiB (DReLU's z at P2: 8 bytes per element).
const N = 2100;

// Every buffer that comes back to the pool is poisoned (0xa5) at once: whoever still reads it sees garbage.
beforeAll(() => { sendPoolTesting.onGiveBack = (ab) => new Uint8Array(ab).fill(0xa5); });
afterAll(() => { sendPoolTesting.onGiveBack = null; });

async function chain(ctx: PartyContext, a: AShare): Promise<AShare[]> {
  const out: AShare[] = [];
  for (let i = 0; i < 2; i++) { out.push(await dreluDirect(ctx, a, `d${i}`)); out.push(await reluDirect(ctx, a, `r${i}`)); }
  return out;
}

async function run(x: BigUint64Array, opts: Run3Options): Promise<BigUint64Array[]> {
  const as = shareFor3(x);
  const out = await Promise.all(makeContexts(opts).contexts.map((c) => chain(c, as[c.party])));
  return out[0]!.map((v, i) => reconstruct(ref, v, out[1]![i]!));
}

const narrowInput = (): BigUint64Array => BigUint64Array.from(Array.from(randomU64s(N), (v) => BigInt.asUintN(64, BigInt.asIntN(32, v))));
const wideInput = (): BigUint64Array => BigUint64Array.from([...withEdges(randomSigned(N))].slice(0, N));

describe('relu-direct / PrivateCompare / the live dealer: send buffers given back by the transport', () => {
  for (const [name, opts, gen, perDrelu, perRelu] of [
    // Pooled sends per DReLU and per ReLU: P2's dealt shares and its z (,w); on the 32-bit ring P0's and P1's d;
    // P0's and P1's c_j where it is opened whole (sharing/open.ts: back once written and read): every comparison on
    // the 64-bit ring, ReLU on the 32-bit one (DReLU opens c mod 2^32 from a scratch copy there).
    ['64-bit ring', {}, wideInput, 4, 4],
    ['32-bit ring, bits', { compareBits: 32, compareRadix: 2 }, narrowInput, 4, 6],
    ['32-bit ring, radix 4', { compareBits: 32, compareRadix: 4 }, narrowInput, 4, 6],
    ['32-bit ring, radix 4, late copy', { compareBits: 32, compareRadix: 4, lateCopy: true }, narrowInput, 4, 6],
  ] as [string, Run3Options, () => BigUint64Array, number, number][]) {
    it(`${name}: two runs at once, four comparisons each, poisoned on give-back, equal the plaintext`, async () => {
      const before = { ...sendPoolStats };
      const xs = [gen(), gen()];
      const got = await Promise.all(xs.map((x) => run(x, opts)));
      xs.forEach((x, i) => expect(got[i], `run ${i}`).toEqual([plainDrelu(x), plainRelu(x), plainDrelu(x), plainRelu(x)]));
      // Two runs of two DReLU and two ReLU each.
      const sends = 2 * (2 * perDrelu + 2 * perRelu);
      expect(sendPoolStats.returned - before.returned).toBe(sends);
      expect(sendPoolStats.lent - before.lent).toBe(sends);
      // Later comparisons (the same sizes) got buffers back that earlier ones had sent.
      expect(sendPoolStats.reused - before.reused).toBeGreaterThan(0);
    });
  }
});

/** A transport that records what it is sent; with `release`, it keeps the release callbacks to call later. */
function fakeWire(withRelease: boolean): { ctx: { party: PartyId; transport: Transport }; sent: Uint8Array[]; releases: (() => void)[] } {
  const sent: Uint8Array[] = [], releases: (() => void)[] = [];
  const transport = {
    party: 0 as PartyId, counters: { bytesSent: 0, messagesSent: 0, depth: 0 }, steps: new Map(),
    send: (_to: PartyId, _tag: string, p: Uint8Array) => { sent.push(p); },
    recv: () => Promise.reject(new Error('not here')),
    close: () => undefined,
    ...(withRelease ? { sendWithRelease: (_to: PartyId, _tag: string, p: Uint8Array, r: () => void) => { sent.push(p); releases.push(r); } } : {}),
  } as Transport;
  return { ctx: { party: 0, transport }, sent, releases };
}

describe('send pool rules', () => {
  const code = (f: () => void): string | undefined => { try { f(); } catch (e) { return e instanceof MpcError ? e.code : String(e); } return undefined; };

  it('a buffer comes back only when the transport releases it, then serves the next buffer of that size', () => {
    const { ctx, releases } = fakeWire(true);
    const a = sendBufferU8(40_000);
    sendPooled(ctx, 1, 't', a);
    const b = sendBufferU8(40_000);
    expect(b.buffer).not.toBe(a.buffer);
    releases[0]!();
    releases[0]!(); // a second call gives nothing back twice
    const c = sendBufferU8(40_000), d = sendBufferU8(40_000);
    expect(c.buffer).toBe(a.buffer);
    expect(d.buffer).not.toBe(a.buffer);
  });

  it('a given-back buffer serves a later request of at least half its size (best fit), not a smaller one', () => {
    const { ctx, releases } = fakeWire(true);
    const a = sendBufferU8(300_000);
    sendPooled(ctx, 1, 't', a);
    releases[0]!();
    expect(sendBufferU8(100_000).buffer).not.toBe(a.buffer);
    const b = sendBufferU8(160_000);
    expect(b.buffer).toBe(a.buffer);
    expect(b.byteLength).toBe(160_000);
  });

  it('a buffer sent and not yet given back cannot be sent again, pooled or plain (E_INTERNAL)', () => {
    const { ctx, sent } = fakeWire(true);
    const a = sendBufferU8(40_000);
    sendPooled(ctx, 1, 't', a);
    expect(code(() => sendPooled(ctx, 2, 't', a))).toBe('E_INTERNAL');
    expect(code(() => sendBytes(ctx, 2, 't', a))).toBe('E_INTERNAL');
    expect(sent).toHaveLength(1);
  });

  it('a transport without sendWithRelease keeps the buffer: it never comes back', () => {
    const { ctx, sent } = fakeWire(false);
    const before = sendPoolStats.returned;
    const a = sendBufferU8(50_000);
    sendPooled(ctx, 1, 't', a);
    expect(sent[0]!.buffer).toBe(a.buffer);
    expect(sendPoolStats.returned).toBe(before);
    expect(sendBufferU8(50_000).buffer).not.toBe(a.buffer);
  });

  it('small buffers are plain arrays (not pooled), sent as they are', () => {
    const { ctx, sent, releases } = fakeWire(true);
    const before = sendPoolStats.lent;
    const a = sendBufferU8(100);
    sendPooled(ctx, 1, 't', a);
    expect(sendPoolStats.lent).toBe(before);
    expect(releases).toHaveLength(0);
    expect(sent[0]).toBe(a);
  });
});
