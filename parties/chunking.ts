/**
 * Splitting protocol messages into gRPC frames of at most 64 MiB payload and
 * reassembling them on receipt into one 8-byte-aligned buffer, so that
 * bytesU64 (protocol/sharing/sharing.ts) views it without another copy. A
 * message of one frame is passed on as a view of that frame (no copy: most
 * messages are Z_p bytes, which need no alignment; bytesU64 copies an
 * unaligned u64 payload).
 *
 * The sender writes all chunks of a message back to back on the pair stream
 * (one synchronous send), so the receiver needs one partial message per link.
 *
 * 64 MiB (4 MiB before): grpc-js already copies each frame into one buffer of
 * its own on receipt, so a message of one frame costs no second copy here;
 * at 4 MiB the seed CNN's larger messages (batch 8: up to ~30 MB) were
 * reassembled, and `npx tsx bench/party-cpu.ts cnn 8 8` gave 1277, 1261 ms
 * (4 MiB) vs 1213, 1214 ms (64 MiB), alternating, with 5-10% less CPU at P1.
 */
import { MpcError } from '../protocol/errors.js';

export const CHUNK_BYTES = 64 << 20;

export type FrameKind = 'DATA' | 'HELLO' | 'CONTROL' | 'SETUP';

/** A frame as @grpc/proto-loader gives it (keepCase, longs as Number, enums as String). */
export interface WireFrame {
  kind: FrameKind;
  session: string;
  tag: string;
  depth: number;
  chunk: number;
  chunks: number;
  total_bytes: number;
  payload: Uint8Array;
}

export interface Message {
  kind: FrameKind;
  session: string;
  tag: string;
  depth: number;
  payload: Uint8Array;
}

/** Frames of one message; chunks are views of `payload` (no copy; serialisation copies). */
export function toFrames(m: Message, chunkBytes = CHUNK_BYTES): WireFrame[] {
  const total = m.payload.byteLength;
  const chunks = Math.max(1, Math.ceil(total / chunkBytes));
  const frames: WireFrame[] = [];
  for (let c = 0; c < chunks; c++) {
    const start = c * chunkBytes;
    const end = Math.min(total, start + chunkBytes);
    const payload = Buffer.from(m.payload.buffer, m.payload.byteOffset + start, end - start);
    frames.push({ kind: m.kind, session: m.session, tag: m.tag, depth: m.depth, chunk: c, chunks, total_bytes: total, payload });
  }
  return frames;
}

/** A fresh buffer of n bytes whose byteOffset is 0 (hence 8-aligned). */
export function alignedBytes(n: number): Uint8Array {
  return new Uint8Array(new ArrayBuffer(Math.ceil(n / 8) * 8), 0, n);
}

interface Partial {
  head: Omit<Message, 'payload'>;
  /** The announced size; buf holds what has arrived and grows towards it (see Reassembler). */
  total: number;
  buf: Uint8Array;
  filled: number;
  next: number;
  chunks: number;
}

/**
 * Room reserved for a chunked message before its bytes arrive: the announced size up to this, then
 * doubling as chunks arrive. An authenticated peer that announces a message of maxMessageBytes (4 GiB by
 * default) and sends one chunk so makes the receiver hold what it sent (times two at most), not 4 GiB.
 * Messages up to this size (every seed network's, most zoo layers') are still copied once.
 */
export const RESERVE_AHEAD_BYTES = 2 * CHUNK_BYTES;

/** Reassembles the frames of one link, in order. Throws E_PROTOCOL_DESYNC on a malformed sequence. */
export class Reassembler {
  private partial: Partial | null = null;
  constructor(private readonly maxMessageBytes: number, private readonly who: string, private readonly reserveAhead = RESERVE_AHEAD_BYTES) {}

  /** Bytes held for the message being reassembled (for tests and metrics; 0 between messages). */
  get reservedBytes(): number { return this.partial?.buf.byteLength ?? 0; }

  push(f: WireFrame): Message | null {
    const total = Number(f.total_bytes);
    const chunks = f.chunks || 1;
    const len = f.payload?.byteLength ?? 0;
    if (f.chunk === 0) {
      if (this.partial) this.fail(`a new message '${f.tag}' started before message '${this.partial.head.tag}' was complete`);
      if (!Number.isSafeInteger(total) || total < 0 || total > this.maxMessageBytes) this.fail(`message '${f.tag}' of ${total} bytes exceeds the limit of ${this.maxMessageBytes}`);
      if (!Number.isInteger(chunks) || chunks < 1 || chunks > total + 1) this.fail(`message '${f.tag}': bad chunk count ${chunks}`);
      if (chunks === 1) {
        // One frame: no copy. A plain Uint8Array view of the frame's bytes (grpc-js gives every
        // message a buffer of its own); bytesU64 copies it only where u64 alignment needs it.
        if (f.chunks !== 1) this.fail(`message '${f.tag}': bad chunk count ${f.chunks}`);
        if (len !== total) this.fail(`message '${f.tag}': got ${len} of ${total} bytes`);
        const payload = len > 0 ? new Uint8Array(f.payload.buffer, f.payload.byteOffset, len) : new Uint8Array(0);
        return { kind: f.kind, session: f.session, tag: f.tag, depth: f.depth, payload };
      }
      this.partial = { head: { kind: f.kind, session: f.session, tag: f.tag, depth: f.depth }, total, buf: alignedBytes(Math.min(total, this.reserveAhead)), filled: 0, next: 0, chunks };
    }
    const p = this.partial;
    if (!p) return this.fail(`chunk ${f.chunk} of '${f.tag}' arrived without its first chunk`);
    if (f.chunk !== p.next || f.chunks !== p.chunks || f.session !== p.head.session || f.tag !== p.head.tag) {
      this.fail(`chunk ${f.chunk}/${f.chunks} of '${f.tag}' does not continue message '${p.head.tag}' (expected chunk ${p.next}/${p.chunks})`);
    }
    if (p.filled + len > p.total) this.fail(`message '${p.head.tag}': chunks exceed the announced ${p.total} bytes`);
    if (p.filled + len > p.buf.byteLength) {
      // Grow towards the announced size (doubling: each byte is copied at most once more on average).
      const grown = alignedBytes(Math.min(p.total, Math.max(2 * p.buf.byteLength, p.filled + len)));
      grown.set(p.buf.subarray(0, p.filled));
      p.buf = grown;
    }
    if (len > 0) p.buf.set(f.payload, p.filled);
    p.filled += len;
    p.next += 1;
    if (p.next < p.chunks) return null;
    this.partial = null;
    if (p.filled !== p.total || p.buf.byteLength !== p.total) this.fail(`message '${p.head.tag}': got ${p.filled} of ${p.total} bytes`);
    return { ...p.head, payload: p.buf };
  }

  private fail(msg: string): never {
    this.partial = null;
    throw new MpcError('E_PROTOCOL_DESYNC', `link ${this.who}: ${msg}`);
  }
}
