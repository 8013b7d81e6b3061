/**
 * The h2 link's receive pool (recv-pool.ts): a buffer comes back only through an exact recycle of a payload it
 * lent, once, within the byte cap; the link reuses it for the next frame of that size with the right bytes, and a
 * run's payloads handed back through the session transport serve the next messages.
 */
import { randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type * as http2 from 'node:http2';
import { describe, expect, it } from 'vitest';
import type { WireFrame } from './chunking.js';
import { FramedStream } from './mesh-h2.js';
import { RecvPool, recvPool } from './recv-pool.js';
import { closeAll, meshTrio } from './testing/trio.js';

const KIB = 1024;

describe('RecvPool', () => {
  it('takes back a lent buffer only for the exact payload view, once; take() then returns it for sizes it fits within 2x', () => {
    // A 16 KiB minimum, so that a take of less than half the buffer (below) is refused by the 2x rule, not by the minimum.
    const pool = new RecvPool(1024 * KIB, 16 * KIB);
    const ab = pool.take(100 * KIB);
    expect(ab.byteLength).toBe(100 * KIB);
    const payload = new Uint8Array(ab, 24, 90 * KIB);
    pool.lend(ab, payload);
    // Not the payload: a part of it, the whole buffer, another buffer of the same size.
    pool.recycle(new Uint8Array(ab, 24, 1000));
    pool.recycle(new Uint8Array(ab));
    pool.recycle(new Uint8Array(new ArrayBuffer(100 * KIB), 24, 90 * KIB));
    expect([pool.recycled, pool.bytesFree]).toEqual([0, 0]);
    // A new view of the same bytes counts (chunking.ts hands the session its own Uint8Array of the frame's payload).
    pool.recycle(new Uint8Array(ab, 24, 90 * KIB));
    pool.recycle(payload);
    expect([pool.recycled, pool.bytesFree]).toEqual([1, 100 * KIB]);
    // Larger than the buffer, or less than half of it: a new one.
    expect(pool.take(100 * KIB + 1) === ab).toBe(false);
    expect(pool.take(50 * KIB - 1) === ab).toBe(false);
    expect(pool.take(100 * KIB) === ab).toBe(true);
    expect([pool.reused, pool.bytesFree]).toEqual([1, 0]);
    // Taken again, not lent again: a stale view handed back does nothing.
    pool.recycle(payload);
    expect(pool.take(100 * KIB) === ab).toBe(false);
  });

  it('stays within its cap under many sizes in random order (takes mixed in), and what it says it holds is what take() gives back', () => {
    const cap = 1024 * KIB, pool = new RecvPool(cap, 16 * KIB);
    const sizes = Array.from({ length: 60 }, () => randomInt(16 * KIB, 400 * KIB));
    for (let i = 0; i < 2000; i++) {
      const bytes = sizes[randomInt(sizes.length)]!;
      if (randomInt(3) === 0) { pool.take(bytes); continue; }
      const ab = pool.take(bytes), v = new Uint8Array(ab, 8, bytes - 8);
      pool.lend(ab, v);
      pool.recycle(v);
      expect(pool.bytesFree).toBeLessThanOrEqual(cap);
    }
    // Empty it, smallest sizes first (each take gets a buffer of at least its size and at most twice it): the bytes
    // taken back are exactly bytesFree, and no buffer comes back twice.
    const held = pool.bytesFree, seen = new Set<ArrayBuffer>();
    let back = 0;
    for (const bytes of [...new Set(sizes)].sort((a, b) => a - b)) {
      for (;;) {
        const before = pool.reused, ab = pool.take(bytes);
        if (pool.reused === before) break;
        expect(ab.byteLength).toBeGreaterThanOrEqual(bytes);
        expect(ab.byteLength).toBeLessThanOrEqual(2 * bytes);
        expect(seen.has(ab)).toBe(false);
        seen.add(ab);
        back += ab.byteLength;
      }
    }
    // What is left no size asks for (every free buffer is more than twice the largest size below it): take it with its own size.
    for (;;) {
      const before = pool.reused, ab = pool.take(400 * KIB);
      if (pool.reused === before) break;
      expect(seen.has(ab)).toBe(false);
      seen.add(ab);
      back += ab.byteLength;
    }
    expect([back, pool.bytesFree]).toEqual([held, 0]);
  });

  it('lends nothing below the minimum size or above the cap, and drops the buffer given back longest ago first past the cap', () => {
    const pool = new RecvPool(300 * KIB, 64 * KIB);
    const lendBack = (bytes: number): ArrayBuffer => { const ab = new ArrayBuffer(bytes); const v = new Uint8Array(ab, 8); pool.lend(ab, v); pool.recycle(v); return ab; };
    lendBack(32 * KIB);
    lendBack(400 * KIB);
    expect(pool.recycled).toBe(0);
    const a = lendBack(100 * KIB), b = lendBack(128 * KIB), c = lendBack(128 * KIB);
    // 100 + 128 + 128 > 300: the 100 KiB buffer (given back first) went when the second 128 KiB buffer came.
    expect(pool.bytesFree).toBe(256 * KIB);
    // a is gone: a 100 KiB frame gets the smallest fit left, a 128 KiB buffer (a, were it still free, would be smaller).
    const first = pool.take(100 * KIB);
    expect(first === a).toBe(false);
    const two = [first, pool.take(128 * KIB)];
    expect([two.includes(b), two.includes(c)]).toEqual([true, true]);
    expect(pool.bytesFree).toBe(0);
  });

  it('keeps at most maxBuffers free buffers (take() scans them all), dropping the one given back longest ago first', () => {
    const pool = new RecvPool(1024 * 1024 * KIB, 16 * KIB, 8);
    const bufs = Array.from({ length: 11 }, (_, i) => { const ab = new ArrayBuffer(16 * KIB + 8 * i); const v = new Uint8Array(ab, 8); pool.lend(ab, v); pool.recycle(v); return ab; });
    expect([pool.recycled, pool.bytesFree]).toEqual([11, bufs.slice(3).reduce((t, b) => t + b.byteLength, 0)]);
    // The three given back first are gone: a take of the smallest size gets the fourth (the smallest left).
    expect(pool.take(16 * KIB) === bufs[3]).toBe(true);
  });

  it('serves a smaller size from the smallest free buffer within 2x (a run of another batch size), newest first among equals', () => {
    const pool = new RecvPool(64 * 1024 * KIB, 16 * KIB);
    // Four frames' buffers at once (all lent before any comes back), then handed back in this order.
    const [big, mid1, mid2, small] = [800, 300, 300, 90].map((k) => pool.take(k * KIB));
    for (const ab of [big!, mid1!, mid2!, small!]) { const v = new Uint8Array(ab, 8, ab.byteLength - 8); pool.lend(ab, v); pool.recycle(v); }
    // 200 KiB: 300 KiB is the smallest fit within [200, 400] KiB (not 90, too small; not 800, past 2x); mid2 came back last.
    const a = pool.take(200 * KIB);
    expect(a === mid2).toBe(true);
    expect(pool.take(200 * KIB) === mid1).toBe(true);
    // None left within [200, 400] KiB: a new buffer of exactly the size asked.
    const c = pool.take(200 * KIB);
    expect([c === big, c === small, c.byteLength]).toEqual([false, false, 200 * KIB]);
    expect(pool.take(450 * KIB) === big).toBe(true);
    expect(pool.take(60 * KIB) === small).toBe(true);
    expect([pool.reused, pool.bytesFree]).toEqual([4, 0]);
  });
});

/** What FramedStream reads of an HTTP/2 stream ('data' and the end events); a writer's bytes are collected. */
class FakeStream extends EventEmitter {
  written: Buffer[] = [];
  write(b: Buffer): boolean { this.written.push(Buffer.from(b)); return true; }
  cork(): void {}
  uncork(): void {}
  end(): void {}
  close(): void {}
}

const frameOf = (tag: string, payload: Uint8Array): WireFrame => ({ kind: 'DATA', session: 's', tag, depth: 1, chunk: 0, chunks: 1, total_bytes: payload.byteLength, payload });

describe('FramedStream with a receive pool', () => {
  it('fills the next frame of the same size into a recycled buffer, every byte the new frame\'s', () => {
    const pool = new RecvPool();
    const a = new FakeStream();
    const writer = new FramedStream(a as unknown as http2.ClientHttp2Stream, 1 << 20, () => {}, () => {});
    const first = new Uint8Array(200 * KIB).map((_, i) => i * 7);
    const second = new Uint8Array(200 * KIB).map((_, i) => 255 - (i % 251));
    writer.write(frameOf('x', first));
    writer.write(frameOf('x', second));
    writer.write(frameOf('x', first));
    const got: WireFrame[] = [];
    const b = new FakeStream();
    new FramedStream(b as unknown as http2.ServerHttp2Stream, 1 << 20, (f) => got.push(f), () => {}, pool);
    // 64 KiB chunks from an odd offset: never a whole frame in one chunk, so every frame is copied into a pool buffer.
    const all = Buffer.concat([Buffer.alloc(1), ...a.written]).subarray(1);
    const feed = (from: number, to: number) => { for (let o = from; o < to; o += 64 * KIB) b.emit('data', all.subarray(o, Math.min(o + 64 * KIB, to))); };
    const frameBytes = all.length / 3;
    feed(0, frameBytes);
    expect(got.length).toBe(1);
    const p1 = got[0]!.payload;
    expect(Buffer.from(p1).equals(Buffer.from(first))).toBe(true);
    pool.recycle(p1);
    feed(frameBytes, 2 * frameBytes);
    // The second frame landed in the first one's buffer, and holds the second frame's bytes only.
    expect(got[1]!.payload.buffer === p1.buffer).toBe(true);
    expect(Buffer.from(got[1]!.payload).equals(Buffer.from(second))).toBe(true);
    expect(pool.reused).toBe(1);
    // Not recycled: the third frame gets a buffer of its own, and the second's bytes stay as they were.
    feed(2 * frameBytes, 3 * frameBytes);
    expect(got[2]!.payload.buffer === p1.buffer).toBe(false);
    expect(Buffer.from(got[2]!.payload).equals(Buffer.from(first))).toBe(true);
    expect(Buffer.from(got[1]!.payload).equals(Buffer.from(second))).toBe(true);
  });
});

describe('FramedStream with a receive pool: a smaller frame in a larger recycled buffer', () => {
  it('delivers exactly the smaller frame\'s bytes and length from the larger buffer, and the buffer can come back again', () => {
    const pool = new RecvPool();
    const a = new FakeStream();
    const writer = new FramedStream(a as unknown as http2.ClientHttp2Stream, 1 << 20, () => {}, () => {});
    const first = new Uint8Array(200 * KIB).map((_, i) => 1 + (i % 253)), second = new Uint8Array(120 * KIB).map((_, i) => (i * 11) & 0xff);
    writer.write(frameOf('x', first));
    const firstBytes = a.written.reduce((t, w) => t + w.length, 0);
    writer.write(frameOf('y', second));
    const all = Buffer.concat([Buffer.alloc(1), ...a.written]).subarray(1);
    const got: WireFrame[] = [];
    const b = new FakeStream();
    new FramedStream(b as unknown as http2.ServerHttp2Stream, 1 << 20, (f) => got.push(f), () => {}, pool);
    const feed = (from: number, to: number) => { for (let o = from; o < to; o += 64 * KIB) b.emit('data', all.subarray(o, Math.min(o + 64 * KIB, to))); };
    feed(0, firstBytes);
    const p1 = got[0]!.payload;
    pool.recycle(p1);
    feed(firstBytes, all.length);
    const p2 = got[1]!.payload;
    // The 120 KiB frame went into the 200 KiB frame's buffer (within 2x): a view of its own length, its own bytes.
    expect(p2.buffer === p1.buffer).toBe(true);
    expect([pool.reused, got[1]!.tag, p2.byteLength]).toEqual([1, 'y', 120 * KIB]);
    expect(Buffer.from(p2).equals(Buffer.from(second))).toBe(true);
    // Handed back through its own view (not the first frame's, which is stale now), it is free again.
    pool.recycle(p1);
    expect(pool.bytesFree).toBe(0);
    pool.recycle(p2);
    expect(pool.bytesFree).toBe(p1.buffer.byteLength);
  });
});

describe('FramedStream with a receive pool: a frame cut off', () => {
  it('a recycled buffer partly filled by a frame whose stream ends mid-frame is never delivered nor lent again; the next link\'s frame of that size is whole', () => {
    const pool = new RecvPool();
    const a = new FakeStream();
    const writer = new FramedStream(a as unknown as http2.ClientHttp2Stream, 1 << 20, () => {}, () => {});
    const first = new Uint8Array(100 * KIB).map((_, i) => i * 13), second = new Uint8Array(100 * KIB).map((_, i) => 1 + (i % 241));
    writer.write(frameOf('x', first));
    writer.write(frameOf('x', second));
    const all = Buffer.concat([Buffer.alloc(1), ...a.written]).subarray(1), frameBytes = all.length / 2;
    const got: WireFrame[] = [], downs: string[] = [];
    const b = new FakeStream();
    new FramedStream(b as unknown as http2.ServerHttp2Stream, 1 << 20, (f) => got.push(f), (e) => downs.push(e.message), pool);
    const feed = (s: FakeStream, bytes: Buffer) => { for (let o = 0; o < bytes.length; o += 16 * KIB) s.emit('data', bytes.subarray(o, Math.min(o + 16 * KIB, bytes.length))); };
    feed(b, all.subarray(0, frameBytes));
    expect(got.length).toBe(1);
    const p1 = got[0]!.payload;
    pool.recycle(p1);
    // The second frame starts in p1's buffer (taken from the pool) and the stream ends after half of it.
    feed(b, all.subarray(frameBytes, frameBytes + frameBytes / 2));
    expect(pool.reused).toBe(1);
    b.emit('end');
    expect(got.length).toBe(1);
    expect(downs.length).toBeGreaterThan(0);
    // The half-filled buffer was never lent: handing back p1 again (a stale view) does not put it back in the pool.
    pool.recycle(p1);
    expect([pool.recycled, pool.bytesFree]).toEqual([1, 0]);
    // A new link (same pool) gets the second frame whole, in a buffer of its own.
    const got2: WireFrame[] = [];
    const c = new FakeStream();
    new FramedStream(c as unknown as http2.ServerHttp2Stream, 1 << 20, (f) => got2.push(f), () => {}, pool);
    feed(c, all.subarray(frameBytes));
    expect(got2.length).toBe(1);
    expect(got2[0]!.payload.buffer === p1.buffer).toBe(false);
    expect(Buffer.from(got2[0]!.payload).equals(Buffer.from(second))).toBe(true);
    expect(pool.reused).toBe(1);
  });
});

describe('session transport on the h2 link: recycle', () => {
  it('a payload handed back through Transport.recycle carries the next message of that size, with its bytes', async () => {
    const ms = await meshTrio({ tls: false, extra: { link: 'h2' } });
    try {
      const [a, b] = [ms[2].openSession('pool'), ms[1].openSession('pool')];
      const m1 = new Uint8Array(256 * KIB).fill(3), m2 = new Uint8Array(256 * KIB).map((_, i) => i % 199);
      a.send(1, 'one', m1);
      const got1 = await b.recv(2, 'one');
      expect(Buffer.from(got1).equals(Buffer.from(m1))).toBe(true);
      const reused = recvPool.reused;
      b.recycle(got1);
      a.send(1, 'two', m2);
      const got2 = await b.recv(2, 'two');
      expect(got2.buffer === got1.buffer).toBe(true);
      expect(recvPool.reused).toBe(reused + 1);
      expect(Buffer.from(got2).equals(Buffer.from(m2))).toBe(true);
      a.close(); b.close();
    } finally {
      await closeAll(ms);
    }
  });
});
