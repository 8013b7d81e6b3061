/**
 * Output privacy policy: what a client may learn from a model's output.
 *
 * A model's manifest carries a `PrivacyPolicy`; a request may carry a
 * `PrivacyRequest` that can only make it stricter. resolvePolicy() merges
 * them deterministically: all three parties must resolve the same policy
 * from the same manifest and request, or they fall out of step
 * (E_PROTOCOL_DESYNC), so the party server forwards the request's privacy
 * options to every party with the session.
 *
 * Strictness:
 *  - outputMode: 'logits' < 'label+confidence' < 'label' (a request may move right).
 *  - confidenceThresholds and decisionThresholds come from the manifest only
 *    (finer buckets reveal more; a threshold is part of what the model answers).
 *  - dp: a request may add DP where the manifest has none (it then supplies
 *    the whole configuration), or lower epsilon (and delta), raise the
 *    sensitivity (more noise), or move from 'gamma-split' to
 *    'discrete-exact'. It may not change the mechanism, drop DP, remove clipping or
 *    raise the clip bound.
 * Violations throw E_PRIVACY_POLICY (HTTP 403).
 */
import { assert, MpcError } from '../errors.js';
import type { PrivacyCharge } from './composition.js';
import { MAX_LATTICE_SCALE, calibrate, noiseScaleInRange, type DpConfig, type NoiseSpec } from './dp-noise.js';
import { channelsOf, decisionRuleOf, type DecisionRule, type OutputActivationName } from '../output-kind.js';

export type OutputMode = 'logits' | 'label' | 'label+confidence';

/** DP options of a policy: a DpConfig plus optional clipping of each logit to [-clip, clip] before the noise. */
export interface PolicyDp extends DpConfig {
  clip?: number;
}

/** Per-model policy (model manifest). */
export interface PrivacyPolicy {
  outputMode: OutputMode;
  /**
   * Margin thresholds (real units, ascending) for 'label+confidence': top logit minus runner-up for
   * argmax decisions; |logit - logit(t)| (> 0) for threshold decisions (decisions.ts).
   */
  confidenceThresholds?: number[];
  /**
   * Probability thresholds of the 'threshold' decision rule (multi-label heads, sigmoid masks; output-kind.ts),
   * each in (0, 1): one for every output, or one per channel (the last output dimension: per label). Default [0.5].
   */
  decisionThresholds?: number[];
  dp?: PolicyDp;
}

/** Per-request options: only stricter than the policy. */
export interface PrivacyRequest {
  outputMode?: OutputMode;
  dp?: Partial<PolicyDp>;
}

export interface ResolvedPolicy {
  readonly outputMode: OutputMode;
  /** Empty unless outputMode is 'label+confidence'. */
  readonly confidenceThresholds: readonly number[];
  /** How the label modes decide (output-kind.ts): 'argmax' unless the model's output shape and activation say otherwise. */
  readonly decision: DecisionRule;
  /** 'threshold' rule in a label mode: the probability threshold of each channel (length = channels); else empty. */
  readonly decisionThresholds: readonly number[];
  /** Channels per pixel (the last output dimension) of a 'pixel-argmax' or 'threshold' rule; 1 when the model's output is not known. */
  readonly decisionChannels: number;
  readonly dp: PolicyDp | null;
  readonly noise: NoiseSpec | null;
  /** Per-image charge for the accountant (null: no DP, nothing to account). */
  readonly charge: PrivacyCharge | null;
}

/** Default probability threshold of a sigmoid output's decision. */
export const DEFAULT_DECISION_THRESHOLD = 0.5;

/** Default margins for 'label+confidence' when the manifest gives none: buckets < 1, 1-3, >= 3 logit units. */
export const DEFAULT_CONFIDENCE_THRESHOLDS: readonly number[] = Object.freeze([1, 3]);

export const DEFAULT_POLICY: PrivacyPolicy = Object.freeze({ outputMode: 'logits' as const });

const RANK: Record<OutputMode, number> = { logits: 0, 'label+confidence': 1, label: 2 };

const refuse = (why: string): MpcError => new MpcError('E_PRIVACY_POLICY', `privacy policy: ${why}`, { step: 'privacy.policy' });

function mergeDp(base: PolicyDp | undefined, req: Partial<PolicyDp> | undefined): PolicyDp | null {
  if (!req) return base ?? null;
  if (!base) {
    if (req.mechanism === undefined || req.epsilon === undefined || req.sensitivity === undefined) throw refuse('a request that adds DP must give mechanism, epsilon and sensitivity');
    return { ...req } as PolicyDp;
  }
  if (req.mechanism !== undefined && req.mechanism !== base.mechanism) throw refuse(`the request may not change the mechanism from '${base.mechanism}'`);
  if (req.epsilon !== undefined && !(req.epsilon <= base.epsilon)) throw refuse(`the request's epsilon ${req.epsilon} exceeds the model's ${base.epsilon}`);
  if (req.delta !== undefined && !(req.delta <= (base.delta ?? 0))) throw refuse(`the request's delta ${req.delta} exceeds the model's ${base.delta ?? 0}`);
  if (req.sensitivity !== undefined && !(req.sensitivity >= base.sensitivity)) throw refuse('the request may not lower the sensitivity');
  if (req.sampler !== undefined && req.sampler !== (base.sampler ?? 'discrete-exact') && req.sampler !== 'discrete-exact') throw refuse(`the request may not switch the sampler to '${req.sampler}'`);
  if (req.calibration !== undefined && req.calibration !== base.calibration) throw refuse('the request may not change the Gaussian calibration');
  if (base.clip !== undefined && (req.clip === undefined ? false : !(req.clip <= base.clip))) throw refuse('the request may not raise the clip bound');
  const out: PolicyDp = { ...base };
  for (const [k, v] of Object.entries(req)) if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  return out;
}

/** What resolvePolicy needs to know of the model to check a DP configuration against it. */
export interface PolicyModel {
  /** Fractional bits of the model's fixed-point encoding: the noise scale must be samplable there. */
  fracBits?: number;
  /** Number of logits the noise is added to: a clip bound then implies a least sensitivity. */
  classes?: number;
  /** Output shape (without batch) and activation: they choose the label modes' decision rule (output-kind.ts). Absent: 'argmax'. */
  outputShape?: readonly number[];
  outputActivation?: OutputActivationName;
}

/**
 * Merge a model's policy and a request's options into the policy every party
 * runs. With `model`, every DP parameter is checked here, at session creation,
 * so that no session with an unusable configuration ever joins a batch:
 * epsilon >= MIN_EPSILON (E_DP_PARAMETER), the noise scale samplable at
 * model.fracBits (E_DP_PARAMETER), and with a clip bound a sensitivity at
 * least the one the clipping implies for model.classes logits
 * (E_DP_SENSITIVITY). The messages name only this policy's own numbers.
 */
export function resolvePolicy(policy: PrivacyPolicy = DEFAULT_POLICY, request: PrivacyRequest = {}, model: PolicyModel = {}): ResolvedPolicy {
  assert(policy.outputMode in RANK, 'E_BAD_ARGUMENT', `privacy policy: unknown outputMode '${String(policy.outputMode)}'`);
  const ct = policy.confidenceThresholds;
  assert(ct === undefined || (Array.isArray(ct) && ct.length > 0 && ct.every((t, i) => typeof t === 'number' && Number.isFinite(t) && (i === 0 || t > ct[i - 1]!))), 'E_BAD_ARGUMENT', 'privacy policy: confidenceThresholds must be a non-empty list of finite, strictly ascending numbers');
  const mode = request.outputMode ?? policy.outputMode;
  if (!(mode in RANK)) throw refuse(`unknown outputMode '${String(mode)}'`);
  if (RANK[mode] < RANK[policy.outputMode]) throw refuse(`the model allows at most '${policy.outputMode}', the request asked for '${mode}'`);
  const dp = mergeDp(policy.dp, request.dp);
  if (dp?.clip !== undefined) assert(Number.isFinite(dp.clip) && dp.clip > 0, 'E_BAD_ARGUMENT', 'privacy policy: clip must be positive');
  const cal = dp ? calibrate(dp) : null;
  if (dp && cal) checkAgainstModel(dp, cal.noise, model);
  const thresholds = mode === 'label+confidence' ? [...(policy.confidenceThresholds ?? DEFAULT_CONFIDENCE_THRESHOLDS)] : [];
  const decision = model.outputShape && model.outputActivation ? decisionRuleOf(model.outputShape, model.outputActivation) : 'argmax';
  const decisionThresholds = decisionThresholdsOf(policy, model);
  return Object.freeze({
    outputMode: mode, confidenceThresholds: Object.freeze(thresholds), decision,
    decisionThresholds: Object.freeze(mode !== 'logits' && decision === 'threshold' ? decisionThresholds : []),
    decisionChannels: model.outputShape ? channelsOf(model.outputShape) : 1,
    dp, noise: cal?.noise ?? null, charge: cal?.charge ?? null,
  });
}

/**
 * The manifest's decision thresholds, checked (E_BAD_ARGUMENT): probabilities in (0, 1); with the model's
 * output known, one value or one per channel, given only where the rule is 'threshold', and with positive
 * confidence margins there (a bucket counts margins |logit - logit(t)| reaches). Expanded to one per channel.
 */
export function decisionThresholdsOf(policy: PrivacyPolicy, model: PolicyModel): number[] {
  const rule = model.outputShape && model.outputActivation ? decisionRuleOf(model.outputShape, model.outputActivation) : 'argmax';
  const dt = policy.decisionThresholds;
  assert(dt === undefined || (Array.isArray(dt) && dt.length > 0 && dt.every((t) => typeof t === 'number' && Number.isFinite(t) && t > 0 && t < 1)), 'E_BAD_ARGUMENT', 'privacy policy: decisionThresholds must be a non-empty list of probabilities in (0, 1)');
  if (!model.outputShape || !model.outputActivation) return [...(dt ?? [DEFAULT_DECISION_THRESHOLD])];
  assert(dt === undefined || rule === 'threshold', 'E_BAD_ARGUMENT', `privacy policy: decisionThresholds apply to sigmoid outputs decided per element (multi-label heads, sigmoid masks); this model's label modes decide by ${rule}`);
  if (rule !== 'threshold') return [];
  const C = channelsOf(model.outputShape);
  assert(dt === undefined || dt.length === 1 || dt.length === C, 'E_BAD_ARGUMENT', `privacy policy: decisionThresholds needs 1 or ${C} values (one per output channel), got ${dt?.length}`);
  assert((policy.confidenceThresholds ?? DEFAULT_CONFIDENCE_THRESHOLDS).every((m) => m > 0), 'E_BAD_ARGUMENT', 'privacy policy: for per-element decisions the confidence margins must be > 0 (distances |logit - logit(t)|)');
  const ts = dt ?? [DEFAULT_DECISION_THRESHOLD];
  return ts.length === C ? [...ts] : new Array<number>(C).fill(ts[0]!);
}

/**
 * Sensitivity of a logit vector of `classes` entries each clipped to
 * [-clip, clip], when clipping is the only bound (any change of the model):
 * each entry can move by at most 2 clip (from -clip to clip), and all of them
 * can move at once, so L1 = 2 clip classes and L2 = sqrt(classes (2 clip)^2)
 * = 2 clip sqrt(classes). Both are attained (every logit from -clip to clip),
 * so no smaller figure is valid without another argument. A one-output
 * (sigmoid) model is noised as [0, x]: one entry moves, classes = 1.
 */
export function clippedSensitivity(clip: number, classes: number, norm: 'l1' | 'l2'): number {
  return norm === 'l1' ? 2 * clip * classes : 2 * clip * Math.sqrt(classes);
}

/** The norm a mechanism's sensitivity is measured in: L1 for Laplace, L2 for Gaussian. */
export const sensitivityNorm = (mechanism: PolicyDp['mechanism']): 'l1' | 'l2' => (mechanism === 'laplace' ? 'l1' : 'l2');

/**
 * Refuses (E_DP_SENSITIVITY) a sensitivity below what `clip` implies for
 * `classes` logits (clippedSensitivity, in the mechanism's norm). Shared by
 * resolvePolicy (the parties) and mpc-import.
 */
export function checkClipSensitivity(dp: Pick<PolicyDp, 'mechanism' | 'sensitivity' | 'clip'>, classes: number): void {
  if (dp.clip === undefined) return;
  assert(Number.isInteger(classes) && classes >= 1, 'E_BAD_ARGUMENT', `privacy policy: the number of outputs must be a positive integer, got ${classes}`);
  const norm = sensitivityNorm(dp.mechanism);
  const need = clippedSensitivity(dp.clip, classes, norm);
  if (!(dp.sensitivity >= need)) {
    throw new MpcError('E_DP_SENSITIVITY', `privacy policy: sensitivity ${dp.sensitivity} is below ${need}, the ${norm.toUpperCase()} sensitivity that clip ${dp.clip} implies for ${classes} output${classes === 1 ? '' : 's'} (2 clip ${norm === 'l1' ? 'n' : 'sqrt(n)'})`, { step: 'privacy.policy' });
  }
}

function checkAgainstModel(dp: PolicyDp, noise: NoiseSpec, model: PolicyModel): void {
  if (model.fracBits !== undefined && !noiseScaleInRange(noise.scale, model.fracBits)) {
    throw new MpcError('E_DP_PARAMETER', `privacy policy: epsilon ${dp.epsilon} with sensitivity ${dp.sensitivity} gives a noise scale of ${noise.scale.toPrecision(3)}, which ${model.fracBits} fractional bits cannot carry (at most ${(MAX_LATTICE_SCALE / 2 ** model.fracBits).toPrecision(3)})`, { step: 'privacy.policy' });
  }
  if (model.fracBits !== undefined && dp.clip !== undefined && !noiseScaleInRange(dp.clip, model.fracBits)) {
    throw new MpcError('E_DP_PARAMETER', `privacy policy: clip ${dp.clip} is out of range at ${model.fracBits} fractional bits`, { step: 'privacy.policy' });
  }
  if (model.classes !== undefined) checkClipSensitivity(dp, model.classes);
}
