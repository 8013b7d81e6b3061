import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../protocol/errors.js';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { getKernels } from '../protocol/kernels/index.js';
import { plainForward } from '../protocol/reference/forward.js';
import { reconstruct, share, u64Bytes } from '../protocol/sharing/sharing.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';
import { resolveConfig } from './config.js';
import { clientAuthenticator, tokenDigest } from './client-auth.js';
import { clientIdOf } from './privacy.js';
import { sessionTag } from './log.js';
import { shareBundles } from './model-source.js';
import { createPartyServer } from './server.js';
import { auth, finishSession, partyTrio, startSession, TEST_TOKEN, testCerts, type PartyTrio } from './testing/trio.js';

const F = 16;
const IN_BYTES = 784 * 8;
const octet = { ...auth, 'content-type': 'application/octet-stream' };

describe('client HTTP API: validation, auth and error codes', () => {
  const model = networkA();
  let t: PartyTrio;
  const logs: string[] = [];
  let staticDir: string;
  beforeAll(async () => {
    staticDir = mkdtempSync(path.join(tmpdir(), 'securenn-static-'));
    writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>demo</title>');
    writeFileSync(path.join(staticDir, 'app.js'), 'export {};');
    const stream = new Writable({ write(chunk: Buffer, _enc, cb) { logs.push(chunk.toString('utf8')); cb(); } });
    writeFileSync(path.join(staticDir, 'demo-config.json'), '{"parties":[]}');
    t = await partyTrio({ plain: model, fracBits: F, batch: { maxBatch: 4 }, staticDir, staticFiles: { '/config.json': path.join(staticDir, 'demo-config.json') }, logger: () => ({ level: 'debug', stream }) });
  });
  afterAll(async () => { await t?.close(); });

  const app = (p: 0 | 1 | 2) => t.servers[p].app;
  const create = (p: 0 | 1 | 2, payload: object, headers: Record<string, string> = auth) => app(p).inject({ method: 'POST', url: '/v1/sessions', headers, payload });
  const created = async (batch = 1): Promise<string> => {
    const sessionId = randomUUID();
    for (const p of [0, 1, 2] as const) expect((await create(p, { sessionId, batch })).statusCode).toBe(201);
    return sessionId;
  };
  const codeOf = (r: { statusCode: number; json(): unknown }) => ({ status: r.statusCode, code: (r.json() as { code: string }).code });

  it('creates a session: 201 with the model info and whether this party takes input', async () => {
    const sessionId = randomUUID();
    const r0 = await create(0, { sessionId, batch: 2, modelHash: t.modelHash, deadlineMs: 5_000 });
    expect(r0.statusCode).toBe(201);
    expect(r0.json()).toMatchObject({ sessionId, party: 0, acceptsInput: true, inputShape: [784], outputShape: [10], fracBits: F, modelHash: t.modelHash });
    expect((await create(2, { sessionId })).json()).toMatchObject({ party: 2, acceptsInput: false });
    const st = await app(0).inject({ method: 'GET', url: `/v1/sessions/${sessionId}`, headers: auth });
    expect(st.json()).toMatchObject({ sessionId, state: 'created', batch: 2 });
  });

  it('no token or a wrong token: 401 E_UNAUTHENTICATED (before the body is read)', async () => {
    expect(codeOf(await create(0, { sessionId: randomUUID() }, {}))).toEqual({ status: 401, code: 'E_UNAUTHENTICATED' });
    expect(codeOf(await create(0, { sessionId: randomUUID() }, { authorization: 'Bearer nope-nope-nope-nope' }))).toEqual({ status: 401, code: 'E_UNAUTHENTICATED' });
    expect(codeOf(await app(0).inject({ method: 'PUT', url: `/v1/sessions/${randomUUID()}/input`, headers: { 'content-type': 'application/octet-stream' }, payload: Buffer.alloc(10 * IN_BYTES) }))).toEqual({ status: 401, code: 'E_UNAUTHENTICATED' });
  });

  it('compares tokens in constant time against every configured credential and answers the identity', () => {
    const who = clientAuthenticator(['first-token-aaaaaaaa'], [{ id: 'clinic-b', tokenSha256: tokenDigest('second-token-bbbbbbb').toString('hex') }]);
    expect([who('Bearer first-token-aaaaaaaa'), who('Bearer second-token-bbbbbbb'), who('bearer second-token-bbbbbbb')]).toEqual([clientIdOf('Bearer first-token-aaaaaaaa'), 'clinic-b', 'clinic-b']);
    expect([who(undefined), who(''), who('Bearer '), who('first-token-aaaaaaaa'), who('Bearer first-token-aaaaaaab'), who('Basic first-token-aaaaaaaa')]).toEqual([null, null, null, null, null, null]);
  });

  it('schema violations: 400 E_BAD_ARGUMENT (bad uuid, batch 0, batch above max, unknown field, not JSON)', async () => {
    for (const body of [{ sessionId: 'not-a-uuid' }, { sessionId: randomUUID(), batch: 0 }, { sessionId: randomUUID(), batch: 5 }, { sessionId: randomUUID(), extra: 1 }, {}]) {
      expect(codeOf(await create(0, body))).toEqual({ status: 400, code: 'E_BAD_ARGUMENT' });
    }
    const r = await app(0).inject({ method: 'POST', url: '/v1/sessions', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"sessionId": ' });
    expect(codeOf(r)).toEqual({ status: 400, code: 'E_BAD_ARGUMENT' });
  });

  it('a different model hash: 409 E_MODEL_MISMATCH', async () => {
    expect(codeOf(await create(1, { sessionId: randomUUID(), modelHash: 'ab'.repeat(32) }))).toEqual({ status: 409, code: 'E_MODEL_MISMATCH' });
  });

  it('a replayed session id: 409 E_CONFLICT', async () => {
    const id = await created();
    expect(codeOf(await create(0, { sessionId: id }))).toEqual({ status: 409, code: 'E_CONFLICT' });
    expect(codeOf(await create(0, { sessionId: id.toUpperCase() }))).toEqual({ status: 409, code: 'E_CONFLICT' });
  });

  it('unknown session: 404 E_NOT_FOUND for input, output and state', async () => {
    const id = randomUUID();
    expect(codeOf(await app(0).inject({ method: 'PUT', url: `/v1/sessions/${id}/input`, headers: octet, payload: Buffer.alloc(IN_BYTES) }))).toEqual({ status: 404, code: 'E_NOT_FOUND' });
    expect(codeOf(await app(1).inject({ method: 'GET', url: `/v1/sessions/${id}/output`, headers: auth }))).toEqual({ status: 404, code: 'E_NOT_FOUND' });
    expect(codeOf(await app(2).inject({ method: 'GET', url: `/v1/sessions/${id}`, headers: auth }))).toEqual({ status: 404, code: 'E_NOT_FOUND' });
    expect(codeOf(await app(0).inject({ method: 'GET', url: '/v1/nothing-here', headers: auth }))).toEqual({ status: 404, code: 'E_NOT_FOUND' });
  });

  it('input of the wrong length: 400 E_SHAPE; not a whole batch: E_SHAPE; the session still accepts the right one', async () => {
    const id = await created(2);
    for (const n of [IN_BYTES, 2 * IN_BYTES - 8, 2 * IN_BYTES + 3]) {
      expect(codeOf(await app(0).inject({ method: 'PUT', url: `/v1/sessions/${id}/input`, headers: octet, payload: Buffer.alloc(n) }))).toEqual({ status: 400, code: 'E_SHAPE' });
    }
    expect((await app(0).inject({ method: 'PUT', url: `/v1/sessions/${id}/input`, headers: octet, payload: Buffer.alloc(2 * IN_BYTES) })).statusCode).toBe(200);
  });

  it('a second input upload: 409 E_CONFLICT', async () => {
    const id = await created();
    const put = () => app(1).inject({ method: 'PUT', url: `/v1/sessions/${id}/input`, headers: octet, payload: Buffer.alloc(IN_BYTES) });
    expect((await put()).json()).toMatchObject({ sessionId: id, state: 'input-received', bytes: IN_BYTES });
    expect(codeOf(await put())).toEqual({ status: 409, code: 'E_CONFLICT' });
  });

  it('a body over input size x max batch: 413 E_TOO_LARGE (declared or streamed)', async () => {
    const id = await created();
    expect(codeOf(await app(0).inject({ method: 'PUT', url: `/v1/sessions/${id}/input`, headers: octet, payload: Buffer.alloc(4 * IN_BYTES + 8) }))).toEqual({ status: 413, code: 'E_TOO_LARGE' });
    expect(codeOf(await app(0).inject({ method: 'POST', url: '/v1/sessions', headers: { ...auth, 'content-type': 'application/json' }, payload: JSON.stringify({ sessionId: randomUUID(), pad: 'x'.repeat(20_000) }) }))).toEqual({ status: 413, code: 'E_TOO_LARGE' });
  });

  it('wrong content type for a share, or an input share sent to P2: 400 E_BAD_ARGUMENT', async () => {
    const id = await created();
    expect(codeOf(await app(0).inject({ method: 'PUT', url: `/v1/sessions/${id}/input`, headers: { ...auth, 'content-type': 'text/plain' }, payload: 'hello' }))).toEqual({ status: 400, code: 'E_BAD_ARGUMENT' });
    expect(codeOf(await app(2).inject({ method: 'PUT', url: `/v1/sessions/${id}/input`, headers: octet, payload: Buffer.alloc(IN_BYTES) }))).toEqual({ status: 400, code: 'E_BAD_ARGUMENT' });
  });

  describe('PUT input with x-session-create (session and share in one request)', () => {
    const putCreate = (p: 0 | 1 | 2, id: string, header: string | object, bytes: Uint8Array | number = IN_BYTES) => app(p).inject({
      method: 'PUT', url: `/v1/sessions/${id}/input`,
      headers: { ...octet, 'x-session-create': typeof header === 'string' ? header : JSON.stringify(header) },
      payload: typeof bytes === 'number' ? Buffer.alloc(bytes) : Buffer.from(bytes),
    });
    const stateOf = async (p: 0 | 1 | 2, id: string) => (await app(p).inject({ method: 'GET', url: `/v1/sessions/${id}`, headers: auth })).statusCode;

    it('creates the session with its share (201: model info, state, bytes); P2 by POST; the output reconstructs plainForward', async () => {
      const id = randomUUID();
      const x = uniform(seededPrg(5), 2 * 784, 0.5).map((v) => v + 0.5);
      const [x0, x1] = share(getKernels(), encode(x, F));
      expect((await create(2, { sessionId: id, batch: 2, modelHash: t.modelHash })).statusCode).toBe(201);
      for (const [p, xs] of [[0, x0], [1, x1]] as const) {
        const r = await putCreate(p, id, { batch: 2, modelHash: t.modelHash, deadlineMs: 30_000 }, u64Bytes(xs));
        expect(r.statusCode).toBe(201);
        expect(r.json()).toMatchObject({ sessionId: id, party: p, acceptsInput: true, inputShape: [784], outputShape: [10], fracBits: F, modelHash: t.modelHash, bytes: 2 * IN_BYTES });
      }
      const out = await finishSession(t, id, F);
      expect(out).toMatchObject({ ok: true, shape: '2,10' });
      const want = plainForward(model, x, 2).data;
      let err = 0;
      for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(out.logits![i]! - want[i]!));
      expect(err).toBeLessThan(1e-3);
    });

    it('refuses without creating anything: no modelHash, another model, bad JSON, unknown field, other session id, wrong share size, at P2', async () => {
      const cases: [0 | 1 | 2, string | object, number, { status: number; code: string }][] = [
        [0, { batch: 1 }, IN_BYTES, { status: 400, code: 'E_BAD_ARGUMENT' }],
        [1, { modelHash: 'ab'.repeat(32) }, IN_BYTES, { status: 409, code: 'E_MODEL_MISMATCH' }],
        [0, '{"modelHash": ', IN_BYTES, { status: 400, code: 'E_BAD_ARGUMENT' }],
        [0, { modelHash: t.modelHash, extra: 1 }, IN_BYTES, { status: 400, code: 'E_BAD_ARGUMENT' }],
        [0, { modelHash: t.modelHash, sessionId: randomUUID() }, IN_BYTES, { status: 400, code: 'E_BAD_ARGUMENT' }],
        [1, { modelHash: t.modelHash, batch: 2 }, IN_BYTES, { status: 400, code: 'E_SHAPE' }],
        [0, { modelHash: t.modelHash, batch: 9 }, IN_BYTES, { status: 400, code: 'E_BAD_ARGUMENT' }],
        [0, { modelHash: t.modelHash, pad: 'x'.repeat(5000) }, IN_BYTES, { status: 413, code: 'E_TOO_LARGE' }],
        [2, { modelHash: t.modelHash }, IN_BYTES, { status: 400, code: 'E_BAD_ARGUMENT' }],
      ];
      for (const [p, header, bytes, want] of cases) {
        const id = randomUUID();
        const r = await putCreate(p, id, header, bytes);
        expect(codeOf(r), JSON.stringify(header).slice(0, 80)).toEqual(want);
        // No half state: the session does not exist, and the id can still be created normally.
        expect(await stateOf(p, id)).toBe(404);
        expect((await create(p, { sessionId: id })).statusCode).toBe(201);
      }
    });

    it('with x-await-output: the same request answers the output share with the session response (envelope), or 201 if not done in time', async () => {
      const id = randomUUID();
      const x = uniform(seededPrg(6), 784, 0.5).map((v) => v + 0.5);
      const [x0, x1] = share(getKernels(), encode(x, F));
      const put = (p: 0 | 1, xs: BigUint64Array, wait: string) => app(p).inject({
        method: 'PUT', url: `/v1/sessions/${id}/input`,
        headers: { ...octet, 'x-session-create': JSON.stringify({ modelHash: t.modelHash }), 'x-await-output': wait }, payload: Buffer.from(u64Bytes(xs)),
      });
      expect((await create(2, { sessionId: id, modelHash: t.modelHash })).statusCode).toBe(201);
      const rs = await Promise.all([put(0, x0, '30000'), put(1, x1, '30000')]);
      const shares = rs.map((r, p) => {
        expect(r.statusCode).toBe(200);
        expect(r.headers).toMatchObject({ 'content-type': 'application/vnd.securenn.session-output', 'x-output-shape': '1,10', 'x-output-mode': 'logits', 'x-output-session': id });
        const body = r.rawPayload;
        const n = body.readUInt32LE(0);
        expect(JSON.parse(body.subarray(4, 4 + n).toString('utf8'))).toMatchObject({ sessionId: id, party: p, acceptsInput: true, outputShape: [10], fracBits: F, modelHash: t.modelHash, bytes: IN_BYTES });
        expect(body.length - 4 - n).toBe(10 * 8);
        const share = new BigUint64Array(10);
        new Uint8Array(share.buffer).set(body.subarray(4 + n));
        return share;
      });
      const y = reconstruct(getKernels(), shares[0]!, shares[1]!);
      const got = decode(y, F), want = plainForward(model, x, 1).data;
      for (let i = 0; i < 10; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-3);
      // The output stays fetchable by GET, as for any finished session.
      const got0 = await app(0).inject({ method: 'GET', url: `/v1/sessions/${id}/output`, headers: auth });
      expect(got0.statusCode).toBe(200);
      expect(got0.headers['x-output-session']).toBe(id); // the stored session's id: the SDK refuses a share of another session
      // Not done within the wait (P1's share never comes): the 201 of a plain create, and the session goes on.
      const late = randomUUID();
      const r = await app(0).inject({ method: 'PUT', url: `/v1/sessions/${late}/input`, headers: { ...octet, 'x-session-create': JSON.stringify({ modelHash: t.modelHash }), 'x-await-output': '30' }, payload: Buffer.alloc(IN_BYTES) });
      expect(r.statusCode).toBe(201);
      expect(r.json()).toMatchObject({ sessionId: late, party: 0, state: 'input-received' });
      // A session that fails while the request waits answers its error, as GET output would.
      const doomed = randomUUID();
      const d = await app(0).inject({ method: 'PUT', url: `/v1/sessions/${doomed}/input`, headers: { ...octet, 'x-session-create': JSON.stringify({ modelHash: t.modelHash, deadlineMs: 150 }), 'x-await-output': '30000' }, payload: Buffer.alloc(IN_BYTES) });
      expect(codeOf(d)).toEqual({ status: 504, code: 'E_DEADLINE' });
    });

    it('a bad x-await-output, or one without x-session-create: 400 E_BAD_ARGUMENT, nothing created', async () => {
      for (const [headers, what] of [
        [{ 'x-session-create': JSON.stringify({ modelHash: t.modelHash }), 'x-await-output': '-1' }, 'negative'],
        [{ 'x-session-create': JSON.stringify({ modelHash: t.modelHash }), 'x-await-output': '1e3' }, 'not an integer'],
        [{ 'x-session-create': JSON.stringify({ modelHash: t.modelHash }), 'x-await-output': '1234567890' }, 'ten digits'],
        [{ 'x-await-output': '100' }, 'without x-session-create'],
      ] as const) {
        const id = randomUUID();
        const r = await app(0).inject({ method: 'PUT', url: `/v1/sessions/${id}/input`, headers: { ...octet, ...headers }, payload: Buffer.alloc(IN_BYTES) });
        expect(codeOf(r), what).toEqual({ status: 400, code: 'E_BAD_ARGUMENT' });
        expect(await stateOf(0, id), what).toBe(404);
      }
    });

    it('an id that exists already: 409 E_CONFLICT, and the existing session keeps no share', async () => {
      const id = await created();
      expect(codeOf(await putCreate(0, id, { modelHash: t.modelHash }))).toEqual({ status: 409, code: 'E_CONFLICT' });
      expect((await app(0).inject({ method: 'GET', url: `/v1/sessions/${id}`, headers: auth })).json()).toMatchObject({ state: 'created' });
    });
  });

  it('GET output with waitMs answers 202 with the state while the session is not done', async () => {
    const id = await created();
    const r = await app(0).inject({ method: 'GET', url: `/v1/sessions/${id}/output?waitMs=20`, headers: auth });
    expect(r.statusCode).toBe(202);
    expect(r.json()).toEqual({ sessionId: id, state: 'created' });
  });

  it('every error body is an ApiError with a registered code and the status of that code', async () => {
    const rs = [await create(0, {}), await create(0, {}, {}), await app(0).inject({ method: 'GET', url: `/v1/sessions/${randomUUID()}/output`, headers: auth })];
    for (const r of rs) {
      const body = r.json() as { code: keyof typeof ERROR_CODES; message: string; party: number };
      expect(Object.keys(ERROR_CODES)).toContain(body.code);
      expect(r.statusCode).toBe(ERROR_CODES[body.code].http);
      expect(typeof body.message).toBe('string');
      expect(body.party).toBe(0);
    }
  });

  it('health, readiness and metrics need no token; readiness is true with the model loaded and peers up', async () => {
    expect((await app(1).inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok', party: 1 });
    expect((await app(2).inject({ method: 'GET', url: '/readyz' })).json()).toMatchObject({ ready: true, modelLoaded: true, peers: { P0: true, P1: true } });
    const m = await app(0).inject({ method: 'GET', url: '/metrics' });
    expect(m.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(m.body).toMatch(/^# TYPE mpc_errors_total counter$/m);
    expect(m.body).toMatch(/^mpc_errors_total\{code="E_UNAUTHENTICATED",source="http"\} [1-9]/m);
  });

  it('CORS: answers the demo origin\'s preflight and exposes the output-shape and output-mode headers; other origins get no CORS headers', async () => {
    const pre = await app(1).inject({ method: 'OPTIONS', url: `/v1/sessions/${randomUUID()}/input`, headers: { origin: 'http://demo.local', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization, content-type' } });
    expect(pre.statusCode).toBe(204);
    expect(pre.headers).toMatchObject({ 'access-control-allow-origin': 'http://demo.local', 'access-control-allow-methods': expect.stringContaining('PUT'), 'access-control-allow-headers': expect.stringMatching(/authorization.*x-session-create.*x-await-output/) });
    const get = await app(1).inject({ method: 'GET', url: '/healthz', headers: { origin: 'http://demo.local' } });
    expect(get.headers['access-control-expose-headers']).toBe('x-output-shape, x-output-mode, x-output-kind, x-output-session, x-range-sentinel');
    // Also on errors, so the page can read the ApiError.
    const denied = await app(1).inject({ method: 'POST', url: '/v1/sessions', headers: { origin: 'http://demo.local' }, payload: {} });
    expect(denied.statusCode).toBe(401);
    expect(denied.headers['access-control-allow-origin']).toBe('http://demo.local');
    const other = await app(1).inject({ method: 'GET', url: '/healthz', headers: { origin: 'http://evil.example' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('serves the demo folder at / (index.html, files, no path traversal)', async () => {
    const idx = await app(0).inject({ method: 'GET', url: '/' });
    expect(idx.statusCode).toBe(200);
    expect(idx.headers['content-type']).toMatch(/^text\/html/);
    expect(idx.body).toContain('<title>demo</title>');
    expect((await app(0).inject({ method: 'GET', url: '/app.js' })).headers['content-type']).toMatch(/^text\/javascript/);
    const cfg = await app(0).inject({ method: 'GET', url: '/config.json' });
    expect(cfg.headers['content-type']).toMatch(/^application\/json/);
    expect(cfg.json()).toEqual({ parties: [] });
    for (const url of ['/../package.json', '/..%2f..%2fpackage.json', '/%2e%2e/%2e%2e/etc/passwd', '/missing.js']) {
      expect((await app(0).inject({ method: 'GET', url })).statusCode).toBe(404);
    }
  });

  it('logs sizes, ids, codes and timings, never share values or the token', async () => {
    const N = 1;
    const x = new Float64Array(784).fill(0.123456789);
    const id = await startSession(t, x, N, F);
    const fin = await finishSession(t, id, F);
    expect({ ok: fin.ok, codes: fin.codes }).toEqual({ ok: true, codes: [] });
    const text = logs.join('');
    expect(text).toContain('"msg":"run done"');
    expect(text).toContain('"msg":"input share received"');
    expect(text).not.toContain(t.token);
    // Session ids appear only as keyed hashes (log.ts sessionTag), never as themselves.
    expect(text).not.toContain(id);
    expect(text).toContain(`"session":"${sessionTag(id)}"`);
    // No long numbers (u64 shares, fixed-point values) besides the timestamp field.
    for (const line of text.split('\n').filter(Boolean)) {
      const o = JSON.parse(line) as Record<string, unknown>;
      delete o.time;
      // Ids (uuids) and the model hash are hex; strip them, then look for long decimal runs.
      const rest = JSON.stringify(o).replace(/"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"/g, '"<id>"').replace(/"s:[0-9a-f]{12}"/g, '"<tag>"').replace(/"[0-9a-f]{64}"/g, '"<hash>"');
      expect(rest).not.toMatch(/\d{10,}/);
    }
  });
});

describe('HTTPS client API with a required client certificate', () => {
  it('answers a client presenting the CA-signed client certificate and refuses one without', async () => {
    const c = testCerts();
    const cfg = resolveConfig({
      tokens: [TEST_TOKEN],
      parties: [
        { http: { host: '127.0.0.1', port: 0, tls: { cert: c.parties[0].cert, key: c.parties[0].key, ca: c.ca.cert, requireClientCert: true } }, grpc: { host: '127.0.0.1', port: 0 }, tls: { ca: c.ca.cert, cert: c.parties[0].cert, key: c.parties[0].key }, model: { devFile: 'unused' } },
        { http: { host: '127.0.0.1', port: 0 }, grpc: { host: '127.0.0.1', port: 0 }, model: { devFile: 'unused' } },
        { http: { host: '127.0.0.1', port: 0 }, model: { devFile: 'unused' } },
      ],
    }, 0, process.cwd());
    const srv = createPartyServer(cfg, { model: { kind: 'memory', bundle: shareBundles(networkA(), F)[0] }, logger: false });
    try {
      await srv.start();
      const { httpPort } = await srv.listen();
      const get = (withCert: boolean) => new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: httpPort, path: '/v1/model', servername: 'localhost', ca: readFileSync(c.ca.cert), headers: { authorization: `Bearer ${TEST_TOKEN}` },
          ...(withCert ? { cert: readFileSync(c.client.cert), key: readFileSync(c.client.key) } : {}) }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
        req.on('error', reject);
        req.end();
      });
      expect(await get(true)).toBe(200);
      await expect(get(false)).rejects.toThrow();
    } finally {
      await srv.close();
    }
  });
});

describe('readiness without a model', () => {
  it('/readyz is 503 (modelLoaded false) and sessions are refused with E_NOT_READY when the model cannot be loaded', async () => {
    const cfg = resolveConfig({
      tokens: [TEST_TOKEN], insecureLocal: true,
      parties: [
        { http: { host: '127.0.0.1', port: 0 }, grpc: { host: '127.0.0.1', port: 0 }, model: { devFile: '/nonexistent/party-0.model' } },
        { http: { host: '127.0.0.1', port: 0 }, grpc: { host: '127.0.0.1', port: 0 }, model: { devFile: 'unused' } },
        { http: { host: '127.0.0.1', port: 0 }, model: { devFile: 'unused' } },
      ],
    }, 0, process.cwd());
    const srv = createPartyServer(cfg, { logger: false });
    try {
      expect(await srv.start()).toEqual({ grpcPort: null });
      expect(srv.party.modelError?.code).toBe('E_MODEL_FORMAT');
      const r = await srv.app.inject({ method: 'GET', url: '/readyz' });
      expect(r.statusCode).toBe(503);
      expect(r.json()).toMatchObject({ ready: false, modelLoaded: false, code: 'E_NOT_READY' });
      const c = await srv.app.inject({ method: 'POST', url: '/v1/sessions', headers: auth, payload: { sessionId: randomUUID() } });
      expect(c.json()).toMatchObject({ code: 'E_NOT_READY' });
      expect(c.statusCode).toBe(503);
    } finally {
      await srv.close();
    }
  });
});
