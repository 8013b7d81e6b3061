/**
 * A malicious party's epoch and mask pool (protocol/malicious/epoch.ts,
 * mask-pool.ts; docs/MALICIOUS.md "Epochs and the offline phase"). The
 * desk (malicious-desk.ts) calls `begin` at the start of every client
 * session, on the session's mesh view:
 *
 *  1. Hello (set-up messages, not counted): each party sends both peers its
 *     epoch id (zeros: none, or due to rotate), its session counter (an
 *     honest party never repeats one), the session's batch, its pool floor
 *     (the lowest entry number it has not consumed), the number of the pool
 *     entry it proposes (its oldest free one, reserved) and, when 'binary',
 *     its comparisons' domain (config malicious.comparisons: a hello without
 *     the field, as a build before it sends, says 'arithmetic'), and sends
 *     its next party a fresh seed (used only for a new epoch). Another batch
 *     or another comparisons' domain at any party: every party refuses the
 *     session there (E_SHAPE, E_SETTINGS_MISMATCH), before any share.
 *  2. Epoch: when the three epoch ids are equal and set, the session runs in
 *     that epoch; otherwise every party discards its own and the three set
 *     up a new one on this view (epoch pair seeds = the fresh seeds;
 *     setupEpoch: key, weights' copy check and MACs, MAC check).
 *  3. Entry, decided as soon as the three hellos are in (the same decision
 *     at the three parties): taken when the epoch is kept and the three
 *     proposals are the same number, else released (the masks are then made
 *     inline); in a kept epoch every party then raises its floor to the
 *     highest of the three (MaskPool.raiseFloor), retiring the entries below
 *     it unused. A party that fails after sending its hello but before it
 *     has the other two retires its proposal (the others may have taken
 *     it); one that fails later has already decided like the others. So an
 *     entry any party may have used is never used again, and after a party
 *     failed at this point the three agree again on the next session (the
 *     floors re-converge).
 *  4. The session's label `s:<id>:<c0>:<c1>:<c2>` derives its pair seeds
 *     from the epoch's (deriveSeeds).
 *
 * Rotation: after any E_INTEGRITY (`failed`), the epoch and its pool are
 * dropped here; the next hello then shows different ids and all three set up
 * a new one. A party also proposes none after `epochSessions` sessions.
 * The pool's entries follow the plan of one comparisons' domain (the binary
 * one asks for no comparison masks: its daBits and triples are made inline):
 * the plan and the epoch record the domain they were made for, and a
 * session of the other domain drops both (a new epoch, a new plan recorded),
 * so an entry made for one domain is never used by the other.
 *
 * Offline phase (`kick`): the first successful session of a model records
 * its mask requests (the plan). Then, in each epoch, batches b = 0, 1, ...
 * of ONE inference each run on the view `mal-off-<epoch>-<b>` while the
 * number of batches made is below (entries consumed: taken or retired) + poolInferences, capped
 * by poolMaxBytes / (bytes of one entry). Each party decides from the same
 * counts (consumed entries follow from the hellos), so the three run the same
 * batches; timing differs only, and the mesh buffers early messages. A batch
 * waits until this party has no client session open (idle; one that has its
 * masks and waits for its input counts: malicious-pool-idle.test.ts). A batch that
 * fails with E_INTEGRITY drops the epoch; any other failure (the deadline)
 * stops this epoch's pool at this party (its sessions then make masks inline).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createContext } from '../protocol/context.js';
import { isMpcError, MpcError } from '../protocol/errors.js';
import type { ModelIR } from '../protocol/ir.js';
import { deriveSeeds, setupEpoch } from '../protocol/malicious/epoch.js';
import { MaskPool, materialBytes, offlineBatch } from '../protocol/malicious/mask-pool.js';
import { MaskRecorder, type MaskEntry, type MaskRequest } from '../protocol/malicious/mask-source.js';
import type { MalComparisons } from '../protocol/malicious/primitives.js';
import type { Rep } from '../protocol/malicious/rep.js';
import { createMalSession } from '../protocol/malicious/session.js';
import type { MTensor } from '../protocol/malicious/tensor.js';
import type { RepTensor } from '../protocol/malicious/weights.js';
import type { PartyId } from '../protocol/ring/types.js';
import type { Transport } from '../protocol/transport/transport.js';
import { kernelsFor } from '../runtime/kernels.js';
import { errFields } from './log.js';
import { cheating } from './malicious-cheat.js';
import type { PartyCore } from './party-core.js';
import type { SessionTransport } from './session-transport.js';

export const DEFAULT_MALICIOUS = Object.freeze({ epochSessions: 1000, poolInferences: 2, poolMaxBytes: 256 * 2 ** 20, comparisons: 'arithmetic' as MalComparisons, clientWaitMs: 30_000 });

export interface Epoch {
  readonly id: string;
  readonly pair: (Uint8Array | undefined)[];
  readonly alpha: Rep;
  readonly weights: ModelIR<MTensor>;
  sessions: number;
  batches: number;
  entryBytes: number | null;
  poolOff: boolean;
  readonly pool: MaskPool;
  /** The comparisons' domain its pool's entries are made for (the plan's). */
  readonly comparisons: MalComparisons;
}

export interface Begun {
  epoch: Epoch;
  /** The session's label (its pair seeds are derived from the epoch's with it). */
  label: string;
  entry: MaskEntry | null;
  recorder: MaskRecorder | null;
}

/** Offline-phase counters of this party (tests, the bench, diagnostics). */
export interface OfflineStats { epochs: number; batches: number; bytesSent: number; rounds: number; ms: number; lastEntryBytes: number }

const ID_BYTES = 16;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/**
 * Hello: epoch id (16 bytes), session counter (4), the session's batch (4), the pool floor (4), the proposed entry
 * number (4; NONE: none); with 'binary' comparisons 4 bytes more (1). Without them (32 bytes): 'arithmetic', as a
 * build before the setting sends, so an arithmetic party still speaks to one.
 */
const HELLO_BYTES = ID_BYTES + 16;
const HELLO_BIN_BYTES = HELLO_BYTES + 4;
const NONE = 0xffffffff;

interface Hello { id: string; counter: number; batch: number; floor: number; entry: number; comparisons: MalComparisons }

function hello(epochId: Uint8Array, h: Omit<Hello, 'id'>): Uint8Array {
  const out = new Uint8Array(h.comparisons === 'binary' ? HELLO_BIN_BYTES : HELLO_BYTES);
  out.set(epochId, 0);
  const dv = new DataView(out.buffer);
  [h.counter, h.batch, h.floor, h.entry].forEach((v, i) => dv.setUint32(ID_BYTES + 4 * i, v));
  if (h.comparisons === 'binary') dv.setUint32(HELLO_BYTES, 1);
  return out;
}

function parseHello(b: Uint8Array, party: PartyId, from: PartyId): Hello {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if ((b.byteLength !== HELLO_BYTES && b.byteLength !== HELLO_BIN_BYTES) || (b.byteLength === HELLO_BIN_BYTES && dv.getUint32(HELLO_BYTES) !== 1)) throw new MpcError('E_INTEGRITY', `P${from} sent a malformed session hello (${b.byteLength} bytes)`, { party, step: 'mal.hello' });
  const u = (i: number) => dv.getUint32(ID_BYTES + 4 * i);
  return { id: hex(b.subarray(0, ID_BYTES)), counter: u(0), batch: u(1), floor: u(2), entry: u(3), comparisons: b.byteLength === HELLO_BIN_BYTES ? 'binary' : 'arithmetic' };
}

export class MalEpochs {
  epoch: Epoch | null = null;
  plan: readonly MaskRequest[] | null = null;
  /** The comparisons' domain `plan` was recorded with. */
  private planComparisons: MalComparisons | null = null;
  readonly stats: OfflineStats = { epochs: 0, batches: 0, bytesSent: 0, rounds: 0, ms: 0, lastEntryBytes: 0 };
  private counter = 0;
  private chain: Promise<void> = Promise.resolve();
  private running = false;
  private closed = false;
  private offView: SessionTransport | null = null;
  private idleWaiters: (() => void)[] = [];

  /**
   * `busy`: whether the desk has a client session open (in its set-up, waiting for its input, or running); `cheat`: the tag
   * prefix of the test-only cheating switch of scope 'offline'
   * (malicious-cheat.ts), used in this party's first offline batch.
   */
  constructor(private readonly c: PartyCore, private readonly busy: () => boolean, private cheat: string | null = null) {}

  private get opts() { return { ...DEFAULT_MALICIOUS, ...this.c.opts.malicious }; }

  /**
   * Steps 1-4 on the session's view (`transport`: the view, or the test-only cheating wrapper of it); `comparisons`:
   * the session's domain (the desk's config); `hellosIn`: called once the three hellos are in (the desk's bound on the
   * wait for them, malicious.clientWaitMs, ends there).
   */
  async begin(view: SessionTransport, transport: Transport, sid: string, weights: ModelIR<RepTensor>, batch = 1, comparisons: MalComparisons = 'arithmetic', hellosIn?: () => void): Promise<Begun> {
    const p = this.c.party, nxt = ((p + 1) % 3) as PartyId, prv = ((p + 2) % 3) as PartyId;
    // A plan and a pool made for the other domain are never used: dropped here (a new epoch, a new plan recorded).
    if (this.planComparisons !== null && this.planComparisons !== comparisons) { this.plan = null; this.planComparisons = null; }
    if (this.epoch && this.epoch.comparisons !== comparisons) this.discard();
    const ep = this.epoch && this.epoch.sessions < this.opts.epochSessions ? this.epoch : null;
    // Pool entries and the plan are for one image: a batch makes its masks inline.
    let proposal = ep && batch === 1 ? ep.pool.propose() : null;
    const seq = proposal === null ? NONE : ep!.pool.seqOf(proposal)!;
    const counter = this.counter++;
    const mine = hello(ep ? Buffer.from(ep.id, 'hex') : new Uint8Array(ID_BYTES), { counter, batch, floor: ep?.pool.floor ?? 0, entry: seq, comparisons });
    const seed = randomBytes(16);
    const zero = '0'.repeat(2 * ID_BYTES);
    let sent = false;
    let entry: MaskEntry | null = null;
    try {
      view.sendSetup(nxt, 'mal-hello', mine);
      view.sendSetup(prv, 'mal-hello', mine);
      sent = true;
      view.sendSetup(nxt, 'mal-seed', seed);
      const hs: Hello[] = [];
      hs[p] = parseHello(mine, p, p);
      hs[nxt] = parseHello(await view.recvSetup(nxt, 'mal-hello'), p, nxt);
      hs[prv] = parseHello(await view.recvSetup(prv, 'mal-hello'), p, prv);
      hellosIn?.();
      const keep = ep !== null && hs.every((h) => h.id === ep.id) && ep.id !== zero;
      // Step 3 at once, from the three hellos only (the other two decide the same, whatever fails after).
      if (keep && ep) {
        if (proposal !== null && hs.every((h) => h.entry === seq)) entry = ep.pool.take(proposal);
        else if (proposal !== null) ep.pool.release(proposal);
        proposal = null;
        ep.pool.raiseFloor(Math.max(...hs.map((h) => h.floor)));
      }
      const got = await view.recvSetup(prv, 'mal-seed');
      if (got.byteLength !== 16) throw new MpcError('E_INTEGRITY', `P${prv} sent a pair seed of ${got.byteLength} bytes`, { party: p, step: 'mal.seed' });
      // The client must ask the three parties for the same batch: else no party runs (before any share).
      if (!hs.every((h) => h.batch === batch)) throw new MpcError('E_SHAPE', `the client asked the parties for different batch sizes (${hs.map((h) => h.batch).join(', ')}) in one malicious session`, { party: p, step: 'mal.hello' });
      // The three must run the same comparisons (their messages differ): else no party runs (before any share).
      if (!hs.every((h) => h.comparisons === comparisons)) throw new MpcError('E_SETTINGS_MISMATCH', `malicious.comparisons: ${hs.map((h, q) => `P${q} has ${h.comparisons}`).join(', ')} (must be the same at the three parties)`, { party: p, step: 'mal.hello' });
      let epoch: Epoch;
      if (keep && ep) epoch = ep;
      else {
        if (proposal !== null && ep) ep.pool.release(proposal);
        proposal = null;
        this.discard();
        const pair: (Uint8Array | undefined)[] = [undefined, undefined, undefined];
        pair[nxt] = seed;
        pair[prv] = got.slice();
        const id = createHash('sha256').update('mal.epoch.id').update(sid).update(hs.map((h) => `${h.id}:${h.counter}`).join(',')).digest().subarray(0, ID_BYTES);
        const ctx = createContext(p, transport, deriveSeeds(pair, 'epoch', randomBytes(16)), { fracBits: this.c.model!.info.fracBits, kernels: kernelsFor(this.c.opts.kernels) });
        const s = await createMalSession(ctx);
        const w = await setupEpoch(s, weights);
        epoch = { id: hex(id), pair, alpha: s.alpha, weights: w, sessions: 0, batches: 0, entryBytes: null, poolOff: false, pool: new MaskPool(), comparisons };
        this.epoch = epoch;
        this.stats.epochs++;
        this.c.log.info({ epoch: epoch.id.slice(0, 8) }, 'malicious epoch set up');
      }
      epoch.sessions++;
      const recorder = !this.plan && !entry && batch === 1 ? new MaskRecorder() : null;
      this.kick();
      return { epoch, label: `s:${sid}:${hs.map((h) => h.counter).join(':')}`, entry, recorder };
    } catch (e) {
      // Not decided yet: after the hello went out, another party may have taken the entry: retire it; before, give it back
      // (nothing to do when the epoch was discarded meanwhile: its pool is gone).
      if (proposal !== null && ep && this.epoch === ep) (sent ? ep.pool.retire(proposal) : ep.pool.release(proposal));
      this.kick();
      throw e;
    }
  }

  /** A session of `comparisons` succeeded: keep the plan it recorded (the first one of the model in that domain), and refill. */
  succeeded(recorder: MaskRecorder | null, comparisons: MalComparisons = 'arithmetic'): void {
    if (recorder && !this.plan && (this.epoch === null || this.epoch.comparisons === comparisons)) { this.plan = recorder.plan; this.planComparisons = comparisons; }
    this.kick();
  }

  /** A session or batch failed: E_INTEGRITY drops the epoch (a failed check may have leaked on its key). */
  failed(epoch: Epoch | null, e: unknown): void {
    if (isMpcError(e) && e.code === 'E_INTEGRITY' && (epoch === null || this.epoch === epoch)) this.discard();
  }

  /** Drop the epoch, its pool and its running batch. */
  discard(): void {
    if (this.epoch) this.c.log.info({ epoch: this.epoch.id.slice(0, 8) }, 'malicious epoch discarded');
    this.epoch?.pool.clear();
    this.epoch = null;
    this.offView?.close(new MpcError('E_PEER_UNAVAILABLE', 'the epoch of this offline batch was discarded'));
  }

  /** Called by the desk when its last open client session ends (none in its set-up either). */
  wake(): void {
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Resolves when no offline batch runs or is due (tests, the bench). */
  async settled(): Promise<void> {
    for (;;) {
      const c = this.chain;
      await c;
      if (c === this.chain && !this.running) return;
    }
  }

  private want(ep: Epoch): boolean {
    const o = this.opts;
    if (this.closed || !this.plan || this.planComparisons !== ep.comparisons || ep.poolOff || this.epoch !== ep || o.poolInferences === 0) return false;
    const cap = ep.entryBytes === null ? o.poolInferences : Math.min(o.poolInferences, Math.floor(o.poolMaxBytes / Math.max(1, ep.entryBytes)));
    return ep.batches < ep.pool.consumed + cap;
  }

  /** Run the batches due, one after the other. */
  private kick(): void {
    const ep = this.epoch;
    if (this.running || !ep || !this.want(ep)) return;
    this.running = true;
    this.chain = (async () => {
      try {
        while (this.want(ep)) {
          if (this.busy()) await new Promise<void>((r) => this.idleWaiters.push(r));
          if (!this.want(ep)) break;
          await this.batch(ep, ep.batches++);
        }
      } finally {
        this.running = false;
      }
    })();
  }

  private async batch(ep: Epoch, b: number): Promise<void> {
    const p = this.c.party, t0 = Date.now();
    let view: SessionTransport | null = null;
    let timer: NodeJS.Timeout | undefined;
    try {
      const v = view = this.c.mesh.openSession(`mal-off-${ep.id}-${b}`);
      this.offView = view;
      // Twice a session's deadline: a peer may still be in a client session this party already left (it failed here
      // after its hello); that session ends by its deadline, then the peer joins this batch (the mesh buffers till then).
      const deadlineMs = 2 * this.c.opts.sessions.defaultDeadlineMs;
      timer = setTimeout(() => v.close(new MpcError('E_DEADLINE', `offline batch ${b} passed its deadline of ${deadlineMs} ms`, { party: p })), deadlineMs);
      timer.unref();
      const cheat = this.cheat;
      this.cheat = null; // one batch only
      const ctx = createContext(p, cheat ? cheating(view, cheat, (tag) => this.c.log.warn({ epoch: ep.id.slice(0, 8), batch: b, tag }, 'test cheat: message altered')) : view, deriveSeeds(ep.pair, `offline:${b}`, randomBytes(16)), { fracBits: this.c.model!.info.fracBits, kernels: kernelsFor(this.c.opts.kernels) });
      const s = await createMalSession(ctx, { alpha: ep.alpha });
      const entries = await offlineBatch(s, this.plan!, 1, `${ep.id.slice(0, 8)}.${b}`);
      const bytes = materialBytes(entries[0]);
      this.stats.batches++;
      this.stats.bytesSent += view.counters.bytesSent;
      this.stats.rounds += view.counters.depth;
      this.stats.ms += Date.now() - t0;
      this.stats.lastEntryBytes = bytes;
      this.c.log.info({ epoch: ep.id.slice(0, 8), batch: b, bytesSent: view.counters.bytesSent, rounds: view.counters.depth, ms: Date.now() - t0, entryBytes: bytes }, 'malicious offline batch done');
      if (this.epoch !== ep) return;
      ep.entryBytes = bytes;
      if (bytes > this.opts.poolMaxBytes) { ep.poolOff = true; return; }
      ep.pool.add(entries, bytes, b);
    } catch (e) {
      this.c.log.warn({ epoch: ep.id.slice(0, 8), batch: b, ...errFields(e) }, 'malicious offline batch failed');
      if (isMpcError(e) && e.code === 'E_INTEGRITY') this.failed(ep, e);
      else ep.poolOff = true;
    } finally {
      clearTimeout(timer);
      view?.close();
      if (this.offView === view) this.offView = null;
    }
  }

  close(): void {
    this.closed = true;
    this.discard();
    this.wake();
  }
}
