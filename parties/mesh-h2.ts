/**
 * The mesh's h2 data link (MeshOptions.link = 'h2'): a raw node:http2 bidi
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
 * port. The dialer then opens this link to that port and sends HELLO on it;
 * the server checks that the TLS client certificate names a party that dials
 * it (tls.ts identifyPeer, as the gRPC server does), that the HELLO names
 * that party and that this party's gRPC link is waiting for it, and answers
 * HELLO. From then on every message of the pair (DATA, SETUP, CONTROL) goes
 * over this link; either stream ending takes the pair's link down
 * (E_PEER_UNAVAILABLE, as on gRPC) and the dialer redials both.
 */
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { MpcError } from '../protocol/errors.js';
import type { PartyId } from '../protocol/ring/types.js';
import type { WireFrame } from './chunking.js';
import { decodeFrame, encodeFrameLazy } from './frame-codec.js';
import { checkPeerCert, expectedName, type MeshTls } from './tls.js';

/** The data link's HTTP/2 path (next to the gRPC method /securenn.party.PartyLink/Link). */
export const DATA_PATH = '/securenn.party.PartyLink/Data';
/** The gRPC message prefix: compressed flag (always 0 here), u32 big-endian length. */
const PREFIX = 5;

export type MeshLinkKind = 'grpc' | 'h2';

/**
 * Frames over one HTTP/2 stream: each written as prefix + Frame bytes in one
 * Buffer (one copy of the payload, as on gRPC); received bytes split at the
 * prefixes. A message that arrives whole in one chunk at an 8-aligned offset
 * is decoded in place (its payload then lands 8-aligned, frame-codec.ts);
 * otherwise it is copied once into a fresh aligned buffer.
 */
export class FramedStream {
  private readonly parts: Buffer[] = [];
  private have = 0;
  private dead = false;

  constructor(
    readonly stream: http2.ClientHttp2Stream | http2.ServerHttp2Stream,
    private readonly maxFrameBytes: number,
    private onFrame: (f: WireFrame) => void,
    private readonly onDown: (reason: Error) => void,
  ) {
    stream.on('data', (chunk: Buffer) => this.push(chunk));
    stream.on('end', () => this.down(new Error('data stream ended')));
    stream.on('close', () => this.down(new Error('data stream closed')));
    stream.on('error', (e: Error) => this.down(e));
  }

  /** Where frames go from now on (the link's receive path once it is up). */
  setHandler(h: (f: WireFrame) => void): void { this.onFrame = h; }

  write(f: WireFrame): void {
    const body = encodeFrameLazy(f);
    const out = Buffer.allocUnsafe(PREFIX + body.length);
    out[0] = 0;
    out.writeUInt32BE(body.length, 1);
    body.copy(out, PREFIX);
    this.stream.write(out);
  }

  /** Graceful: end our side. */
  end(): void { if (!this.stream.closed) this.stream.end(); }

  /** Abrupt: reset the stream and drop its connection (a dialer owns its session). */
  destroy(): void {
    this.dead = true;
    if (!this.stream.destroyed) this.stream.close(http2.constants.NGHTTP2_CANCEL);
  }

  private down(e: Error): void {
    if (this.dead) return;
    this.dead = true;
    this.onDown(e);
  }

  private push(chunk: Buffer): void {
    if (this.dead) return;
    this.parts.push(chunk);
    this.have += chunk.length;
    while (this.have >= PREFIX) {
      const head = this.peekHead();
      if (head.flag !== 0 || head.len > this.maxFrameBytes) {
        this.down(new MpcError('E_PROTOCOL_DESYNC', `data link: malformed frame prefix (flag ${head.flag}, ${head.len} bytes)`));
        this.destroy();
        return;
      }
      if (this.have < PREFIX + head.len) return;
      let f: WireFrame;
      try { f = decodeFrame(this.take(PREFIX + head.len).subarray(PREFIX)); } catch (e) { this.down(e as Error); this.destroy(); return; }
      this.onFrame(f);
      if (this.dead) return;
    }
  }

  private peekHead(): { flag: number; len: number } {
    const first = this.parts[0]!;
    const h = first.length >= PREFIX ? first : Buffer.concat(this.parts, Math.min(this.have, 64));
    return { flag: h[0]!, len: h.readUInt32BE(1) };
  }

  /** The next n bytes: a view when they sit 8-aligned in the first chunk, else one aligned copy. */
  private take(n: number): Buffer {
    const first = this.parts[0]!;
    this.have -= n;
    if (first.length >= n && first.byteOffset % 8 === 0) {
      const out = first.subarray(0, n);
      if (first.length === n) this.parts.shift(); else this.parts[0] = first.subarray(n);
      return out;
    }
    const out = Buffer.from(new ArrayBuffer(n));
    let o = 0;
    while (o < n) {
      const p = this.parts[0]!;
      const k = Math.min(p.length, n - o);
      p.copy(out, o, 0, k);
      o += k;
      if (k === p.length) this.parts.shift(); else this.parts[0] = p.subarray(k);
    }
    return out;
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
    const settings = { initialWindowSize: o.window, enablePush: false };
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
