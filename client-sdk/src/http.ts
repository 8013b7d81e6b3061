/**
 * One HTTP call to one party, with the contract's error mapping:
 *  - network failure (fetch rejects)          -> E_PEER_UNAVAILABLE
 *  - JSON ApiError { code, message, party? }  -> that code (unknown codes: E_INTERNAL + serverCode)
 *  - other non-2xx bodies                     -> by status (502/503 unavailable, 504 deadline, ...)
 *  - a redirect (3xx; not followed)           -> E_INTERNAL
 *  - the combined signal aborted              -> its reason (user abort, deadline, a sibling's failure)
 */
import type { ApiError } from '../../protocol/api-contract.js';
import { ServerError, PeerUnavailableError, errorForCode, isErrorCode, type ClientErrorContext } from './errors.js';
import type { ErrorCode } from '../../protocol/errors.js';

/** The part of a fetch Response the SDK reads: a standard Response has it all. */
export interface ResponseLike {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: { get(name: string): string | null };
  readonly body: { cancel(reason?: unknown): Promise<void> } | null;
  json(): Promise<unknown>;
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** The transport: globalThis.fetch, an undici fetch, or the Node entry's nodeRequest / nodeFetch. */
export type FetchLike = (input: string, init: RequestInit) => Promise<ResponseLike>;

export interface PartyEndpoint {
  party: 0 | 1 | 2;
  baseUrl: string;
}

export interface CallOptions {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  body?: Uint8Array | string;
  contentType?: string;
  accept?: string;
  /** More request headers (names in lower case). */
  headers?: Record<string, string>;
}

export class PartyHttp {
  /** `tokens[p]`: the client's bearer token at party p (each party verifies only its own). */
  constructor(private readonly fetchFn: FetchLike, private readonly tokens: readonly [string, string, string]) {}

  /** Send one request; resolves with a 2xx response, rejects with a typed error. */
  async call(ep: PartyEndpoint, o: CallOptions, signal: AbortSignal): Promise<ResponseLike> {
    const headers: Record<string, string> = { ...o.headers, authorization: `Bearer ${this.tokens[ep.party]}` };
    if (o.contentType !== undefined) headers['content-type'] = o.contentType;
    if (o.accept !== undefined) headers['accept'] = o.accept;
    let res: ResponseLike;
    try {
      res = await this.fetchFn(ep.baseUrl + o.path, {
        method: o.method,
        headers,
        // Never follow a redirect: fetch would send the body (a share) and the session key to wherever it points.
        // The 3xx (a browser's opaque 'opaqueredirect', status 0) is not ok: E_INTERNAL below, as nodeRequest does.
        redirect: 'manual',
        ...(o.body !== undefined ? { body: o.body as BodyInit } : {}),
        signal,
      });
    } catch (e) {
      if (signal.aborted) throw signal.reason;
      throw new PeerUnavailableError(`party ${ep.party}: ${o.method} ${o.path} failed: could not reach ${ep.baseUrl}`, { party: ep.party, step: o.path, cause: e });
    }
    if (res.ok) return res;
    throw await errorFromResponse(res, ep, o, signal);
  }

  /** Read a body; an abort or a dropped connection while reading is mapped like a failed request. */
  async read<T>(ep: PartyEndpoint, what: string, signal: AbortSignal, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (e) {
      if (signal.aborted) throw signal.reason;
      if (e instanceof SyntaxError) throw new ServerError('E_INTERNAL', `party ${ep.party}: ${what} is not valid JSON`, { party: ep.party, cause: e });
      throw new PeerUnavailableError(`party ${ep.party}: reading ${what} failed`, { party: ep.party, cause: e });
    }
  }
}

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'E_BAD_ARGUMENT', 401: 'E_UNAUTHENTICATED', 403: 'E_PERMISSION', 404: 'E_NOT_FOUND', 409: 'E_CONFLICT',
  413: 'E_TOO_LARGE', 502: 'E_PEER_UNAVAILABLE', 503: 'E_PEER_UNAVAILABLE', 504: 'E_DEADLINE',
};

async function errorFromResponse(res: ResponseLike, ep: PartyEndpoint, o: CallOptions, signal: AbortSignal): Promise<Error> {
  let text = '';
  try {
    text = await res.text();
  } catch {
    if (signal.aborted) return signal.reason as Error;
  }
  let body: Partial<ApiError> | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as ApiError).code === 'string') body = parsed as ApiError;
  } catch { /* not JSON */ }
  const where = `party ${ep.party}: ${o.method} ${o.path}`;
  if (body !== undefined) {
    const ctx: ClientErrorContext = { party: typeof body.party === 'number' ? body.party : ep.party, status: res.status };
    if (typeof body.step === 'string') ctx.step = body.step;
    const message = `${where}: ${typeof body.message === 'string' ? body.message : body.code!}`;
    if (isErrorCode(body.code)) return errorForCode(body.code, message, ctx);
    return new ServerError('E_INTERNAL', message, { ...ctx, serverCode: body.code! });
  }
  if (res.status === 0 || (res.status >= 300 && res.status < 400)) {
    return errorForCode('E_INTERNAL', `${where}: the party answered with a redirect (HTTP ${res.status}), which the SDK does not follow: configure the party's final URL`, { party: ep.party, status: res.status });
  }
  const code = STATUS_CODES[res.status] ?? 'E_INTERNAL';
  return errorForCode(code, `${where}: HTTP ${res.status} without an error body`, { party: ep.party, status: res.status });
}
