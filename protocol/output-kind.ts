/**
 * What a model's output is, and how the label-only output modes decide it.
 * One rule for the parties (protocol/privacy/private-output.ts, the run
 * executor) and the client SDK (client-sdk/src/activation.ts re-exports it),
 * so both read the same shapes off the wire. Pure; no dependencies.
 *
 * Kinds, from the output shape (without batch) and the output activation:
 *  - 'mask': a dense output [H, W, C] (two or more dimensions; segmentation);
 *  - 'multi-label': several independent sigmoid outputs (CheXNet's 14 findings);
 *  - 'class': one class (softmax / linear over classes, or a single sigmoid output).
 *
 * Decision rules of the label modes ('label', 'label+confidence'):
 *  - 'argmax' ('class'): the class index per image (secure argmax);
 *  - 'threshold' ('multi-label', and a mask whose pixels are sigmoids: C = 1 or
 *    activation 'sigmoid'): one bit per output element, logit >= logit(t)
 *    for the element's probability threshold t (protocol/privacy/decisions.ts);
 *  - 'pixel-argmax' (a mask with C > 1 softmax / linear channels): the class
 *    index per pixel (secure argmax over the C channels of each pixel).
 */
export type OutputKind = 'class' | 'multi-label' | 'mask';
export type DecisionRule = 'argmax' | 'threshold' | 'pixel-argmax';
export type OutputActivationName = 'linear' | 'softmax' | 'sigmoid';

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

export function outputKindOf(outputShape: readonly number[], activation: OutputActivationName): OutputKind {
  if (outputShape.length >= 2) return 'mask';
  return size(outputShape) > 1 && activation === 'sigmoid' ? 'multi-label' : 'class';
}

export function decisionRuleOf(outputShape: readonly number[], activation: OutputActivationName): DecisionRule {
  const kind = outputKindOf(outputShape, activation);
  if (kind === 'class') return 'argmax';
  if (kind === 'multi-label') return 'threshold';
  const c = outputShape[outputShape.length - 1]!;
  return c === 1 || activation === 'sigmoid' ? 'threshold' : 'pixel-argmax';
}

/**
 * Why an output carries no information, or undefined: a softmax over one value (Dense(1, activation='softmax'), a
 * [H, W, 1] map with a softmax) is 1 whatever the input, as Keras computes it; read as one logit it would be served
 * as a binary classifier labelled by the logit's sign. mpc-import refuses such a model (model-import/labels.ts
 * checkLogitsHead); the parties refuse a bundle written before that check, and the SDK a party that announces one.
 */
export function constantOutputReason(outputShape: readonly number[], activation: OutputActivationName): string | undefined {
  return activation === 'softmax' && channelsOf(outputShape) === 1 ? 'the model ends in a softmax over 1 value, which is 1 whatever the input (a binary classifier ends in a sigmoid)' : undefined;
}

/** Channels a 'threshold' rule's per-channel thresholds index (the last output dimension; 1 for a 'class' output). */
export function channelsOf(outputShape: readonly number[]): number {
  return outputShape.length === 0 ? 1 : outputShape[outputShape.length - 1]!;
}

/**
 * The shape of one image's label-mode output share (without batch): the wire
 * header x-output-shape is [batch, ...this]. 'label': [] (argmax: one class
 * index), the output shape (threshold: one bit per element), the output shape
 * without its channels (pixel-argmax: one class index per pixel);
 * 'label+confidence' appends 2 (the decision and its confidence bucket,
 * interleaved).
 */
export function labelShapeOf(outputShape: readonly number[], rule: DecisionRule, mode: 'label' | 'label+confidence'): number[] {
  const base = rule === 'argmax' ? [] : rule === 'threshold' ? [...outputShape] : outputShape.slice(0, -1);
  return mode === 'label+confidence' ? [...base, 2] : base;
}
