/**
 * A session belongs to the client that created it: another client (or the
 * same token without the session's key) gets exactly the answer of an
 * unknown id; per-party credentials keep a party from acting as the client at
 * another party; resources are bounded per client; slow bodies are cut; used
 * ids stay refused across a restart.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SESSION_KEY_HEADER } from '../protocol/api-contract.js';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { getKernels } from '../protocol/kernels/index.js';
import { plainForward } from '../protocol/reference/forward.js';
import { bytesU64, reconstruct, share, u64Bytes } from '../protocol/sharing/sharing.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';
import { Batcher } from './batcher.js';
import { tokenDigest } from './client-auth.js';
import { IdJournal } from './id-journal.js';
import { sessionKeyHash, SessionStore } from './sessions.js';
import { partyTrio, TEST_TOKEN, type PartyTrio } from './testing/trio.js';

const F = 16;
const OTHER_TOKEN = 'other-client-token-0123456789';
const KEY_A = 'client-a-session-key-0123456789abcdefghijkl';
const KEY_B = 'client-b-session-key-0123456789abcdefghijkl';
const as = (token: string, key: string, more: Record<string, string> = {}) => ({ authorization: `Bearer ${token}`, [SESSION_KEY_HEADER]: key, ...more });
const octet = { 'content-type': 'application/octet-stream' };

describe('sessions belong to their client', () => {
  const model = networkA();
  let t: PartyTrio;
  beforeAll(async () => { t = await partyTrio({ plain: model, fracBits: F, tokens: [OTHER_TOKEN] }); });
  afterAll(async () => { await t?.close(); });
  const app = (p: 0 | 1 | 2) => t.servers[p].app;
  const x = Float64Array.from(uniform(seededPrg(7), 784, 1), (v) => (v + 1) / 2);
  const shares = () => share(getKernels(), encode(x, F));
  const want = plainForward(model, x, 1).data;

  async function create(id: string, token: string, key: string): Promise<void> {
    for (const p of [0, 1, 2] as const) {
      const r = await app(p).inject({ method: 'POST', url: '/v1/sessions', headers: as(token, key), payload: { sessionId: id, modelHash: t.modelHash } });
      expect(r.statusCode, r.body).toBe(201);
    }
  }
  const output = (p: 0 | 1, id: string, token: string, key: string) => app(p).inject({ method: 'GET', url: `/v1/sessions/${id}/output?waitMs=5000`, headers: as(token, key) });
  /** The answer to a request about an id nobody created, with the id replaced by `id`, for comparison. */
  const unknownAnswer = async (p: 0 | 1 | 2, url: (id: string) => string, id: string, method: 'GET' | 'PUT' = 'GET') => {
    const ghost = randomUUID();
    const r = await app(p).inject({ method, url: url(ghost), headers: { ...as(OTHER_TOKEN, KEY_B), ...(method === 'PUT' ? octet : {}) }, ...(method === 'PUT' ? { payload: Buffer.alloc(784 * 8) } : {}) });
    return { status: r.statusCode, body: r.body.replaceAll(ghost, id) };
  };

  it('another client cannot read a session\'s output, state or run, even with its id and key: the same 404 as an unknown id', async () => {
    const id = randomUUID();
    await create(id, TEST_TOKEN, KEY_A);
    const [x0, x1] = shares();
    for (const [p, xs] of [[0, x0], [1, x1]] as const) {
      expect((await app(p).inject({ method: 'PUT', url: `/v1/sessions/${id}/input`, headers: as(TEST_TOKEN, KEY_A, octet), payload: Buffer.from(u64Bytes(xs)) })).statusCode).toBe(200);
    }
    const own = await Promise.all([output(0, id, TEST_TOKEN, KEY_A), output(1, id, TEST_TOKEN, KEY_A)]);
    expect(own.map((r) => r.statusCode)).toEqual([200, 200]);
    const y = decode(reconstruct(getKernels(), bytesU64(new Uint8Array(own[0]!.rawPayload)), bytesU64(new Uint8Array(own[1]!.rawPayload))), F);
    expect(Math.max(...Array.from(y, (v, i) => Math.abs(v - want[i]!)))).toBeLessThan(1e-3);

    // Client B (another token), with A's id and even A's key; and A's own token without the key or with another.
    for (const [token, key] of [[OTHER_TOKEN, KEY_A], [OTHER_TOKEN, KEY_B], [TEST_TOKEN, KEY_B]] as const) {
      for (const p of [0, 1] as const) {
        const r = await output(p, id, token, key);
        expect({ status: r.statusCode, body: r.body }).toEqual(await unknownAnswer(p, (i) => `/v1/sessions/${i}/output?waitMs=5000`, id));
      }
      for (const p of [0, 1, 2] as const) {
        for (const url of [(i: string) => `/v1/sessions/${i}`, (i: string) => `/v1/sessions/${i}/run`]) {
          const r = await app(p).inject({ method: 'GET', url: url(id), headers: as(token, key) });
          expect({ status: r.statusCode, body: r.body }).toEqual(await unknownAnswer(p, url, id));
        }
      }
    }
    const noKey = await app(0).inject({ method: 'GET', url: `/v1/sessions/${id}/output`, headers: { authorization: `Bearer ${TEST_TOKEN}` } });
    expect(noKey.statusCode).toBe(404);
  });

  it('another client cannot feed a session: its input is refused as for an unknown id, and the owner\'s result is its own', async () => {
    const id = randomUUID();
    await create(id, TEST_TOKEN, KEY_A);
    const junk = Buffer.alloc(784 * 8, 0xab);
    const injected = await app(1).inject({ method: 'PUT', url: `/v1/sessions/${id}/input`, headers: as(OTHER_TOKEN, KEY_A, octet), payload: junk });
    expect({ status: injected.statusCode, body: injected.body }).toEqual(await unknownAnswer(1, (i) => `/v1/sessions/${i}/input`, id, 'PUT'));
    const [x0, x1] = shares();
    for (const [p, xs] of [[0, x0], [1, x1]] as const) {
      const r = await app(p).inject({ method: 'PUT', url: `/v1/sessions/${id}/input`, headers: as(TEST_TOKEN, KEY_A, octet), payload: Buffer.from(u64Bytes(xs)) });
      expect(r.statusCode, r.body).toBe(200);
    }
    const own = await Promise.all([output(0, id, TEST_TOKEN, KEY_A), output(1, id, TEST_TOKEN, KEY_A)]);
    const y = decode(reconstruct(getKernels(), bytesU64(new Uint8Array(own[0]!.rawPayload)), bytesU64(new Uint8Array(own[1]!.rawPayload))), F);
    expect(Math.max(...Array.from(y, (v, i) => Math.abs(v - want[i]!)))).toBeLessThan(1e-3);
  });

  it('creating a session needs a well-formed session key (400, nothing created)', async () => {
    const id = randomUUID();
    for (const key of [undefined, 'short', `${KEY_A}x`, `${KEY_A.slice(0, 42)}+`]) {
      const r = await app(0).inject({ method: 'POST', url: '/v1/sessions', headers: { authorization: `Bearer ${TEST_TOKEN}`, ...(key ? { [SESSION_KEY_HEADER]: key } : {}) }, payload: { sessionId: id } });
      expect(r.statusCode).toBe(400);
      expect(r.json()).toMatchObject({ code: 'E_BAD_ARGUMENT', message: expect.stringContaining(SESSION_KEY_HEADER) });
    }
    // Nothing was created: the id is still free.
    expect((await app(0).inject({ method: 'POST', url: '/v1/sessions', headers: as(TEST_TOKEN, KEY_A), payload: { sessionId: id } })).statusCode).toBe(201);
  });
});

describe('per-party client credentials', () => {
  // The client's token at each party; each party knows only the SHA-256 of its own.
  const tok = ['clinic-token-at-p0-0123456789', 'clinic-token-at-p1-0123456789', 'clinic-token-at-p2-0123456789'] as const;
  let t: PartyTrio;
  beforeAll(async () => {
    const entry = (p: number) => [{ id: 'clinic-a', tokenSha256: tokenDigest(tok[p]!).toString('hex') }];
    t = await partyTrio({ plain: networkA(), fracBits: F, clients: [entry(0), entry(1), entry(2)] });
  });
  afterAll(async () => { await t?.close(); });

  it('a token is valid at its own party only: P2 replaying a logged id with the token it holds gets 401 at P0 and P1', async () => {
    const id = randomUUID();
    for (const p of [0, 1, 2] as const) {
      const r = await t.servers[p].app.inject({ method: 'POST', url: '/v1/sessions', headers: as(tok[p], KEY_A), payload: { sessionId: id } });
      expect(r.statusCode, r.body).toBe(201);
    }
    // What P2's operator holds: the client's token at P2 (and the id, had it been logged).
    for (const p of [0, 1] as const) {
      for (const url of [`/v1/sessions/${id}/output`, `/v1/sessions/${id}`]) {
        const r = await t.servers[p].app.inject({ method: 'GET', url, headers: as(tok[2], KEY_A) });
        expect({ status: r.statusCode, code: (r.json() as { code: string }).code }).toEqual({ status: 401, code: 'E_UNAUTHENTICATED' });
      }
    }
    // The session's owner at each party is the enrolled client's id, which the accountant also uses.
    expect(t.servers[0].party.store.get(id)?.owner).toBe('clinic-a');
    const budget = await t.servers[1].app.inject({ method: 'GET', url: '/v1/privacy/budget', headers: { authorization: `Bearer ${tok[1]}` } });
    expect(budget.json()).toMatchObject({ client: 'clinic-a' });
  });
});

describe('bounded resources', () => {
  it('one client flooding sessions hits its quota (429 E_QUOTA) while another client is still served', async () => {
    const t = await partyTrio({ plain: networkA(), fracBits: F, tokens: [OTHER_TOKEN], sessions: { maxSessions: 8, maxPerClient: 4 } });
    try {
      const post = (token: string, id: string) => t.servers[1].app.inject({ method: 'POST', url: '/v1/sessions', headers: as(token, KEY_A), payload: { sessionId: id } });
      const flood = [];
      for (let i = 0; i < 6; i++) flood.push((await post(OTHER_TOKEN, randomUUID())).statusCode);
      expect(flood).toEqual([201, 201, 201, 201, 429, 429]);
      const refused = await post(OTHER_TOKEN, randomUUID());
      expect(refused.json()).toMatchObject({ code: 'E_QUOTA' });
      expect(refused.body).not.toContain(OTHER_TOKEN);
      expect((await post(TEST_TOKEN, randomUUID())).statusCode).toBe(201);
    } finally {
      await t.close();
    }
  });

  it('the batcher takes queued sessions round-robin over their clients: one client\'s backlog does not delay another\'s session', async () => {
    const runs: string[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const b = new Batcher<{ id: string; batch: number; owner: string }>({ windowMs: 0, maxBatch: 2, maxConcurrentRuns: 1 }, async (items) => { runs.push(items.map((i) => i.id)); await gate; });
    // The first run takes a1 at once and holds the only run slot; then a2..a6 and b1 queue.
    b.add({ id: 'a1', batch: 1, owner: 'A' });
    for (let i = 2; i <= 6; i++) b.add({ id: `a${i}`, batch: 1, owner: 'A' });
    b.add({ id: 'b1', batch: 1, owner: 'B' });
    release();
    await new Promise((r) => setTimeout(r, 50));
    b.close();
    expect(runs[0]).toEqual(['a1']);
    // The next run has A's oldest and B's only session, not a2 and a3.
    expect(runs[1]).toEqual(['a2', 'b1']);
  });

  it('a body trickled slower than http.requestMs is cut with 408 E_TIMEOUT (with a token), and a tokenless one is answered 401 and closed', async () => {
    const t = await partyTrio({ plain: networkA(), fracBits: F, http: { requestMs: 1_000 } });
    try {
      const { httpPort } = await t.servers[0].listen();
      const trickle = (headers: string) => new Promise<{ text: string; ms: number }>((resolve) => {
        const t0 = Date.now();
        const s = connect(httpPort, '127.0.0.1');
        let text = '';
        s.on('data', (d) => { text += d.toString('utf8'); });
        s.on('error', () => undefined);
        const timer = setInterval(() => { if (!s.destroyed) s.write('x'); }, 200);
        const stop = setTimeout(() => s.destroy(), 15_000);
        s.on('close', () => { clearInterval(timer); clearTimeout(stop); resolve({ text, ms: Date.now() - t0 }); });
        s.write(`PUT /v1/sessions/${randomUUID()}/input HTTP/1.1\r\nHost: x\r\n${headers}Content-Type: application/octet-stream\r\nContent-Length: 6272\r\n\r\n`);
      });
      const [withToken, without] = await Promise.all([trickle(`Authorization: Bearer ${TEST_TOKEN}\r\n${SESSION_KEY_HEADER}: ${KEY_A}\r\n`), trickle('')]);
      expect(withToken.text).toMatch(/^HTTP\/1\.1 408/);
      expect(withToken.text).toContain('"code":"E_TIMEOUT"');
      expect(withToken.ms).toBeLessThan(8_000);
      expect(without.text).toMatch(/^HTTP\/1\.1 401/);
      expect(without.text).toContain('"code":"E_UNAUTHENTICATED"');
      expect(without.ms).toBeLessThan(8_000);
    } finally {
      await t.close();
    }
  });

  it('requests through app.inject (mock socket) leave no body timer behind: nothing is thrown after http.requestMs', async () => {
    const t = await partyTrio({ plain: networkA(), fracBits: F, http: { requestMs: 1_000 } });
    const thrown: unknown[] = [];
    const onErr = (e: unknown): void => { thrown.push(e); };
    process.prependListener('uncaughtException', onErr);
    try {
      const r = await t.servers[0].app.inject({ method: 'GET', url: '/v1/model', headers: { authorization: `Bearer ${TEST_TOKEN}` } });
      expect(r.statusCode).toBe(200);
      const put = await t.servers[0].app.inject({ method: 'PUT', url: `/v1/sessions/${randomUUID()}/input`, headers: { authorization: `Bearer ${TEST_TOKEN}`, [SESSION_KEY_HEADER]: KEY_A, 'content-type': 'application/octet-stream' }, payload: Buffer.alloc(8) });
      expect(put.statusCode).toBeGreaterThanOrEqual(400);
      await new Promise((res) => setTimeout(res, 1_500));
      expect(thrown).toEqual([]);
    } finally {
      process.removeListener('uncaughtException', onErr);
      await t.close();
    }
  });

  it('an upload the client aborts is a client error (info, E_TIMEOUT), not an internal one: nothing logged at error level', async () => {
    const lines: string[] = [];
    const stream = new Writable({ write(chunk: Buffer, _e, cb) { lines.push(chunk.toString('utf8')); cb(); } });
    const t = await partyTrio({ plain: networkA(), fracBits: F, logger: () => ({ level: 'info', stream }) });
    try {
      const id = randomUUID();
      for (const p of [0, 1, 2] as const) await t.servers[p].app.inject({ method: 'POST', url: '/v1/sessions', headers: as(TEST_TOKEN, KEY_A), payload: { sessionId: id } });
      const { httpPort } = await t.servers[0].listen();
      await new Promise<void>((resolve) => {
        const s = connect(httpPort, '127.0.0.1');
        s.on('error', () => undefined);
        s.on('close', () => resolve());
        s.write(`PUT /v1/sessions/${id}/input HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_TOKEN}\r\n${SESSION_KEY_HEADER}: ${KEY_A}\r\nContent-Type: application/octet-stream\r\nContent-Length: 6272\r\n\r\n${'x'.repeat(1000)}`);
        setTimeout(() => s.destroy(), 200);
      });
      // Until the party has logged the abort (a fixed 300 ms sleep alone can end first on a loaded machine), then
      // 300 ms more, as before, for a late error-level line.
      await vi.waitFor(() => { if (!lines.some((l) => (JSON.parse(l) as { code?: string }).code === 'E_TIMEOUT')) throw new Error('the abort is not logged yet'); }, { timeout: 10_000, interval: 20 });
      await new Promise((r) => setTimeout(r, 300));
      const logged = lines.map((l) => JSON.parse(l) as { level: number; msg: string; code?: string });
      expect(logged.filter((l) => l.level >= 50)).toEqual([]);
      expect(logged.some((l) => l.code === 'E_TIMEOUT')).toBe(true);
      // The session still waits for its input.
      expect(t.servers[0].party.store.get(id)?.state).toBe('created');
    } finally {
      await t.close();
    }
  });

  it('low-level HTTP errors (a body shorter than its Content-Length, an undecodable URL) answer the documented { code, message, party }', async () => {
    const t = await partyTrio({ plain: networkA(), fracBits: F });
    try {
      const { httpPort } = await t.servers[1].listen();
      const raw = (req: string) => new Promise<string>((resolve) => {
        const s = connect(httpPort, '127.0.0.1');
        let text = '';
        s.on('data', (d) => { text += d.toString('utf8'); });
        s.on('error', () => undefined);
        s.on('close', () => resolve(text));
        s.end(req);
      });
      const bodyOf = (text: string) => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
      const badLength = await raw('POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n');
      expect(badLength).toMatch(/^HTTP\/1\.1 400/);
      expect(Object.keys(bodyOf(badLength)).sort()).toEqual(['code', 'message', 'party']);
      expect(bodyOf(badLength)).toMatchObject({ code: 'E_BAD_ARGUMENT', party: 1 });
      const badUrl = await raw(`GET /v1/sessions/%E0%A4%A HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_TOKEN}\r\nConnection: close\r\n\r\n`);
      expect(badUrl).toMatch(/^HTTP\/1\.1 400/);
      expect(bodyOf(badUrl)).toMatchObject({ code: 'E_BAD_ARGUMENT', party: 1 });
    } finally {
      await t.close();
    }
  });
});

describe('used session ids stay refused across a restart (sessions.idJournal)', () => {
  it('a store opened again on the same journal refuses an id used before; the file holds no id', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'securenn-ids-')), 'state', 'ids-p1.log');
    const opts = { maxSessions: 10, maxPerClient: 10, retentionMs: 60_000, tombstoneMs: 3_600_000, maxTombstones: 100 };
    const id = randomUUID();
    const j1 = IdJournal.open(file, 3_600_000);
    const before = new SessionStore(opts, () => undefined, j1);
    before.create(id, 1, 10_000, 'clinic-a', sessionKeyHash(KEY_A));
    await j1.flush();
    before.close();
    // The restart: a new journal and store on the same file.
    const j2 = IdJournal.open(file, 3_600_000);
    const after = new SessionStore(opts, () => undefined, j2);
    expect(() => after.create(id, 1, 10_000, 'clinic-b', sessionKeyHash(KEY_B))).toThrow(expect.objectContaining({ code: 'E_CONFLICT' }));
    expect(() => after.create(randomUUID(), 1, 10_000, 'clinic-b', sessionKeyHash(KEY_B))).not.toThrow();
    after.close();
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(file, 'utf8')).not.toContain(id);
    // Entries older than the journal's horizon are dropped when it is opened.
    const j3 = IdJournal.open(file, 0);
    expect(j3.has(id)).toBe(false);
  });
});
