/**
 * Bad input: every bad request, file or peer gets a clear coded
 * error, nothing crashes, and no error (nor log line) carries a share value,
 * a weight, an output or the token. Three in-process parties listening on
 * loopback (real HTTP), the client SDK, gRPC mTLS between the parties.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateInferenceClient } from '../client-sdk/src/index.js';
import { resolveConfig, type DeploymentConfig } from '../parties/config.js';
import { PeerMesh } from '../parties/mesh.js';
import { loadPartyModel } from '../parties/model-source.js';
import { createPartyServer } from '../parties/server.js';
import { partyTrio, TEST_SESSION_KEY, testCerts, type PartyTrio } from '../parties/testing/trio.js';
import { SESSION_KEY_HEADER } from '../protocol/api-contract.js';
import { readTls } from '../parties/tls.js';
import { ERROR_CODES, isMpcError } from '../protocol/errors.js';
import { encode } from '../protocol/fixed-point/fixed-point.js';
import { getKernels } from '../protocol/kernels/index.js';
import { plainForward } from '../protocol/reference/forward.js';
import type { PartyId } from '../protocol/ring/types.js';
import { share, u64Bytes } from '../protocol/sharing/sharing.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';
import { certsAll, makeBundles, until } from './testing/deploy.js';

const F = 16;
const model = networkA();
const IN = 784;
const x = (seed: number): Float64Array => uniform(seededPrg(seed), IN, 1).map((v) => (v + 1) / 2);

describe('bad requests from clients', () => {
  let t: PartyTrio;
  let urls: string[];
  const logs: string[] = [];
  /** Every error body the parties sent, and the share words the test uploaded (decimal). */
  const bodies: string[] = [];
  const secrets = new Set<string>();

  beforeAll(async () => {
    const stream = new Writable({ write(chunk: Buffer, _e, cb) { logs.push(chunk.toString('utf8')); cb(); } });
    t = await partyTrio({ plain: model, fracBits: F, batch: { maxBatch: 4 }, logger: () => ({ level: 'trace', stream }) });
    urls = await Promise.all(t.servers.map(async (s) => `http://127.0.0.1:${(await s.listen()).httpPort}`));
  });
  afterAll(async () => { await t?.close(); });

  const authH = { authorization: `Bearer ${'test-token-0123456789abcdef'}`, [SESSION_KEY_HEADER]: TEST_SESSION_KEY };
  async function call(p: number, method: string, url: string, body?: Uint8Array | string, headers: Record<string, string> = {}): Promise<{ status: number; code?: string; body: string }> {
    const r = await fetch(`${urls[p]}${url}`, { method, headers: { ...authH, ...headers }, ...(body !== undefined ? { body: typeof body === 'string' ? body : new Uint8Array(body) } : {}) });
    const text = await r.text();
    let code: string | undefined;
    if (r.status >= 400) {
      bodies.push(text);
      const j = JSON.parse(text) as { code: string; message: string; party: number };
      expect(Object.keys(j).every((k) => ['code', 'message', 'party', 'step'].includes(k)), text).toBe(true);
      expect(ERROR_CODES[j.code as keyof typeof ERROR_CODES].http).toBe(r.status);
      code = j.code;
    }
    return { status: r.status, ...(code ? { code } : {}), body: text };
  }
  const json = { 'content-type': 'application/json' };
  const octet = { 'content-type': 'application/octet-stream' };
  const create = (p: number, body: unknown) => call(p, 'POST', '/v1/sessions', JSON.stringify(body), json);
  async function created(batch = 1): Promise<string> {
    const id = randomUUID();
    for (const p of [0, 1, 2]) expect((await create(p, { sessionId: id, batch })).status).toBe(201);
    return id;
  }
  /** A real share of a real image, remembered so that no error or log may contain its words. */
  function shareBytes(seed: number, n = 1): Buffer {
    const xs = new Float64Array(n * IN);
    for (let i = 0; i < n; i++) xs.set(x(seed + i), i * IN);
    const [s0] = share(getKernels(), encode(xs, F));
    for (const w of s0.slice(0, 64)) secrets.add(w.toString());
    return Buffer.from(u64Bytes(s0));
  }

  it('wrong shape, wrong dtype, non-finite values: refused by the SDK before any request (E_SHAPE, E_DTYPE, E_RANGE)', async () => {
    let requests = 0;
    const counting = (...a: Parameters<typeof fetch>) => { requests += 1; return fetch(...a); };
    const c = new PrivateInferenceClient({ parties: urls, token: 'test-token-0123456789abcdef', fetch: counting, inputShape: [IN], timeoutMs: 30_000 });
    const codeOf = (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (isMpcError(e) ? e.code : String(e)));
    expect(await codeOf(c.predict({ data: new Float32Array(IN - 1), shape: [IN - 1] }))).toBe('E_SHAPE');
    expect(await codeOf(c.predict({ data: new Float32Array(IN), shape: [28, 28] }))).toBe('E_SHAPE');
    expect(await codeOf(c.predict({ data: new Int32Array(IN) as unknown as Float32Array, shape: [IN] }))).toBe('E_DTYPE');
    expect(await codeOf(c.predict('not an image' as unknown as Uint8Array))).toBe('E_DTYPE');
    const nan = new Float32Array(IN); nan[3] = Number.NaN;
    expect(await codeOf(c.predict({ data: nan, shape: [IN] }))).toBe('E_RANGE');
    expect(requests).toBe(0);
    // Bytes that are no image: E_BAD_ARGUMENT or a decode error, coded.
    expect(await codeOf(c.predict(new Uint8Array([1, 2, 3, 4])))).toMatch(/^E_[A-Z_]+$/);
  });

  it('wrong share length or a share of the wrong dtype (f32 instead of u64): 400 E_SHAPE, the session still takes the right one', async () => {
    const id = await created();
    const good = shareBytes(1);
    for (const body of [good.subarray(0, good.length - 8), Buffer.concat([good, Buffer.alloc(3)]), Buffer.from(new Float32Array(IN).buffer)]) {
      expect(await call(0, 'PUT', `/v1/sessions/${id}/input`, body, octet)).toMatchObject({ status: 400, code: 'E_SHAPE' });
    }
    expect((await call(0, 'PUT', `/v1/sessions/${id}/input`, good, octet)).status).toBe(200);
  });

  it('wrong types in the JSON, wrong content type: 400 E_BAD_ARGUMENT', async () => {
    for (const body of [{ sessionId: 42 }, { sessionId: randomUUID(), batch: 'two' }, { sessionId: randomUUID(), batch: 1.5 }, { sessionId: randomUUID(), deadlineMs: -1 }, [randomUUID()]]) {
      expect(await create(0, body)).toMatchObject({ status: 400, code: 'E_BAD_ARGUMENT' });
    }
    const id = await created();
    expect(await call(0, 'PUT', `/v1/sessions/${id}/input`, shareBytes(2), { 'content-type': 'text/plain' })).toMatchObject({ status: 400, code: 'E_BAD_ARGUMENT' });
    expect(await call(0, 'POST', '/v1/sessions', '{"sessionId":', json)).toMatchObject({ status: 400, code: 'E_BAD_ARGUMENT' });
  });

  it('oversized bodies: 413 E_TOO_LARGE (share over input x max batch, JSON over 16 KiB)', async () => {
    const id = await created();
    expect(await call(0, 'PUT', `/v1/sessions/${id}/input`, Buffer.alloc(5 * IN * 8), octet)).toMatchObject({ status: 413, code: 'E_TOO_LARGE' });
    expect(await call(1, 'PUT', `/v1/sessions/${id}/input`, Buffer.alloc(64 << 20), octet)).toMatchObject({ status: 413, code: 'E_TOO_LARGE' });
    expect(await create(0, { sessionId: randomUUID(), pad: 'x'.repeat(40_000) })).toMatchObject({ status: 413, code: 'E_TOO_LARGE' });
  });

  it('unknown session: 404 E_NOT_FOUND for input, output and state', async () => {
    const id = randomUUID();
    expect(await call(0, 'PUT', `/v1/sessions/${id}/input`, shareBytes(3), octet)).toMatchObject({ status: 404, code: 'E_NOT_FOUND' });
    expect(await call(1, 'GET', `/v1/sessions/${id}/output`)).toMatchObject({ status: 404, code: 'E_NOT_FOUND' });
    expect(await call(2, 'GET', `/v1/sessions/${id}`)).toMatchObject({ status: 404, code: 'E_NOT_FOUND' });
    expect(await call(0, 'GET', '/v1/sessions/not-a-uuid')).toMatchObject({ status: 400, code: 'E_BAD_ARGUMENT' });
  });

  it('replayed session id: 409 E_CONFLICT while open, after it finished, and for a second input upload', async () => {
    const c = new PrivateInferenceClient({ parties: urls, token: 'test-token-0123456789abcdef', timeoutMs: 30_000 });
    const done = await c.predict({ data: Float32Array.from(x(4)), shape: [IN] });
    for (const p of [0, 1, 2]) expect(await create(p, { sessionId: done.sessionId })).toMatchObject({ status: 409, code: 'E_CONFLICT' });
    const id = await created();
    expect(await create(0, { sessionId: id.toUpperCase() })).toMatchObject({ status: 409, code: 'E_CONFLICT' });
    expect((await call(1, 'PUT', `/v1/sessions/${id}/input`, shareBytes(5), octet)).status).toBe(200);
    expect(await call(1, 'PUT', `/v1/sessions/${id}/input`, shareBytes(6), octet)).toMatchObject({ status: 409, code: 'E_CONFLICT' });
  });

  it('a client without a valid token: 401 E_UNAUTHENTICATED (none, wrong, another deployment\'s, in the query string); the SDK reports the code', async () => {
    const id = randomUUID();
    const body = JSON.stringify({ sessionId: id });
    for (const h of [{} as Record<string, string>, { authorization: 'Bearer wrong-token-0123456789abcdef' }, { authorization: 'Bearer test-token-0123456789abcdeF' }, { authorization: 'test-token-0123456789abcdef' }]) {
      const r = await fetch(`${urls[0]}/v1/sessions`, { method: 'POST', headers: { ...json, ...h }, body });
      expect(r.status).toBe(401);
      const text = await r.text();
      bodies.push(text);
      expect(JSON.parse(text)).toMatchObject({ code: 'E_UNAUTHENTICATED' });
    }
    expect((await fetch(`${urls[0]}/v1/model?token=test-token-0123456789abcdef`)).status).toBe(401);
    const c = new PrivateInferenceClient({ parties: urls, token: 'wrong-token-0123456789abcdef', timeoutMs: 30_000 });
    const e = await c.predict({ data: Float32Array.from(x(7)), shape: [IN] }).then(() => null, (err: unknown) => err);
    expect(isMpcError(e) && e.code).toBe('E_UNAUTHENTICATED');
  });

  it('a peer with the wrong certificate is refused (E_PERMISSION in the log); the real links stay up', async () => {
    const certs = testCerts();
    const target = t.servers[0].party.mesh.dialTarget!;
    const intruders: [string, { cert: string; key: string }, PartyId][] = [
      ['the client certificate', certs.client, 1],
      ['party-2\'s certificate claiming to be P1', certs.parties[2], 1],
    ];
    for (const [, kp, claim] of intruders) {
      const before = logs.length;
      const m = new PeerMesh({ party: claim, tls: readTls({ ca: certs.ca.cert, cert: kp.cert, key: kp.key }), reconnectMs: { min: 50, max: 200 } });
      await m.start();
      m.setDialAddress(0, target);
      const refused = await until(() => logs.slice(before).some((l) => l.includes('E_PERMISSION')), 3_000, 20);
      expect(m.isUp(0)).toBe(false);
      await m.close();
      expect(refused).toBe(true);
    }
    // Another deployment's party-1 (its own CA): the TLS handshake fails.
    const other = path.join(mkdtempSync(path.join(tmpdir(), 'securenn-other-')), 'dep');
    certsAll(other);
    const m = new PeerMesh({ party: 1, tls: readTls({ ca: path.join(other, 'ca.crt'), cert: path.join(other, 'party-1.crt'), key: path.join(other, 'party-1.key') }), reconnectMs: { min: 50, max: 200 } });
    await m.start();
    m.setDialAddress(0, target);
    await new Promise((r) => setTimeout(r, 500));
    expect(m.isUp(0)).toBe(false);
    await m.close();
    expect(t.servers.every((s) => s.party.mesh.allUp())).toBe(true);
  });

  it('after all that: no party crashed, every party is ready, and a prediction is right', async () => {
    for (const u of urls) expect((await fetch(`${u}/readyz`)).status).toBe(200);
    const c = new PrivateInferenceClient({ parties: urls, token: 'test-token-0123456789abcdef', timeoutMs: 30_000 });
    const r = await c.predict({ data: Float32Array.from(x(8)), shape: [IN] });
    const want = plainForward(model, Float64Array.from(Float32Array.from(x(8))), 1).data;
    r.logits.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-2));
  });

  it('nothing leaked: error bodies are short coded JSON without share words, long numbers or the token; logs neither', () => {
    expect(bodies.length).toBeGreaterThan(20);
    expect(secrets.size).toBeGreaterThan(100);
    for (const body of bodies) {
      expect(body.length).toBeLessThan(400);
      // Session ids (UUIDs) may be named; their hex groups can hold runs of digits by chance.
      const b = body.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>');
      expect(b).not.toMatch(/\d{10,}/);
      expect(b).not.toMatch(/[0-9a-f]{33,}/i);
      expect(b).not.toContain('test-token-0123456789abcdef');
      expect(b).not.toContain('wrong-token');
    }
    const all = logs.join('');
    expect(all.length).toBeGreaterThan(1000);
    for (const s of secrets) expect(all.includes(s), 'a share word in the logs').toBe(false);
    expect(all).not.toContain('test-token-0123456789abcdef');
    expect(all).not.toContain('wrong-token');
  });
});

describe('corrupted or truncated model bundles', () => {
  let dir: string;
  const variants: Record<string, (d: string) => void> = {
    'a flipped byte in weights.bin': (d) => { const f = path.join(d, 'party1', 'weights.bin'); const b = readFileSync(f); b[b.length >> 1] ^= 0x10; writeFileSync(f, b); },
    'a truncated weights.bin': (d) => { const f = path.join(d, 'party1', 'weights.bin'); writeFileSync(f, readFileSync(f).subarray(0, 4096)); },
    'a truncated manifest.json': (d) => { const f = path.join(d, 'party1', 'manifest.json'); writeFileSync(f, readFileSync(f, 'utf8').slice(0, 200)); },
    'another party\'s bundle': (d) => { writeFileSync(path.join(d, 'party1', 'manifest.json'), readFileSync(path.join(d, 'party0', 'manifest.json'))); writeFileSync(path.join(d, 'party1', 'weights.bin'), readFileSync(path.join(d, 'party0', 'weights.bin'))); },
  };
  const dirs: Record<string, string> = {};
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'securenn-bundles-'));
    for (const [name, corrupt] of Object.entries(variants)) {
      const d = path.join(dir, name.replace(/\W+/g, '-'));
      makeBundles(model, d, F);
      corrupt(d);
      dirs[name] = d;
    }
  });

  for (const name of Object.keys(variants)) {
    it(`${name}: E_BUNDLE_INTEGRITY, a message without values`, async () => {
      const e = await loadPartyModel({ kind: 'bundle', dir: dirs[name]! }, 1).then(() => null, (err: unknown) => err);
      expect(isMpcError(e) && e.code).toBe('E_BUNDLE_INTEGRITY');
      expect((e as Error).message).not.toMatch(/\d{10,}/);
    });
  }

  it('a party server given a corrupted bundle stays up: /healthz 200, /readyz 503, requests E_NOT_READY naming the cause', async () => {
    const d = dirs['a flipped byte in weights.bin']!;
    const dep: DeploymentConfig = {
      tokens: ['bundle-test-token-0123456789'], insecureLocal: true, logLevel: 'silent',
      parties: [
        { http: { host: '127.0.0.1', port: 0 }, grpc: { host: '127.0.0.1', port: 0 }, model: { bundleDir: d } },
        { http: { host: '127.0.0.1', port: 0 }, grpc: { host: '127.0.0.1', port: 0 }, model: { bundleDir: d } },
        { http: { host: '127.0.0.1', port: 0 }, model: { bundleDir: d } },
      ],
    };
    const srv = createPartyServer(resolveConfig(dep, 1, d), { logger: false });
    await srv.start();
    try {
      expect((await srv.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      const rz = await srv.app.inject({ method: 'GET', url: '/readyz' });
      expect(rz.statusCode).toBe(503);
      expect(rz.json()).toMatchObject({ ready: false, modelLoaded: false, code: 'E_NOT_READY' });
      const r = await srv.app.inject({ method: 'POST', url: '/v1/sessions', headers: { authorization: 'Bearer bundle-test-token-0123456789', [SESSION_KEY_HEADER]: TEST_SESSION_KEY }, payload: { sessionId: randomUUID() } });
      expect(r.statusCode).toBe(503);
      expect(r.json()).toMatchObject({ code: 'E_NOT_READY', message: expect.stringContaining('E_BUNDLE_INTEGRITY') });
    } finally {
      await srv.close();
    }
  });

  it('the party program (parties/main.ts) refuses to serve it: exit 1 with a coded log line, no stack trace', () => {
    const d = dirs['a truncated weights.bin']!;
    const cfgFile = path.join(d, 'deploy.json');
    writeFileSync(cfgFile, JSON.stringify({
      tokens: ['bundle-test-token-0123456789'], insecureLocal: true,
      parties: [
        { http: { host: '127.0.0.1', port: 0 }, grpc: { host: '127.0.0.1', port: 0 }, model: { bundleDir: 'party0' } },
        { http: { host: '127.0.0.1', port: 0 }, grpc: { host: '127.0.0.1', port: 0 }, model: { bundleDir: 'party1' } },
        { http: { host: '127.0.0.1', port: 0 }, model: { bundleDir: 'party2' } },
      ],
    }));
    const main = fileURLToPath(new URL('../parties/main.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', main, '--party', '1', '--config', cfgFile], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out).toContain('"code":"E_BUNDLE_INTEGRITY"');
    expect(out).toContain('cannot serve without a model');
    expect(out).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });
});
