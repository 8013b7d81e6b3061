/**
 * In-memory transport: three parties in one process, connected by queues.
 * Counts bytes, messages and Lamport rounds per party (see transport.ts).
 */
import { MpcError } from '../errors.js';
import type { PartyId } from '../ring/types.js';
import type { Counters, Envelope, StepCounters, Transport } from './transport.js';

/**
 * Deliveries held back and handed over together, in one macrotask: what a network link does when one read
 * carries several messages (the h2 link decodes every frame of a chunk at once), so that two sessions' receives
 * resolve in the same tick and their continuations interleave microtask by microtask. Share one between the
 * transports of two sessions to test that concurrent runs in one process keep apart (ring/scratch.ts).
 */
export class Coalescer {
  private held: (() => void)[] = [];
  hold(deliver: () => void): void {
    if (this.held.push(deliver) === 1) setImmediate(() => { for (const d of this.held.splice(0)) d(); });
  }
}

/** An envelope in a channel; `release`: the sender's sendWithRelease callback, due once the payload is copied. */
type Queued = Envelope & { release?: () => void };

class Channel {
  private queue: Queued[] = [];
  private waiters: { resolve: (e: Queued) => void; reject: (e: Error) => void }[] = [];
  private closed: Error | null = null;
  constructor(private readonly coalescer?: Coalescer) {}
  push(e: Queued): void {
    const w = this.waiters.shift();
    if (w && this.coalescer) this.coalescer.hold(() => w.resolve(e));
    else if (w) w.resolve(e);
    else this.queue.push(e);
  }
  pull(): Promise<Queued> {
    const e = this.queue.shift();
    if (e) return Promise.resolve(e);
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }
  close(err: Error): void {
    this.closed = err;
    for (const w of this.waiters.splice(0)) w.reject(err);
  }
  get pending(): number { return this.queue.length; }
}

export class MemoryTransport implements Transport {
  readonly counters: Counters = { bytesSent: 0, messagesSent: 0, depth: 0, waitMs: 0 };
  readonly steps = new Map<string, StepCounters>();
  constructor(
    readonly party: PartyId,
    /** inbox[from] */
    private readonly inbox: (Channel | undefined)[],
    private readonly peers: (MemoryTransport | undefined)[],
    /** Copy a payload when it is received instead of when it is sent (see memoryTransports). */
    private readonly lateCopy = false,
  ) {}

  send(to: PartyId, tag: string, payload: Uint8Array): void {
    const peer = this.peers[to];
    if (!peer || to === this.party) throw new MpcError('E_BAD_ARGUMENT', `transport: party ${this.party} cannot send to ${to}`, { party: this.party });
    this.counters.bytesSent += payload.byteLength;
    this.counters.messagesSent += 1;
    // Copy: the sender may reuse its buffer; a network transport copies too
    // (lateCopy: only when received, as a gRPC stream under backpressure does).
    peer.inbox[this.party]!.push({ tag, depth: this.counters.depth, payload: this.lateCopy ? payload : payload.slice() });
  }

  /** Transport.sendWithRelease: `release` once the payload is copied (at once; lateCopy: when the receiver takes it). */
  sendWithRelease(to: PartyId, tag: string, payload: Uint8Array, release: () => void): void {
    if (!this.lateCopy) { this.send(to, tag, payload); release(); return; }
    const peer = this.peers[to];
    if (!peer || to === this.party) throw new MpcError('E_BAD_ARGUMENT', `transport: party ${this.party} cannot send to ${to}`, { party: this.party });
    this.counters.bytesSent += payload.byteLength;
    this.counters.messagesSent += 1;
    peer.inbox[this.party]!.push({ tag, depth: this.counters.depth, payload, release });
  }

  async recv(from: PartyId, tag: string): Promise<Uint8Array> {
    const ch = this.inbox[from];
    if (!ch) throw new MpcError('E_BAD_ARGUMENT', `transport: party ${this.party} cannot receive from ${from}`, { party: this.party });
    const t0 = performance.now();
    const env = await ch.pull();
    if (this.lateCopy) {
      // Let the sender run on first (one macrotask), as a lazily serialising stream would.
      await new Promise((r) => setImmediate(r));
      env.payload = env.payload.slice();
      env.release?.();
    }
    this.counters.waitMs = (this.counters.waitMs ?? 0) + (performance.now() - t0);
    if (env.tag !== tag) {
      throw new MpcError('E_PROTOCOL_DESYNC', `transport: party ${this.party} expected '${tag}' from P${from}, got '${env.tag}'`, { party: this.party, step: tag });
    }
    this.counters.depth = Math.max(this.counters.depth, env.depth + 1);
    return env.payload;
  }

  close(reason: Error = new MpcError('E_PEER_UNAVAILABLE', `transport: party ${this.party} closed`)): void {
    for (const ch of this.inbox) ch?.close(reason);
  }

  /** Messages received but not yet consumed (a test of protocol hygiene: must be 0 after a run). */
  get pending(): number {
    return this.inbox.reduce((s, ch) => s + (ch?.pending ?? 0), 0);
  }
}

/**
 * Three connected in-memory transports, index = party id. lateCopy: a sent
 * payload is copied only when the receiver takes it, so a protocol that
 * changes a buffer after sending it (which the gRPC mesh, serialising lazily
 * under backpressure, would also send changed) is caught by its tests.
 * coalescer: deliveries are handed over in batches (Coalescer).
 */
export function memoryTransports(opts: { lateCopy?: boolean; coalescer?: Coalescer } = {}): [MemoryTransport, MemoryTransport, MemoryTransport] {
  const inboxes: (Channel | undefined)[][] = [0, 1, 2].map((me) => [0, 1, 2].map((from) => (from === me ? undefined : new Channel(opts.coalescer))));
  const peers: (MemoryTransport | undefined)[] = [undefined, undefined, undefined];
  const ts = ([0, 1, 2] as PartyId[]).map((p) => new MemoryTransport(p, inboxes[p]!, peers, opts.lateCopy ?? false)) as [MemoryTransport, MemoryTransport, MemoryTransport];
  ts.forEach((t, i) => (peers[i] = t));
  // each transport's `peers` array points at all three (self entry unused)
  return ts;
}
