/**
 * The session desk: what a client's requests do at this party (http.ts calls
 * it). Create a session (POST /v1/sessions), take its input share (PUT
 * input), both in one request (createWithInput), wait for its output (GET
 * output). Every write to a session goes through the SessionStore; what
 * happens next (reports to P0, queueing for a run) is the run planner's.
 *
 * Output privacy: each session's policy is resolved at creation from the
 * model's manifest policy and the request's `privacy` options (only
 * stricter, else E_PRIVACY_POLICY; every DP parameter is checked here). A
 * policy with DP reserves epsilon x batch in this party's accountant for the
 * client at creation (E_BUDGET_EXHAUSTED); the executor commits it before the
 * output is stored, and the store's onFail releases it if the session fails
 * first.
 */
import type { CreateSessionRequest, CreateSessionResponse } from '../protocol/api-contract.js';
import { MpcError } from '../protocol/errors.js';
import type { PrivacyReport } from '../protocol/privacy/index.js';
import { bytesU64 } from '../protocol/sharing/sharing.js';
import { infoEnabled, sessionTag } from './log.js';
import { asMpcError, clientDeadlineMs, UUID, type PartyCore } from './party-core.js';
import { resolveModelPolicy } from './model-policy.js';
import { outputPrivacy } from './privacy.js';
import type { RunPlanner } from './run-planner.js';
import { sessionBinding } from './session-binding.js';
import { semiHonestSessionRefusal } from './malicious-refusals.js';
import { isTerminal, sessionKeyHash, type Session } from './sessions.js';

export class SessionDesk {
  constructor(private readonly c: PartyCore, private readonly planner: RunPlanner) {}

  /**
   * `clientId`: the caller's identity at this party (http.ts; the session's
   * owner and the accountant's id); `sessionKey`: the key the client drew
   * for this session at this party (SESSION_KEY_HEADER), kept as its hash.
   */
  async createSession(req: CreateSessionRequest, clientId: string, sessionKey: string): Promise<CreateSessionResponse> {
    const c = this.c;
    const info = c.modelInfo();
    if (!c.ready()) throw new MpcError('E_NOT_READY', `P${c.party} is not ready: peers not connected`, { party: c.party });
    // A malicious party runs sessions through its own routes (http-malicious.ts): refuse, never run semi-honestly instead.
    if (c.opts.security === 'malicious') throw semiHonestSessionRefusal(c.party, req);
    if (!UUID.test(req.sessionId)) throw new MpcError('E_BAD_ARGUMENT', 'sessionId must be a UUID');
    if (req.modelHash !== undefined && req.modelHash.toLowerCase() !== info.modelHash) throw new MpcError('E_MODEL_MISMATCH', `P${c.party} serves model ${info.modelHash.slice(0, 12)}…, not the one the client expects`, { party: c.party });
    const batch = req.batch ?? 1;
    if (!Number.isInteger(batch) || batch < 1 || batch > c.opts.batch.maxBatch) throw new MpcError('E_BAD_ARGUMENT', `batch must be an integer in 1..${c.opts.batch.maxBatch}, got ${batch}`);
    const deadlineMs = clientDeadlineMs(req.deadlineMs, c.opts.sessions);
    const id = req.sessionId.toLowerCase();
    c.store.checkFree(id);
    const policy = resolveModelPolicy(c.model!, req.privacy); // E_PRIVACY_POLICY (403), E_DP_PARAMETER, E_DP_SENSITIVITY
    // Reserve before the session exists (E_BUDGET_EXHAUSTED, 429); give it back if the session cannot be created.
    const reservation = policy.charge ? await (await c.accountant.get()).reserve(clientId, policy.charge, batch) : undefined;
    let s: Session;
    try {
      if (!c.ready()) throw new MpcError('E_NOT_READY', `P${c.party} is not ready: peers not connected`, { party: c.party });
      s = c.store.create(id, batch, deadlineMs, clientId, sessionKeyHash(sessionKey));
    } catch (e) {
      await reservation?.release();
      throw e;
    }
    c.store.attachPolicy(s, policy, req.privacy, reservation);
    s.binding = sessionBinding(req, id, batch);
    if (infoEnabled(c.log)) c.log.info({ session: sessionTag(id), batch, deadlineMs, outputMode: policy.outputMode, ...(policy.charge ? { epsilon: policy.charge.epsilon * batch } : {}) }, 'session created');
    this.planner.sessionCreated(s);
    const { privacy: _modelPrivacy, ...rest } = info;
    const privacy = outputPrivacy(policy);
    return { ...rest, ...(privacy ? { privacy } : {}), sessionId: id, party: c.party, acceptsInput: c.party !== 2 };
  }

  /** GET /v1/privacy/budget: the caller's budget at this party. */
  async privacyReport(clientId: string): Promise<PrivacyReport> {
    return (await this.c.accountant.get()).report(clientId);
  }

  /** Byte limit of an input upload: the largest batch of the loaded model. */
  maxInputBytes(): number {
    const m = this.c.model;
    // The malicious mode's d = x - r is one Z_2^128 word (16 bytes) per element of each image of a batch (malicious-desk.ts).
    return m ? m.inputSize * this.c.opts.batch.maxBatch * (this.c.opts.security === 'malicious' ? 16 : 8) : 0;
  }

  /** PUT input: `clientId` and `sessionKey` must be the session's (else E_NOT_FOUND, as for an unknown id). */
  putInput(id: string, clientId: string, sessionKey: string | undefined, body: Uint8Array): { sessionId: string; state: string; bytes: number } {
    const c = this.c;
    const s = c.store.owned(id.toLowerCase(), clientId, sessionKey);
    if (c.party === 2) throw new MpcError('E_BAD_ARGUMENT', 'P2 is the helper and takes no input share', { party: 2 });
    if (isTerminal(s)) throw s.state === 'failed' && s.error ? s.error : new MpcError('E_CONFLICT', `session ${s.id} is already ${s.state}`);
    if (s.input || s.state !== 'created') throw new MpcError('E_CONFLICT', `session ${s.id}: input already uploaded`);
    this.checkShareSize(s.batch, body.byteLength);
    c.store.setInput(s, bytesU64(body));
    if (infoEnabled(c.log)) c.log.info({ session: sessionTag(s.id), bytes: body.byteLength }, 'input share received');
    this.planner.inputReceived(s);
    return { sessionId: s.id, state: s.state, bytes: body.byteLength };
  }

  /**
   * PUT input with x-session-create: createSession and putInput in one
   * request, both or neither. The share's size is checked before the session
   * exists; should putInput still refuse, the new session fails at once (its
   * reservation, if any, is released) and the error is the answer.
   */
  async createWithInput(req: CreateSessionRequest, clientId: string, sessionKey: string, body: Uint8Array): Promise<CreateSessionResponse & { state: string; bytes: number }> {
    const c = this.c;
    if (c.party === 2) throw new MpcError('E_BAD_ARGUMENT', 'P2 is the helper and takes no input share', { party: 2 });
    if (req.modelHash === undefined) throw new MpcError('E_BAD_ARGUMENT', 'a session created with its input needs modelHash', { party: c.party });
    // A bad batch (or no model) is createSession's to refuse, with its own code.
    const batch = req.batch ?? 1;
    if (c.model && Number.isInteger(batch) && batch >= 1 && batch <= c.opts.batch.maxBatch) this.checkShareSize(batch, body.byteLength);
    const created = await this.createSession(req, clientId, sessionKey);
    try {
      const r = this.putInput(created.sessionId, clientId, sessionKey, body);
      return { ...created, state: r.state, bytes: r.bytes };
    } catch (e) {
      const s = c.store.get(created.sessionId);
      if (s && !isTerminal(s)) c.store.fail(s, asMpcError(e));
      throw e;
    }
  }

  /** E_SHAPE unless `bytes` is one u64 share per input element of `batch` images (the model is loaded). */
  private checkShareSize(batch: number, bytes: number): void {
    const m = this.c.model!;
    const want = batch * m.inputSize * 8;
    if (bytes !== want) throw new MpcError('E_SHAPE', `input share: expected ${want} bytes (${batch} x [${m.info.inputShape}] u64), got ${bytes}`, { party: this.c.party });
  }

  /** Long poll: resolves when the session is terminal or after waitMs (only for the session's client, else E_NOT_FOUND). */
  async awaitOutput(id: string, clientId: string, sessionKey: string | undefined, waitMs: number): Promise<Session> {
    const c = this.c;
    const s = c.store.owned(id.toLowerCase(), clientId, sessionKey);
    if (c.party === 2) throw new MpcError('E_BAD_ARGUMENT', 'P2 is the helper and holds no output share', { party: 2 });
    await c.store.wait(s, waitMs);
    if (s.state === 'failed') throw s.error ?? new MpcError('E_INTERNAL', `session ${s.id} failed`);
    return s;
  }
}
