/**
 * A per-session view of the party mesh that implements the protocol's
 * Transport (protocol/transport/transport.ts) with the semantics of the
 * in-memory transport (protocol/transport/memory.ts): in-order delivery per
 * pair, tag check (E_PROTOCOL_DESYNC), bytes/messages counters and the
 * Lamport round depth (receiver depth = max(own, sender depth + 1)).
 *
 * Messages are routed to the view by session id, so concurrent sessions on
 * the same pair stream never see each other's messages. SETUP messages (the
 * pair seed of the session) use separate queues and touch no counter.
 */
import { MpcError } from '../protocol/errors.js';
import type { PartyId } from '../protocol/ring/types.js';
import type { Counters, Envelope, StepCounters, Transport } from '../protocol/transport/transport.js';
import { AsyncQueue } from './queue.js';
import { recvPool } from './recv-pool.js';
import { appendFileSync } from 'node:fs';

/**
 * MSG_TRACE=<file> (benchmarks: bench/msg-trace.ts): every session appends, when it closes, one line per message
 * event: wall-clock ms, party, session, event (send>peer, arr<peer: reassembled and routed to the view, wait<peer:
 * recv called, got<peer: recv returns), tag, bytes. Tags and sizes only, never payloads.
 */
const TRACE_FILE = process.env.MSG_TRACE || null;

/** Sent bytes below which flush does not yield (a turn of the event loop is some tens of microseconds). */
const FLUSH_BYTES = 64 * 1024;

/** What the view needs from the mesh. */
export interface FrameSink {
  /**
   * Send one message to `to`; throws E_PEER_UNAVAILABLE when the link is down. `written`: called once the payload's
   * bytes are on the link's socket (the h2 link; never on the gRPC link, nor for a write that failed).
   */
  sendMessage(to: PartyId, kind: 'DATA' | 'SETUP', session: string, tag: string, depth: number, payload: Uint8Array, written?: () => void): void;
  /** Optional: resolves once what was sent to `peers` (all when absent) is on the links' sockets (the h2 link); undefined when nothing waits. */
  drained?(peers?: readonly PartyId[]): Promise<void> | undefined;
  /** Called once when the view closes, so the mesh forgets its route. */
  release(session: string): void;
}

/** An MpcError without a captured stack (the same code, message and context). */
function stacklessError(code: 'E_PEER_UNAVAILABLE', message: string): MpcError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try { return new MpcError(code, message); } finally { Error.stackTraceLimit = limit; }
}

export class SessionTransport implements Transport {
  readonly counters: Counters = { bytesSent: 0, messagesSent: 0, depth: 0, waitMs: 0 };
  readonly steps = new Map<string, StepCounters>();
  private readonly inbox: (AsyncQueue<Envelope> | undefined)[];
  private readonly setupInbox: (AsyncQueue<Envelope> | undefined)[];
  private closedWith: Error | null = null;
  private readonly trace: string[] | null = TRACE_FILE ? [] : null;
  /** Bytes sent since the last flush (flush yields only for a large message: below FLUSH_BYTES a turn costs more than it saves). */
  private unflushed = 0;
  /** The peers sent to since the last flush: a 'drained' flush waits on their links only. */
  private readonly sentTo = new Set<PartyId>();
  /** Flushes waiting for the links to drain: resolved when the view closes (a dead link must not hold a run). */
  private readonly drainWaits = new Set<() => void>();

  constructor(readonly party: PartyId, readonly session: string, private readonly sink: FrameSink) {
    const mk = () => ([0, 1, 2] as PartyId[]).map((p) => (p === party ? undefined : new AsyncQueue<Envelope>()));
    this.inbox = mk();
    this.setupInbox = mk();
  }

  private checkPeer(p: PartyId, what: string): void {
    if (p === this.party || (p !== 0 && p !== 1 && p !== 2)) throw new MpcError('E_BAD_ARGUMENT', `transport: party ${this.party} cannot ${what} ${p}`, { party: this.party });
  }

  send(to: PartyId, tag: string, payload: Uint8Array): void { this.sendWithRelease(to, tag, payload); }

  /** Transport.sendWithRelease: `release` once the payload is on the socket (FrameSink.sendMessage's `written`). */
  sendWithRelease(to: PartyId, tag: string, payload: Uint8Array, release?: () => void): void {
    this.checkPeer(to, 'send to');
    if (this.closedWith) throw this.closedWith;
    this.counters.bytesSent += payload.byteLength;
    this.counters.messagesSent += 1;
    if (this.trace) this.note(`send>${to}`, tag, payload.byteLength);
    this.unflushed += payload.byteLength;
    this.sentTo.add(to);
    this.sink.sendMessage(to, 'DATA', this.session, tag, this.counters.depth, payload, release);
  }

  async recv(from: PartyId, tag: string): Promise<Uint8Array> {
    this.checkPeer(from, 'receive from');
    const t0 = performance.now();
    if (this.trace) this.note(`wait<${from}`, tag, 0);
    const env = await this.inbox[from]!.pull();
    if (this.trace) this.note(`got<${from}`, tag, env.payload.byteLength);
    this.counters.waitMs = (this.counters.waitMs ?? 0) + (performance.now() - t0);
    if (env.tag !== tag) {
      throw new MpcError('E_PROTOCOL_DESYNC', `transport: party ${this.party} expected '${tag}' from P${from}, got '${env.tag}'`, { party: this.party, step: tag });
    }
    this.counters.depth = Math.max(this.counters.depth, env.depth + 1);
    return env.payload;
  }

  /**
   * Transport.flush: when at least FLUSH_BYTES were sent since the last flush, one event-loop turn, so that the h2
   * link's pending writes (an immediate that Node schedules for nghttp2) reach the socket before the protocol's
   * next synchronous work; with `until: 'drained'`, until every frame sent since the last flush is on its socket
   * (the peers' window updates included; only the links to the peers this view sent to, and not the frames other
   * sessions write after the call) or the view closes. The in-memory transport has no flush.
   */
  flush(until: 'turn' | 'drained' = 'turn'): Promise<void> | undefined {
    if (this.unflushed < FLUSH_BYTES || this.closedWith) return undefined;
    this.unflushed = 0;
    const peers = [...this.sentTo];
    this.sentTo.clear();
    const drained = until === 'drained' ? this.sink.drained?.(peers) : undefined;
    if (!drained) return new Promise<void>((resolve) => setImmediate(resolve));
    return new Promise<void>((resolve) => {
      const done = (): void => { this.drainWaits.delete(done); resolve(); };
      this.drainWaits.add(done);
      void drained.then(done);
    });
  }

  /** The protocol is done with a received payload: its buffer goes back to the h2 link's receive pool (recv-pool.ts) if it came from there. */
  recycle(payload: Uint8Array): void { recvPool.recycle(payload); }

  private note(ev: string, tag: string, bytes: number): void {
    this.trace!.push(`${(performance.timeOrigin + performance.now()).toFixed(3)} P${this.party} ${this.session} ${ev} ${tag} ${bytes}\n`);
  }

  /** Session set-up message (e.g. a pair seed); not protocol traffic, not counted. */
  sendSetup(to: PartyId, tag: string, payload: Uint8Array): void {
    this.checkPeer(to, 'send to');
    if (this.closedWith) throw this.closedWith;
    this.sink.sendMessage(to, 'SETUP', this.session, tag, 0, payload);
  }

  async recvSetup(from: PartyId, tag: string): Promise<Uint8Array> {
    this.checkPeer(from, 'receive from');
    const env = await this.setupInbox[from]!.pull();
    if (env.tag !== tag) throw new MpcError('E_PROTOCOL_DESYNC', `transport: party ${this.party} expected set-up '${tag}' from P${from}, got '${env.tag}'`, { party: this.party, step: tag });
    return env.payload;
  }

  /** Mesh side: a reassembled message for this session arrived from `from`. */
  deliver(from: PartyId, kind: 'DATA' | 'SETUP', env: Envelope): void {
    if (this.trace && kind === 'DATA') this.note(`arr<${from}`, env.tag, env.payload.byteLength);
    (kind === 'SETUP' ? this.setupInbox : this.inbox)[from]?.push(env);
  }

  /**
   * Closes the view: a pending or later recv rejects, a later send throws, with `reason`. Without one (every run's
   * normal end) the reason is an E_PEER_UNAVAILABLE made without a stack trace: the close site says nothing to
   * whoever reads it, and capturing a stack on every run cost more than the rest of the close (CPU profiles).
   */
  close(reason?: Error): void {
    if (this.closedWith) return;
    reason ??= stacklessError('E_PEER_UNAVAILABLE', `transport: party ${this.party} closed session`);
    this.closedWith = reason;
    for (const f of [...this.drainWaits]) f();
    if (this.trace?.length) { try { appendFileSync(TRACE_FILE!, this.trace.join('')); } catch { /* a benchmark's trace: never fail a run */ } }
    for (const q of [...this.inbox, ...this.setupInbox]) q?.close(reason);
    this.sink.release(this.session);
  }

  get closed(): Error | null { return this.closedWith; }

  /** Messages received but not consumed (0 after a clean run). */
  get pending(): number {
    return this.inbox.reduce((s, q) => s + (q?.pending ?? 0), 0);
  }
}
