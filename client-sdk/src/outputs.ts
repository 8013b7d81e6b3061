/**
 * Reconstruction of a session's output (step 5 of client.ts): y = y_0 + y_1
 * from P0's and P1's shares, checked against the model; logits decoded and
 * activated on the client, or the label modes' class index and confidence
 * bucket.
 */
import type { ModelInfo } from '../../protocol/api-contract.js';
import { decode as decodeFixed } from '../../protocol/fixed-point/fixed-point.js';
import { activate, findings, labelFor, labelProbability, maskOutput, outputKind, predictedIndex } from './activation.js';
import type { AnyBatch, BatchLabelPrediction, BatchPrediction } from './client-types.js';
import { PrivateInferenceError } from './errors.js';
import { sameShape } from './input.js';
import { reconstructShares } from './ring.js';
import type { Output } from './wire.js';

export function product(s: readonly number[]): number {
  return s.reduce((a, b) => a * b, 1);
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
  for (const [p, o] of [[0, o0], [1, o1]] as const) {
    const shape = o.shape ?? expected;
    if (shape[0] !== batch || product(shape) !== product(expected) || o.shares.length !== product(expected)) {
      throw new PrivateInferenceError('E_SHAPE', `party ${p}: output share has ${o.shares.length} elements (shape [${shape.join(', ')}]), expected [${expected.join(', ')}]`, { party: p });
    }
  }
  const y = decodeFixed(reconstructShares(o0.shares, o1.shares), model.fracBits);
  const per = y.length / batch;
  const kind = outputKind(model);
  const out: BatchPrediction = { outputMode: 'logits', kind, probabilities: [], label: [], probability: [], index: [], logits: [], sessionId, model };
  if (kind === 'multi-label') out.findings = [];
  if (kind === 'mask') out.mask = [];
  for (let b = 0; b < batch; b++) {
    const logits = Array.from(y.subarray(b * per, (b + 1) * per));
    out.logits.push(logits);
    if (kind === 'mask') {
      const mask = maskOutput(logits, model.outputShape, model.outputActivation);
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
    if (kind === 'multi-label') out.findings!.push(findings(probabilities, model.labels));
  }
  return out;
}

/** Label modes: per image the class index (shape [B]) or index and bucket ([B, 2]), small integers mod 2^64. */
function reconstructLabels(o0: Output, o1: Output, model: ModelInfo, batch: number, sessionId: string, mode: 'label' | 'label+confidence'): BatchLabelPrediction {
  const per = mode === 'label' ? 1 : 2;
  const expected = mode === 'label' ? [batch] : [batch, 2];
  for (const [p, o] of [[0, o0], [1, o1]] as const) {
    if (!sameShape(o.shape ?? expected, expected) || o.shares.length !== batch * per) {
      throw new PrivateInferenceError('E_SHAPE', `party ${p}: ${mode} share has ${o.shares.length} elements (shape [${(o.shape ?? expected).join(', ')}]), expected [${expected.join(', ')}]`, { party: p });
    }
  }
  const y = reconstructShares(o0.shares, o1.shares);
  const outputs = product(model.outputShape);
  const classes = outputs === 1 ? 2 : outputs; // a single sigmoid output is labelled 0 / 1
  const buckets = (model.privacy?.confidenceThresholds?.length ?? 0) + 1;
  const out: BatchLabelPrediction = { outputMode: mode, label: [], index: [], sessionId, model };
  if (mode === 'label+confidence') out.confidenceBucket = [];
  for (let b = 0; b < batch; b++) {
    const index = y[b * per]!;
    if (index >= BigInt(classes)) throw new PrivateInferenceError('E_INTERNAL', `the reconstructed label of item ${b} is out of range: the output shares do not match`);
    out.index.push(Number(index));
    out.label.push(labelFor(Number(index), model.labels));
    if (out.confidenceBucket) {
      const bucket = y[b * per + 1]!;
      if (bucket >= BigInt(buckets)) throw new PrivateInferenceError('E_INTERNAL', `the reconstructed confidence bucket of item ${b} is out of range: the output shares do not match`);
      out.confidenceBucket.push(Number(bucket));
    }
  }
  return out;
}
