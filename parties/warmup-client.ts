/**
 * The start-up warm-up's client-path runs (warmup.ts, after its dummy-data
 * runs): the code only a client's prediction reaches is warmed by running
 * predictions through it, on dummy data, in a private copy of the party's
 * client-facing state.
 *
 * Each party builds, for the round, a twin of its client side on the same
 * classes and route code as the real one: a fastify app of its own with the
 * same routes (http.ts registerApi: authentication, body parser, session
 * routes, error mapping; driven by `inject`, never listening), a session desk,
 * run planner, run executor and preprocessing driver over a PartyCore whose
 * session store (no id journal), metrics registry, logger (silent) and privacy
 * accountant (in memory) are its own. It shares with the real party only what
 * does not depend on any input: the model, the mesh (its own run ids, control
 * messages prefixed CONTROL_PREFIX so that only the twin's planner sees them)
 * and the kept weight masks (warm-up runs use them, as the dummy runs do).
 * So a warm-up prediction goes through the HTTP route, the desk, the planner
 * (ready reports, plan, plan-ahead), the executor (run records, metrics), the
 * offline phase (its own bundles: P0's pool and P1's, P2's holdings of the
 * twin, never the ones meant for clients) and the output path (privacy policy,
 * the output envelope), and touches none of: client sessions, quotas, the
 * privacy accountant, client run records and metrics, logs, the id journal.
 *
 * One prediction: P0 draws a session id, three session keys and the request,
 * sends control `warmup-client` {id, sessionId, key, req} to P1 and P2, and
 * each party asks its own twin as the SDK asks the party (client-sdk
 * client.ts): P0 and P1 PUT their input share with x-session-create and
 * x-await-output (P0's share: the dummy input; P1's: zeros), P2 POSTs the
 * session. P0 waits for its answer before the next one.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { API_VERSION, AWAIT_OUTPUT_HEADER, SESSION_CREATE_HEADER, SESSION_KEY_HEADER, SESSION_KEY_PATTERN, type CreateSessionRequest } from '../protocol/api-contract.js';
import { ERROR_CODES, MpcError, type ErrorCode } from '../protocol/errors.js';
import type { AccountantStore } from '../protocol/privacy/accountant.js';
import { API_FASTIFY_OPTIONS, registerApi } from './http.js';
import { silentLogger } from './log.js';
import type { PeerMesh } from './mesh.js';
import { partyMetrics } from './metrics.js';
import { asMpcError, UUID, type PartyCore, type PartyOptions } from './party-core.js';
import type { Party } from './party.js';
import { PrepDriver } from './prep-driver.js';
import { AccountantHolder } from './privacy.js';
import { RunExecutor } from './run-executor.js';
import { RunPlanner } from './run-planner.js';
import { SessionDesk } from './session-desk.js';
import { SessionStore } from './sessions.js';

/** Control messages of the twins' planners and offline phase travel as `warmup-x:<type>`. */
export const CONTROL_PREFIX = 'warmup-x:';

/** An accountant store that keeps its state in memory: the twin's accountant never touches the real one's file. */
function memoryStore(): AccountantStore {
  let text: string | null = null;
  return { read: async () => text, write: async (t) => { text = t; } };
}

export class WarmupClientPath {
  readonly store: SessionStore;
  readonly executor: RunExecutor;
  readonly planner: RunPlanner;
  readonly prep: PrepDriver;
  readonly desk: SessionDesk;
  readonly app: FastifyInstance;
  readonly metrics = partyMetrics();
  /** The bearer token of the twin's app (random; no real client has it, and the app does not listen). */
  private readonly token = randomBytes(24).toString('base64url');
  private closed = false;

  constructor(private readonly real: PartyCore) {
    const opts: PartyOptions = { ...real.opts, sessions: { ...real.opts.sessions, idJournal: undefined }, logger: silentLogger, metrics: this.metrics };
    delete opts.onNode;
    const mesh = real.mesh;
    const twinMesh = {
      sendControl: (to: 0 | 1 | 2, type: string, body: unknown) => mesh.sendControl(to, CONTROL_PREFIX + type, body),
      openSession: (id: string) => mesh.openSession(id),
      isUp: (p: 0 | 1 | 2) => mesh.isUp(p),
      allUp: () => mesh.allUp(),
    } as unknown as PeerMesh;
    // The real kept weight masks and classes of the real party's parts (the client path's code then sees the same
    // kinds of objects, warm or not); the accountant's state in memory.
    const core: PartyCore = {
      party: real.party, opts, mesh: twinMesh, metrics: this.metrics, log: silentLogger, weightMasks: real.weightMasks, accountant: new AccountantHolder(real.opts.privacy, memoryStore()),
      get store() { return store; }, get model() { return real.model; }, get closed() { return real.closed || closedNow(); },
      ready: () => real.ready(), modelInfo: () => real.modelInfo(),
    };
    const closedNow = (): boolean => this.closed;
    const store = new SessionStore(
      { maxSessions: 64, maxPerClient: 64, retentionMs: 60_000, tombstoneMs: 60_000, maxTombstones: 10_000 },
      (s) => { this.planner.batcher?.remove(s.id); this.store.takeReservation(s)?.release().catch(() => {}); },
    );
    this.store = store;
    this.prep = new PrepDriver(core, () => this.executor.runs.size > 0 || this.planner.queued > 0);
    this.executor = new RunExecutor(core, this.prep, (sessions) => { for (const s of sessions) if (s) this.planner.maybeQueue(s); });
    this.planner = new RunPlanner(core, this.executor, this.prep);
    this.desk = new SessionDesk(core, this.planner);
    // The routes as http.ts registers them, on the twin: what registerApi and the routes call on a Party.
    const desk = this.desk, executor = this.executor;
    const facade = {
      party: real.party, opts, metrics: this.metrics, store, get model() { return real.model; },
      maxInputBytes: () => desk.maxInputBytes(), modelInfo: () => real.modelInfo(),
      createSession: desk.createSession.bind(desk), createWithInput: desk.createWithInput.bind(desk), putInput: desk.putInput.bind(desk),
      awaitOutput: desk.awaitOutput.bind(desk), privacyReport: desk.privacyReport.bind(desk), runOf: (id: string) => executor.runOf(id),
    } as unknown as Party;
    this.app = Fastify({ ...API_FASTIFY_OPTIONS, logger: false } as FastifyServerOptions) as unknown as FastifyInstance;
    registerApi(this.app, facade, { tokens: [this.token], corsOrigins: [], longPollMaxMs: opts.sessions.maxDeadlineMs + 5_000, metricsOnApi: false });
  }

  /** A twin's control message (the prefix taken off), from the real mesh. */
  onControl(from: 0 | 1 | 2, type: string, body: unknown): void {
    if (!this.closed) this.planner.onControl(from, type, body);
  }

  /**
   * This party's request of one warm-up prediction, as the SDK sends it:
   * P0, P1 PUT the input share and wait for the output; P2 POSTs the session.
   * Resolves when answered; rejects with the coded error of a refused request.
   */
  async request(req: CreateSessionRequest, sessionKey: string, share?: BigUint64Array): Promise<void> {
    if (this.closed) throw new MpcError('E_NOT_READY', 'warm-up client path closed');
    const headers = { authorization: `Bearer ${this.token}`, [SESSION_KEY_HEADER]: sessionKey };
    const body = JSON.stringify(req);
    const res = this.real.party === 2
      ? await this.app.inject({ method: 'POST', url: `/${API_VERSION}/sessions`, headers: { ...headers, 'content-type': 'application/json' }, payload: body })
      : await this.app.inject({
        method: 'PUT', url: `/${API_VERSION}/sessions/${req.sessionId}/input`, payload: Buffer.from(share!.buffer, share!.byteOffset, share!.byteLength),
        headers: { ...headers, 'content-type': 'application/octet-stream', [SESSION_CREATE_HEADER]: body, [AWAIT_OUTPUT_HEADER]: String(req.deadlineMs ?? 60_000) },
      });
    // P0 and P1 wait for the output (200); a session that failed meanwhile is answered 201 without it.
    if (res.statusCode >= 300 || (this.real.party !== 2 && res.statusCode !== 200)) {
      let code: string = this.store.get(req.sessionId.toLowerCase())?.error?.code ?? 'E_INTERNAL';
      try { code = (JSON.parse(res.body) as { code?: string }).code ?? code; } catch { /* not JSON */ }
      throw new MpcError(code in ERROR_CODES ? code as ErrorCode : 'E_INTERNAL', `warm-up prediction refused by P${this.real.party}'s client path (HTTP ${res.statusCode}, ${code})`, { party: this.real.party });
    }
  }

  /** Runs in progress in the twin. */
  get running(): number { return this.executor.runs.size; }

  /** Cut every run of the twin (a client is waiting, the budget is spent, the round ended), told to the peers' twins: their sessions fail. */
  cut(err: MpcError): void {
    for (const id of [...this.executor.runs.keys()]) {
      this.real.weightMasks.spare(id); // a cut 'use' run leaves the kept weight masks valid (as warmup.ts's leadRun)
      for (const p of [0, 1, 2] as const) if (p !== this.real.party) { try { this.real.mesh.sendControl(p, `${CONTROL_PREFIX}abort`, { runId: id, code: err.code }); } catch { /* link down */ } }
      this.executor.interrupt(id, this.real.party, err);
    }
    this.planner.batcher?.clear();
    this.store.failAll(() => err);
  }

  /** End the twin: its runs cut, its sessions failed, its app closed. */
  close(): void {
    if (this.closed) return;
    this.cut(new MpcError('E_PEER_UNAVAILABLE', 'warm-up ended'));
    this.closed = true;
    this.planner.batcher?.close();
    this.prep.drop();
    this.store.close();
    void this.app.close().catch(() => {});
  }
}

export interface ClientRound {
  twin: WarmupClientPath;
  runs: number;
  batches: number[];
  /** performance.now() at which the round's budget ends. */
  endAt: number;
  modelHash: string;
  /** The parties' sessions.maxDeadlineMs (a longer deadline is refused). */
  maxDeadlineMs: number;
  busy: () => boolean;
  current: () => boolean;
  /** P0's control message to a peer. */
  send: (to: 1 | 2, type: string, body: object) => void;
  input: (batch: number) => BigUint64Array;
  /** A prediction completed. */
  done: () => void;
}

/**
 * P0: the round's client-path predictions, one at a time, until `runs`, the
 * budget (a prediction that would not end in time, as long as the last one of
 * its size, is not started; one in flight then is cut) or a client session
 * waiting (it is cut at once: client work first). Returns why it stopped, or
 * null if the round ended meanwhile; throws a prediction's coded error.
 */
export async function leadClientRuns(r: ClientRound): Promise<{ stop: 'runs' | 'budget' | 'client'; cut: boolean } | null> {
  const lastMs = new Map<number, number>();
  for (let i = 0; i < r.runs; i++) {
    if (!r.current()) return null;
    const batch = r.batches[i % r.batches.length]!;
    if (performance.now() + (lastMs.get(batch) ?? 0) >= r.endAt) return { stop: 'budget', cut: false };
    if (r.busy()) return { stop: 'client', cut: false };
    const sessionId = randomUUID();
    const keys = [0, 1, 2].map(() => randomBytes(32).toString('base64url'));
    const req: CreateSessionRequest = { sessionId, batch, modelHash: r.modelHash, requestNonce: randomBytes(32).toString('base64url'), deadlineMs: Math.max(1, Math.min(r.maxDeadlineMs, 60_000, Math.floor(r.endAt - performance.now()) + 5_000)) };
    for (const p of [1, 2] as const) r.send(p, 'warmup-client', { sessionId, key: keys[p], req });
    let why: 'budget' | 'client' | null = null;
    const cutNow = (w: 'budget' | 'client'): void => { if (why) return; why = w; r.twin.cut(new MpcError('E_DEADLINE', `warm-up prediction cut (${w})`, { party: 0 })); };
    const watch = setInterval(() => { if (r.busy()) cutNow('client'); else if (performance.now() >= r.endAt) cutNow('budget'); }, 20);
    const t = performance.now();
    try {
      await r.twin.request(req, keys[0]!, r.input(batch));
    } catch (e) {
      if (why) return { stop: why, cut: true };
      throw e;
    } finally {
      clearInterval(watch);
    }
    if (why) return { stop: why, cut: true };
    lastMs.set(batch, performance.now() - t);
    r.done();
  }
  return { stop: 'runs', cut: false };
}

/** P1, P2: this party's request of one of P0's client-path predictions (`warmup-client`), to its own twin; `done` when answered. */
export async function followClientRun(c: PartyCore, twin: () => WarmupClientPath, b: Record<string, unknown>, done: () => void): Promise<void> {
  const { sessionId, key, req } = b;
  const r = req as CreateSessionRequest | null;
  if (typeof sessionId !== 'string' || !UUID.test(sessionId) || typeof key !== 'string' || !SESSION_KEY_PATTERN.test(key) || typeof r !== 'object' || r === null || r.sessionId !== sessionId || !Number.isInteger(r.batch) || r.batch! < 1 || r.batch! > 4096) {
    c.log.error({ code: 'E_PROTOCOL_DESYNC' }, 'malformed warm-up prediction from P0 ignored');
    return;
  }
  try {
    await twin().request(r, key, c.party === 1 ? new BigUint64Array(r.batch! * c.model!.inputSize) : undefined);
    done();
  } catch (e) {
    c.log.debug({ code: asMpcError(e).code }, 'warm-up prediction failed');
  }
}
