/**
 * Typed errors of the client SDK. Every error is an MpcError (protocol/errors.ts)
 * with a code from the one registry, so `err.code` is always set; the
 * subclasses let callers use `instanceof` for the cases an app handles
 * differently. Errors a party answered with keep its code, party and step.
 *
 * A user abort is not wrapped: predict() rejects with `signal.reason`
 * (a DOMException named 'AbortError' unless the caller passed another reason),
 * like fetch does.
 */
import { ERROR_CODES, MpcError, type ErrorCode, type ErrorContext } from '../../protocol/errors.js';

export { MpcError, ERROR_CODES, type ErrorCode };

export interface ClientErrorContext extends ErrorContext {
  /** HTTP status the party answered with, when the error came from a response. */
  status?: number;
  /** The code string the server sent, when it is not in the registry (then code is E_INTERNAL). */
  serverCode?: string;
  /** A sub-code telling input problems of one code apart (e.g. 'DICOM_TRUNCATED', see image/dicom.ts). */
  reason?: string;
}

export class PrivateInferenceError extends MpcError {
  readonly status?: number;
  readonly serverCode?: string;
  constructor(code: ErrorCode, message: string, ctx: ClientErrorContext = {}) {
    super(code, message, ctx);
    this.name = 'PrivateInferenceError';
    if (ctx.status !== undefined) this.status = ctx.status;
    if (ctx.serverCode !== undefined) this.serverCode = ctx.serverCode;
  }
}

/** E_DEADLINE: the client's timeoutMs elapsed, or a party reported its deadline passed. */
export class DeadlineError extends PrivateInferenceError {
  constructor(message: string, ctx: ClientErrorContext = {}) {
    super('E_DEADLINE', message, ctx);
    this.name = 'DeadlineError';
  }
}

/** E_PEER_UNAVAILABLE: a party could not be reached (network failure, connection refused, bad gateway). */
export class PeerUnavailableError extends PrivateInferenceError {
  constructor(message: string, ctx: ClientErrorContext = {}) {
    super('E_PEER_UNAVAILABLE', message, ctx);
    this.name = 'PeerUnavailableError';
  }
}

/** E_SHAPE / E_DTYPE / E_RANGE / E_INPUT_RANGE / E_IMAGE_PREPROCESSING / E_BAD_ARGUMENT: the input or an option is unusable; usually thrown before any request. */
export class InputError extends PrivateInferenceError {
  /** Which problem, where the code alone does not say (DICOM files: DicomProblem of image/dicom.ts). */
  readonly reason?: string;
  constructor(code: 'E_SHAPE' | 'E_DTYPE' | 'E_RANGE' | 'E_INPUT_RANGE' | 'E_IMAGE_PREPROCESSING' | 'E_BAD_ARGUMENT', message: string, ctx: ClientErrorContext = {}) {
    super(code, message, ctx);
    this.name = 'InputError';
    if (ctx.reason !== undefined) this.reason = ctx.reason;
  }
}

/** E_MODEL_MISMATCH: expectedModelHash differs from the parties' model, or the three parties disagree. */
export class ModelMismatchError extends PrivateInferenceError {
  constructor(message: string, ctx: ClientErrorContext = {}) {
    super('E_MODEL_MISMATCH', message, ctx);
    this.name = 'ModelMismatchError';
  }
}

/**
 * E_BUDGET_EXHAUSTED (HTTP 429): the client's differential-privacy budget at a
 * party would be exceeded by this request; nothing was computed. Retrying does
 * not help until the operator raises the budget.
 */
export class BudgetExhaustedError extends PrivateInferenceError {
  constructor(message: string, ctx: ClientErrorContext = {}) {
    super('E_BUDGET_EXHAUSTED', message, ctx);
    this.name = 'BudgetExhaustedError';
  }
}

/**
 * E_PRIVACY_POLICY (HTTP 403): the request asked for a less private output
 * than the model's policy allows (e.g. logits from a label-only model, a
 * larger epsilon); ask for `privacy: { outputMode: 'label' }` or a stricter DP.
 */
export class PrivacyPolicyError extends PrivateInferenceError {
  constructor(message: string, ctx: ClientErrorContext = {}) {
    super('E_PRIVACY_POLICY', message, ctx);
    this.name = 'PrivacyPolicyError';
  }
}

/** Any other coded error a party answered with (E_UNAUTHENTICATED, E_NOT_READY, E_OVERLOADED, ...). */
export class ServerError extends PrivateInferenceError {
  constructor(code: ErrorCode, message: string, ctx: ClientErrorContext = {}) {
    super(code, message, ctx);
    this.name = 'ServerError';
  }
}

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}

/** The error class for a code, so a server's E_DEADLINE is a DeadlineError like the client's own. */
export function errorForCode(code: ErrorCode, message: string, ctx: ClientErrorContext = {}): PrivateInferenceError {
  switch (code) {
    case 'E_DEADLINE': return new DeadlineError(message, ctx);
    case 'E_PEER_UNAVAILABLE': return new PeerUnavailableError(message, ctx);
    case 'E_MODEL_MISMATCH': return new ModelMismatchError(message, ctx);
    case 'E_BUDGET_EXHAUSTED': return new BudgetExhaustedError(message, ctx);
    case 'E_PRIVACY_POLICY': return new PrivacyPolicyError(message, ctx);
    case 'E_SHAPE': case 'E_DTYPE': case 'E_RANGE': case 'E_BAD_ARGUMENT': return new InputError(code, message, ctx);
    default: return new ServerError(code, message, ctx);
  }
}

/** Re-throw protocol errors (e.g. E_RANGE from fixed-point encode) as the SDK's classes. */
export function asClientError(e: unknown): unknown {
  if (e instanceof PrivateInferenceError || !(e instanceof MpcError)) return e;
  return errorForCode(e.code, e.message, { ...(e.party !== undefined ? { party: e.party } : {}), ...(e.step !== undefined ? { step: e.step } : {}), cause: e });
}
