/**
 * The precision chooser's fixed-point simulation (precision.ts): the secure
 * runner's arithmetic at f with the protocol's stochastic rounding, against
 * the float pass (precision.ts floatPass), on every sample.
 */
import { fixedArith, type FixedRisk } from '../protocol/ir-kit/arith.js';
import { forwardIR } from '../protocol/ir-kit/forward.js';
import type { FloatTensor, ModelIR } from '../protocol/ir.js';
import { applyOutputActivation, argmaxRows, softmaxGroupOf } from './output.js';

/** The float pass's outputs (after the output activation) and logits per sample. */
export interface FloatRef { outputs: Float32Array[]; logits: Float64Array[] }

export interface SimResult { error: number; risk: number; largest: number; decisions: number }

function decisionAgreement(model: ModelIR<FloatTensor>, a: Float64Array, b: Float64Array): [number, number] {
  if (model.outputActivation === 'sigmoid' && a.length > 1) {
    let same = 0;
    for (let i = 0; i < a.length; i++) if ((a[i]! > 0) === (b[i]! > 0)) same++;
    return [same, a.length];
  }
  return [argmaxRows(a, 1)[0] === argmaxRows(b, 1)[0] ? 1 : 0, 1];
}

/**
 * The fixed-point simulation at f on every sample against the float pass, `draws` times with stochastic rounding
 * (the protocol's distribution, smooth activations included: SmoothActivation.fixedDraw). The secure run is one
 * more draw, so the error reported per output is |mean - float| + 3 std over the draws (std with draws - 1), its
 * maximum over outputs and samples; decisions, risk and the largest product are every draw's worst.
 */
export function simulate(model: ModelIR<FloatTensor>, inputs: readonly ArrayLike<number>[], ref: FloatRef, f: number, draws: number): SimResult {
  let error = 0, riskMax = 0, largest = 0, same = 0, total = 0;
  const group = softmaxGroupOf(model);
  inputs.forEach((x, i) => {
    const want = ref.outputs[i]!, sum = new Float64Array(want.length), sq = new Float64Array(want.length);
    for (let d = 0; d < draws; d++) {
      const risk: FixedRisk = { products: 0, divisions: 0, largest: 0 };
      const ar = fixedArith({ fracBits: f, rounding: 'stochastic', risk });
      const fx = Float64Array.from(forwardIR(model, x, 1, ar).data, (v) => ar.decode(v));
      const out = applyOutputActivation(fx, 1, model.outputActivation, group);
      for (let j = 0; j < out.length; j++) { const e = out[j]! - want[j]!; sum[j]! += e; sq[j]! += e * e; }
      riskMax = Math.max(riskMax, risk.products);
      largest = Math.max(largest, risk.largest ?? 0);
      const [s, t] = decisionAgreement(model, ref.logits[i]!, fx);
      same += s; total += t;
    }
    for (let j = 0; j < want.length; j++) {
      const mean = sum[j]! / draws, v = draws > 1 ? Math.max(0, (sq[j]! - draws * mean * mean) / (draws - 1)) : 0;
      error = Math.max(error, Math.abs(mean) + 3 * Math.sqrt(v));
    }
  });
  return { error, risk: riskMax, largest, decisions: total ? same / total : 1 };
}
