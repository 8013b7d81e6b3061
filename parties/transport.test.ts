import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dealSeeds } from '../protocol/correlated/prg.js';
import { createContext } from '../protocol/context.js';
import { isMpcError } from '../protocol/errors.js';
import { getKernels } from '../protocol/kernels/index.js';
import { relu } from '../protocol/primitives/relu.js';
import type { PartyId } from '../protocol/ring/types.js';
import { bytesU64, reconstruct, u64Bytes } from '../protocol/sharing/sharing.js';
import { run3, shareFor3 } from '../protocol/testing/run3.js';
import { CHUNK_BYTES, Reassembler, toFrames } from './chunking.js';
import { PeerMesh } from './mesh.js';
import { closeAll, meshTrio, tlsFor, type Trio } from './testing/trio.js';

const k = getKernels();

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try { await p; return 'resolved'; } catch (e) { return isMpcError(e) ? e.code : `non-MpcError: ${String(e)}`; }
};

describe('dial channels: grpc-js\'s own reconnect backoff follows the mesh\'s (reconnectMs)', () => {
  // grpc-js waits 1 s (then up to 120 s) before it reconnects a channel whose connection was refused: a party dialing a
  // peer that was still starting linked up to ~1.2 s after the peer listened, whatever reconnectMs said.
  it('initial and maximum backoff are reconnectMs (default 100 ms and 2 s); explicit grpcOptions still win', () => {
    const options = (o: Partial<ConstructorParameters<typeof PeerMesh>[0]>) => new PeerMesh({ party: 1, tls: null, ...o }).channelOptions;
    expect(options({})).toMatchObject({ 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 2_000 });
    expect(options({ reconnectMs: { min: 20, max: 200 } })).toMatchObject({ 'grpc.initial_reconnect_backoff_ms': 20, 'grpc.max_reconnect_backoff_ms': 200 });
    expect(options({ reconnectMs: { min: 20, max: 200 }, grpcOptions: { 'grpc.initial_reconnect_backoff_ms': 50 } })).toMatchObject({ 'grpc.initial_reconnect_backoff_ms': 50, 'grpc.max_reconnect_backoff_ms': 200 });
  });
});

describe('frame chunking', () => {
  it('splits a message of 2.5 chunks into three chunks and reassembles it into an 8-aligned buffer', () => {
    const C = 1 << 20;
    const payload = randomBytes(2.5 * C);
    const frames = toFrames({ kind: 'DATA', session: 's', tag: 't', depth: 3, payload }, C);
    expect(frames.map((f) => f.payload.byteLength)).toEqual([C, C, C / 2]);
    expect(toFrames({ kind: 'DATA', session: 's', tag: 't', depth: 3, payload })).toHaveLength(Math.ceil(payload.byteLength / CHUNK_BYTES));
    const r = new Reassembler(1 << 30, 'test');
    // Receivers get unaligned Buffers: simulate with an odd offset copy.
    const out = frames.map((f) => { const b = Buffer.alloc(f.payload.byteLength + 1); b.set(f.payload, 1); return r.push({ ...f, payload: b.subarray(1) }); });
    expect(out.slice(0, 2)).toEqual([null, null]);
    const msg = out[2]!;
    expect(msg.depth).toBe(3);
    expect(msg.payload.byteOffset % 8).toBe(0);
    expect(Buffer.from(msg.payload).equals(payload)).toBe(true);
  });

  it('passes a one-frame message on as a view of the frame (no copy), a plain Uint8Array whose slice() copies; bytesU64 aligns it', () => {
    const payload = randomBytes(808);
    const [f] = toFrames({ kind: 'DATA', session: 's', tag: 't', depth: 1, payload });
    const b = Buffer.alloc(809 + 3); b.set(f!.payload, 3);
    const frame = b.subarray(3, 3 + 808);
    const msg = new Reassembler(1 << 20, 'test').push({ ...f!, payload: frame })!;
    expect(msg.payload.buffer).toBe(frame.buffer);
    expect(msg.payload.byteOffset).toBe(frame.byteOffset);
    expect(Buffer.isBuffer(msg.payload)).toBe(false);
    const copy = msg.payload.slice();
    copy[0] = copy[0]! ^ 0xff;
    expect(msg.payload[0]).toBe(payload[0]);
    const u = bytesU64(msg.payload, 101);
    expect(u.byteOffset % 8).toBe(0);
    expect(Buffer.from(u.buffer, u.byteOffset, u.byteLength).equals(payload)).toBe(true);
    expect(() => new Reassembler(1 << 20, 'test').push({ ...f!, payload: frame.subarray(1) })).toThrow(expect.objectContaining({ code: 'E_PROTOCOL_DESYNC' }));
  });

  it('holds what has arrived of a chunked message, not its announced size: a 4 GiB announcement with one chunk reserves the reserve-ahead room; a message past it grows to the exact size, 8-aligned, bytes intact', () => {
    const r = new Reassembler(2 ** 32, 'test', 4096);
    const head = toFrames({ kind: 'DATA', session: 's', tag: 'big', depth: 0, payload: randomBytes(1000) }, 1000)[0]!;
    expect(r.push({ ...head, chunks: 2 ** 22, total_bytes: 2 ** 32 - 8 })).toBeNull();
    expect(r.reservedBytes).toBe(4096);
    const payload = randomBytes(10_000);
    const g = new Reassembler(1 << 20, 'test', 1024);
    const out = toFrames({ kind: 'DATA', session: 's', tag: 't', depth: 2, payload }, 999).map((f) => g.push(f));
    expect(out.slice(0, -1).every((m) => m === null)).toBe(true);
    const msg = out.at(-1)!;
    expect(msg.payload.byteLength).toBe(10_000);
    expect(msg.payload.byteOffset % 8).toBe(0);
    expect(Buffer.from(msg.payload).equals(payload)).toBe(true);
    expect(g.reservedBytes).toBe(0);
    // Chunks past the announced size are refused at the chunk that overflows.
    const over = new Reassembler(1 << 20, 'test', 16);
    const fs = toFrames({ kind: 'DATA', session: 's', tag: 'o', depth: 0, payload: randomBytes(300) }, 100);
    expect(over.push({ ...fs[0]!, total_bytes: 250 })).toBeNull();
    expect(over.push({ ...fs[1]!, total_bytes: 250 })).toBeNull();
    expect(() => over.push({ ...fs[2]!, total_bytes: 250 })).toThrow(expect.objectContaining({ code: 'E_PROTOCOL_DESYNC' }));
  });

  it('sends an empty message as one empty chunk', () => {
    const frames = toFrames({ kind: 'DATA', session: 's', tag: 't', depth: 0, payload: new Uint8Array(0) });
    expect(frames).toHaveLength(1);
    expect(new Reassembler(10, 'test').push(frames[0]!)!.payload.byteLength).toBe(0);
  });

  it('rejects an out-of-order chunk and an oversized message with E_PROTOCOL_DESYNC', () => {
    const frames = toFrames({ kind: 'DATA', session: 's', tag: 't', depth: 0, payload: new Uint8Array(300) }, 100);
    const r = new Reassembler(1000, 'test');
    r.push(frames[0]!);
    expect(() => r.push(frames[2]!)).toThrow(expect.objectContaining({ code: 'E_PROTOCOL_DESYNC' }));
    expect(() => new Reassembler(100, 'test').push(frames[0]!)).toThrow(expect.objectContaining({ code: 'E_PROTOCOL_DESYNC' }));
  });
});

// Both links that carry the mesh's messages (mesh-h2.ts): the gRPC stream and the raw h2 stream under the same mTLS.
const LINKS = ['grpc', 'h2'] as const;

describe.each(LINKS)('transport over mTLS on loopback (link %s)', (link) => {
  let ms: Trio;
  // 1 MiB frames here, so that a multi-frame message stays small (the default is CHUNK_BYTES, 64 MiB).
  beforeAll(async () => { ms = await meshTrio({ extra: { chunkBytes: 1 << 20, link } }); });
  afterAll(async () => { await closeAll(ms); });

  it(`carries every pair's messages over the ${link} link`, () => {
    for (const [a, b] of [[0, 1], [0, 2], [1, 2]] as const) {
      expect(ms[a].health[b]!.carrier).toBe(link);
      expect(ms[b].health[a]!.carrier).toBe(link);
    }
  });

  it('delivers a 3 MiB + 8 byte u64 payload intact, in 4 frames, as an aligned buffer', async () => {
    const n = (3 * (1 << 20)) / 8 + 1;
    const a = bytesU64(randomBytes(n * 8));
    const id = 'chunk-test';
    const [t0, t1] = [ms[0].openSession(id), ms[1].openSession(id)];
    const frames0 = ms[0].stats[1]!.framesSent;
    t0.send(1, 'big', u64Bytes(a));
    const got = await t1.recv(0, 'big');
    expect(got.byteOffset % 8).toBe(0);
    expect(Buffer.from(got).equals(Buffer.from(u64Bytes(a)))).toBe(true);
    expect(bytesU64(got, n).length).toBe(n);
    expect(ms[0].stats[1]!.framesSent - frames0).toBe(4);
    expect(t0.counters).toEqual({ bytesSent: n * 8, messagesSent: 1, depth: 0, waitMs: 0 });
    expect(t1.counters.waitMs).toBeGreaterThanOrEqual(0);
    expect(t1.counters.depth).toBe(1);
    t0.close(); t1.close();
  });

  it('fails recv with E_PROTOCOL_DESYNC when the tag differs', async () => {
    const [t0, t1] = [ms[0].openSession('tag-test'), ms[1].openSession('tag-test')];
    t0.send(1, 'relu.step1', new Uint8Array(8));
    expect(await codeOf(t1.recv(0, 'relu.step2'))).toBe('E_PROTOCOL_DESYNC');
    t0.close(); t1.close();
  });

  it('routes by session id: interleaved sessions see only their own messages, early messages wait for open', async () => {
    const a0 = ms[0].openSession('A'), b0 = ms[0].openSession('B');
    a0.send(2, 'x', Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0));
    b0.send(2, 'x', Uint8Array.of(2, 0, 0, 0, 0, 0, 0, 0));
    a0.send(2, 'y', Uint8Array.of(3, 0, 0, 0, 0, 0, 0, 0));
    await new Promise((r) => setTimeout(r, 50)); // arrive before P2 opens its views
    const b2 = ms[2].openSession('B'), a2 = ms[2].openSession('A');
    expect((await b2.recv(0, 'x'))[0]).toBe(2);
    expect((await a2.recv(0, 'x'))[0]).toBe(1);
    expect((await a2.recv(0, 'y'))[0]).toBe(3);
    expect(a2.pending + b2.pending).toBe(0);
    for (const t of [a0, b0, a2, b2]) t.close();
  });

  it('ReLU of 1000 elements: same result and identical bytes, messages and rounds per party as the in-memory transport', async () => {
    const n = 1000;
    const x = new BigUint64Array(n).map((_, i) => BigInt.asUintN(64, BigInt((i - 500) * 977)));
    const xs = shareFor3(x);
    const mem = await run3((ctx) => relu(ctx, xs[ctx.party], 'relu'));
    const seeds = dealSeeds();
    const views = ([0, 1, 2] as PartyId[]).map((p) => ms[p].openSession('relu-1000'));
    const outs = await Promise.all(([0, 1, 2] as PartyId[]).map((p) => relu(createContext(p, views[p]!, seeds[p]), xs[p], 'relu')));
    const want = x.map((v) => (BigInt.asIntN(64, v) > 0n ? v : 0n));
    expect(reconstruct(k, outs[0]!, outs[1]!)).toEqual(want);
    for (const p of [0, 1, 2] as PartyId[]) {
      const { waitMs: w, ...counted } = views[p]!.counters;
      const { waitMs: _wm, ...want } = mem.transports[p].counters;
      expect(counted).toEqual(want);
      expect(w).toBeGreaterThanOrEqual(0); // time blocked in recv, not a protocol count
      expect(views[p]!.pending).toBe(0);
    }
    expect(Math.max(...views.map((v) => v!.counters.depth))).toBe(mem.rounds);
    views.forEach((v) => v!.close());
  });

  it('sessions that are closed reject further sends; a reused session id is refused (E_CONFLICT)', async () => {
    const t = ms[0].openSession('once');
    const waiting = t.recv(1, 'never');
    t.close();
    // The default reason (a run's normal end) is coded and carries the party, with no stack captured.
    await expect(waiting).rejects.toMatchObject({ code: 'E_PEER_UNAVAILABLE', message: 'transport: party 0 closed session' });
    expect(() => t.send(1, 'x', new Uint8Array(8))).toThrow(expect.objectContaining({ code: 'E_PEER_UNAVAILABLE' }));
    expect(() => ms[0].openSession('once')).toThrow(expect.objectContaining({ code: 'E_CONFLICT' }));
  });
});

describe.each(LINKS)('transport: a peer that disappears (link %s)', (link) => {
  it('fails pending receives of every open session with E_PEER_UNAVAILABLE, without hanging', async () => {
    const ms = await meshTrio({ extra: { link } });
    try {
      const s1 = ms[0].openSession('s1'), s2 = ms[0].openSession('s2');
      const down = new Promise<PartyId>((resolve) => ms[0].onPeer((p, up) => { if (!up) resolve(p); }));
      const waits = [codeOf(s1.recv(2, 'never')), codeOf(s2.recv(1, 'never'))];
      const t = performance.now();
      ms[2].kill();
      expect(await down).toBe(2);
      expect(await Promise.all(waits)).toEqual(['E_PEER_UNAVAILABLE', 'E_PEER_UNAVAILABLE']);
      expect(performance.now() - t).toBeLessThan(5_000);
      expect(ms[0].isUp(2)).toBe(false);
      expect(() => ms[0].openSession('s3').send(2, 'x', new Uint8Array(0))).toThrow(expect.objectContaining({ code: 'E_PEER_UNAVAILABLE' }));
      // A restarted P2 links again (P0 and P1 accept the new dialer) and sessions work.
      const p2 = new PeerMesh({ party: 2, tls: tlsFor(2), link, dial: { 0: ms[0].dialTarget, 1: ms[1].dialTarget }, reconnectMs: { min: 20, max: 200 } });
      ms[2] = p2;
      await p2.start();
      await Promise.all(ms.map((m) => m.waitAllUp(10_000)));
      const [a, b] = [ms[0].openSession('after'), p2.openSession('after')];
      a.send(2, 'hi', new Uint8Array(16));
      expect((await b.recv(0, 'hi')).byteLength).toBe(16);
      // At the default frame size a 12 MiB message travels as one frame and arrives 8-aligned, without reassembly.
      const frames = ms[0].stats[2]!.framesSent;
      a.send(2, 'big', new Uint8Array(12 << 20).fill(7));
      const big = await b.recv(0, 'big');
      expect(ms[0].stats[2]!.framesSent - frames).toBe(1);
      expect(big.byteLength).toBe(12 << 20);
      expect(big.byteOffset % 8).toBe(0);
      expect(big[(12 << 20) - 1]).toBe(7);
    } finally {
      await closeAll(ms);
    }
  });
});
