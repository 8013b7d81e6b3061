/**
 * The client HTTP API of a party (protocol/api-contract.ts), on fastify:
 * this file holds what every route shares (authentication, CORS, request
 * timeouts, the share body parser, logging and error mapping); the routes are
 * in http-sessions.ts (sessions) and http-info.ts (model, budget, health,
 * metrics, static files). Bearer tokens are compared in constant time (client-auth.ts) and give the
 * caller's identity at this party. Every session route takes the session key
 * (x-session-key, SESSION_KEY_HEADER): a session is created with one, and a
 * request with another identity or key is answered exactly as an unknown id
 * (404). Errors are coded ApiError JSON with the HTTP status of their code;
 * messages never carry share values.
 */
import { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AWAIT_OUTPUT_HEADER, OUTPUT_KIND_HEADER, OUTPUT_MODE_HEADER, OUTPUT_SENTINEL_HEADER, OUTPUT_SESSION_HEADER, OUTPUT_SHAPE_HEADER, SESSION_CREATE_HEADER, SESSION_KEY_HEADER } from '../protocol/api-contract.js';
import { ERROR_CODES, MpcError } from '../protocol/errors.js';
import { alignedBytes } from './chunking.js';
import { clientAuthenticator, type ClientCredential } from './client-auth.js';
import { apiError, toMpcError, writeRawError } from './http-errors.js';
import { registerInfoRoutes } from './http-info.js';
import { registerSessionRoutes } from './http-sessions.js';
import { registerMaliciousRoutes } from './http-malicious.js';
import { errFields } from './log.js';
import type { Party } from './party.js';

export { clientErrorHandler, frameworkErrors, toMpcError } from './http-errors.js';

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
  /** Serve /metrics on the client API too (default true; false when it has a listener of its own, server.ts). */
  metricsOnApi?: boolean;
}

export function registerApi(app: FastifyInstance, party: Party, opts: ApiOptions): void {
  const identify = clientAuthenticator([...opts.tokens, ...(opts.operatorTokens ?? [])], opts.clients ?? []);
  app.decorateRequest('clientId', '');
  const metrics = party.metrics;
  const allowAll = opts.corsOrigins.includes('*');

  // A body that has not fully arrived within requestTimeoutMs is cut: 408 E_TIMEOUT if nothing was answered yet,
  // then the connection is closed (Node's own requestTimeout does not cut a body trickled after the headers).
  const bodyMs = opts.requestTimeoutMs;
  if (bodyMs !== undefined) {
    app.addHook('onRequest', (req, reply, done) => {
      const raw = req.raw;
      // Only a body arriving over a real connection can trickle; app.inject's requests have a mock socket
      // (no destroy) whose request may never report complete, and must not leave a timer behind.
      const socket = raw.socket;
      if (raw.complete || !(socket instanceof Socket)) { done(); return; }
      const t = setTimeout(() => {
        if (raw.complete || socket.destroyed) return;
        if (!reply.raw.headersSent) {
          metrics.errors.inc({ code: 'E_TIMEOUT', source: 'http' });
          writeRawError(socket, 408, new MpcError('E_TIMEOUT', `the request body did not arrive within ${bodyMs} ms`), party.party);
        }
        socket.destroy();
      }, bodyMs);
      t.unref();
      const clear = (): void => clearTimeout(t);
      raw.once('end', clear);
      raw.once('close', clear);
      done();
    });
  }

  // The per-request hooks take fastify's callback form: an async hook costs a promise and a microtask turn each, on
  // every request (a preflight answered here does not call done; an error goes to done, as a throw would).
  app.addHook('onRequest', (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
    const origin = req.headers.origin;
    if (origin && (allowAll || opts.corsOrigins.includes(origin))) {
      reply.header('access-control-allow-origin', origin).header('vary', 'Origin').header('access-control-expose-headers', `${OUTPUT_SHAPE_HEADER}, ${OUTPUT_MODE_HEADER}, ${OUTPUT_KIND_HEADER}, ${OUTPUT_SESSION_HEADER}, ${OUTPUT_SENTINEL_HEADER}`);
      if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
        reply.header('access-control-allow-methods', 'GET, POST, PUT, OPTIONS').header('access-control-allow-headers', `authorization, content-type, accept, ${SESSION_CREATE_HEADER}, ${AWAIT_OUTPUT_HEADER}, ${SESSION_KEY_HEADER}`).header('access-control-max-age', '600');
        void reply.code(204).send();
        return;
      }
    }
    if (req.routeOptions.config?.public) { done(); return; }
    let who: string | null;
    try { who = identify(req.headers.authorization); } catch (e) { done(e as Error); return; }
    if (who === null) {
      // Nothing more is read from a caller without a valid token: the connection closes after the answer.
      reply.header('connection', 'close');
      done(new MpcError('E_UNAUTHENTICATED', 'missing or invalid bearer token'));
      return;
    }
    req.clientId = who;
    done();
  });

  app.addHook('onResponse', (req, reply, done) => {
    try {
      const route = req.routeOptions.url ?? 'unmatched';
      metrics.httpRequests.inc({ method: req.method, route, status: reply.statusCode });
      metrics.httpLatency.observe({ method: req.method, route }, reply.elapsedTime / 1000);
      const line = { method: req.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime) };
      if (req.routeOptions.config?.public) req.log.debug(line, 'request');
      else req.log.info(line, 'request');
    } catch (e) {
      done(e as Error);
      return;
    }
    done();
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

  registerSessionRoutes(app, party, { longPollMaxMs: opts.longPollMaxMs, ...(opts.operatorTokens ? { operatorTokens: opts.operatorTokens } : {}) });
  registerMaliciousRoutes(app, party);
  registerInfoRoutes(app, party, { metricsOnApi: opts.metricsOnApi ?? true, ...(opts.staticDir ? { staticDir: opts.staticDir } : {}), ...(opts.staticFiles ? { staticFiles: opts.staticFiles } : {}) });
}
