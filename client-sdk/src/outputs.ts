/**
 * Reconstruction of a session's output (step 5 of client.ts): y = y_0 + y_1
 * from P0's and P1's shares, checked against the model; logits decoded and
 * activated on the client, or the label modes' decisions (label-results.ts).
 */
import type { ModelInfo } from '../../protocol/api-contract.js';
import { decode as decodeFixed } from '../../protocol/fixed-point/fixed-point.js';
import { activate, findings, labelFor, labelProbability, maskOutput, outputKind, predictedIndex } from './activation.js';
import type { AnyBatch, BatchPrediction, LabelPrediction, Prediction } from './client-types.js';
import type { OrientationNote } from './image/types.js';
import { PrivateInferenceError } from './errors.js';
import { reconstructShares } from './ring.js';
import { reconstructLabels } from './label-results.js';
import type { Output } from './wire.js';

export function product(s: readonly number[]): number {
  return s.reduce((a, b) => a * b, 1);
}

/**
 * A logit y (ring units) of a correct run was a product y 2^f before its last
 * truncation, which Z_2^64 holds only for |y| 2^f < 2^63: a larger |y| is a
 * value that wrapped, or shares of P0 and P1 that do not belong together
 * (their sum is then uniform: out of range but with probability 2^-f per
 * element). E_INTERNAL rather than a confident wrong answer. DP noise is added
 * after that truncation: each data party's share of it is below 2^53 ring
 * units (protocol/privacy/dp-noise.ts: the gamma-split sampler asserts it; the
 * discrete samplers' lattice scale is below MAX_LATTICE_SCALE = 2^44, so 2^53
 * is 512 scales out, probability below e^-512), so a noised logit stays below
 * 2^(63-f) + 2^54. A uniform sum of mismatched shares falls inside that with
 * probability about 2^-9 per element (the earlier bound, 2^62, let half of
 * them through: a two-class diagnosis from another session's share one time
 * in four).
 */
const NOISE_BOUND = 1n << 54n;
function checkLogitRange(y: BigUint64Array, fracBits: number, batch: number, noised: boolean): void {
  const bound = (1n << BigInt(63 - fracBits)) + (noised ? NOISE_BOUND : 0n);
  const what = noised ? `|y| >= 2^${63 - 2 * fracBits} + 2^${54 - fracBits} (DP noise included)` : `|y| >= 2^${63 - 2 * fracBits}`;
  const per = y.length / batch;
  for (let i = 0; i < y.length; i++) {
    const v = y[i]!;
    if (v >= bound && v <= (1n << 64n) - bound) {
      throw new PrivateInferenceError('E_INTERNAL', `the reconstructed logit ${i % per} of item ${Math.floor(i / per)} is out of range (${what} at f = ${fracBits}): a value overflowed in the run or the output shares do not match`);
    }
  }
}

/** y = y_0 + y_1 for one session's batch, checked against the model and the session's output mode, as the caller gets it. */
export function reconstructOutputs(o0: Output, o1: Output, model: ModelInfo, batch: number, sessionId: string): AnyBatch {
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
    // The parties send [batch, ...outputShape] (no header: older servers); another layout of as many elements is another output.
    const shape = o.shape ?? expected;
    if (shape.length !== expected.length || shape.some((d, i) => d !== expected[i]) || o.shares.length !== product(expected)) {
      throw new PrivateInferenceError('E_SHAPE', `party ${p}: output share has ${o.shares.length} elements (shape [${shape.join(', ')}]), expected [${expected.join(', ')}]`, { party: p });
    }
  }
  const ring = reconstructShares(o0.shares, o1.shares);
  checkLogitRange(ring, model.fracBits, batch, model.privacy?.dp !== undefined);
  const y = decodeFixed(ring, model.fracBits);
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
    const index = predictedIndex(probabilities, logits);
    out.probabilities.push(probabilities);
    out.index.push(index);
    out.label.push(labelFor(index, model.labels));
    out.probability.push(labelProbability(probabilities, index));
    if (kind === 'multi-label') out.findings!.push(findings(probabilities, model.labels, model.decisionThresholds, logits));
  }
  return out;
}

/** predict() without { batch: true }: the one image's result out of the batch-shaped one (its orientation note when it has one). */
export function singleResult(result: AnyBatch, sessionId: string, model: ModelInfo, note: OrientationNote | null | undefined): Prediction | LabelPrediction {
  const orientation = note ? { imageOrientation: note } : {};
  if (result.outputMode === 'logits') {
    return {
      outputMode: 'logits', kind: result.kind, probabilities: result.probabilities[0]!, label: result.label[0]!, probability: result.probability[0]!, index: result.index[0]!, logits: result.logits[0]!,
      ...(result.findings ? { findings: result.findings[0]! } : {}), ...(result.mask ? { mask: result.mask[0]! } : {}), sessionId, model, ...orientation,
    };
  }
  return {
    outputMode: result.outputMode, kind: result.kind, label: result.label[0]!, index: result.index[0]!, ...(result.confidenceBucket ? { confidenceBucket: result.confidenceBucket[0]! } : {}),
    ...(result.decisions ? { decisions: result.decisions[0]! } : {}), ...(result.mask ? { mask: result.mask[0]! } : {}), sessionId, model, ...orientation,
  };
}
