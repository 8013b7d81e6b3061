import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeFetch } from '../src/index.js';
import { NodeAnswer, nodeRequest } from '../src/node-fetch.js';

describe('nodeFetch (the Node entry\'s default transport)', () => {
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (req.url === '/echo') {
          res.writeHead(201, { 'content-type': 'application/octet-stream', 'x-method': req.method!, 'x-auth': req.headers.authorization ?? '', 'x-length': String(req.headers['content-length'] ?? '') });
          res.end(body);
        } else if (req.url === '/json?x=1') {
          res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] });
          res.end(JSON.stringify({ ok: true }));
        } else if (req.url === '/empty') {
          res.writeHead(204);
          res.end();
        } else if (req.url === '/slow') {
          setTimeout(() => { res.writeHead(200); res.end('late'); }, 2_000);
        } else if (req.url === '/cut') {
          res.writeHead(200, { 'content-length': '100' });
          res.write('only part');
          setTimeout(() => res.destroy(), 20);
        } else {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ code: 'E_NOT_FOUND' }));
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => { server.closeAllConnections(); await new Promise((r) => server.close(r)); });

  it('sends the method, headers and byte body; answers a standard Response (status, headers, bytes, JSON)', async () => {
    const body = Uint8Array.from({ length: 10_000 }, (_, i) => i & 255);
    const r = await nodeFetch(`${base}/echo`, { method: 'PUT', headers: { authorization: 'Bearer t', 'content-type': 'application/octet-stream' }, body });
    expect(r).toBeInstanceOf(Response);
    expect([r.status, r.ok, r.headers.get('x-method'), r.headers.get('x-auth'), r.headers.get('x-length')]).toEqual([201, true, 'PUT', 'Bearer t', '10000']);
    expect(new Uint8Array(await r.arrayBuffer())).toEqual(body);
    const j = await nodeFetch(`${base}/json?x=1`);
    expect(await j.json()).toEqual({ ok: true });
    expect(j.headers.get('set-cookie')).toBe('a=1, b=2');
    const s = await nodeFetch(`${base}/echo`, { method: 'POST', body: '{"a":1}' });
    expect(await s.text()).toBe('{"a":1}');
    expect((await nodeFetch(`${base}/empty`)).status).toBe(204);
    const nf = await nodeFetch(`${base}/missing`);
    expect([nf.status, nf.ok, await nf.json()]).toEqual([404, false, { code: 'E_NOT_FOUND' }]);
  });

  it('an abort rejects with the signal\'s reason at once; a refused connection and a cut response reject', async () => {
    const ctl = new AbortController();
    const reason = new Error('stop');
    const t0 = Date.now();
    setTimeout(() => ctl.abort(reason), 50);
    await expect(nodeFetch(`${base}/slow`, { signal: ctl.signal })).rejects.toBe(reason);
    expect(Date.now() - t0).toBeLessThan(1_000);
    await expect(nodeFetch(`${base}/echo`, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    const dead = http.createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise((r) => dead.close(r));
    await expect(nodeFetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
    await expect(nodeFetch(`${base}/cut`)).rejects.toThrow();
    await expect(nodeFetch('ftp://127.0.0.1/')).rejects.toThrow(/unsupported protocol/);
  });

  it('nodeRequest (the SDK\'s default) answers the same status, headers and body without a Response; the body reads once', async () => {
    const body = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7) & 255);
    const r = await nodeRequest(`${base}/echo`, { method: 'PUT', headers: { Authorization: 'Bearer t', 'content-type': 'application/octet-stream' }, body });
    expect(r).toBeInstanceOf(NodeAnswer);
    expect(r).not.toBeInstanceOf(Response);
    // Header names are matched in any case, as with Headers.
    expect([r.status, r.ok, r.headers.get('X-Method'), r.headers.get('x-auth'), r.headers.get('x-length'), r.headers.get('x-none')]).toEqual([201, true, 'PUT', 'Bearer t', '100000', null]);
    const buf = await r.arrayBuffer();
    expect(buf.byteLength).toBe(body.length);
    expect(new Uint8Array(buf)).toEqual(body);
    await expect(r.arrayBuffer()).rejects.toThrow(/already been read/);
    const j = await nodeRequest(`${base}/json?x=1`);
    expect(await j.json()).toEqual({ ok: true });
    expect(j.headers.get('set-cookie')).toBe('a=1, b=2');
    const h = new Headers({ 'X-Test': 'a' });
    expect(await (await nodeRequest(`${base}/echo`, { method: 'POST', headers: h, body: '{"a":1}' })).text()).toBe('{"a":1}');
    const e = await nodeRequest(`${base}/empty`);
    expect([e.status, e.body]).toEqual([204, null]);
    expect(await e.text()).toBe('');
    const nf = await nodeRequest(`${base}/missing`);
    expect([nf.status, nf.ok, await nf.json()]).toEqual([404, false, { code: 'E_NOT_FOUND' }]);
    const c = await nodeRequest(`${base}/json?x=1`);
    await c.body!.cancel();
    await expect(c.text()).rejects.toThrow(/already been read/);
    const reason = new Error('stop');
    await expect(nodeRequest(`${base}/echo`, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    await expect(nodeRequest(`${base}/cut`)).rejects.toThrow();
  });
});
