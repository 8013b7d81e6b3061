/**
 * mpc-import's privacy flags (--output-mode, --confidence-thresholds, --decision-thresholds, --dp) as the manifest's
 * privacy policy, and the summary line that describes it. Split out of cli.ts (source-layout limit).
 */
import { MpcError } from '../protocol/errors.js';
import { resolvePolicy, type OutputMode, type PolicyDp, type PrivacyPolicy } from '../protocol/privacy/index.js';

function bad(msg: string): MpcError {
  return new MpcError('E_BAD_ARGUMENT', msg);
}

const OUTPUT_MODES: readonly string[] = ['logits', 'label', 'label+confidence'];

/**
 * The manifest's privacy policy from --output-mode, --confidence-thresholds
 * and --dp (undefined when none is given); E_BAD_ARGUMENT for anything
 * resolvePolicy would refuse.
 */
export function privacyFromFlags(f: { outputMode?: string; confidenceThresholds?: string; decisionThresholds?: string; dp?: string }): PrivacyPolicy | undefined {
  if (f.outputMode === undefined && f.confidenceThresholds === undefined && f.decisionThresholds === undefined && f.dp === undefined) return undefined;
  const mode = f.outputMode ?? 'logits';
  if (!OUTPUT_MODES.includes(mode)) throw bad(`--output-mode must be ${OUTPUT_MODES.join(', ')}`);
  const policy: PrivacyPolicy = { outputMode: mode as OutputMode };
  if (f.confidenceThresholds !== undefined) {
    if (mode !== 'label+confidence') throw bad('--confidence-thresholds needs --output-mode label+confidence');
    const t = f.confidenceThresholds.split(',').map((x) => Number(x.trim()));
    if (!t.every((x) => Number.isFinite(x) && x >= 0)) throw bad(`--confidence-thresholds: expected comma-separated margins >= 0, got '${f.confidenceThresholds}'`);
    policy.confidenceThresholds = t;
  }
  // Multi-label heads and sigmoid masks: the probability threshold of each label's decision in the label modes
  // (one for all, or one per output channel; checked against the model's output by writeBundles).
  if (f.decisionThresholds !== undefined) {
    const t = f.decisionThresholds.split(',').map((x) => Number(x.trim()));
    if (!t.every((x) => Number.isFinite(x) && x > 0 && x < 1)) throw bad(`--decision-thresholds: expected comma-separated probabilities in (0, 1), got '${f.decisionThresholds}'`);
    policy.decisionThresholds = t;
  }
  if (f.dp !== undefined) {
    const m = /^(laplace|gaussian):(.+)$/.exec(f.dp.trim());
    if (!m) throw bad(`--dp: expected laplace:epsilon=E,sensitivity=S[,...] or gaussian:epsilon=E,delta=D,sensitivity=S[,...], got '${f.dp}'`);
    const dp: Record<string, unknown> = { mechanism: m[1] };
    for (const kv of m[2]!.split(',')) {
      const [k, v, ...rest] = kv.split('=').map((x) => x.trim());
      if (!k || v === undefined || rest.length) throw bad(`--dp: '${kv}' is not key=value`);
      if (k === 'sampler' || k === 'calibration') dp[k] = v;
      else if (['epsilon', 'delta', 'sensitivity', 'clip'].includes(k)) {
        const n = Number(v);
        if (v === '' || !Number.isFinite(n)) throw bad(`--dp: ${k} must be a number, got '${v}'`);
        dp[k] = n;
      } else throw bad(`--dp: unknown key '${k}' (epsilon, delta, sensitivity, clip, sampler, calibration)`);
    }
    policy.dp = dp as unknown as PolicyDp;
  }
  try {
    resolvePolicy(policy);
  } catch (e) {
    throw bad(`privacy policy: ${(e as Error).message}`);
  }
  return policy;
}

export function describePrivacy(p: PrivacyPolicy): string {
  const mode = `${p.outputMode === 'label+confidence' ? `label+confidence (thresholds ${(p.confidenceThresholds ?? [1, 3]).join(', ')})` : p.outputMode}${p.decisionThresholds ? `, decision thresholds ${p.decisionThresholds.join(', ')}` : ''}`;
  if (!p.dp) return `${mode}, no noise`;
  const d = p.dp;
  return `${mode}, DP ${d.mechanism} epsilon ${d.epsilon}${d.delta !== undefined ? ` delta ${d.delta}` : ''} per image, sensitivity ${d.sensitivity}${d.clip !== undefined ? `, clip ${d.clip}` : ''}`;
}

