/**
 * PrivateInferenceClient: the client side of protocol/api-contract.ts.
 *
 * One predict() call:
 *  1. check the input (dtype, shape, and the model's input shape when known)
 *     and decode image bytes: every input error is thrown before any request;
 *  2. POST /v1/sessions to P0, P1, P2 with one fresh UUID v4; the three must
 *     report the same model (and expectedModelHash, when set);
 *  3. preprocess images for the model's [H, W, C], fixed-point encode with the
 *     parties' fracBits, split x = x_0 + x_1 (mod 2^64);
 *  4. PUT x_0 to P0 and x_1 to P1 (P2, the helper, gets nothing);
 *  5. GET the output shares from P0 and P1 (long poll), reconstruct
 *     y = y_0 + y_1; in 'logits' mode decode it and apply the output
 *     activation on the client; in the label modes (x-output-mode header)
 *     y holds the decisions computed inside the protocol (label-results.ts:
 *     the class index per image, one bit per label of a multi-label head, a
 *     thresholded mask), with confidence buckets in 'label+confidence': the
 *     client never gets logits or probabilities.
 * With the model pinned and known (createWithInput, below), steps 2, 4 and 5
 * are one request per party: PUT with x-session-create and x-await-output at
 * P0 and P1 (answered with the output share), POST at P2.
 * The parties see only uniformly random shares; only this client sees x and y.
 * Output privacy: the client asks for options.privacy (default: logits);
 * the parties refuse anything looser than the model's policy
 * (PrivacyPolicyError) or beyond the client's DP budget (BudgetExhaustedError).
 * Requests to the parties run in parallel; the first failure cancels the rest.
 *
 * This file is the request flow; the option and result types are in
 * client-types.ts, the checks of what the parties answer in wire.ts, and
 * step 5's reconstruction in outputs.ts.
 */
import type { CreateSessionRequest, CreateSessionResponse, ModelInfo, OutputMode, PrivacyOptions } from '../../protocol/api-contract.js';
import { AWAIT_OUTPUT_HEADER, OUTPUT_ENVELOPE_TYPE, OUTPUT_KIND_HEADER, OUTPUT_MODE_HEADER, OUTPUT_SENTINEL_HEADER, OUTPUT_SESSION_HEADER, OUTPUT_SHAPE_HEADER, SESSION_CREATE_HEADER, SESSION_KEY_HEADER, SESSION_KEY_PATTERN } from '../../protocol/api-contract.js';
import { encode as encodeFixed } from '../../protocol/fixed-point/fixed-point.js';
import { DeadlineError, InputError, ModelMismatchError, PrivateInferenceError, asClientError, errorForCode, isErrorCode } from './errors.js';
import { PartyHttp, type FetchLike, type PartyEndpoint } from './http.js';
import { orientationNotes, preprocessImage, specForModel } from './image/preprocess.js';
import { decodeAnyImage } from './image/dicom.js';
import type { ImageDecoder, RawImage } from './image/types.js';
import { checkTensorRange } from './input-range.js';
import { partiesAgree } from './agreement.js';
import { partyEndpoints } from './endpoints.js';
import { checkTensorShape, classifyInput, sameShape, type ClassifiedInput, type ImageInput, type Tensor } from './input.js';
import { bytesToU64, sessionKey, splitShares, u64ToBytes, uuidV4 } from './ring.js';
import { DEFAULT_TIMEOUT_MS, type AnyBatch, type BatchLabelPrediction, type BatchPrediction, type ClientOptions, type LabelModePrivacy, type LabelPrediction, type PredictOptions, type PredictProgress, type Prediction, type ProgressStage } from './client-types.js';
import { product, reconstructOutputs, singleResult } from './outputs.js';
import { requireRangeSentinel } from './range-sentinel.js';
import { MAX_AWAIT_MS, checkModelInfo, checkOutputSession, checkSessionResponse, openEnvelope, parseShape, requestPrivacy, sleep, type Output } from './wire.js';
import { checkSecurity } from './security.js';
import { runMalicious } from './malicious-predict.js';

export * from './client-types.js';

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export class PrivateInferenceClientBase {
  private readonly endpoints: readonly PartyEndpoint[];
  private readonly http: PartyHttp;
  private readonly timeoutMs: number;
  private readonly expectedModelHash: string | undefined;
  private readonly requireSecurity: 'malicious' | undefined;
  private readonly inputShape: readonly number[] | undefined;
  private readonly imageScale: number | undefined;
  private readonly decodeImage: ImageDecoder;
  private readonly dicomCodecsUrl: string | undefined;
  private readonly createWithInput: boolean;
  private lastModel: ModelInfo | undefined;

  /** platformFetch: the entry's default transport (Node: nodeRequest); else globalThis.fetch. */
  constructor(options: ClientOptions, platformDecoder: ImageDecoder, platformFetch?: FetchLike) {
    const o = options as Partial<ClientOptions> | undefined;
    if (!o) throw new InputError('E_BAD_ARGUMENT', 'PrivateInferenceClient: parties must be the three base URLs [P0, P1, P2]');
    this.endpoints = partyEndpoints(o.parties, o.allowInsecureHttp === true);
    if (o.tokens !== undefined && o.token !== undefined) throw new InputError('E_BAD_ARGUMENT', 'PrivateInferenceClient: give tokens (one per party) or token, not both');
    const tokens = o.tokens ?? (o.token !== undefined ? [o.token, o.token, o.token] : undefined);
    if (!Array.isArray(tokens) || tokens.length !== 3 || tokens.some((t) => typeof t !== 'string' || t.length === 0 || /\s/.test(t))) {
      throw new InputError('E_BAD_ARGUMENT', 'PrivateInferenceClient: tokens must be the three bearer tokens [P0, P1, P2] (or token: one for all three, loopback development only), non-empty and without spaces');
    }
    const t = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (typeof t !== 'number' || Number.isNaN(t) || t < 0) throw new InputError('E_BAD_ARGUMENT', 'PrivateInferenceClient: timeoutMs must be a number >= 0');
    this.timeoutMs = t;
    const f = o.fetch ?? platformFetch ?? (globalThis.fetch as FetchLike | undefined)?.bind(globalThis);
    if (typeof f !== 'function') throw new InputError('E_BAD_ARGUMENT', 'PrivateInferenceClient: no fetch available; pass options.fetch');
    this.http = new PartyHttp(f, tokens as [string, string, string]);
    if (o.expectedModelHash !== undefined && !(typeof o.expectedModelHash === 'string' && /^[0-9a-f]{64}$/i.test(o.expectedModelHash))) {
      throw new InputError('E_BAD_ARGUMENT', 'PrivateInferenceClient: expectedModelHash must be a sha256 in hex (64 digits)');
    }
    this.expectedModelHash = o.expectedModelHash?.toLowerCase();
    if (o.requireSecurity !== undefined && o.requireSecurity !== 'malicious') throw new InputError('E_BAD_ARGUMENT', "PrivateInferenceClient: requireSecurity must be 'malicious' or absent");
    this.requireSecurity = o.requireSecurity;
    this.inputShape = o.inputShape ? [...o.inputShape] : undefined;
    if (o.imageScale !== undefined && !(typeof o.imageScale === 'number' && Number.isFinite(o.imageScale) && o.imageScale > 0)) throw new InputError('E_BAD_ARGUMENT', 'PrivateInferenceClient: imageScale must be a positive number');
    this.imageScale = o.imageScale;
    this.decodeImage = o.decodeImage ?? platformDecoder;
    if (o.dicomCodecsUrl !== undefined && typeof o.dicomCodecsUrl !== 'string') throw new InputError('E_BAD_ARGUMENT', 'PrivateInferenceClient: dicomCodecsUrl must be a string');
    this.dicomCodecsUrl = o.dicomCodecsUrl;
    this.createWithInput = o.createWithInput ?? true;
  }

  /** The model the parties reported in the last session (undefined before the first prediction). */
  get model(): ModelInfo | undefined {
    return this.lastModel;
  }

  /**
   * The model the three parties serve (GET /v1/model at each; they must
   * agree), without running anything: its shapes, labels, output policy
   * (`privacy.outputMode`: a label-only model needs predict(x, { privacy:
   * { outputMode } })), what its comparison ring rests on (`compareBound`:
   * 'samples-only' means not shown sound over every input) and, for a PATE
   * teacher ensemble, `ensemble`.
   */
  async describe(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<ModelInfo> {
    return this.withDeadline(options, (ms) => `describe: no answer within ${ms} ms`, (ctl) => this.announced(ctl));
  }

  /** GET /v1/model at the three parties; they must agree. */
  private async announced(ctl: AbortController): Promise<ModelInfo> {
    const answers = await this.parallel(ctl, this.endpoints.map(async (ep) => {
      const res = await this.http.call(ep, { method: 'GET', path: '/v1/model', accept: 'application/json' }, ctl.signal);
      return checkModelInfo(await this.http.read(ep, 'model info', ctl.signal, () => res.json()), ep.party);
    }));
    // The malicious routes take the client's deadline only where all three say so (an older party refuses it).
    const { maliciousDeadline: _, ...agreed } = this.agree(answers);
    return (this.lastModel = answers.every((a) => a.maliciousDeadline === true) ? { ...agreed, maliciousDeadline: true } : agreed);
  }

  /**
   * Runs fn under one AbortController fed by the caller's signal and a
   * timeout (options.timeoutMs, else the client's); an abort surfaces as its
   * reason, other errors as client errors; timer and listener are removed.
   */
  private async withDeadline<T>(options: { signal?: AbortSignal; timeoutMs?: number }, message: (ms: number) => string, fn: (ctl: AbortController, limitMs: number | undefined) => Promise<T>): Promise<T> {
    const user = options.signal;
    user?.throwIfAborted();
    const ctl = new AbortController();
    const onAbort = (): void => ctl.abort(user!.reason);
    user?.addEventListener('abort', onAbort, { once: true });
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const limited = timeoutMs > 0 && Number.isFinite(timeoutMs);
    const timer = limited ? setTimeout(() => ctl.abort(new DeadlineError(message(timeoutMs))), timeoutMs) : undefined;
    try {
      return await fn(ctl, limited ? timeoutMs : undefined);
    } catch (e) {
      if (ctl.signal.aborted) throw ctl.signal.reason;
      throw asClientError(e);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      user?.removeEventListener('abort', onAbort);
    }
  }

  predict(input: ImageInput, options: PredictOptions & { batch?: false; privacy: LabelModePrivacy }): Promise<LabelPrediction>;
  predict(input: readonly ImageInput[] | Tensor, options: PredictOptions & { batch: true; privacy: LabelModePrivacy }): Promise<BatchLabelPrediction>;
  predict(input: ImageInput, options?: PredictOptions & { batch?: false; privacy?: PrivacyOptions & { outputMode?: 'logits' } }): Promise<Prediction>;
  predict(input: readonly ImageInput[] | Tensor, options: PredictOptions & { batch: true; privacy?: PrivacyOptions & { outputMode?: 'logits' } }): Promise<BatchPrediction>;
  predict(input: ImageInput | readonly ImageInput[], options?: PredictOptions): Promise<Prediction | BatchPrediction | LabelPrediction | BatchLabelPrediction>;
  async predict(input: ImageInput | readonly ImageInput[], options: PredictOptions = {}): Promise<Prediction | BatchPrediction | LabelPrediction | BatchLabelPrediction> {
    const started = now();
    return this.withDeadline(options, (ms) => `predict: no result within ${ms} ms`, (ctl, limitMs) => this.run(input, options, ctl, started, limitMs));
  }

  private async run(input: ImageInput | readonly ImageInput[], options: PredictOptions, ctl: AbortController, started: number, deadlineMs: number | undefined): Promise<Prediction | BatchPrediction | LabelPrediction | BatchLabelPrediction> {
    const signal = ctl.signal;
    const batched = options.batch === true;
    let sessionId: string | undefined;
    let batch = 1;
    const emit = (stage: ProgressStage, bytes?: number): void => {
      if (!options.onProgress) return;
      const e: PredictProgress = { stage, elapsedMs: now() - started, batch };
      if (sessionId !== undefined) e.sessionId = sessionId;
      if (bytes !== undefined) e.bytes = bytes;
      try { options.onProgress(e); } catch { /* a failing observer must not fail the prediction */ }
    };

    // Step 1: everything that can be checked without the parties.
    const given = options.sessionKeys;
    if (given !== undefined && (!Array.isArray(given) || given.length !== 3 || given.some((k) => typeof k !== 'string' || !SESSION_KEY_PATTERN.test(k)))) {
      throw new InputError('E_BAD_ARGUMENT', 'predict: sessionKeys must be three keys of 43 base64url characters (32 random bytes each)');
    }
    // A key per party: a party sees its own key on every request; the same key at another party would serve it there.
    if (given !== undefined && new Set(given).size !== 3) throw new InputError('E_BAD_ARGUMENT', 'predict: sessionKeys must be three different keys, one per party');
    const privacy = requestPrivacy(options.privacy);
    const items = this.classify(input, batched);
    const batchTensor = batched && !Array.isArray(input);
    batch = batchTensor ? (items[0] as { tensor: Tensor }).tensor.shape[0]! : items.length;
    const known = this.inputShape ?? this.lastModel?.inputShape;
    if (known) items.forEach((it, i) => { if (it.kind === 'tensor') checkTensorShape(it.tensor, known, batchTensor, batched ? `input[${i}]` : 'input'); });
    // The declared input range, when the model is known already: refused before any session is created.
    if (this.lastModel) items.forEach((it, i) => { if (it.kind === 'tensor') checkTensorRange(it.tensor, this.lastModel!, batched ? `input[${i}]` : 'input'); });
    emit('encoding');
    const frame = options.dicom?.frame;
    if (frame !== undefined && !(Number.isInteger(frame) && frame >= 0)) throw new InputError('E_BAD_ARGUMENT', 'predict: dicom.frame must be an integer >= 0');
    // DICOM files are decoded here, on the client: only the pixels go on; no header field is ever sent.
    const decoded = await Promise.all(items.map((it) => (it.kind === 'image' ? decodeAnyImage(it.src, this.decodeImage, { ...(frame !== undefined ? { frame } : {}), ...(this.dicomCodecsUrl !== undefined ? { codecsUrl: this.dicomCodecsUrl } : {}) }) : Promise.resolve(undefined))));
    signal.throwIfAborted();

    sessionId = uuidV4();
    // A fresh key per party: each party answers this session only to a request that presents its key.
    const keys = given ?? [sessionKey(), sessionKey(), sessionKey()] as const;
    const keyed = (p: number): Record<string, string> => ({ [SESSION_KEY_HEADER]: keys[p]! });
    const remaining = deadlineMs === undefined ? undefined : Math.max(1, Math.round(deadlineMs - (now() - started)));
    const path = `/v1/sessions/${sessionId}`;
    if (options.requireSecurity !== undefined && options.requireSecurity !== 'malicious') throw new InputError('E_BAD_ARGUMENT', "predict: requireSecurity must be 'malicious' or absent");
    const requireSecurity = options.requireSecurity ?? this.requireSecurity;
    // A required security mode is checked on the parties' announcements before any share is sent: no create-with-input then.
    const mustCheck = requireSecurity !== undefined || this.lastModel?.requires?.security !== undefined;
    const pinned = !mustCheck && this.createWithInput && this.expectedModelHash !== undefined && this.lastModel?.modelHash.toLowerCase() === this.expectedModelHash ? this.lastModel : undefined;
    // Step 3: preprocess, encode, split for model m.
    const encodeFor = (m: ModelInfo): [BigUint64Array, BigUint64Array] => {
      const shares = splitShares(encodeFixed(this.assemble(items, decoded, m, batch, batchTensor), m.fracBits));
      signal.throwIfAborted();
      emit('uploading', shares[0].byteLength);
      return shares;
    };
    let model!: ModelInfo; // assigned on every path below (the try/catch hides it from the flow analysis)
    // With createWithInput, P0's and P1's answers may carry the output shares already.
    let outputs: [Output | undefined, Output | undefined] = [undefined, undefined];
    let result: AnyBatch | undefined;
    const malicious = (m: ModelInfo): Promise<AnyBatch> => runMalicious({ http: this.http, endpoints: this.endpoints, parallel: (c) => this.parallel(ctl, c), signal, ...(remaining !== undefined ? { deadlineMs: remaining } : {}) }, m, () => this.assemble(items, decoded, m, batch, batchTensor), batch, privacy.outputMode, sessionId!, keys, emit);
    // Parties that announced security 'malicious' (or must): their announcement, fresh, then the malicious flow.
    if (this.lastModel?.security === 'malicious' || requireSecurity === 'malicious') {
      model = await this.announced(ctl);
      checkSecurity(model, requireSecurity);
      if (model.security === 'malicious') result = await malicious(model);
    }
    if (!result) {
      // Step 2: sessions at all three parties, which must agree on the model. Malicious parties refuse a session
      // (E_SECURITY_MODE) and create none: then, if they announce 'malicious', the malicious flow (probe: the refusal
      // must not abort the prediction). With the model pinned, steps 2, 4 and 5 in one request per party: P0 and P1
      // create the session with its share (each refuses unless it serves the pinned model) and answer the output share
      // once the run is done (x-await-output), P2 gets the POST; then the three answers must agree, and on the model
      // the shares were encoded for.
      const probe = new AbortController();
      const follow = (): void => probe.abort(signal.reason);
      signal.addEventListener('abort', follow, { once: true });
      try {
        const created = await this.createSessions(sessionId, keys, batch, remaining, privacy, probe, requireSecurity, pinned ? encodeFor(pinned) : undefined, pinned ? () => emit('computing') : undefined);
        model = created.model;
        outputs = created.outputs;
      } catch (e) {
        if (signal.aborted || !(e instanceof PrivateInferenceError) || e.code !== 'E_SECURITY_MODE' || e.party === undefined) throw e;
        const m = await this.announced(ctl);
        if (m.security !== 'malicious') throw e;
        model = m;
        result = await malicious(m);
      } finally {
        signal.removeEventListener('abort', follow);
      }
    }
    if (!result && pinned) {
      if (model.fracBits !== pinned.fracBits || !sameShape(model.inputShape, pinned.inputShape)) {
        throw new ModelMismatchError(`the parties' model now takes [${model.inputShape.join(', ')}] at ${model.fracBits} fractional bits; the input was encoded for [${pinned.inputShape.join(', ')}] at ${pinned.fracBits}`);
      }
      // modelHash is the hash of the source model: a re-import of the same file may record another preprocessing,
      // and the images were preprocessed for the pinned one before the parties answered.
      if (items.some((it) => it.kind === 'image') && JSON.stringify(model.preprocessing ?? null) !== JSON.stringify(pinned.preprocessing ?? null)) {
        throw new ModelMismatchError('the parties\' model now announces another image preprocessing than the one the images were preprocessed for; predict again (the client now knows the new one)');
      }
      // Tensors were range-checked against the pinned model; a re-import may declare a narrower range (its sound bound).
      items.forEach((it, i) => { if (it.kind === 'tensor') checkTensorRange(it.tensor, model, batched ? `input[${i}]` : 'input'); });
    }
    if (!result && !pinned) {
      const [x0, x1] = encodeFor(model);
      // Step 4: upload x_0 to P0, x_1 to P1.
      await this.parallel(ctl, [x0, x1].map(async (share, p) => {
        const res = await this.http.call(this.endpoints[p]!, { method: 'PUT', path: `${path}/input`, body: u64ToBytes(share), contentType: 'application/octet-stream', headers: keyed(p) }, signal);
        await res.body?.cancel().catch(() => undefined);
      }));
      emit('computing');
    }

    // Step 5: output shares (unless the create answers carried them), reconstruction, activation.
    if (!result) {
      const [y0, y1] = await this.parallel(ctl, [0, 1].map((p) => { const o = outputs[p]; return o ? Promise.resolve(o) : this.fetchOutput(this.endpoints[p]!, sessionId!, `${path}/output`, keyed(p), signal); }));
      emit('reconstructing');
      // The parties announced the range sentinel: no result without both shares of s, nor with s != 0 (E_RANGE_SENTINEL).
      if (model.rangeSentinel === true) requireRangeSentinel(y0!.sentinel, y1!.sentinel);
      result = reconstructOutputs(y0!, y1!, model, batch, sessionId);
    }
    emit('done');
    const notes = orientationNotes(decoded, model); // a JPEG's Exif tag and whether the model got it turned: said, never silent
    if (batched) return { ...result, ...(notes ? { imageOrientation: notes } : {}) };
    return singleResult(result, sessionId, model, notes?.[0]);
  }

  private classify(input: ImageInput | readonly ImageInput[], batched: boolean): ClassifiedInput[] {
    if (!batched) {
      if (Array.isArray(input)) throw new InputError('E_BAD_ARGUMENT', 'predict: got an array of inputs; pass { batch: true } to predict a batch');
      return [classifyInput(input)];
    }
    if (Array.isArray(input)) {
      if (input.length === 0) throw new InputError('E_SHAPE', 'predict: empty batch');
      return input.map((x, i) => classifyInput(x, `input[${i}]`));
    }
    const c = classifyInput(input);
    if (c.kind !== 'tensor') throw new InputError('E_BAD_ARGUMENT', 'predict: with { batch: true } pass an array of inputs or one tensor [batch, ...inputShape]');
    if (c.tensor.shape.length < 2) throw new InputError('E_SHAPE', 'predict: a batched tensor needs a leading batch dimension');
    return [c];
  }

  /** Run party calls together; the first failure aborts the others and wins. */
  private parallel<T>(ctl: AbortController, calls: Promise<T>[]): Promise<T[]> {
    return Promise.all(calls.map((p) => p.catch((e: unknown) => {
      if (!ctl.signal.aborted) ctl.abort(e);
      throw e;
    })));
  }

  /**
   * POST the sessions, or with `shares` PUT x_0 / x_1 with x-session-create and x-await-output to P0 / P1 (answers: the
   * session response with the output share, or without it if not done in time) and POST to P2 (`onHelper` after its answer).
   */
  private async createSessions(sessionId: string, keys: readonly string[], batch: number, deadlineMs: number | undefined, privacy: PrivacyOptions & { outputMode: OutputMode }, ctl: AbortController, requireSecurity: 'malicious' | undefined, shares?: [BigUint64Array, BigUint64Array], onHelper?: () => void): Promise<{ model: ModelInfo; outputs: [Output | undefined, Output | undefined] }> {
    // One nonce in the one request body all three parties get: they bind the session to it (parties/session-binding.ts).
    const req: CreateSessionRequest = { sessionId, batch, privacy, requestNonce: sessionKey() };
    if (this.expectedModelHash !== undefined) req.modelHash = this.expectedModelHash;
    if (deadlineMs !== undefined) req.deadlineMs = deadlineMs;
    const body = JSON.stringify(req);
    const outputs: [Output | undefined, Output | undefined] = [undefined, undefined];
    const answers = await this.parallel(ctl, this.endpoints.map(async (ep) => {
      const share = ep.party === 2 ? undefined : shares?.[ep.party];
      if (share) {
        // The party caps the wait at its long-poll limit; without a deadline ask for the longest.
        const wait = String(Math.min(deadlineMs ?? MAX_AWAIT_MS, MAX_AWAIT_MS));
        const res = await this.http.call(ep, { method: 'PUT', path: `/v1/sessions/${sessionId}/input`, body: u64ToBytes(share), contentType: 'application/octet-stream', accept: `${OUTPUT_ENVELOPE_TYPE}, application/json`, headers: { [SESSION_CREATE_HEADER]: body, [AWAIT_OUTPUT_HEADER]: wait, [SESSION_KEY_HEADER]: keys[ep.party]! } }, ctl.signal);
        if (!(res.headers.get('content-type') ?? '').includes(OUTPUT_ENVELOPE_TYPE)) return checkSessionResponse(await this.http.read(ep, 'session response', ctl.signal, () => res.json()), ep.party, sessionId);
        checkOutputSession(res.headers.get(OUTPUT_SESSION_HEADER), ep.party as 0 | 1, sessionId);
        const env = openEnvelope(await this.http.read(ep, 'session output', ctl.signal, () => res.arrayBuffer()), ep.party);
        outputs[ep.party as 0 | 1] = { shares: env.share, shape: parseShape(res.headers.get(OUTPUT_SHAPE_HEADER)), mode: res.headers.get(OUTPUT_MODE_HEADER), kind: res.headers.get(OUTPUT_KIND_HEADER), sentinel: res.headers.get(OUTPUT_SENTINEL_HEADER) };
        return checkSessionResponse(env.json, ep.party, sessionId);
      }
      const res = await this.http.call(ep, { method: 'POST', path: '/v1/sessions', body, contentType: 'application/json', accept: 'application/json', headers: { [SESSION_KEY_HEADER]: keys[ep.party]! } }, ctl.signal);
      const json: unknown = await this.http.read(ep, 'session response', ctl.signal, () => res.json());
      const r = checkSessionResponse(json, ep.party, sessionId);
      if (ep.party === 2) onHelper?.();
      return r;
    }));
    const model = this.agree(answers);
    checkSecurity(model, requireSecurity);
    const mode = model.privacy?.outputMode ?? 'logits';
    if (mode !== privacy.outputMode) throw new PrivateInferenceError('E_INTERNAL', `the parties announced output mode '${mode}', the client asked for '${privacy.outputMode}'`);
    this.lastModel = model;
    return { model, outputs };
  }

  /** The three parties must run the same model, and it must be the one the app expects. */
  private agree(rs: CreateSessionResponse[]): ModelInfo {
    const r0 = partiesAgree(rs);
    if (this.expectedModelHash !== undefined && r0.modelHash.toLowerCase() !== this.expectedModelHash) {
      throw new ModelMismatchError(`the parties run model ${r0.modelHash.slice(0, 12)}, expected ${this.expectedModelHash.slice(0, 12)}`);
    }
    if (this.inputShape !== undefined && !sameShape(this.inputShape, r0.inputShape)) {
      throw new ModelMismatchError(`the parties' model takes [${r0.inputShape.join(', ')}], expected [${this.inputShape.join(', ')}]`);
    }
    const m: ModelInfo = { modelHash: r0.modelHash, inputShape: [...r0.inputShape], outputShape: [...r0.outputShape], fracBits: r0.fracBits, outputActivation: r0.outputActivation };
    if (r0.importId !== undefined) m.importId = r0.importId;
    if (r0.labels !== undefined) m.labels = [...r0.labels];
    if (r0.preprocessing !== undefined) m.preprocessing = structuredClone(r0.preprocessing);
    if (r0.inputRange !== undefined) m.inputRange = [r0.inputRange[0], r0.inputRange[1]];
    if (r0.compareBound !== undefined) m.compareBound = r0.compareBound;
    if (r0.rangeSentinel === true) m.rangeSentinel = true;
    if (r0.privacy !== undefined) m.privacy = structuredClone(r0.privacy);
    if (r0.ensemble !== undefined) m.ensemble = structuredClone(r0.ensemble);
    if (r0.decisionThresholds !== undefined) m.decisionThresholds = [...r0.decisionThresholds];
    m.security = r0.security ?? 'semi-honest';
    if (r0.requires !== undefined) m.requires = structuredClone(r0.requires);
    return m;
  }

  private assemble(items: ClassifiedInput[], decoded: (RawImage | undefined)[], model: ModelInfo, batch: number, batchTensor: boolean): Float64Array {
    const n = product(model.inputShape);
    const x = new Float64Array(batch * n);
    items.forEach((it, i) => {
      const what = items.length > 1 ? `input[${i}]` : 'input';
      // An image under an imageScale override is held to the declared range too: the comparison bound holds only there.
      const t = it.kind === 'tensor' ? it.tensor : { data: preprocessImage(decoded[i]!, specForModel(model, this.imageScale)), shape: [...model.inputShape] };
      if (it.kind === 'tensor') checkTensorShape(t, model.inputShape, batchTensor, what);
      if (it.kind === 'tensor' || this.imageScale !== undefined) checkTensorRange(t, model, what);
      x.set(t.data, i * n);
    });
    return x;
  }

  /** GET the output share (long poll); 202/204 or a JSON state means "not yet": ask again (with backoff if the server did not wait). */
  private async fetchOutput(ep: PartyEndpoint, sessionId: string, path: string, headers: Record<string, string>, signal: AbortSignal): Promise<Output> {
    let delay = 50;
    for (;;) {
      const asked = now();
      const res = await this.http.call(ep, { method: 'GET', path, accept: 'application/octet-stream', headers }, signal);
      const type = res.headers.get('content-type') ?? '';
      if (res.status === 200 && !type.includes('json')) {
        checkOutputSession(res.headers.get(OUTPUT_SESSION_HEADER), ep.party as 0 | 1, sessionId);
        const buf = await this.http.read(ep, 'output share', signal, () => res.arrayBuffer());
        return { shares: bytesToU64(buf), shape: parseShape(res.headers.get(OUTPUT_SHAPE_HEADER)), mode: res.headers.get(OUTPUT_MODE_HEADER), kind: res.headers.get(OUTPUT_KIND_HEADER), sentinel: res.headers.get(OUTPUT_SENTINEL_HEADER) };
      }
      if (type.includes('json')) {
        const body = await this.http.read(ep, 'output state', signal, () => res.json() as Promise<{ code?: unknown; message?: unknown; state?: unknown }>);
        if (isErrorCode(body.code)) throw errorForCode(body.code, `party ${ep.party}: ${String(body.message ?? body.code)}`, { party: ep.party, status: res.status });
        if (body.state === 'failed' || body.state === 'done') throw new PrivateInferenceError('E_INTERNAL', `party ${ep.party}: output state '${body.state}' without a share`, { party: ep.party });
      } else {
        await res.body?.cancel().catch(() => undefined);
      }
      // A server that long-polled already waited: ask again at once. One that answered at once: back off.
      if (now() - asked < delay) await sleep(delay, signal);
      delay = Math.min(1000, delay * 2);
    }
  }
}

