/**
 * Plaintext fixed-point simulation of what the secure runner
 * (protocol/layers/runner.ts) computes: the IR toolkit's forward pass
 * (protocol/ir-kit/forward.ts) in fixed-point arithmetic
 * (protocol/ir-kit/arith.ts fixedArith: inputs, weights and biases
 * round(v 2^f); a product truncated by f before the bias; divisions by
 * public counts; public real constants as round(c 2^24) truncated by 24).
 * "Rounded" is to nearest by default (option: floor). The secure protocol's
 * local truncation and division land on floor or floor + 1 (and fail with
 * probability ~2^(l_x+1-64)), so each op differs by at most one unit; on
 * average they round to nearest, which keeps the simulation unbiased.
 */
import type { FloatTensor, ModelIR } from '../protocol/ir.js';
import { fixedArith, type FixedRisk } from '../protocol/ir-kit/arith.js';
import { forwardIR } from '../protocol/ir-kit/forward.js';
import { modelOutput } from './output.js';

export interface FixedSimOptions {
  fracBits?: number;
  /**
   * How truncations and divisions round: 'nearest' (default; unbiased, like the
   * protocol's SecureML truncation on average, which lands on floor or floor + 1
   * with probability following the fraction), 'floor' (always down) or
   * 'stochastic' (floor + 1 with probability the dropped fraction: one draw
   * of the protocol's rounding; the precision chooser uses it).
   */
  rounding?: 'nearest' | 'floor' | 'stochastic';
  /** Filled with the local-truncation risk of this input (FixedSimRisk). */
  risk?: FixedSimRisk;
}

/**
 * Expected number of wrong elements per run of the protocol's local rule
 * (truncate.ts: an element x fails with probability about |x| / 2^64), summed
 * over this input's truncations. `products`: truncations after products
 * (Conv2D, DepthwiseConv2D, Dense, Multiply, a non-integer Rescaling, the
 * public slopes of LeakyReLU / PReLU / HardSigmoid / HardSilu / bilinear
 * UpSampling2D, and the three inside each smooth activation's element), which the exact
 * protocol (--truncation exact) removes; `divisions`: AveragePooling and
 * integer Rescaling divisions (scale 1 is none: the offset alone), local in
 * both modes. Values add up over calls.
 */
export type FixedSimRisk = FixedRisk;

/** Fixed-point logits (decoded to reals) of the IR on a float input batch. */
export function fixedLogits(model: ModelIR<FloatTensor>, input: Float32Array | Float64Array, batch: number, opts: FixedSimOptions = {}): Float64Array {
  const ar = fixedArith(opts);
  const out = forwardIR(model, input, batch, ar).data;
  const logits = new Float64Array(out.length);
  for (let i = 0; i < out.length; i++) logits[i] = ar.decode(out[i]!);
  return logits;
}

/** Fixed-point outputs after the model's output activation. */
export function fixedPredict(model: ModelIR<FloatTensor>, input: Float32Array | Float64Array, batch: number, opts: FixedSimOptions = {}): Float32Array {
  return modelOutput(model, fixedLogits(model, input, batch, opts), batch);
}
