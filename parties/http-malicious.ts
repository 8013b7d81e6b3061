/**
 * The malicious mode's client routes (docs/MALICIOUS.md "The client";
 * parties/malicious-desk.ts runs them), at each of the three parties:
 *   POST /v1/malicious/:id/mask    starts the session's run (pair seeds, MAC key, weights' copy check and MACs,
 *        [?batch=N][&deadlineMs=D] the mask [r]; the session's deadline, default the config's); answers this party's shares (r_i, r_{i+1}) of the client's mask,
 *                                  32 bytes per input element (application/octet-stream); N images (default 1,
 *                                  at most batch.maxBatch), the same N at the three parties
 *   POST /v1/malicious/:id/input   body d = x - r (16 bytes per input element, the same to the three parties);
 *                                  answers, after the batched MAC check, this party's shares of y + 2^64 rho
 *                                  (32 bytes per output element; header x-output-shape)
 * Both take the session key (x-session-key): the mask step needs one (43 base64url characters, E_BAD_ARGUMENT
 * otherwise: a keyless session would answer anyone holding the client's token), and an input with another identity or
 * key, or none, is answered as an unknown id (404). A failed
 * copy check or MAC check is E_INTEGRITY (HTTP 502) and ends the session; the party serves the next one. A party
 * that is not configured 'malicious' answers E_SECURITY_MODE.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { API_VERSION, OUTPUT_SHAPE_HEADER, SESSION_KEY_HEADER, SESSION_KEY_PATTERN } from '../protocol/api-contract.js';
import { MpcError } from '../protocol/errors.js';
import type { Party } from './party.js';

const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: UUID_PATTERN } } } as const;

const sessionKeyOf = (req: FastifyRequest): string | undefined => {
  const k = req.headers[SESSION_KEY_HEADER];
  return typeof k === 'string' ? k : undefined;
};

export function registerMaliciousRoutes(app: FastifyInstance, party: Party): void {
  const v = `/${API_VERSION}/malicious`;
  const mustBeMalicious = (): void => {
    if (party.opts.security !== 'malicious') throw new MpcError('E_SECURITY_MODE', `P${party.party} runs security 'semi-honest': it serves no malicious session`, { party: party.party, step: 'mal.session' });
  };

  app.post<{ Params: { id: string }; Querystring: { batch?: number; deadlineMs?: number } }>(`${v}/:id/mask`, { schema: { params: idParams, querystring: { type: 'object', additionalProperties: false, properties: { batch: { type: 'integer' }, deadlineMs: { type: 'integer' } } } } }, async (req, reply) => {
    mustBeMalicious();
    const key = sessionKeyOf(req);
    if (key === undefined || !SESSION_KEY_PATTERN.test(key)) throw new MpcError('E_BAD_ARGUMENT', `${SESSION_KEY_HEADER}: a new malicious session needs one header with its key, 32 random bytes in base64url (43 characters)`, { party: party.party, step: 'mal.mask' });
    const r = await party.malDesk.mask(req.params.id, req.clientId, key, req.query.batch ?? 1, req.query.deadlineMs);
    return reply.type('application/octet-stream').send(Buffer.from(r.buffer, r.byteOffset, r.byteLength));
  });

  app.post<{ Params: { id: string }; Body: Uint8Array }>(`${v}/:id/input`, { schema: { params: idParams } }, async (req, reply) => {
    mustBeMalicious();
    if (!(req.body instanceof Uint8Array)) throw new MpcError('E_BAD_ARGUMENT', 'the masked input d must be sent as application/octet-stream');
    const out = await party.malDesk.input(req.params.id, req.clientId, sessionKeyOf(req), req.body);
    return reply.header(OUTPUT_SHAPE_HEADER, out.shape.join(',')).type('application/octet-stream').send(Buffer.from(out.shares.buffer, out.shares.byteOffset, out.shares.byteLength));
  });
}
