/**
 * Reconstruction of a session's output (step 5 of client.ts): y = y_0 + y_1
 * from P0's and P1's shares, checked against the model; logits decoded and
 * activated on the client, or the label modes' decisions (label-results.ts).
 */
import type { ModelInfo } from '../../protocol/api-contract.js';
import { decode as decodeFixed } from '../../protocol/fixed-point/fixed-point.js';
import { activate, findings, labelFor, labelProbability, maskOutput, outputKind, predictedIndex } from './activation.js';
import type { AnyBatch, BatchPrediction } from './client-types.js';
import { PrivateInferenceError } from './errors.js';
import { reconstructShares } from './ring.js';
import { reconstructLabels } from './label-results.js';
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
