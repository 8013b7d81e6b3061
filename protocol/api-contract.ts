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
 *  3. It GETs /v1/sessions/:id/output from P0 and P1 (long poll until done or
 *     failed) and reconstructs the logits y = y_0 + y_1, then applies the
 *     model's output activation (softmax / sigmoid) itself.
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
}

export interface ModelInfo {
  modelHash: string;
  /** Input shape without the batch dimension, e.g. [150, 125, 1]. */
  inputShape: number[];
  outputShape: number[];
  fracBits: number;
  outputActivation: 'linear' | 'softmax' | 'sigmoid';
  labels?: string[];
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

/** Header on GET .../output carrying the output shape (with batch), e.g. "1,2". */
export const OUTPUT_SHAPE_HEADER = 'x-output-shape';
