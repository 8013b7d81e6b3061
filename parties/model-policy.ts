/** The privacy policy of one request against the loaded model (session desk at creation, run executor per plan entry). */
import { MpcError } from '../protocol/errors.js';
import { resolvePolicy, type PrivacyRequest, type ResolvedPolicy } from '../protocol/privacy/index.js';
import { pateSensitivity, type LoadedModel } from './model-source.js';

/**
 * The policy a request runs under with model `m` (resolvePolicy: only
 * stricter than the manifest's; every DP parameter checked against the
 * model's fixed point and outputs, so a session whose noise the protocol
 * could not draw never joins a batch with other clients' sessions). An
 * ensemble also refuses what does not apply to vote counts: clipping, and a
 * sensitivity below the votes' (2 in L1, sqrt 2 in L2). The model's output
 * shape and activation choose how the label modes decide (argmax, per-element
 * thresholds, per-pixel argmax: protocol/output-kind.ts); an ensemble always
 * votes by argmax.
 */
export function resolveModelPolicy(m: LoadedModel, request: PrivacyRequest | undefined): ResolvedPolicy {
  const p = resolvePolicy(m.policy, request, { fracBits: m.info.fracBits, ...(m.teachers ? {} : { classes: m.outputSize, outputShape: m.info.outputShape, outputActivation: m.info.outputActivation }) });
  if (m.teachers && p.dp) {
    if (p.dp.clip !== undefined) throw new MpcError('E_PRIVACY_POLICY', 'privacy policy: a teacher ensemble answers with vote counts; clipping does not apply', { step: 'privacy.policy' });
    if (!(p.dp.sensitivity >= pateSensitivity(p.dp.mechanism))) throw new MpcError('E_PRIVACY_POLICY', `privacy policy: the vote counts' sensitivity is ${pateSensitivity(p.dp.mechanism)}; a request may not set it lower`, { step: 'privacy.policy' });
  }
  return p;
}
