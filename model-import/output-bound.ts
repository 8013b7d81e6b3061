/**
 * The comparison ring of the output step's decisions, recorded for EVERY
 * model (manifest `outputCompareBits`, `outputCompareBound`): a label mode
 * that only a request asks for (the model imported for logits) may then
 * decide on the parties' 32-bit ring where this bound shows it fits, instead
 * of always on the 64-bit one (parties/run-executor.ts privateOutputs).
 *
 * What the label modes compare (protocol/privacy/private-output.ts step 3),
 * with m = max |logit| and the manifest's (or the default) thresholds:
 *  - argmax / pixel-argmax: pairwise differences x_i - x_j (|.| <= 2m) and,
 *    with label+confidence, the margin minus a threshold T (<= 2m + max T);
 *  - threshold decisions: logit - logit(t) and |logit - logit(t)| - T
 *    (<= m + max |logit(t)| + max T).
 * So the compared difference is bounded by D = 2m + max |logit(t)| + max T
 * (one bound for every label mode a request can ask), and the padded compare
 * by m, as precision.ts floatPass and static-bounds.ts note the secure argmax.
 *
 * The bound is the importer's, read the same way as for its compared layers
 * (README "Comparison ring: the sound bound"): the sound interval bound over
 * the declared input range if the 32-bit ring holds it (with the range
 * margin) -> 32, 'sound'; else if the 64-bit ring holds it -> 64, 'sound';
 * a bound no ring holds, or no declared range, proves nothing: the samples'
 * logits decide with the same margin, marked 'samples-only'.
 */
import { forwardIR } from '../protocol/ir-kit/forward.js';
import { kerasFloatArith } from '../protocol/ir-kit/arith.js';
import type { FloatTensor, ModelIR } from '../protocol/ir.js';
import { DEFAULT_CONFIDENCE_THRESHOLDS, DEFAULT_DECISION_THRESHOLD, type PrivacyPolicy } from '../protocol/privacy/policy.js';
import { rangeCheck, type CompareBits, type RangeStat } from './precision.js';

export type OutputCompareBound = 'sound' | 'samples-only';

export interface OutputCompare {
  /** The narrowest ring the label modes' comparisons of the logits fit in (with the range margin). */
  bits: CompareBits;
  /** What decided it: the sound bound over the declared input range, or the samples alone. */
  bound: OutputCompareBound;
}

/** The suffix precision.ts and static-bounds.ts give the secure argmax's entries. */
const ARGMAX = ' (secure argmax)';

/** The thresholds' widening of the compared difference: max T + max |logit(t)| (file comment). */
export function thresholdSlack(policy: PrivacyPolicy | undefined): number {
  const ct = policy?.confidenceThresholds ?? DEFAULT_CONFIDENCE_THRESHOLDS;
  const dt = policy?.decisionThresholds ?? [DEFAULT_DECISION_THRESHOLD];
  return Math.max(0, ...ct.map(Math.abs)) + Math.max(...dt.map((t) => Math.abs(Math.log(t / (1 - t)))));
}

/** The output's compared magnitudes for max |logit| = m (the RangeStat form of the chooser). */
export function outputRanges(layer: string, m: number, slack: number): RangeStat[] {
  return [{ layer, kind: 'difference', maxAbs: 2 * m + slack }, { layer, kind: 'padded', maxAbs: m }];
}

/**
 * The ring of the decisions at f bits with the range margin.
 * soundRanges: static-bounds.ts staticRanges(..., comparesOutput = true) over the declared input range (its
 * secure-argmax entries are read; absent: no declared range). samples: the chooser's real-valued inputs.
 */
export function outputCompare(model: ModelIR<FloatTensor>, samples: readonly ArrayLike<number>[], f: number, margin: number, policy: PrivacyPolicy | undefined, soundRanges?: readonly RangeStat[]): OutputCompare {
  const layer = `${model.output}${ARGMAX}`, slack = thresholdSlack(policy);
  const sound = soundRanges?.find((r) => r.layer === layer && r.kind === 'padded');
  if (sound) {
    const rs = outputRanges(layer, sound.maxAbs, slack);
    if (rangeCheck(rs, f, 32, margin).ok) return { bits: 32, bound: 'sound' };
    if (rangeCheck(rs, f, 64, margin).ok) return { bits: 64, bound: 'sound' };
  }
  let m = 0;
  const ar = kerasFloatArith();
  for (const x of samples) for (const v of forwardIR(model, x, 1, ar).data) m = Math.max(m, Math.abs(v));
  return { bits: rangeCheck(outputRanges(layer, m, slack), f, 32, margin).ok ? 32 : 64, bound: 'samples-only' };
}

/** A manifest's (or writer's options') pair: both absent, or bits 32 | 64 with bound 'sound' | 'samples-only'. */
export function outputCompareOk(m: { outputCompareBits?: unknown; outputCompareBound?: unknown }): boolean {
  if (m.outputCompareBits === undefined && m.outputCompareBound === undefined) return true;
  return (m.outputCompareBits === 32 || m.outputCompareBits === 64) && (m.outputCompareBound === 'sound' || m.outputCompareBound === 'samples-only');
}
