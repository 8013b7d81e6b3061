/**
 * What the client sends and accepts on the wire (protocol/api-contract.ts):
 * the privacy options of a request, and the checks of the parties' session
 * responses, model info and output envelopes (a malformed answer is
 * E_INTERNAL: a broken or foreign server).
 */
import { COMPARE_BOUNDS, type CreateSessionResponse, type ModelInfo, type OutputMode, type OutputPrivacy, type PrivacyOptions } from '../../protocol/api-contract.js';
import { MAX_FRAC_BITS, MIN_FRAC_BITS } from '../../protocol/fixed-point/fixed-point.js';
import { constantOutputReason } from '../../protocol/output-kind.js';
import { InputError, PrivateInferenceError } from './errors.js';
import { bytesToU64 } from './ring.js';

/** One party's output share as received. */
export type { OutputShare as Output } from './label-results.js';

const OUTPUT_MODES: readonly string[] = ['logits', 'label', 'label+confidence'];

const ACTIVATIONS: readonly string[] = ['linear', 'softmax', 'sigmoid'];

/** The privacy options sent to the parties: the caller's, with the output mode made explicit (default 'logits'). */
export function requestPrivacy(p: PrivacyOptions | undefined): PrivacyOptions & { outputMode: OutputMode } {
  if (p !== undefined && (typeof p !== 'object' || p === null || Array.isArray(p))) throw new InputError('E_BAD_ARGUMENT', 'predict: privacy must be an object { outputMode?, dp? }');
  const mode = p?.outputMode ?? 'logits';
  if (!OUTPUT_MODES.includes(mode)) throw new InputError('E_BAD_ARGUMENT', `predict: privacy.outputMode must be one of ${OUTPUT_MODES.join(', ')}`);
  if (p?.dp !== undefined && (typeof p.dp !== 'object' || p.dp === null)) throw new InputError('E_BAD_ARGUMENT', 'predict: privacy.dp must be an object');
  return { ...(p?.dp !== undefined ? { dp: { ...p.dp } } : {}), outputMode: mode };
}

/** Key-order-independent JSON of an output policy (to compare the parties' announcements). */
export function canonical(v: OutputPrivacy | undefined): string {
  return JSON.stringify(v ?? null, (_k, x: unknown) => (x !== null && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x));
}

/** The most a client asks a party to wait for an output in the create request (x-await-output); after that it long-polls GET output. Below undici's 300 s headers timeout. */
export const MAX_AWAIT_MS = 60_000;

/** An OUTPUT_ENVELOPE_TYPE body: u32 LE n, n bytes of JSON, the output share (E_INTERNAL when malformed). */
export function openEnvelope(buf: ArrayBuffer, p: 0 | 1 | 2): { json: unknown; share: BigUint64Array } {
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

/** The x-output-session header of party p's output share must name the session asked for (absent: older servers). */
export function checkOutputSession(h: string | null, p: 0 | 1, sessionId: string): void {
  if (h !== null && h.trim().toLowerCase() !== sessionId.toLowerCase()) {
    throw new PrivateInferenceError('E_INTERNAL', `party ${p}: the output share belongs to another session than the one asked for`, { party: p });
  }
}

export function parseShape(h: string | null): number[] | undefined {
  if (h === null || h.trim() === '') return undefined;
  const s = h.split(',').map((d) => Number(d.trim()));
  return s.every((d) => Number.isInteger(d) && d >= 0) ? s : undefined;
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) { reject(signal.reason); return; }
    const onAbort = (): void => { clearTimeout(t); reject(signal.reason); };
    const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function isShape(s: unknown): s is number[] {
  return Array.isArray(s) && s.length > 0 && s.every((d) => Number.isInteger(d) && d > 0);
}

/** Validate a CreateSessionResponse from party p (E_INTERNAL when malformed: a broken or foreign server). */
export function checkSessionResponse(j: unknown, p: 0 | 1 | 2, sessionId: string): CreateSessionResponse {
  const r = j as Partial<CreateSessionResponse> | null;
  const bad = (what: string): never => { throw new PrivateInferenceError('E_INTERNAL', `party ${p}: malformed session response (${what})`, { party: p }); };
  if (typeof r !== 'object' || r === null) return bad('not an object');
  if (r.sessionId !== sessionId) bad('sessionId');
  if (r.party !== p) throw new InputError('E_BAD_ARGUMENT', `parties[${p}] answered as party ${String(r.party)}: list the parties in the order P0, P1, P2`, { party: p });
  checkModelFields(r, bad);
  if (p !== 2 && r.acceptsInput !== true) bad('acceptsInput');
  return r as CreateSessionResponse;
}

/**
 * GET /v1/model of party p. The party names itself there (every party build does): a server answering as another
 * party (one server under two names, a DNS alias, a misordered list) is refused before any share is sent, as at
 * session creation; a pinned client's one-request upload relies on this check.
 */
export function checkModelInfo(j: unknown, p: 0 | 1 | 2): CreateSessionResponse {
  const r = j as (Partial<ModelInfo> & { party?: unknown }) | null;
  const bad = (what: string): never => { throw new PrivateInferenceError('E_INTERNAL', `party ${p}: malformed model info (${what})`, { party: p }); };
  if (typeof r !== 'object' || r === null) return bad('not an object');
  if (r.party !== p) throw new InputError('E_BAD_ARGUMENT', `parties[${p}] answered as party ${String(r.party)}: list the parties in the order P0, P1, P2`, { party: p });
  checkModelFields(r, bad);
  return { ...(r as ModelInfo), sessionId: '', party: p, acceptsInput: p !== 2 };
}

function checkModelFields(r: Partial<ModelInfo>, bad: (what: string) => never): void {
  if (typeof r.modelHash !== 'string' || r.modelHash.length === 0) bad('modelHash');
  if (r.importId !== undefined && !(typeof r.importId === 'string' && r.importId.length > 0)) bad('importId');
  if (!isShape(r.inputShape)) bad('inputShape');
  if (!isShape(r.outputShape)) bad('outputShape');
  if (!Number.isInteger(r.fracBits) || r.fracBits! < MIN_FRAC_BITS || r.fracBits! > MAX_FRAC_BITS) bad('fracBits');
  if (!ACTIVATIONS.includes(r.outputActivation as string)) bad('outputActivation');
  const constant = constantOutputReason(r.outputShape!, r.outputActivation!);
  if (constant) throw new PrivateInferenceError('E_MODEL_FORMAT', `the parties' model cannot be served: ${constant}`);
  if (r.labels !== undefined && !(Array.isArray(r.labels) && r.labels.every((l) => typeof l === 'string'))) bad('labels');
  if (r.compareBound !== undefined && !COMPARE_BOUNDS.includes(r.compareBound)) bad('compareBound');
  if (r.rangeSentinel !== undefined && typeof r.rangeSentinel !== 'boolean') bad('rangeSentinel');
  if (r.maliciousDeadline !== undefined && typeof r.maliciousDeadline !== 'boolean') bad('maliciousDeadline');
  if (r.decisionThresholds !== undefined && !(Array.isArray(r.decisionThresholds) && r.decisionThresholds.every((t) => typeof t === 'number' && t > 0 && t < 1))) bad('decisionThresholds');
  if (r.ensemble !== undefined && !(typeof r.ensemble === 'object' && r.ensemble !== null && Number.isInteger(r.ensemble.teachers))) bad('ensemble');
  if (r.security !== undefined && r.security !== 'semi-honest' && r.security !== 'malicious') bad('security');
  if (r.requires !== undefined && !(typeof r.requires === 'object' && r.requires !== null && (r.requires.security === undefined || r.requires.security === 'malicious'))) bad('requires');
}
