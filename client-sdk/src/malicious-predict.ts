/**
 * predict's malicious flow (docs/MALICIOUS.md "The client"), used when the
 * three parties announce security 'malicious' (client.ts):
 *  1. POST /v1/malicious/:id/mask at the three parties: each answers its
 *     shares (r_i, r_{i+1}) of a MACed random mask r;
 *  2. maskedInput (malicious-io.ts) checks the two copies of every share and
 *     gives d = x - r; POST /v1/malicious/:id/input with d to the three;
 *  3. each answers, after the parties' batched MAC check, its shares of
 *     y + 2^64 rho; reconstructOutput checks the copies and returns y mod 2^64.
 * A failed check at a party is its E_INTEGRITY answer (HTTP 502); copies
 * that disagree are E_INTEGRITY here: no prediction either way. One image or
 * a batch (?batch=N on the mask step: one session, one forward pass of N);
 * plain logits only (the parties run no output privacy in this mode yet).
 */
import { OUTPUT_SHAPE_HEADER, SESSION_KEY_HEADER, type ModelInfo } from '../../protocol/api-contract.js';
import { encode as encodeFixed } from '../../protocol/fixed-point/fixed-point.js';
import type { AnyBatch, ProgressStage } from './client-types.js';
import { PrivateInferenceError } from './errors.js';
import type { PartyEndpoint, PartyHttp } from './http.js';
import { maskedInput, reconstructOutput } from './malicious-io.js';
import { product, reconstructOutputs } from './outputs.js';
import { parseShape } from './wire.js';

type Three = [Uint8Array, Uint8Array, Uint8Array];

export interface MaliciousIo {
  http: PartyHttp;
  endpoints: readonly PartyEndpoint[];
  parallel<T>(calls: Promise<T>[]): Promise<T[]>;
  signal: AbortSignal;
  /** The prediction's remaining deadline (ms), sent with the mask step where the parties announce maliciousDeadline. */
  deadlineMs?: number;
}

/** The mask step's query: the batch (when not 1) and the deadline (when the client has one). */
const maskQuery = (batch: number, deadlineMs: number | undefined): string => {
  const q = [...(batch !== 1 ? [`batch=${batch}`] : []), ...(deadlineMs !== undefined ? [`deadlineMs=${deadlineMs}`] : [])];
  return q.length ? `?${q.join('&')}` : '';
};

/** What predict cannot ask of the malicious mode yet: E_SECURITY_MODE before anything is sent. */
export function checkMaliciousRequest(model: ModelInfo, batch: number, outputMode: string): void {
  const no = (why: string): never => { throw new PrivateInferenceError('E_SECURITY_MODE', `the parties run security 'malicious', which serves ${why} yet: nothing was sent`); };
  if (!Number.isInteger(batch) || batch < 1) no(`batches of at least one image (asked for ${batch})`);
  if (outputMode !== 'logits' || model.privacy !== undefined || model.ensemble !== undefined) no('plain logits only (no label modes, DP noise or PATE)');
  // The malicious mode runs no range sentinel (parties/range-sentinel.ts): parties announcing one would have the client skip a check they promise.
  if (model.rangeSentinel === true) no('no run-time range sentinel (the parties announce one)');
}

/** Steps 1-3 for `batch` encoded images x (fixed point, Z_2^64, image after image): the fixed-point outputs (mod 2^64). */
export async function predictMalicious(io: MaliciousIo, sessionId: string, keys: readonly string[], x: BigUint64Array, model: ModelInfo, onComputing?: () => void, batch = 1): Promise<BigUint64Array> {
  const path = `/v1/malicious/${sessionId}`;
  const post = async (ep: PartyEndpoint, step: string, body?: Uint8Array): Promise<Uint8Array> => {
    const res = await io.http.call(ep, { method: 'POST', path: `${path}/${step}${step === 'mask' ? maskQuery(batch, model.maliciousDeadline === true ? io.deadlineMs : undefined) : ''}`, accept: 'application/octet-stream', headers: { [SESSION_KEY_HEADER]: keys[ep.party]! }, ...(body ? { body, contentType: 'application/octet-stream' } : {}) }, io.signal);
    if (step === 'input') {
      const shape = parseShape(res.headers.get(OUTPUT_SHAPE_HEADER));
      if (shape && product(shape) !== batch * product(model.outputShape)) throw new PrivateInferenceError('E_SHAPE', `party ${ep.party}: output of shape [${shape.join(', ')}], expected [${batch}, ${model.outputShape.join(', ')}]`, { party: ep.party });
    }
    return new Uint8Array(await io.http.read(ep, `malicious ${step}`, io.signal, () => res.arrayBuffer()));
  };
  const masks = await io.parallel(io.endpoints.map((ep) => post(ep, 'mask')));
  const d = maskedInput(x, masks as Three);
  onComputing?.();
  const outs = await io.parallel(io.endpoints.map((ep) => post(ep, 'input', d)));
  return reconstructOutput(outs as Three, batch * product(model.outputShape));
}

/** predict's malicious path: checks, encoding, steps 1-3, then the logits as the semi-honest path gives them. */
export async function runMalicious(io: MaliciousIo, model: ModelInfo, x: () => Float64Array, batch: number, outputMode: string, sessionId: string, keys: readonly string[], emit: (stage: ProgressStage, bytes?: number) => void): Promise<AnyBatch> {
  checkMaliciousRequest(model, batch, outputMode);
  const fixed = encodeFixed(x(), model.fracBits);
  emit('uploading', 16 * fixed.length);
  const y = await predictMalicious(io, sessionId, keys, fixed, model, () => emit('computing'), batch);
  emit('reconstructing');
  // y is the whole value (every share's two copies checked): reconstructOutputs gets it as one share and zeros as the other.
  const out = { shape: [batch, ...model.outputShape], mode: 'logits', kind: null };
  return reconstructOutputs({ ...out, shares: y }, { ...out, shares: new BigUint64Array(y.length) }, model, batch, sessionId);
}
