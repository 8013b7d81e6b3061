/**
 * The one mapping of the client API's errors: anything thrown -> MpcError
 * (fastify's own errors here, the rest through party-core.ts asMpcError),
 * and the ApiError body `{ code, message, party, step? }` with the HTTP
 * status of the code (protocol/errors.ts), including for the errors Node's
 * HTTP parser and fastify's router raise before a route runs.
 */
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiError } from '../protocol/api-contract.js';
import { isMpcError, MpcError } from '../protocol/errors.js';
import { asMpcError } from './party-core.js';

/** Node's errors for a request the client cut off or stalled. */
const isAbort = (e: { code?: unknown; message?: unknown }): boolean =>
  e?.code === 'ECONNRESET' || e?.code === 'ERR_STREAM_PREMATURE_CLOSE' || e?.code === 'ERR_HTTP_REQUEST_TIMEOUT' || e?.message === 'aborted';

/** Fastify's own errors -> MpcError; everything else through party-core.ts asMpcError (the only error shape clients see). */
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
  return asMpcError(err, 'internal error');
}

export function apiError(e: MpcError, party: number): ApiError {
  return { code: e.code, message: e.message, party: e.party ?? party, ...(e.step !== undefined ? { step: e.step } : {}) };
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/** An ApiError written straight to the socket, with Connection: close (for requests fastify's reply cannot answer). */
export function writeRawError(socket: Socket, status: 400 | 408 | 431, e: MpcError, party: number): void {
  if (!socket.writable) return;
  const body = JSON.stringify(apiError(e, party));
  socket.write(`HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`);
}

/**
 * Node's HTTP parser errors (a Content-Length that does not match, a request
 * line it cannot parse, headers too large, a request that did not arrive
 * within http.requestMs) are answered in the ApiError format too, then the
 * connection is closed (fastify's clientErrorHandler option).
 */
export function clientErrorHandler(party: number): (err: Error & { code?: string }, socket: Socket) => void {
  return (err, socket) => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, e]: [400 | 408 | 431, MpcError] = err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, new MpcError('E_TIMEOUT', 'the request did not arrive within the request timeout')]
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, new MpcError('E_TOO_LARGE', 'request headers exceed the limit')]
        : [400, new MpcError('E_BAD_ARGUMENT', `malformed HTTP request (${err.code ?? 'parse error'})`)];
    writeRawError(socket, status, e, party);
    socket.destroy(err);
  };
}

/** fastify's frameworkErrors option: a URL it cannot decode, in the ApiError format. */
export function frameworkErrors(party: number): (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => void {
  return (err, _req, reply) => {
    void reply.code(400).type('application/json').send(apiError(new MpcError('E_BAD_ARGUMENT', `malformed request URL (${err.code ?? 'bad URL'})`), party));
  };
}

