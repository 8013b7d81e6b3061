/**
 * The client-side output activation (softmax / sigmoid after reconstruction), row by row. Keras's softmax
 * (the Softmax layer and activation='softmax', axis -1) normalises over the last axis: a dense output
 * [H, W, C] (a segmentation head, protocol/output-kind.ts 'mask') is one distribution over C per position,
 * as the SDK's maskOutput computes it; a flat output one distribution over all its values.
 */
import type { FloatTensor, ModelIR, OutputActivation } from '../protocol/ir.js';
import { outputKindOf } from '../protocol/output-kind.js';
import { inferShapes } from './shapes.js';

/**
 * softmax over consecutive groups of `softmaxGroup` values of each row (the last axis of the output;
 * default: the whole row), sigmoid per value, or the logits unchanged.
 */
export function applyOutputActivation(logits: Float32Array | Float64Array, batch: number, act: OutputActivation, softmaxGroup?: number): Float32Array {
  const out = new Float32Array(logits.length);
  const rowLen = logits.length / batch;
  const k = act === 'softmax' && softmaxGroup !== undefined ? softmaxGroup : rowLen;
  const rows = logits.length / k;
  for (let b = 0; b < rows; b++) {
    const row = logits.subarray(b * k, (b + 1) * k);
    if (act === 'softmax') {
      let m = -Infinity;
      for (const v of row) m = Math.max(m, v);
      let s = 0;
      for (const v of row) s += Math.exp(v - m);
      for (let i = 0; i < k; i++) out[b * k + i] = Math.exp(row[i]! - m) / s;
    } else if (act === 'sigmoid') for (let i = 0; i < k; i++) out[b * k + i] = 1 / (1 + Math.exp(-row[i]!));
    else out.set(row, b * k);
  }
  return out;
}

/** The size of the model's softmax groups: the last output axis of a dense ('mask') output, else undefined (the whole row). */
export function softmaxGroupOf(model: Pick<ModelIR<unknown>, 'inputShape' | 'nodes' | 'output' | 'outputActivation'>): number | undefined {
  if (model.outputActivation !== 'softmax') return undefined;
  const shape = inferShapes(model).get(model.output) ?? model.inputShape;
  return outputKindOf(shape, 'softmax') === 'mask' ? shape[shape.length - 1] : undefined;
}

/** The model's output activation on its logits, flat [batch, ...outShape]: applyOutputActivation with the model's softmax groups. */
export function modelOutput(model: ModelIR<FloatTensor>, logits: Float32Array | Float64Array, batch: number): Float32Array {
  return applyOutputActivation(logits, batch, model.outputActivation, softmaxGroupOf(model));
}

/** Index of the largest value in each row; for one sigmoid output, 1 if the logit is > 0. */
export function argmaxRows(v: ArrayLike<number>, batch: number): number[] {
  const k = v.length / batch;
  const out: number[] = [];
  for (let b = 0; b < batch; b++) {
    if (k === 1) {
      out.push(v[b]! > 0 ? 1 : 0);
      continue;
    }
    let best = 0;
    for (let i = 1; i < k; i++) if (v[b * k + i]! > v[b * k + best]!) best = i;
    out.push(best);
  }
  return out;
}
