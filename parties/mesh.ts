/**
 * The party mesh: one bidirectional gRPC stream per pair of parties (the
 * higher id dials the lower id: P1 -> P0, P2 -> P0, P2 -> P1), mTLS by
 * default, every session of the pair multiplexed over it; with link 'h2'
 * (the default) the pair's messages go over its h2 data link once set up
 * (mesh-h2.ts, mesh-data-links.ts), gRPC staying the control plane.
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
 *
 * Files: mesh-service.ts (the gRPC service, options and link types),
 * mesh-links.ts (link set-up: dial, accept, HELLO, link loss, redial; writing
 * a message as frames), this file (the receive path, sessions, control
 * messages, close).
 */
import * as grpc from '@grpc/grpc-js';
import { MpcError } from '../protocol/errors.js';
import type { PartyId } from '../protocol/ring/types.js';
import type { WireFrame } from './chunking.js';
import { errFields, sessionTag } from './log.js';
import { LinkMesh } from './mesh-links.js';
import { MiB, type ControlHandler, type Link, type MeshOptions, type Pending } from './mesh-service.js';
import { SessionTransport, type FrameSink } from './session-transport.js';

export type { ControlHandler, LinkHealth, LinkStats, MeshOptions, PeerHandler } from './mesh-service.js';

export class PeerMesh extends LinkMesh implements FrameSink {
  private readonly sessions = new Map<string, SessionTransport>();
  private readonly pending = new Map<string, { at: number; msgs: Pending[]; bytes: number }>();
  private pendingBytes = 0;
  /** Views closed in the last 10 minutes (refused again, their late messages dropped), oldest first; the time is
   * performance.now(), the process's monotonic clock, so that insertion order is age order whatever the wall clock does. */
  private readonly recentlyClosed = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;
  private controlHandler: ControlHandler = () => {};
  private readonly maxPendingBytes: number;
  private readonly pendingTtlMs: number;

  constructor(opts: MeshOptions) {
    super(opts);
    this.maxPendingBytes = opts.maxPendingBytes ?? 512 * MiB;
    this.pendingTtlMs = opts.pendingTtlMs ?? 30_000;
    this.sweeper = setInterval(() => this.sweep(), 1_000);
    this.sweeper.unref();
  }

  onControl(h: ControlHandler): void { this.controlHandler = h; }

  protected onFrame(link: Link, f: WireFrame): void {
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

  // ---- messages ----------------------------------------------------------

  private upLink(to: PartyId): Link {
    const link = this.links[to];
    if (!link || !link.up || link.dead) throw new MpcError('E_PEER_UNAVAILABLE', `P${this.party}: no link to P${to}`, { party: to });
    return link;
  }

  /** FrameSink: used by SessionTransport. */
  sendMessage(to: PartyId, kind: 'DATA' | 'SETUP', session: string, tag: string, depth: number, payload: Uint8Array, written?: () => void): void {
    this.writeMessage(this.upLink(to), { kind, session, tag, depth, payload }, written);
  }

  /**
   * FrameSink: resolves once what was written to the h2 data links to `peers` (all when absent) is on their sockets
   * (FramedStream.drained: frames written until now, not later ones); undefined when nothing waits or the links are
   * gRPC ones. A session passes the peers it sent to, so it never waits on a link it did not use.
   */
  drained(peers?: readonly PartyId[]): Promise<void> | undefined {
    const waits: Promise<void>[] = [];
    for (const [p, l] of this.links.entries()) { const d = !peers || peers.includes(p as PartyId) ? l?.data?.drained() : undefined; if (d) waits.push(d); }
    return waits.length ? Promise.all(waits).then(() => undefined) : undefined;
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
    if (!p) this.pending.set(session, (p = { at: performance.now(), msgs: [], bytes: 0 }));
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

  /** Whether a view of this name is open or was closed in the last 10 minutes (openSession refuses it: E_CONFLICT). */
  used(session: string): boolean { return this.sessions.has(session) || this.recentlyClosed.has(session); }

  /** FrameSink: the view closed. */
  release(session: string): void {
    this.sessions.delete(session);
    this.recentlyClosed.set(session, performance.now());
  }

  get openSessions(): number { return this.sessions.size; }

  protected failSessions(err: MpcError): void {
    for (const s of [...this.sessions.values()]) s.close(err);
    this.pending.clear();
    this.pendingBytes = 0;
  }

  private sweep(): void {
    const now = performance.now();
    for (const [id, p] of this.pending) if (now - p.at > this.pendingTtlMs) { this.pending.delete(id); this.pendingBytes -= p.bytes; this.log.warn({ session: sessionTag(id), bytes: p.bytes }, 'dropped messages of a session never opened'); }
    // Oldest first (insertion order, on the monotonic clock: a wall-clock step neither holds nor frees them): stop at
    // the first one still recent. Walking all of them each second cost
    // O(views closed in 10 min) per sweep (~2 per prediction: ~10^5 entries in steady service, a ms-long stall).
    for (const [id, at] of this.recentlyClosed) { if (now - at <= 10 * 60_000) break; this.recentlyClosed.delete(id); }
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
    await this.closeData(false);
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
    void this.closeData(true);
    for (const link of this.links) if (link && link.role === 'dialer') (link.stream as grpc.ClientDuplexStream<WireFrame, WireFrame>).cancel();
    for (const c of this.clients) c?.close();
    for (const s of [...this.sessions.values()]) s.close(new MpcError('E_PEER_UNAVAILABLE', `P${this.party} killed`));
  }
}
