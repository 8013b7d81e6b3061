/**
 * Output activation and label, applied by the client to the reconstructed
 * logits (the parties never see the probabilities).
 */
import type { ModelInfo } from '../../protocol/api-contract.js';
import { outputKindOf, type OutputKind } from '../../protocol/output-kind.js';
import { PrivateInferenceError } from './errors.js';

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
 * (binary classifier) 1 when the logit is > 0 (p > 0.5), else 0: the label
 * mode's rule (the secure argmax of [0, x], ties to class 0) and mpc-import's
 * (output.ts argmaxRows). With `logits` the argmax is taken over them:
 * softmax and sigmoid keep their order, but float64 does not (sigmoid is
 * exactly 1 above a logit of about 37, so 40 and 50 tie).
 */
export function predictedIndex(probabilities: readonly number[], logits?: readonly number[]): number {
  if (probabilities.length === 1) return (logits ? logits[0]! > 0 : probabilities[0]! > 0.5) ? 1 : 0;
  return argmax(logits ?? probabilities);
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

/**
 * What the model's output is, from its shape and activation:
 * - 'mask': a dense output [H, W, C] (segmentation): per-pixel probabilities;
 * - 'multi-label': several independent sigmoid outputs (CheXNet's 14 findings): one decision per label;
 * - 'class': one class (softmax / linear over classes, or one sigmoid output).
 */
export type { OutputKind };

/** The one rule the parties use too (protocol/output-kind.ts outputKindOf). */
export function outputKind(model: Pick<ModelInfo, 'outputShape' | 'outputActivation'>): OutputKind {
  return outputKindOf(model.outputShape, model.outputActivation);
}

/** The decision threshold of a sigmoid probability (multi-label findings, mask pixels). */
export const DECISION_THRESHOLD = 0.5;

/** The threshold of output element i: the model's per-channel decisionThresholds (one or one per channel), else 0.5. */
export function thresholdOf(i: number, thresholds: readonly number[] | undefined): number {
  return thresholds && thresholds.length > 0 ? thresholds[i % thresholds.length]! : DECISION_THRESHOLD;
}

/** One finding of a multi-label model. */
export interface Finding {
  label: string | number;
  index: number;
  probability: number;
  /** probability >= the label's threshold (model.decisionThresholds, default 0.5) */
  positive: boolean;
}

/**
 * Findings sorted by probability, highest first; ties (probabilities that
 * round to the same float64, e.g. 1 for every logit above ~37) by the logit
 * when `logits` are given, then by index; `thresholds`: model.decisionThresholds.
 */
export function findings(probabilities: readonly number[], labels: readonly string[] | undefined, thresholds?: readonly number[], logits?: readonly number[]): Finding[] {
  const z = (i: number): number => logits?.[i] ?? 0;
  return probabilities
    .map((p, i) => ({ label: labelFor(i, labels), index: i, probability: p, positive: p >= thresholdOf(i, thresholds) }))
    .sort((a, b) => b.probability - a.probability || z(b.index) - z(a.index) || a.index - b.index);
}

/** A segmentation output. */
export interface MaskOutput {
  /** [H, W, C] as the model outputs it. */
  shape: number[];
  /** Per pixel and channel: sigmoid of the logit (C = 1 or activation 'sigmoid'), else softmax over the channels; HWC order. */
  probabilities: Float32Array;
  /**
   * The decisions, as the label modes make them inside the protocol (protocol/output-kind.ts decisionRuleOf):
   * a sigmoid mask (C = 1 or activation 'sigmoid') one bit per element, HWC like `probabilities` (1 where p >= the
   * channel's threshold, model.decisionThresholds, default 0.5: each channel is an independent finding); a softmax /
   * linear mask with C > 1 the class per pixel, HW (the largest logit, as the probabilities may tie at 1 in float64).
   */
  classes: Uint8Array;
  /** Fraction of the decisions that are positive: elements at or above their threshold (sigmoid), pixels whose class is not 0 (softmax). */
  positiveFraction: number;
}

/** Dense logits (HWC) -> MaskOutput. */
export function maskOutput(logits: ArrayLike<number>, shape: readonly number[], activation: ModelInfo['outputActivation'], thresholds?: readonly number[]): MaskOutput {
  const c = shape[shape.length - 1]!;
  const px = logits.length / c;
  const probabilities = new Float32Array(logits.length);
  const perElement = c === 1 || activation === 'sigmoid';
  // A class map of more than 256 classes does not fit Uint8Array (the label modes refuse it too: label-results.ts).
  if (!perElement && c > 256) throw new PrivateInferenceError('E_SHAPE', `a class map of ${c} classes per pixel does not fit the SDK's Uint8Array masks`);
  const classes = new Uint8Array(perElement ? logits.length : px);
  let positive = 0;
  for (let i = 0; i < px; i++) {
    const z = Array.from({ length: c }, (_, k) => logits[i * c + k]!);
    const p = perElement ? sigmoid(z) : softmax(z);
    probabilities.set(p, i * c);
    if (perElement) {
      // Each channel an independent finding with its own threshold, as the label modes' 'threshold' rule decides.
      for (let k = 0; k < c; k++) if (p[k]! >= thresholdOf(k, thresholds)) { classes[i * c + k] = 1; positive++; }
    } else {
      const cls = argmax(z);
      classes[i] = cls;
      if (cls !== 0) positive++;
    }
  }
  return { shape: [...shape], probabilities, classes, positiveFraction: classes.length > 0 ? positive / classes.length : 0 };
}
