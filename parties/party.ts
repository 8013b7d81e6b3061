/**
 * One party of the service: its share model, its client sessions, the mesh
 * to the other two parties, and the protocol runs.
 *
 * Path of a request (all three parties see the same session id):
 *  1. POST /v1/sessions at P0, P1, P2 -> createSession. P2 (no input) reports
 *     the session ready to P0 at once (control 'ready').
 *  2. PUT input at P0 and P1 -> putInput; P1 reports 'ready' to P0. A PUT
 *     with x-session-create does 1 and 2 at P0/P1 in one request
 *     (createWithInput).
 *  3. P0 (batch leader) queues a session once it has its own input: at once
 *     the first time (planning ahead, batch.planAheadMs > 0), else once both
 *     reports are in; the batcher forms a batch (window, max images) and P0
 *     sends 'plan' {runId, sessions, batch sizes, deadline, pair seed} to P1
 *     and P2. Planning ahead saves the reports' hop: P1 and P2 wait up to
 *     planAheadMs for a planned session that has not reached them yet (P1:
 *     its input, P2: the session); if one is still missing, that party sends
 *     'defer' to the other two, the run stops (its masks and triples are its
 *     own and never used again; messages already sent are dropped unread),
 *     its sessions go back to waiting, and P0 plans them again once both
 *     reports are in.
 *  4. The pair seeds of the run: P0 draws s01 and s02 (sent in the plans), P1
 *     draws s12 and sends it to P2 (SETUP message of the run). Fresh per run.
 *  5. All three run secureForward on the concatenated batch over the run's
 *     SessionTransport, then privateOutput (protocol/privacy) per group of
 *     sessions with the same resolved policy, in plan order: clip, DP noise,
 *     secure argmax, as the policy says; plain-logits sessions skip it. P0
 *     and P1 keep their output shares (logits, or label [+ bucket]) for GET
 *     output.
 * Output privacy: each session's policy is resolved at creation from the
 * model's manifest policy and the request's `privacy` options (only
 * stricter, else E_PRIVACY_POLICY). A policy with DP reserves epsilon x batch
 * in this party's accountant for the client (a hash of its token) at
 * creation (E_BUDGET_EXHAUSTED), commits it before the output is stored, and
 * releases it if the session fails first. The plan carries each session's
 * request options and policy key, so P1 and P2 check that they run the same
 * policy as P0 (E_PROTOCOL_DESYNC otherwise).
 * PATE ensembles (model source 'ensemble'): step 5 runs secureForward once per
 * teacher on the same input shares, then pateAggregate (protocol/privacy/
 * pate.ts) per policy group instead of privateOutput: secure one-hot votes,
 * their sum, noise on the counts, secure argmax. Only label shares leave the
 * party; the policy is 'label' (requests cannot loosen it), and each image
 * is one query charged to the client's budget when the ensemble has noise.
 * A failed run is aborted at the peers (control 'abort' with its code); a lost
 * peer link fails every unfinished session with E_PEER_UNAVAILABLE.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { CreateSessionRequest, CreateSessionResponse, ModelInfo, OutputMode } from '../protocol/api-contract.js';
import { createContext, type PartyContext } from '../protocol/context.js';
import type { PartySeeds } from '../protocol/correlated/prg.js';
import { ERROR_CODES, isMpcError, MpcError, type ErrorCode } from '../protocol/errors.js';
import type { BackendSpec } from '../protocol/kernels/select.js';
import { secureForward } from '../protocol/layers/runner.js';
import type { ShareTensor } from '../protocol/layers/types.js';
import { pateAggregate, privateOutput, resolvePolicy, type PrivacyReport, type PrivacyRequest, type ResolvedPolicy } from '../protocol/privacy/index.js';
import type { AShare, PartyId } from '../protocol/ring/types.js';
import { bytesU64 } from '../protocol/sharing/sharing.js';
import { Batcher, DEFAULT_PLAN_AHEAD_MS, type BatcherOptions } from './batcher.js';
import { errFields, sessionTag, silentLogger, type Logger } from './log.js';
import { PeerMesh, type MeshOptions } from './mesh.js';
import { partyMetrics, type PartyMetrics } from './metrics.js';
import { loadPartyModel, pateSensitivity, type LoadedModel, type ModelSource } from './model-source.js';
import { AccountantHolder, isPlainLogits, outputPrivacy, policyKey, type PrivacySettings } from './privacy.js';
import type { SessionTransport } from './session-transport.js';
import { IdJournal } from './id-journal.js';
import { isTerminal, sessionKeyHash, SessionStore, type Session } from './sessions.js';
import { isPlanMasks, WeightMaskState, type PlanMasks } from './weight-masks.js';
import { p0Bundle, p1Bundle, prepareBundle, scriptBytes, type DealScript, type PartyBundle } from '../protocol/correlated/dealer.js';
import { kernelsFor } from '../protocol/kernels/select.js';
import { DEFAULT_PREPROCESS, PrepHoldings, PrepPool, shapeKey, type PreprocessOptions } from './preprocessing.js';

export interface SessionLimits {
  defaultDeadlineMs: number;
  maxDeadlineMs: number;
  maxSessions: number;
  /** Unfinished sessions one client may hold (default maxSessions / 4, at least 1). */
  maxPerClient?: number;
  retentionMs: number;
  /** Absolute path of the burnt-id journal (parties/id-journal.ts); without it, used ids are refused only until a restart. */
  idJournal?: string;
}

/** How long a used session id stays refused. */
const TOMBSTONE_MS = 3_600_000;

export interface PartyOptions {
  party: PartyId;
  model: ModelSource;
  mesh: Omit<MeshOptions, 'party' | 'logger'>;
  /**
   * planAheadMs (default DEFAULT_PLAN_AHEAD_MS; 0 = off): P0 plans a session
   * as soon as its own input is in, without waiting for P1's and P2's
   * 'ready' reports, and P1 and P2 wait this long for a planned session that
   * has not reached them before they defer the run (file comment, step 3).
   */
  batch: BatcherOptions & { planAheadMs?: number };
  sessions: SessionLimits;
  kernels?: BackendSpec;
  /** Comparison ring width (config compareBits; default 32). */
  compareBits?: 32 | 64;
  /** Digits of the PrivateCompare on the 32-bit ring (config compareRadix; default 4). */
  compareRadix?: 2 | 4;
  /** Keep the masks of the model's weights across runs (parties/weight-masks.ts; default true). */
  keepWeightMasks?: boolean;
  /** P2 deals the next run's correlated randomness while idle (parties/preprocessing.ts; default DEFAULT_PREPROCESS). */
  preprocess?: PreprocessOptions;
  /** This party's privacy accountant. */
  privacy: PrivacySettings;
  logger?: Logger;
  metrics?: PartyMetrics;
  /** Test hook: called after each layer of each run. */
  onNode?: (party: PartyId, runId: string, name: string, index: number) => void;
}

/** One session of a run: its images, its request's privacy options, and the key of the policy P0 resolved. */
interface PlanEntry { id: string; batch: number; policy: string; privacy?: PrivacyRequest }
interface PlanBody { runId: string; modelHash: string; sessions: PlanEntry[]; deadlineMs: number; seed: string; compareBits: 32 | 64; compareRadix: 2 | 4; masks: PlanMasks | null; prep: string | null }

/** One layer of a run at this party: wall time, time blocked in recv, and the traffic this party sent. */
export interface LayerRecord { name: string; kind: string; ms: number; waitMs: number; bytesSent: number; messages: number; rounds: number }

export interface RunRecord {
  runId: string; sessions: string[]; images: number; ok: boolean; code?: ErrorCode; ms: number; bytesSent: number; rounds: number;
  messages?: number;
  /** Time blocked in recv over the whole run (ms). */
  waitMs?: number;
  /** Per layer, in model order (complete only for successful runs). */
  layers?: LayerRecord[];
  /** The run took P2's dealt randomness from a bundle made before it (parties/preprocessing.ts). */
  preprocessed?: boolean;
}

interface ActiveRun { view: SessionTransport; abortedBy: PartyId | null; deferred?: boolean }

/** How long after a run P0 waits before it asks for the next bundle (parties/preprocessing.ts). */
const PREP_AFTER_RUN_MS = 3;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function asMpcError(e: unknown): MpcError {
  if (isMpcError(e)) return e;
  return new MpcError('E_INTERNAL', 'internal error in the protocol run', { cause: e });
}

export class Party {
  readonly party: PartyId;
  readonly mesh: PeerMesh;
  readonly store: SessionStore;
  readonly metrics: PartyMetrics;
  readonly log: Logger;
  model: LoadedModel | null = null;
  modelError: MpcError | null = null;
  /** Last runs (newest last), for tests and diagnostics; no values. */
  readonly runLog: RunRecord[] = [];
  private readonly batcher: Batcher<Session> | null;
  private readonly runs = new Map<string, ActiveRun>();
  private readonly abortedRuns = new Map<string, number>();
  /** Runs a party deferred (control 'defer'), by id, with when. */
  private readonly deferredRuns = new Map<string, number>();
  /** P1, P2: follow() calls waiting for planned sessions to arrive; each re-checks when called. */
  private readonly arrivalWaiters = new Set<() => void>();
  /** P0: 'ready' reports that arrived before the session was created here. */
  private readonly earlyReady = new Map<string, { parties: Map<PartyId, number>; at: number }>();
  private closed = false;
  private readonly sweeper: NodeJS.Timeout;
  private readonly accountant: AccountantHolder;
  private readonly journal: IdJournal | undefined;
  /** Kept weight masks (P0 decides per run, the plan carries it). */
  readonly weightMasks: WeightMaskState;
  /** P0: bundles ready at the peers; P1, P2: their parts, and P2's recorded scripts (parties/preprocessing.ts). */
  readonly prepPool: PrepPool | null;
  readonly prepHeld: PrepHoldings | null;
  /** P0: shapes to ask a bundle for once idle (after PREP_AFTER_RUN_MS), in the order their runs ended. */
  private readonly prepPending = new Set<string>();
  private prepTimer: NodeJS.Timeout | null = null;
  /** P0: a bundle is being made, or about to be asked for (metric mpc_prep_in_flight). */
  get prepInFlight(): boolean { return this.prepPending.size > 0 || (this.prepPool?.inFlight ?? false); }
  private get prepOpts(): PreprocessOptions { return this.opts.preprocess ?? DEFAULT_PREPROCESS; }
  private get compareBits(): 32 | 64 { return this.opts.compareBits ?? 32; }
  private get compareRadix(): 2 | 4 { return this.opts.compareRadix ?? 4; }
  private get planAheadMs(): number { return this.opts.batch.planAheadMs ?? DEFAULT_PLAN_AHEAD_MS; }

  constructor(readonly opts: PartyOptions) {
    this.party = opts.party;
    // The server's logger already carries { party } in its base bindings.
    this.log = opts.logger ?? silentLogger;
    this.metrics = opts.metrics ?? partyMetrics();
    this.accountant = new AccountantHolder(opts.privacy);
    this.weightMasks = new WeightMaskState(opts.party, opts.keepWeightMasks ?? true);
    this.prepPool = opts.party === 0 ? new PrepPool(this.prepOpts) : null;
    this.prepHeld = opts.party === 0 ? null : new PrepHoldings(this.prepOpts);
    this.mesh = new PeerMesh({ ...opts.mesh, party: opts.party, logger: this.log });
    const journal = opts.sessions.idJournal ? IdJournal.open(opts.sessions.idJournal, TOMBSTONE_MS, (e) => this.log.error(errFields(e), 'session id journal write failed')) : undefined;
    this.journal = journal;
    const maxPerClient = opts.sessions.maxPerClient ?? Math.max(1, Math.floor(opts.sessions.maxSessions / 4));
    this.store = new SessionStore(
      { maxSessions: opts.sessions.maxSessions, maxPerClient, retentionMs: opts.sessions.retentionMs, tombstoneMs: TOMBSTONE_MS, maxTombstones: 100_000 },
      (s, e) => {
        this.metrics.errors.inc({ code: e.code, source: 'session' });
        this.batcher?.remove(s.id);
        this.log.info({ session: sessionTag(s.id), code: e.code, state: 'failed' }, 'session failed');
        // No output share of this session left this party: give its privacy budget back.
        const r = s.reservation;
        if (r) { delete s.reservation; r.release().catch((err: unknown) => this.log.error({ session: sessionTag(s.id), ...errFields(err) }, 'privacy reservation release failed')); }
      },
      journal,
    );
    this.batcher = this.party === 0 ? new Batcher<Session>(opts.batch, (items) => this.lead(items)) : null;
    this.sweeper = setInterval(() => this.sweepEarly(), 10_000);
    this.sweeper.unref();
    this.mesh.onControl((from, type, body) => this.onControl(from, type, body));
    this.mesh.onPeer((peer, up) => {
      if (up) return;
      // The peer may come back without its kept masks: build them again.
      this.weightMasks.reset();
      this.dropPrep();
      this.batcher?.clear();
      this.store.failAll(() => new MpcError('E_PEER_UNAVAILABLE', `party P${peer} is unavailable`, { party: peer }));
    });
  }

  /**
   * Load the model, then start the mesh: a party links to its peers only once
   * its model is loaded, so "both peers connected" means all three can run.
   * If the model fails to load, the mesh is not started (modelError says why).
   */
  async start(): Promise<{ grpcPort: number | null }> {
    try {
      const m = await loadPartyModel(this.opts.model, this.party);
      this.model = m;
      this.log.info({ modelHash: m.info.modelHash, ...(m.teachers ? { teachers: m.teachers.length } : {}), inputShape: m.info.inputShape, outputShape: m.info.outputShape, fracBits: m.info.fracBits, truncation: m.truncation, outputMode: m.info.privacy?.outputMode ?? 'logits', dp: m.info.privacy?.dp !== undefined }, 'model loaded');
    } catch (e) {
      this.modelError = asMpcError(e);
      this.log.error(errFields(e), 'model load failed');
      return { grpcPort: null };
    }
    // A configured accountant, or one the model's policy needs, must open before the party serves (E_ACCOUNTANT_STATE is fatal here).
    if (this.opts.privacy.eager || this.model.policy?.dp) await this.accountant.get();
    const { port } = await this.mesh.start();
    return { grpcPort: port };
  }

  ready(): boolean { return this.model !== null && this.mesh.allUp() && !this.closed; }

  readiness(): { ready: boolean; modelLoaded: boolean; peers: Record<string, boolean> } {
    const peers: Record<string, boolean> = {};
    for (const p of [0, 1, 2] as PartyId[]) if (p !== this.party) peers[`P${p}`] = this.mesh.isUp(p);
    return { ready: this.ready(), modelLoaded: this.model !== null, peers };
  }

  modelInfo(): ModelInfo {
    if (!this.model) throw new MpcError('E_NOT_READY', this.modelError ? `model failed to load (${this.modelError.code})` : 'model not loaded yet');
    return this.model.info;
  }

  // ---- client API ----------------------------------------------------------

  /**
   * `clientId`: the caller's identity at this party (http.ts; the session's
   * owner and the accountant's id); `sessionKey`: the key the client drew
   * for this session at this party (SESSION_KEY_HEADER), kept as its hash.
   */
  async createSession(req: CreateSessionRequest, clientId: string, sessionKey: string): Promise<CreateSessionResponse> {
    const info = this.modelInfo();
    if (!this.ready()) throw new MpcError('E_NOT_READY', `P${this.party} is not ready: peers not connected`, { party: this.party });
    if (!UUID.test(req.sessionId)) throw new MpcError('E_BAD_ARGUMENT', 'sessionId must be a UUID');
    if (req.modelHash !== undefined && req.modelHash.toLowerCase() !== info.modelHash) throw new MpcError('E_MODEL_MISMATCH', `P${this.party} serves model ${info.modelHash.slice(0, 12)}…, not the one the client expects`, { party: this.party });
    const batch = req.batch ?? 1;
    if (!Number.isInteger(batch) || batch < 1 || batch > this.opts.batch.maxBatch) throw new MpcError('E_BAD_ARGUMENT', `batch must be an integer in 1..${this.opts.batch.maxBatch}, got ${batch}`);
    const deadlineMs = req.deadlineMs ?? this.opts.sessions.defaultDeadlineMs;
    if (!Number.isInteger(deadlineMs) || deadlineMs < 1 || deadlineMs > this.opts.sessions.maxDeadlineMs) throw new MpcError('E_BAD_ARGUMENT', `deadlineMs must be an integer in 1..${this.opts.sessions.maxDeadlineMs}`);
    const id = req.sessionId.toLowerCase();
    this.store.checkFree(id);
    const policy = this.resolve(req.privacy); // E_PRIVACY_POLICY (403)
    // Reserve before the session exists (E_BUDGET_EXHAUSTED, 429); give it back if the session cannot be created.
    const reservation = policy.charge ? await (await this.accountant.get()).reserve(clientId, policy.charge, batch) : undefined;
    let s: Session;
    try {
      if (!this.ready()) throw new MpcError('E_NOT_READY', `P${this.party} is not ready: peers not connected`, { party: this.party });
      s = this.store.create(id, batch, deadlineMs, clientId, sessionKeyHash(sessionKey));
    } catch (e) {
      await reservation?.release();
      throw e;
    }
    s.policy = policy;
    if (req.privacy) s.privacyRequest = structuredClone(req.privacy);
    if (reservation) s.reservation = reservation;
    this.log.info({ session: sessionTag(id), batch, deadlineMs, outputMode: policy.outputMode, ...(policy.charge ? { epsilon: policy.charge.epsilon * batch } : {}) }, 'session created');
    if (this.party === 2) { this.reportReady(s); this.notifyArrival(); }
    else if (this.party === 0) this.takeEarlyReady(s);
    const { privacy: _modelPrivacy, ...rest } = info;
    const privacy = outputPrivacy(policy);
    return { ...rest, ...(privacy ? { privacy } : {}), sessionId: id, party: this.party, acceptsInput: this.party !== 2 };
  }

  /**
   * The policy a request runs under (resolvePolicy: only stricter than the
   * manifest's). An ensemble also refuses what does not apply to vote counts:
   * clipping, and a sensitivity below the votes' (2 in L1, sqrt 2 in L2).
   */
  private resolve(request: PrivacyRequest | undefined): ResolvedPolicy {
    const m = this.model!;
    // Every DP parameter is checked here, at session creation (E_DP_PARAMETER, E_DP_SENSITIVITY), so that a session
    // whose noise the protocol could not draw never joins a batch with other clients' sessions.
    const p = resolvePolicy(m.policy, request, { fracBits: m.info.fracBits, ...(m.teachers ? {} : { classes: m.outputSize }) });
    if (m.teachers && p.dp) {
      if (p.dp.clip !== undefined) throw new MpcError('E_PRIVACY_POLICY', 'privacy policy: a teacher ensemble answers with vote counts; clipping does not apply', { step: 'privacy.policy' });
      if (!(p.dp.sensitivity >= pateSensitivity(p.dp.mechanism))) throw new MpcError('E_PRIVACY_POLICY', `privacy policy: the vote counts' sensitivity is ${pateSensitivity(p.dp.mechanism)}; a request may not set it lower`, { step: 'privacy.policy' });
    }
    return p;
  }

  /** GET /v1/privacy/budget: the caller's budget at this party. */
  async privacyReport(clientId: string): Promise<PrivacyReport> {
    return (await this.accountant.get()).report(clientId);
  }

  /** Byte limit of an input upload: the largest batch of the loaded model. */
  maxInputBytes(): number {
    return this.model ? this.model.inputSize * this.opts.batch.maxBatch * 8 : 0;
  }

  /** PUT input: `clientId` and `sessionKey` must be the session's (else E_NOT_FOUND, as for an unknown id). */
  putInput(id: string, clientId: string, sessionKey: string | undefined, body: Uint8Array): { sessionId: string; state: string; bytes: number } {
    const s = this.store.owned(id.toLowerCase(), clientId, sessionKey);
    if (this.party === 2) throw new MpcError('E_BAD_ARGUMENT', 'P2 is the helper and takes no input share', { party: 2 });
    if (isTerminal(s)) throw s.state === 'failed' && s.error ? s.error : new MpcError('E_CONFLICT', `session ${s.id} is already ${s.state}`);
    if (s.input || s.state !== 'created') throw new MpcError('E_CONFLICT', `session ${s.id}: input already uploaded`);
    this.checkShareSize(s.batch, body.byteLength);
    const data = bytesU64(body);
    this.store.setInput(s, data);
    this.log.info({ session: sessionTag(s.id), bytes: body.byteLength }, 'input share received');
    if (this.party === 1) { this.reportReady(s); this.notifyArrival(); }
    else this.maybeQueue(s);
    return { sessionId: s.id, state: s.state, bytes: body.byteLength };
  }

  /**
   * PUT input with x-session-create: createSession and putInput in one
   * request, both or neither. The share's size is checked before the session
   * exists; should putInput still refuse, the new session fails at once (its
   * reservation, if any, is released) and the error is the answer.
   */
  async createWithInput(req: CreateSessionRequest, clientId: string, sessionKey: string, body: Uint8Array): Promise<CreateSessionResponse & { state: string; bytes: number }> {
    if (this.party === 2) throw new MpcError('E_BAD_ARGUMENT', 'P2 is the helper and takes no input share', { party: 2 });
    if (req.modelHash === undefined) throw new MpcError('E_BAD_ARGUMENT', 'a session created with its input needs modelHash', { party: this.party });
    // A bad batch (or no model) is createSession's to refuse, with its own code.
    const batch = req.batch ?? 1;
    if (this.model && Number.isInteger(batch) && batch >= 1 && batch <= this.opts.batch.maxBatch) this.checkShareSize(batch, body.byteLength);
    const created = await this.createSession(req, clientId, sessionKey);
    try {
      const r = this.putInput(created.sessionId, clientId, sessionKey, body);
      return { ...created, state: r.state, bytes: r.bytes };
    } catch (e) {
      const s = this.store.get(created.sessionId);
      if (s && !isTerminal(s)) this.store.fail(s, asMpcError(e));
      throw e;
    }
  }

  /** E_SHAPE unless `bytes` is one u64 share per input element of `batch` images (the model is loaded). */
  private checkShareSize(batch: number, bytes: number): void {
    const want = batch * this.model!.inputSize * 8;
    if (bytes !== want) throw new MpcError('E_SHAPE', `input share: expected ${want} bytes (${batch} x [${this.model!.info.inputShape}] u64), got ${bytes}`, { party: this.party });
  }

  /** Long poll: resolves when the session is terminal or after waitMs (only for the session's client, else E_NOT_FOUND). */
  async awaitOutput(id: string, clientId: string, sessionKey: string | undefined, waitMs: number): Promise<Session> {
    const s = this.store.owned(id.toLowerCase(), clientId, sessionKey);
    if (this.party === 2) throw new MpcError('E_BAD_ARGUMENT', 'P2 is the helper and holds no output share', { party: 2 });
    await this.store.wait(s, waitMs);
    if (s.state === 'failed') throw s.error ?? new MpcError('E_INTERNAL', `session ${s.id} failed`);
    return s;
  }

  // ---- control messages ----------------------------------------------------

  private reportReady(s: Session): void {
    try {
      this.mesh.sendControl(0, 'ready', { sessionId: s.id, batch: s.batch });
    } catch (e) {
      this.store.fail(s, asMpcError(e));
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
      this.store.fail(s, new MpcError('E_SHAPE', `session ${s.id}: P${from} has batch ${batch}, P0 has ${s.batch}`, { party: from }));
      return;
    }
    s.readyPeers.add(from);
    this.maybeQueue(s);
  }

  /** P0: queue `s` once its input is in and both reports are, or at once the first time when planning ahead. */
  private maybeQueue(s: Session): void {
    if (this.party !== 0 || s.queued || s.state !== 'input-received') return;
    const reported = s.readyPeers.has(1) && s.readyPeers.has(2);
    if (!reported && (s.plannedAhead || this.planAheadMs === 0)) return;
    if (!reported) s.plannedAhead = true;
    s.queued = true;
    this.batcher!.add(s);
  }

  /** P1, P2: wake the follow() calls waiting for planned sessions. */
  private notifyArrival(): void {
    for (const w of [...this.arrivalWaiters]) w();
  }

  /** P1, P2: whether a planned session is here to run (P1: with its input; a failed or finished one counts: it contributes zeros). */
  private arrived(id: string): boolean {
    const s = this.store.get(id);
    return s !== undefined && (this.party === 2 || s.input !== undefined || isTerminal(s));
  }

  /**
   * P1, P2: wait up to planAheadMs for the planned sessions that have not
   * arrived; false if one is still missing, or the run was deferred or
   * aborted meanwhile.
   */
  private awaitArrival(runId: string, plan: PlanEntry[]): Promise<boolean> {
    const stopped = (): boolean => this.deferredRuns.has(runId) || this.abortedRuns.has(runId) || this.closed;
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

  private onControl(from: PartyId, type: string, body: unknown): void {
    const b = (body ?? {}) as Record<string, unknown>;
    switch (type) {
      case 'ready': {
        if (this.party !== 0 || (from !== 1 && from !== 2) || typeof b.sessionId !== 'string' || typeof b.batch !== 'number') return;
        const s = this.store.get(b.sessionId);
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
        if (from !== 0 || this.party === 0) return;
        void this.follow(b);
        return;
      case 'prep':
        if (from !== 0 || this.party === 0) return;
        void this.followPrep(b);
        return;
      case 'prep-drop':
        if (from === 0 && typeof b.prepId === 'string') this.prepHeld?.drop(b.prepId);
        return;
      case 'prepared': {
        if (this.party !== 0 || (from !== 1 && from !== 2) || typeof b.prepId !== 'string') return;
        const r = this.prepPool!.reported(from, b.prepId, b.ok === true, typeof b.bytes === 'number' ? b.bytes : 0, typeof b.reason === 'string' ? b.reason : undefined);
        if (!r) return;
        this.metrics.prepRuns.inc({ result: r.result });
        if (r.result === 'ready') this.metrics.prepDuration.observe({}, r.ms / 1000);
        else this.sendDrop(b.prepId);
        this.log.info({ prep: b.prepId, result: r.result, ms: Math.round(r.ms), bytes: r.bytes, ...(typeof b.reason === 'string' ? { reason: b.reason } : {}) }, 'preprocessing');
        this.schedulePrep();
        return;
      }
      case 'defer': {
        if (typeof b.runId !== 'string' || !UUID.test(b.runId) || this.deferredRuns.has(b.runId)) return;
        this.deferredRuns.set(b.runId, Date.now());
        const run = this.runs.get(b.runId);
        if (run && !run.abortedBy) {
          run.abortedBy = from;
          run.deferred = true;
          run.view.close(new MpcError('E_NOT_READY', `run ${b.runId} deferred by P${from}: a planned session had not reached it`, { party: from }));
        }
        this.notifyArrival();
        return;
      }
      case 'abort': {
        if (typeof b.runId !== 'string') return;
        const code = (typeof b.code === 'string' && b.code in ERROR_CODES ? b.code : 'E_INTERNAL') as ErrorCode;
        const run = this.runs.get(b.runId);
        const err = new MpcError(code, `run aborted by P${from} (${code})`, { party: from });
        this.abortedRuns.set(b.runId, Date.now());
        if (run && !run.abortedBy) { run.abortedBy = from; run.view.close(err); }
        this.notifyArrival();
        return;
      }
      default:
        this.log.warn({ from, type }, 'unknown control message ignored');
    }
  }

  private sweepEarly(force = false): void {
    const cutoff = Date.now() - 60_000;
    for (const [id, e] of this.earlyReady) if (e.at < cutoff || force) { this.earlyReady.delete(id); if (force && this.earlyReady.size < 5_000) break; }
    for (const [id, at] of this.abortedRuns) if (at < cutoff - 540_000) this.abortedRuns.delete(id);
    for (const [id, at] of this.deferredRuns) if (at < cutoff - 540_000) this.deferredRuns.delete(id);
  }

  // ---- protocol runs ---------------------------------------------------------

  /** P0: run one batch formed by the batcher. */
  private async lead(items: Session[]): Promise<void> {
    this.sweepEarly();
    const live = items.filter((s) => !isTerminal(s));
    if (live.length === 0 || !this.model) return;
    const runId = randomUUID();
    const plan: PlanEntry[] = live.map((s) => ({ id: s.id, batch: s.batch, policy: policyKey(s.policy!), ...(s.privacyRequest ? { privacy: s.privacyRequest } : {}) }));
    const now = Date.now();
    const deadlineMs = Math.max(1, Math.min(this.opts.sessions.maxDeadlineMs, Math.max(...live.map((s) => s.deadlineAt - now))));
    const s01 = randomBytes(16), s02 = randomBytes(16);
    let view: SessionTransport;
    try {
      view = this.mesh.openSession(runId);
    } catch (e) {
      for (const s of live) this.store.fail(s, asMpcError(e));
      return;
    }
    const masks = this.weightMasks.plan(runId, this.model.info.modelHash);
    const key = shapeKey(this.model.info.modelHash, this.compareBits, this.compareRadix, masks, plan);
    // A bundle of this shape, if one is ready at P1 and P2 (never for a build run: its B is not kept yet).
    const pre = masks?.build ? null : this.prepPool!.take(key);
    const base = { runId, modelHash: this.model.info.modelHash, sessions: plan, deadlineMs, compareBits: this.compareBits, compareRadix: this.compareRadix, masks, prep: pre?.prepId ?? null };
    const sent: PartyId[] = [];
    try {
      for (const [p, seed] of [[1, s01], [2, s02]] as const) { this.mesh.sendControl(p, 'plan', { ...base, seed: seed.toString('base64') } satisfies PlanBody); sent.push(p); }
    } catch (e) {
      const err = asMpcError(e);
      for (const p of sent) this.sendAbort(p, runId, err.code);
      view.close(err);
      for (const s of live) this.store.fail(s, err);
      this.weightMasks.ended(runId, masks, false);
      return;
    }
    this.log.info({ run: runId, sessions: plan.length, images: plan.reduce((a, p) => a + p.batch, 0), preprocessed: pre !== null }, 'batch planned');
    const result = await this.execute(runId, view, plan, deadlineMs, masks, async () => ({ pair: [undefined, s01, s02], own: randomBytes(16) }), { key, ...(pre ? { bundle: p0Bundle(pre.s02) } : {}) });
    // A failed run may be a peer that lost its pool: start again from live runs. A deferred one used only its own bundle.
    if (result === 'failed') this.dropPrep();
    else if (result === 'deferred') { if (pre) this.sendDrop(pre.prepId); }
    this.schedulePrep(result === 'done' && !masks?.build ? key : undefined);
  }

  /**
   * P0: ask for the next bundles a moment after a run (PREP_AFTER_RUN_MS: the sessions' HTTP answers, and the
   * client reading them, go before P2 deals), one shape at a time while idle; a busy party tries again after its
   * next run, a finished bundle (or its timeout) after it.
   */
  private schedulePrep(key?: string): void {
    if (key !== undefined) this.prepPending.add(key);
    if (this.prepTimer || this.prepPending.size === 0 || this.closed) return;
    this.prepTimer = setTimeout(() => {
      this.prepTimer = null;
      if (this.prepBusy() || this.prepPool!.inFlight) return;
      for (const k of this.prepPending) {
        this.prepPending.delete(k);
        if (this.maybePrep(k)) return;
      }
    }, PREP_AFTER_RUN_MS);
    this.prepTimer.unref();
  }

  // ---- preprocessing (parties/preprocessing.ts) -------------------------------

  /** P0: not idle for preprocessing (closed, a run going, or sessions queued). */
  private prepBusy(): boolean {
    return this.closed || this.runs.size > 0 || (this.batcher?.queued ?? 0) > 0;
  }

  /** P0: if idle and no bundle of this shape is ready or in flight, ask P1 and P2 for one; whether it asked. */
  private maybePrep(key: string): boolean {
    const pool = this.prepPool!;
    if (this.prepBusy() || !pool.wanted(key)) return false;
    const { prepId, s02 } = pool.start(key, (id) => { this.metrics.prepRuns.inc({ result: 'timeout' }); this.sendDrop(id); this.schedulePrep(); });
    try {
      this.mesh.sendControl(1, 'prep', { prepId, key });
      this.mesh.sendControl(2, 'prep', { prepId, key, seed: Buffer.from(s02).toString('base64') });
    } catch {
      this.dropPrep();
    }
    return true;
  }

  private sendDrop(prepId: string): void {
    for (const p of [1, 2] as PartyId[]) { try { this.mesh.sendControl(p, 'prep-drop', { prepId }); } catch { /* link down: the peer drops its pool itself */ } }
  }

  /** Empty this party's pool (P0: and tell the peers to drop theirs). */
  private dropPrep(): void {
    if (this.prepPool) for (const id of this.prepPool.clear()) this.sendDrop(id);
    this.prepHeld?.clear();
  }

  /**
   * P1, P2: make this party's part of bundle prepId. P1 sends P2 a fresh s12;
   * P2 replays its script of the shape with (s02, s12) and sends P1 a manifest
   * and the corrections; each keeps its part and reports to P0.
   */
  private async followPrep(b: Record<string, unknown>): Promise<void> {
    const prepId = b.prepId, key = b.key;
    if (typeof prepId !== 'string' || !UUID.test(prepId) || typeof key !== 'string' || key.length > 100_000) { this.log.error({ code: 'E_PROTOCOL_DESYNC' }, 'malformed prep request from P0 ignored'); return; }
    const held = this.prepHeld!;
    const report = (ok: boolean, bytes: number, reason?: string) => { try { this.mesh.sendControl(0, 'prepared', { prepId, ok, bytes, ...(reason ? { reason } : {}) }); } catch { /* P0 times the prep out */ } };
    let view: SessionTransport;
    try { view = this.mesh.openSession(prepId); } catch { report(false, 0, 'error'); return; }
    const opts = this.prepOpts;
    const timer = setTimeout(() => view.close(new MpcError('E_DEADLINE', `preprocessing ${prepId} passed its deadline of ${opts.timeoutMs} ms`, { party: this.party })), opts.timeoutMs);
    timer.unref();
    const t0 = performance.now();
    try {
      if (this.party === 1) {
        const s12 = randomBytes(16);
        view.sendSetup(2, 'seed', s12);
        const m = JSON.parse(Buffer.from(await view.recvSetup(2, 'manifest')).toString('utf8')) as { ok?: unknown; reason?: unknown; items?: unknown };
        if (m.ok !== true) { report(false, 0, typeof m.reason === 'string' ? m.reason : 'error'); return; }
        const list = m.items;
        if (!Array.isArray(list) || list.length > 1_000_000 || !list.every((it: unknown) => Array.isArray(it) && typeof it[0] === 'string' && Number.isInteger(it[1]) && (it[1] as number) >= 0)
          || (list as [string, number][]).reduce((a, it) => a + it[1], 0) > opts.maxBytes) throw new MpcError('E_PROTOCOL_DESYNC', `preprocessing ${prepId}: malformed manifest from P2`, { party: 2, step: 'manifest' });
        const items: { tag: string; data: Uint8Array }[] = [];
        for (const [i, [tag, n]] of (list as [string, number][]).entries()) {
          const data = await view.recv(2, `prep:${i}`);
          if (data.byteLength !== n) throw new MpcError('E_PROTOCOL_DESYNC', `preprocessing ${prepId}: item ${i} has ${data.byteLength} bytes, the manifest says ${n}`, { party: 2, step: 'prep' });
          items.push({ tag, data });
        }
        const bundle = p1Bundle(s12, items);
        held.add(prepId, key, bundle);
        report(true, bundle.bytes);
      } else {
        const s02 = typeof b.seed === 'string' ? Buffer.from(b.seed, 'base64') : Buffer.alloc(0);
        const s12 = await view.recvSetup(1, 'seed');
        if (s02.length !== 16 || s12.byteLength !== 16) throw new MpcError('E_PROTOCOL_DESYNC', `preprocessing ${prepId}: seeds are not 16 bytes`, { party: this.party, step: 'seed' });
        const script = held.script(key);
        const bytes = script ? scriptBytes(script) : 0;
        const refuse = !script ? 'no-script' : bytes > opts.maxBytes ? 'too-large' : null;
        const manifest = (v: unknown) => view.sendSetup(1, 'manifest', Buffer.from(JSON.stringify(v)));
        if (refuse) { manifest({ ok: false, reason: refuse }); report(false, 0, refuse); return; }
        const { forP1, p2 } = prepareBundle(kernelsFor(this.opts.kernels), script!, s02, new Uint8Array(s12));
        manifest({ ok: true, items: forP1.map((it) => [it.tag, it.data.byteLength]) });
        forP1.forEach((it, i) => view.send(1, `prep:${i}`, it.data));
        held.add(prepId, key, p2);
        report(true, bytes);
      }
      this.metrics.prepRuns.inc({ result: 'ok' });
      this.metrics.prepDuration.observe({}, (performance.now() - t0) / 1000);
    } catch (e) {
      const err = asMpcError(e);
      this.metrics.prepRuns.inc({ result: 'failed' });
      this.log.warn({ prep: prepId, code: err.code, err: err.message }, 'preprocessing failed');
      report(false, 0, 'error');
    } finally {
      clearTimeout(timer);
      view.close();
    }
  }

  /** P1, P2: take part in a run planned by P0. */
  private async follow(b: Record<string, unknown>): Promise<void> {
    const runId = b.runId, seedB64 = b.seed, sessions = b.sessions, deadlineMs = b.deadlineMs, masks = b.masks ?? null, prep = b.prep ?? null;
    const okPlan = typeof runId === 'string' && UUID.test(runId) && typeof seedB64 === 'string' && typeof deadlineMs === 'number' && deadlineMs > 0 && Array.isArray(sessions) && isPlanMasks(masks) && (prep === null || (typeof prep === 'string' && UUID.test(prep))) &&
      sessions.every((e: unknown) => typeof (e as PlanEntry)?.id === 'string' && Number.isInteger((e as PlanEntry)?.batch) && (e as PlanEntry).batch > 0 && typeof (e as PlanEntry).policy === 'string' &&
        ((e as PlanEntry).privacy === undefined || (typeof (e as PlanEntry).privacy === 'object' && (e as PlanEntry).privacy !== null)));
    if (!okPlan) { this.log.error({ code: 'E_PROTOCOL_DESYNC' }, 'malformed plan from P0 ignored'); if (typeof runId === 'string') this.sendAbort(0, runId, 'E_PROTOCOL_DESYNC'); return; }
    const seed = Buffer.from(seedB64, 'base64');
    let view: SessionTransport;
    try {
      view = this.mesh.openSession(runId);
    } catch (e) {
      this.sendAbort(0, runId, asMpcError(e).code);
      return;
    }
    const plan = sessions as PlanEntry[];
    // A plan without compareRadix comes from a P0 that compares in bits.
    if (b.compareBits !== this.compareBits || (b.compareRadix ?? 2) !== this.compareRadix) {
      this.fail(runId, view, plan, new MpcError('E_PROTOCOL_DESYNC', `P${this.party} cannot run plan ${runId}: P0 compares in ${String(b.compareBits)} bits, radix ${String(b.compareRadix ?? 2)}, this party in ${this.compareBits} bits, radix ${this.compareRadix} (compareBits and compareRadix must be the same at the three parties)`, { party: this.party }));
      return;
    }
    if (!this.model || b.modelHash !== this.model.info.modelHash || seed.length !== 16) {
      const err = new MpcError(this.model ? 'E_MODEL_MISMATCH' : 'E_NOT_READY', `P${this.party} cannot run plan ${runId}: ${this.model ? 'model or seed mismatch' : 'model not loaded'}`, { party: this.party });
      this.fail(runId, view, plan, err);
      return;
    }
    if (this.abortedRuns.has(runId)) { view.close(new MpcError('E_PEER_UNAVAILABLE', `run ${runId} was aborted before it started`)); return; }
    // A plan made ahead of this party's report (file comment, step 3): wait for its sessions, else defer the run.
    if (!(await this.awaitArrival(runId, plan))) {
      if (!this.deferredRuns.has(runId) && !this.abortedRuns.has(runId)) {
        this.deferredRuns.set(runId, Date.now());
        const missing = plan.filter((e) => !this.arrived(e.id)).length;
        for (const p of [0, 1, 2] as PartyId[]) if (p !== this.party) { try { this.mesh.sendControl(p, 'defer', { runId }); } catch { /* link down: the peer sees that itself */ } }
        this.log.info({ run: runId, missing, waitedMs: this.planAheadMs }, 'run deferred: planned sessions not here');
      }
      if (this.deferredRuns.has(runId)) this.metrics.runs.inc({ result: 'deferred' });
      view.close();
      return;
    }
    const getSeeds = async (): Promise<PartySeeds> => {
      if (this.party === 1) {
        const s12 = randomBytes(16);
        view.sendSetup(2, 'seed', s12);
        return { pair: [seed, undefined, s12], own: randomBytes(16) };
      }
      const s12 = await view.recvSetup(1, 'seed');
      if (s12.byteLength !== 16) throw new MpcError('E_PROTOCOL_DESYNC', 'pair seed from P1 is not 16 bytes', { party: 1, step: 'seed' });
      return { pair: [seed, s12, undefined], own: randomBytes(16) };
    };
    const key = shapeKey(this.model.info.modelHash, this.compareBits, this.compareRadix, masks as PlanMasks | null, plan);
    let bundle: PartyBundle | undefined;
    if (prep !== null) {
      const got = this.prepHeld!.take(prep as string, key);
      if (!got) {
        this.fail(runId, view, plan, new MpcError('E_PROTOCOL_DESYNC', `P${this.party} cannot run plan ${runId}: it holds no preprocessed bundle ${String(prep)} of this run's shape`, { party: this.party }));
        return;
      }
      bundle = got;
    }
    await this.execute(runId, view, plan, deadlineMs, masks as PlanMasks | null, getSeeds, { key, ...(bundle ? { bundle } : {}) });
  }

  private fail(runId: string, view: SessionTransport, plan: PlanEntry[], err: MpcError): void {
    for (const p of [0, 1, 2] as PartyId[]) if (p !== this.party) this.sendAbort(p, runId, err.code);
    view.close(err);
    for (const e of plan) { const s = this.store.get(e.id); if (s) this.store.fail(s, err); }
  }

  private sendAbort(to: PartyId, runId: string, code: ErrorCode): void {
    try { this.mesh.sendControl(to, 'abort', { runId, code }); } catch { /* link down: the peer sees that itself */ }
  }

  /**
   * Common to the three parties: run secureForward on the concatenated batch; returns whether the run
   * succeeded at this party. dealing: the run's shape key and this party's part of its bundle, if preprocessed.
   */
  private async execute(runId: string, view: SessionTransport, plan: PlanEntry[], deadlineMs: number, masks: PlanMasks | null, getSeeds: () => Promise<PartySeeds>, dealing: { key: string; bundle?: PartyBundle }): Promise<'done' | 'failed' | 'deferred'> {
    const model = this.model!;
    const run: ActiveRun = { view, abortedBy: null };
    const layers: LayerRecord[] = [];
    this.runs.set(runId, run);
    const t0 = performance.now();
    const images = plan.reduce((a, p) => a + p.batch, 0);
    const sessions = plan.map((e) => this.store.get(e.id));
    const timer = setTimeout(() => {
      const err = new MpcError('E_DEADLINE', `run ${runId} passed its deadline of ${deadlineMs} ms`, { party: this.party });
      for (const p of [0, 1, 2] as PartyId[]) if (p !== this.party) this.sendAbort(p, runId, 'E_DEADLINE');
      run.abortedBy ??= this.party;
      view.close(err);
    }, deadlineMs);
    timer.unref();
    try {
      // Inputs in plan order; P2 (and any session this party lost) contributes zeros.
      const input = new BigUint64Array(images * model.inputSize);
      let off = 0;
      plan.forEach((e, i) => {
        const s = sessions[i];
        if (s && s.batch !== e.batch) this.store.fail(s, new MpcError('E_SHAPE', `session ${s.id}: batch ${s.batch} here, ${e.batch} in the plan`));
        else if (s && this.party !== 2 && s.input && !isTerminal(s)) input.set(s.input, off);
        else if (s && this.party !== 2 && !isTerminal(s)) this.store.fail(s, new MpcError('E_PROTOCOL_DESYNC', `session ${s.id} was planned before its input arrived at P${this.party}`));
        if (s) this.store.markRunning(s, runId);
        off += e.batch * model.inputSize;
      });
      const policies = plan.map((e, i) => this.plannedPolicy(e, sessions[i]));
      const weightMasks = this.weightMasks.session(runId, masks, model.info.modelHash);
      // P2 records the jobs it deals in a live run (not a build run: its triples draw a fresh B) to prepare later runs of this shape.
      const script: DealScript | undefined = this.party === 2 && !dealing.bundle && !masks?.build && this.prepOpts.enabled ? [] : undefined;
      const ctx = createContext(this.party, view, await getSeeds(), {
        fracBits: model.info.fracBits, truncation: model.truncation, compareBits: this.compareBits, compareRadix: this.compareRadix, ...(this.opts.kernels ? { kernels: this.opts.kernels } : {}), ...(weightMasks ? { weightMasks } : {}),
        ...(dealing.bundle ? { bundle: dealing.bundle } : {}), ...(script ? { dealScript: script } : {}),
      });
      const onNode = this.opts.onNode;
      // Per-layer stats: deltas of the view's counters and of the clock between consecutive nodes.
      const c = view.counters;
      let last = { t: performance.now(), wait: c.waitMs ?? 0, bytes: c.bytesSent, msgs: c.messagesSent, depth: c.depth };
      const mark = (name: string, kind: string): void => {
        const now = { t: performance.now(), wait: c.waitMs ?? 0, bytes: c.bytesSent, msgs: c.messagesSent, depth: c.depth };
        layers.push({ name, kind, ms: now.t - last.t, waitMs: now.wait - last.wait, bytesSent: now.bytes - last.bytes, messages: now.msgs - last.msgs, rounds: now.depth - last.depth });
        last = now;
      };
      // One forward per model: the model itself, or each teacher of an ensemble (layer names prefixed t<i>/).
      const nets = model.teachers ?? [model.model];
      const outs: ShareTensor[] = [];
      for (const [t, net] of nets.entries()) {
        const prefix = model.teachers ? `t${t}/` : '';
        const onLayer = (name: string, index: number): void => {
          mark(prefix + name, net.nodes[index]?.kind ?? '');
          onNode?.(this.party, runId, prefix + name, index);
        };
        outs.push(await secureForward(ctx, net, { shape: [images, ...model.info.inputShape], data: input as AShare }, { onNode: onLayer, weightKeyPrefix: prefix }));
      }
      this.weightMasks.built(masks);
      // Let the forward's last messages leave before this party's own work on the output (Node's HTTP/2 writes go out
      // when the event loop turns: the peers would otherwise wait for this party's output, store and HTTP answer).
      await new Promise<void>((resolve) => setImmediate(resolve));
      const outputs = await this.privateOutputs(ctx, outs, plan, policies);
      // Clip, noise and secure argmax (or the ensemble's vote) count as one more "layer" of the run's stats.
      if (model.teachers) mark('pate', 'privacy');
      else if (policies.some((p) => !isPlainLogits(p))) mark('privateOutput', 'privacy');
      for (let i = 0; i < plan.length; i++) {
        const s = sessions[i];
        if (!s || isTerminal(s)) continue;
        // The privacy charge is settled before any output share can leave this party.
        const r = s.reservation;
        if (r) {
          delete s.reservation;
          try { await r.commit(); } catch (err) { this.store.fail(s, asMpcError(err)); continue; }
        }
        const o = outputs[i]!;
        this.store.complete(s, this.party === 2 ? undefined : o.data, o.shape, o.mode);
      }
      this.record(runId, plan, images, t0, view, null, layers, dealing.bundle !== undefined);
      this.weightMasks.ended(runId, masks, true);
      if (script) this.prepHeld!.record(dealing.key, script);
      return 'done';
    } catch (e) {
      // A deferred run keeps the weight masks it did not build (every party still holds them); a failed one builds again.
      this.weightMasks.ended(runId, masks, run.deferred === true && !masks?.build);
      if (run.deferred) {
        // The sessions wait again; P0 plans them once both reports are in. The run's masks and triples are its own and
        // never used again; what P0 (or P1, if P2 deferred) sent is dropped unread.
        for (const s of sessions) {
          if (!s || s.state !== 'running' || s.runId !== runId) continue;
          this.store.unmarkRunning(s);
          s.queued = false;
        }
        this.metrics.runs.inc({ result: 'deferred' });
        // P0 queues them again once this run is out of `runs` (the finally below).
        if (this.party === 0) queueMicrotask(() => { for (const s of sessions) if (s) this.maybeQueue(s); });
        return 'deferred';
      }
      const err = asMpcError(e);
      if (run.abortedBy === null && err.code !== 'E_PEER_UNAVAILABLE') {
        for (const p of [0, 1, 2] as PartyId[]) if (p !== this.party) this.sendAbort(p, runId, err.code);
      }
      for (const s of sessions) if (s) this.store.fail(s, err);
      this.record(runId, plan, images, t0, view, err, layers, dealing.bundle !== undefined);
      return 'failed';
    } finally {
      clearTimeout(timer);
      view.close();
      this.runs.delete(runId);
    }
  }

  /**
   * The policy a plan entry runs under: resolved from this party's model
   * policy and the request options P0 forwarded, and checked against P0's
   * key (the whole run is refused if they differ: the parties would fall out
   * of step) and against this party's own session (a client that sent
   * different options to the parties gets E_PROTOCOL_DESYNC).
   */
  private plannedPolicy(e: PlanEntry, s: Session | undefined): ResolvedPolicy {
    let p: ResolvedPolicy;
    try {
      p = this.resolve(e.privacy);
    } catch (err) {
      throw new MpcError('E_PROTOCOL_DESYNC', `P${this.party} refuses the privacy options of a session in the plan`, { party: this.party, cause: err }); // no id: every session of the run gets this error
    }
    if (policyKey(p) !== e.policy) throw new MpcError('E_PROTOCOL_DESYNC', `P${this.party} resolves another privacy policy than P0 for a session in the plan (do the model manifests differ?)`, { party: this.party });
    if (s?.policy && policyKey(s.policy) !== e.policy) this.store.fail(s, new MpcError('E_PROTOCOL_DESYNC', `session ${s.id}: the client sent different privacy options to the parties`, { party: this.party }));
    return p;
  }

  /**
   * Per session (plan order), this party's output share: the logits slice
   * for plain-logits sessions; otherwise privateOutput, once per group of
   * sessions with the same policy (groups in order of first appearance, the
   * same at the three parties). Label + confidence is stored as [N, 2]
   * (label, bucket per image). An ensemble (outs: one per teacher) runs
   * pateAggregate per group instead; its policy is always a label mode.
   */
  private async privateOutputs(ctx: PartyContext, outs: ShareTensor[], plan: PlanEntry[], policies: ResolvedPolicy[]): Promise<{ data: BigUint64Array; shape: number[]; mode: OutputMode }[]> {
    const model = this.model!;
    const C = model.outputSize;
    const out = outs[0]!;
    const first: number[] = [];
    let row = 0;
    for (const e of plan) { first.push(row); row += e.batch; }
    const res: { data: BigUint64Array; shape: number[]; mode: OutputMode }[] = new Array(plan.length);
    const logitsOf = (data: BigUint64Array, n: number) => ({ data, shape: [n, ...model.info.outputShape], mode: 'logits' as const });
    const groups = new Map<string, number[]>();
    plan.forEach((e, i) => {
      if (isPlainLogits(policies[i]!)) res[i] = logitsOf(out.data.slice(first[i]! * C, (first[i]! + e.batch) * C), e.batch);
      else groups.set(e.policy, [...(groups.get(e.policy) ?? []), i]);
    });
    /** The group's rows of one forward's output, in plan order. */
    const gather = (o: ShareTensor, idx: number[], rows: number): BigUint64Array => {
      const x = new BigUint64Array(rows * C);
      let r = 0;
      for (const i of idx) { x.set(o.data.subarray(first[i]! * C, (first[i]! + plan[i]!.batch) * C), r * C); r += plan[i]!.batch; }
      return x;
    };
    for (const idx of groups.values()) {
      const rows = idx.reduce((a, i) => a + plan[i]!.batch, 0);
      const policy = policies[idx[0]!]!;
      if (model.teachers) {
        // PATE: a single-logit (sigmoid) teacher votes over the two logits [0, x], as privateOutput does.
        const n = Math.max(C, 2);
        const votes = outs.map((o) => {
          const x = gather(o, idx, rows);
          if (C !== 1) return x as AShare;
          const two = new BigUint64Array(2 * rows);
          for (let j = 0; j < rows; j++) two[2 * j + 1] = x[j]!;
          return two as AShare;
        });
        const label = await pateAggregate(ctx, votes, rows, n, { noise: policy.noise });
        let r = 0;
        for (const i of idx) { res[i] = { data: label.slice(r, r + plan[i]!.batch), shape: [plan[i]!.batch], mode: 'label' }; r += plan[i]!.batch; }
        continue;
      }
      const x = gather(out, idx, rows);
      const y = await privateOutput(ctx, { shape: [rows, C], data: x as AShare }, policy);
      let r = 0;
      for (const i of idx) {
        const n = plan[i]!.batch;
        if (y.mode === 'logits') res[i] = logitsOf(y.logits.slice(r * C, (r + n) * C), n);
        else if (y.confidence) {
          const both = new BigUint64Array(2 * n);
          for (let j = 0; j < n; j++) { both[2 * j] = y.label[r + j]!; both[2 * j + 1] = y.confidence[r + j]!; }
          res[i] = { data: both, shape: [n, 2], mode: 'label+confidence' };
        } else res[i] = { data: y.label.slice(r, r + n), shape: [n], mode: 'label' };
        r += n;
      }
    }
    return res;
  }

  private record(runId: string, plan: PlanEntry[], images: number, t0: number, view: SessionTransport, err: MpcError | null, layers: LayerRecord[], preprocessed: boolean): void {
    const ms = performance.now() - t0;
    const c = view.counters;
    const rec: RunRecord = { runId, sessions: plan.map((p) => p.id), images, ok: err === null, ms, bytesSent: c.bytesSent, rounds: c.depth, messages: c.messagesSent, waitMs: c.waitMs ?? 0, layers, preprocessed, ...(err ? { code: err.code } : {}) };
    this.runLog.push(rec);
    if (this.runLog.length > 200) this.runLog.shift();
    const m = this.metrics;
    m.runs.inc({ result: err ? 'failed' : 'ok' });
    m.runDuration.observe({}, ms / 1000);
    m.batchImages.observe({}, images);
    m.batchSessions.observe({}, plan.length);
    if (!err) {
      m.inferences.inc({}, images);
      m.runBytes.observe({}, c.bytesSent);
      m.imageBytes.observe({}, c.bytesSent / images);
      m.runRounds.observe({}, c.depth);
    } else m.errors.inc({ code: err.code, source: 'run' });
    const fields = { run: runId, sessions: plan.length, images, ms: Math.round(ms), bytesSent: c.bytesSent, messages: c.messagesSent, rounds: c.depth };
    if (err) this.log.warn({ ...fields, ...errFields(err) }, 'run failed');
    else this.log.info(fields, 'run done');
  }

  /** The record of the run that served session `id` at this party (newest first), if still in the log. */
  runOf(id: string): RunRecord | undefined {
    const sid = id.toLowerCase();
    for (let i = this.runLog.length - 1; i >= 0; i--) if (this.runLog[i]!.sessions.includes(sid)) return this.runLog[i];
    return undefined;
  }

  get activeRuns(): number { return this.runs.size; }
  get queuedSessions(): number { return this.batcher?.queued ?? 0; }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    this.batcher?.close();
    this.store.failAll(() => new MpcError('E_PEER_UNAVAILABLE', `P${this.party} is shutting down`, { party: this.party }));
    await this.mesh.close();
    this.store.close();
    await this.accountant.flush();
    await this.journal?.flush();
  }

  /** Abrupt stop (tests): as if the process died. */
  kill(): void {
    this.closed = true;
    clearInterval(this.sweeper);
    this.batcher?.close();
    this.mesh.kill();
    this.store.close();
  }
}
