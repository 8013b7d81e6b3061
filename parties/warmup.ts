/**
 * Start-up warm-up: before a party says it is ready (/readyz), the three
 * parties run the protocol between themselves on the loaded model's shapes
 * with dummy data, so that V8 has optimised the protocol's code paths (layer
 * runner, Beaver, ReLU / PrivateCompare, the mesh's send and receive, a run's
 * set-up) before the first patient's image arrives. A freshly started
 * deployment is otherwise several times slower over its first hundreds of
 * predictions (BENCHMARKS.md, "Cold start").
 *
 * P0 leads, every time all its peer links come up (start-up, a peer that
 * restarted):
 *  1. P0 sends control `warmup` {id, runs, maxMs} to P1 and P2. Each answers
 *     `warmup-ack` {id} once its own two links are up.
 *  2. Per warm-up run P0 sends `warmup-run` {id, runId, batch, seed, masks}
 *     (its plan: fresh pair seeds s01 / s02; P1 draws s12 and sends it as the
 *     run's SETUP message, as in a client run), and the three run
 *     secureForward on the model: P0's input share is the fixed-point encoding
 *     of uniform [0, 1) values drawn from node:crypto, P1's and P2's are zero.
 *     A party whose run fails sends `warmup-abort` {id, runId, code}.
 *  3. P0 stops after `runs` runs, when `maxMs` has passed since both acks (a run still going
 *     then is cut), or as soon as a client session waits (client work first).
 *     With `clientRuns` (DEFAULT_WARMUP: 300) the runs stop at 2/3 of maxMs, and
 *     P0 leads up to `clientRuns` predictions through the client path
 *     (warmup-client.ts: each party's twin of its client side, on dummy data:
 *     session desk, planner, executor, offline phase, output), in
 *     the rest of the budget, cut the same way; then it
 *     sends `warmup-end` {id, runs, ok, code?, cut?}. The followers let
 *     the runs P0 completed finish (a build run's weight masks must be kept
 *     at every party) and close only the run P0 cut, if any.
 * A party is ready once its round ended (done, or failed: a failure is
 * logged and shown in /readyz, never a hang: P0 waits max(maxMs,
 * JOIN_GRACE_MS) for the acks, then runs for maxMs; P1 and P2 stop waiting
 * maxMs + FOLLOW_GRACE_MS after P0's first `warmup-run`, or, before one
 * came, max(maxMs, JOIN_GRACE_MS) + maxMs + FOLLOW_GRACE_MS after their ack
 * (the other follower may join that much later, and P0's budget counts
 * from the later ack), and for a `warmup` after START_GRACE_MS, which
 * also covers a P0 of an older build that never sends one). So /readyz can
 * say 503 for up to max(maxMs, JOIN_GRACE_MS) + maxMs (+ a cut run) at P0
 * once the links are up (30 s with the defaults), up to 5 s more at P1, P2.
 *
 * What warm-up runs do not touch: client sessions, session quotas, the
 * privacy accountant, the run records and run metrics of client runs
 * (mpc_runs_total, mpc_run_*), the id journal, the preprocessing pools (they
 * deal live and take no bundle; the client-path predictions use the twin's own
 * store, accountant, metrics, pools: warmup-client.ts). Their randomness is their own: fresh pair seeds per run,
 * never a client run's. They do use the kept weight masks as client runs do
 * (parties/weight-masks.ts): the first warm-up run builds them (F = W − B
 * does not depend on any input), so the first client run opens only its
 * input's mask. Link byte counters (mpc_link_bytes_*) count warm-up traffic.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { PartySeeds } from '../protocol/correlated/prg.js';
import { ERROR_CODES, MpcError, type ErrorCode } from '../protocol/errors.js';
import type { PartyId } from '../protocol/ring/types.js';
import { errFields } from './log.js';
import { asMpcError, peersOf, UUID, type PartyCore } from './party-core.js';
import type { PrepDriver } from './prep-driver.js';
import type { SessionTransport } from './session-transport.js';
import { isPlanMasks } from './weight-masks.js';
import { CONTROL_PREFIX, followClientRun, leadClientRuns, WarmupClientPath } from './warmup-client.js';
import { dummyInput, forward, shapeOf } from './warmup-forward.js';

export interface WarmupOptions {
  /** Warm-up runs per round (0: no warm-up; P0 decides for the three). */
  runs: number;
  /** Time budget of a round (ms); a run still going then is cut. */
  maxMs: number;
  /** Batch sizes of the runs, in turn (default [1]). */
  batches: number[];
  /**
   * Predictions through the client path after the runs (warmup-client.ts; default 0 here, DEFAULT_WARMUP 300): with
   * them, the runs stop at 2/3 of maxMs, so that the predictions have the rest.
   */
  clientRuns?: number;
}

export const DEFAULT_WARMUP: WarmupOptions = { runs: 1000, maxMs: 15_000, batches: [1], clientRuns: 300 };
/** P1, P2: how long after their links are up they wait for P0's `warmup`. */
export const START_GRACE_MS = 5_000;
/** P1, P2: how long past the round's maxMs (counted from P0's first `warmup-run`; before it, from their `warmup-ack` plus P0's join wait) they wait for P0's `warmup-end`. */
export const FOLLOW_GRACE_MS = 5_000;
/**
 * P0: how long it waits for both `warmup-ack`s at least (the round's maxMs when longer). The run budget maxMs
 * counts from when both followers joined, so a follower whose own link comes up late (a big model still loading,
 * a loaded machine) does not use up the budget, or fail a short one, before any run.
 */
export const JOIN_GRACE_MS = 5_000;

export type WarmupState = 'waiting' | 'running' | 'done' | 'failed' | 'off';

export interface WarmupStatus {
  state: WarmupState;
  /** Dummy-data runs completed in the current (or last) round. */
  runs: number;
  /** Predictions through the client path completed in it, after the runs (warmup-client.ts; at P1, P2: answered here). */
  clientRuns?: number;
  /** Duration of the last round that ended (ms). */
  ms: number;
  /** Why a round ended early: runs done, budget spent, or client work waiting. */
  stop?: 'runs' | 'budget' | 'client';
  /** The round's last run was cut short (by the budget or a client), not failed. */
  cut?: boolean;
  code?: ErrorCode;
  message?: string;
}

interface Round { id: string; t0: number; maxMs: number; acks: Set<PartyId>; onAck: (() => void) | null; views: Map<string, SessionTransport>; cutRun?: string; started?: boolean; stopJoin?: () => void }

export class Warmup {
  private st: WarmupStatus;
  private round: Round | null = null;
  /** P1, P2: fires when no `warmup` (or no `warmup-end`) came in time. */
  private followTimer: NodeJS.Timeout | undefined;
  /** Per batch size: P0's dummy input share. */
  private readonly inputs = new Map<number, BigUint64Array>();
  /** P0: per batch size, the shape key of the round's last 'use' run (a client run of that size and the default policy has it). */
  private readonly shapes = new Map<number, string>();
  /** Warm-up runs completed since start (metric mpc_warmup_runs_total). */
  totalRuns = 0;
  /** The round's twin of this party's client side (warmup-client.ts), from its first client-path prediction. */
  private twin: WarmupClientPath | null = null;

  /**
   * `busy`: P0 has client work (a run going, sessions queued). `prep`: the
   * party's offline phase; P2 records the dealing script of warm-up runs as
   * of client runs, and P0 asks for a bundle of each warm-up shape after a
   * round, so that the first client run of that shape is preprocessed too.
   */
  constructor(private readonly c: PartyCore, private readonly opts: WarmupOptions, private readonly busy: () => boolean, private readonly prep?: PrepDriver) {
    this.st = { state: opts.runs === 0 ? 'off' : 'waiting', runs: 0, ms: 0 };
  }

  get status(): WarmupStatus { return { ...this.st }; }
  /**
   * Whether warm-up lets the party say ready: its round ended, or its own
   * config has no warm-up (runs 0: it still takes part in P0's rounds, but
   * does not wait for them).
   */
  get settled(): boolean { return this.opts.runs === 0 || (this.st.state !== 'waiting' && this.st.state !== 'running'); }

  /** The mesh's onPeer: P0 starts a round when all its links are up; a lost link ends the round. */
  peerChanged(peer: PartyId, up: boolean): void {
    if (!up) {
      if (this.c.party !== 0 && peer !== 0) return; // P0 ends the round (its run fails with this link) and says so
      const err = new MpcError('E_PEER_UNAVAILABLE', `warm-up: link to P${peer} lost`, { party: peer });
      // P0 tells the peer still linked, which would otherwise wait out the round's budget.
      if (this.c.party === 0 && this.round) for (const p of peersOf(0)) if (p !== peer && this.c.mesh.isUp(p)) { try { this.c.mesh.sendControl(p, 'warmup-end', { id: this.round.id, runs: this.st.runs, ok: false, code: err.code }); } catch { /* down too */ } }
      this.endRound(err, 'waiting');
      return;
    }
    if (!this.c.mesh.allUp()) return;
    if (this.c.party === 0) { void this.lead(); return; }
    if (this.round) { this.sendAck(this.round.id); return; }
    // Waiting for P0's `warmup`; a P0 that sends none (older build) does not keep this party unready.
    if (this.st.state === 'waiting') this.armFollowTimer(START_GRACE_MS, 'P0 started no warm-up');
  }

  onControl(from: PartyId, type: string, body: unknown): void {
    const b = (body ?? {}) as Record<string, unknown>;
    const id = typeof b.id === 'string' ? b.id : '';
    // The twins' planners and offline phase (warmup-client.ts): only a twin sees them.
    if (type.startsWith(CONTROL_PREFIX)) { this.twin?.onControl(from, type.slice(CONTROL_PREFIX.length), body); return; }
    if (type === 'warmup-ack') { if (this.c.party === 0 && this.round?.id === id) { this.round.acks.add(from); this.round.onAck?.(); } return; }
    if (type === 'warmup-abort') {
      const view = typeof b.runId === 'string' ? this.round?.views.get(b.runId) : undefined;
      const code = (typeof b.code === 'string' && b.code in ERROR_CODES ? b.code : 'E_INTERNAL') as ErrorCode;
      view?.close(new MpcError(code, `warm-up run aborted by P${from} (${code})`, { party: from }));
      return;
    }
    if (from !== 0 || this.c.party === 0 || !UUID.test(id)) return;
    if (type === 'warmup') this.follow(id, typeof b.maxMs === 'number' && b.maxMs > 0 ? Math.min(b.maxMs, 3_600_000) : this.opts.maxMs);
    else if (type === 'warmup-run' && this.round?.id === id) {
      // P0 starts its budget (t0) before its first run: from that run on, maxMs + the grace bounds the round's end.
      if (!this.round.started) { this.round.started = true; this.armFollowTimer(this.round.maxMs + FOLLOW_GRACE_MS, 'P0 did not end its warm-up'); }
      void this.followRun(b);
    }
    else if (type === 'warmup-client' && this.round?.id === id) {
      const round = this.round;
      void followClientRun(this.c, () => (this.twin ??= new WarmupClientPath(this.c)), b, () => { if (this.round === round) this.st.clientRuns = (this.st.clientRuns ?? 0) + 1; });
    }
    // A P0 without warm-up (runs 0) ends a round it never started: this party does not wait for one.
    else if (type === 'warmup-end' && (this.round?.id === id || (!this.round && b.ok === true && b.runs === 0))) {
      const ok = b.ok === true, runs = typeof b.runs === 'number' ? b.runs : 0;
      const code = (typeof b.code === 'string' && b.code in ERROR_CODES ? b.code : 'E_INTERNAL') as ErrorCode;
      this.st.runs = runs;
      if (ok && typeof b.cut === 'string') this.round?.views.get(b.cut)?.close(new MpcError('E_DEADLINE', 'warm-up run cut by P0', { party: 0 }));
      this.endRound(ok ? null : new MpcError(code, `warm-up failed at P0 (${code})`, { party: 0 }), runs === 0 && ok ? 'off' : undefined, ok);
    }
  }

  close(): void {
    clearTimeout(this.followTimer);
    this.endRound(new MpcError('E_PEER_UNAVAILABLE', `P${this.c.party} is shutting down`, { party: this.c.party }), 'waiting');
  }

  // ---- P0 -------------------------------------------------------------------

  private async lead(): Promise<void> {
    if (this.round || !this.c.model || this.c.closed) return;
    const round = this.newRound(randomUUID(), this.opts.maxMs);
    const send = (type: string, body: object): void => { for (const p of peersOf(0)) this.c.mesh.sendControl(p, type, { id: round.id, ...body }); };
    if (this.opts.runs === 0) {
      try { send('warmup-end', { runs: 0, ok: true }); } catch { /* a link went down: the next round tells them */ }
      this.endRound(null, 'off');
      return;
    }
    let stop: WarmupStatus['stop'] = 'runs';
    try {
      send('warmup', { runs: this.opts.runs, maxMs: this.opts.maxMs });
      await this.acks(round);
      round.t0 = performance.now();
      const lastMs = new Map<number, number>();
      const clientRuns = this.opts.clientRuns ?? 0;
      const runsMs = clientRuns > 0 ? (round.maxMs * 2) / 3 : round.maxMs;
      for (let i = 0; i < this.opts.runs; i++) {
        if (!this.isCurrent(round)) return;
        const batch = this.opts.batches[i % this.opts.batches.length]!;
        // A run that would not end within the budget (as long as the last one of its size) is not started.
        if (performance.now() - round.t0 + (lastMs.get(batch) ?? 0) >= runsMs) { stop = clientRuns > 0 ? 'runs' : 'budget'; break; }
        if (this.busy()) { stop = 'client'; break; }
        const t = performance.now();
        const cut = await this.leadRun(round, batch);
        if (cut) { stop = cut; this.st.cut = true; break; }
        lastMs.set(batch, performance.now() - t);
        this.st.runs += 1;
        this.totalRuns += 1;
      }
      if (!this.isCurrent(round)) return;
      if (stop === 'runs' && clientRuns > 0) {
        const r = await leadClientRuns({
          twin: (this.twin ??= new WarmupClientPath(this.c)), runs: clientRuns, batches: this.opts.batches, endAt: round.t0 + round.maxMs, modelHash: this.c.model!.info.modelHash, maxDeadlineMs: this.c.opts.sessions.maxDeadlineMs,
          busy: this.busy, current: () => this.isCurrent(round), send: (p, type, body) => this.c.mesh.sendControl(p, type, { id: round.id, ...body }),
          input: (batch) => dummyInput(this.c, this.inputs, batch), done: () => { this.st.clientRuns = (this.st.clientRuns ?? 0) + 1; },
        });
        if (!r) return;
        stop = r.stop;
        if (r.cut) this.st.cut = true;
      }
      // The followers let their runs finish (a build run's masks must be kept everywhere), except a run P0 cut.
      send('warmup-end', { runs: this.st.runs, ok: true, ...(round.cutRun ? { cut: round.cutRun } : {}) });
      this.st.stop = stop;
      this.endRound(null);
      // The offline phase of the shapes warmed up (fresh seeds from the prep driver; no warm-up run used them).
      for (const key of this.shapes.values()) this.prep?.schedule(key);
      this.shapes.clear();
    } catch (e) {
      if (!this.isCurrent(round)) return;
      const err = asMpcError(e);
      try { send('warmup-end', { runs: this.st.runs, ok: false, code: err.code }); } catch { /* link down: they see that themselves */ }
      this.endRound(err);
    }
  }

  /** Both followers have their links up (they answer `warmup` with `warmup-ack`), within max(maxMs, JOIN_GRACE_MS). */
  private acks(round: Round): Promise<void> {
    return new Promise((resolve, reject) => {
      const joinMs = Math.max(round.maxMs, JOIN_GRACE_MS);
      const t = setTimeout(() => { round.onAck = null; round.stopJoin = undefined; reject(new MpcError('E_PEER_UNAVAILABLE', `warm-up: P${peersOf(0).find((p) => !round.acks.has(p))} did not join within ${joinMs} ms`)); }, joinMs);
      // A round that ends first (a lost link, close) clears the wait: its timer held the event loop for up to maxMs.
      round.stopJoin = () => { clearTimeout(t); round.onAck = null; round.stopJoin = undefined; reject(new MpcError('E_PEER_UNAVAILABLE', 'warm-up: the round ended before both peers joined')); };
      round.onAck = () => { if (round.acks.size === 2) { clearTimeout(t); round.onAck = null; round.stopJoin = undefined; resolve(); } };
      round.onAck();
    });
  }

  /**
   * One warm-up run led by P0. It is cut (and the round ends, not failed)
   * when the round's budget runs out or a client session waits: returns why,
   * or null when the run completed. The followers close their part at
   * `warmup-end`. A cut 'use' run leaves the kept weight masks valid (no
   * party changed its store); a cut build run drops them.
   */
  private async leadRun(round: Round, batch: number): Promise<'budget' | 'client' | null> {
    const model = this.c.model!;
    const runId = randomUUID();
    const view = this.open(round, runId);
    const masks = this.c.weightMasks.plan(runId, model.info.modelHash);
    const s01 = randomBytes(16), s02 = randomBytes(16);
    let ok = false, why: 'budget' | 'client' | null = null;
    const cutNow = (w: 'budget' | 'client'): void => { why ??= w; round.cutRun = runId; view.close(new MpcError('E_DEADLINE', `warm-up run cut (${w})`, { party: 0 })); };
    const budget = setTimeout(() => cutNow('budget'), Math.max(0, round.t0 + round.maxMs - performance.now()));
    const client = setInterval(() => { if (this.busy()) cutNow('client'); }, 20);
    try {
      for (const [p, seed] of [[1, s01], [2, s02]] as const) this.c.mesh.sendControl(p, 'warmup-run', { id: round.id, runId, batch, seed: seed.toString('base64'), masks });
      await forward(this.c, view, runId, batch, masks, { pair: [undefined, s01, s02], own: randomBytes(16) }, undefined, this.inputs);
      ok = true;
      if (masks && !masks.build) this.shapes.set(batch, shapeOf(this.c, batch, masks));
      return null;
    } catch (e) {
      if (why) return why;
      throw e;
    } finally {
      clearTimeout(budget);
      clearInterval(client);
      this.c.weightMasks.ended(runId, masks, ok || (why !== null && masks !== null && !masks.build));
      round.views.delete(runId);
      view.close();
    }
  }

  // ---- P1, P2 ---------------------------------------------------------------

  private follow(id: string, maxMs: number): void {
    if (this.round) this.endRound(null, 'waiting');
    this.newRound(id, maxMs);
    this.armFollowTimer(maxMs + FOLLOW_GRACE_MS, 'P0 did not end its warm-up');
    if (this.c.mesh.allUp()) this.sendAck(id);
  }

  private async followRun(b: Record<string, unknown>): Promise<void> {
    const round = this.round!;
    const { runId, batch, seed, masks } = b;
    if (typeof runId !== 'string' || !UUID.test(runId) || !Number.isInteger(batch) || (batch as number) < 1 || (batch as number) > 4096 || typeof seed !== 'string' || !isPlanMasks(masks)) {
      this.c.log.error({ code: 'E_PROTOCOL_DESYNC' }, 'malformed warm-up run from P0 ignored');
      return;
    }
    let view: SessionTransport | undefined;
    try {
      view = this.open(round, runId);
      const v = view;
      const s = Buffer.from(seed, 'base64');
      const seeds = async (): Promise<PartySeeds> => {
        if (this.c.party === 1) { const s12 = randomBytes(16); v.sendSetup(2, 'seed', s12); return { pair: [s, undefined, s12], own: randomBytes(16) }; }
        const s12 = await v.recvSetup(1, 'seed');
        if (s12.byteLength !== 16) throw new MpcError('E_PROTOCOL_DESYNC', 'pair seed from P1 is not 16 bytes', { party: 1, step: 'seed' });
        return { pair: [s, s12, undefined], own: randomBytes(16) };
      };
      // P2 records what it deals, as in a client's live run of this shape (prep-driver.ts makes bundles from it).
      const script = this.c.party === 2 && masks && !masks.build && this.prep?.opts.enabled && !this.c.model!.teachers ? [] : undefined;
      await forward(this.c, v, runId, batch as number, masks, seeds, script);
      this.c.weightMasks.ended(runId, masks, true);
      if (script) this.prep!.held!.record(shapeOf(this.c, batch as number, masks!), script);
      this.totalRuns += 1;
      if (this.round === round) this.st.runs += 1;
    } catch (e) {
      this.c.weightMasks.ended(runId, masks, false);
      const err = asMpcError(e);
      if (this.round === round && !view?.closed) {
        for (const p of peersOf(this.c.party)) { try { this.c.mesh.sendControl(p, 'warmup-abort', { id: round.id, runId, code: err.code }); } catch { /* link down */ } }
      }
      this.c.log.debug({ code: err.code }, 'warm-up run failed');
    } finally {
      round.views.delete(runId);
      view?.close();
    }
  }

  private sendAck(id: string): void {
    try { this.c.mesh.sendControl(0, 'warmup-ack', { id }); } catch { /* link down: P0's round fails or restarts */ }
    // P0's run budget starts when both followers joined, the other up to max(maxMs, JOIN_GRACE_MS) after this one:
    // wait for that, the budget and the grace (the first `warmup-run` then shortens it to the budget and the grace).
    const r = this.round;
    if (r?.id === id && !r.started) this.armFollowTimer(Math.max(r.maxMs, JOIN_GRACE_MS) + r.maxMs + FOLLOW_GRACE_MS, 'P0 did not end its warm-up');
  }

  private armFollowTimer(ms: number, why: string): void {
    clearTimeout(this.followTimer);
    this.followTimer = setTimeout(() => {
      if (this.settled) return;
      this.endRound(new MpcError('E_PEER_UNAVAILABLE', `warm-up: ${why} within ${ms} ms`, { party: 0 }));
    }, ms);
    this.followTimer.unref();
  }

  // ---- the three ------------------------------------------------------------

  /** Whether `round` is still the current one (a lost link or a newer round ends it). */
  private isCurrent(round: Round): boolean { return this.round === round; }

  private newRound(id: string, maxMs: number): Round {
    const round: Round = { id, t0: performance.now(), maxMs, acks: new Set(), onAck: null, views: new Map() };
    this.round = round;
    this.st = { state: 'running', runs: 0, ms: 0 };
    return round;
  }

  private open(round: Round, runId: string): SessionTransport {
    const view = this.c.mesh.openSession(runId);
    round.views.set(runId, view);
    return view;
  }

  /**
   * End the current round: done (err null), failed, or back to waiting / off.
   * Its open runs are closed, or with `finish` (a follower told that P0
   * completed them) left to end by themselves, closed only if still open
   * after FOLLOW_GRACE_MS.
   */
  private endRound(err: MpcError | null, state?: WarmupState, finish = false): void {
    const round = this.round;
    if (!round && state === 'waiting') { if (this.st.state === 'running') this.st.state = 'waiting'; return; }
    this.round = null;
    round?.stopJoin?.();
    if (this.c.party !== 0) clearTimeout(this.followTimer);
    const close = (): void => { if (round) for (const v of round.views.values()) v.close(err ?? new MpcError('E_PEER_UNAVAILABLE', 'warm-up ended')); };
    if (finish && round && round.views.size > 0) setTimeout(close, FOLLOW_GRACE_MS).unref();
    else close();
    // The twin goes with the round (a follower lets the last prediction P0 completed end first).
    const twin = this.twin;
    this.twin = null;
    if (twin && finish) setTimeout(() => twin.close(), FOLLOW_GRACE_MS).unref();
    else twin?.close();
    const ms = round ? performance.now() - round.t0 : 0;
    this.st = { ...this.st, state: state ?? (err ? 'failed' : 'done'), ms, ...(err ? { code: err.code, message: err.message } : {}) };
    if (state === 'waiting') return;
    if (err) this.c.log.error({ ...errFields(err), runs: this.st.runs, ms: Math.round(ms) }, 'warm-up failed; the party serves without it');
    else this.c.log.info({ runs: this.st.runs, ms: Math.round(ms), stop: this.st.stop }, state === 'off' ? 'warm-up off' : 'warm-up done');
  }
}
