/**
 * The client HTTP API of a party (protocol/api-contract.ts), on fastify:
 *   POST /v1/sessions                 create a session (JSON CreateSessionRequest)
 *   PUT  /v1/sessions/:id/input       this party's input share (raw LE u64)
 *   GET  /v1/sessions/:id/output      this party's output share (long poll; ?waitMs=); headers x-output-shape, x-output-mode
 *   GET  /v1/sessions/:id             session state
 *   GET  /v1/sessions/:id/run         this party's stats of the run that served it (clients: outcome, rounded ms, rounds; operators: per layer ms, wait ms, bytes, rounds; peak RSS)
 *   GET  /v1/model                    ModelInfo
 *   GET  /v1/privacy/budget           the caller's privacy budget at this party (PrivacyBudgetResponse)
 *   GET  /healthz, /readyz, /metrics  (no token)
 *   GET  /*                           static demo files (P0, if configured; plus /sdk.js, /config.json)
 * Bearer tokens are compared in constant time (client-auth.ts) and give the
 * caller's identity at this party. Every session route takes the session key
 * (x-session-key, SESSION_KEY_HEADER): a session is created with one, and a
 * request with another identity or key is answered exactly as an unknown id
 * (404). Errors are coded ApiError JSON with the HTTP status of their code;
 * messages never carry share values.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { API_VERSION, AWAIT_OUTPUT_HEADER, OUTPUT_ENVELOPE_TYPE, OUTPUT_MODE_HEADER, OUTPUT_SHAPE_HEADER, SESSION_CREATE_HEADER, SESSION_KEY_HEADER, SESSION_KEY_PATTERN, type ApiError, type CreateSessionRequest, type PrivacyBudgetResponse } from '../protocol/api-contract.js';
import { ERROR_CODES, isMpcError, MpcError } from '../protocol/errors.js';
import { alignedBytes } from './chunking.js';
import { errFields } from './log.js';
import type { Party } from './party.js';
import type { Session } from './sessions.js';
import { clientAuthenticator, type ClientCredential } from './client-auth.js';
import { clientRunView, operatorRunView } from './run-view.js';

declare module 'fastify' {
  interface FastifyContextConfig { public?: boolean }
  interface FastifyRequest {
    /** The caller's identity at this party (client-auth.ts); '' on public routes. */
    clientId: string;
  }
}

export interface ApiOptions {
  /** Shared client tokens (loopback development only; config.ts). */
  tokens: string[];
  /** This party's own client credentials. */
  clients?: ClientCredential[];
  corsOrigins: string[];
  staticDir?: string;
  /** Extra public files by URL path (served before staticDir). */
  staticFiles?: Record<string, string>;
  /** Longest a GET output waits (ms); sessions end at their deadline anyway. */
  longPollMaxMs: number;
  /** Longest a request's body may take to arrive after its headers (config http.requestMs). */
  requestTimeoutMs?: number;
  /** Tokens that also see per-layer run stats (GET /v1/sessions/:id/run; parties/run-view.ts). */
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

/** Node's errors for a request the client cut off or stalled. */
const isAbort = (e: { code?: unknown; message?: unknown }): boolean =>
  e?.code === 'ECONNRESET' || e?.code === 'ERR_STREAM_PREMATURE_CLOSE' || e?.code === 'ERR_HTTP_REQUEST_TIMEOUT' || e?.message === 'aborted';

/** Fastify and other errors -> MpcError (the only error shape clients see). */
export function toMpcError(err: unknown): MpcError {
  if (isMpcError(err)) return err;
  const e = err as FastifyError & { validation?: { instancePath?: string; message?: string }[]; validationContext?: string };
  if (isAbort(e)) return new MpcError('E_TIMEOUT', 'the request was cut off or stalled before its body was complete');
  if (e?.validation) {
    const what = e.validation.map((v) => `${v.instancePath || '/'} ${v.message ?? 'is invalid'}`).join('; ');
    return new MpcError('E_BAD_ARGUMENT', `${e.validationContext ?? 'request'}: ${what}`);
  }
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || e?.statusCode === 413) return new MpcError('E_TOO_LARGE', 'request body exceeds the limit');
  if (e?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || e?.statusCode === 415) return new MpcError('E_BAD_ARGUMENT', 'unsupported content-type (JSON for sessions, application/octet-stream for shares)');
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return new MpcError('E_BAD_ARGUMENT', `bad request (${e.code ?? e.statusCode})`);
  return new MpcError('E_INTERNAL', 'internal error', { cause: err });
}

function apiError(e: MpcError, party: number): ApiError {
  return { code: e.code, message: e.message, party: e.party ?? party, ...(e.step !== undefined ? { step: e.step } : {}) };
}

/**
 * Node's HTTP parser errors (a Content-Length that does not match, a request
 * line it cannot parse, headers too large, a request that did not arrive
 * within http.requestMs) are answered in the ApiError format too, then the
 * connection is closed (fastify's clientErrorHandler option).
 */
export function clientErrorHandler(party: number): (err: Error & { code?: string }, socket: import('node:net').Socket) => void {
  return (err, socket) => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, e] = err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, new MpcError('E_TIMEOUT', 'the request did not arrive within the request timeout')]
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, new MpcError('E_TOO_LARGE', 'request headers exceed the limit')]
        : [400, new MpcError('E_BAD_ARGUMENT', `malformed HTTP request (${err.code ?? 'parse error'})`)];
    const body = JSON.stringify(apiError(e, party));
    if (socket.writable) socket.write(`HTTP/1.1 ${status} ${status === 408 ? 'Request Timeout' : status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`);
    socket.destroy(err);
  };
}

/** fastify's frameworkErrors option: a URL it cannot decode, in the ApiError format. */
export function frameworkErrors(party: number): (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => void {
  return (err, _req, reply) => {
    void reply.code(400).type('application/json').send(apiError(new MpcError('E_BAD_ARGUMENT', `malformed request URL (${err.code ?? 'bad URL'})`), party));
  };
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.svg': 'image/svg+xml', '.ico': 'image/x-icon',
  '.wasm': 'application/wasm', '.map': 'application/json', '.txt': 'text/plain; charset=utf-8',
};

export function registerApi(app: FastifyInstance, party: Party, opts: ApiOptions): void {
  const identify = clientAuthenticator([...opts.tokens, ...(opts.operatorTokens ?? [])], opts.clients ?? []);
  app.decorateRequest('clientId', '');
  const metrics = party.metrics;
  const allowAll = opts.corsOrigins.includes('*');

  // A body that has not fully arrived within requestTimeoutMs is cut: 408 E_TIMEOUT if nothing was answered yet,
  // then the connection is closed (Node's own requestTimeout does not cut a body trickled after the headers).
  const bodyMs = opts.requestTimeoutMs;
  if (bodyMs !== undefined) {
    app.addHook('onRequest', async (req, reply) => {
      const raw = req.raw;
      if (raw.complete) return;
      const t = setTimeout(() => {
        if (raw.complete) return;
        const socket = raw.socket;
        if (!reply.raw.headersSent && socket.writable) {
          metrics.errors.inc({ code: 'E_TIMEOUT', source: 'http' });
          const body = JSON.stringify(apiError(new MpcError('E_TIMEOUT', `the request body did not arrive within ${bodyMs} ms`), party.party));
          socket.write(`HTTP/1.1 408 Request Timeout\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`);
        }
        socket.destroy();
      }, bodyMs);
      t.unref();
      const clear = (): void => clearTimeout(t);
      raw.once('end', clear);
      raw.once('close', clear);
    });
  }

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const origin = req.headers.origin;
    if (origin && (allowAll || opts.corsOrigins.includes(origin))) {
      reply.header('access-control-allow-origin', origin).header('vary', 'Origin').header('access-control-expose-headers', `${OUTPUT_SHAPE_HEADER}, ${OUTPUT_MODE_HEADER}`);
      if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
        reply.header('access-control-allow-methods', 'GET, POST, PUT, OPTIONS').header('access-control-allow-headers', `authorization, content-type, accept, ${SESSION_CREATE_HEADER}, ${AWAIT_OUTPUT_HEADER}, ${SESSION_KEY_HEADER}`).header('access-control-max-age', '600');
        return reply.code(204).send();
      }
    }
    if (req.routeOptions.config?.public) return;
    const who = identify(req.headers.authorization);
    if (who === null) {
      // Nothing more is read from a caller without a valid token: the connection closes after the answer.
      reply.header('connection', 'close');
      throw new MpcError('E_UNAUTHENTICATED', 'missing or invalid bearer token');
    }
    req.clientId = who;
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ method: req.method, route, status: reply.statusCode });
    metrics.httpLatency.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    const line = { method: req.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime) };
    if (req.routeOptions.config?.public) req.log.debug(line, 'request');
    else req.log.info(line, 'request');
  });

  app.setErrorHandler((err, req, reply) => {
    const e = toMpcError(err);
    metrics.errors.inc({ code: e.code, source: 'http' });
    if (e.code === 'E_INTERNAL') req.log.error(errFields(e.cause ?? err), 'request failed');
    else if (e.code === 'E_TIMEOUT') req.log.info({ code: e.code }, 'request cut off by the client or the request timeout');
    else req.log.info({ code: e.code }, 'request refused');
    void reply.code(ERROR_CODES[e.code].http).type('application/json').send(apiError(e, party.party));
  });

  app.setNotFoundHandler((req, reply) => {
    metrics.errors.inc({ code: 'E_NOT_FOUND', source: 'http' });
    void reply.code(404).send(apiError(new MpcError('E_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`), party.party));
  });

  // Input shares: raw bytes, limited to the model's input size x max batch, into an aligned buffer.
  app.addContentTypeParser('application/octet-stream', (req, payload, done) => {
    if (!party.model) { done(new MpcError('E_NOT_READY', 'model not loaded yet'), undefined); return; }
    const limit = party.maxInputBytes();
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > limit) { payload.resume(); done(new MpcError('E_TOO_LARGE', `body of ${declared} bytes exceeds the limit of ${limit} (input size x max batch)`), undefined); return; }
    const chunks: Buffer[] = [];
    let total = 0;
    let finished = false;
    payload.on('data', (c: Buffer) => {
      if (finished) return;
      total += c.length;
      if (total > limit) { finished = true; chunks.length = 0; payload.resume(); done(new MpcError('E_TOO_LARGE', `body exceeds the limit of ${limit} bytes (input size x max batch)`), undefined); return; }
      chunks.push(c);
    });
    payload.on('end', () => {
      if (finished) return;
      finished = true;
      const out = alignedBytes(total);
      let o = 0;
      for (const c of chunks) { out.set(c, o); o += c.length; }
      done(null, out);
    });
    const cut = (): void => { if (!finished) { finished = true; chunks.length = 0; done(new MpcError('E_TIMEOUT', 'the upload was cut off before its body was complete'), undefined); } };
    payload.on('error', cut);
    payload.on('close', cut);
  });

  const v = `/${API_VERSION}`;

  const sessionProperties = {
    sessionId: { type: 'string', pattern: UUID_PATTERN },
    modelHash: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' },
    batch: { type: 'integer', minimum: 1 },
    deadlineMs: { type: 'integer', minimum: 1 },
    privacy: privacySchema,
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

  /** The output share of a finished session: its body, shape and mode headers. */
  const outputOf = (s: Session, reply: FastifyReply): Buffer => {
    reply.header(OUTPUT_SHAPE_HEADER, (s.outputShape ?? []).join(',')).header(OUTPUT_MODE_HEADER, s.outputMode ?? 'logits');
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
    if (!isOperator) return { party: party.party, run: clientRunView(run) };
    const mem = process.memoryUsage();
    return { party: party.party, run: operatorRunView(run), process: { maxRssBytes: process.resourceUsage().maxRSS * 1024, rssBytes: mem.rss } };
  });

  app.get(`${v}/model`, async () => ({ ...party.modelInfo(), party: party.party }));

  // The caller's privacy budget at this party (its accountant: spent, pending, remaining epsilon).
  app.get(`${v}/privacy/budget`, async (req): Promise<PrivacyBudgetResponse> => {
    const client = req.clientId;
    return { party: party.party, client, ...(await party.privacyReport(client)) };
  });

  app.get('/healthz', { config: { public: true } }, async () => ({ status: 'ok', party: party.party }));

  app.get('/readyz', { config: { public: true } }, async (_req, reply) => {
    const r = party.readiness();
    return reply.code(r.ready ? 200 : ERROR_CODES.E_NOT_READY.http).send(r.ready ? { ...r, party: party.party } : { ...r, party: party.party, code: 'E_NOT_READY', message: !r.modelLoaded ? 'model not loaded' : 'peers not connected' });
  });

  app.get('/metrics', { config: { public: true } }, async (_req, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(metrics.registry.render()));

  const sendFile = async (reply: FastifyReply, file: string, name: string) => {
    const body = await readFile(file).catch(() => null);
    if (!body) throw new MpcError('E_NOT_FOUND', `no such file: ${name}`);
    return reply.type(MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream').header('cache-control', 'no-cache').send(body);
  };
  for (const [url, file] of Object.entries(opts.staticFiles ?? {})) {
    app.get(url, { config: { public: true } }, async (_req, reply) => sendFile(reply, file, url));
  }
  if (opts.staticDir) {
    const root = path.resolve(opts.staticDir);
    app.get<{ Params: { '*': string } }>('/*', { config: { public: true } }, async (req, reply) => {
      let rel: string;
      try { rel = decodeURIComponent(req.params['*'] ?? ''); } catch { throw new MpcError('E_NOT_FOUND', 'no such file'); }
      let file = path.resolve(root, rel || 'index.html');
      if (file !== root && !file.startsWith(root + path.sep)) throw new MpcError('E_NOT_FOUND', 'no such file');
      const st = await stat(file).catch(() => null);
      if (st?.isDirectory()) file = path.join(file, 'index.html');
      return sendFile(reply, file, `/${rel}`);
    });
  }
}
