/**
 * SessionTransport.flush (Transport.flush): Node's HTTP/2 session writes a stream's data to its socket only when
 * the event loop turns (nghttp2's writes run as an immediate), so the protocol asks for one turn after a large
 * send before long synchronous work (relu-direct.ts). The view yields only when at least 64 KiB were sent since the
 * last flush, and the turn it yields is the one that puts the h2 bytes on the socket.
 */
import { EventEmitter } from 'node:events';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { PartyId } from '../protocol/ring/types.js';
import type { WireFrame } from './chunking.js';
import { FramedStream } from './mesh-h2.js';
import { SessionTransport, type FrameSink } from './session-transport.js';

const sink: FrameSink = { sendMessage: () => {}, release: () => {} };

describe('SessionTransport.flush', () => {
  it('no turn below 64 KiB sent since the last flush; one turn at or above it, then the count starts again', async () => {
    const t = new SessionTransport(0, 's', sink);
    expect(t.flush()).toBeUndefined();
    t.send(1, 'a', new Uint8Array(32 * 1024));
    expect(t.flush()).toBeUndefined();
    t.send(2, 'b', new Uint8Array(32 * 1024));
    let immediateRan = false;
    setImmediate(() => { immediateRan = true; });
    const turn = t.flush();
    expect(turn).toBeInstanceOf(Promise);
    expect(immediateRan).toBe(false);
    await turn;
    expect(immediateRan).toBe(true); // resolved in the check phase, after the immediates queued before it
    expect(t.flush()).toBeUndefined();
    expect(t.counters.bytesSent).toBe(64 * 1024);
  });

  it('why: an HTTP/2 stream write reaches the socket only in the next turn of the event loop', async () => {
    const server = http2.createServer();
    server.on('stream', (s) => { s.respond(); s.on('data', () => {}); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const c = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    try {
      await new Promise((r) => c.once('connect', r));
      const st = c.request({ ':method': 'POST' }, { endStream: false });
      await new Promise((r) => setTimeout(r, 20));
      const before = c.socket.bytesWritten;
      st.write(Buffer.alloc(32 * 1024, 1));
      const spin = Date.now();
      while (Date.now() - spin < 5) { /* synchronous work after the send */ }
      expect(c.socket.bytesWritten - before).toBe(0);
      const t = new SessionTransport(0, 's', sink);
      t.send(1, 'x', new Uint8Array(64 * 1024));
      await t.flush();
      expect(c.socket.bytesWritten - before).toBeGreaterThanOrEqual(32 * 1024);
      st.close();
    } finally {
      c.close();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('SessionTransport.flush("drained") over the h2 link (mTLS)', () => {
  it('resolves once the frames are on the socket; a flush pending when the view closes resolves', async () => {
    const { closeAll, meshTrio } = await import('./testing/trio.js');
    const ms = await meshTrio({ extra: { link: 'h2' } });
    try {
      const [t1, t2] = [ms[1].openSession('drain-1'), ms[2].openSession('drain-1')];
      t1.send(2, 'big', new Uint8Array(4 << 20).fill(7));
      // Written to the data link's stream, not yet on its socket (Node writes it when the event loop turns, and
      // past the 256 KiB flow-control window only as P2's window updates come back).
      expect(ms[1].drained()).toBeInstanceOf(Promise);
      await t1.flush('drained');
      expect(ms[1].drained()).toBeUndefined();
      const got = await t2.recv(1, 'big');
      expect(got.byteLength).toBe(4 << 20);
      expect(got[got.length - 1]).toBe(7);
      // A flush waiting when the view closes: the close ends it (a dead link must not hold a run).
      t1.send(2, 'big2', new Uint8Array(4 << 20));
      const pending = t1.flush('drained');
      expect(pending).toBeInstanceOf(Promise);
      t1.close();
      await pending;
      expect(t1.flush('drained')).toBeUndefined();
      t2.close();
    } finally {
      await closeAll(ms);
    }
  }, 60_000);
});

/** A stream whose writes complete only when the test says so (in order, as a Writable's do). */
class HeldStream extends EventEmitter {
  closed = false;
  destroyed = false;
  readonly callbacks: (() => void)[] = [];
  write(_b: Uint8Array, cb?: () => void): boolean { if (cb) this.callbacks.push(cb); return true; }
  cork(): void {}
  uncork(): void {}
  close(): void { this.destroyed = this.closed = true; setImmediate(() => this.emit('close')); }
  /** Complete the oldest pending frame's write. */
  completeOne(): void { this.callbacks.shift()!(); }
}
const frame = (session: string, bytes: number): WireFrame => ({ kind: 'DATA', session, tag: 't', depth: 0, chunk: 0, chunks: 1, total_bytes: bytes, payload: new Uint8Array(bytes) });
const settled = async (p: Promise<void>): Promise<boolean> => {
  let done = false;
  void p.then(() => { done = true; });
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  return done;
};

describe('flush("drained") waits for this session\'s own frames only (review s38-cnn)', () => {
  it('FramedStream.drained: the frames written before the call, not the ones other sessions write after it (before: until no frame at all was pending)', async () => {
    const st = new HeldStream();
    const fs = new FramedStream(st as unknown as http2.ClientHttp2Stream, 1 << 20, () => {}, () => {});
    fs.write(frame('a', 100_000));
    const mine = fs.drained()!;
    expect(mine).toBeInstanceOf(Promise);
    // Another session keeps the link busy: a frame after each completion, so some frame is always pending.
    for (let i = 0; i < 3; i++) {
      fs.write(frame('b', 100_000));
      st.completeOne();
    }
    expect(await settled(mine)).toBe(true);
    // One frame of 'b' is still pending: a waiter now waits for it, not for the frame written after it.
    const later = fs.drained()!;
    fs.write(frame('b', 10));
    expect(await settled(later)).toBe(false);
    st.completeOne();
    expect(await settled(later)).toBe(true);
    expect(fs.drained()).toBeInstanceOf(Promise);
    st.completeOne();
    expect(fs.drained()).toBeUndefined();
  });

  it('FramedStream.destroy releases its waiters (before: destroy set dead first, so the stream\'s close never resolved them)', async () => {
    const st = new HeldStream();
    const fs = new FramedStream(st as unknown as http2.ClientHttp2Stream, 1 << 20, () => {}, () => {});
    fs.write(frame('a', 100_000));
    const w = fs.drained()!;
    fs.destroy();
    expect(await settled(w)).toBe(true);
    expect(fs.drained()).toBeUndefined();
  });

  it('the view asks the mesh for the links it sent to since the last flush; the mesh waits on those links only', async () => {
    const asked: (readonly PartyId[] | undefined)[] = [];
    const t = new SessionTransport(1, 's', { sendMessage: () => {}, release: () => {}, drained: (p) => { asked.push(p); return undefined; } });
    t.send(0, 'c', new Uint8Array(64 * 1024));
    await t.flush('drained');
    t.send(2, 'd', new Uint8Array(64 * 1024));
    t.send(0, 'e', new Uint8Array(16));
    await t.flush('drained');
    expect(asked.map((p) => [...(p ?? [])].sort())).toEqual([[0], [0, 2]]);
    const { closeAll, meshTrio } = await import('./testing/trio.js');
    const ms = await meshTrio({ extra: { link: 'h2' } });
    try {
      const [a1, a2] = [ms[1].openSession('busy'), ms[2].openSession('busy')];
      a1.send(2, 'big', new Uint8Array(4 << 20));
      // Session 'busy' has 4 MiB in flight to P2; a session that sent only to P0 does not wait on it.
      expect(ms[1].drained([2])).toBeInstanceOf(Promise);
      expect(ms[1].drained([0])).toBeUndefined();
      expect(ms[1].drained()).toBeInstanceOf(Promise);
      expect((await a2.recv(1, 'big')).byteLength).toBe(4 << 20);
      a1.close();
      a2.close();
    } finally {
      await closeAll(ms);
    }
  }, 60_000);
});
