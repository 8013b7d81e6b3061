/**
 * Plaintext reference forward pass of the IR with Keras semantics (TF 'same'
 * padding, average pooling that ignores padded cells, BatchNorm already
 * folded): the IR toolkit's forward pass (protocol/ir-kit/forward.ts) in
 * float64 on float32 weights and inputs (kerasFloatArith), returned as float32 like Keras's outputs. Inputs and outputs are
 * batch-first NHWC, flat.
 */
import { MpcError } from '../protocol/errors.js';
import type { FloatTensor, ModelIR } from '../protocol/ir.js';
import { kerasFloatArith } from '../protocol/ir-kit/arith.js';
import { forwardIR } from '../protocol/ir-kit/forward.js';
import { applyOutputActivation, modelOutput } from './output.js';
import { sizeOf } from './shapes.js';

export { applyOutputActivation };

/** Outputs of the model before `outputActivation` (logits), flat [batch, ...outShape]. */
export function referenceLogits(model: ModelIR<FloatTensor>, input: Float32Array | Float64Array, batch: number): Float32Array {
  const per = sizeOf(model.inputShape);
  if (input.length !== per * batch) throw new MpcError('E_SHAPE', `reference: input has ${input.length} values, expected ${batch} x [${model.inputShape}] = ${per * batch}`);
  return Float32Array.from(forwardIR(model, input, batch, kerasFloatArith()).data);
}

/** Model outputs after `outputActivation` (probabilities for softmax/sigmoid). */
export function referencePredict(model: ModelIR<FloatTensor>, input: Float32Array | Float64Array, batch: number): Float32Array {
  const logits = referenceLogits(model, input, batch);
  return modelOutput(model, logits, batch);
}
