/** The client's public option and result types (re-exported by client.ts and common.ts). */
import type { ModelInfo, PrivacyOptions } from '../../protocol/api-contract.js';
import type { Finding, MaskOutput, OutputKind } from './activation.js';
import type { FetchLike } from './http.js';
import type { ImageDecoder, OrientationNote } from './image/types.js';
import type { BatchLabelPrediction, LabelDecision, LabelMask } from './label-results.js';

export const DEFAULT_TIMEOUT_MS = 120_000;

export interface ClientOptions {
  /** Base URLs of P0, P1, P2, in that order (e.g. 'https://p0.example:8443'). */
  parties: readonly string[];
  /**
   * Plain http:// party URLs are refused unless their host is loopback (E_BAD_ARGUMENT): whoever sees the traffic
   * would read both shares. true: allow them, only where something else encrypts the links (a service-mesh sidecar).
   */
  allowInsecureHttp?: boolean;
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
  /**
   * Image decoder (default: the platform's, see index.ts / browser.ts). DICOM files are decoded by image/dicom.ts, not by it.
   * Contract (since 2026-12-07): return the pixels AS STORED and the JPEG's Exif tag in `orientation`; the SDK turns
   * them only when the model records `orientation: 'exif'`. A decoder that turns the pixels itself (the contract before)
   * would feed a 'stored' model turned pixels: the SDK cannot tell.
   */
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
  /**
   * 'malicious': predict only with parties that all announce security
   * 'malicious' (docs/MALICIOUS.md); otherwise E_SECURITY_MODE before any
   * input share is sent (the sessions are created first, without input, to
   * read the announcements). A model whose manifest requires malicious
   * security (`model.requires.security`) is treated the same without this
   * option. Parties that announce different modes are always refused.
   */
  requireSecurity?: 'malicious';
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
  /** Overrides the client's requireSecurity for this call (ClientOptions.requireSecurity). */
  requireSecurity?: 'malicious';
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
  /** An image input with an Exif orientation tag: the tag and whether the model got it turned (OrientationNote). */
  imageOrientation?: OrientationNote;
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
  /** Per input (null: no tag), when an image input has an Exif orientation tag (OrientationNote). */
  imageOrientation?: (OrientationNote | null)[];
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
  /** An image input with an Exif orientation tag: the tag and whether the model got it turned (OrientationNote). */
  imageOrientation?: OrientationNote;
}

export type { BatchLabelPrediction, LabelDecision, LabelMask };

/** One session's result before it is shaped for predict()'s caller. */
export type AnyBatch = BatchPrediction | BatchLabelPrediction;
