/**
 * Output activation and label, applied by the client to the reconstructed
 * logits (the parties never see the probabilities).
 */
import type { ModelInfo } from '../../protocol/api-contract.js';

export function softmax(z: readonly number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

export function sigmoid(z: readonly number[]): number[] {
  return z.map((v) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v))));
}

/**
 * Probabilities for one item. 'softmax' and 'sigmoid' as declared; 'linear'
 * means the model ends in logits, so softmax (or sigmoid for one output) is applied.
 */
export function activate(logits: readonly number[], activation: ModelInfo['outputActivation']): number[] {
  if (activation === 'sigmoid') return sigmoid(logits);
  if (activation === 'softmax' || logits.length > 1) return softmax(logits);
  return sigmoid(logits);
}

function argmax(v: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

/**
 * The predicted class index: argmax, or for a single sigmoid output
 * (binary classifier) 1 when p >= 0.5, else 0.
 */
export function predictedIndex(probabilities: readonly number[]): number {
  if (probabilities.length === 1) return probabilities[0]! >= 0.5 ? 1 : 0;
  return argmax(probabilities);
}

/** The probability of class `index`: for one sigmoid output p of the positive class (1), 1 - p of the negative (0). */
export function labelProbability(probabilities: readonly number[], index: number): number {
  if (probabilities.length === 1) return index === 1 ? probabilities[0]! : 1 - probabilities[0]!;
  return probabilities[index]!;
}

/** The model's label name for the index, or the index when the model has no labels. */
export function labelFor(index: number, labels: readonly string[] | undefined): string | number {
  return labels !== undefined && index < labels.length ? labels[index]! : index;
}
