/**
 * The party mesh: one bidirectional gRPC stream per pair of parties (the
 * higher id dials the lower id: P1 -> P0, P2 -> P0, P2 -> P1), mTLS by
 * default, every session of the pair multiplexed over it.
 *
 *  - Link set-up: the dialer sends HELLO {party, link versions, settings}; the
 *    server checks that the TLS client certificate names exactly that party
 *    (tls.ts), that they share a link version and that the settings that must
 *    agree do (link-hello.ts), and answers HELLO; the dialer has already checked
 *    the server's certificate name and checks the server's HELLO the same way.
 *    A refusal (E_LINK_VERSION, E_SETTINGS_MISMATCH) is logged at both ends,
 *    kept as the peer's link problem (readiness, metrics) and retried with
 *    the dialer's backoff, so fixing the other party's config needs no restart here.
 *  - DATA / SETUP messages are routed to the SessionTransport of their
 *    session id; messages for a session not opened yet are buffered (bounded
 *    in bytes and time), e.g. P1's first message reaching P2 before P0's plan.
 *  - CONTROL messages (JSON) go to the party's control handler.
 *  - A link that ends or errors closes every open session with
 *    E_PEER_UNAVAILABLE and tells the party (onPeer), so nothing hangs; the
 *    dialer reconnects with capped exponential backoff.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { MpcError } from '../protocol/errors.js';
import type { PartyId } from '../protocol/ring/types.js';
import { CHUNK_BYTES, Reassembler, toFrames, type FrameKind, type WireFrame } from './chunking.js';
import { decodeFrame, encodeFrameLazy } from './frame-codec.js';
import { compareSettings, decodeHello, DEFAULT_VERSIONS, encodeHello, negotiateVersion, parseRefusal, refusalDetails, settingsError, type Hello, type LinkSettings, type VersionRange } from './link-hello.js';
import { errFields, sessionTag, silentLogger, type Logger } from './log.js';
import { SessionTransport, type FrameSink } from './session-transport.js';
import { channelCredentials, identifyPeer, serverCredentials, serverCredentialsFrom, TlsProvider, type MeshTls } from './tls.js';

const PROTO_PATH = fileURLToPath(new URL('./proto/party.proto', import.meta.url));
const packageDef = protoLoader.loadSync(PROTO_PATH, { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true });
// The service as party.proto defines it, with frame-codec.ts as its (de)serializer:
// each payload copied once on its way out, and 8-aligned and viewed in place on receipt.
const linkMethod = (packageDef['securenn.party.PartyLink'] as grpc.ServiceDefinition).Link as grpc.MethodDefinition<WireFrame, WireFrame>;
// encodeFrameLazy returns FrameBytes, which grpc-js uses as the Buffer it expects (frame-codec.ts says how far).
Object.assign(linkMethod, { requestSerialize: encodeFrameLazy, responseSerialize: encodeFrameLazy, requestDeserialize: decodeFrame, responseDeserialize: decodeFrame });
const loaded = grpc.loadPackageDefinition(packageDef) as unknown as { securenn: { party: { PartyLink: grpc.ServiceClientConstructor } } };
const PartyLink = loaded.securenn.party.PartyLink;
type LinkClient = grpc.Client & { Link(): grpc.ClientDuplexStream<WireFrame, WireFrame> };
type Stream = grpc.ClientDuplexStream<WireFrame, WireFrame> | grpc.ServerDuplexStream<WireFrame, WireFrame>;

// Link versions and what each changed: link-hello.ts.
const MiB = 1 << 20;

export interface MeshOptions {
  party: PartyId;
  /** Where to accept links from higher-id parties (P0 and P1 need one). Port 0: chosen by the OS. */
  listen?: { host: string; port: number };
  /** gRPC addresses ("host:port") of the lower-id parties this party dials. May be set later with setDialAddress. */
  dial?: Partial<Record<PartyId, string>>;
  /** mTLS material; null only for --insecure-local loopback development. */
  tls: MeshTls | null;
  logger?: Logger;
  chunkBytes?: number;
  /** Largest protocol message accepted (all chunks); default 4 GiB. */
  maxMessageBytes?: number;
  /** Bytes buffered for sessions not opened yet; default 512 MiB. */
  maxPendingBytes?: number;
  /** How long messages for an unopened session are kept; default 30 s. */
  pendingTtlMs?: number;
  reconnectMs?: { min: number; max: number };
  keepaliveMs?: number;
  /**
   * HTTP/2 stream and connection window in bytes (default 256 KiB). Keep it
   * small: Node's HTTP/2 session stops reading its socket while one of its
   * writes is in progress, and one write carries up to a window of DATA. With
   * 16 MiB windows two parties sending each other large messages at the same
   * time both blocked in their writes (socket buffers full, neither reading):
   * the link stalled until keepalive dropped it (mesh-bulk.test.ts).
   */
  flowControlWindow?: number;
  /** This party's settings that the peers compare at HELLO (read when a link is set up: the model hash once loaded). */
  settings?: () => LinkSettings;
  /** Link versions this party speaks (default link-hello.ts DEFAULT_VERSIONS; tests simulate other builds with it). */
  linkVersions?: VersionRange;
  /** Extra grpc-js channel and server options (benchmarks: bench/round-trip.ts compares settings). */
  grpcOptions?: grpc.ChannelOptions;
}

export type ControlHandler = (from: PartyId, type: string, body: unknown) => void;
export type PeerHandler = (peer: PartyId, up: boolean, reason?: Error) => void;

interface Link {
  peer: PartyId | null;
  /** Dialer: the client it was opened on (closed with the link once the TLS material changed). */
  client?: LinkClient;
  gen: number;
  role: 'dialer' | 'server';
  stream: Stream;
  reasm: Reassembler;
  up: boolean;
  dead: boolean;
}

interface Pending { from: PartyId; kind: 'DATA' | 'SETUP'; tag: string; depth: number; payload: Uint8Array }

export interface LinkStats { bytesSent: number; bytesReceived: number; framesSent: number; framesReceived: number }

/** What the mesh knows of one peer link beyond up/down (metrics, readiness). */
export interface LinkHealth {
  /** The link version in use (0 while down). */
  version: number;
  /** Times the link came up (a flapping link counts up fast). */
  ups: number;
  /** Why the last set-up was refused (E_LINK_VERSION, E_SETTINGS_MISMATCH), until a link comes up. */
  problem: MpcError | null;
  /** Settings that differ but do not stop the link (P0 decides them per run). */
  warnings: string[];
}

export class PeerMesh implements FrameSink {
  readonly party: PartyId;
  private readonly log: Logger;
  private readonly links: (Link | undefined)[] = [undefined, undefined, undefined];
  private readonly clients: (LinkClient | undefined)[] = [undefined, undefined, undefined];
  private readonly dialAddr: (string | undefined)[] = [undefined, undefined, undefined];
  private readonly backoff: number[] = [0, 0, 0];
  private readonly redialTimers: (NodeJS.Timeout | undefined)[] = [undefined, undefined, undefined];
  private readonly lastDialError: string[] = ['', '', ''];
  /** Bumped when a dial address changes: streams of older generations do not redial. */
  private readonly dialGen: number[] = [0, 0, 0];
  private server: grpc.Server | null = null;
  private boundPort: number | null = null;
  private readonly sessions = new Map<string, SessionTransport>();
  private readonly pending = new Map<string, { at: number; msgs: Pending[]; bytes: number }>();
  private pendingBytes = 0;
  private readonly recentlyClosed = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;
  private controlHandler: ControlHandler = () => {};
  private readonly peerHandlers: PeerHandler[] = [];
  private closed = false;
  readonly stats: LinkStats[] = [0, 1, 2].map(() => ({ bytesSent: 0, bytesReceived: 0, framesSent: 0, framesReceived: 0 }));
  private readonly chunkBytes: number;
  private readonly maxMessageBytes: number;
  private readonly maxPendingBytes: number;
  private readonly pendingTtlMs: number;
  private readonly grpcOptions: grpc.ChannelOptions;
  private readonly flowWindow: number;
  private readonly versions: VersionRange;
  private tls: MeshTls | null;
  /** Dial clients made with TLS material since replaced: closed when their link ends. */
  private readonly staleClients = new Set<LinkClient>();
  private serverTls: TlsProvider | null = null;
  readonly health: LinkHealth[] = [0, 1, 2].map(() => ({ version: 0, ups: 0, problem: null, warnings: [] }));

  constructor(private readonly opts: MeshOptions) {
    this.party = opts.party;
    this.tls = opts.tls;
    this.versions = opts.linkVersions ?? DEFAULT_VERSIONS;
    this.log = (opts.logger ?? silentLogger).child({ component: 'mesh' });
    this.chunkBytes = opts.chunkBytes ?? CHUNK_BYTES;
    this.maxMessageBytes = opts.maxMessageBytes ?? 4 * 1024 * MiB;
    this.maxPendingBytes = opts.maxPendingBytes ?? 512 * MiB;
    this.pendingTtlMs = opts.pendingTtlMs ?? 30_000;
    this.flowWindow = opts.flowControlWindow ?? 256 * 1024;
    const maxFrame = this.chunkBytes + 64 * 1024;
    this.grpcOptions = {
      'grpc.max_receive_message_length': Math.max(maxFrame, 8 * MiB),
      'grpc.max_send_message_length': Math.max(maxFrame, 8 * MiB),
      'grpc.keepalive_time_ms': opts.keepaliveMs ?? 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
      'grpc-node.flow_control_window': this.flowWindow,
      ...opts.grpcOptions,
    };
    for (const [p, a] of Object.entries(opts.dial ?? {})) if (a) this.dialAddr[Number(p)] = a;
    this.sweeper = setInterval(() => this.sweep(), 1_000);
    this.sweeper.unref();
  }

  /** Start listening (if configured) and dialing the lower-id peers. Returns the bound gRPC port. */
  async start(): Promise<{ port: number | null }> {
    let port: number | null = null;
    if (this.opts.listen) {
      const server = new grpc.Server({ ...this.grpcOptions, 'grpc.keepalive_permit_without_calls': 1, 'grpc.http2.min_ping_interval_without_data_ms': 5_000 });
      this.widenServerWindows(server);
      server.addService(PartyLink.service, { Link: (call: grpc.ServerDuplexStream<WireFrame, WireFrame>) => this.accept(call) });
      const { host, port: want } = this.opts.listen;
      if (this.tls) this.serverTls = new TlsProvider(this.tls);
      const creds = this.serverTls ? serverCredentialsFrom(this.serverTls) : serverCredentials(null);
      port = await new Promise<number>((resolve, reject) => {
        server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${want}`, creds, (err, bound) => (err ? reject(new MpcError('E_BAD_ARGUMENT', `mesh: cannot listen on ${host}:${want}: ${err.message}`)) : resolve(bound)));
      });
      this.server = server;
      this.boundPort = port;
      this.widenSessionWindows(server);
      this.log.info({ port }, 'grpc listening');
    }
    for (const p of this.lowerPeers()) if (this.dialAddr[p]) this.dial(p);
    return { port };
  }

  /**
   * HTTP/2 flow control: with the default 64 KiB windows a multi-MiB protocol
   * message crawls between two busy event loops (one WINDOW_UPDATE round trip
   * per 64 KiB). The dialer raises its windows with grpc-js's
   * 'grpc-node.flow_control_window'; grpc-js has no server option for it, so
   * the server's HTTP/2 settings are raised here (grpc-js 1.14 keeps them in
   * `commonServerOptions`, read when the port is bound) and each new session's
   * connection window is widened. Without this the mesh still works, slower.
   */
  private widenServerWindows(server: grpc.Server): void {
    const win = this.flowWindow;
    const s = server as unknown as { commonServerOptions?: { settings?: Record<string, unknown> } };
    if (s.commonServerOptions) s.commonServerOptions.settings = { ...s.commonServerOptions.settings, initialWindowSize: win };
  }

  private widenSessionWindows(server: grpc.Server): void {
    const win = this.flowWindow;
    const servers = (server as unknown as { http2Servers?: Map<{ on(ev: 'session', f: (s: { setLocalWindowSize?(n: number): void }) => void): void }, unknown> }).http2Servers;
    for (const h2 of servers?.keys() ?? []) {
      h2.on('session', (session) => { try { session.setLocalWindowSize?.(win); } catch { /* keep the default */ } });
    }
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

  /** "host:port" of this party's gRPC listener once started (tests), else undefined. */
  get dialTarget(): string | undefined { return this.boundPort === null ? undefined : `${this.opts.listen?.host ?? '127.0.0.1'}:${this.boundPort}`; }

  onControl(h: ControlHandler): void { this.controlHandler = h; }
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

  private sendHello(link: Link): void {
    this.writeMessage(link, { kind: 'HELLO', session: '', tag: 'hello', depth: 0, payload: encodeHello(this.party, this.versions, this.opts.settings?.()) });
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
    const { min, max } = this.opts.reconnectMs ?? { min: 100, max: 2_000 };
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
    s.on('data', (f: WireFrame) => this.onFrame(link, f));
    s.on('error', (e: Error & { code?: number; details?: string }) => this.linkDown(link, e));
    s.on('end', () => this.linkDown(link, new Error('stream ended')));
    s.on('close', () => this.linkDown(link, new Error('stream closed')));
    s.on('cancelled', () => this.linkDown(link, new Error('stream cancelled')));
  }

  private onFrame(link: Link, f: WireFrame): void {
    if (link.dead) return;
    if (link.peer !== null) {
      this.stats[link.peer]!.framesReceived += 1;
      this.stats[link.peer]!.bytesReceived += f.payload?.byteLength ?? 0;
    }
    let msg;
    try {
      msg = link.reasm.push(f);
    } catch (e) {
      this.log.error(errFields(e), 'malformed frame sequence; dropping link');
      this.dropLink(link, e as Error, grpc.status.ABORTED);
      return;
    }
    if (!msg) return;
    if (!link.up) {
      this.onHello(link, msg.kind, msg.payload);
      return;
    }
    const from = link.peer!;
    switch (msg.kind) {
      case 'CONTROL': {
        let body: unknown;
        try { body = JSON.parse(Buffer.from(msg.payload).toString('utf8')); } catch { this.log.warn({ from, type: msg.tag }, 'control message is not JSON; ignored'); return; }
        try { this.controlHandler(from, msg.tag, body); } catch (e) { this.log.error({ from, type: msg.tag, ...errFields(e) }, 'control handler failed'); }
        return;
      }
      case 'DATA':
      case 'SETUP':
        this.route(from, msg.kind, msg.session, msg.tag, msg.depth, msg.payload);
        return;
      default:
        this.log.warn({ from, kind: msg.kind }, 'unexpected frame kind after set-up; ignored');
    }
  }

  private onHello(link: Link, kind: FrameKind, payload: Uint8Array): void {
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
    h.ups += 1;
    h.problem = null;
    this.log.info({ peer: p, role: link.role, tls: this.tls !== null, linkVersion: version }, 'peer link up');
    for (const f of [...this.peerHandlers]) f(p, true);
  }

  /**
   * Versions and settings of a peer's HELLO (link-hello.ts): the link version
   * to use, or null when the link is refused. The server answers HELLO before
   * refusing, so the dialer words the same refusal from the values.
   */
  private judgeHello(link: Link, p: PartyId, hello: Hello): number | null {
    const mine = this.opts.settings?.() ?? {};
    if (link.role === 'server') this.sendHello(link);
    const v = negotiateVersion(this.party, this.versions, p, { min: hello.version, max: hello.maxVersion });
    const diff = hello.settings ? compareSettings(this.party, mine, p, hello.settings) : { must: [], should: [] };
    const err = typeof v === 'number' ? settingsError(p, diff.must) : v;
    if (err) {
      this.refuse(p, err);
      this.dropLink(link, err, grpc.status.FAILED_PRECONDITION);
      return null;
    }
    const h = this.health[p]!;
    if (diff.should.length > 0 && diff.should.join() !== h.warnings.join()) this.log.warn({ peer: p, code: 'E_SETTINGS_MISMATCH', settings: diff.should }, 'peer has other settings that P0 decides per run; the link is up');
    h.warnings = diff.should;
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

  private dropLink(link: Link, reason: Error, code: grpc.status): void {
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
    const peer = link.peer;
    const wasCurrent = peer !== null && this.links[peer] === link;
    if (wasCurrent) {
      this.links[peer] = undefined;
      const err = new MpcError('E_PEER_UNAVAILABLE', `P${this.party}: link to P${peer} lost`, { party: peer });
      (this.closed ? this.log.info : this.log.warn).call(this.log, { peer, code: 'E_PEER_UNAVAILABLE', reason: reason.details ?? reason.message, sessions: this.sessions.size }, 'peer link down');
      // Every session involves every party: fail them all.
      for (const s of [...this.sessions.values()]) s.close(err);
      this.pending.clear();
      this.pendingBytes = 0;
      for (const h of [...this.peerHandlers]) h(peer, false, err);
    } else if (link.role === 'dialer' && peer !== null) {
      const msg = reason.details ?? reason.message;
      // The server refused our HELLO (its HELLO may not have reached us first): name its reason here too.
      const refused = parseRefusal(reason.details, peer);
      if (refused) { this.refuse(peer, refused); this.lastDialError[peer] = msg; }
      if (msg !== this.lastDialError[peer]) this.log.warn({ peer, reason: msg.replace(/\s*Resolution note:\s*$/, '') }, 'cannot link to peer; retrying');
      this.lastDialError[peer] = msg;
    }
    if (wasCurrent) this.health[peer]!.version = 0;
    if (link.client && this.staleClients.delete(link.client)) link.client.close();
    if (link.role === 'dialer' && peer !== null) {
      try { (link.stream as grpc.ClientDuplexStream<WireFrame, WireFrame>).cancel(); } catch { /* ignore */ }
      if (link.gen === this.dialGen[peer]) this.scheduleRedial(peer);
    }
  }

  // ---- messages ----------------------------------------------------------

  private writeMessage(link: Link, m: { kind: FrameKind; session: string; tag: string; depth: number; payload: Uint8Array }): void {
    const frames = toFrames(m, this.chunkBytes);
    for (const f of frames) link.stream.write(f);
    if (link.peer !== null) {
      this.stats[link.peer]!.framesSent += frames.length;
      this.stats[link.peer]!.bytesSent += m.payload.byteLength;
    }
  }

  private upLink(to: PartyId): Link {
    const link = this.links[to];
    if (!link || !link.up || link.dead) throw new MpcError('E_PEER_UNAVAILABLE', `P${this.party}: no link to P${to}`, { party: to });
    return link;
  }

  /** FrameSink: used by SessionTransport. */
  sendMessage(to: PartyId, kind: 'DATA' | 'SETUP', session: string, tag: string, depth: number, payload: Uint8Array): void {
    this.writeMessage(this.upLink(to), { kind, session, tag, depth, payload });
  }

  sendControl(to: PartyId, type: string, body: unknown): void {
    this.writeMessage(this.upLink(to), { kind: 'CONTROL', session: '', tag: type, depth: 0, payload: Buffer.from(JSON.stringify(body)) });
  }

  private route(from: PartyId, kind: 'DATA' | 'SETUP', session: string, tag: string, depth: number, payload: Uint8Array): void {
    const view = this.sessions.get(session);
    if (view) { view.deliver(from, kind, { tag, depth, payload }); return; }
    if (this.recentlyClosed.has(session)) return;
    if (this.pendingBytes + payload.byteLength > this.maxPendingBytes) {
      this.log.warn({ from, session, bytes: payload.byteLength }, 'message for an unopened session dropped: pending buffer full');
      return;
    }
    let p = this.pending.get(session);
    if (!p) this.pending.set(session, (p = { at: Date.now(), msgs: [], bytes: 0 }));
    p.msgs.push({ from, kind, tag, depth, payload });
    p.bytes += payload.byteLength;
    this.pendingBytes += payload.byteLength;
  }

  /** The Transport view of one session (protocol run). Messages that arrived before are delivered now. */
  openSession(session: string): SessionTransport {
    if (this.sessions.has(session) || this.recentlyClosed.has(session)) throw new MpcError('E_CONFLICT', `mesh: session ${session} is already open or was used`);
    const view = new SessionTransport(this.party, session, this);
    this.sessions.set(session, view);
    const p = this.pending.get(session);
    if (p) {
      this.pending.delete(session);
      this.pendingBytes -= p.bytes;
      for (const m of p.msgs) view.deliver(m.from, m.kind, { tag: m.tag, depth: m.depth, payload: m.payload });
    }
    return view;
  }

  /** FrameSink: the view closed. */
  release(session: string): void {
    this.sessions.delete(session);
    this.recentlyClosed.set(session, Date.now());
  }

  get openSessions(): number { return this.sessions.size; }

  private sweep(): void {
    const now = Date.now();
    for (const [id, p] of this.pending) if (now - p.at > this.pendingTtlMs) { this.pending.delete(id); this.pendingBytes -= p.bytes; this.log.warn({ session: sessionTag(id), bytes: p.bytes }, 'dropped messages of a session never opened'); }
    for (const [id, at] of this.recentlyClosed) if (now - at > 10 * 60_000) this.recentlyClosed.delete(id);
  }

  /** Graceful close: end the streams, stop the server. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    for (const t of this.redialTimers) if (t) clearTimeout(t);
    const err = new MpcError('E_PEER_UNAVAILABLE', `P${this.party} is shutting down`, { party: this.party });
    for (const s of [...this.sessions.values()]) s.close(err);
    for (const link of this.links) if (link) this.dropLink(link, err, grpc.status.UNAVAILABLE);
    for (const c of this.clients) c?.close();
    for (const c of this.staleClients) c.close();
    this.staleClients.clear();
    const server = this.server;
    if (server) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => { server.forceShutdown(); resolve(); }, 1_000);
        server.tryShutdown(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  /** Abrupt stop, as if the process died: no goodbye on any stream (tests). */
  kill(): void {
    this.closed = true;
    clearInterval(this.sweeper);
    for (const t of this.redialTimers) if (t) clearTimeout(t);
    this.server?.forceShutdown();
    for (const link of this.links) if (link && link.role === 'dialer') (link.stream as grpc.ClientDuplexStream<WireFrame, WireFrame>).cancel();
    for (const c of this.clients) c?.close();
    for (const s of [...this.sessions.values()]) s.close(new MpcError('E_PEER_UNAVAILABLE', `P${this.party} killed`));
  }
}
