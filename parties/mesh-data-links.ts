/**
 * Setting up the h2 data link of each pair (MeshOptions.link = 'h2';
 * mesh-h2.ts has the wire and why): after the pair's gRPC HELLO, the dialer
 * opens the data link to the port the server named and sends HELLO on it; the
 * server checks the client certificate (tls.ts identifyPeer, as its gRPC
 * server does) and that the HELLO names that party and a gRPC link of this
 * party waiting for it, then answers HELLO. LinkMesh (mesh-links.ts) owns the
 * links; this class only attaches a data link to one.
 */
import type { ServerHttp2Stream } from 'node:http2';
import type { PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { MpcError } from '../protocol/errors.js';
import type { PartyId } from '../protocol/ring/types.js';
import type { WireFrame } from './chunking.js';
import { decodeHello } from './link-hello.js';
import type { Logger } from './log.js';
import { DataServer, dialData, FramedStream } from './mesh-h2.js';
import type { Link } from './mesh-service.js';
import { hostOf, identifyPeer, type MeshTls } from './tls.js';

/** What the data links need of the mesh. */
export interface DataLinkHost {
  readonly log: Logger;
  readonly maxFrameBytes: number;
  readonly window: number;
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
}

export class DataLinks {
  private server: DataServer | null = null;
  /** Server: gRPC links whose HELLO passed, waiting for their data link, with the negotiated version. */
  private readonly awaiting: ({ link: Link; version: number } | undefined)[] = [undefined, undefined, undefined];

  constructor(private readonly h: DataLinkHost) {}

  /** Listen for data links (P0, P1); returns the bound port. */
  async listen(host: string, port: number): Promise<number> {
    this.server = new DataServer({ host, port, tls: this.h.tls(), window: this.h.window, onStream: (st, cert) => this.accept(st, cert) });
    return this.server.listen();
  }

  get port(): number | undefined { return this.server?.port; }

  updateTls(tls: MeshTls): void { this.server?.updateTls(tls); }

  /** HELLO passed on `link`'s gRPC stream: the dialer opens the data link to the port the server named; the server waits for it. */
  start(link: Link, p: PartyId, version: number, dataPort: number | undefined): void {
    const h = this.h;
    if (link.role === 'server') {
      const prev = this.awaiting[p];
      if (prev && prev.link !== link) h.dropLink(prev.link, new MpcError('E_PEER_UNAVAILABLE', `link to P${p} replaced`), grpc.status.CANCELLED);
      this.awaiting[p] = { link, version };
      return;
    }
    const addr = h.dialAddress(p);
    if (!dataPort || !addr) { h.dropLink(link, new MpcError('E_PEER_UNAVAILABLE', `P${p} named no h2 data port`, { party: p, step: 'link.data' }), grpc.status.CANCELLED); return; }
    const { session, stream } = dialData(hostOf(addr), dataPort, h.tls(), p, h.window);
    link.dataSession = session;
    const fs = new FramedStream(stream, h.maxFrameBytes, (f) => {
      // The server's answer on the data link: its HELLO, then the pair's messages.
      const hello = f.kind === 'HELLO' ? decodeHello(f.payload) : null;
      if (hello?.party !== p) { h.dropLink(link, new MpcError('E_PERMISSION', 'data link: server hello names another party', { party: p, step: 'link.data' }), grpc.status.PERMISSION_DENIED); return; }
      fs.setHandler((g) => h.onFrame(link, g));
      h.linkUp(link, p, version);
    }, (e) => h.dropLink(link, e, grpc.status.UNAVAILABLE));
    link.data = fs;
    h.sendHello(link);
  }

  /** Server: a data stream arrived; its certificate and HELLO must name a party whose gRPC link waits for it. */
  private accept(stream: ServerHttp2Stream, cert: PeerCertificate | null): void {
    const h = this.h;
    const refuse = (why: string, status = 403) => {
      h.log.warn({ code: 'E_PERMISSION' }, `refused a data link: ${why}`);
      if (!stream.headersSent) stream.respond({ ':status': status }, { endStream: true });
      else stream.close();
    };
    if (h.closed()) { refuse('party shutting down', 503); return; }
    const tls = h.tls();
    let certPeer: PartyId | null = null;
    if (tls) {
      certPeer = identifyPeer(tls, cert ?? undefined, h.higherPeers());
      if (certPeer === null) { refuse('the client certificate does not name a party that dials this one'); return; }
    }
    stream.respond({ ':status': 200, 'content-type': 'application/octet-stream' });
    let link: Link | undefined;
    const fs = new FramedStream(stream, h.maxFrameBytes, (f) => {
      const hello = f.kind === 'HELLO' ? decodeHello(f.payload) : null;
      const p = hello?.party;
      const waiting = p === undefined ? undefined : this.awaiting[p];
      if (p === undefined || (certPeer !== null && p !== certPeer) || !waiting || waiting.link.dead) { fs.destroy(); refuse('its hello names no party whose gRPC link waits for it'); return; }
      this.awaiting[p] = undefined;
      const l = (link = waiting.link);
      l.data = fs;
      fs.setHandler((g) => h.onFrame(l, g));
      h.sendHello(l);
      h.linkUp(l, p, waiting.version);
    }, (e) => { if (link) h.dropLink(link, e, grpc.status.UNAVAILABLE); });
  }

  /** `link` went down: it no longer waits for a data link. */
  forget(link: Link): void {
    const p = link.peer;
    if (p !== null && this.awaiting[p]?.link === link) this.awaiting[p] = undefined;
  }

  /** Stop the data listener and the dialed connections of `links` (`abrupt`: as a dying process would). */
  async close(links: readonly (Link | undefined)[], abrupt: boolean): Promise<void> {
    for (const l of links) if (l?.dataSession) { if (abrupt) l.dataSession.destroy(); else l.dataSession.close(); }
    await this.server?.close(abrupt);
  }
}
