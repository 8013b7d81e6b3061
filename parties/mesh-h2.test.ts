/**
 * The h2 data link (mesh-h2.ts): agreement on the link at HELLO, and the
 * data port's own trust checks (same CA, same party names as the gRPC link).
 * The transport, bulk and mTLS tests run on both links (transport.test.ts,
 * mesh-bulk.test.ts, mtls.test.ts); the security review's cases (token
 * binding, sessions, limits, an unreachable port) are in
 * mesh-h2-security.test.ts and mesh-h2-reconnect.test.ts.
 */
import * as http2 from 'node:http2';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCa, issueCert } from './certs.js';
import { EventEmitter } from 'node:events';
import type { WireFrame } from './chunking.js';
import { FramedStream } from './mesh-h2.js';
import { PeerMesh } from './mesh.js';
import { helloFrame, pair, probe, until } from './testing/h2-link.js';
import { closeAll, meshTrio, testCerts, tlsFor } from './testing/trio.js';
import { readTls, type MeshTls } from './tls.js';

const opened: PeerMesh[] = [];
afterEach(async () => { await Promise.all(opened.splice(0).map((m) => m.close())); });

/**
 * Open a data stream to `port` with `tls`, send a HELLO naming `party`, and
 * report how it ended: 'tls' (handshake refused), the HTTP status, and
 * whether the server answered anything on the stream.
 */
async function probeHello(port: number, tls: MeshTls, party: 0 | 1 | 2): Promise<{ outcome: string; answered: boolean }> {
  const pr = probe(port, tls);
  pr.write(helloFrame(party));
  const t = setTimeout(() => pr.close(), 3_000);
  const why = await pr.ended;
  clearTimeout(t);
  return { outcome: why === 'closed by the probe' ? `status ${pr.status()} (open)` : why, answered: pr.frames.length > 0 };
}

describe('h2 data link: both ends must name the same link', () => {
  it('P0 on h2, P1 on grpc: refused with E_SETTINGS_MISMATCH naming meshLink at both ends; no link comes up', async () => {
    const { m0, m1 } = await pair(opened, 'h2', 'grpc');
    expect(await until(() => m0.health[1]!.problem !== null && m1.health[0]!.problem !== null, 3_000)).toBe(true);
    const msg = 'meshLink: P0 has h2, P1 has grpc (must be the same at the three parties)';
    expect(m0.health[1]!.problem).toMatchObject({ code: 'E_SETTINGS_MISMATCH', message: msg });
    expect(m1.health[0]!.problem).toMatchObject({ code: 'E_SETTINGS_MISMATCH', message: msg });
    expect(m0.isUp(1) || m1.isUp(0)).toBe(false);
  });

  it('P0 on grpc, P1 on h2: the same refusal, worded the same', async () => {
    const { m0, m1 } = await pair(opened, 'grpc', 'h2');
    expect(await until(() => m0.health[1]!.problem !== null && m1.health[0]!.problem !== null, 3_000)).toBe(true);
    expect(m1.health[0]!.problem).toMatchObject({ code: 'E_SETTINGS_MISMATCH', message: 'meshLink: P0 has grpc, P1 has h2 (must be the same at the three parties)' });
    expect(m0.isUp(1) || m1.isUp(0)).toBe(false);
  });

  it('both on h2: the link comes up carried by h2; a CONTROL message travels on it', async () => {
    const { m0, m1 } = await pair(opened, 'h2', 'h2');
    expect(await until(() => m0.isUp(1) && m1.isUp(0), 3_000)).toBe(true);
    expect([m0.health[1]!.carrier, m1.health[0]!.carrier]).toEqual(['h2', 'h2']);
    const got = new Promise<unknown>((resolve) => m0.onControl((from, type, body) => resolve({ from, type, body })));
    m1.sendControl(0, 'ping', { n: 7 });
    expect(await got).toEqual({ from: 1, type: 'ping', body: { n: 7 } });
  });
});

describe('h2 data link: the data port trusts what the gRPC port trusts', () => {
  it('refuses a rogue-CA party-1 certificate (handshake), a CA-signed non-party certificate (403), and a party HELLO with no gRPC link waiting for it', async () => {
    const { m0, m1, lines } = await pair(opened, 'h2', 'h2');
    expect(await until(() => m0.isUp(1) && m1.isUp(0), 3_000)).toBe(true);
    const port = m0.dataPort!;
    expect(port).toBeGreaterThan(0);
    const dir = mkdtempSync(path.join(tmpdir(), 'securenn-rogue-h2-'));
    const rogueCa = createCa(dir, 'rogue-ca');
    const rogue = issueCert(dir, rogueCa, 'party-1', { dns: ['party-1'] });
    expect((await probeHello(port, readTls({ ca: testCerts().ca.cert, cert: rogue.cert, key: rogue.key }), 1)).outcome).toBe('tls');
    const c = testCerts();
    const client = await probeHello(port, readTls({ ca: c.ca.cert, cert: c.client.cert, key: c.client.key }), 1);
    expect(client).toEqual({ outcome: 'status 403', answered: false });
    // P2's real certificate, but P2 has no gRPC link to P0 waiting for a data link: nothing is answered.
    const p2 = await probeHello(port, tlsFor(2), 2);
    expect(p2.answered).toBe(false);
    expect(p2.outcome.startsWith('status 200')).toBe(true);
    // P1's certificate with a HELLO naming P2: refused too.
    expect((await probeHello(port, tlsFor(1), 2)).answered).toBe(false);
    expect(lines.filter((l) => l.startsWith('P0 warn refused a data link')).length).toBeGreaterThanOrEqual(3);
    // The real link is untouched.
    expect(m0.isUp(1) && m1.isUp(0)).toBe(true);
  });

  it('a data link that drops takes the pair down with E_PEER_UNAVAILABLE, and the dialer links again', async () => {
    const { m0, m1 } = await pair(opened, 'h2', 'h2');
    expect(await until(() => m0.isUp(1) && m1.isUp(0), 3_000)).toBe(true);
    const s0 = m0.openSession('drop');
    const wait = s0.recv(1, 'never').then(() => 'delivered', (e: { code?: string }) => e.code);
    const down = new Promise<string | undefined>((resolve) => m0.onPeer((_p, up, err) => { if (!up) resolve((err as { code?: string } | undefined)?.code); }));
    // Drop only the h2 connection (the gRPC stream stays): the pair goes down all the same.
    (m1 as unknown as { links: { dataSession?: http2.ClientHttp2Session }[] }).links[0]!.dataSession!.destroy();
    expect(await down).toBe('E_PEER_UNAVAILABLE');
    expect(await wait).toBe('E_PEER_UNAVAILABLE');
    expect(await until(() => m0.isUp(1) && m1.isUp(0), 3_000)).toBe(true);
    expect(m0.health[1]!.ups).toBe(2);
  });
});

/** A stand-in for an HTTP/2 stream: what FramedStream reads ('data', 'end', 'close', 'error') and writes. */
class FakeStream extends EventEmitter {
  written: Buffer[] = [];
  /** Writes made while corked, and how many corked batches were flushed (a real stream writes each batch with one writev). */
  corked = 0;
  batches = 0;
  closed = false;
  destroyed = false;
  write(b: Buffer): boolean { this.written.push(b); return true; }
  cork(): void { this.corked++; }
  uncork(): void { if (this.corked > 0 && --this.corked === 0) this.batches++; }
  end(): void { this.closed = true; }
  close(): void { this.destroyed = true; }
}

const frameOf = (tag: string, payload: Uint8Array): WireFrame => ({ kind: 'DATA', session: 's', tag, depth: 1, chunk: 0, chunks: 1, total_bytes: payload.byteLength, payload });

describe('FramedStream (the data link\'s framing)', () => {
  it('splits a byte stream at the prefixes however it is cut: several frames in one chunk, one frame over many, a prefix cut in two', () => {
    const a = new FakeStream();
    const writer = new FramedStream(a as unknown as http2.ClientHttp2Stream, 1 << 20, () => {}, () => {});
    const payloads = [new Uint8Array(0), Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff), new Uint8Array(8).fill(9), Uint8Array.from({ length: 64 }, (_, i) => 255 - i)];
    payloads.forEach((p, i) => writer.write(frameOf(`t${i}`, p)));
    const bytes = Buffer.concat(a.written);
    for (const cuts of [[bytes.length], [1, 2, 3, 4, 5, 6, 7], [4, 1000, 2000, 3100], Array.from({ length: bytes.length }, (_, i) => i + 1)]) {
      const b = new FakeStream();
      const got: WireFrame[] = [];
      const downs: Error[] = [];
      new FramedStream(b as unknown as http2.ServerHttp2Stream, 1 << 20, (f) => got.push(f), (e) => downs.push(e));
      let at = 0;
      for (const c of [...cuts, bytes.length]) { if (c > at) { b.emit('data', bytes.subarray(at, Math.min(c, bytes.length))); at = Math.min(c, bytes.length); } }
      expect(downs).toEqual([]);
      expect(got.map((f) => f.tag)).toEqual(['t0', 't1', 't2', 't3']);
      got.forEach((f, i) => expect(Buffer.from(f.payload).equals(Buffer.from(payloads[i]!))).toBe(true));
      // Viewed in place (prefix 8-aligned, then frame-codec.ts's pad) or copied into a fresh buffer: every payload lands 8-aligned.
      for (const f of got.slice(1)) expect(f.payload.byteOffset % 8).toBe(0);
    }
  });

  it('writes a small payload inside the prefix + header buffer: one write', () => {
    const a = new FakeStream();
    const writer = new FramedStream(a as unknown as http2.ClientHttp2Stream, 1 << 20, () => {}, () => {});
    const payload = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7) & 0xff);
    writer.write(frameOf('small', payload));
    expect(a.written.length).toBe(1);
    expect(a.batches).toBe(0);
    expect(a.written[0]!.readUInt32BE(1)).toBe(a.written[0]!.length - 5);
    expect(a.written[0]!.subarray(a.written[0]!.length - 4096).equals(payload)).toBe(true);
    const got: WireFrame[] = [];
    const b = new FakeStream();
    new FramedStream(b as unknown as http2.ServerHttp2Stream, 1 << 20, (f) => got.push(f), () => {});
    b.emit('data', a.written[0]!);
    expect(got.map((f) => [f.tag, Buffer.from(f.payload).equals(payload)])).toEqual([['small', true]]);
  });

  it('writes a larger payload as it is (the same bytes, no copy) after one small prefix + header buffer, in one corked batch, and a frame cut into chunks is delivered once, whole', () => {
    const a = new FakeStream();
    const writer = new FramedStream(a as unknown as http2.ClientHttp2Stream, 1 << 20, () => {}, () => {});
    const words = new BigUint64Array(1024).map((_, i) => BigInt(i) * 0x9e3779b97f4a7c15n & (2n ** 64n - 1n));
    words.set([1n, 2n, 3n, 2n ** 64n - 1n]);
    const payload = new Uint8Array(words.buffer);
    writer.write(frameOf('big', payload));
    expect(a.written.length).toBe(2);
    expect(a.batches).toBe(1);
    expect(a.written[0]!.length).toBeLessThan(64);
    // The second write is the caller's payload itself: a view of the same memory, not a copy of it.
    expect(a.written[1]!.buffer).toBe(payload.buffer);
    expect(a.written[1]!.byteOffset).toBe(payload.byteOffset);
    expect(a.written[1]!.byteLength).toBe(payload.byteLength);
    // The prefix's length covers header + payload.
    expect(a.written[0]!.readUInt32BE(1)).toBe(a.written[0]!.length - 5 + payload.byteLength);
    const bytes = Buffer.concat(a.written);
    const b = new FakeStream();
    const got: WireFrame[] = [];
    new FramedStream(b as unknown as http2.ServerHttp2Stream, 1 << 20, (f) => got.push(f), () => {});
    // One byte at a time from an odd offset: nothing is delivered before the last byte, then the frame once.
    const src = Buffer.concat([Buffer.alloc(3), bytes]).subarray(3);
    for (let i = 0; i < src.length; i++) { expect(got.length).toBe(0); b.emit('data', src.subarray(i, i + 1)); }
    expect(got.length).toBe(1);
    expect(got[0]!.tag).toBe('big');
    expect(Array.from(new BigUint64Array(got[0]!.payload.buffer, got[0]!.payload.byteOffset, 1024))).toEqual(Array.from(words));
  });

  it('drops the stream with E_PROTOCOL_DESYNC on a bad prefix (compressed flag, length past the limit) and on a malformed frame', () => {
    for (const bad of [Buffer.from([1, 0, 0, 0, 1, 0]), Buffer.from([0, 0x7f, 0, 0, 0]), Buffer.from([0, 0, 0, 0, 2, 0x08, 0x09])]) {
      const s = new FakeStream();
      const downs: { code?: string }[] = [];
      const got: WireFrame[] = [];
      new FramedStream(s as unknown as http2.ServerHttp2Stream, 1 << 20, (f) => got.push(f), (e) => downs.push(e as { code?: string }));
      s.emit('data', bad);
      expect(got).toEqual([]);
      expect(downs.map((e) => e.code)).toEqual(['E_PROTOCOL_DESYNC']);
      expect(s.destroyed).toBe(true);
      // Nothing more is read or reported after that.
      s.emit('close');
      expect(downs.length).toBe(1);
    }
  });
});

describe('h2 data link without TLS (--insecure-local)', () => {
  it('three parties link on h2 over loopback and a message travels', async () => {
    const ms = await meshTrio({ tls: false, extra: { link: 'h2' } });
    try {
      expect(ms[2].health[0]!.carrier).toBe('h2');
      const [a, b] = [ms[2].openSession('plain'), ms[1].openSession('plain')];
      a.send(1, 'x', new Uint8Array(24).fill(5));
      expect(Array.from(await b.recv(2, 'x'))).toEqual(new Array(24).fill(5));
      a.close(); b.close();
    } finally {
      await closeAll(ms);
    }
  });
});
