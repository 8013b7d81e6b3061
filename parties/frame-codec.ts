/**
 * Protobuf encoding of party.proto's Frame, written by hand for the mesh's
 * gRPC serializers (grpc.makeGenericClientConstructor), wire-compatible with
 * @grpc/proto-loader's (a test decodes each with the other).
 *
 * Why not protobufjs: it copies every payload once more into a Buffer of its
 * own (then grpc-js copies it into its framed message), and its decoded frames
 * put the payload wherever the header ends. Here
 *  - encodeFrame writes header and payload into one Buffer (one copy), and
 *  - puts a `pad` field (9, ignored) before the payload so that the payload
 *    starts 8-byte aligned in the buffer grpc-js hands to the receiver (its
 *    framed message: 5 bytes of gRPC prefix, then this message, from an
 *    8-aligned offset), and
 *  - decodeFrame returns the payload as a view of that buffer (no copy).
 * A receiver of a one-frame u64 message can then view it as a BigUint64Array
 * in place (sharing.bytesU64 still checks the alignment and copies if not).
 */
import type { FrameKind, WireFrame } from './chunking.js';
import { MpcError } from '../protocol/errors.js';

const KINDS: readonly FrameKind[] = ['DATA', 'HELLO', 'CONTROL', 'SETUP'];
const KIND_NUMBER: Record<FrameKind, number> = { DATA: 0, HELLO: 1, CONTROL: 2, SETUP: 3 };
/** Bytes gRPC puts before each message (compressed flag, u32 length). */
const GRPC_PREFIX = 5;
const EMPTY = new Uint8Array(0);

// Wire types: 0 varint, 2 length-delimited.
const tag = (field: number, wire: number): number => (field << 3) | wire;

function varintLen(v: number): number {
  let n = 1;
  while (v >= 0x80) { v = Math.floor(v / 128); n++; }
  return n;
}

function writeVarint(buf: Buffer, o: number, v: number): number {
  while (v >= 0x80) { buf[o++] = (v % 128) | 0x80; v = Math.floor(v / 128); }
  buf[o++] = v;
  return o;
}

/**
 * What the mesh hands grpc-js as a serialised Frame: the header bytes (built
 * now) and the payload (by reference), written out only when grpc-js frames
 * the message. grpc-js (1.14, pinned by package-lock) reads a serialised
 * message only through `length` / `byteLength` and `copy(target, offset)`
 * into the buffer it frames with its 5-byte prefix (IdentityHandler.
 * writeMessage on the client side, serializeMessage on the server side), so
 * the payload is copied once on its way out instead of twice (once here into
 * a Buffer of its own, once more by grpc-js). The payload must not change
 * until then, which the protocol's rule already ensures (nothing is changed
 * after it is sent; runner.test's late-copy transport checks it). The mesh
 * tests send through real grpc-js, so a grpc-js that used the object another
 * way would fail them.
 */
export interface FrameBytes {
  readonly length: number;
  readonly byteLength: number;
  copy(target: Uint8Array, targetStart?: number): number;
}

/** One Frame message (no gRPC prefix) as one Buffer: encodeFrameLazy's bytes, copied out (tests, other callers). */
export function encodeFrame(f: WireFrame): Buffer {
  const lazy = encodeFrameLazy(f);
  const out = Buffer.allocUnsafe(lazy.length);
  lazy.copy(out, 0);
  return out;
}

/** One Frame message (no gRPC prefix): the header fields, `pad` so the payload lands 8-aligned after the prefix, the payload (FrameBytes: not copied yet). */
export function encodeFrameLazy(f: WireFrame): FrameBytes {
  const { head: out, payload } = encodeFrameParts(f);
  const total = out.length + payload.byteLength;
  return {
    length: total,
    byteLength: total,
    copy(target: Uint8Array, targetStart = 0): number {
      target.set(out, targetStart);
      if (payload.byteLength) target.set(payload, targetStart + out.length);
      return total;
    },
  };
}

/**
 * One Frame message as two parts, `head` (header fields, pad and the payload's key and length: a Buffer of its own)
 * then `payload` (the frame's payload itself, not copied). A writer that can send both in turn (mesh-h2.ts) sends
 * the payload without copying it at all.
 *
 * Options for such a writer (the bytes of the message are the same): `prefix` bytes are left free at the start of
 * `head` for the writer's own framing (mesh-h2.ts: gRPC's 5-byte prefix, filled by the caller), and a payload of at
 * most `inlineUpTo` bytes is copied into `head` after the header (`payload` is then empty): one buffer to write
 * instead of two for the small messages of a round.
 */
export function encodeFrameParts(f: WireFrame, opts: { prefix?: number; inlineUpTo?: number } = {}): { head: Buffer; payload: Uint8Array } {
  const payload = f.payload ?? EMPTY;
  const prefix = opts.prefix ?? 0;
  // Varint fields (kind 1, depth 4, chunk 5, chunks 6, total_bytes 7) and string fields (session 2, tag 3); zero / empty ones are omitted, as protobuf does.
  const kind = KIND_NUMBER[f.kind] ?? 0, depth = f.depth ?? 0, chunk = f.chunk ?? 0, chunks = f.chunks ?? 0, total = f.total_bytes ?? 0;
  const session = f.session ?? '', tagStr = f.tag ?? '';
  const sLen = Buffer.byteLength(session, 'utf8'), tLen = Buffer.byteLength(tagStr, 'utf8');
  let head = 0;
  if (kind !== 0) head += 1 + varintLen(kind);
  if (sLen) head += 1 + varintLen(sLen) + sLen;
  if (tLen) head += 1 + varintLen(tLen) + tLen;
  if (depth !== 0) head += 1 + varintLen(depth);
  if (chunk !== 0) head += 1 + varintLen(chunk);
  if (chunks !== 0) head += 1 + varintLen(chunks);
  if (total !== 0) head += 1 + varintLen(total);
  const n = payload.byteLength;
  const payloadKey = n ? 1 + varintLen(n) : 0;
  // pad = tag byte + length byte + 0..7 bytes: at least 2 bytes, chosen so that (prefix + head + pad + payload key) % 8 == 0.
  let pad = 0;
  if (n) {
    pad = (8 - ((GRPC_PREFIX + head + payloadKey) % 8)) % 8;
    if (pad < 2) pad += 8;
  }
  const inline = n > 0 && n <= (opts.inlineUpTo ?? -1);
  const out = Buffer.allocUnsafe(prefix + head + pad + payloadKey + (inline ? n : 0));
  let o = prefix;
  // Field order as before this function took options: kind, depth, chunk, chunks, total_bytes, then session, tag.
  if (kind !== 0) { out[o++] = tag(1, 0); o = writeVarint(out, o, kind); }
  if (depth !== 0) { out[o++] = tag(4, 0); o = writeVarint(out, o, depth); }
  if (chunk !== 0) { out[o++] = tag(5, 0); o = writeVarint(out, o, chunk); }
  if (chunks !== 0) { out[o++] = tag(6, 0); o = writeVarint(out, o, chunks); }
  if (total !== 0) { out[o++] = tag(7, 0); o = writeVarint(out, o, total); }
  if (sLen) { out[o++] = tag(2, 2); o = writeVarint(out, o, sLen); o += out.write(session, o, 'utf8'); }
  if (tLen) { out[o++] = tag(3, 2); o = writeVarint(out, o, tLen); o += out.write(tagStr, o, 'utf8'); }
  if (n) {
    out[o++] = tag(9, 2); out[o++] = pad - 2; out.fill(0, o, o + pad - 2); o += pad - 2;
    out[o++] = tag(8, 2); o = writeVarint(out, o, n);
  }
  if (inline) { out.set(payload, o); o += n; }
  if (o !== out.length) throw new MpcError('E_INTERNAL', `frame codec: wrote ${o} of ${out.length} bytes`);
  return { head: out, payload: inline ? EMPTY : payload };
}

const bad = (what: string): never => { throw new MpcError('E_PROTOCOL_DESYNC', `frame codec: malformed frame (${what})`); };

/** A Frame from its protobuf bytes (any field order, unknown fields skipped); the payload is a view of `buf`. */
export function decodeFrame(buf: Buffer): WireFrame {
  const f: WireFrame = { kind: 'DATA', session: '', tag: '', depth: 0, chunk: 0, chunks: 0, total_bytes: 0, payload: buf.subarray(0, 0) };
  let o = 0;
  const varint = (): number => {
    let v = 0, mul = 1, b: number;
    do {
      if (o >= buf.length) bad('truncated varint');
      b = buf[o++]!;
      v += (b & 0x7f) * mul;
      mul *= 128;
      if (mul > 2 ** 63) bad('varint too long');
    } while (b & 0x80);
    return v;
  };
  while (o < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8), wire = key % 8;
    if (wire === 0) {
      const v = varint();
      if (field === 1) f.kind = KINDS[v] ?? bad(`unknown kind ${v}`);
      else if (field === 4) f.depth = v >>> 0;
      else if (field === 5) f.chunk = v >>> 0;
      else if (field === 6) f.chunks = v >>> 0;
      else if (field === 7) f.total_bytes = v;
    } else if (wire === 2) {
      const len = varint();
      if (len > buf.length - o) bad('length past the end');
      const bytes = buf.subarray(o, o + len);
      o += len;
      if (field === 2) f.session = bytes.toString('utf8');
      else if (field === 3) f.tag = bytes.toString('utf8');
      else if (field === 8) f.payload = bytes;
    } else if (wire === 1) {
      o += 8;
    } else if (wire === 5) {
      o += 4;
    } else {
      bad(`wire type ${wire}`);
    }
  }
  if (o !== buf.length) bad('truncated field');
  return f;
}
