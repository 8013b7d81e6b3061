/**
 * The run planner: how sessions become protocol runs. All three parties see
 * the same session id.
 *  1. A session created at P2 (no input) is reported ready to P0 at once
 *     (control 'ready'); P1 reports once it has its input share.
 *  2. P0 (batch leader) queues a session once it has its own input: at once
 *     the first time (planning ahead, batch.planAheadMs > 0), else once both
 *     reports are in; the batcher forms a batch (window, max images, fair
 *     over clients) and P0 sends 'plan' {runId, sessions, batch sizes,
 *     deadline, pair seed} to P1 and P2.
 *  3. Planning ahead saves the reports' hop: P1 and P2 wait up to
 *     planAheadMs for a planned session that has not reached them yet (P1:
 *     its input, P2: the session); if one is still missing, that party sends
 *     'defer' to the other two, the run stops (its masks and triples are its
 *     own and never used again; messages already sent are dropped unread),
 *     its sessions go back to waiting, and P0 plans them again once both
 *     reports are in.
 *  4. The pair seeds of the run: P0 draws s01 and s02 (sent in the plans), P1
 *     draws s12 and sends it to P2 (SETUP message of the run). Fresh per run.
 *  5. The run executor (run-executor.ts) runs it. The plan carries each
 *     session's request options and policy key, so P1 and P2 check that they
 *     run the same policy as P0 (E_PROTOCOL_DESYNC otherwise).
 * A failed run is aborted at the peers (control 'abort' with its code).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { PartySeeds } from '../protocol/correlated/prg.js';
import { p0Bundle, type PartyBundle } from '../protocol/correlated/dealer.js';
import { ERROR_CODES, MpcError, type ErrorCode } from '../protocol/errors.js';
import type { PartyId } from '../protocol/ring/types.js';
import { Batcher, DEFAULT_PLAN_AHEAD_MS } from './batcher.js';
import { asMpcError, peersOf, sendAbort, UUID, type PartyCore, type PlanBody, type PlanEntry } from './party-core.js';
import type { PrepDriver } from './prep-driver.js';
import { shapeKey } from './preprocessing.js';
import { policyKey } from './privacy.js';
import type { RunExecutor } from './run-executor.js';
import type { SessionTransport } from './session-transport.js';
import { bindingError } from './session-binding.js';
import { isTerminal, type Session } from './sessions.js';
import { isPlanMasks, type PlanMasks } from './weight-masks.js';

export class RunPlanner {
  /** P0: forms batches of the queued sessions. */
  readonly batcher: Batcher<Session> | null;
  private readonly abortedRuns = new Map<string, number>();
  /** Runs a party deferred (control 'defer'), by id, with when. */
  private readonly deferredRuns = new Map<string, number>();
  /** P1, P2: follow() calls waiting for planned sessions to arrive; each re-checks when called. */
  private readonly arrivalWaiters = new Set<() => void>();
  /** P0: 'ready' reports that arrived before the session was created here. */
  private readonly earlyReady = new Map<string, { parties: Map<PartyId, number>; at: number }>();

  constructor(private readonly c: PartyCore, private readonly exec: RunExecutor, private readonly prep: PrepDriver) {
    this.batcher = c.party === 0 ? new Batcher<Session>(c.opts.batch, (items) => this.lead(items)) : null;
  }

  private get compareBits(): 32 | 64 { return this.c.opts.compareBits ?? 32; }
  private get compareRadix(): 2 | 4 { return this.c.opts.compareRadix ?? 4; }
  /** Whether the loaded model runs with the range sentinel (range-sentinel.ts; announced in its info). */
  private get sentinel(): boolean { return this.c.model?.info.rangeSentinel === true; }
  private get planAheadMs(): number { return this.c.opts.batch.planAheadMs ?? DEFAULT_PLAN_AHEAD_MS; }

  /** The session desk created `s`: P2 reports it to P0; P0 takes reports that came first. */
  sessionCreated(s: Session): void {
    if (this.c.party === 2) { this.reportReady(s); this.notifyArrival(); }
    else if (this.c.party === 0) this.takeEarlyReady(s);
  }

  /** The session desk took `s`'s input share: P1 reports it to P0; P0 queues it. */
  inputReceived(s: Session): void {
    if (this.c.party === 1) { this.reportReady(s); this.notifyArrival(); }
    else this.maybeQueue(s);
  }

  get queued(): number { return this.batcher?.queued ?? 0; }

  // ---- control messages ----------------------------------------------------

  private reportReady(s: Session): void {
    try {
      this.c.mesh.sendControl(0, 'ready', { sessionId: s.id, batch: s.batch });
    } catch (e) {
      this.c.store.fail(s, asMpcError(e));
      throw asMpcError(e);
    }
  }

  private takeEarlyReady(s: Session): void {
    const early = this.earlyReady.get(s.id);
    if (!early) return;
    this.earlyReady.delete(s.id);
    for (const [p, batch] of early.parties) this.peerReady(s, p, batch);
  }

  private peerReady(s: Session, from: PartyId, batch: number): void {
    if (isTerminal(s)) return;
    if (batch !== s.batch) {
      this.c.store.fail(s, new MpcError('E_SHAPE', `session ${s.id}: P${from} has batch ${batch}, P0 has ${s.batch}`, { party: from }));
      return;
    }
    this.c.store.markPeerReady(s, from);
    this.maybeQueue(s);
  }

  /** P0: queue `s` once its input is in and both reports are, or at once the first time when planning ahead. */
  maybeQueue(s: Session): void {
    if (this.c.party !== 0 || s.queued || s.state !== 'input-received') return;
    const reported = s.readyPeers.has(1) && s.readyPeers.has(2);
    if (!reported && (s.plannedAhead || this.planAheadMs === 0)) return;
    this.c.store.markQueued(s, !reported);
    this.batcher!.add(s);
  }

  /** P1, P2: wake the follow() calls waiting for planned sessions. */
  private notifyArrival(): void {
    for (const w of [...this.arrivalWaiters]) w();
  }

  /** P1, P2: whether a planned session is here to run (P1: with its input; a failed or finished one counts: it contributes zeros). */
  private arrived(id: string): boolean {
    const s = this.c.store.get(id);
    return s !== undefined && (this.c.party === 2 || s.input !== undefined || isTerminal(s));
  }

  /**
   * P1, P2: wait up to planAheadMs for the planned sessions that have not
   * arrived; false if one is still missing, or the run was deferred or
   * aborted meanwhile.
   */
  private awaitArrival(runId: string, plan: PlanEntry[]): Promise<boolean> {
    const stopped = (): boolean => this.deferredRuns.has(runId) || this.abortedRuns.has(runId) || this.c.closed;
    const all = (): boolean => plan.every((e) => this.arrived(e.id));
    if (stopped()) return Promise.resolve(false);
    if (all()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean): void => { clearTimeout(t); this.arrivalWaiters.delete(check); resolve(ok); };
      const check = (): void => { if (stopped()) done(false); else if (all()) done(true); };
      const t = setTimeout(() => done(false), this.planAheadMs);
      this.arrivalWaiters.add(check);
    });
  }

  onControl(from: PartyId, type: string, body: unknown): void {
    const b = (body ?? {}) as Record<string, unknown>;
    switch (type) {
      case 'ready': {
        if (this.c.party !== 0 || (from !== 1 && from !== 2) || typeof b.sessionId !== 'string' || typeof b.batch !== 'number') return;
        const s = this.c.store.get(b.sessionId);
        if (s) { this.peerReady(s, from, b.batch); return; }
        let e = this.earlyReady.get(b.sessionId);
        if (!e) {
          if (this.earlyReady.size >= 10_000) this.sweepEarly(true);
          this.earlyReady.set(b.sessionId, (e = { parties: new Map(), at: Date.now() }));
        }
        e.parties.set(from, b.batch);
        return;
      }
      case 'plan':
        if (from !== 0 || this.c.party === 0) return;
        void this.follow(b);
        return;
      case 'prep':
        if (from !== 0 || this.c.party === 0) return;
        void this.prep.follow(b);
        return;
      case 'prep-drop':
        if (from === 0 && typeof b.prepId === 'string') this.prep.held?.drop(b.prepId);
        return;
      case 'prepared':
        if (this.c.party === 0 && (from === 1 || from === 2)) this.prep.reported(from, b);
        return;
      case 'defer': {
        if (typeof b.runId !== 'string' || !UUID.test(b.runId) || this.deferredRuns.has(b.runId)) return;
        this.deferredRuns.set(b.runId, Date.now());
        this.exec.interrupt(b.runId, from, new MpcError('E_NOT_READY', `run ${b.runId} deferred by P${from}: a planned session had not reached it`, { party: from }), true);
        this.notifyArrival();
        return;
      }
      case 'unbound': {
        // A peer found this session's request differs from P0's plan (session-binding.ts): fail ours in that run too.
        if (typeof b.runId !== 'string' || typeof b.sessionId !== 'string') return;
        const s = this.c.store.get(b.sessionId);
        if (s && !isTerminal(s) && s.runId === b.runId) this.c.store.fail(s, bindingError(s.id, from));
        return;
      }
      case 'abort': {
        if (typeof b.runId !== 'string') return;
        const code = (typeof b.code === 'string' && b.code in ERROR_CODES ? b.code : 'E_INTERNAL') as ErrorCode;
        this.abortedRuns.set(b.runId, Date.now());
        this.exec.interrupt(b.runId, from, new MpcError(code, `run aborted by P${from} (${code})`, { party: from }));
        this.notifyArrival();
        return;
      }
      default:
        this.c.log.warn({ from, type }, 'unknown control message ignored');
    }
  }

  sweepEarly(force = false): void {
    const cutoff = Date.now() - 60_000;
    for (const [id, e] of this.earlyReady) if (e.at < cutoff || force) { this.earlyReady.delete(id); if (force && this.earlyReady.size < 5_000) break; }
    for (const [id, at] of this.abortedRuns) if (at < cutoff - 540_000) this.abortedRuns.delete(id);
    for (const [id, at] of this.deferredRuns) if (at < cutoff - 540_000) this.deferredRuns.delete(id);
  }

  // ---- runs ----------------------------------------------------------------

  /** P0: run one batch formed by the batcher. */
  private async lead(items: Session[]): Promise<void> {
    this.sweepEarly();
    const live = items.filter((s) => !isTerminal(s));
    if (live.length === 0 || !this.c.model) return;
    // With the range sentinel one s covers a whole run: one client session per run (range-sentinel.ts), in the batch's order.
    if (this.sentinel && live.length > 1) {
      for (const s of live) await this.lead([s]);
      return;
    }
    const runId = randomUUID();
    const plan: PlanEntry[] = live.map((s) => ({ id: s.id, batch: s.batch, policy: policyKey(s.policy!), ...(s.privacyRequest ? { privacy: s.privacyRequest } : {}), ...(s.binding ? { bind: s.binding } : {}) }));
    const now = Date.now();
    const deadlineMs = Math.max(1, Math.min(this.c.opts.sessions.maxDeadlineMs, Math.max(...live.map((s) => s.deadlineAt - now))));
    const s01 = randomBytes(16), s02 = randomBytes(16);
    let view: SessionTransport;
    try {
      view = this.c.mesh.openSession(runId);
    } catch (e) {
      for (const s of live) this.c.store.fail(s, asMpcError(e));
      return;
    }
    const masks = this.c.weightMasks.plan(runId, this.c.model.info.modelHash);
    const key = shapeKey(this.c.model.info.modelHash, this.compareBits, this.compareRadix, masks, plan, this.sentinel);
    // A bundle of this shape, if one is ready at P1 and P2 (never for a build run: its B is not kept yet).
    const pre = masks?.build ? null : this.prep.pool!.take(key);
    const base = { runId, modelHash: this.c.model.info.modelHash, ...(this.c.model.info.importId ? { importId: this.c.model.info.importId } : {}), sessions: plan, deadlineMs, compareBits: this.compareBits, compareRadix: this.compareRadix, rangeSentinel: this.sentinel, masks, prep: pre?.prepId ?? null };
    const sent: PartyId[] = [];
    try {
      for (const [p, seed] of [[1, s01], [2, s02]] as const) { this.c.mesh.sendControl(p, 'plan', { ...base, seed: seed.toString('base64') } satisfies PlanBody); sent.push(p); }
    } catch (e) {
      const err = asMpcError(e);
      for (const p of sent) sendAbort(this.c, p, runId, err.code);
      view.close(err);
      for (const s of live) this.c.store.fail(s, err);
      this.c.weightMasks.ended(runId, masks, false);
      return;
    }
    this.c.log.info({ run: runId, sessions: plan.length, images: plan.reduce((a, p) => a + p.batch, 0), preprocessed: pre !== null }, 'batch planned');
    const result = await this.exec.execute(runId, view, plan, deadlineMs, masks, async () => ({ pair: [undefined, s01, s02], own: randomBytes(16) }), { key, ...(pre ? { bundle: p0Bundle(pre.s02) } : {}) });
    // A failed run may be a peer that lost its pool: start again from live runs. A deferred one used only its own bundle.
    if (result === 'failed') this.prep.drop();
    else if (result === 'deferred') { if (pre) this.prep.sendDrop(pre.prepId); }
    this.prep.schedule(result === 'done' && !masks?.build ? key : undefined);
  }

  /** P1, P2: take part in a run planned by P0. */
  private async follow(b: Record<string, unknown>): Promise<void> {
    const runId = b.runId, seedB64 = b.seed, sessions = b.sessions, deadlineMs = b.deadlineMs, masks = b.masks ?? null, prep = b.prep ?? null;
    const okPlan = typeof runId === 'string' && UUID.test(runId) && typeof seedB64 === 'string' && typeof deadlineMs === 'number' && deadlineMs > 0 && Array.isArray(sessions) && isPlanMasks(masks) && (prep === null || (typeof prep === 'string' && UUID.test(prep))) &&
      sessions.every((e: unknown) => typeof (e as PlanEntry)?.id === 'string' && Number.isInteger((e as PlanEntry)?.batch) && (e as PlanEntry).batch > 0 && typeof (e as PlanEntry).policy === 'string' &&
        ((e as PlanEntry).privacy === undefined || (typeof (e as PlanEntry).privacy === 'object' && (e as PlanEntry).privacy !== null)) &&
        ((e as PlanEntry).bind === undefined || typeof (e as PlanEntry).bind === 'string'));
    if (!okPlan) { this.c.log.error({ code: 'E_PROTOCOL_DESYNC' }, 'malformed plan from P0 ignored'); if (typeof runId === 'string') sendAbort(this.c, 0, runId, 'E_PROTOCOL_DESYNC'); return; }
    const seed = Buffer.from(seedB64, 'base64');
    let view: SessionTransport;
    try {
      view = this.c.mesh.openSession(runId);
    } catch (e) {
      sendAbort(this.c, 0, runId, asMpcError(e).code);
      return;
    }
    const plan = sessions as PlanEntry[];
    // A plan without compareRadix comes from a P0 that compares in bits.
    if (b.compareBits !== this.compareBits || (b.compareRadix ?? 2) !== this.compareRadix) {
      this.fail(runId, view, plan, new MpcError('E_PROTOCOL_DESYNC', `P${this.c.party} cannot run plan ${runId}: P0 compares in ${String(b.compareBits)} bits, radix ${String(b.compareRadix ?? 2)}, this party in ${this.compareBits} bits, radix ${this.compareRadix} (compareBits and compareRadix must be the same at the three parties)`, { party: this.c.party }));
      return;
    }
    // The sentinel changes the run's messages; and one s must never cover two clients' sessions (range-sentinel.ts).
    if ((b.rangeSentinel ?? false) !== this.sentinel || (this.sentinel && plan.length !== 1)) {
      this.fail(runId, view, plan, new MpcError('E_PROTOCOL_DESYNC', `P${this.c.party} cannot run plan ${runId}: P0 ${b.rangeSentinel === true ? 'runs' : 'does not run'} the range sentinel with ${plan.length} session(s), this party ${this.sentinel ? 'runs it (one session per run)' : 'does not'} (rangeSentinel must be the same at the three parties)`, { party: this.c.party }));
      return;
    }
    if (!this.c.model || b.modelHash !== this.c.model.info.modelHash || seed.length !== 16) {
      const err = new MpcError(this.c.model ? 'E_MODEL_MISMATCH' : 'E_NOT_READY', `P${this.c.party} cannot run plan ${runId}: ${this.c.model ? 'model or seed mismatch' : 'model not loaded'}`, { party: this.c.party });
      this.fail(runId, view, plan, err);
      return;
    }
    // Another import of the same file has the same modelHash but other weight shares: computing on both gives noise.
    if (b.importId !== undefined && this.c.model.info.importId !== undefined && b.importId !== this.c.model.info.importId) {
      this.fail(runId, view, plan, new MpcError('E_MODEL_MISMATCH', `P${this.c.party} cannot run plan ${runId}: P0 holds the shares of another import of this model (importId differs; the three bundles must come from one mpc-import run)`, { party: this.c.party }));
      return;
    }
    if (this.abortedRuns.has(runId)) { view.close(new MpcError('E_PEER_UNAVAILABLE', `run ${runId} was aborted before it started`)); return; }
    // A plan made ahead of this party's report (file comment, step 3): wait for its sessions, else defer the run.
    if (!(await this.awaitArrival(runId, plan))) {
      if (!this.deferredRuns.has(runId) && !this.abortedRuns.has(runId)) {
        this.deferredRuns.set(runId, Date.now());
        const missing = plan.filter((e) => !this.arrived(e.id)).length;
        for (const p of peersOf(this.c.party)) { try { this.c.mesh.sendControl(p, 'defer', { runId }); } catch { /* link down: the peer sees that itself */ } }
        this.c.log.info({ run: runId, missing, waitedMs: this.planAheadMs }, 'run deferred: planned sessions not here');
      }
      if (this.deferredRuns.has(runId)) this.c.metrics.runs.inc({ result: 'deferred' });
      view.close();
      return;
    }
    const getSeeds = async (): Promise<PartySeeds> => {
      if (this.c.party === 1) {
        const s12 = randomBytes(16);
        view.sendSetup(2, 'seed', s12);
        return { pair: [seed, undefined, s12], own: randomBytes(16) };
      }
      const s12 = await view.recvSetup(1, 'seed');
      if (s12.byteLength !== 16) throw new MpcError('E_PROTOCOL_DESYNC', 'pair seed from P1 is not 16 bytes', { party: 1, step: 'seed' });
      return { pair: [seed, s12, undefined], own: randomBytes(16) };
    };
    const key = shapeKey(this.c.model.info.modelHash, this.compareBits, this.compareRadix, masks as PlanMasks | null, plan, this.sentinel);
    let bundle: PartyBundle | undefined;
    if (prep !== null) {
      const got = this.prep.held!.take(prep as string, key);
      if (!got) {
        this.fail(runId, view, plan, new MpcError('E_PROTOCOL_DESYNC', `P${this.c.party} cannot run plan ${runId}: it holds no preprocessed bundle ${String(prep)} of this run's shape`, { party: this.c.party }));
        return;
      }
      bundle = got;
    }
    await this.exec.execute(runId, view, plan, deadlineMs, masks as PlanMasks | null, getSeeds, { key, ...(bundle ? { bundle } : {}) });
  }

  private fail(runId: string, view: SessionTransport, plan: PlanEntry[], err: MpcError): void {
    for (const p of peersOf(this.c.party)) sendAbort(this.c, p, runId, err.code);
    view.close(err);
    for (const e of plan) { const s = this.c.store.get(e.id); if (s) this.c.store.fail(s, err); }
  }

}
