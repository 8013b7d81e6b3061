/**
 * The Node entry's transport over node:http / node:https with keep-alive
 * agents: the subset of fetch the SDK uses (method, headers, a string or byte
 * body, an AbortSignal; the whole body read before the promise resolves).
 * Node's built-in fetch (undici) spends ~3x the CPU per request on its spec
 * machinery (bench/http-client.ts; BENCHMARKS.md). TLS is Node's: the system
 * CAs plus NODE_EXTRA_CA_CERTS. For anything else (client certificates,
 * proxies) pass options.fetch.
 *
 *  - nodeRequest, the SDK's default in Node: answers a NodeAnswer, the part of
 *    a Response the SDK reads (status, ok, headers.get, json, text,
 *    arrayBuffer, body.cancel), without undici's Headers and Response objects
 *    (~15 us of CPU per answer, three answers per prediction).
 *  - nodeFetch, exported: the same request, answered as a standard Response.
 */
import http from 'node:http';
import https from 'node:https';
import type { ResponseLike } from './http.js';

const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) } as const;
/** Statuses whose Response must have no body. */
const NULL_BODY = new Set([101, 204, 205, 304]);

/** A node:http header value as fetch's Headers.get gives it (repeated headers joined by ", "). */
const headerValue = (v: string | string[]): string => (Array.isArray(v) ? v.join(', ') : v);

/** An answer whose body has been read whole: one read of it, as with fetch (a second one rejects). */
export class NodeAnswer implements ResponseLike {
  readonly ok: boolean;
  readonly headers: { get(name: string): string | null };
  readonly body: { cancel(reason?: unknown): Promise<void> } | null;
  private used = false;
  constructor(readonly status: number, readonly statusText: string, readonly raw: http.IncomingHttpHeaders, private readonly bytes: Buffer | null) {
    this.ok = status >= 200 && status <= 299;
    this.headers = { get: (name) => { const v = raw[name.toLowerCase()]; return v === undefined ? null : headerValue(v); } };
    this.body = bytes === null ? null : { cancel: async () => { this.used = true; } };
  }
  private take(): Buffer {
    if (this.used) throw new TypeError('nodeRequest: the body has already been read');
    this.used = true;
    return this.bytes ?? Buffer.alloc(0);
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = this.take();
    // The body may be a view into a larger buffer (a socket read, Node's pool): copy out exactly its bytes.
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }
  async text(): Promise<string> { return this.take().toString('utf8'); }
  async json(): Promise<unknown> { return JSON.parse(await this.text()); }
}

/** Request headers as node:http takes them (names in lower case): plain objects are copied, anything else goes through Headers. */
function headerRecord(h: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (h === undefined || h === null) return out;
  if (typeof h === 'object' && !Array.isArray(h) && !(h instanceof Headers)) {
    for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = String(v);
    return out;
  }
  new Headers(h).forEach((v, k) => { out[k] = v; });
  return out;
}

/** nodeRequest over the given agents (e.g. an https.Agent with a private CA and a client certificate). */
export const nodeRequestWith = (ag: { 'http:': http.Agent; 'https:': https.Agent }) => (input: string | URL | Request, init: RequestInit = {}): Promise<NodeAnswer> => new Promise<NodeAnswer>((resolve, reject) => {
  let url: URL;
  try {
    url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
  } catch (e) { reject(e); return; }
  const mod = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : null;
  if (!mod) { reject(new TypeError(`nodeRequest: unsupported protocol ${url.protocol}`)); return; }
  const signal = init.signal ?? undefined;
  if (signal?.aborted) { reject(signal.reason); return; }
  const b = init.body;
  const body = b === undefined || b === null ? undefined : typeof b === 'string' ? Buffer.from(b) : b instanceof Uint8Array ? b : null;
  if (body === null) { reject(new TypeError('nodeRequest: the body must be a string or a Uint8Array')); return; }
  let headers: Record<string, string>;
  try { headers = headerRecord(init.headers); } catch (e) { reject(e); return; }
  if (body) headers['content-length'] = String(body.byteLength);
  let settled = false;
  const onAbort = (): void => { req.destroy(); fail(signal!.reason); };
  const done = (): boolean => { if (settled) return false; settled = true; signal?.removeEventListener('abort', onAbort); return true; };
  const fail = (e: unknown): void => { if (done()) reject(signal?.aborted ? signal.reason : e); };
  const req = mod.request({
    protocol: url.protocol, hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port, path: url.pathname + url.search,
    method: init.method ?? 'GET', headers, agent: ag[url.protocol as keyof typeof ag],
  }, (res) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('error', fail);
    res.on('close', () => { if (!res.complete) fail(new Error('nodeRequest: the connection closed before the whole response')); });
    res.on('end', () => {
      const status = res.statusCode ?? 0;
      const answer = new NodeAnswer(status, res.statusMessage ?? '', res.headers, NULL_BODY.has(status) ? null : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      if (done()) resolve(answer);
    });
  });
  req.on('error', fail);
  signal?.addEventListener('abort', onAbort, { once: true });
  req.end(body);
});

export const nodeRequest = nodeRequestWith(agents);

export const nodeFetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
  const a = await nodeRequest(input, init);
  const h = new Headers();
  for (const [k, v] of Object.entries(a.raw)) if (v !== undefined) h.set(k, headerValue(v));
  return new Response(a.body === null ? null : await a.arrayBuffer(), { status: a.status, statusText: a.statusText, headers: h });
};
