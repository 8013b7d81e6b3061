/** Output privacy: secure argmax, DP noise, PATE, the privacy accountant. See README.md. */
export { secureArgmax, argmaxCost, type ArgmaxOptions, type ArgmaxPayload, type ArgmaxShares } from './argmax.js';
export {
  addNoiseShares, addNoiseCost, calibrate, MIN_EPSILON, noiseScaleInRange, gaussianSigma, laplaceScale, sampleNoiseShare, totalNoiseVariance,
  type DpConfig, type GaussianCalibration, type NoiseMechanism, type NoiseOptions, type NoiseSampler, type NoiseSpec,
} from './dp-noise.js';
export { thresholdDecisions, thresholdDecisionsCost, logitOf, logitThreshold, marginUnits, type DecisionOptions, type DecisionShares } from './decisions.js';
export { pateAggregate, pateCalibrate, pateCost, type PateDpConfig, type PateOptions } from './pate.js';
export { PrivacyAccountant, type AccountantOptions, type AccountantStore, type Budget, type PrivacyReport, type Reservation } from './accountant.js';
export { RDP_ORDERS, type Enforcement, type EpsDelta, type PrivacyCharge, type RdpSpec } from './composition.js';
export { resolvePolicy, decisionThresholdsOf, checkClipSensitivity, clippedSensitivity, sensitivityNorm, type PolicyModel, DEFAULT_CONFIDENCE_THRESHOLDS, DEFAULT_DECISION_THRESHOLD, DEFAULT_POLICY, type OutputMode, type PolicyDp, type PrivacyPolicy, type PrivacyRequest, type ResolvedPolicy } from './policy.js';
export { privateOutput, privateOutputCost, type PrivateOutputOptions, type PrivateOutputShares } from './private-output.js';
export { cryptoSource, Rng, type RandomSource } from './random-source.js';
