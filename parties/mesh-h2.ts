/**
 * The mesh's h2 data link (MeshOptions.link = 'h2', the default): a raw node:http2 bidi
 * stream per pair of parties, under the same mTLS trust as the gRPC link,
 * carrying the same Frame messages (frame-codec.ts) with gRPC's own 5-byte
 * prefix (flag, u32 length), so chunking, reassembly and session routing
 * above it do not change.
 *
 * Why: a round trip of a 1 KiB message over grpc-js's call machinery costs
 * about twice one over a raw HTTP/2 stream on the same mTLS connection kind
 * (BENCHMARKS.md "Per-round cost", bench/round-trip.ts).
 *
 * gRPC stays the control plane: the pair's gRPC stream comes up first and
 * carries HELLO (link-hello.ts), where both ends must name the same
 * `meshLink` (E_SETTINGS_MISMATCH otherwise) and the server names its data
 * port and a token for that gRPC link. The dialer then opens this link to
 * that port and sends HELLO with the token on it; the server checks that the
 * TLS client certificate names a party that dials it (tls.ts identifyPeer, as
 * the gRPC server does), that the HELLO names that party and carries the
 * token of this party's gRPC link waiting for it, and answers HELLO with the
 * token (mesh-data-links.ts). From then on every message of the pair (DATA, SETUP, CONTROL) goes
 * over this link; either stream ending takes the pair's link down
 * (E_PEER_UNAVAILABLE, as on gRPC) and the dialer redials both.
 */
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { MpcError } from '../protocol/errors.js';
import type { PartyId } from '../protocol/ring/types.js';
import type { WireFrame } from './chunking.js';
import { decodeFrame, encodeFrameParts } from './frame-codec.js';
import { recvPool, type RecvPool } from './recv-pool.js';
import { checkPeerCert, expectedName, type MeshTls } from './tls.js';

/** The data link's HTTP/2 path (next to the gRPC method /securenn.party.PartyLink/Link). */
export const DATA_PATH = '/securenn.party.PartyLink/Data';
/** The gRPC message prefix: compressed flag (always 0 here), u32 big-endian length. */
const PREFIX = 5;
/** Payloads up to this size are copied into the frame's head buffer and written with it (a round's messages at batch 1 are 0.1–2 KiB). */
const INLINE_PAYLOAD_BYTES = 4096;

export type MeshLinkKind = 'grpc' | 'h2';

/**
 * Frames over one HTTP/2 stream: each written as prefix + Frame header in one
 * small Buffer, with a payload of up to 4 KiB copied into it, or followed by a
 * larger payload itself (no copy of it); received bytes split at the
 * prefixes. A message that arrives whole in one chunk at an 8-aligned offset
 * is decoded in place (its payload then lands 8-aligned, frame-codec.ts);
 * otherwise it is copied once, chunk by chunk as it arrives, into its aligned buffer, taken from the receive pool
 * (recv-pool.ts: a buffer of that size the protocol handed back, else a new one).
 */
export class FramedStream {
  /** A prefix cut between chunks: its bytes so far. */
  private readonly head = Buffer.alloc(PREFIX);
  private headHave = 0;
  /** The frame being received: its final buffer (8-aligned prefix position, frame-codec.ts), filled as chunks arrive. */
  private body: Buffer | null = null;
  private bodyHave = 0;
  private dead = false;
  /** Frames written, and frames whose last write's callback has run (a stream completes its writes in order). */
  private issued = 0;
  private completed = 0;
  /** drained() waiters, each for the frames written up to its call (`upTo`, nondecreasing): never for later ones. */
  private drainWaiters: { upTo: number; resolve: () => void }[] = [];

  constructor(
    readonly stream: http2.ClientHttp2Stream | http2.ServerHttp2Stream,
    private maxFrameBytes: number,
    private onFrame: (f: WireFrame) => void,
    private readonly onDown: (reason: Error) => void,
    /** Where the frames' buffers come from and go back to (recv-pool.ts; the process's pool unless a test gives one). */
    private readonly pool: RecvPool = recvPool,
  ) {
    stream.on('data', (chunk: Buffer) => this.push(chunk));
    stream.on('end', () => this.down(new Error('data stream ended')));
    stream.on('close', () => this.down(new Error('data stream closed')));
    stream.on('error', (e: Error) => this.down(e));
  }

  /** Where frames go from now on (the link's receive path once it is up). */
  setHandler(h: (f: WireFrame) => void): void { this.onFrame = h; }

  /** The largest frame accepted from now on (small until the HELLO is accepted: mesh-data-links.ts). */
  setMaxFrameBytes(n: number): void { this.maxFrameBytes = n; }

  /**
   * Prefix and header in one small Buffer; a payload of up to INLINE_PAYLOAD_BYTES copied into it (one write), a
   * larger one written after it as it is (no copy: the stream keeps a reference until the bytes are on the socket;
   * the protocol changes nothing it has sent, the same rule the gRPC link's lazy serialisation relies on,
   * frame-codec.ts FrameBytes).
   */
  write(f: WireFrame, onWritten?: () => void): void {
    // The prefix is written into the head's own buffer; a small payload goes into it too (one write), a larger one
    // after it in one corked write (one writev of the stream, one write request, instead of two).
    const { head, payload } = encodeFrameParts(f, { prefix: PREFIX, inlineUpTo: INLINE_PAYLOAD_BYTES });
    head[0] = 0;
    head.writeUInt32BE(head.length - PREFIX + payload.byteLength, 1);
    this.issued++;
    // onWritten (the sender may reuse the payload's buffer): once this frame's last write has completed without
    // error, i.e. Node's HTTP/2 session has handed its bytes to the TLS socket (which encrypts them into its own
    // buffers). Never at once, even for a payload inlined into the head: this may be the last frame of a message whose
    // earlier frames (views of the same buffer) are still queued on the stream; a stream completes its writes in order.
    const done = onWritten ? (e?: Error | null): void => { this.written(); if (!e) onWritten(); } : this.written;
    if (!payload.byteLength) { this.stream.write(head, done); return; }
    this.stream.cork();
    this.stream.write(head);
    this.stream.write(payload, done);
    this.stream.uncork();
  }

  /** A frame's last write completed (or failed: the stream is going down either way). */
  private readonly written = (): void => {
    this.completed++;
    let k = 0;
    while (k < this.drainWaiters.length && this.drainWaiters[k]!.upTo <= this.completed) k++;
    if (k) for (const w of this.drainWaiters.splice(0, k)) w.resolve();
  };

  /** Resolve every drained() waiter (the stream is going down). */
  private releaseDrainWaiters(): void {
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const x of w) x.resolve();
  }

  /**
   * Resolves once every frame written so far is on the socket (Node's HTTP/2 session writes a stream's data only
   * when the event loop turns, and past the flow-control window only as the peer's WINDOW_UPDATEs come back), or
   * when the link goes down (destroy included); undefined when nothing is waiting. Frames written after the call
   * (other sessions' on this link) do not hold it: before, it waited until no frame at all was unwritten, which
   * under other sessions' steady traffic need never happen.
   */
  drained(): Promise<void> | undefined {
    if (this.completed >= this.issued || this.dead) return undefined;
    const upTo = this.issued;
    return new Promise<void>((resolve) => this.drainWaiters.push({ upTo, resolve }));
  }

  /** Graceful: end our side. */
  end(): void { if (!this.stream.closed) this.stream.end(); }

  /** Abrupt: reset the stream and drop its connection (a dialer owns its session). */
  destroy(): void {
    this.dead = true;
    this.releaseDrainWaiters();
    if (!this.stream.destroyed) this.stream.close(http2.constants.NGHTTP2_CANCEL);
  }

  private down(e: Error): void {
    if (this.dead) return;
    this.dead = true;
    this.releaseDrainWaiters();
    this.onDown(e);
  }

  /**
   * Received bytes, cut anywhere: a frame that lies whole in the chunk with its prefix 8-aligned is decoded in
   * place; otherwise its bytes are copied, as they arrive, into the frame's final buffer (allocated once the
   * prefix gives the length), so no chunk is kept past this call (they die young: fewer major GCs than keeping
   * a large message's chunks until its last one arrives).
   */
  private push(chunk: Buffer): void {
    let o = 0;
    while (o < chunk.length && !this.dead) {
      if (this.body) {
        const k = Math.min(this.body.length - this.bodyHave, chunk.length - o);
        chunk.copy(this.body, this.bodyHave, o, o + k);
        this.bodyHave += k;
        o += k;
        if (this.bodyHave === this.body.length) { const b = this.body; this.body = null; this.deliver(b, true); }
        continue;
      }
      let len: number;
      if (this.headHave === 0 && chunk.length - o >= PREFIX) {
        len = chunk.readUInt32BE(o + 1);
        if (!this.checkHead(chunk[o]!, len)) return;
        if (chunk.length - o - PREFIX >= len && (chunk.byteOffset + o) % 8 === 0) {
          const b = chunk.subarray(o + PREFIX, o + PREFIX + len);
          o += PREFIX + len;
          this.deliver(b);
          continue;
        }
        o += PREFIX;
      } else {
        const k = Math.min(PREFIX - this.headHave, chunk.length - o);
        chunk.copy(this.head, this.headHave, o, o + k);
        this.headHave += k;
        o += k;
        if (this.headHave < PREFIX) return;
        this.headHave = 0;
        len = this.head.readUInt32BE(1);
        if (!this.checkHead(this.head[0]!, len)) return;
      }
      // The frame's buffer with room for the prefix in front, so that its payload lands 8-aligned (frame-codec.ts);
      // every byte of it is written before it is delivered (a pooled buffer's old contents are never seen).
      this.body = Buffer.from(this.pool.take(PREFIX + len), PREFIX, len);
      this.bodyHave = 0;
      if (len === 0) { const b = this.body; this.body = null; this.deliver(b, true); }
    }
  }

  private checkHead(flag: number, len: number): boolean {
    if (flag === 0 && len <= this.maxFrameBytes) return true;
    this.down(new MpcError('E_PROTOCOL_DESYNC', `data link: malformed frame prefix (flag ${flag}, ${len} bytes, limit ${this.maxFrameBytes})`, { step: 'link.data' }));
    this.destroy();
    return false;
  }

  /** `own`: body is a buffer of ours (from the pool), not a view of a received chunk: its payload may come back to the pool. */
  private deliver(body: Buffer, own = false): void {
    let f: WireFrame;
    try { f = decodeFrame(body); } catch (e) { this.down(e as Error); this.destroy(); return; }
    if (own && f.payload) this.pool.lend(body.buffer as ArrayBuffer, f.payload);
    this.onFrame(f);
  }
}

/** Socket options for a link's connection: no Nagle delay (every round is a small write waiting for its answer). */
function tuneSocket(session: http2.Http2Session): void {
  try { (session.socket as unknown as { setNoDelay?(v: boolean): void }).setNoDelay?.(true); } catch { /* not a TCP socket */ }
}

export interface DataServerOptions {
  host: string;
  port: number;
  tls: MeshTls | null;
  window: number;
  /** A stream arrived on DATA_PATH with this client certificate (null without TLS). */
  onStream(stream: http2.ServerHttp2Stream, cert: PeerCertificate | null): void;
}

/** The h2 data listener: client certificates required and CA-checked in the handshake, as the gRPC server. */
export class DataServer {
  private readonly server: http2.Http2SecureServer | http2.Http2Server;
  private readonly sessions = new Set<http2.Http2Session>();
  port = 0;

  constructor(private readonly o: DataServerOptions) {
    // One data stream per connection (a dialer opens a new connection for each data link).
    const settings = { initialWindowSize: o.window, enablePush: false, maxConcurrentStreams: 1 };
    this.server = o.tls
      ? http2.createSecureServer({ ca: o.tls.ca, cert: o.tls.cert, key: o.tls.key, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2', settings })
      : http2.createServer({ settings });
    this.server.on('session', (s: http2.Http2Session) => {
      this.sessions.add(s);
      s.on('close', () => this.sessions.delete(s));
      s.on('error', () => { /* the stream's handlers report the loss */ });
      tuneSocket(s);
      try { s.setLocalWindowSize(o.window); } catch { /* keep the default */ }
    });
    this.server.on('stream', (stream, headers) => {
      if (headers[':path'] !== DATA_PATH) { stream.respond({ ':status': 404 }, { endStream: true }); return; }
      const cert = o.tls ? (stream.session?.socket as TLSSocket | undefined)?.getPeerCertificate?.() ?? null : null;
      o.onStream(stream, cert);
    });
    // A failed handshake (wrong CA, no certificate) is refused by TLS itself; nothing to do here.
    this.server.on('tlsClientError', () => {});
  }

  async listen(): Promise<number> {
    const { host, port } = this.o;
    await new Promise<void>((resolve, reject) => {
      const fail = (e: Error) => reject(new MpcError('E_BAD_ARGUMENT', `mesh: cannot listen for the h2 data link on ${host}:${port}: ${e.message}`));
      this.server.once('error', fail);
      this.server.listen(port, host, () => { this.server.off('error', fail); resolve(); });
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  /** New TLS material (tls-reload.ts): handshakes from now on use it. */
  updateTls(tls: MeshTls): void {
    (this.server as http2.Http2SecureServer).setSecureContext?.({ ca: tls.ca, cert: tls.cert, key: tls.key });
  }

  /** Stop listening; `abrupt` also destroys the open connections (as if the process died). */
  async close(abrupt = false): Promise<void> {
    for (const s of this.sessions) { if (abrupt) s.destroy(); else s.close(); }
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => { for (const s of this.sessions) s.destroy(); resolve(); }, 1_000);
      this.server.close(() => { clearTimeout(t); resolve(); });
    });
  }
}

/**
 * Dial a peer's data link: mTLS with this party's certificate, the server's
 * certificate checked as on gRPC (tls.ts checkPeerCert: CA, name, pins, org CA).
 * Returns the stream and its connection (closed with the link).
 */
export function dialData(host: string, port: number, tls: MeshTls | null, peer: PartyId, window: number): { session: http2.ClientHttp2Session; stream: http2.ClientHttp2Stream } {
  const h = host.includes(':') ? `[${host}]` : host;
  const settings = { initialWindowSize: window, enablePush: false };
  const session = tls
    ? http2.connect(`https://${h}:${port}`, {
      ca: tls.ca, cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2', servername: expectedName(tls, peer), settings,
      checkServerIdentity: (_host: string, cert: PeerCertificate) => checkPeerCert(tls, peer, cert) ?? undefined,
    })
    : http2.connect(`http://${h}:${port}`, { settings });
  session.on('error', () => { /* the stream's handlers report the loss */ });
  session.on('connect', () => { tuneSocket(session); try { session.setLocalWindowSize(window); } catch { /* keep the default */ } });
  const stream = session.request({ ':method': 'POST', ':path': DATA_PATH, 'content-type': 'application/octet-stream' }, { endStream: false });
  stream.on('close', () => { if (!session.closed) session.close(); });
  return { session, stream };
}
