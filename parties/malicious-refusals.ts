/**
 * What the malicious mode does not serve yet, refused with E_SECURITY_MODE
 * before any share is taken or any message sent (docs/MALICIOUS.md
 * "Implementation status": plain logits only, for one image or a batch per
 * session; no label modes, no DP noise, no PATE ensemble). A client never gets
 * a semi-honest run or an output its request or the model's policy did not
 * allow: the message names what was asked for.
 *
 *  - `semiHonestSessionRefusal`: a semi-honest session (POST /v1/sessions)
 *    at a party configured 'malicious' (session-desk.ts), naming the
 *    request's privacy options the malicious routes lack.
 *  - `policyRefusal`: the model's manifest policy asks for a label mode or
 *    DP noise, which the malicious routes cannot apply (malicious-desk.ts,
 *    at every session's mask step). A PATE ensemble is refused at load
 *    (replicated-source.ts).
 */
import { MpcError } from '../protocol/errors.js';
import type { CreateSessionRequest } from '../protocol/api-contract.js';
import type { PartyId } from '../protocol/ring/types.js';
import type { ResolvedPolicy } from '../protocol/privacy/index.js';

const NOT_YET = 'which the malicious mode does not serve yet (it serves plain logits only, for one image or a batch: docs/MALICIOUS.md)';

/** The features a semi-honest session request asks for that the malicious mode lacks (empty: none beyond the session itself; a batch is served, through the malicious routes). */
export function unservedFeatures(req: Pick<CreateSessionRequest, 'privacy'>): string[] {
  const out: string[] = [];
  const mode = req.privacy?.outputMode;
  if (mode !== undefined && mode !== 'logits') out.push(`output mode '${mode}'`);
  if (req.privacy?.dp !== undefined) out.push('DP noise');
  return out;
}

export function semiHonestSessionRefusal(party: PartyId, req: Pick<CreateSessionRequest, 'privacy'>): MpcError {
  const asked = unservedFeatures(req);
  return new MpcError('E_SECURITY_MODE', `P${party} is configured with security 'malicious': it runs sessions only through the malicious routes (POST /v1/malicious/:id/mask[?batch=N] for one image or a batch, then /input), never the semi-honest protocol; no session is created${asked.length ? `; this request also asks for ${asked.join(', ')}, ${NOT_YET}` : ''}`, { party, step: 'session.create' });
}

/** Null when the model's policy is plain logits without noise; else the refusal naming what the policy asks for. */
export function policyRefusal(party: PartyId, p: Pick<ResolvedPolicy, 'outputMode' | 'dp'>): MpcError | null {
  const asked = [...(p.outputMode !== 'logits' ? [`output mode '${p.outputMode}'`] : []), ...(p.dp ? ['DP noise'] : [])];
  if (!asked.length) return null;
  return new MpcError('E_SECURITY_MODE', `P${party}: the model's privacy policy asks for ${asked.join(' and ')}, ${NOT_YET}; no malicious session is created (serve a model whose policy is plain logits, or run semi-honest)`, { party, step: 'mal.session' });
}
