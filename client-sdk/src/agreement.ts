/**
 * The three parties' answers (session or model info) must describe one
 * model, served one way: the same file and import, shapes, labels, output
 * policy, preprocessing, input range, thresholds, comparison-ring basis,
 * teacher ensemble, security mode and requirements. Returns party 0's answer.
 */
import type { CreateSessionResponse } from '../../protocol/api-contract.js';
import { ModelMismatchError, PrivateInferenceError } from './errors.js';
import { sameShape } from './input.js';
import { canonical } from './wire.js';


export function partiesAgree(rs: readonly CreateSessionResponse[]): CreateSessionResponse {
  const r0 = rs[0]!;
  for (const r of rs.slice(1)) {
    const same = r.modelHash.toLowerCase() === r0.modelHash.toLowerCase() && sameShape(r.inputShape, r0.inputShape)
      && sameShape(r.outputShape, r0.outputShape) && r.fracBits === r0.fracBits && r.outputActivation === r0.outputActivation;
    if (!same) throw new ModelMismatchError(`parties disagree on the model: party 0 has ${r0.modelHash.slice(0, 12)}, party ${r.party} has ${r.modelHash.slice(0, 12)}`, { party: r.party });
    // One source file, two imports: P0's and P1's weight shares would not add up to the weights.
    if ((r.importId ?? null) !== (r0.importId ?? null)) throw new ModelMismatchError(`parties loaded bundles of different imports of model ${r0.modelHash.slice(0, 12)}: party 0 has import ${String(r0.importId ?? 'none').slice(0, 12)}, party ${r.party} has ${String(r.importId ?? 'none').slice(0, 12)}`, { party: r.party });
    if (JSON.stringify(r.labels ?? null) !== JSON.stringify(r0.labels ?? null)) throw new ModelMismatchError(`parties disagree on the labels: party 0 and party ${r.party}`, { party: r.party });
    if (canonical(r.privacy) !== canonical(r0.privacy)) throw new ModelMismatchError(`parties disagree on the output privacy policy: party 0 and party ${r.party}`, { party: r.party });
    if (JSON.stringify(r.preprocessing ?? null) !== JSON.stringify(r0.preprocessing ?? null)) throw new ModelMismatchError(`parties disagree on the image preprocessing: party 0 and party ${r.party}`, { party: r.party });
    if (JSON.stringify(r.inputRange ?? null) !== JSON.stringify(r0.inputRange ?? null)) throw new ModelMismatchError(`parties disagree on the declared input range: party 0 and party ${r.party}`, { party: r.party });
    if (JSON.stringify(r.decisionThresholds ?? null) !== JSON.stringify(r0.decisionThresholds ?? null)) throw new ModelMismatchError(`parties disagree on the decision thresholds: party 0 and party ${r.party}`, { party: r.party });
    if ((r.compareBound ?? null) !== (r0.compareBound ?? null)) throw new ModelMismatchError(`parties disagree on what the comparison ring rests on (compareBound): party 0 and party ${r.party}`, { party: r.party });
    if ((r.rangeSentinel === true) !== (r0.rangeSentinel === true)) throw new ModelMismatchError(`parties disagree on running the range sentinel (rangeSentinel): party 0 and party ${r.party}`, { party: r.party });
    // A PATE ensemble (teachers, aggregation, their hashes) is passed into every result for the application to show.
    if (JSON.stringify(r.ensemble ?? null) !== JSON.stringify(r0.ensemble ?? null)) throw new ModelMismatchError(`parties disagree on the teacher ensemble (ensemble): party 0 and party ${r.party}`, { party: r.party });
    if ((r.security ?? 'semi-honest') !== (r0.security ?? 'semi-honest')) throw new PrivateInferenceError('E_SECURITY_MODE', `parties announce different security modes: party 0 has '${r0.security ?? 'semi-honest'}', party ${r.party} has '${r.security ?? 'semi-honest'}'`, { party: r.party });
    if (JSON.stringify(r.requires ?? null) !== JSON.stringify(r0.requires ?? null)) throw new ModelMismatchError(`parties disagree on what the model requires (manifest requires): party 0 and party ${r.party}`, { party: r.party });
  }
  return r0;
}
