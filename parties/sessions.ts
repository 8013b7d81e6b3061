/**
 * Client sessions of one party: id, batch, deadline, state, this party's
 * input and output share. Sessions are isolated from each other; each has a
 * deadline after which it fails with E_DEADLINE; a terminal session is kept
 * for `retentionMs` (its output can be fetched again), then forgotten, but its
 * id stays burnt (E_CONFLICT on replay) for `tombstoneMs`, across restarts
 * too where the store has an id journal (parties/id-journal.ts).
 *
 * Every write to a Session goes through this store (its methods below).
 *
 * A session belongs to the client that created it: `owner` (the client
 * identity of its credential at this party) and `keyHash` (SHA-256 of the
 * session key the client drew for this party, SESSION_KEY_HEADER). `owned()`
 * answers anyone else exactly as an unknown id. Admission: at most
 * `maxSessions` unfinished sessions in all and `maxPerClient` per client.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { OutputMode, SessionState } from '../protocol/api-contract.js';
import { MpcError } from '../protocol/errors.js';
import type { PrivacyRequest, Reservation, ResolvedPolicy } from '../protocol/privacy/index.js';
import type { PartyId } from '../protocol/ring/types.js';
import { clientError } from './run-view.js';

export interface Session {
  readonly id: string;
  /** The client identity that created the session (http.ts: the credential's id at this party). */
  readonly owner: string;
  /** SHA-256 of the session key the client sent at creation. */
  readonly keyHash: Buffer;
  readonly batch: number;
  readonly createdAt: number;
  readonly deadlineAt: number;
  state: SessionState;
  input?: BigUint64Array;
  output?: BigUint64Array;
  outputShape?: number[];
  /** This party's share of the range sentinel's s (P0, P1 of a run with it; parties/range-sentinel.ts): goes to the client with the output. */
  sentinel?: BigUint64Array;
  /** What `output` holds (default 'logits'). */
  outputMode?: OutputMode;
  /** The request's privacy options (forwarded in the plan) and the policy resolved from them and the model's. */
  privacyRequest?: PrivacyRequest;
  policy?: ResolvedPolicy;
  /** Privacy budget reserved at creation, until committed (output stored) or released (session failed). */
  reservation?: Reservation;
  error?: MpcError;
  runId?: string;
  /** Digest of the create request (session-binding.ts); P0 sends its own in the plan, P1 and P2 compare. */
  binding?: string;
  /** P0: the peers that reported this session ready (P1: input received, P2: created). */
  readyPeers: Set<PartyId>;
  queued: boolean;
  /** P0: planned once ahead of the peers' reports (run-planner.ts); a deferred session waits for them. */
  plannedAhead?: boolean;
}

export interface StoreOptions {
  maxSessions: number;
  /** Unfinished sessions one client may hold (E_QUOTA beyond). */
  maxPerClient: number;
  retentionMs: number;
  tombstoneMs: number;
  maxTombstones: number;
}

export const isTerminal = (s: Session): boolean => s.state === 'done' || s.state === 'failed';

/** SHA-256 of a session key (what a session keeps of it). */
export const sessionKeyHash = (key: string): Buffer => createHash('sha256').update('securenn/session-key/v1\0').update(key, 'utf8').digest();

/** Burnt session ids kept beyond the process (parties/id-journal.ts). */
export interface BurntIds {
  has(id: string): boolean;
  add(id: string): void;
}

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  /** Forgotten ids still refused, oldest first, with performance.now() at their forgetting: the process's monotonic clock,
   * so insertion order is age order (forget drops from the front) and no wall-clock step frees one before tombstoneMs. */
  private readonly tombstones = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly waiters = new Map<string, Set<() => void>>();
  /** Unfinished sessions per owner. */
  private readonly perOwner = new Map<string, number>();
  private active = 0;

  constructor(private readonly opts: StoreOptions, private readonly onFail: (s: Session, e: MpcError) => void = () => {}, private readonly burnt?: BurntIds) {}

  /** E_CONFLICT if `id` is in use or was used before (here, or before a restart where there is a journal). */
  checkFree(id: string): void {
    if (this.sessions.has(id) || this.tombstones.has(id) || this.burnt?.has(id)) throw new MpcError('E_CONFLICT', `session ${id} already exists or was used before`);
  }

  create(id: string, batch: number, deadlineMs: number, owner: string, keyHash: Buffer): Session {
    this.checkFree(id);
    const mine = this.perOwner.get(owner) ?? 0;
    if (mine >= this.opts.maxPerClient) throw new MpcError('E_QUOTA', `this client has ${mine} sessions in flight, its quota (sessions.maxPerClient); retry when one has finished`);
    if (this.active >= this.opts.maxSessions) throw new MpcError('E_OVERLOADED', `too many sessions in flight (${this.opts.maxSessions}); retry later`);
    const now = Date.now();
    const s: Session = { id, owner, keyHash, batch, createdAt: now, deadlineAt: now + deadlineMs, state: 'created', readyPeers: new Set(), queued: false };
    this.sessions.set(id, s);
    this.burnt?.add(id);
    this.active += 1;
    this.perOwner.set(owner, mine + 1);
    const t = setTimeout(() => this.fail(s, new MpcError('E_DEADLINE', `session ${id} did not finish within its deadline of ${deadlineMs} ms`)), deadlineMs);
    t.unref();
    this.timers.set(id, t);
    return s;
  }

  get(id: string): Session | undefined { return this.sessions.get(id); }

  require(id: string): Session {
    const s = this.sessions.get(id);
    if (!s) throw new MpcError('E_NOT_FOUND', `unknown session ${id}`);
    return s;
  }

  /**
   * The session `id` if `owner` created it with `key`; otherwise the same
   * E_NOT_FOUND as an unknown id (the key's hash is compared in constant
   * time), so a caller learns nothing of other clients' sessions.
   */
  owned(id: string, owner: string, key: string | undefined): Session {
    const s = this.sessions.get(id);
    const ok = s !== undefined && key !== undefined && s.owner === owner && timingSafeEqual(s.keyHash, sessionKeyHash(key));
    if (!ok) throw new MpcError('E_NOT_FOUND', `unknown session ${id}`);
    return s;
  }

  /** At creation: the request's privacy options, the policy resolved from them, and the budget reserved for it. */
  attachPolicy(s: Session, policy: ResolvedPolicy, request: PrivacyRequest | undefined, reservation: Reservation | undefined): void {
    s.policy = policy;
    if (request) s.privacyRequest = structuredClone(request);
    if (reservation) s.reservation = reservation;
  }

  /** The reservation to commit or release, taken off the session (at most once). */
  takeReservation(s: Session): Reservation | undefined {
    const r = s.reservation;
    delete s.reservation;
    return r;
  }

  /** P0: a peer reported the session ready (P1: input received, P2: created). */
  markPeerReady(s: Session, from: PartyId): void { s.readyPeers.add(from); }

  /** P0: the session joined the batcher's queue; `ahead`: before both peers' reports (planning ahead). */
  markQueued(s: Session, ahead: boolean): void {
    s.queued = true;
    if (ahead) s.plannedAhead = true;
  }

  setInput(s: Session, input: BigUint64Array): void {
    if (s.input || s.state !== 'created') throw new MpcError('E_CONFLICT', `session ${s.id}: input already uploaded or session ${s.state}`);
    s.input = input;
    s.state = 'input-received';
  }

  markRunning(s: Session, runId: string): void {
    if (isTerminal(s)) return;
    s.state = 'running';
    s.runId = runId;
  }

  /** A deferred run (run-planner.ts): the session waits again, as before the run, out of the batcher's queue. */
  unmarkRunning(s: Session): void {
    if (s.state !== 'running') return;
    s.state = s.input ? 'input-received' : 'created';
    delete s.runId;
    s.queued = false;
  }

  complete(s: Session, output: BigUint64Array | undefined, shape: number[], mode: OutputMode = 'logits', sentinel?: BigUint64Array): void {
    if (isTerminal(s)) return;
    s.state = 'done';
    if (output) s.output = output;
    if (sentinel) s.sentinel = sentinel;
    s.outputShape = shape;
    s.outputMode = mode;
    this.settle(s);
  }

  fail(s: Session, e: MpcError): void {
    if (isTerminal(s)) return;
    s.state = 'failed';
    // Shown to the session's client: no run id or other session's id (run-view.ts clientError).
    s.error = clientError(e, s.id);
    this.onFail(s, e);
    this.settle(s);
  }

  private settle(s: Session): void {
    this.active -= 1;
    const left = (this.perOwner.get(s.owner) ?? 1) - 1;
    if (left > 0) this.perOwner.set(s.owner, left);
    else this.perOwner.delete(s.owner);
    delete s.input;
    const t = this.timers.get(s.id);
    if (t) clearTimeout(t);
    const gc = setTimeout(() => this.forget(s.id), this.opts.retentionMs);
    gc.unref();
    this.timers.set(s.id, gc);
    const ws = this.waiters.get(s.id);
    this.waiters.delete(s.id);
    for (const w of ws ?? []) w();
  }

  private forget(id: string): void {
    this.sessions.delete(id);
    this.timers.delete(id);
    this.tombstones.set(id, performance.now());
    if (this.tombstones.size > this.opts.maxTombstones) {
      // Oldest first (a Map iterates in insertion order): drop the expired ones and those over the cap, and stop at the
      // first that is neither. Walking the whole table instead cost O(maxTombstones) per session once it was full
      // (~100k entries after ~100k sessions). The times are monotonic, so the first kept one has no expired one behind it.
      const cutoff = performance.now() - this.opts.tombstoneMs;
      for (const [k, at] of this.tombstones) {
        if (!(at < cutoff || this.tombstones.size > this.opts.maxTombstones)) break;
        this.tombstones.delete(k);
      }
    }
  }

  /** Resolves when `s` is terminal or after timeoutMs, whichever first. */
  wait(s: Session, timeoutMs: number): Promise<void> {
    if (isTerminal(s)) return Promise.resolve();
    return new Promise((resolve) => {
      let set = this.waiters.get(s.id);
      if (!set) this.waiters.set(s.id, (set = new Set()));
      const done = () => { clearTimeout(t); set.delete(done); resolve(); };
      const t = setTimeout(done, Math.max(0, timeoutMs));
      set.add(done);
    });
  }

  /** Fail every session that is not finished yet. */
  failAll(e: (s: Session) => MpcError): void {
    for (const s of [...this.sessions.values()]) if (!isTerminal(s)) this.fail(s, e(s));
  }

  all(): IterableIterator<Session> { return this.sessions.values(); }
  get activeCount(): number { return this.active; }

  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const ws of this.waiters.values()) for (const w of ws) w();
    this.waiters.clear();
  }
}
