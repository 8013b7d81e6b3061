/**
 * The one registry of error codes. Every error thrown by protocol, parties,
 * model import and the client SDK is an MpcError with a code listed here; the
 * HTTP status and gRPC status of each code are mapped here and nowhere else.
 *
 * Messages must never contain share values, weights or image data: they name
 * what was wrong (a shape, a length, a layer name), never a value.
 */
export interface ErrorSpec {
  /** HTTP status the client API answers with. */
  readonly http: number;
  /** gRPC status code number (see @grpc/grpc-js `status`). */
  readonly grpc: number;
  readonly description: string;
}

// gRPC status numbers (kept numeric so protocol/ does not import grpc).
const G = { INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, ABORTED: 10, OUT_OF_RANGE: 11, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, DATA_LOSS: 15, UNAUTHENTICATED: 16 } as const;

export const ERROR_CODES = {
  E_SHAPE: { http: 400, grpc: G.INVALID_ARGUMENT, description: 'A tensor or share has the wrong shape or length for the operation.' },
  E_DTYPE: { http: 400, grpc: G.INVALID_ARGUMENT, description: 'A tensor has the wrong element type.' },
  E_RANGE: { http: 400, grpc: G.OUT_OF_RANGE, description: 'A value is outside the range the fixed-point encoding can represent.' },
  E_INPUT_RANGE: { http: 400, grpc: G.OUT_OF_RANGE, description: "A raw tensor input holds a value outside the model's declared input range (what its image preprocessing makes of pixels 0..255, or the manifest's inputRange); the client SDK refuses it before any share is sent, since the importer's bound on the comparison ring holds only inside that range." },
  E_IMAGE_PREPROCESSING: { http: 422, grpc: G.FAILED_PRECONDITION, description: "An image needs a reduction the model's recorded preprocessing does not say (a 16-bit PNG, whose 8-bit samples differ by training pipeline: Pillow saturates grey, TensorFlow keeps the high byte); the client SDK refuses it before any share is sent instead of guessing, and mpc-import refuses such a sample image. The message names the manifest option (mpc-import --preprocessing png16=pillow|high-byte), never a pixel." },
  E_RANGE_SENTINEL: { http: 422, grpc: G.OUT_OF_RANGE, description: "The run-time range sentinel found a sampled intermediate value outside the 32-bit comparison ring (|x| >= 2^31 ring units) of a model whose ring rests on the importer's samples: an intermediate value left the comparison ring and the result would be unreliable, so the client refuses it. The input is unlike the importer's samples; the model needs a sound bound or the 64-bit ring." },
  E_BAD_ARGUMENT: { http: 400, grpc: G.INVALID_ARGUMENT, description: 'An argument is invalid (bad option, bad ring, bad party id).' },
  E_PROTOCOL_DESYNC: { http: 500, grpc: G.ABORTED, description: 'A party received a message with an unexpected tag: the parties are out of step.' },
  E_PEER_UNAVAILABLE: { http: 503, grpc: G.UNAVAILABLE, description: 'A peer party closed its connection or could not be reached.' },
  E_DEADLINE: { http: 504, grpc: G.DEADLINE_EXCEEDED, description: 'The inference did not finish before its deadline.' },
  E_UNSUPPORTED_LAYER: { http: 422, grpc: G.UNIMPLEMENTED, description: 'The model contains a layer or option the secure protocol does not support.' },
  E_MODEL_FORMAT: { http: 422, grpc: G.INVALID_ARGUMENT, description: 'A model file is corrupt, truncated or not in a supported format.' },
  E_WEIGHT_SHAPE: { http: 422, grpc: G.INVALID_ARGUMENT, description: 'A weight tensor in a model file does not have the shape its layer needs.' },
  E_BUNDLE_INTEGRITY: { http: 500, grpc: G.DATA_LOSS, description: 'A share bundle failed its hash check or has an unsupported format version.' },
  E_NATIVE: { http: 500, grpc: G.INTERNAL, description: 'The native kernel addon failed or is missing when required.' },
  E_MODEL_MISMATCH: { http: 409, grpc: G.FAILED_PRECONDITION, description: 'The client expects a different model than the one this party has loaded.' },
  E_UNAUTHENTICATED: { http: 401, grpc: G.UNAUTHENTICATED, description: 'Missing or invalid bearer token or client certificate.' },
  E_PERMISSION: { http: 403, grpc: G.PERMISSION_DENIED, description: 'A peer presented a certificate that is not the expected one.' },
  E_NOT_FOUND: { http: 404, grpc: G.NOT_FOUND, description: 'Unknown session or resource.' },
  E_CONFLICT: { http: 409, grpc: G.ALREADY_EXISTS, description: 'The session id is already in use, or the input was already uploaded (replay).' },
  E_TOO_LARGE: { http: 413, grpc: G.RESOURCE_EXHAUSTED, description: 'The request body exceeds the configured limit.' },
  E_OVERLOADED: { http: 503, grpc: G.RESOURCE_EXHAUSTED, description: 'Too many sessions in flight; retry later.' },
  E_QUOTA: { http: 429, grpc: G.RESOURCE_EXHAUSTED, description: "This client has as many sessions in flight as its quota allows (sessions.maxPerClient); retry when one has finished." },
  E_TIMEOUT: { http: 408, grpc: G.DEADLINE_EXCEEDED, description: 'The request (headers and body) was not received within the server\'s request timeout, or the client aborted its upload; in the malicious mode also: a session whose other mask requests (the other parties\' hellos) or whose input did not reach the parties within malicious.clientWaitMs, which then ended it (retry with a new session).' },
  E_LINK_VERSION: { http: 503, grpc: G.FAILED_PRECONDITION, description: 'A peer speaks no link version this party speaks (a build speaks its own link version and the one before); found at link set-up, the message names both ranges. Upgrade the older party.' },
  E_SETTINGS_MISMATCH: { http: 503, grpc: G.FAILED_PRECONDITION, description: 'A peer has other protocol settings that must be the same at the three parties (compareBits, compareRadix, the model hash, the mesh link, the malicious comparisons); found at link set-up, the link is refused and the message names each setting and both values; malicious.comparisons is also compared at each malicious session\'s hello, which every party then refuses before any share.' },
  E_NOT_READY: { http: 503, grpc: G.UNAVAILABLE, description: 'The party is not ready (model not loaded, peers not connected, or its start-up warm-up not finished).' },
  E_INTERNAL: { http: 500, grpc: G.INTERNAL, description: 'An internal invariant failed.' },
  E_PROCESS_FAULT: { http: 503, grpc: G.UNAVAILABLE, description: "A party process met an unhandled promise rejection or an uncaught exception: its state is unknown, so it logs one line with this code (the event, the error's code or class; no values), stops being ready, fails its sessions in flight with this code and exits with status 70 for its orchestrator to restart it (parties/process-fault.ts). The other parties fail the sessions they shared with E_PEER_UNAVAILABLE; retry once it is ready again." },
  E_BUDGET_EXHAUSTED: { http: 429, grpc: G.RESOURCE_EXHAUSTED, description: "The client's differential-privacy budget would be exceeded by this request; it was refused." },
  E_PRIVACY_POLICY: { http: 403, grpc: G.PERMISSION_DENIED, description: "The request asked for a less private output than the model's privacy policy allows (per-request options may only be stricter)." },
  E_ACCOUNTANT_STATE: { http: 500, grpc: G.DATA_LOSS, description: 'The privacy accountant state file is unreadable, corrupt, or could not be written.' },
  E_DP_PARAMETER: { http: 400, grpc: G.INVALID_ARGUMENT, description: 'A differential-privacy parameter is out of range: epsilon below the floor (1e-6), or a noise scale or clip bound the model\'s fixed-point encoding cannot carry. Checked when the session is created, so the session never joins a batch.' },
  E_PRECISION_RANGE: { http: 422, grpc: G.OUT_OF_RANGE, description: 'At import, on the sample inputs or by the sound bound over the declared input range (model-import/static-bounds.ts), a value a secure comparison or approximation sees (a ReLU / MaxPool / Maximum input, a smooth activation\'s x - B_k, a product before exact truncation) leaves the comparison ring\'s range with the margin for the chosen or every candidate setting; the message names the layer, the observed magnitude and the allowed range. Explicit settings are refused unless mpc-import --force. A sound bound no ring holds (deep models) is refused only with mpc-import --require-sound-bound (which also refuses a model without a declared input range and an explicit ring that does not hold the bound); without it the ring is chosen on the samples and marked samples-only.' },
  E_PRECISION_TARGET: { http: 422, grpc: G.FAILED_PRECONDITION, description: 'At import, no candidate precision setting (fractional bits, truncation, comparison ring) keeps the fixed-point simulation\'s output error on the samples under --target-error with the margin; the message gives the best error reached.' },
  E_SESSION_BINDING: { http: 409, grpc: G.FAILED_PRECONDITION, description: "One session id, different create requests at the parties (batch, model hash, privacy options or the client's request nonce), or a session created at one party by another caller: P1 or P2 finds its digest of the request different from the one in P0's plan and fails the session before the run takes its input (parties/session-binding.ts). In the malicious mode: the client sent the parties different masked inputs d (the three compare a digest of d before the run, parties/malicious-desk.ts); nothing is computed and the parties' epoch is kept." },
  E_MODEL_SETTINGS: { http: 503, grpc: G.FAILED_PRECONDITION, description: 'The model\'s bundle needs protocol settings this party is not configured with (a 64-bit comparison ring, manifest compareBits, on a party with compareBits 32); the bundle is refused at load and the party does not serve.' },
  E_INTEGRITY: { http: 502, grpc: G.DATA_LOSS, description: 'Malicious mode (protocol/malicious/): a check failed, so a party deviated from the protocol: the two copies of an opened share disagree, a message is out of step or of the wrong length, a commitment does not open, the parties\' views differ, or the batched MAC check failed. The honest parties abort the run before any output leaves them; the message names the step and the peer, never a value.' },
  E_SECURITY_MODE: { http: 503, grpc: G.FAILED_PRECONDITION, description: 'The security mode (semi-honest or malicious, config `security`) does not fit: the model\'s manifest requires malicious security and this party runs semi-honest (refused at load), a client asked for malicious security (`requireSecurity`, or the manifest\'s `requires.security`) and a party does not announce it, the three parties announce different modes, a party configured for malicious security was asked for a semi-honest session (it serves only the malicious routes, /v1/malicious/:id/mask and /input, never a semi-honest run), a semi-honest party was asked for a malicious session, the SDK was asked for what the malicious mode does not serve yet (label modes, DP, PATE), or a malicious party serves a model whose privacy policy asks for a label mode or DP noise (every malicious session refused before any share; the message names what was asked for).' },
  E_DP_SENSITIVITY: { http: 400, grpc: G.INVALID_ARGUMENT, description: 'The configured DP sensitivity is below the sensitivity the clip bound implies for the model\'s number of outputs (L1 for Laplace, L2 for Gaussian).' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorContext {
  /** Party id 0, 1 or 2 where the error arose, if any. */
  party?: number;
  /** Protocol step or pipeline stage, e.g. 'relu', 'import.parse'. */
  step?: string;
  cause?: unknown;
}

export class MpcError extends Error {
  readonly code: ErrorCode;
  readonly party?: number;
  readonly step?: string;
  constructor(code: ErrorCode, message: string, ctx: ErrorContext = {}) {
    super(message, ctx.cause === undefined ? undefined : { cause: ctx.cause });
    this.name = 'MpcError';
    this.code = code;
    if (ctx.party !== undefined) this.party = ctx.party;
    if (ctx.step !== undefined) this.step = ctx.step;
  }
  get httpStatus(): number { return ERROR_CODES[this.code].http; }
  get grpcStatus(): number { return ERROR_CODES[this.code].grpc; }
  toJSON(): { code: ErrorCode; message: string; party?: number; step?: string } {
    return { code: this.code, message: this.message, ...(this.party !== undefined ? { party: this.party } : {}), ...(this.step !== undefined ? { step: this.step } : {}) };
  }
}

export function isMpcError(e: unknown): e is MpcError {
  return e instanceof MpcError;
}

/** Tiny assert helper in the noble style: `assert(cond, 'E_SHAPE', 'matmul: expected k=4, got 5')`. */
export function assert(cond: unknown, code: ErrorCode, message: string, ctx?: ErrorContext): asserts cond {
  if (!cond) throw new MpcError(code, message, ctx);
}
