/**
 * One party of the service, assembled from its parts (ARCHITECTURE.md, "The
 * path of one request", walks through them):
 *  - the session store (sessions.ts): every session and every write to one;
 *  - the session desk (session-desk.ts): what clients' requests do;
 *  - the run planner (run-planner.ts): ready reports, batching at P0,
 *    planning ahead and deferral, the control messages between parties;
 *  - the preprocessing driver (prep-driver.ts): the offline phase while idle;
 *  - the run executor (run-executor.ts): the protocol run itself, private
 *    outputs, run records;
 * plus the share model, the mesh to the other two parties and the privacy
 * accountant. A lost peer link fails every unfinished session with
 * E_PEER_UNAVAILABLE.
 */
import type { CreateSessionRequest, CreateSessionResponse, ModelInfo, SecurityMode } from '../protocol/api-contract.js';
import { MpcError } from '../protocol/errors.js';
import type { PrivacyReport } from '../protocol/privacy/index.js';
import type { PartyId } from '../protocol/ring/types.js';
import { installRuntimeKernels } from '../runtime/kernels.js';
import { IdJournal, idJournalTtlMs } from './id-journal.js';
import { errFields, sessionTag, silentLogger, type Logger } from './log.js';
import type { LinkSettings } from './link-hello.js';
import { fuseReluIntoDense, fuseReluIntoMaxPool } from './fuse-knob.js';
import { MALICIOUS_REVISION } from '../protocol/malicious/revision.js';
import { PeerMesh } from './mesh.js';
import { partyMetrics, type PartyMetrics } from './metrics.js';
import { checkMaliciousModel } from '../protocol/malicious/runner.js';
import { checkModelSecurity, checkModelSettings, loadPartyModel, type LoadedModel } from './model-source.js';
import { asMpcError, type PartyCore, type PartyOptions, type RunRecord } from './party-core.js';
import { PrepDriver } from './prep-driver.js';
import { DEFAULT_PREPROCESS, type PrepHoldings, type PrepPool } from './preprocessing.js';
import { AccountantHolder } from './privacy.js';
import { RunExecutor } from './run-executor.js';
import { RunPlanner } from './run-planner.js';
import { SessionDesk } from './session-desk.js';
import { MaliciousDesk } from './malicious-desk.js';
import { loadReplicatedModel } from './replicated-source.js';
import type { ModelIR } from '../protocol/ir.js';
import type { RepTensor } from '../protocol/malicious/weights.js';
import { SessionStore, type Session } from './sessions.js';
import { Warmup, DEFAULT_WARMUP, type WarmupStatus } from './warmup.js';
import { WeightMaskState } from './weight-masks.js';
import { rangeSentinelOn } from './range-sentinel.js';

export type { LayerRecord, PartyOptions, RunRecord, SessionLimits } from './party-core.js';

/** How long a client's request counts as client work for the start-up warm-up's `busy` (ms; above its 20 ms poll). */
export const CLIENT_RECENT_MS = 100;

/** How long a used session id stays refused. */
const TOMBSTONE_MS = 3_600_000;

export class Party implements PartyCore {
  readonly party: PartyId;
  readonly mesh: PeerMesh;
  readonly store: SessionStore;
  readonly metrics: PartyMetrics;
  readonly log: Logger;
  readonly accountant: AccountantHolder;
  /** Kept weight masks (P0 decides per run, the plan carries it). */
  readonly weightMasks: WeightMaskState;
  model: LoadedModel | null = null;
  modelError: MpcError | null = null;
  readonly desk: SessionDesk;
  /** The malicious mode's runs (malicious-desk.ts); its replicated weights, loaded at start when security is 'malicious'. */
  readonly malDesk: MaliciousDesk;
  replicated: ModelIR<RepTensor> | null = null;
  readonly planner: RunPlanner;
  readonly prep: PrepDriver;
  readonly executor: RunExecutor;
  /** Start-up warm-up between the parties (warmup.ts): not ready until its round ended. */
  readonly warmup: Warmup;
  /**
   * performance.now() of the last client request that created a session or sent an input: the warm-up's `busy` (client
   * work first) counts it for CLIENT_RECENT_MS, so that a client served between two of the warm-up's 20 ms polls still
   * ends the round (a Network A run takes less than that).
   */
  private lastClientAt = -Infinity;
  private isClosed = false;
  /** Set by the process-fault policy (process-fault.ts): never ready again in this process. */
  private faultCode: MpcError | null = null;
  private readonly sweeper: NodeJS.Timeout;
  private readonly journal: IdJournal | undefined;

  constructor(readonly opts: PartyOptions) {
    this.party = opts.party;
    // The addons load here (runtime/), not in protocol/: protocol/ gets its default kernels and the PRG's AES-NI keystream handed in.
    installRuntimeKernels();
    // The server's logger already carries { party } in its base bindings.
    this.log = opts.logger ?? silentLogger;
    this.metrics = opts.metrics ?? partyMetrics();
    this.accountant = new AccountantHolder(opts.privacy);
    this.weightMasks = new WeightMaskState(opts.party, opts.keepWeightMasks ?? true);
    // What the peers compare at HELLO (link-hello.ts): the mesh starts once the model is loaded, so its hash is in.
    const settings = (): LinkSettings => ({
      security: opts.security ?? 'semi-honest', ...(opts.security === 'malicious' ? { maliciousComparisons: opts.malicious?.comparisons ?? 'arithmetic', maliciousRevision: MALICIOUS_REVISION, maliciousInputDigest: true } : {}), compareBits: opts.compareBits ?? 32, compareRadix: opts.compareRadix ?? 4, keepWeightMasks: opts.keepWeightMasks ?? true,
      preprocess: (opts.preprocess ?? DEFAULT_PREPROCESS).enabled, ...(this.model ? { modelHash: this.model.info.modelHash, ...(this.model.info.importId ? { importId: this.model.info.importId } : {}), outputCompareBits: this.model.outputCompareBits ?? 64, rangeSentinel: this.model.info.rangeSentinel === true } : {}),
      // The opt-in fusions (fuse-knob.ts), must-match: sent only when on, so a default party's HELLO is as before.
      ...(fuseReluIntoDense() ? { fuseReluIntoDense: true } : {}), ...(fuseReluIntoMaxPool() ? { fuseReluIntoMaxPool: true } : {}),
    });
    this.mesh = new PeerMesh({ settings, ...opts.mesh, party: opts.party, logger: this.log });
    this.journal = opts.sessions.idJournal ? IdJournal.open(opts.sessions.idJournal, idJournalTtlMs(TOMBSTONE_MS, opts.sessions), (e) => this.log.error(errFields(e), 'session id journal write failed')) : undefined;
    const maxPerClient = opts.sessions.maxPerClient ?? Math.max(1, Math.floor(opts.sessions.maxSessions / 4));
    this.store = new SessionStore(
      { maxSessions: opts.sessions.maxSessions, maxPerClient, retentionMs: opts.sessions.retentionMs, tombstoneMs: TOMBSTONE_MS, maxTombstones: 100_000 },
      (s, e) => this.sessionFailed(s, e),
      this.journal,
    );
    this.prep = new PrepDriver(this, () => this.executor.runs.size > 0 || this.planner.queued > 0);
    this.executor = new RunExecutor(this, this.prep, (sessions) => { for (const s of sessions) if (s) this.planner.maybeQueue(s); });
    this.planner = new RunPlanner(this, this.executor, this.prep);
    this.desk = new SessionDesk(this, this.planner);
    this.malDesk = new MaliciousDesk(this, () => this.replicated);
    // A malicious party runs no semi-honest warm-up round (it runs no semi-honest protocol at all).
    this.warmup = new Warmup(this, opts.security === 'malicious' ? { ...(opts.warmup ?? DEFAULT_WARMUP), runs: 0 } : opts.warmup ?? DEFAULT_WARMUP, () => this.executor.runs.size > 0 || this.planner.queued > 0 || performance.now() - this.lastClientAt < CLIENT_RECENT_MS, this.prep);
    this.sweeper = setInterval(() => this.planner.sweepEarly(), 10_000);
    this.sweeper.unref();
    this.mesh.onControl((from, type, body) => {
      if (type.startsWith('warmup')) this.warmup.onControl(from, type, body);
      // A malicious session failed at a peer's mask step (malicious-desk.ts): it ends here too, not at its deadline.
      else if (type === 'mal-drop') this.malDesk.peerDropped(from, body);
      else this.planner.onControl(from, type, body);
    });
    this.mesh.onPeer((peer, up) => {
      this.warmup.peerChanged(peer, up);
      if (up) return;
      // The peer may come back without its kept masks: build them again.
      this.weightMasks.reset();
      this.prep.drop();
      this.planner.batcher?.clear();
      this.store.failAll(() => new MpcError('E_PEER_UNAVAILABLE', `party P${peer} is unavailable`, { party: peer }));
      this.malDesk.peerDown(peer);
    });
  }

  /** The store's onFail: out of the batcher, and (no output share of it left this party) its privacy budget back. */
  private sessionFailed(s: Session, e: MpcError): void {
    this.metrics.errors.inc({ code: e.code, source: 'session' });
    this.planner.batcher?.remove(s.id);
    this.log.info({ session: sessionTag(s.id), code: e.code, state: 'failed' }, 'session failed');
    const r = this.store.takeReservation(s);
    if (r) r.release().catch((err: unknown) => this.log.error({ session: sessionTag(s.id), ...errFields(err) }, 'privacy reservation release failed'));
  }

  /**
   * Load the model, then start the mesh: a party links to its peers only once
   * its model is loaded, so "both peers connected" means all three can run.
   * If the model fails to load, the mesh is not started (modelError says why).
   */
  async start(): Promise<{ grpcPort: number | null }> {
    try {
      const m = await loadPartyModel(this.opts.model, this.party);
      checkModelSettings(m, this.opts.compareBits ?? 32, this.party);
      const security = this.opts.security ?? 'semi-honest';
      checkModelSecurity(m, security, this.party);
      // Malicious mode: a layer the malicious runner cannot run yet is refused at load, naming it (E_UNSUPPORTED_LAYER).
      if (security === 'malicious') for (const t of m.teachers ?? [m.model]) checkMaliciousModel(t, m.info.fracBits);
      // ...and one without the replicated weight shares (E_BUNDLE_INTEGRITY): it never falls back to the semi-honest protocol.
      if (security === 'malicious') this.replicated = loadReplicatedModel(this.opts.model, this.party);
      // Announced in /v1/model and every session answer (the SDK checks the three agree).
      // ...and whether the parties run the range sentinel for it (range-sentinel.ts: the SDK then requires its shares).
      const sentinel = rangeSentinelOn(this.opts.rangeSentinel, m.info.compareBound, security);
      this.model = { ...m, info: { ...m.info, security, ...(sentinel ? { rangeSentinel: true } : {}), ...(security === 'malicious' ? { maliciousDeadline: true } : {}) } };
      this.log.info({ modelHash: m.info.modelHash, ...(m.teachers ? { teachers: m.teachers.length } : {}), inputShape: m.info.inputShape, outputShape: m.info.outputShape, fracBits: m.info.fracBits, truncation: m.truncation, outputMode: m.info.privacy?.outputMode ?? 'logits', dp: m.info.privacy?.dp !== undefined }, 'model loaded');
      // The import could not show the comparison ring sound for every input in the declared range: loud, at every load.
      if (m.rangeWarning) this.log.warn({ compareBound: m.rangeWarning.basis, compareBits: m.compareBits }, `${m.rangeWarning.basis === 'unsound-override' ? 'UNSOUND COMPARISON RING' : 'comparison ring not shown sound (samples only)'}: ${m.rangeWarning.text}`);
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

  get closed(): boolean { return this.isClosed; }

  /**
   * Whether the party takes sessions: model loaded, both peer links up. A
   * party still warming up takes them too (P0 then ends the warm-up round:
   * client work first); /readyz says ready only once the warm-up ended.
   */
  ready(): boolean { return this.model !== null && this.mesh.allUp() && !this.isClosed && this.faultCode === null; }

  /**
   * The process met an unhandled rejection or uncaught exception (process-fault.ts): not ready from now on (/readyz
   * says E_PROCESS_FAULT, new sessions get E_NOT_READY), and every session in flight fails with `e` at once (the
   * malicious runs too: malicious-desk.ts fault()); the start-up warm-up's round, and its twin's sessions, end.
   */
  fault(e: MpcError): void {
    if (this.faultCode) return;
    this.faultCode = e;
    this.store.failAll(() => e);
    this.malDesk.fault(e);
    // The warm-up round ends too: its twin's sessions (warmup-client.ts) fail, and it starts no more.
    this.warmup.close();
  }
  get faulted(): MpcError | null { return this.faultCode; }

  /**
   * /readyz: the model, each peer link, and why a link was refused (a peer
   * with another link version or settings: `compareBits: P0 has 32, P1 has 64`),
   * and the start-up warm-up (warmup.ts: waiting, running, done, failed or off).
   */
  readiness(): { ready: boolean; fault?: string; modelLoaded: boolean; security: SecurityMode; peers: Record<string, boolean>; warmup: WarmupStatus; peerProblems?: Record<string, { code: string; message: string }>; peerWarnings?: Record<string, string[]> } {
    const peers: Record<string, boolean> = {};
    const problems: Record<string, { code: string; message: string }> = {};
    const warnings: Record<string, string[]> = {};
    for (const p of [0, 1, 2] as PartyId[]) {
      if (p === this.party) continue;
      peers[`P${p}`] = this.mesh.isUp(p);
      const h = this.mesh.health[p]!;
      if (h.problem && !this.mesh.isUp(p)) problems[`P${p}`] = { code: h.problem.code, message: h.problem.message };
      if (h.warnings.length > 0 && this.mesh.isUp(p)) warnings[`P${p}`] = h.warnings;
    }
    return { ready: this.ready() && this.warmup.settled, ...(this.faultCode ? { fault: this.faultCode.code } : {}), modelLoaded: this.model !== null, security: this.opts.security ?? 'semi-honest', peers, warmup: this.warmup.status, ...(Object.keys(problems).length ? { peerProblems: problems } : {}), ...(Object.keys(warnings).length ? { peerWarnings: warnings } : {}) };
  }

  modelInfo(): ModelInfo {
    if (!this.model) throw new MpcError('E_NOT_READY', this.modelError ? `model failed to load (${this.modelError.code})` : 'model not loaded yet');
    return this.model.info;
  }

  // ---- the client API (session-desk.ts) -------------------------------------

  createSession(req: CreateSessionRequest, clientId: string, sessionKey: string): Promise<CreateSessionResponse> { this.lastClientAt = performance.now(); return this.desk.createSession(req, clientId, sessionKey); }
  createWithInput(req: CreateSessionRequest, clientId: string, sessionKey: string, body: Uint8Array): Promise<CreateSessionResponse & { state: string; bytes: number }> { this.lastClientAt = performance.now(); return this.desk.createWithInput(req, clientId, sessionKey, body); }
  putInput(id: string, clientId: string, sessionKey: string | undefined, body: Uint8Array): { sessionId: string; state: string; bytes: number } { this.lastClientAt = performance.now(); return this.desk.putInput(id, clientId, sessionKey, body); }
  awaitOutput(id: string, clientId: string, sessionKey: string | undefined, waitMs: number): Promise<Session> { return this.desk.awaitOutput(id, clientId, sessionKey, waitMs); }
  privacyReport(clientId: string): Promise<PrivacyReport> { return this.desk.privacyReport(clientId); }
  maxInputBytes(): number { return this.desk.maxInputBytes(); }

  // ---- runs, for metrics, diagnostics and tests ------------------------------

  get runLog(): RunRecord[] { return this.executor.runLog; }
  runOf(id: string): RunRecord | undefined { return this.executor.runOf(id); }
  get activeRuns(): number { return this.executor.runs.size; }
  get queuedSessions(): number { return this.planner.queued; }
  get prepPool(): PrepPool | null { return this.prep.pool; }
  get prepHeld(): PrepHoldings | null { return this.prep.held; }
  get prepInFlight(): boolean { return this.prep.inFlight; }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    clearInterval(this.sweeper);
    this.planner.batcher?.close();
    this.warmup.close();
    this.malDesk.close();
    this.store.failAll(() => new MpcError('E_PEER_UNAVAILABLE', `P${this.party} is shutting down`, { party: this.party }));
    await this.mesh.close();
    this.store.close();
    await this.accountant.flush();
    await this.journal?.close();
  }

  /** Abrupt stop (tests): as if the process died. */
  kill(): void {
    this.isClosed = true;
    clearInterval(this.sweeper);
    this.planner.batcher?.close();
    this.warmup.close();
    this.malDesk.close();
    this.mesh.kill();
    this.store.close();
  }
}
