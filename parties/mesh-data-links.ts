/**
 * Setting up the h2 data link of each pair (MeshOptions.link = 'h2', the
 * default; mesh-h2.ts has the wire and why). LinkMesh (mesh-links.ts) owns
 * the links; this class only attaches a data link to one.
 *
 *  1. The pair's gRPC stream comes up and carries HELLO. The server's answer
 *     names its data port and a data token: 16 random bytes (node:crypto)
 *     drawn for this one gRPC link, seen only by the dialer whose certificate
 *     the gRPC server checked.
 *  2. The dialer opens the data link to that port on the host of the gRPC
 *     address it dialed (same mTLS checks: tls.ts checkPeerCert) and sends
 *     HELLO with the token.
 *  3. The server takes the stream only if the client certificate names a
 *     party that dials it (tls.ts identifyPeer), the HELLO names that same
 *     party, and the token is the one of that party's gRPC link now waiting
 *     (compared in constant time). A P2 certificate cannot open P0<->P1's
 *     data link; a stream of an earlier link, or of another deployment under
 *     the same CA, carries another token and is refused. It answers HELLO with
 *     the token, which the dialer checks the same way, then the link is up.
 *
 * Limits: before its HELLO a data stream may send one frame of at most
 * HELLO_MAX_BYTES, within `setupMs`, else it is refused (no large buffer for
 * an unauthenticated first frame, no stream held open without a HELLO). A
 * data link that is not up within `setupMs` of the gRPC HELLO, at either end,
 * (2 x `setupMs` at the server, so that the dialer, which knows the address,
 * reports first) fails with E_PEER_UNAVAILABLE (step link.data) naming the port: kept as the
 * peer's link problem (/readyz peerProblems, mpc_peer_link_refused) until a
 * link comes up. There is no fallback to gRPC: the three parties agreed on
 * 'h2' at HELLO, and a silent fallback would hide a closed port behind a
 * slower link (deploy/README.md, "The h2 data link").
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { ServerHttp2Stream } from 'node:http2';
import type { PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { MpcError } from '../protocol/errors.js';
import type { PartyId } from '../protocol/ring/types.js';
import type { WireFrame } from './chunking.js';
import { decodeHello, type Hello } from './link-hello.js';
import type { Logger } from './log.js';
import { DataServer, dialData, FramedStream } from './mesh-h2.js';
import type { Link } from './mesh-service.js';
import { hostOf, identifyPeer, type MeshTls } from './tls.js';

/** Largest frame a data stream may send before its HELLO is accepted (a HELLO is a few hundred bytes). */
export const HELLO_MAX_BYTES = 64 * 1024;
/** Default for MeshOptions.dataSetupMs: how long a data link may take to come up after the gRPC HELLO. */
export const DATA_SETUP_MS = 10_000;

/** What the data links need of the mesh. */
export interface DataLinkHost {
  readonly log: Logger;
  readonly maxFrameBytes: number;
  readonly window: number;
  readonly setupMs: number;
  tls(): MeshTls | null;
  closed(): boolean;
  /** Parties that dial this one. */
  higherPeers(): PartyId[];
  dialAddress(p: PartyId): string | undefined;
  /** Write this party's HELLO on the link (it goes over the data link once attached). */
  sendHello(link: Link): void;
  linkUp(link: Link, p: PartyId, version: number): void;
  dropLink(link: Link, reason: Error, code: grpc.status): void;
  onFrame(link: Link, f: WireFrame): void;
  /** The data link to `p` could not be set up: keep it as the peer's link problem (readiness, metrics) and log it. */
  problem(p: PartyId, err: MpcError): void;
}

/** Constant-time comparison of two data tokens (either may be missing). */
function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a), y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const dataError = (p: PartyId, msg: string): MpcError => new MpcError('E_PEER_UNAVAILABLE', msg, { party: p, step: 'link.data' });

export class DataLinks {
  private server: DataServer | null = null;
  /** Server: gRPC links whose HELLO passed, waiting for their data link, with the negotiated version and the set-up deadline. */
  private readonly awaiting: ({ link: Link; version: number; timer: NodeJS.Timeout } | undefined)[] = [undefined, undefined, undefined];
  /** Dialer: the set-up deadline of each data link not up yet (cleared when it comes up or its link goes down). */
  private readonly dialTimers = new Map<Link, NodeJS.Timeout>();
  /** Refused data streams (tests, diagnostics). */
  refused = 0;

  constructor(private readonly h: DataLinkHost) {}

  /** Listen for data links (P0, P1); returns the bound port. */
  async listen(host: string, port: number): Promise<number> {
    this.server = new DataServer({ host, port, tls: this.h.tls(), window: this.h.window, onStream: (st, cert) => this.accept(st, cert) });
    return this.server.listen();
  }

  get port(): number | undefined { return this.server?.port; }

  updateTls(tls: MeshTls): void { this.server?.updateTls(tls); }

  /** Server: the token of `link` (drawn on first use), sent in its gRPC HELLO answer. */
  tokenFor(link: Link): string { return (link.dataToken ??= randomBytes(16).toString('base64url')); }

  /** HELLO passed on `link`'s gRPC stream: the dialer opens the data link to the port the server named; the server waits for it. */
  start(link: Link, p: PartyId, version: number, hello: Hello): void {
    const h = this.h;
    if (link.role === 'server') {
      const prev = this.awaiting[p];
      if (prev) { clearTimeout(prev.timer); if (prev.link !== link) h.dropLink(prev.link, new MpcError('E_PEER_UNAVAILABLE', `link to P${p} replaced`), grpc.status.CANCELLED); }
      // Twice the dialer's limit: a dialer that cannot reach the port says so first (it knows the address), and drops the link itself.
      const ms = 2 * h.setupMs;
      const timer = setTimeout(() => {
        if (this.awaiting[p]?.link !== link) return;
        const err = dataError(p, `P${p} linked over gRPC but opened no h2 data link to port ${this.port} within ${ms} ms: is this party's grpc.dataPort reachable from P${p}? (deploy/README.md, "The h2 data link")`);
        h.problem(p, err);
        h.dropLink(link, err, grpc.status.UNAVAILABLE);
      }, ms);
      timer.unref();
      this.awaiting[p] = { link, version, timer };
      return;
    }
    const addr = h.dialAddress(p);
    if (!addr) { h.dropLink(link, dataError(p, `no dial address for P${p}`), grpc.status.CANCELLED); return; }
    if (!hello.dataPort || !hello.dataToken) {
      // A build before data tokens (or one that listens for no data link) answered: refuse, never fall back.
      const err = dataError(p, `P${p} named no h2 data ${hello.dataPort ? 'token (its build predates data tokens: upgrade it' : 'port (it does not listen for the data link'}, or set mesh.link 'grpc' at the three parties)`);
      h.problem(p, err);
      h.dropLink(link, err, grpc.status.FAILED_PRECONDITION);
      return;
    }
    const where = `${hostOf(addr)}:${hello.dataPort}`;
    link.dataToken = hello.dataToken;
    const { session, stream } = dialData(hostOf(addr), hello.dataPort, h.tls(), p, h.window);
    link.dataSession = session;
    let up = false;
    let status = 0;
    stream.on('response', (hd) => { status = Number(hd[':status']); });
    const fail = (why: string, code = grpc.status.UNAVAILABLE): void => {
      this.clearDial(link);
      if (link.dead) return;
      const err = dataError(p, `h2 data link to P${p} at ${where}: ${why}`);
      h.problem(p, err);
      h.dropLink(link, err, code);
    };
    const timer = setTimeout(() => fail(`not up within ${h.setupMs} ms (is P${p}'s grpc.dataPort open to this party? deploy/README.md, "The h2 data link")`), h.setupMs);
    timer.unref();
    this.dialTimers.set(link, timer);
    const fs = new FramedStream(stream, HELLO_MAX_BYTES, (f) => {
      // The server's answer on the data link: its HELLO with this link's token, then the pair's messages.
      const answer = f.kind === 'HELLO' ? decodeHello(f.payload) : null;
      if (answer?.party !== p || !sameToken(answer.dataToken, link.dataToken)) { fail('the server\'s hello does not name this link', grpc.status.PERMISSION_DENIED); return; }
      this.clearDial(link);
      up = true;
      fs.setMaxFrameBytes(h.maxFrameBytes);
      fs.setHandler((g) => h.onFrame(link, g));
      h.linkUp(link, p, version);
    }, (e) => {
      this.clearDial(link);
      if (up) h.dropLink(link, e, grpc.status.UNAVAILABLE);
      else fail(status && status !== 200 ? `refused by P${p} (HTTP ${status}; its log says why)` : e.message);
    });
    link.data = fs;
    h.sendHello(link);
  }

  /** Server: a data stream arrived; its certificate, HELLO and token must name a party whose gRPC link waits for exactly it. */
  private accept(stream: ServerHttp2Stream, cert: PeerCertificate | null): void {
    const h = this.h;
    let fs: FramedStream | null = null;
    let done = false;
    const refuse = (why: string, status = 403): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.refused += 1;
      h.log.warn({ code: 'E_PERMISSION', step: 'link.data' }, `refused a data link: ${why}`);
      if (!stream.headersSent) stream.respond({ ':status': status }, { endStream: true });
      fs?.destroy();
      if (!stream.destroyed) stream.close();
      // One data stream per connection: a refused one takes its connection down too (after the answer, at most 1 s later).
      const session = stream.session;
      if (session && !session.destroyed) { session.close(); setTimeout(() => session.destroy(), 1_000).unref(); }
    };
    const timer = setTimeout(() => refuse(`no hello within ${h.setupMs} ms`), h.setupMs);
    timer.unref();
    if (h.closed()) { refuse('party shutting down', 503); return; }
    const tls = h.tls();
    let certPeer: PartyId | null = null;
    if (tls) {
      certPeer = identifyPeer(tls, cert ?? undefined, h.higherPeers());
      if (certPeer === null) { refuse('the client certificate does not name a party that dials this one'); return; }
    }
    stream.respond({ ':status': 200, 'content-type': 'application/octet-stream' });
    let link: Link | undefined;
    fs = new FramedStream(stream, HELLO_MAX_BYTES, (f) => {
      const hello = f.kind === 'HELLO' ? decodeHello(f.payload) : null;
      const p = hello?.party;
      const waiting = p === undefined ? undefined : this.awaiting[p];
      if (p === undefined || (certPeer !== null ? p !== certPeer : !h.higherPeers().includes(p))) { refuse('its hello names another party than its certificate'); return; }
      if (!waiting || waiting.link.dead || !sameToken(hello!.dataToken, waiting.link.dataToken)) { refuse(`its hello names no gRPC link of P${p} waiting for it (a stale or foreign data link)`); return; }
      done = true;
      clearTimeout(timer);
      clearTimeout(waiting.timer);
      this.awaiting[p] = undefined;
      const l = (link = waiting.link);
      l.data = fs!;
      fs!.setMaxFrameBytes(h.maxFrameBytes);
      fs!.setHandler((g) => h.onFrame(l, g));
      h.sendHello(l);
      h.linkUp(l, p, waiting.version);
    }, (e) => {
      if (link) h.dropLink(link, e, grpc.status.UNAVAILABLE);
      else refuse(`stream failed before its hello (${(e as { code?: string }).code ?? 'closed'})`);
    });
  }

  private clearDial(link: Link): void {
    const t = this.dialTimers.get(link);
    if (t) { clearTimeout(t); this.dialTimers.delete(link); }
  }

  /** `link` went down: it no longer waits for a data link. */
  forget(link: Link): void {
    this.clearDial(link);
    const p = link.peer;
    const w = p === null ? undefined : this.awaiting[p];
    if (w?.link === link) { clearTimeout(w.timer); this.awaiting[p!] = undefined; }
  }

  /** Stop the data listener and the dialed connections of `links` (`abrupt`: as a dying process would). */
  async close(links: readonly (Link | undefined)[], abrupt: boolean): Promise<void> {
    for (const w of this.awaiting) if (w) clearTimeout(w.timer);
    for (const t of this.dialTimers.values()) clearTimeout(t);
    this.dialTimers.clear();
    for (const l of links) if (l?.dataSession) { if (abrupt) l.dataSession.destroy(); else l.dataSession.close(); }
    await this.server?.close(abrupt);
  }
}
