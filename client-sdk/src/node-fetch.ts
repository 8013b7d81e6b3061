/**
 * The Node entry's default transport: the subset of fetch the SDK uses
 * (method, headers, a string or byte body, an AbortSignal; the answer as a
 * standard Response with the whole body) over node:http / node:https with
 * keep-alive agents. Node's built-in fetch (undici) spends ~3x the CPU per
 * request on its spec machinery (bench/http-client.ts; BENCHMARKS.md). TLS is Node's: the system CAs plus NODE_EXTRA_CA_CERTS. For
 * anything else (client certificates, proxies) pass options.fetch.
 */
import http from 'node:http';
import https from 'node:https';
import type { FetchLike } from './http.js';

const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) } as const;
/** Statuses whose Response must have no body. */
const NULL_BODY = new Set([101, 204, 205, 304]);

export const nodeFetch: FetchLike = (input, init = {}) => new Promise<Response>((resolve, reject) => {
  let url: URL;
  try {
    url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
  } catch (e) { reject(e); return; }
  const mod = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : null;
  if (!mod) { reject(new TypeError(`nodeFetch: unsupported protocol ${url.protocol}`)); return; }
  const signal = init.signal ?? undefined;
  if (signal?.aborted) { reject(signal.reason); return; }
  const b = init.body;
  const body = b === undefined || b === null ? undefined : typeof b === 'string' ? Buffer.from(b) : b instanceof Uint8Array ? b : null;
  if (body === null) { reject(new TypeError('nodeFetch: the body must be a string or a Uint8Array')); return; }
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((v, k) => { headers[k] = v; });
  if (body) headers['content-length'] = String(body.byteLength);
  let settled = false;
  const onAbort = (): void => { req.destroy(); fail(signal!.reason); };
  const done = (): boolean => { if (settled) return false; settled = true; signal?.removeEventListener('abort', onAbort); return true; };
  const fail = (e: unknown): void => { if (done()) reject(signal?.aborted ? signal.reason : e); };
  const req = mod.request({
    protocol: url.protocol, hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: url.port, path: url.pathname + url.search,
    method: init.method ?? 'GET', headers, agent: agents[url.protocol as keyof typeof agents],
  }, (res) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('error', fail);
    res.on('close', () => { if (!res.complete) fail(new Error('nodeFetch: the connection closed before the whole response')); });
    res.on('end', () => {
      const status = res.statusCode ?? 0;
      const h = new Headers();
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
      let r: Response;
      try {
        r = new Response(NULL_BODY.has(status) ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage ?? '', headers: h });
      } catch (e) { fail(e); return; }
      if (done()) resolve(r);
    });
  });
  req.on('error', fail);
  signal?.addEventListener('abort', onAbort, { once: true });
  req.end(body);
});
