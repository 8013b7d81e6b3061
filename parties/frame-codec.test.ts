/**
 * frame-codec.ts against @grpc/proto-loader's own (protobufjs) codec of
 * party.proto's Frame, and the alignment it promises, also over a real mesh.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMpcError } from '../protocol/errors.js';
import type { WireFrame } from './chunking.js';
import { decodeFrame, encodeFrame, encodeFrameLazy, encodeFrameParts } from './frame-codec.js';
import { closeAll, meshTrio, type Trio } from './testing/trio.js';

const def = protoLoader.loadSync(fileURLToPath(new URL('./proto/party.proto', import.meta.url)), { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true });
const method = (def['securenn.party.PartyLink'] as grpc.ServiceDefinition).Link as grpc.MethodDefinition<WireFrame, WireFrame>;
const pbEncode = (f: WireFrame): Buffer => method.requestSerialize(f);
const pbDecode = (b: Buffer): WireFrame => method.requestDeserialize(b);

const frames: WireFrame[] = [
  { kind: 'DATA', session: 'run-1', tag: 'relu/3:c', depth: 7, chunk: 0, chunks: 1, total_bytes: 24, payload: randomBytes(24) },
  { kind: 'HELLO', session: '', tag: 'hello', depth: 0, chunk: 0, chunks: 0, total_bytes: 0, payload: Buffer.from('{"party":2,"version":1}') },
  { kind: 'CONTROL', session: '', tag: 'plan', depth: 0, chunk: 0, chunks: 0, total_bytes: 0, payload: Buffer.alloc(0) },
  { kind: 'SETUP', session: 'ö-ünïcode-session', tag: 's12', depth: 2 ** 32 - 1, chunk: 300, chunks: 301, total_bytes: 2 ** 40 + 3, payload: randomBytes(5000) },
  { kind: 'DATA', session: 'x'.repeat(200), tag: 't'.repeat(129), depth: 128, chunk: 1, chunks: 2, total_bytes: 2 ** 20, payload: randomBytes(1 << 16) },
];

/** Field values to compare; protobufjs also reports the (ignored) padding field. */
const plain = (f: WireFrame) => { const { pad: _pad, ...rest } = f as WireFrame & { pad?: unknown }; return { ...rest, payload: Buffer.from(f.payload) }; };

describe('frame codec (party.proto Frame)', () => {
  it('decodes what protobufjs encodes, and protobufjs decodes what it encodes, field for field', () => {
    for (const f of frames) {
      expect(plain(decodeFrame(pbEncode(f)))).toEqual(plain(f));
      expect(plain(pbDecode(encodeFrame(f)))).toEqual(plain(f));
      expect(plain(decodeFrame(encodeFrame(f)))).toEqual(plain(f));
    }
  });

  it('the parts with a free prefix and a small payload inlined (what the h2 link writes) are the same bytes after the prefix', () => {
    for (const f of frames) {
      const eager = encodeFrame(f);
      for (const inlineUpTo of [undefined, 0, 24, 4096, 1 << 20]) {
        const { head, payload } = encodeFrameParts(f, { prefix: 5, inlineUpTo });
        expect(Buffer.concat([head.subarray(5), payload]).equals(eager)).toBe(true);
        // Inlined exactly when the payload is non-empty and at most inlineUpTo bytes.
        const n = f.payload?.byteLength ?? 0;
        expect(payload.byteLength).toBe(n > 0 && n <= (inlineUpTo ?? -1) ? 0 : n);
      }
      const { head } = encodeFrameParts(f);
      expect(head.equals(eager.subarray(0, eager.length - (f.payload?.byteLength ?? 0)))).toBe(true);
    }
  });

  it('the lazy form (what grpc-js gets) has the same length and writes the same bytes where grpc-js copies it, after its prefix; the payload is not copied before', () => {
    for (const f of frames) {
      const lazy = encodeFrameLazy(f), eager = encodeFrame(f);
      expect([lazy.length, lazy.byteLength]).toEqual([eager.length, eager.length]);
      const framed = Buffer.alloc(lazy.length + 5, 0xee);
      expect(lazy.copy(framed, 5)).toBe(lazy.length);
      expect(framed.subarray(5).equals(eager)).toBe(true);
      expect(framed.subarray(0, 5).equals(Buffer.alloc(5, 0xee))).toBe(true);
    }
    // Taken by reference: a change to the payload before grpc-js copies it would show (the protocol never makes one).
    const f = { ...frames[0]!, payload: Buffer.from(frames[0]!.payload) };
    const lazy = encodeFrameLazy(f);
    f.payload[0] = f.payload[0]! ^ 0xff;
    const out = Buffer.alloc(lazy.length);
    lazy.copy(out);
    expect(decodeFrame(out).payload[0]).toBe(f.payload[0]);
  });

  it('puts the payload 8-aligned after the 5-byte gRPC prefix, for every header length', () => {
    for (let n = 0; n < 40; n++) {
      const f: WireFrame = { kind: 'DATA', session: 's'.repeat(n), tag: 'tag'.repeat(n % 7), depth: n * 1000, chunk: 0, chunks: 1, total_bytes: 8 * (n + 1), payload: randomBytes(8 * (n + 1)) };
      const bytes = encodeFrame(f);
      const framed = Buffer.alloc(bytes.length + 5);
      bytes.copy(framed, 5);
      const got = decodeFrame(framed.subarray(5));
      expect(got.payload.byteOffset % 8, `header of session length ${n}`).toBe(0);
      expect(Buffer.from(got.payload).equals(f.payload as Buffer)).toBe(true);
      // A view, not a copy.
      expect(got.payload.buffer).toBe(framed.buffer);
    }
  });

  it('refuses malformed frames with E_PROTOCOL_DESYNC (truncated field, length past the end, bad wire type, unknown kind)', () => {
    const good = encodeFrame(frames[0]!);
    for (const b of [good.subarray(0, good.length - 3), Buffer.from([0x42, 0x7f, 1, 2]), Buffer.from([0x0b]), Buffer.from([0x08, 9]), Buffer.from([0x08, 0x80])]) {
      let err: unknown;
      try { decodeFrame(b); } catch (e) { err = e; }
      expect(isMpcError(err) && err.code === 'E_PROTOCOL_DESYNC', String(err)).toBe(true);
    }
  });
});

describe('frame codec in the mesh', () => {
  let ms: Trio;
  beforeAll(async () => { ms = await meshTrio({ tls: true }); });
  afterAll(async () => { await closeAll(ms); });

  it('a one-frame u64 message arrives 8-aligned (viewable in place) and intact, whatever the tag length', async () => {
    const a = ms[2].openSession('align'), b = ms[0].openSession('align');
    for (let i = 0; i < 12; i++) {
      const msg = randomBytes(8 * (100 + i));
      const tag = `step-${'x'.repeat(i)}`;
      a.send(0, tag, msg);
      const got = await b.recv(2, tag);
      expect(got.byteOffset % 8, tag).toBe(0);
      expect(Buffer.from(got).equals(msg)).toBe(true);
    }
    a.close(); b.close();
  });
});
