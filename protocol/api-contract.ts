/**
 * The client-facing HTTP contract of every party (fastify server in parties/,
 * PrivateInferenceClient in client-sdk/). Types only: the server and the SDK
 * share nothing else.
 *
 * Flow for one prediction (the client holds x, fixed-point encoded):
 *  1. The client picks a random session id (UUID v4) and POSTs
 *     /v1/sessions to all three parties with the same id.
 *  2. It splits x into x_0 + x_1 (mod 2^64) and PUTs x_0 to P0 and x_1 to P1
 *     at /v1/sessions/:id/input (raw little-endian u64, application/octet-stream).
 *     P2 receives no input share: it is the helper.
 *     Steps 1 and 2 in one request: a client that pins the model (modelHash)
 *     and already knows its input shape and fracBits may PUT the share with
 *     header x-session-create (SESSION_CREATE_HEADER: the JSON of the
 *     CreateSessionRequest, modelHash required) to a session id P0/P1 have
 *     not seen; the party creates the session and takes the share together
 *     (201, CreateSessionResponse & {state, bytes}), or neither. P2 still gets
 *     the POST. This saves one round trip per prediction. With header
 *     x-await-output (AWAIT_OUTPUT_HEADER: how many ms to wait) as well, the
 *     same request waits for the session's output and answers it (200,
 *     OUTPUT_ENVELOPE_TYPE: the session response and the output share in one
 *     body), which saves step 3's request; if the output is not there in
 *     time it answers 201 as without the header, and a failed session
 *     answers its error as GET output would.
 *  3. It GETs /v1/sessions/:id/output from P0 and P1 (long poll until done or
 *     failed) and adds the two shares mod 2^64. What it reconstructs depends
 *     on the session's output mode (header x-output-mode, see OutputMode):
 *     'logits' (default): the logits y = y_0 + y_1, to which it applies the
 *     model's output activation (softmax / sigmoid) itself; 'label': the
 *     decisions only, computed inside the protocol; 'label+confidence': each
 *     decision with a confidence bucket. What a decision is depends on the
 *     model's output kind (header x-output-kind, protocol/output-kind.ts):
 *     'class': one class index per image; 'multi-label': one bit per label
 *     (logit >= logit(t) for the label's probability threshold t); 'mask':
 *     one bit per pixel of a sigmoid mask, or the class per pixel of a mask
 *     with softmax channels. x-output-shape gives the shape with batch.
 *     The mode comes from the model's privacy policy
 *     (its manifest) and the request's `privacy` options, which may only make
 *     it stricter (E_PRIVACY_POLICY otherwise). With differential privacy the
 *     parties add noise inside the protocol and charge each image to the
 *     client's privacy budget (E_BUDGET_EXHAUSTED once it is spent;
 *     GET /v1/privacy/budget reports it).
 * Every request carries `Authorization: Bearer <token>`.
 * Errors: JSON `ApiError` with the HTTP status of its code (protocol/errors.ts).
 */
export const API_VERSION = 'v1';

export interface CreateSessionRequest {
  /** Client-chosen UUID v4, the same at all three parties. */
  sessionId: string;
  /** sha256 (hex) of the model the client expects; refused with E_MODEL_MISMATCH if it differs. */
  modelHash?: string;
  /** Number of images in this request (default 1). */
  batch?: number;
  /** Milliseconds from now after which the session fails with E_DEADLINE. */
  deadlineMs?: number;
  /**
   * Output privacy for this session, only stricter than the model's policy
   * (refused with E_PRIVACY_POLICY otherwise). Send the same value to all
   * three parties. Absent: the model's policy as is.
   */
  privacy?: PrivacyOptions;
  /**
   * 32 random bytes (base64url, 43 characters) the client draws per session
   * and sends in the same request to the three parties. Each party keeps a
   * digest of the request (parties/session-binding.ts); P0's plan carries its
   * digest and P1 and P2 refuse a session whose own digest differs
   * (E_SESSION_BINDING): one session id with different requests (or created
   * at one party by someone else) never runs as one session.
   */
  requestNonce?: string;
}

/**
 * What the client reconstructs: 'logits' (all outputs), 'label+confidence'
 * (the decisions and a coarse confidence bucket each), 'label' (the
 * decisions only: the class index; for a multi-label head one bit per label;
 * for a mask one bit, or one class, per pixel).
 * Strictness: logits < label+confidence < label.
 */
export type OutputMode = 'logits' | 'label' | 'label+confidence';

/** Differential-privacy options (see protocol/privacy/README.md). */
export interface DpOptions {
  mechanism: 'laplace' | 'gaussian';
  /** Per image. */
  epsilon: number;
  /** Gaussian only. */
  delta?: number;
  /** L1 (Laplace) / L2 (Gaussian) sensitivity of one image's logit vector, real units. */
  sensitivity: number;
  sampler?: 'discrete-exact' | 'gamma-split';
  calibration?: 'classic' | 'zcdp';
  /** Clip each logit to [-clip, clip] before the noise. */
  clip?: number;
}

/** A request's privacy options (protocol/privacy PrivacyRequest): lower epsilon, larger sensitivity, label instead of logits, ... */
export interface PrivacyOptions {
  outputMode?: OutputMode;
  dp?: Partial<DpOptions>;
}

/** The output policy the parties apply (GET /v1/model: the model's; CreateSessionResponse: the session's). */
export interface OutputPrivacy {
  outputMode: OutputMode;
  /**
   * 'label+confidence': margins (ascending); the bucket is how many of them the margin reaches, 0..K. The margin is the
   * top logit minus the runner-up for a class (per pixel for a softmax mask); |logit - logit(t)| for a per-element decision.
   */
  confidenceThresholds?: number[];
  /**
   * Label modes of a multi-label head or a sigmoid mask: the probability threshold t of each channel (per label), in
   * (0, 1); a decision is 1 iff logit >= ceil(logit(t) 2^f) / 2^f, i.e. p >= t on the lattice (at the threshold itself: 1). Default 0.5.
   */
  decisionThresholds?: number[];
  /** Noise the parties add to the logits; each image is charged epsilon (and delta) to the client's budget. */
  dp?: { mechanism: 'laplace' | 'gaussian'; epsilon: number; delta: number; sensitivity: number; sampler: 'discrete-exact' | 'gamma-split'; clip?: number };
}

/**
 * How an image becomes the model's input tensor (recorded by mpc-import in
 * the bundle manifest, announced by the parties, applied by the SDK; see
 * protocol/input-preprocessing.ts). Steps, in order: decode; convert to
 * `colorMode` (Pillow's convert('L') / convert('RGB')); resize to the input's
 * H x W with `resize` ('bilinear': Pillow BILINEAR, antialiased; 'tf-bilinear':
 * tf.image.resize bilinear as keras.utils.image_dataset_from_directory applies it,
 * float samples; 'nearest': Pillow NEAREST as keras.utils.load_img); put the channels in `channelOrder`;
 * scale the 0..255 samples (`scaling`: 'unit' x/255, 'raw' x, 'symmetric'
 * x/127.5 - 1); then per channel (of the model's input, after reordering)
 * (x - mean[c]) / std[c] when `mean` / `std` are given.
 */
export interface InputPreprocessing {
  colorMode: 'grayscale' | 'rgb';
  resize: 'bilinear' | 'tf-bilinear' | 'nearest';
  scaling: 'unit' | 'raw' | 'symmetric';
  channelOrder: 'rgb' | 'bgr';
  mean?: number[];
  std?: number[];
  /**
   * A JPEG's Exif orientation (tag 0x0112): 'exif' turns the pixels upright
   * before colour conversion (what a browser shows, PIL's ImageOps.exif_transpose);
   * 'stored' keeps the stored pixels, as PIL's Image.open / keras.utils.load_img,
   * tf.io.decode_jpeg / image_dataset_from_directory and torchvision's loaders
   * do. Absent (bundles written before it was recorded): 'exif', the SDK's
   * behaviour until then.
   */
  orientation?: 'exif' | 'stored';
  /**
   * How the training pipeline made 8-bit samples of a 16-bit PNG: 'pillow'
   * (Image.open + convert: grey saturates, min(v, 255); colour keeps the high
   * byte), 'high-byte' (v >> 8: tf.io.decode_png(dtype=uint8), libpng's
   * strip_16). Absent: the SDK refuses 16-bit PNGs (E_IMAGE_PREPROCESSING).
   */
  png16?: 'pillow' | 'high-byte';
}

/** What a model's comparison ring rests on (ModelInfo.compareBound). */
export type CompareBound = 'sound' | 'samples-only' | 'unsound-override';
export const COMPARE_BOUNDS: readonly CompareBound[] = ['sound', 'samples-only', 'unsound-override'];
/**
 * The adversary the parties' protocol is secure against (docs/MALICIOUS.md):
 * 'semi-honest' (SecureNN, the default) or 'malicious' (security with abort
 * against one actively corrupted party: protocol/malicious/).
 */
export type SecurityMode = 'semi-honest' | 'malicious';
export const SECURITY_MODES: readonly SecurityMode[] = ['semi-honest', 'malicious'];

export interface ModelInfo {
  /** sha256 of the source model file: the same for every import of that file. */
  modelHash: string;
  /**
   * The import the party's share bundle comes from (mpc-import's random
   * importId, the same in the three bundles of one import; a PATE ensemble's
   * is derived from its teachers'). Shares of two imports of the same file do
   * not add up to its weights, so the SDK refuses parties that announce
   * different ones. Absent: a bundle that records none.
   */
  importId?: string;
  /** Input shape without the batch dimension, e.g. [150, 125, 1]. */
  inputShape: number[];
  outputShape: number[];
  fracBits: number;
  outputActivation: 'linear' | 'softmax' | 'sigmoid';
  labels?: string[];
  /**
   * The image preprocessing the model was trained with. Absent (bundles
   * written before it was recorded): grayscale or RGB by the input's
   * channels, bilinear, x/255.
   */
  preprocessing?: InputPreprocessing;
  /**
   * The declared range [lo, hi] of every element of a raw tensor input, for
   * models whose input is not an image (mpc-import --input-range); an image
   * model's range follows from `preprocessing` (input-preprocessing.ts
   * inputBoundsOf). The SDK refuses a tensor outside it before sharing.
   */
  inputRange?: [number, number];
  /**
   * What the secure comparisons' ring rests on (mpc-import, manifest
   * compareBound): 'sound', a bound over every input in the declared range;
   * 'samples-only', the import's sample inputs only (no declared range, or a
   * deep model whose interval bound no ring holds): an input driving values
   * beyond the samples' could make a comparison, and so the result, silently
   * wrong; 'unsound-override', an explicit ring that does not hold the bound.
   * An application can show it next to a result. Absent: not recorded (an
   * import without samples, or older bundles).
   */
  compareBound?: CompareBound;
  /**
   * The parties run the run-time range sentinel for this model (parties/range-sentinel.ts; on by default for
   * compareBound 'samples-only', config rangeSentinel): P0 and P1 send their shares of s with every output share
   * (OUTPUT_SENTINEL_HEADER) and the SDK refuses an output without them, or with s != 0 (E_RANGE_SENTINEL).
   * Absent: not run.
   */
  rangeSentinel?: boolean;
  /**
   * The malicious routes take the client's deadline (`?deadlineMs=` on POST /v1/malicious/:id/mask, 1..the party's
   * sessions.maxDeadlineMs); absent: a party that does not (it would refuse the parameter), whose malicious sessions
   * end at its sessions.defaultDeadlineMs. The SDK sends it only when all three announce this.
   */
  maliciousDeadline?: boolean;
  /** Absent: logits without noise. Otherwise the output policy (in a CreateSessionResponse: of that session). */
  privacy?: OutputPrivacy;
  /**
   * Multi-label heads and sigmoid masks whose manifest sets them: the probability threshold of each channel (per
   * label), in (0, 1). The label modes decide inside the protocol at them; in logits mode the SDK decides its
   * findings and mask pixels at them too. Absent: 0.5.
   */
  decisionThresholds?: number[];
  /**
   * PATE teacher ensemble (several hospitals' models answer; only the label
   * of the votes comes back: 'majority' without noise, 'noisy-max' with the
   * noise of `privacy.dp` on the vote counts). Absent: one model.
   */
  ensemble?: { teachers: number; aggregation: 'majority' | 'noisy-max'; teacherHashes: string[] };
  /** The security mode this party runs (config `security`; the three must agree). Absent (older parties): 'semi-honest'. */
  security?: SecurityMode;
  /** What the model's manifest requires of the parties: `security: 'malicious'` (a party running semi-honest refuses to serve it; the SDK refuses parties that do not announce it). */
  requires?: { security?: 'malicious' };
}

export interface CreateSessionResponse extends ModelInfo {
  sessionId: string;
  party: 0 | 1 | 2;
  /** Whether this party expects an input share (P0, P1: true; P2: false). */
  acceptsInput: boolean;
}

export type SessionState = 'created' | 'input-received' | 'running' | 'done' | 'failed';

export interface ApiError {
  code: string;
  message: string;
  party?: number;
  step?: string;
}

/**
 * Header on GET .../output carrying the output shape (with batch), e.g. "1,2"
 * for logits. Label modes (protocol/output-kind.ts labelShapeOf): a class,
 * "N" for 'label' (one u64 share per image), "N,2" for 'label+confidence'
 * (per image: label share, bucket share); a multi-label head with C labels
 * "N,C" / "N,C,2"; a sigmoid mask [H,W,1] "N,H,W,1" / "N,H,W,1,2"; a softmax
 * mask [H,W,C] "N,H,W" / "N,H,W,2" (class per pixel). The last dimension 2
 * always interleaves (decision, bucket).
 */
export const OUTPUT_SHAPE_HEADER = 'x-output-shape';

/**
 * Header on GET .../output (and the envelope answer) naming the model's
 * output kind: 'class' | 'multi-label' | 'mask' (protocol/output-kind.ts
 * outputKindOf), so that a label-mode share is read unambiguously: "N,2" is
 * a class with its bucket, or two labels' bits.
 */
export const OUTPUT_KIND_HEADER = 'x-output-kind';

/**
 * Header on PUT .../input that creates the session with its input share in
 * one request: the JSON of a CreateSessionRequest (sessionId optional, and
 * equal to the path's if given; modelHash required), at most 4 KiB.
 */
export const SESSION_CREATE_HEADER = 'x-session-create';

/**
 * Header on PUT .../input with x-session-create: wait up to this many ms
 * (an integer >= 0; the party caps it at its long-poll limit) for the
 * session's output and answer it with this request (OUTPUT_ENVELOPE_TYPE).
 */
/**
 * Header of every request about one session (create, input, output, state,
 * run): the session key, 32 random bytes in base64url (43 characters) that
 * the client draws for each party and each session. The party keeps only its
 * SHA-256 and answers a request with a missing or different key exactly as
 * an unknown session (404), so a session can be read or fed only by the
 * client that created it, even with another client's or a stolen bearer
 * token (SECURITY.md, "Sessions belong to their client").
 */
export const SESSION_KEY_HEADER = 'x-session-key';
export const SESSION_KEY_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export const AWAIT_OUTPUT_HEADER = 'x-await-output';

/**
 * Content type of the answer to a PUT with AWAIT_OUTPUT_HEADER once the
 * output is there: a little-endian u32 n, then n bytes of UTF-8 JSON (the
 * CreateSessionResponse & { state, bytes } a 201 would carry), then the
 * output share as GET .../output's body (raw little-endian u64), with the
 * same x-output-shape and x-output-mode headers.
 */
export const OUTPUT_ENVELOPE_TYPE = 'application/vnd.securenn.session-output';

/** Header on GET .../output carrying the OutputMode of the share ('logits' when absent). */
export const OUTPUT_MODE_HEADER = 'x-output-mode';

/**
 * Header on GET .../output (and the envelope answer): the id of the session
 * whose output the share is, read from the stored session. The SDK refuses a
 * share that names another session (E_INTERNAL): P0's share of one session
 * and P1's of another add up to a random value, or, both from an old session,
 * to that session's diagnosis (absent: older servers, not checked).
 */
export const OUTPUT_SESSION_HEADER = 'x-output-session';

/**
 * Header on GET .../output (and the envelope answer) of P0 and P1 when the
 * model info announces rangeSentinel: this party's share of the range
 * sentinel's s (protocol/primitives/range-sentinel.ts), one u64 as 16
 * lowercase hex digits. Sent to the client only; s_0 + s_1 = 0 when every
 * sampled comparison stayed in the 32-bit ring.
 */
export const OUTPUT_SENTINEL_HEADER = 'x-range-sentinel';

/**
 * GET /v1/privacy/budget: this party's privacy accountant for the calling
 * client (identified by a hash of its bearer token).
 */
export interface PrivacyBudgetResponse {
  party: 0 | 1 | 2;
  /** The client's id in the accountant (hash of the token; for per-client budgets in the config). */
  client: string;
  budget: { epsilon: number; delta: number };
  /** Images charged and settled / still reserved by sessions in flight. */
  queries: number;
  pendingQueries: number;
  /** Epsilon spent (incl. pending) under the enforced composition rule, and what is left. */
  enforced: { rule: string; epsilon: number; delta: number };
  remainingEpsilon: number;
  basic: { epsilon: number; delta: number };
  advanced: { epsilon: number; delta: number } | null;
  rdp: { epsilon: number; delta: number; order: number } | null;
}
