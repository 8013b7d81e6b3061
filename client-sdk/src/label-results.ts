/**
 * Label-mode results ('label', 'label+confidence'): what the parties computed
 * inside the protocol, reconstructed from P0's and P1's shares. Small
 * integers mod 2^64; no logits or probabilities exist on the client. How to
 * read them depends on the model's output kind (protocol/output-kind.ts, the
 * rule the parties use too):
 *  - 'class': the class index per image (and its confidence bucket);
 *  - 'multi-label': one decision per label, positive iff the label's logit
 *    reached logit(t) for its threshold t (model.privacy.decisionThresholds);
 *  - 'mask': the thresholded mask (one bit per element of a sigmoid mask
 *    [H, W, C]) or the class per pixel of a softmax mask ([H, W]), as a
 *    Uint8Array with its shape.
 * Each share must have exactly the shape labelShapeOf announces (header
 * x-output-shape, with batch) and, when sent, the kind header must name the
 * kind the model implies; anything else is E_SHAPE / E_INTERNAL.
 */
import type { ModelInfo } from '../../protocol/api-contract.js';
import { decisionRuleOf, labelShapeOf, outputKindOf, type OutputKind } from '../../protocol/output-kind.js';
import { labelFor } from './activation.js';
import { PrivateInferenceError } from './errors.js';
import { reconstructShares } from './ring.js';
import type { OrientationNote } from './image/types.js';

/** One label's decision of a multi-label head (label modes). */
export interface LabelDecision {
  label: string | number;
  index: number;
  /** logit >= logit(threshold): probability >= threshold, decided inside the protocol. */
  positive: boolean;
  /** 'label+confidence': how many of model.privacy.confidenceThresholds |logit - logit(threshold)| reaches, 0..K. */
  confidenceBucket?: number;
}

/** A mask decided inside the protocol (label modes). */
export interface LabelMask {
  /** Shape of `mask`: the model's [H, W, C] for a sigmoid mask (bits); [H, W] for a softmax mask (class per pixel). */
  shape: number[];
  /** HWC order: 1 where the pixel's logit reached logit(threshold), else 0; or the pixel's class index. */
  mask: Uint8Array;
  /** Fraction of elements that are not 0. */
  positiveFraction: number;
  /** 'label+confidence': the bucket of each element, same shape. */
  confidenceBuckets?: Uint8Array;
}

export interface BatchLabelPrediction {
  outputMode: 'label' | 'label+confidence';
  kind: OutputKind;
  /** 'class': labels[index] (or the index). 'multi-label' / 'mask': the kind's name, index -1: read `decisions` / `mask`. */
  label: (string | number)[];
  index: number[];
  /** 'class' with 'label+confidence'. */
  confidenceBucket?: number[];
  /** 'multi-label': per image, every label's decision in label order. */
  decisions?: LabelDecision[][];
  /** 'mask': per image. */
  mask?: LabelMask[];
  sessionId: string;
  model: ModelInfo;
  /** Per input (null: no tag), when an image input has an Exif orientation tag (OrientationNote of image/types.ts). */
  imageOrientation?: (OrientationNote | null)[];
}

/** sentinel: the party's x-range-sentinel header (its share of the range sentinel's s; range-sentinel.ts), null when absent. */
export interface OutputShare { shares: BigUint64Array; shape: number[] | undefined; mode: string | null; kind?: string | null; sentinel?: string | null }

const product = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/** Label modes: check both shares' shape and kind, reconstruct, read by the model's decision rule. */
export function reconstructLabels(o0: OutputShare, o1: OutputShare, model: ModelInfo, batch: number, sessionId: string, mode: 'label' | 'label+confidence'): BatchLabelPrediction {
  const kind = outputKindOf(model.outputShape, model.outputActivation);
  const rule = decisionRuleOf(model.outputShape, model.outputActivation);
  const expected = [batch, ...labelShapeOf(model.outputShape, rule, mode)];
  for (const [p, o] of [[0, o0], [1, o1]] as const) {
    if (o.kind != null && o.kind !== kind) throw new PrivateInferenceError('E_INTERNAL', `party ${p}: output of kind '${o.kind}', the model's is '${kind}'`, { party: p });
    if (!sameShape(o.shape ?? expected, expected) || o.shares.length !== product(expected)) {
      throw new PrivateInferenceError('E_SHAPE', `party ${p}: ${mode} share has ${o.shares.length} elements (shape [${(o.shape ?? expected).join(', ')}]), expected [${expected.join(', ')}]`, { party: p });
    }
  }
  const y = reconstructShares(o0.shares, o1.shares);
  const per = mode === 'label' ? 1 : 2;
  const P = y.length / per / batch; // decisions per image
  const K = model.privacy?.confidenceThresholds?.length ?? 0;
  const outputs = product(model.outputShape);
  // How many values a decision may take: classes (a single sigmoid output is labelled 0 / 1), 2 bits, or a pixel's channels.
  const values = rule === 'argmax' ? (outputs === 1 ? 2 : outputs) : rule === 'threshold' ? 2 : model.outputShape[model.outputShape.length - 1]!;
  if (rule === 'pixel-argmax' && values > 256) throw new PrivateInferenceError('E_SHAPE', `a class map of ${values} classes per pixel does not fit the SDK's Uint8Array masks`);
  const read = (b: number, e: number, what: 'decision' | 'bucket'): number => {
    const v = y[(b * P + e) * per + (what === 'bucket' ? 1 : 0)]!;
    if (v >= BigInt(what === 'bucket' ? K + 1 : values)) throw new PrivateInferenceError('E_INTERNAL', `the reconstructed ${what === 'bucket' ? 'confidence bucket' : 'decision'} of item ${b} is out of range: the output shares do not match`);
    return Number(v);
  };
  const out: BatchLabelPrediction = { outputMode: mode, kind, label: [], index: [], sessionId, model };
  if (kind === 'class') {
    if (mode === 'label+confidence') out.confidenceBucket = [];
    for (let b = 0; b < batch; b++) {
      const index = read(b, 0, 'decision');
      out.index.push(index);
      out.label.push(labelFor(index, model.labels));
      out.confidenceBucket?.push(read(b, 0, 'bucket'));
    }
    return out;
  }
  if (kind === 'multi-label') out.decisions = [];
  else out.mask = [];
  for (let b = 0; b < batch; b++) {
    out.index.push(-1);
    out.label.push(kind);
    if (kind === 'multi-label') {
      out.decisions!.push(Array.from({ length: P }, (_, e) => ({
        label: labelFor(e, model.labels), index: e, positive: read(b, e, 'decision') === 1,
        ...(mode === 'label+confidence' ? { confidenceBucket: read(b, e, 'bucket') } : {}),
      })));
      continue;
    }
    const mask = new Uint8Array(P);
    let positive = 0;
    for (let e = 0; e < P; e++) { mask[e] = read(b, e, 'decision'); if (mask[e]) positive++; }
    const m: LabelMask = { shape: labelShapeOf(model.outputShape, rule, 'label'), mask, positiveFraction: P > 0 ? positive / P : 0 };
    if (mode === 'label+confidence') m.confidenceBuckets = Uint8Array.from({ length: P }, (_, e) => read(b, e, 'bucket'));
    out.mask!.push(m);
  }
  return out;
}
