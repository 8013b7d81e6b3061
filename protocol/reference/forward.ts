/**
 * Plaintext float64 twin of the layer runner: the IR toolkit's forward pass
 * (protocol/ir-kit/forward.ts) in float64 arithmetic. The secure runner is
 * compared with it; model import compares it with Keras.
 */
import type { FloatTensor, ModelIR } from '../ir.js';
import { floatArith } from '../ir-kit/arith.js';
import { forwardIR, type Values } from '../ir-kit/forward.js';

/** Float64 forward pass; returns logits (before outputActivation) [N, ...]. */
export function plainForward(model: ModelIR<FloatTensor>, input: Float64Array, N: number): Values {
  return forwardIR(model, input, N, floatArith);
}

export function softmaxRows(x: Float64Array, cols: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r < x.length / cols; r++) {
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, x[r * cols + c]!);
    let s = 0;
    for (let c = 0; c < cols; c++) s += out[r * cols + c] = Math.exp(x[r * cols + c]! - m);
    for (let c = 0; c < cols; c++) out[r * cols + c]! /= s;
  }
  return out;
}
