/**
 * Node's fetch (undici) vs the SDK's nodeFetch and nodeRequest (its Node
 * default; client-sdk/src/node-fetch.ts) per request, on loopback against a fastify route like the parties' PUT
 * input (a 6 KiB octet-stream body, a small JSON answer), client and server
 * in this process (the development measurement behind the SDK's Node
 * default):
 *
 *   npx tsx bench/http-client.ts [requests = 2000]
 *
 * Prints, alternating twice, the median round trip and the process CPU per
 * request (client and server together) after 300 warm-up requests.
 */
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import { nodeFetch } from '../client-sdk/src/index.js';
import { nodeRequest } from '../client-sdk/src/node-fetch.js';
import type { FetchLike } from '../client-sdk/src/http.js';

const N = Number(process.argv[2] ?? 2000);
if (!Number.isInteger(N) || N < 1) throw new Error('usage: bench/http-client.ts [requests >= 1]');
const app = Fastify();
app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_r, b, d) => d(null, b));
app.put('/v1/x', async (req) => ({ ok: true, bytes: (req.body as Buffer).length }));
await app.listen({ port: 0, host: '127.0.0.1' });
const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/x`;
const body = new Uint8Array(784 * 8);
const init = { method: 'PUT', body, headers: { 'content-type': 'application/octet-stream', authorization: 'Bearer 0123456789abcdef' } };
const clients: [string, FetchLike][] = [['fetch (undici)', fetch], ['nodeFetch', nodeFetch], ['nodeRequest', nodeRequest]];
for (const [name, f] of [...clients, ...clients]) {
  for (let i = 0; i < 300; i++) await (await f(url, init)).json();
  const t: number[] = [];
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) { const s = performance.now(); await (await f(url, init)).json(); t.push(performance.now() - s); }
  const c = process.cpuUsage(c0);
  t.sort((a, b) => a - b);
  console.log(`${name}: median ${t[N >> 1]!.toFixed(3)} ms, CPU ${((c.user + c.system) / N / 1000).toFixed(3)} ms per request (client + server)`);
}
await app.close();
