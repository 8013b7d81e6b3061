/**
 * The Transport interface: how one party talks to the two others.
 *
 * The runtime (in-memory here, gRPC in parties/) knows nothing of protocols;
 * protocols know nothing of sockets. Messages between a pair of parties are
 * delivered in order; each carries a tag that the receiver checks, so parties
 * that fall out of step fail with E_PROTOCOL_DESYNC instead of computing on
 * the wrong bytes.
 *
 * Rounds are counted with a Lamport clock: every message carries the sender's
 * round depth d, the receiver's depth becomes max(own, d + 1). The rounds of a
 * protocol are the length of its longest chain of dependent messages, so
 * messages sent in parallel in one round count once (PROTOCOL-NOTES: "a whole
 * layer's comparisons go in one message per round").
 */
import type { PartyId } from '../ring/types.js';

export interface Counters {
  bytesSent: number;
  messagesSent: number;
  /** Lamport round depth of this party. */
  depth: number;
  /**
   * Milliseconds this party spent blocked in recv() waiting for messages
   * (communication and peers' compute), where the transport measures it
   * (memory and parties' session transport do). Wall time minus waitMs is
   * this party's own compute.
   */
  waitMs?: number;
}

export interface StepCounters {
  bytesSent: number;
  messagesSent: number;
  rounds: number;
  calls: number;
}

export interface Transport {
  readonly party: PartyId;
  /** Queue a message to `to`; never blocks. `payload` is not retained after the call returns if the implementation copies; callers must not mutate it afterwards. */
  send(to: PartyId, tag: string, payload: Uint8Array): void;
  /** Wait for the next message from `from`; it must carry `tag`. The payload is the receiver's: the transport neither reads nor reuses it afterwards (until the protocol hands it back with `recycle`), so the protocol may overwrite it (sharing/open.ts does). */
  recv(from: PartyId, tag: string): Promise<Uint8Array>;
  /**
   * Optional: the protocol is done with a payload recv returned (nothing reads it any more), so the transport may
   * reuse its memory for a later message (parties/recv-pool.ts). Never required, and a payload not handed back is
   * left to the GC; a view that is not exactly a received payload is ignored. Nothing about the bits sent changes.
   */
  recycle?(payload: Uint8Array): void;
  /**
   * Optional: send as `send` does, and call `release` once the transport reads `payload` no more (its bytes are on
   * the wire, or copied), so the sender may reuse the buffer (ring/send-pool.ts); never called if the message is
   * lost (a link going down). Where absent the payload is the transport's for good. Nothing about the bits sent changes.
   */
  sendWithRelease?(to: PartyId, tag: string, payload: Uint8Array, release: () => void): void;
  /**
   * Optional: let the messages sent so far leave the process before a long synchronous stretch of work. The party
   * mesh's HTTP/2 link hands its writes to the socket only when the event loop turns (Node runs nghttp2's writes as
   * an immediate), so a message sent just before milliseconds of computation waits for them; this resolves after
   * one turn (or returns undefined when nothing large is waiting); `until: 'drained'`: once every message sent since
   * the last flush is on the wire (where the sender has nothing urgent to do next, so that the peer waiting for it gets it sooner).
   * Nothing about the bits sent or received changes.
   */
  flush?(until?: 'turn' | 'drained'): Promise<void> | undefined;
  readonly counters: Counters;
  /** Counters grouped by protocol step label (see meter.ts). */
  readonly steps: Map<string, StepCounters>;
  close(reason?: Error): void;
}

/** Envelope that every transport carries. */
export interface Envelope {
  tag: string;
  depth: number;
  payload: Uint8Array;
}
