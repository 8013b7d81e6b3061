/**
 * The start-up warm-up's client-path runs (warmup.ts, after its dummy-data
 * runs): the code only a client's prediction reaches is warmed by running
 * predictions through it, on dummy data, in a private copy of the party's
 * client-facing state.
 *
 * Each party builds, for the round, a twin of its client side on the same
 * classes as the real one: a session desk, run planner, run executor and
 * preprocessing driver over a PartyCore whose session store (no id journal),
 * metrics registry, logger (silent) and privacy accountant (in memory) are
 * its own. It shares with the real party only what does not depend on any
 * input: the model, the mesh (its own run ids; control messages prefixed
 * CONTROL_PREFIX so that only the twin's planner sees them) and the kept
 * weight masks (warm-up runs use them, as the dummy runs do). So a warm-up
 * prediction goes through the session desk (create with input, await
 * output), the planner (ready reports, plan, plan-ahead), the executor (run
 * records, metrics), the offline phase (its own bundles: P0's pool and P1's,
 * P2's holdings of the twin, never the ones meant for clients) and the output
 * path (privacy policy, output shares), and touches none of: client sessions,
 * quotas, the privacy accountant, client run records and metrics, logs, the
 * id journal.
 *
 * Not the HTTP routes: a twin fastify app driven by `inject` warmed them, but
 * its mock requests and replies (and the twin app's own objects) then share
 * the type feedback of Node's HTTP and stream code and fastify's with the real
 * requests, and the real party's warm CPU per prediction was 5-15% higher in
 * A/B runs (BENCHMARKS.md, "Cold start through the client path"); the routes
 * stay cold.
 *
 * One prediction: P0 draws a session id, three session keys and the request,
 * sends control `warmup-client` {id, sessionId, key, req} to P1 and P2, and
 * each party makes its part of the session in its twin as the route handlers
 * do for the SDK's requests (parties/http-sessions.ts): P0 and P1 create it
 * with their input share and wait for the output (P0's share: the dummy
 * input; P1's: zeros), P2 creates it. P0 waits for its output before the next.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { SESSION_KEY_PATTERN, type CreateSessionRequest } from '../protocol/api-contract.js';
import { MpcError } from '../protocol/errors.js';
import type { AccountantStore } from '../protocol/privacy/accountant.js';
import { silentLogger } from './log.js';
import type { PeerMesh } from './mesh.js';
import { partyMetrics } from './metrics.js';
import { asMpcError, UUID, type PartyCore, type PartyOptions } from './party-core.js';
import { PrepDriver } from './prep-driver.js';
import { AccountantHolder } from './privacy.js';
import { RunExecutor } from './run-executor.js';
import { RunPlanner } from './run-planner.js';
import { SessionDesk } from './session-desk.js';
import { SessionStore } from './sessions.js';

/** Control messages of the twins' planners and offline phase travel as `warmup-x:<type>`. */
export const CONTROL_PREFIX = 'warmup-x:';
/** The client id of the twin's sessions (its own store and accountant only). */
const TWIN_CLIENT = 'warm-up';

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
  readonly metrics = partyMetrics();
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
    // The real kept weight masks; the store, accountant (its state in memory) and metrics of the real classes.
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
  }

  /** A twin's control message (the prefix taken off), from the real mesh. */
  onControl(from: 0 | 1 | 2, type: string, body: unknown): void {
    if (!this.closed) this.planner.onControl(from, type, body);
  }

  /**
   * This party's part of one warm-up prediction, as the route handlers do it
   * for the SDK's requests (http-sessions.ts): P0, P1 create the session with
   * their input share and wait for the output; P2 creates it. Resolves when
   * done; rejects with the coded error of a refused or failed session.
   */
  async request(req: CreateSessionRequest, sessionKey: string, share?: BigUint64Array): Promise<void> {
    if (this.closed) throw new MpcError('E_NOT_READY', 'warm-up client path closed');
    if (this.real.party === 2) { await this.desk.createSession(req, TWIN_CLIENT, sessionKey); return; }
    const created = await this.desk.createWithInput(req, TWIN_CLIENT, sessionKey, new Uint8Array(share!.buffer, share!.byteOffset, share!.byteLength));
    const s = await this.desk.awaitOutput(created.sessionId, TWIN_CLIENT, sessionKey, req.deadlineMs ?? 60_000);
    if (s.state !== 'done' || !s.output) throw new MpcError(s.error?.code ?? 'E_DEADLINE', `warm-up prediction at P${this.real.party} ${s.state === 'failed' ? 'failed' : 'not done in time'}`, { party: this.real.party });
  }

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

  /** End the twin: its runs cut, its sessions failed. */
  close(): void {
    if (this.closed) return;
    this.cut(new MpcError('E_PEER_UNAVAILABLE', 'warm-up ended'));
    this.closed = true;
    this.planner.batcher?.close();
    this.prep.drop();
    this.store.close();
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
    // The offline phase of the next prediction (the twin's own bundle) ends first, as between a client's predictions.
    while (r.twin.prep.inFlight && r.current() && !r.busy() && performance.now() < r.endAt) await new Promise((res) => setTimeout(res, 2));
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
