/**
 * The malicious mode served by a party (docs/MALICIOUS.md "The client";
 * protocol/malicious/client-io.ts numbers the steps). One client session is
 * one protocol run over its own view of the mesh (session-transport.ts), with
 * the three parties talking pairwise (P0<->P1, P1<->P2, P2<->P0), in the
 * party's current epoch (malicious-epoch.ts: one MAC key and one set of
 * weight MACs for many sessions, a pool of masks made ahead):
 *
 *  mask (POST /v1/malicious/:id/mask, http-malicious.ts), at each party:
 *   a. open the mesh view `mal-<id>`; the hello (MalEpochs.begin: epoch ids,
 *      session counters, the batch, the proposed pool entry, the comparisons'
 *      domain (config malicious.comparisons: another at any party is
 *      E_SETTINGS_MISMATCH at each, before any share); set-up messages, not
 *      counted); a new epoch on this view when the three do not share one
 *      (its key, the weights' copy check and MACs, a MAC check);
 *   b. createMalSession with the epoch's key, on pair seeds derived from the
 *      epoch's with the session's label; masks from the agreed pool entry,
 *      else made inline (recorded, in the model's first session);
 *   c. inputMask: [r] MACed; this party's shares (r_i, r_{i+1}) go to the client.
 *  input (POST /v1/malicious/:id/input, body d = x - r), at each party:
 *   d0. the three compare a digest of their d (set-up messages): another d at
 *      any party is the client's fault, E_SESSION_BINDING at each, before
 *      anything is computed (the epoch is kept); only when the three announce
 *      the step (link setting maliciousInputDigest: a peer on a build before it
 *      skips it, and so do the other two, as that build ran);
 *   d. inputFromClient, malForward over the epoch's MACed weights (with the
 *      configured comparisons: 'arithmetic', or 'binary', protocol/malicious/binary/),
 *      outputToClient (the batched MAC check, then the shares of
 *      y + 2^64 rho) answered to the client.
 *
 * Any failure (a copy check or MAC check that fails is E_INTEGRITY) ends the
 * run at this party: the view closes, the state is dropped, the party keeps
 * serving the next session; E_INTEGRITY also drops the epoch (a new key and
 * weight MACs before the next session). Nothing falls back to the semi-honest protocol.
 * A session carries `batch` images (1..batch.maxBatch; the three parties must
 * be asked for the same, which the hello checks), run as one forward pass of
 * batch N; masks from the pool only at batch 1 (the plan is recorded at
 * batch 1), else made inline. At most batch.maxConcurrentRuns sessions
 * are open (set-up or awaiting their input) at a party: beyond, E_OVERLOADED.
 * A session waits on its client at most malicious.clientWaitMs twice: for the
 * other two parties' hellos (its mask requests reaching them), then, set up,
 * for its input; beyond, E_TIMEOUT, told to the peers (control 'mal-drop'),
 * so an abandoned session frees its slots then, not at its deadline.
 *
 * Test-only cheating switch (SECURENN_TEST_CHEAT, malicious-cheat.ts): the
 * party alters one message of its first session, or of its first offline
 * batch (malicious-epoch.ts); refused unless NODE_ENV is 'test'.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createContext } from '../protocol/context.js';
import { deriveSeeds } from '../protocol/malicious/epoch.js';
import type { MaskRecorder } from '../protocol/malicious/mask-source.js';
import { isMpcError, MpcError } from '../protocol/errors.js';
import { inputFromClient, inputMask, outputToClient } from '../protocol/malicious/client-io.js';
import type { MShare } from '../protocol/malicious/rep.js';
import type { MalComparisons } from '../protocol/malicious/primitives.js';
import { malForward } from '../protocol/malicious/runner.js';
import { createMalSession, type MalSession } from '../protocol/malicious/session.js';
import type { MTensor } from '../protocol/malicious/tensor.js';
import type { RepTensor } from '../protocol/malicious/weights.js';
import type { ModelIR } from '../protocol/ir.js';
import type { PartyId } from '../protocol/ring/types.js';
import { kernelsFor } from '../runtime/kernels.js';
import { errFields, sessionTag } from './log.js';
import { clientDeadlineMs, peersOf, UUID, type PartyCore } from './party-core.js';
import type { SessionTransport } from './session-transport.js';
import { DEFAULT_MALICIOUS, MalEpochs, type Epoch } from './malicious-epoch.js';
import { sessionKeyHash } from './sessions.js';

import { cheating, cheatSwitch, type CheatSwitch } from './malicious-cheat.js';
import { policyRefusal } from './malicious-refusals.js';
import { resolveModelPolicy } from './model-policy.js';

export { CHEAT_ENV, cheatSwitch } from './malicious-cheat.js';

interface MalRun {
  id: string;
  owner: string;
  /** SHA-256 of the client's session key (sessions.ts sessionKeyHash): the key itself is not kept. */
  keyHash: Buffer;
  view: SessionTransport;
  s: MalSession;
  w: ModelIR<MTensor>;
  mask: MShare;
  timer: NodeJS.Timeout;
  /** malicious.clientWaitMs after the mask step: the run ends if its input has not come by then. */
  idle: NodeJS.Timeout;
  busy: boolean;
  epoch: Epoch;
  recorder: MaskRecorder | null;
  /** Whether the masks come from a pool entry. */
  pooled: boolean;
  /** Images in this session. */
  batch: number;
  /** The comparisons' domain (config malicious.comparisons, as the three agreed at the hello). */
  comparisons: MalComparisons;
  /** Whether step d0 runs: the three parties announce maliciousInputDigest (decided at the mask step). */
  digest: boolean;
}

/** Ids remembered by the desk (a peer's early drop, a run ended while waiting for its input): 60 s, at most 10,000. */
const REMEMBER_MS = 60_000, REMEMBER_MAX = 10_000;
/** Set k in the map after dropping, oldest first, the entries past REMEMBER_MS and those over REMEMBER_MAX. */
function remember<V extends { at: number }>(m: Map<string, V>, k: string, v: V): void {
  for (const [old, e] of m) { if (v.at - e.at <= REMEMBER_MS && m.size < REMEMBER_MAX) break; m.delete(old); }
  m.set(k, v);
}
/** Whether a remembered entry is still within REMEMBER_MS. */
const recent = (e: { at: number }): boolean => performance.now() - e.at <= REMEMBER_MS;

export class MaliciousDesk {
  private readonly runs = new Map<string, MalRun>();
  /** This party's counters of its last successful run (bytes sent, round depth, whether its masks came from the pool): tests and diagnostics. */
  last: { bytesSent: number; rounds: number; pooled: boolean; epoch: string; comparisons: MalComparisons } | null = null;
  /** The epoch and the offline phase (malicious-epoch.ts). */
  readonly epochs: MalEpochs;
  /** Runs in their set-up (mask), not yet in `runs`. */
  private starting = 0;
  /** Their views by session id, closed by fault() and by a peer's drop. */
  private readonly startingViews = new Map<string, SessionTransport>();
  /** Sessions a peer dropped before their mask step reached this party (id -> when, which peer), refused when it does. */
  private readonly droppedEarly = new Map<string, { at: number; from: PartyId }>();
  /** Runs ended while waiting for their input (clientWaitMs, a peer's drop, a link down, the deadline): their late input gets why (60 s, at most 10 000). */
  private readonly endedWaiting = new Map<string, { at: number; owner: string; keyHash: Buffer; err: MpcError }>();
  /** Errors this party made from a peer's drop: not told back to the peers. */
  private readonly fromPeer = new WeakSet<object>();
  /** Set by fault() (process-fault.ts): no new run; the open ones fail with it. */
  private faultErr: MpcError | null = null;
  /** The test-only cheating switch of scope 'session' (malicious-cheat.ts), until used. */
  private cheat: CheatSwitch | null;

  constructor(private readonly c: PartyCore, private readonly weights: () => ModelIR<RepTensor> | null) {
    const cheat = cheatSwitch(c.party);
    this.cheat = cheat?.scope === 'session' || cheat?.scope === 'pooled' ? cheat : null;
    // Busy while any client session is open here, also one that has its masks and waits for its input: an offline
    // batch started in that gap (a few ms) ran beside the session's whole online phase, on the same cores.
    this.epochs = new MalEpochs(c, () => this.starting + this.runs.size > 0, cheat?.scope === 'offline' ? cheat.prefix : null);
  }

  get open(): number { return this.runs.size; }
  /** Runs in their set-up (the mask step), not yet open (tests, diagnostics). */
  get settingUp(): number { return this.starting; }

  /**
   * Steps a-d: this party's shares of the client's mask r for `batch` images (32 n bytes: r_i then r_{i+1}).
   * `deadlineMs`: the client's (1..sessions.maxDeadlineMs), as a semi-honest session takes it; default the config's.
   */
  async mask(rawId: string, owner: string, key: string, batch = 1, deadlineMs?: number): Promise<Uint8Array> {
    const id = rawId.toLowerCase();
    try {
      return await this.maskStep(id, owner, key, batch, deadlineMs);
    } catch (e) {
      // The other two parties hold this session open (set up, or waiting for this party's hello) until its deadline
      // unless told: each refusal here (E_OVERLOADED above all) held one of their batch.maxConcurrentRuns slots for
      // the client's whole deadline, so refusals fed themselves under load (bench/reuse-probe.ts). Not for E_CONFLICT:
      // the id is in use here, maybe by another client's session, which a caller who knows its id must not end.
      if (!(isMpcError(e) && e.code === 'E_CONFLICT') && !this.fromPeer.has(e as object)) this.tellPeers(id);
      throw e;
    }
  }

  /** Tell the other two parties that session `id`'s mask step failed here (control 'mal-drop'; a link that is down: nothing to tell). */
  private tellPeers(id: string): void {
    for (const p of peersOf(this.c.party)) { try { this.c.mesh.sendControl(p, 'mal-drop', { sessionId: id }); } catch { /* link down: that peer fails the session itself */ } }
  }

  /**
   * Control 'mal-drop' from a peer: session `sessionId` failed at its mask step there, or waited there past clientWaitMs for
   * its input, or lost a link there (peerDown), so it can never run. Its set-up
   * here ends at once (E_PEER_UNAVAILABLE naming the peer), a run waiting for its input is dropped, and a mask step
   * that has not reached this party yet is refused when it does (for 60 s, at most 10 000 ids remembered).
   */
  peerDropped(from: PartyId, body: unknown): void {
    const id = (body as { sessionId?: unknown } | null)?.sessionId;
    if (typeof id !== 'string' || !UUID.test(id)) return;
    const sid = id.toLowerCase();
    const err = this.droppedBy(from, sid);
    const view = this.startingViews.get(sid);
    if (view) { view.close(err); return; }
    const run = this.runs.get(sid);
    if (run) {
      if (run.busy) { run.view.close(err); return; }
      this.endWaiting(run, err);
      this.idleCheck();
      return;
    }
    remember(this.droppedEarly, sid, { at: performance.now(), from });
  }

  /**
   * A peer's link went down (Party's onPeer): the mesh closed every session view, so a run waiting for its input can
   * never run; it ends now (E_PEER_UNAVAILABLE naming the peer) instead of holding its slot until its input comes or
   * clientWaitMs passes. Runs in their set-up or forward pass fail by themselves (their receive rejects). Every run is
   * told to the other peer too (mal-drop; the one down is not reached): its link may be up, and its run would wait for
   * its input, or in it for this party's messages, until clientWaitMs or its deadline (set-ups tell it from mask()).
   */
  peerDown(peer: PartyId): void {
    for (const run of [...this.runs.values()]) {
      this.tellPeers(run.id);
      if (run.busy) continue;
      this.endWaiting(run, new MpcError('E_PEER_UNAVAILABLE', `party P${peer} is unavailable`, { party: peer, step: 'mal.input' }));
    }
  }

  /** The error of a session that peer `from` dropped (E_PEER_UNAVAILABLE naming it), marked as not to be told back. */
  private droppedBy(from: PartyId, id: string): MpcError {
    const err = new MpcError('E_PEER_UNAVAILABLE', `P${from} ended malicious session ${id} (refused or failed at its mask step, its input late there, or a peer link down)`, { party: from, step: 'mal.mask' });
    this.fromPeer.add(err);
    return err;
  }

  private async maskStep(id: string, owner: string, key: string, batch: number, deadlineMs: number | undefined): Promise<Uint8Array> {
    // First of all: an id in use here (set up, open, or its view closed in the last 10 minutes) is E_CONFLICT, which
    // mask() does not tell the peers. Checked after the arguments, a second request for another client's session with
    // a batch or deadline refused here (E_BAD_ARGUMENT) was told as a mal-drop, and the peers ended that session.
    if (this.runs.has(id) || this.startingViews.has(id) || this.c.mesh.used(`mal-${id}`)) throw new MpcError('E_CONFLICT', `malicious session ${id} exists or was used at P${this.c.party}`, { party: this.c.party, step: 'mal.mask' });
    if (this.faultErr) throw new MpcError('E_NOT_READY', `P${this.c.party} is not ready: it met a process fault and is restarting`, { party: this.c.party, step: 'mal.mask' });
    const model = this.c.model;
    const w = this.weights();
    if (!model || !w) throw new MpcError('E_NOT_READY', `P${this.c.party}: no model with replicated weights loaded`, { party: this.c.party });
    const maxBatch = this.c.opts.batch.maxBatch;
    if (!Number.isInteger(batch) || batch < 1 || batch > maxBatch) throw new MpcError('E_BAD_ARGUMENT', `batch must be an integer in 1..${maxBatch}, got ${batch}`, { party: this.c.party, step: 'mal.mask' });
    // What the malicious routes cannot apply (the model's label mode or DP noise) is refused before anything is opened or sent.
    const refused = policyRefusal(this.c.party, resolveModelPolicy(model, undefined));
    if (refused) throw refused;
    const ms = clientDeadlineMs(deadlineMs, this.c.opts.sessions, { party: this.c.party, step: 'mal.mask' });
    const early = this.droppedEarly.get(id);
    if (early !== undefined) {
      this.droppedEarly.delete(id);
      if (recent(early)) throw this.droppedBy(early.from, id);
    }
    // Each open run holds its masks and intermediate values (the MACed weights are the epoch's, shared): at most batch.maxConcurrentRuns at once.
    const cap = Math.max(1, this.c.opts.batch.maxConcurrentRuns);
    if (this.starting + this.runs.size >= cap) throw new MpcError('E_OVERLOADED', `P${this.c.party} has ${cap} malicious sessions open (batch.maxConcurrentRuns); retry later`, { party: this.c.party, step: 'mal.mask' });
    this.starting++;
    let view: SessionTransport;
    try { view = this.c.mesh.openSession(`mal-${id}`); } catch (e) { this.starting--; throw e; }
    this.startingViews.set(id, view);
    // The deadline closes the view whatever the step (a receive then fails) and drops a run that waits for its input.
    const timer = setTimeout(() => this.expire(id, view, ms), ms);
    timer.unref();
    // The other two parties' hellos come when the client's mask requests reach them. Waiting for them until the
    // deadline (up to sessions.maxDeadlineMs) let a client that stopped after one or two of its three requests hold
    // this slot that long, so two such clients refused everyone else (E_OVERLOADED): at most malicious.clientWaitMs.
    const wait = this.clientWaitMs;
    const helloTimer = setTimeout(() => view.close(this.clientLate(id, 'mal.hello', wait)), wait);
    helloTimer.unref();
    let epoch: Epoch | null = null;
    try {
      const p = this.c.party;
      const cheat = this.cheat;
      if (cheat?.scope === 'session') this.cheat = null; // one session only ('pooled': the first that takes an entry, below)
      let armed = cheat?.scope === 'session';
      const transport = cheat ? cheating(view, cheat.prefix, (tag) => this.c.log.warn({ session: sessionTag(id), tag }, 'test cheat: message altered'), () => armed) : view;
      // Step a: the hello, the epoch (set up here when needed), the pool entry.
      const comparisons = this.c.opts.malicious?.comparisons ?? 'arithmetic';
      const b = await this.epochs.begin(view, transport, id, w, batch, comparisons, () => clearTimeout(helloTimer));
      if (cheat?.scope === 'pooled' && b.entry && this.cheat === cheat) { this.cheat = null; armed = true; }
      // Step d0 when the three announce it, each seeing the other two's HELLOs: the three decide the same.
      const digest = ([0, 1, 2] as PartyId[]).every((q) => this.c.mesh.settingsOf(q)?.maliciousInputDigest === true);

      epoch = b.epoch;
      const ctx = createContext(p, transport, deriveSeeds(b.epoch.pair, b.label, randomBytes(16)), { fracBits: model.info.fracBits, kernels: kernelsFor(this.c.opts.kernels) });
      // Steps b-c.
      const s = await createMalSession(ctx, { alpha: b.epoch.alpha, ...(b.entry ?? b.recorder ? { masks: (b.entry ?? b.recorder)! } : {}) });
      const n = batch * model.inputSize;
      const { r, forClient } = await inputMask(s, n);
      // The input comes right after the client has the three parties' answers: at most malicious.clientWaitMs.
      const idle = setTimeout(() => this.inputLate(id, view, wait), wait);
      idle.unref();
      this.runs.set(id, { id, owner, keyHash: sessionKeyHash(key), view, s, w: b.epoch.weights, mask: r, timer, idle, busy: false, epoch: b.epoch, recorder: b.recorder, pooled: b.entry !== null, batch, comparisons, digest });
      return forClient;
    } catch (e) {
      clearTimeout(timer);
      view.close();
      this.epochs.failed(epoch, e);
      this.failed(id, e);
      throw e;
    } finally {
      clearTimeout(helloTimer);
      this.startingViews.delete(id);
      this.starting--;
      this.idleCheck();
    }
  }

  /** Step e: [x] = [r] + d, the forward pass, the MAC check; this party's output shares (32 n bytes). */
  async input(rawId: string, owner: string, key: string | undefined, d: Uint8Array): Promise<{ shares: Uint8Array; shape: number[] }> {
    const id = rawId.toLowerCase();
    const run = this.runs.get(id);
    const gone = run ? undefined : this.endedWaiting.get(id);
    // Its client's late input (as sessions.ts owned(): the key's hash, compared in constant time): why it ended, once.
    if (gone && key !== undefined && gone.owner === owner && timingSafeEqual(gone.keyHash, sessionKeyHash(key))) {
      this.endedWaiting.delete(id);
      if (recent(gone)) throw gone.err;
    }
    // As sessions.ts owned(): the key's hash, compared in constant time.
    if (!run || key === undefined || run.owner !== owner || !timingSafeEqual(run.keyHash, sessionKeyHash(key))) throw new MpcError('E_NOT_FOUND', `no malicious session ${id} awaiting its input at P${this.c.party}`, { party: this.c.party });
    if (run.busy) throw new MpcError('E_CONFLICT', `malicious session ${id} already has its input`, { party: this.c.party, step: 'mal.input' });
    if (this.faultErr) { this.end(run); this.failed(id, this.faultErr); throw this.faultErr; }
    clearTimeout(run.idle);
    run.busy = true;
    const model = this.c.model!;
    try {
      if (run.digest) await this.sameInput(run, d);
      const x = await inputFromClient(run.s, run.mask, d);
      const y = await malForward(run.s, run.w, { shape: [run.batch, ...model.info.inputShape], data: x }, { comparisons: run.comparisons });
      const shares = await outputToClient(run.s, y.data);
      this.last = { bytesSent: run.view.counters.bytesSent, rounds: run.view.counters.depth, pooled: run.pooled, epoch: run.epoch.id, comparisons: run.comparisons };
      this.c.log.info({ session: sessionTag(id), ...this.last, epoch: run.epoch.id.slice(0, 8) }, 'malicious run done');
      this.c.metrics.runs.inc({ result: 'ok' });
      this.epochs.succeeded(run.recorder, run.comparisons);
      return { shares, shape: y.shape };
    } catch (e) {
      this.epochs.failed(run.epoch, e);
      this.failed(id, e);
      throw e;
    } finally {
      this.end(run);
      this.idleCheck();
    }
  }

  /**
   * Step d0 (set-up messages, not counted): the three compare a digest of the d each got, before anything is computed
   * with it. The client sends the same d to the three; another one at any party was caught only inside the run, as
   * E_INTEGRITY (the code of a deviating party), which also drops the epoch and its pool at the three: any client
   * could force that with every session. Now E_SESSION_BINDING at every party, nothing computed, the epoch kept. A
   * party that lies about its digest only aborts the session, as it always can (nothing keyed was opened yet, as for a
   * session that ends at its deadline). d is public to the three parties (each gets it): its digest tells them nothing.
   */
  private async sameInput(run: MalRun, d: Uint8Array): Promise<void> {
    const p = this.c.party;
    const mine = createHash('sha256').update('securenn/mal-d/v1\0').update(d).digest();
    for (const q of peersOf(p)) run.view.sendSetup(q, 'mal-d', mine);
    for (const q of peersOf(p)) {
      const got = await run.view.recvSetup(q, 'mal-d');
      if (got.byteLength !== mine.byteLength || !timingSafeEqual(got, mine)) throw new MpcError('E_SESSION_BINDING', `malicious session ${run.id}: P${q}'s digest of the input d differs from P${p}'s: the client sent them different inputs d (it must send the same d to the three), or P${q} deviated; nothing was computed`, { party: p, step: 'mal.input' });
    }
  }

  /** Wake the offline phase when no client session is open here (none in its set-up, none waiting for its input or running). */
  private idleCheck(): void {
    if (this.starting === 0 && this.runs.size === 0) this.epochs.wake();
  }

  private end(run: MalRun): void {
    clearTimeout(run.timer);
    clearTimeout(run.idle);
    run.view.close();
    this.runs.delete(run.id);
    this.idleCheck();
  }

  private expire(id: string, view: SessionTransport, ms: number): void {
    const err = new MpcError('E_DEADLINE', `malicious session ${id} passed its deadline of ${ms} ms`, { party: this.c.party });
    view.close(err);
    const run = this.runs.get(id);
    if (!run || run.busy || run.view !== view) return;
    this.endWaiting(run, err);
  }

  private get clientWaitMs(): number { return this.c.opts.malicious?.clientWaitMs ?? DEFAULT_MALICIOUS.clientWaitMs; }

  /** E_TIMEOUT: the session waited malicious.clientWaitMs on its client (for the other parties' hellos, or its input). */
  private clientLate(id: string, step: 'mal.hello' | 'mal.input', ms: number): MpcError {
    const what = step === 'mal.hello' ? 'the hellos of the other two parties (sent when the client\'s mask request reaches them) did not come' : 'its input did not come';
    return new MpcError('E_TIMEOUT', `malicious session ${id}: ${what} within malicious.clientWaitMs (${ms} ms); the session has ended, retry with a new one`, { party: this.c.party, step });
  }

  /** A set-up run whose input has not come within malicious.clientWaitMs: ended here and told to the peers (a run that has its input there ends at once). */
  private inputLate(id: string, view: SessionTransport, ms: number): void {
    const run = this.runs.get(id);
    if (!run || run.busy || run.view !== view) return;
    this.endWaiting(run, this.clientLate(id, 'mal.input', ms));
    this.tellPeers(id);
  }

  /** End a run waiting for its input with `err`, which its client's input gets if it comes late (not E_NOT_FOUND). */
  private endWaiting(run: MalRun, err: MpcError): void {
    this.end(run);
    this.failed(run.id, err);
    remember(this.endedWaiting, run.id, { at: performance.now(), owner: run.owner, keyHash: run.keyHash, err });
  }

  private failed(id: string, e: unknown): void {
    this.c.metrics.runs.inc({ result: 'failed' });
    this.c.log.warn({ session: sessionTag(id), ...errFields(e) }, 'malicious run failed');
  }

  /**
   * The process met a fault (Party.fault, process-fault.ts): no new run from now on (E_NOT_READY), and every open
   * one fails with `e`: a run in its set-up or its forward pass at once (its view closes with `e`, its client's
   * waiting request answers it), a run waiting for its input when that input comes.
   */
  fault(e: MpcError): void {
    if (this.faultErr) return;
    this.faultErr = e;
    for (const view of [...this.startingViews.values()]) view.close(e);
    for (const run of [...this.runs.values()]) run.view.close(e);
  }

  close(): void {
    for (const run of [...this.runs.values()]) this.end(run);
    this.epochs.close();
  }
}
