/**
 * The security mode check of predict (docs/MALICIOUS.md "The client"): the
 * parties announce their mode (ModelInfo.security; client.ts checks that
 * the three agree) and the model's manifest may require malicious security
 * (ModelInfo.requires); the client may require it too (requireSecurity).
 */
import type { ModelInfo } from '../../protocol/api-contract.js';
import { PrivateInferenceError } from './errors.js';

/**
 * The security the client or the model requires against what the three
 * parties announced (already checked equal by agree): E_SECURITY_MODE when
 * malicious security is required and the parties run semi-honest. Runs
 * before any input share is sent.
 */
export function checkSecurity(model: ModelInfo, requireSecurity: 'malicious' | undefined): void {
  const need = requireSecurity ?? model.requires?.security;
  if (need === 'malicious' && model.security !== 'malicious') {
    const why = requireSecurity ? 'the client requires' : "the model's manifest requires";
    throw new PrivateInferenceError('E_SECURITY_MODE', `${why} security 'malicious', the parties announce '${model.security ?? 'semi-honest'}': no input was sent`);
  }
}
