/**
 * Link set-up of the party mesh (mesh.ts): the dialer and server sides of
 * each pair's stream, HELLO (link-hello.ts) and its refusals, link loss and
 * redial with backoff, and writing one message as frames. PeerMesh (mesh.ts)
 * adds the receive path, the sessions and the control messages.
 */
import * as grpc from '@grpc/grpc-js';
import { MpcError } from '../protocol/errors.js';
import type { PartyId } from '../protocol/ring/types.js';
import { CHUNK_BYTES, Reassembler, toFrames, type FrameKind, type WireFrame } from './chunking.js';
import { DEFAULT_VERSIONS, compareSettings, decodeHello, encodeHello, negotiateVersion, parseRefusal, refusalDetails, settingsError, type Hello, type LinkSettings, type VersionRange } from './link-hello.js';
import { silentLogger, type Logger } from './log.js';
import { MiB, PartyLink, widenServerWindows, widenSessionWindows, type Link, type LinkClient, type LinkHealth, type LinkStats, type MeshOptions, type PeerHandler } from './mesh-service.js';
import { DATA_SETUP_MS, DataLinks } from './mesh-data-links.js';
import type { MeshLinkKind } from './mesh-h2.js';
import { channelCredentials, identifyPeer, serverCredentials, serverCredentialsFrom, TlsProvider, type MeshTls } from './tls.js';

export abstract class LinkMesh {
  readonly party: PartyId;
  protected readonly log: Logger;
  protected readonly links: (Link | undefined)[] = [undefined, undefined, undefined];
  protected readonly clients: (LinkClient | undefined)[] = [undefined, undefined, undefined];
  private readonly dialAddr: (string | undefined)[] = [undefined, undefined, undefined];
  private readonly backoff: number[] = [0, 0, 0];
  protected readonly redialTimers: (NodeJS.Timeout | undefined)[] = [undefined, undefined, undefined];
  private readonly lastDialError: string[] = ['', '', ''];
  /** Bumped when a dial address changes: streams of older generations do not redial. */
  private readonly dialGen: number[] = [0, 0, 0];
  protected server: grpc.Server | null = null;
  private boundPort: number | null = null;
  protected readonly peerHandlers: PeerHandler[] = [];
  protected closed = false;
  readonly stats: LinkStats[] = [0, 1, 2].map(() => ({ bytesSent: 0, bytesReceived: 0, framesSent: 0, framesReceived: 0 }));
  private readonly chunkBytes: number;
  private readonly maxMessageBytes: number;
  private readonly grpcOptions: grpc.ChannelOptions;
  private readonly flowWindow: number;
  private readonly versions: VersionRange;
  /** The dialer's redial backoff (ms): doubles from min to max. */
  private readonly reconnect: { min: number; max: number };
  private tls: MeshTls | null;
  /** Dial clients made with TLS material since replaced: closed when their link ends. */
  protected readonly staleClients = new Set<LinkClient>();
  private serverTls: TlsProvider | null = null;
  /** What carries the pair's messages (mesh-h2.ts). */
  readonly linkKind: MeshLinkKind;
  /** Link 'h2': sets up each pair's data link (mesh-data-links.ts). */
  private readonly dataLinks: DataLinks | null;
  readonly health: LinkHealth[] = [0, 1, 2].map(() => ({ version: 0, ups: 0, problem: null, warnings: [] }));

  constructor(protected readonly opts: MeshOptions) {
    this.party = opts.party;
    this.tls = opts.tls;
    this.linkKind = opts.link ?? 'h2';
    this.versions = opts.linkVersions ?? DEFAULT_VERSIONS;
    this.log = (opts.logger ?? silentLogger).child({ component: 'mesh' });
    this.chunkBytes = opts.chunkBytes ?? CHUNK_BYTES;
    this.maxMessageBytes = opts.maxMessageBytes ?? 4 * 1024 * MiB;
    this.flowWindow = opts.flowControlWindow ?? 256 * 1024;
    this.reconnect = opts.reconnectMs ?? { min: 100, max: 2_000 };
    const maxFrame = this.chunkBytes + 64 * 1024;
    this.grpcOptions = {
      'grpc.max_receive_message_length': Math.max(maxFrame, 8 * MiB),
      'grpc.max_send_message_length': Math.max(maxFrame, 8 * MiB),
      'grpc.keepalive_time_ms': opts.keepaliveMs ?? 10_000,
      'grpc.keepalive_timeout_ms': opts.keepaliveTimeoutMs ?? 60_000,
      'grpc-node.flow_control_window': this.flowWindow,
      // The channel's own reconnect backoff (grpc-js: 1 s, then up to 120 s) would hold a redial (scheduleRedial) back
      // while a peer is still starting: its backoff follows the mesh's instead.
      'grpc.initial_reconnect_backoff_ms': this.reconnect.min,
      'grpc.max_reconnect_backoff_ms': this.reconnect.max,
      ...opts.grpcOptions,
    };
    for (const [p, a] of Object.entries(opts.dial ?? {})) if (a) this.dialAddr[Number(p)] = a;
    this.dataLinks = this.linkKind !== 'h2' ? null : new DataLinks({
      log: this.log, maxFrameBytes: maxFrame, window: this.flowWindow, setupMs: opts.dataSetupMs ?? DATA_SETUP_MS,
      problem: (p, e) => this.refuse(p, e), tls: () => this.tls, closed: () => this.closed, higherPeers: () => this.higherPeers(), dialAddress: (p) => this.dialAddr[p],
      sendHello: (l) => this.sendHello(l), linkUp: (l, p, v) => this.linkUp(l, p, v), dropLink: (l, e, c) => this.dropLink(l, e, c), onFrame: (l, f) => this.onFrame(l, f),
    });
  }

  /** Open sessions (logged when a link goes down). */
  abstract get openSessions(): number;
  /** A frame of `link` arrived (mesh.ts: reassembly, HELLO, routing). */
  protected abstract onFrame(link: Link, f: WireFrame): void;
  /** The current link to a peer was lost: every session involves every party, so fail them all. */
  protected abstract failSessions(err: MpcError): void;

  /** Start listening (if configured) and dialing the lower-id peers. Returns the bound gRPC port. */
  async start(): Promise<{ port: number | null }> {
    let port: number | null = null;
    if (this.opts.listen) {
      // The data listener first: a HELLO answered before it listened would name no data port.
      if (this.dataLinks) this.log.info({ port: await this.dataLinks.listen(this.opts.listen.host, this.opts.listen.dataPort ?? 0) }, 'h2 data link listening');
      const server = new grpc.Server({ ...this.grpcOptions, 'grpc.keepalive_permit_without_calls': 1, 'grpc.http2.min_ping_interval_without_data_ms': 5_000 });
      widenServerWindows(server, this.flowWindow);
      server.addService(PartyLink.service, { Link: (call: grpc.ServerDuplexStream<WireFrame, WireFrame>) => this.accept(call) });
      const { host, port: want } = this.opts.listen;
      if (this.tls) this.serverTls = new TlsProvider(this.tls);
      const creds = this.serverTls ? serverCredentialsFrom(this.serverTls) : serverCredentials(null);
      port = await new Promise<number>((resolve, reject) => {
        server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${want}`, creds, (err, bound) => (err ? reject(new MpcError('E_BAD_ARGUMENT', `mesh: cannot listen on ${host}:${want}: ${err.message}`)) : resolve(bound)));
      });
      this.server = server;
      this.boundPort = port;
      widenSessionWindows(server, this.flowWindow);
      this.log.info({ port }, 'grpc listening');
    }
    for (const p of this.lowerPeers()) if (this.dialAddr[p]) this.dial(p);
    return { port };
  }

  /** Peers this party dials. */
  private lowerPeers(): PartyId[] { return ([0, 1, 2] as PartyId[]).filter((p) => p < this.party); }
  private higherPeers(): PartyId[] { return ([0, 1, 2] as PartyId[]).filter((p) => p > this.party); }
  private otherPeers(): PartyId[] { return ([0, 1, 2] as PartyId[]).filter((p) => p !== this.party); }

  /** Set (or change) a dial address after start (tests with OS-chosen ports). */
  setDialAddress(peer: PartyId, address: string): void {
    if (peer >= this.party) throw new MpcError('E_BAD_ARGUMENT', `mesh: P${this.party} does not dial P${peer} (the higher id dials)`);
    if (this.dialAddr[peer] !== address) {
      this.dialAddr[peer] = address;
      this.clients[peer]?.close();
      this.clients[peer] = undefined;
      const t = this.redialTimers[peer];
      if (t) clearTimeout(t);
      this.redialTimers[peer] = undefined;
      this.dialGen[peer]! += 1;
    }
    if (!this.closed && !this.links[peer] && !this.redialTimers[peer]) this.dial(peer);
  }

  /** The gRPC channel options of this party's dial clients (tests). */
  get channelOptions(): Readonly<grpc.ChannelOptions> { return this.grpcOptions; }

  /** "host:port" of this party's gRPC listener once started (tests), else undefined. */
  get dialTarget(): string | undefined { return this.boundPort === null ? undefined : `${this.opts.listen?.host ?? '127.0.0.1'}:${this.boundPort}`; }

  /** Port of this party's h2 data listener once started (link 'h2'), else undefined. */
  get dataPort(): number | undefined { return this.dataLinks?.port; }

  onPeer(h: PeerHandler): void { this.peerHandlers.push(h); }

  isUp(peer: PartyId): boolean { return this.links[peer]?.up === true; }
  allUp(): boolean { return this.otherPeers().every((p) => this.isUp(p)); }

  /** Resolves when both peer links are up; rejects after timeoutMs. */
  waitAllUp(timeoutMs: number): Promise<void> {
    if (this.allUp()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => { done(); reject(new MpcError('E_PEER_UNAVAILABLE', `mesh: P${this.party} peers not connected after ${timeoutMs} ms`, { party: this.party })); }, timeoutMs);
      const h: PeerHandler = () => { if (this.allUp()) { done(); resolve(); } };
      const done = () => { clearTimeout(t); const i = this.peerHandlers.indexOf(h); if (i >= 0) this.peerHandlers.splice(i, 1); };
      this.peerHandlers.push(h);
    });
  }

  // ---- dialer side -------------------------------------------------------

  private dial(peer: PartyId): void {
    this.redialTimers[peer] = undefined;
    const addr = this.dialAddr[peer];
    if (this.closed || !addr) return;
    let client = this.clients[peer];
    if (!client) {
      const { creds, options } = channelCredentials(this.tls, peer);
      client = new PartyLink(addr, creds, { ...this.grpcOptions, ...options }) as unknown as LinkClient;
      this.clients[peer] = client;
    }
    const stream = client.Link();
    const link: Link = { peer, client, gen: this.dialGen[peer]!, role: 'dialer', stream, reasm: new Reassembler(this.maxMessageBytes, `P${this.party}<-P${peer}`), up: false, dead: false };
    this.attach(link);
    this.sendHello(link);
  }

  /** This party's HELLO settings: the party's, and what carries the messages. */
  private mySettings(): LinkSettings { return { ...this.opts.settings?.(), meshLink: this.linkKind }; }

  /** The settings party `p` announces: this party's own, or those of the peer's HELLO on its current link (undefined: no link up, or a version-3 peer, which sends none). */
  settingsOf(p: PartyId): LinkSettings | undefined { return p === this.party ? this.mySettings() : this.links[p]?.up ? this.links[p].settings : undefined; }

  /**
   * HELLO. Link 'h2': the server's gRPC answer names its data port and this
   * link's data token; the HELLOs on the data link carry the token back
   * (mesh-data-links.ts).
   */
  private sendHello(link: Link): void {
    const d = this.dataLinks;
    const data = !d || link.up ? undefined
      : link.data ? { token: link.dataToken }
        : link.role === 'server' ? { port: d.port, token: d.tokenFor(link) } : undefined;
    this.writeMessage(link, { kind: 'HELLO', session: '', tag: 'hello', depth: 0, payload: encodeHello(this.party, this.versions, this.mySettings(), data) });
  }

  /**
   * New TLS material (tls-reload.ts): links set up from now on use it (the
   * server presents the new certificate and trusts the new CA, the dialers
   * open new channels); links already up stay up on the session they have.
   */
  updateTls(tls: MeshTls): void {
    if (!this.tls) throw new MpcError('E_BAD_ARGUMENT', 'mesh: this mesh runs without TLS (--insecure-local)');
    this.tls = tls;
    this.serverTls?.update(tls);
    this.dataLinks?.updateTls(tls);
    for (const p of this.lowerPeers()) {
      const c = this.clients[p];
      if (!c) continue;
      this.clients[p] = undefined;
      if (this.links[p]?.client === c) this.staleClients.add(c);
      else c.close();
    }
  }

  private scheduleRedial(peer: PartyId): void {
    if (this.closed || this.redialTimers[peer] || peer >= this.party) return;
    const { min, max } = this.reconnect;
    const delay = this.backoff[peer] = Math.min(max, Math.max(min, this.backoff[peer]! * 2));
    const t = setTimeout(() => this.dial(peer), delay);
    t.unref();
    this.redialTimers[peer] = t;
  }

  // ---- server side -------------------------------------------------------

  private accept(call: grpc.ServerDuplexStream<WireFrame, WireFrame>): void {
    if (this.closed) { call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'party shutting down' }); return; }
    let peer: PartyId | null = null;
    if (this.tls) {
      const cert = call.getAuthContext()?.sslPeerCertificate;
      peer = identifyPeer(this.tls, cert, this.higherPeers());
      if (peer === null) {
        this.log.warn({ code: 'E_PERMISSION' }, 'refused a link: the client certificate does not name a party that dials this one');
        call.emit('error', { code: grpc.status.PERMISSION_DENIED, details: `P${this.party}: certificate is not one of the expected peers` });
        return;
      }
    }
    const link: Link = { peer, gen: 0, role: 'server', stream: call, reasm: new Reassembler(this.maxMessageBytes, `P${this.party}<-P${peer ?? '?'}`), up: false, dead: false };
    this.attach(link);
  }

  // ---- both sides --------------------------------------------------------

  private attach(link: Link): void {
    const s = link.stream;
    // Link 'h2': once the data link is attached the gRPC stream carries nothing more (frames there would mix with the data link's in one reassembler).
    s.on('data', (f: WireFrame) => { if (link.data) this.log.warn({ peer: link.peer }, 'frame on the gRPC stream of an h2 link; ignored'); else this.onFrame(link, f); });
    s.on('error', (e: Error & { code?: number; details?: string }) => this.linkDown(link, e));
    s.on('end', () => this.linkDown(link, new Error('stream ended')));
    s.on('close', () => this.linkDown(link, new Error('stream closed')));
    s.on('cancelled', () => this.linkDown(link, new Error('stream cancelled')));
  }

  protected onHello(link: Link, kind: FrameKind, payload: Uint8Array): void {
    const hello = kind === 'HELLO' ? decodeHello(payload) : null;
    if (!hello || hello.party === this.party) {
      this.log.warn({ code: 'E_PERMISSION' }, 'link set-up failed: bad hello');
      this.dropLink(link, new MpcError('E_PERMISSION', 'bad hello'), grpc.status.PERMISSION_DENIED);
      return;
    }
    const p = hello.party;
    if (link.role === 'server') {
      // With TLS the certificate already fixed the peer; without, only higher ids may dial.
      if ((link.peer !== null && link.peer !== p) || p < this.party) {
        this.log.warn({ code: 'E_PERMISSION', claimed: p }, 'link set-up refused: hello names another party than the certificate');
        this.dropLink(link, new MpcError('E_PERMISSION', 'hello/certificate mismatch'), grpc.status.PERMISSION_DENIED);
        return;
      }
      link.peer = p;
    } else if (p !== link.peer) {
      this.dropLink(link, new MpcError('E_PERMISSION', 'server hello names another party'), grpc.status.PERMISSION_DENIED);
      return;
    }
    const version = this.judgeHello(link, p, hello);
    if (version === null) return;
    if (this.dataLinks) this.dataLinks.start(link, p, version, hello);
    else this.linkUp(link, p, version);
  }

  /** The pair's link is up: `link` replaces any older one; the party hears of it. */
  private linkUp(link: Link, p: PartyId, version: number): void {
    const old = this.links[p];
    if (old && old !== link) {
      this.log.warn({ peer: p }, 'replacing an existing link to the peer');
      this.dropLink(old, new MpcError('E_PEER_UNAVAILABLE', `link to P${p} replaced`), grpc.status.CANCELLED);
    }
    link.up = true;
    this.links[p] = link;
    this.backoff[p] = 0;
    this.lastDialError[p] = '';
    const h = this.health[p]!;
    h.version = version;
    h.carrier = link.data ? 'h2' : 'grpc';
    h.ups += 1;
    h.problem = null;
    this.log.info({ peer: p, role: link.role, tls: this.tls !== null, linkVersion: version, carrier: h.carrier }, 'peer link up');
    for (const f of [...this.peerHandlers]) f(p, true);
  }

  /**
   * Versions and settings of a peer's HELLO (link-hello.ts): the link version
   * to use, or null when the link is refused. The server answers HELLO before
   * refusing, so the dialer words the same refusal from the values.
   */
  private judgeHello(link: Link, p: PartyId, hello: Hello): number | null {
    const mine = this.mySettings();
    if (link.role === 'server') this.sendHello(link);
    const v = negotiateVersion(this.party, this.versions, p, { min: hello.version, max: hello.maxVersion });
    // A peer that names no meshLink (a build before it) speaks gRPC only.
    const diff = compareSettings(this.party, mine, p, { meshLink: 'grpc', ...hello.settings });
    const err = typeof v === 'number' ? settingsError(p, diff.must) : v;
    if (err) {
      this.refuse(p, err);
      this.dropLink(link, err, grpc.status.FAILED_PRECONDITION);
      return null;
    }
    const h = this.health[p]!;
    if (diff.should.length > 0 && diff.should.join() !== h.warnings.join()) this.log.warn({ peer: p, code: 'E_SETTINGS_MISMATCH', settings: diff.should }, 'peer has other settings that P0 decides per run; the link is up');
    h.warnings = diff.should;
    if (hello.settings) link.settings = hello.settings;
    if (!hello.settings) this.log.info({ peer: p, linkVersion: v }, 'peer sends no settings (link version 3): they are compared per run');
    return v as number;
  }

  /** Keep and log a refusal of the link to `p` (once per distinct reason; repeats at debug). */
  private refuse(p: PartyId, err: MpcError): void {
    const h = this.health[p]!;
    const same = h.problem?.message === err.message;
    h.problem = err;
    this.lastDialError[p] = err.message;
    (same ? this.log.debug : this.log.error).call(this.log, { peer: p, code: err.code, reason: err.message }, `link to P${p} refused: ${err.message}`);
  }

  /** Stop the data listener and connections (`abrupt`: as a dying process would). */
  protected async closeData(abrupt: boolean): Promise<void> { await this.dataLinks?.close(this.links, abrupt); }

  protected dropLink(link: Link, reason: Error, code: grpc.status): void {
    if (link.role === 'server') {
      const call = link.stream as grpc.ServerDuplexStream<WireFrame, WireFrame>;
      const details = reason instanceof MpcError && (reason.code === 'E_LINK_VERSION' || reason.code === 'E_SETTINGS_MISMATCH') ? refusalDetails(reason) : reason.message;
      try { call.emit('error', { code, details }); } catch { /* already closed */ }
    } else {
      (link.stream as grpc.ClientDuplexStream<WireFrame, WireFrame>).cancel();
    }
    this.linkDown(link, reason);
  }

  private linkDown(link: Link, reason: Error & { code?: number | string; details?: string }): void {
    if (link.dead) return;
    link.dead = true;
    link.data?.destroy();
    link.dataSession?.destroy();
    const peer = link.peer;
    this.dataLinks?.forget(link);
    const wasCurrent = peer !== null && this.links[peer] === link;
    if (wasCurrent) {
      this.links[peer] = undefined;
      const err = new MpcError('E_PEER_UNAVAILABLE', `P${this.party}: link to P${peer} lost`, { party: peer });
      (this.closed ? this.log.info : this.log.warn).call(this.log, { peer, code: 'E_PEER_UNAVAILABLE', reason: reason.details ?? reason.message, sessions: this.openSessions }, 'peer link down');
      // Every session involves every party: fail them all.
      this.failSessions(err);
      for (const h of [...this.peerHandlers]) h(peer, false, err);
    } else if (link.role === 'dialer' && peer !== null) {
      const msg = reason.details ?? reason.message;
      // The server refused our HELLO (its HELLO may not have reached us first): name its reason here too.
      const refused = parseRefusal(reason.details, peer);
      if (refused) { this.refuse(peer, refused); this.lastDialError[peer] = msg; }
      if (msg !== this.lastDialError[peer]) this.log.warn({ peer, reason: msg.replace(/\s*Resolution note:\s*$/, '') }, 'cannot link to peer; retrying');
      this.lastDialError[peer] = msg;
    }
    if (wasCurrent) { this.health[peer]!.version = 0; delete this.health[peer]!.carrier; }
    if (link.client && this.staleClients.delete(link.client)) link.client.close();
    if (link.role === 'dialer' && peer !== null) {
      try { (link.stream as grpc.ClientDuplexStream<WireFrame, WireFrame>).cancel(); } catch { /* ignore */ }
      if (link.gen === this.dialGen[peer]) this.scheduleRedial(peer);
    }
  }

  /**
   * `written` (h2 data link only): called once the message's last frame is on the socket (a stream completes its
   * writes in order, so all of it is). The gRPC link serialises lazily and says nothing: never called there.
   */
  protected writeMessage(link: Link, m: { kind: FrameKind; session: string; tag: string; depth: number; payload: Uint8Array }, written?: () => void): void {
    const frames = toFrames(m, this.chunkBytes);
    if (link.data) { const last = frames.length - 1; frames.forEach((f, i) => link.data!.write(f, i === last ? written : undefined)); }
    else for (const f of frames) link.stream.write(f);
    if (link.peer !== null) {
      this.stats[link.peer]!.framesSent += frames.length;
      this.stats[link.peer]!.bytesSent += m.payload.byteLength;
    }
  }
}
