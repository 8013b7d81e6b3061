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
 */
import type { CreateSessionRequest, CreateSessionResponse, ModelInfo, OutputMode, OutputPrivacy, PrivacyOptions } from '../../protocol/api-contract.js';
import { AWAIT_OUTPUT_HEADER, OUTPUT_ENVELOPE_TYPE, OUTPUT_KIND_HEADER, OUTPUT_MODE_HEADER, OUTPUT_SHAPE_HEADER, SESSION_CREATE_HEADER, SESSION_KEY_HEADER, SESSION_KEY_PATTERN } from '../../protocol/api-contract.js';
import { decode as decodeFixed, encode as encodeFixed, MAX_FRAC_BITS, MIN_FRAC_BITS } from '../../protocol/fixed-point/fixed-point.js';
import { activate, findings, labelFor, labelProbability, maskOutput, outputKind, predictedIndex, type Finding, type MaskOutput, type OutputKind } from './activation.js';
import { reconstructLabels, type BatchLabelPrediction, type LabelDecision, type LabelMask, type OutputShare } from './label-results.js';
import { DeadlineError, InputError, ModelMismatchError, PrivateInferenceError, asClientError, errorForCode, isErrorCode } from './errors.js';
import { PartyHttp, type FetchLike, type PartyEndpoint } from './http.js';
import { preprocessImage, specForModel } from './image/preprocess.js';
import { decodeAnyImage } from './image/dicom.js';
import type { ImageDecoder, RawImage } from './image/types.js';
import { checkTensorShape, classifyInput, sameShape, type ClassifiedInput, type ImageInput, type Tensor } from './input.js';
import { bytesToU64, reconstructShares, sessionKey, splitShares, u64ToBytes, uuidV4 } from './ring.js';

export const DEFAULT_TIMEOUT_MS = 120_000;

export interface ClientOptions {
  /** Base URLs of P0, P1, P2, in that order (e.g. 'https://p0.example:8443'). */
  parties: readonly string[];
  /**
   * The client's bearer token at each party, [P0, P1, P2]: each organisation
   * enrols the client with a token of its own and verifies only that one, so
   * no party can act as the client at another (SECURITY.md).
   */
  tokens?: readonly [string, string, string] | readonly string[];
  /** One token for all three parties: only for a development deployment on loopback (`npm start`). Give `tokens` or `token`. */
  token?: string;
  /** fetch to use (default: in Node the SDK's node:http(s) transport, nodeRequest in node-fetch.ts; in browsers globalThis.fetch). */
  fetch?: FetchLike;
  /** Deadline for a whole prediction in ms (default 120000; 0 or Infinity: none). Also sent as deadlineMs. */
  timeoutMs?: number;
  /** sha256 hex of the model the app expects; a different model fails with E_MODEL_MISMATCH. */
  expectedModelHash?: string;
  /** The model's input shape [H, W, C] if known: tensors are checked against it before any request. */
  inputShape?: readonly number[];
  /**
   * Explicit override only: a multiplier for image samples 0..255 replacing
   * the scaling the model records (`model.preprocessing`, announced by the
   * parties). Leave it out: the SDK applies the model's own preprocessing.
   */
  imageScale?: number;
  /** Image decoder (default: the platform's, see index.ts / browser.ts). DICOM files are decoded by image/dicom.ts, not by it. */
  decodeImage?: ImageDecoder;
  /**
   * Browsers: the URL of the DICOM codecs' WebAssembly (dcmjs-codecs'
   * dcmjs-native-codecs.wasm), fetched the first time a compressed DICOM
   * file is predicted. Default: ./dicom-codecs.wasm next to the SDK bundle.
   * Node: a file path (default: the one in node_modules).
   */
  dicomCodecsUrl?: string;
  /**
   * Once the model is known (an earlier prediction or describe()) and pinned
   * with expectedModelHash, create the sessions at P0 and P1 with the input
   * share in one request (PUT .../input with x-session-create), which
   * waits for the output share and answers it too (x-await-output): two
   * requests fewer per prediction. Each party checks the pinned hash before
   * it takes the share. Default true; false: always POST the sessions
   * first, then PUT the shares, then GET the outputs.
   */
  createWithInput?: boolean;
}

export type ProgressStage = 'encoding' | 'uploading' | 'computing' | 'reconstructing' | 'done';

export interface PredictProgress {
  /**
   * 'encoding': input checks, image decoding, session setup, preprocessing, fixed-point encoding, splitting;
   * 'uploading': input shares sent to P0 and P1 (with the sessions' set-up where createWithInput applies); 'computing': waiting for the output shares
   * (with createWithInput: from P2's answer on, while P0's and P1's requests wait for their outputs);
   * 'reconstructing': output shares received, combining; 'done': result ready.
   */
  stage: ProgressStage;
  /** Milliseconds since predict() was called. */
  elapsedMs: number;
  /** Number of images in the request. */
  batch: number;
  sessionId?: string;
  /** 'uploading': bytes sent to each of P0 and P1. */
  bytes?: number;
}

export interface PredictOptions {
  signal?: AbortSignal;
  onProgress?: (e: PredictProgress) => void;
  /** true: input is an array of images/tensors or one tensor [batch, ...inputShape]; results are per item. */
  batch?: boolean;
  /** Overrides the client's timeoutMs for this call. */
  timeoutMs?: number;
  /**
   * The session keys [P0, P1, P2] (SESSION_KEY_HEADER: 43 base64url
   * characters, 32 random bytes each) for a caller that reads the session
   * again later (its state, its output share). Default: fresh keys from the
   * platform's CSPRNG, known only to this call. Whoever holds a key and the
   * token can read that party's share of this session: keep them as secret
   * as the tokens, and never reuse them.
   */
  sessionKeys?: readonly [string, string, string];
  /**
   * Output privacy for this call, sent to the three parties; it may only be
   * stricter than the model's policy (else PrivacyPolicyError).
   * - outputMode 'label' / 'label+confidence': the parties compute the
   *   decisions (and a confidence bucket each) inside the protocol: the class,
   *   a multi-label head's per-label decisions, a thresholded mask; the
   *   result is a LabelPrediction, without probabilities or logits.
   * - absent or 'logits': the client asks for logits; a model whose policy
   *   releases only labels refuses with PrivacyPolicyError.
   * - dp: stricter noise (lower epsilon, larger sensitivity, smaller clip),
   *   or DP on a model without it; each image is charged to the client's
   *   budget at every party (BudgetExhaustedError once spent).
   */
  privacy?: PrivacyOptions;
  /** DICOM inputs: which frame of a multi-frame file (0-based; default 0, the first). */
  dicom?: { frame?: number };
}

/** Privacy options that ask for a label mode. */
export type LabelModePrivacy = PrivacyOptions & { outputMode: 'label' | 'label+confidence' };

/**
 * Logits mode (the default): the reconstructed logits and the client-side activation.
 * `kind` (outputKind of activation.ts) says how to read it:
 * - 'class': `label` with its `probability`;
 * - 'multi-label' (several sigmoid outputs, e.g. CheXNet's 14 findings): `findings`, every label with
 *   its probability and its decision at 0.5, sorted by probability; `label`/`probability` are the top finding;
 * - 'mask' (a dense output [H, W, C]): `mask`, the per-pixel probabilities as a Float32Array with its
 *   shape and the thresholded class map; `label` is 'mask', `index` -1 and `probability` the mask's
 *   positive fraction; `probabilities` and `logits` hold every pixel.
 */
export interface Prediction {
  outputMode: 'logits';
  kind: OutputKind;
  /** 'multi-label': every label, highest probability first. */
  findings?: Finding[];
  /** 'mask': the segmentation output. */
  mask?: MaskOutput;
  /** After the model's output activation. */
  probabilities: number[];
  /** labels[index] when the model has labels, else the index. */
  label: string | number;
  /** The probability of `label` (for one sigmoid output: p when the label is the positive class, 1 - p for the negative). */
  probability: number;
  index: number;
  /** The reconstructed model output before the activation. */
  logits: number[];
  sessionId: string;
  model: ModelInfo;
}

export interface BatchPrediction {
  outputMode: 'logits';
  kind: OutputKind;
  findings?: Finding[][];
  mask?: MaskOutput[];
  probabilities: number[][];
  label: (string | number)[];
  probability: number[];
  index: number[];
  logits: number[][];
  sessionId: string;
  model: ModelInfo;
}

/**
 * Label modes: only the decisions computed inside the protocol (of the
 * possibly noisy logits); no probabilities or logits exist on the client.
 * `kind` says which fields hold them (label-results.ts):
 * - 'class': `label` / `index` (argmax; a single sigmoid output: logit >= 0);
 * - 'multi-label': `decisions`, every label's decision at its threshold, in label order;
 * - 'mask': `mask`, the thresholded mask (or class map) as a Uint8Array with its shape.
 * For 'multi-label' and 'mask', `label` is the kind's name and `index` -1.
 */
export interface LabelPrediction {
  outputMode: 'label' | 'label+confidence';
  kind: OutputKind;
  /** labels[index] when the model has labels, else the index. */
  label: string | number;
  index: number;
  /**
   * 'class' with 'label+confidence': how many of model.privacy.confidenceThresholds the
   * margin (top logit minus runner-up) reaches, 0..K.
   */
  confidenceBucket?: number;
  decisions?: LabelDecision[];
  mask?: LabelMask;
  sessionId: string;
  /** model.privacy: the session's output policy (mode, thresholds, DP). */
  model: ModelInfo;
}

export type { BatchLabelPrediction, LabelDecision, LabelMask };

type AnyBatch = BatchPrediction | BatchLabelPrediction;

type Output = OutputShare;

const OUTPUT_MODES: readonly string[] = ['logits', 'label', 'label+confidence'];

const ACTIVATIONS: readonly string[] = ['linear', 'softmax', 'sigmoid'];

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

function product(s: readonly number[]): number {
  return s.reduce((a, b) => a * b, 1);
}

export class PrivateInferenceClientBase {
  private readonly endpoints: readonly PartyEndpoint[];
  private readonly http: PartyHttp;
  private readonly timeoutMs: number;
  private readonly expectedModelHash: string | undefined;
  private readonly inputShape: readonly number[] | undefined;
  private readonly imageScale: number | undefined;
  private readonly decodeImage: ImageDecoder;
  private readonly dicomCodecsUrl: string | undefined;
  private readonly createWithInput: boolean;
  private lastModel: ModelInfo | undefined;

  /** platformFetch: the entry's default transport (Node: nodeRequest); else globalThis.fetch. */
  constructor(options: ClientOptions, platformDecoder: ImageDecoder, platformFetch?: FetchLike) {
    const o = options as Partial<ClientOptions> | undefined;
    if (!o || !Array.isArray(o.parties) || o.parties.length !== 3) {
      throw new InputError('E_BAD_ARGUMENT', 'PrivateInferenceClient: parties must be the three base URLs [P0, P1, P2]');
    }
    this.endpoints = o.parties.map((u, i) => {
      if (typeof u !== 'string' || !/^https?:\/\/[^/]/i.test(u)) throw new InputError('E_BAD_ARGUMENT', `PrivateInferenceClient: parties[${i}] is not an http(s) URL`);
      return { party: i as 0 | 1 | 2, baseUrl: u.replace(/\/+$/, '') };
    });
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
   * { outputMode } })) and, for a PATE teacher ensemble, `ensemble`.
   */
  async describe(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<ModelInfo> {
    return this.withDeadline(options, (ms) => `describe: no answer within ${ms} ms`, async (ctl) => {
      const answers = await this.parallel(ctl, this.endpoints.map(async (ep) => {
        const res = await this.http.call(ep, { method: 'GET', path: '/v1/model', accept: 'application/json' }, ctl.signal);
        const json = await this.http.read(ep, 'model info', ctl.signal, () => res.json());
        return checkModelInfo(json, ep.party);
      }));
      const model = this.agree(answers);
      this.lastModel = model;
      return model;
    });
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
    const privacy = requestPrivacy(options.privacy);
    const items = this.classify(input, batched);
    const batchTensor = batched && !Array.isArray(input);
    batch = batchTensor ? (items[0] as { tensor: Tensor }).tensor.shape[0]! : items.length;
    const known = this.inputShape ?? this.lastModel?.inputShape;
    if (known) items.forEach((it, i) => { if (it.kind === 'tensor') checkTensorShape(it.tensor, known, batchTensor, batched ? `input[${i}]` : 'input'); });
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
    const pinned = this.createWithInput && this.expectedModelHash !== undefined && this.lastModel?.modelHash.toLowerCase() === this.expectedModelHash ? this.lastModel : undefined;
    // Step 3: preprocess, encode, split for model m.
    const encodeFor = (m: ModelInfo): [BigUint64Array, BigUint64Array] => {
      const shares = splitShares(encodeFixed(this.assemble(items, decoded, m, batch, batchTensor), m.fracBits));
      signal.throwIfAborted();
      emit('uploading', shares[0].byteLength);
      return shares;
    };
    let model: ModelInfo;
    // With createWithInput, P0's and P1's answers may carry the output shares already.
    let outputs: [Output | undefined, Output | undefined] = [undefined, undefined];
    if (pinned) {
      // Steps 2, 4 and 5 in one request per party: P0 and P1 create the session with its share
      // (each refuses unless it serves the pinned model) and answer the output share once
      // the run is done (x-await-output), P2 gets the POST; then the three answers must
      // agree, and on the model the shares were encoded for.
      const created = await this.createSessions(sessionId, keys, batch, remaining, privacy, ctl, encodeFor(pinned), () => emit('computing'));
      model = created.model;
      outputs = created.outputs;
      if (model.fracBits !== pinned.fracBits || !sameShape(model.inputShape, pinned.inputShape)) {
        throw new ModelMismatchError(`the parties' model now takes [${model.inputShape.join(', ')}] at ${model.fracBits} fractional bits; the input was encoded for [${pinned.inputShape.join(', ')}] at ${pinned.fracBits}`);
      }
    } else {
      // Step 2: sessions at all three parties, which must agree on the model.
      model = (await this.createSessions(sessionId, keys, batch, remaining, privacy, ctl)).model;
      const [x0, x1] = encodeFor(model);
      // Step 4: upload x_0 to P0, x_1 to P1.
      await this.parallel(ctl, [x0, x1].map(async (share, p) => {
        const res = await this.http.call(this.endpoints[p]!, { method: 'PUT', path: `${path}/input`, body: u64ToBytes(share), contentType: 'application/octet-stream', headers: keyed(p) }, signal);
        await res.body?.cancel().catch(() => undefined);
      }));
      emit('computing');
    }

    // Step 5: output shares (unless the create answers carried them), reconstruction, activation.
    const [y0, y1] = await this.parallel(ctl, [0, 1].map((p) => { const o = outputs[p]; return o ? Promise.resolve(o) : this.fetchOutput(this.endpoints[p]!, `${path}/output`, keyed(p), signal); }));
    emit('reconstructing');
    const result = this.reconstruct(y0!, y1!, model, batch, sessionId);
    emit('done');
    if (batched) return result;
    if (result.outputMode === 'logits') {
      return {
        outputMode: 'logits', kind: result.kind, probabilities: result.probabilities[0]!, label: result.label[0]!, probability: result.probability[0]!, index: result.index[0]!, logits: result.logits[0]!,
        ...(result.findings ? { findings: result.findings[0]! } : {}), ...(result.mask ? { mask: result.mask[0]! } : {}), sessionId, model,
      };
    }
    return {
      outputMode: result.outputMode, kind: result.kind, label: result.label[0]!, index: result.index[0]!, ...(result.confidenceBucket ? { confidenceBucket: result.confidenceBucket[0]! } : {}),
      ...(result.decisions ? { decisions: result.decisions[0]! } : {}), ...(result.mask ? { mask: result.mask[0]! } : {}), sessionId, model,
    };
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
  private async createSessions(sessionId: string, keys: readonly string[], batch: number, deadlineMs: number | undefined, privacy: PrivacyOptions & { outputMode: OutputMode }, ctl: AbortController, shares?: [BigUint64Array, BigUint64Array], onHelper?: () => void): Promise<{ model: ModelInfo; outputs: [Output | undefined, Output | undefined] }> {
    const req: CreateSessionRequest = { sessionId, batch, privacy };
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
        const env = openEnvelope(await this.http.read(ep, 'session output', ctl.signal, () => res.arrayBuffer()), ep.party);
        outputs[ep.party as 0 | 1] = { shares: env.share, shape: parseShape(res.headers.get(OUTPUT_SHAPE_HEADER)), mode: res.headers.get(OUTPUT_MODE_HEADER), kind: res.headers.get(OUTPUT_KIND_HEADER) };
        return checkSessionResponse(env.json, ep.party, sessionId);
      }
      const res = await this.http.call(ep, { method: 'POST', path: '/v1/sessions', body, contentType: 'application/json', accept: 'application/json', headers: { [SESSION_KEY_HEADER]: keys[ep.party]! } }, ctl.signal);
      const json: unknown = await this.http.read(ep, 'session response', ctl.signal, () => res.json());
      const r = checkSessionResponse(json, ep.party, sessionId);
      if (ep.party === 2) onHelper?.();
      return r;
    }));
    const model = this.agree(answers);
    const mode = model.privacy?.outputMode ?? 'logits';
    if (mode !== privacy.outputMode) throw new PrivateInferenceError('E_INTERNAL', `the parties announced output mode '${mode}', the client asked for '${privacy.outputMode}'`);
    this.lastModel = model;
    return { model, outputs };
  }

  /** The three parties must run the same model, and it must be the one the app expects. */
  private agree(rs: CreateSessionResponse[]): ModelInfo {
    const r0 = rs[0]!;
    for (const r of rs.slice(1)) {
      const same = r.modelHash.toLowerCase() === r0.modelHash.toLowerCase() && sameShape(r.inputShape, r0.inputShape)
        && sameShape(r.outputShape, r0.outputShape) && r.fracBits === r0.fracBits && r.outputActivation === r0.outputActivation;
      if (!same) throw new ModelMismatchError(`parties disagree on the model: party 0 has ${r0.modelHash.slice(0, 12)}, party ${r.party} has ${r.modelHash.slice(0, 12)}`, { party: r.party });
      if (canonical(r.privacy) !== canonical(r0.privacy)) throw new ModelMismatchError(`parties disagree on the output privacy policy: party 0 and party ${r.party}`, { party: r.party });
      if (JSON.stringify(r.preprocessing ?? null) !== JSON.stringify(r0.preprocessing ?? null)) throw new ModelMismatchError(`parties disagree on the image preprocessing: party 0 and party ${r.party}`, { party: r.party });
      if (JSON.stringify(r.decisionThresholds ?? null) !== JSON.stringify(r0.decisionThresholds ?? null)) throw new ModelMismatchError(`parties disagree on the decision thresholds: party 0 and party ${r.party}`, { party: r.party });
    }
    if (this.expectedModelHash !== undefined && r0.modelHash.toLowerCase() !== this.expectedModelHash) {
      throw new ModelMismatchError(`the parties run model ${r0.modelHash.slice(0, 12)}, expected ${this.expectedModelHash.slice(0, 12)}`);
    }
    if (this.inputShape !== undefined && !sameShape(this.inputShape, r0.inputShape)) {
      throw new ModelMismatchError(`the parties' model takes [${r0.inputShape.join(', ')}], expected [${this.inputShape.join(', ')}]`);
    }
    const m: ModelInfo = { modelHash: r0.modelHash, inputShape: [...r0.inputShape], outputShape: [...r0.outputShape], fracBits: r0.fracBits, outputActivation: r0.outputActivation };
    if (r0.labels !== undefined) m.labels = [...r0.labels];
    if (r0.preprocessing !== undefined) m.preprocessing = structuredClone(r0.preprocessing);
    if (r0.privacy !== undefined) m.privacy = structuredClone(r0.privacy);
    if (r0.ensemble !== undefined) m.ensemble = structuredClone(r0.ensemble);
    if (r0.decisionThresholds !== undefined) m.decisionThresholds = [...r0.decisionThresholds];
    return m;
  }

  private assemble(items: ClassifiedInput[], decoded: (RawImage | undefined)[], model: ModelInfo, batch: number, batchTensor: boolean): Float64Array {
    const n = product(model.inputShape);
    const x = new Float64Array(batch * n);
    items.forEach((it, i) => {
      const what = items.length > 1 ? `input[${i}]` : 'input';
      if (it.kind === 'tensor') {
        checkTensorShape(it.tensor, model.inputShape, batchTensor, what);
        x.set(it.tensor.data, i * n);
      } else {
        x.set(preprocessImage(decoded[i]!, specForModel(model, this.imageScale)), i * n);
      }
    });
    return x;
  }

  /** GET the output share (long poll); 202/204 or a JSON state means "not yet": ask again (with backoff if the server did not wait). */
  private async fetchOutput(ep: PartyEndpoint, path: string, headers: Record<string, string>, signal: AbortSignal): Promise<Output> {
    let delay = 50;
    for (;;) {
      const asked = now();
      const res = await this.http.call(ep, { method: 'GET', path, accept: 'application/octet-stream', headers }, signal);
      const type = res.headers.get('content-type') ?? '';
      if (res.status === 200 && !type.includes('json')) {
        const buf = await this.http.read(ep, 'output share', signal, () => res.arrayBuffer());
        return { shares: bytesToU64(buf), shape: parseShape(res.headers.get(OUTPUT_SHAPE_HEADER)), mode: res.headers.get(OUTPUT_MODE_HEADER), kind: res.headers.get(OUTPUT_KIND_HEADER) };
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

  private reconstruct(o0: Output, o1: Output, model: ModelInfo, batch: number, sessionId: string): AnyBatch {
    const mode = model.privacy?.outputMode ?? 'logits';
    for (const [p, o] of [[0, o0], [1, o1]] as const) {
      // Servers without output privacy send no mode header: logits.
      if ((o.mode ?? 'logits') !== mode) throw new PrivateInferenceError('E_INTERNAL', `party ${p}: output share in mode '${o.mode}', the session's mode is '${mode}'`, { party: p });
    }
    if (mode !== 'logits') return reconstructLabels(o0, o1, model, batch, sessionId, mode);
    const expected = [batch, ...model.outputShape];
    const kind = outputKind(model);
    for (const [p, o] of [[0, o0], [1, o1]] as const) {
      if (o.kind != null && o.kind !== kind) throw new PrivateInferenceError('E_INTERNAL', `party ${p}: output of kind '${o.kind}', the model's is '${kind}'`, { party: p });
      const shape = o.shape ?? expected;
      if (shape[0] !== batch || product(shape) !== product(expected) || o.shares.length !== product(expected)) {
        throw new PrivateInferenceError('E_SHAPE', `party ${p}: output share has ${o.shares.length} elements (shape [${shape.join(', ')}]), expected [${expected.join(', ')}]`, { party: p });
      }
    }
    const y = decodeFixed(reconstructShares(o0.shares, o1.shares), model.fracBits);
    const per = y.length / batch;
    const out: BatchPrediction = { outputMode: 'logits', kind, probabilities: [], label: [], probability: [], index: [], logits: [], sessionId, model };
    if (kind === 'multi-label') out.findings = [];
    if (kind === 'mask') out.mask = [];
    for (let b = 0; b < batch; b++) {
      const logits = Array.from(y.subarray(b * per, (b + 1) * per));
      out.logits.push(logits);
      if (kind === 'mask') {
        const mask = maskOutput(logits, model.outputShape, model.outputActivation, model.decisionThresholds);
        out.mask!.push(mask);
        out.probabilities.push(Array.from(mask.probabilities));
        out.index.push(-1);
        out.label.push('mask');
        out.probability.push(mask.positiveFraction);
        continue;
      }
      const probabilities = activate(logits, model.outputActivation);
      const index = predictedIndex(probabilities);
      out.probabilities.push(probabilities);
      out.index.push(index);
      out.label.push(labelFor(index, model.labels));
      out.probability.push(labelProbability(probabilities, index));
      if (kind === 'multi-label') out.findings!.push(findings(probabilities, model.labels, model.decisionThresholds));
    }
    return out;
  }
}

/** The privacy options sent to the parties: the caller's, with the output mode made explicit (default 'logits'). */
function requestPrivacy(p: PrivacyOptions | undefined): PrivacyOptions & { outputMode: OutputMode } {
  if (p !== undefined && (typeof p !== 'object' || p === null || Array.isArray(p))) throw new InputError('E_BAD_ARGUMENT', 'predict: privacy must be an object { outputMode?, dp? }');
  const mode = p?.outputMode ?? 'logits';
  if (!OUTPUT_MODES.includes(mode)) throw new InputError('E_BAD_ARGUMENT', `predict: privacy.outputMode must be one of ${OUTPUT_MODES.join(', ')}`);
  if (p?.dp !== undefined && (typeof p.dp !== 'object' || p.dp === null)) throw new InputError('E_BAD_ARGUMENT', 'predict: privacy.dp must be an object');
  return { ...(p?.dp !== undefined ? { dp: { ...p.dp } } : {}), outputMode: mode };
}

/** Key-order-independent JSON of an output policy (to compare the parties' announcements). */
function canonical(v: OutputPrivacy | undefined): string {
  return JSON.stringify(v ?? null, (_k, x: unknown) => (x !== null && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x));
}

/** The most a client asks a party to wait for an output in the create request (x-await-output); after that it long-polls GET output. Below undici's 300 s headers timeout. */
const MAX_AWAIT_MS = 60_000;

/** An OUTPUT_ENVELOPE_TYPE body: u32 LE n, n bytes of JSON, the output share (E_INTERNAL when malformed). */
function openEnvelope(buf: ArrayBuffer, p: 0 | 1 | 2): { json: unknown; share: BigUint64Array } {
  const bad = (what: string): never => { throw new PrivateInferenceError('E_INTERNAL', `party ${p}: malformed session output (${what})`, { party: p }); };
  const u8 = new Uint8Array(buf);
  if (u8.byteLength < 4) return bad('too short');
  const n = new DataView(buf).getUint32(0, true);
  if (4 + n > u8.byteLength) return bad('length');
  let json: unknown;
  try { json = JSON.parse(new TextDecoder().decode(u8.subarray(4, 4 + n))); } catch { return bad('session response is not JSON'); }
  if ((u8.byteLength - 4 - n) % 8 !== 0) return bad('share is not a whole number of u64');
  return { json, share: bytesToU64(u8.subarray(4 + n)) };
}

function parseShape(h: string | null): number[] | undefined {
  if (h === null || h.trim() === '') return undefined;
  const s = h.split(',').map((d) => Number(d.trim()));
  return s.every((d) => Number.isInteger(d) && d >= 0) ? s : undefined;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) { reject(signal.reason); return; }
    const onAbort = (): void => { clearTimeout(t); reject(signal.reason); };
    const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function isShape(s: unknown): s is number[] {
  return Array.isArray(s) && s.length > 0 && s.every((d) => Number.isInteger(d) && d > 0);
}

/** Validate a CreateSessionResponse from party p (E_INTERNAL when malformed: a broken or foreign server). */
function checkSessionResponse(j: unknown, p: 0 | 1 | 2, sessionId: string): CreateSessionResponse {
  const r = j as Partial<CreateSessionResponse> | null;
  const bad = (what: string): never => { throw new PrivateInferenceError('E_INTERNAL', `party ${p}: malformed session response (${what})`, { party: p }); };
  if (typeof r !== 'object' || r === null) return bad('not an object');
  if (r.sessionId !== sessionId) bad('sessionId');
  if (r.party !== p) throw new InputError('E_BAD_ARGUMENT', `parties[${p}] answered as party ${String(r.party)}: list the parties in the order P0, P1, P2`, { party: p });
  checkModelFields(r, bad);
  if (p !== 2 && r.acceptsInput !== true) bad('acceptsInput');
  return r as CreateSessionResponse;
}

/** GET /v1/model of party p (no party field there: it is added from the endpoint). */
function checkModelInfo(j: unknown, p: 0 | 1 | 2): CreateSessionResponse {
  const r = j as Partial<ModelInfo> | null;
  const bad = (what: string): never => { throw new PrivateInferenceError('E_INTERNAL', `party ${p}: malformed model info (${what})`, { party: p }); };
  if (typeof r !== 'object' || r === null) return bad('not an object');
  checkModelFields(r, bad);
  return { ...(r as ModelInfo), sessionId: '', party: p, acceptsInput: p !== 2 };
}

function checkModelFields(r: Partial<ModelInfo>, bad: (what: string) => never): void {
  if (typeof r.modelHash !== 'string' || r.modelHash.length === 0) bad('modelHash');
  if (!isShape(r.inputShape)) bad('inputShape');
  if (!isShape(r.outputShape)) bad('outputShape');
  if (!Number.isInteger(r.fracBits) || r.fracBits! < MIN_FRAC_BITS || r.fracBits! > MAX_FRAC_BITS) bad('fracBits');
  if (!ACTIVATIONS.includes(r.outputActivation as string)) bad('outputActivation');
  if (r.labels !== undefined && !(Array.isArray(r.labels) && r.labels.every((l) => typeof l === 'string'))) bad('labels');
  if (r.decisionThresholds !== undefined && !(Array.isArray(r.decisionThresholds) && r.decisionThresholds.every((t) => typeof t === 'number' && t > 0 && t < 1))) bad('decisionThresholds');
  if (r.ensemble !== undefined && !(typeof r.ensemble === 'object' && r.ensemble !== null && Number.isInteger(r.ensemble.teachers))) bad('ensemble');
}
