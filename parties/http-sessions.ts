/**
 * The session routes of the client API (http.ts registers them):
 *   POST /v1/sessions                 create a session (JSON CreateSessionRequest)
 *   PUT  /v1/sessions/:id/input       this party's input share (raw LE u64); with x-session-create it creates the
 *                                     session too, with x-await-output it answers the output share (envelope)
 *   GET  /v1/sessions/:id/output      this party's output share (long poll; ?waitMs=); headers x-output-shape, x-output-mode,
 *                                     x-output-kind
 *   GET  /v1/sessions/:id             session state
 *   GET  /v1/sessions/:id/run         this party's stats of the run that served it (clients: outcome, rounded ms,
 *                                     rounds; operators: per layer ms, wait ms, bytes, rounds; peak RSS)
 * Every one takes the session key (x-session-key): a session is created with
 * one, and a request with another identity or key is answered exactly as an
 * unknown id (404).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { API_VERSION, AWAIT_OUTPUT_HEADER, OUTPUT_ENVELOPE_TYPE, OUTPUT_KIND_HEADER, OUTPUT_MODE_HEADER, OUTPUT_SENTINEL_HEADER, OUTPUT_SESSION_HEADER, OUTPUT_SHAPE_HEADER, SESSION_CREATE_HEADER, SESSION_KEY_HEADER, SESSION_KEY_PATTERN, type CreateSessionRequest } from '../protocol/api-contract.js';
import { MpcError } from '../protocol/errors.js';
import { outputKindOf } from '../protocol/output-kind.js';
import { clientAuthenticator } from './client-auth.js';
import { apiError } from './http-errors.js';
import type { Party } from './party.js';
import { sentinelHeaderValue } from './range-sentinel.js';
import { clientRunView, operatorRunView } from './run-view.js';
import type { Session } from './sessions.js';

export interface SessionRouteOptions {
  /** Longest a GET output (or x-await-output) waits (ms); sessions end at their deadline anyway. */
  longPollMaxMs: number;
  /** Tokens that also see per-layer run stats (parties/run-view.ts). */
  operatorTokens?: string[];
}

const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: UUID_PATTERN } } } as const;

/** JSON schema of CreateSessionRequest.privacy (protocol/privacy PrivacyRequest); policy checks are resolvePolicy's. */
const privacySchema = {
  type: 'object', additionalProperties: false,
  properties: {
    outputMode: { type: 'string', enum: ['logits', 'label', 'label+confidence'] },
    dp: {
      type: 'object', additionalProperties: false,
      properties: {
        mechanism: { type: 'string', enum: ['laplace', 'gaussian'] },
        epsilon: { type: 'number', exclusiveMinimum: 0 },
        delta: { type: 'number', minimum: 0, exclusiveMaximum: 1 },
        sensitivity: { type: 'number', exclusiveMinimum: 0 },
        sampler: { type: 'string', enum: ['discrete-exact', 'gamma-split'] },
        calibration: { type: 'string', enum: ['classic', 'zcdp'] },
        clip: { type: 'number', exclusiveMinimum: 0 },
      },
    },
  },
} as const;

/** The session key of a request that creates a session: one header of 43 base64url characters. */
function newSessionKey(req: FastifyRequest): string {
  const k = req.headers[SESSION_KEY_HEADER];
  if (typeof k !== 'string' || !SESSION_KEY_PATTERN.test(k)) throw new MpcError('E_BAD_ARGUMENT', `${SESSION_KEY_HEADER}: a new session needs one header with its key, 32 random bytes in base64url (43 characters)`);
  return k;
}

/** The session key a request about a session presents (a missing or malformed one matches no session). */
const sessionKeyOf = (req: FastifyRequest): string | undefined => {
  const k = req.headers[SESSION_KEY_HEADER];
  return typeof k === 'string' ? k : undefined;
};

export function registerSessionRoutes(app: FastifyInstance, party: Party, opts: SessionRouteOptions): void {
  const v = `/${API_VERSION}`;

  const sessionProperties = {
    sessionId: { type: 'string', pattern: UUID_PATTERN },
    modelHash: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' },
    batch: { type: 'integer', minimum: 1 },
    deadlineMs: { type: 'integer', minimum: 1 },
    privacy: privacySchema,
    requestNonce: { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$' },
  };
  app.post<{ Body: CreateSessionRequest }>(`${v}/sessions`, {
    bodyLimit: 16 * 1024,
    schema: { body: { type: 'object', required: ['sessionId'], additionalProperties: false, properties: sessionProperties } },
  }, async (req, reply) => reply.code(201).send(await party.createSession(req.body, req.clientId, newSessionKey(req))));

  // x-session-create: the session request of a PUT that creates the session with its input.
  const createHeaderSchema = { type: 'object', required: ['modelHash'], additionalProperties: false, properties: sessionProperties };
  const parseCreateHeader = (req: FastifyRequest, id: string): CreateSessionRequest => {
    const raw = req.headers[SESSION_CREATE_HEADER];
    if (typeof raw !== 'string') throw new MpcError('E_BAD_ARGUMENT', `${SESSION_CREATE_HEADER}: one header with the JSON of the session request`);
    if (raw.length > 4096) throw new MpcError('E_TOO_LARGE', `${SESSION_CREATE_HEADER}: ${raw.length} bytes exceed the limit of 4096`);
    let body: unknown;
    try { body = JSON.parse(raw); } catch { throw new MpcError('E_BAD_ARGUMENT', `${SESSION_CREATE_HEADER}: not valid JSON`); }
    const validate = req.compileValidationSchema(createHeaderSchema);
    if (!validate(body)) {
      const e = validate.errors?.[0];
      throw new MpcError('E_BAD_ARGUMENT', `${SESSION_CREATE_HEADER}: ${e ? `${e.instancePath || 'request'} ${e.message ?? 'is invalid'}` : 'invalid'} (modelHash is required: a party takes a share with a new session only for the model the client pinned)`);
    }
    const r = body as CreateSessionRequest;
    if (r.sessionId !== undefined && r.sessionId.toLowerCase() !== id.toLowerCase()) throw new MpcError('E_BAD_ARGUMENT', `${SESSION_CREATE_HEADER}: sessionId differs from the path's`);
    return { ...r, sessionId: id };
  };

  // x-await-output: ms to wait for the output before answering (checked before anything is created).
  const parseAwaitHeader = (req: FastifyRequest): number | undefined => {
    const raw = req.headers[AWAIT_OUTPUT_HEADER];
    if (raw === undefined) return undefined;
    if (req.headers[SESSION_CREATE_HEADER] === undefined) throw new MpcError('E_BAD_ARGUMENT', `${AWAIT_OUTPUT_HEADER} goes with ${SESSION_CREATE_HEADER} (a session created with its input)`);
    if (typeof raw !== 'string' || !/^\d{1,9}$/.test(raw)) throw new MpcError('E_BAD_ARGUMENT', `${AWAIT_OUTPUT_HEADER}: one header with an integer number of milliseconds`);
    return Math.min(Number(raw), opts.longPollMaxMs);
  };

  /** The output share of a finished session: its body, shape, mode, output-kind and session headers. */
  const outputOf = (s: Session, reply: FastifyReply): Buffer => {
    reply.header(OUTPUT_SHAPE_HEADER, (s.outputShape ?? []).join(',')).header(OUTPUT_MODE_HEADER, s.outputMode ?? 'logits').header(OUTPUT_SESSION_HEADER, s.id);
    const info = party.model?.info;
    if (info) reply.header(OUTPUT_KIND_HEADER, outputKindOf(info.outputShape, info.outputActivation));
    if (s.sentinel) reply.header(OUTPUT_SENTINEL_HEADER, sentinelHeaderValue(s.sentinel));
    const out = s.output!;
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  };

  app.put<{ Params: { id: string }; Body: Uint8Array }>(`${v}/sessions/:id/input`, { schema: { params: idParams } }, async (req, reply) => {
    if (!(req.body instanceof Uint8Array)) throw new MpcError('E_BAD_ARGUMENT', 'input share must be sent as application/octet-stream');
    if (req.headers[SESSION_CREATE_HEADER] === undefined && req.headers[AWAIT_OUTPUT_HEADER] === undefined) return party.putInput(req.params.id, req.clientId, sessionKeyOf(req), req.body);
    const wait = parseAwaitHeader(req);
    const create = parseCreateHeader(req, req.params.id);
    const key = newSessionKey(req);
    const created = await party.createWithInput(create, req.clientId, key, req.body);
    if (wait === undefined) return reply.code(201).send(created);
    // Answer the output with the session response (OUTPUT_ENVELOPE_TYPE), or a failed session's error, or, not done in time, the 201.
    const s = await party.awaitOutput(created.sessionId, req.clientId, key, wait);
    if (s.state !== 'done' || !s.output) return reply.code(201).send(created);
    const json = Buffer.from(JSON.stringify(created));
    const share = outputOf(s, reply);
    const body = Buffer.allocUnsafe(4 + json.length + share.length);
    body.writeUInt32LE(json.length, 0);
    json.copy(body, 4);
    share.copy(body, 4 + json.length);
    return reply.code(200).type(OUTPUT_ENVELOPE_TYPE).send(body);
  });

  app.get<{ Params: { id: string }; Querystring: { waitMs?: number } }>(`${v}/sessions/:id/output`, {
    schema: { params: idParams, querystring: { type: 'object', additionalProperties: false, properties: { waitMs: { type: 'integer', minimum: 0 } } } },
  }, async (req, reply) => {
    const wait = Math.min(req.query.waitMs ?? opts.longPollMaxMs, opts.longPollMaxMs);
    const s = await party.awaitOutput(req.params.id, req.clientId, sessionKeyOf(req), wait);
    if (s.state !== 'done' || !s.output) return reply.code(202).send({ sessionId: s.id, state: s.state });
    return reply.type('application/octet-stream').send(outputOf(s, reply));
  });

  app.get<{ Params: { id: string } }>(`${v}/sessions/:id`, { schema: { params: idParams } }, async (req) => {
    const s = party.store.owned(req.params.id.toLowerCase(), req.clientId, sessionKeyOf(req));
    return { sessionId: s.id, state: s.state, batch: s.batch, party: party.party, ...(s.error ? { error: apiError(s.error, party.party) } : {}) };
  });

  // Benchmark/diagnostics: this party's stats of the run that served the session (timings, sizes, no values; never
  // the batch's session ids). Per-layer timings, sizes and memory for operators only (run-view.ts).
  // An operator (this party's own operator tokens) sees its server's stats of any run, as in its own logs and
  // metrics; a client sees only the coarse view, and only of its own session (owner and session key).
  const operator = clientAuthenticator(opts.operatorTokens ?? []);
  app.get<{ Params: { id: string } }>(`${v}/sessions/:id/run`, { schema: { params: idParams } }, async (req) => {
    const isOperator = operator(req.headers.authorization) !== null;
    if (!isOperator) party.store.owned(req.params.id.toLowerCase(), req.clientId, sessionKeyOf(req));
    const run = party.runOf(req.params.id);
    if (!run) throw new MpcError('E_NOT_FOUND', `no finished run for session ${req.params.id.toLowerCase()} at P${party.party}`);
    if (!isOperator) return { party: party.party, run: clientRunView(run, req.params.id.toLowerCase()) };
    const mem = process.memoryUsage();
    return { party: party.party, run: operatorRunView(run), process: { maxRssBytes: process.resourceUsage().maxRSS * 1024, rssBytes: mem.rss } };
  });

}
