/**
 * The malicious mode served by three in-process party servers over the mTLS
 * mesh (parties/malicious-desk.ts, http-malicious.ts): Network A through the
 * HTTP routes against the plaintext reference, one image and a batch of 3; a party started with the
 * test-only cheating switch makes every party answer E_INTEGRITY (502) and
 * the client reconstructs nothing, then an honest session succeeds; the
 * refusals (no replicated weights, a semi-honest party, the switch outside
 * tests, unknown or foreign sessions, a d of the wrong length, a model policy
 * with a label mode or DP noise, a semi-honest session naming what it asked
 * for).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { maskedInput, reconstructOutput } from '../client-sdk/src/malicious-io.js';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { addCost } from '../protocol/primitives/cost.js';
import { inputMaskCost, outputToClientCost } from '../protocol/malicious/client-io.js';
import { malForwardCost } from '../protocol/malicious/runner.js';
import { setupCost } from '../protocol/malicious/session.js';
import { epochSetupCost } from '../protocol/malicious/epoch.js';
import { MpcError } from '../protocol/errors.js';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../protocol/ir.js';
import { plainForward } from '../protocol/reference/forward.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';
import { CHEAT_ENV, cheatSwitch } from './malicious-desk.js';
import { unservedFeatures } from './malicious-refusals.js';
import { shareBundles } from './model-source.js';
import { loadReplicatedModel } from './replicated-source.js';
import { sessionKeyHash } from './sessions.js';
import { auth, partyTrio, TEST_SESSION_KEY, TEST_TOKEN, type PartyTrio } from './testing/trio.js';
import { nodeFetch, PrivateInferenceClient, type ModelInfo } from '../client-sdk/src/index.js';

const F = 13;
const model = networkA();
type Three = [Uint8Array, Uint8Array, Uint8Array];

const argmax = (v: ArrayLike<number>): number => Array.from(v).reduce((b, x, i, a) => (x > a[b]! ? i : b), 0);

async function masks(t: PartyTrio, id: string, headers: Record<string, string> = auth) {
  return Promise.all(t.servers.map((s) => s.app.inject({ method: 'POST', url: `/v1/malicious/${id}/mask`, headers })));
}

async function inputs(t: PartyTrio, id: string, d: Uint8Array | Uint8Array[]) {
  return Promise.all(t.servers.map((s, p) => s.app.inject({ method: 'POST', url: `/v1/malicious/${id}/input`, headers: { ...auth, 'content-type': 'application/octet-stream' }, payload: Buffer.from(Array.isArray(d) ? d[p]! : d) })));
}

const bytesOf = (r: { rawPayload: Buffer }): Uint8Array => new Uint8Array(r.rawPayload);

/** One prediction through the routes; the replies of the input step. */
async function predict(t: PartyTrio, x: Float64Array) {
  const id = randomUUID();
  const m = await masks(t, id);
  expect(m.map((r) => r.statusCode)).toEqual([200, 200, 200]);
  const d = maskedInput(encode(x, F), m.map(bytesOf) as Three);
  return inputs(t, id, d);
}

describe("security 'malicious' served by the party servers (mTLS mesh, HTTP routes)", () => {
  const x = uniform(seededPrg(5), 784, 0.5).map((v) => v + 0.5);
  const want = plainForward(model, x, 1).data;
  let t: PartyTrio | undefined;
  afterAll(async () => { await t?.close(); });

  it('Network A: the client reconstructs the plaintext reference within the fixed-point tolerance, same argmax', async () => {
    t = await partyTrio({ plain: model, fracBits: F, security: 'malicious', tls: true });
    const out = await predict(t, x);
    expect(out.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect(out[0]!.headers['x-output-shape']).toBe('1,10');
    const y = decode(reconstructOutput(out.map(bytesOf) as Three, 10), F);
    const scale = Math.max(...Array.from(want, Math.abs));
    expect(Math.max(...Array.from(y, (g, i) => Math.abs(g - want[i]!))) / scale).toBeLessThan(2e-2);
    expect(argmax(y)).toBe(argmax(want));
    // Nothing is left open at any party.
    for (const s of t.servers) expect(s.party.malDesk.open).toBe(0);
    // The served run's traffic is the declared cost of its steps (the hello and the pair seeds are set-up messages, not counted); the first session of a model also sets up the epoch.
    const weights = model.nodes.reduce((a, nd) => a + ('kernel' in nd && nd.kernel ? nd.kernel.data.length + (nd.bias?.data.length ?? 0) : 0), 0);
    const declared = addCost(epochSetupCost(weights), setupCost(), inputMaskCost(784), malForwardCost(model, 1, F), outputToClientCost());
    const last = t.servers.map((s) => s.party.malDesk.last!);
    expect(last.reduce((a, l) => a + l.bytesSent, 0)).toBe(declared.bytes);
    expect(Math.max(...last.map((l) => l.rounds))).toBe(declared.rounds);
  }, 120_000);

  it('the SDK sends its deadline with the mask step where the three parties announce maliciousDeadline, not otherwise', async () => {
    t ??= await partyTrio({ plain: model, fracBits: F, security: 'malicious', tls: true });
    // Listening already when another test of this trio made it listen.
    const ports = await Promise.all(t.servers.map(async (s) => { const a = s.app.server.address(); return a && typeof a === 'object' ? a.port : (await s.listen()).httpPort; }));
    const urls: string[] = [];
    const spy = (async (input: RequestInfo | URL, init?: RequestInit) => { urls.push(String(input instanceof Request ? input.url : input)); return fetch(input, init); }) as typeof fetch;
    const client = () => new PrivateInferenceClient({ parties: ports.map((p) => `http://127.0.0.1:${p}`), token: TEST_TOKEN, timeoutMs: 60_000, fetch: spy });
    const masksSent = () => urls.filter((u) => /\/v1\/malicious\/[^/]+\/mask/.test(u));
    const r = await client().predict({ data: Float32Array.from(x), shape: [784] }, { requireSecurity: 'malicious' });
    expect(r.model.maliciousDeadline).toBe(true);
    expect(masksSent()).toHaveLength(3);
    for (const u of masksSent()) expect(Number(/[?&]deadlineMs=(\d+)/.exec(u)?.[1])).toBeGreaterThan(50_000);
    // One party that does not announce it (an older build would refuse the parameter): nothing sent.
    urls.length = 0;
    const info = t.servers[2].party.model!.info as { maliciousDeadline?: boolean };
    delete info.maliciousDeadline;
    try {
      const r2 = await client().predict({ data: Float32Array.from(x), shape: [784] }, { requireSecurity: 'malicious' });
      expect(r2.model.maliciousDeadline).toBeUndefined();
      expect(masksSent()).toHaveLength(3);
      for (const u of masksSent()) expect(u).not.toContain('deadlineMs');
    } finally { info.maliciousDeadline = true; }
  }, 120_000);

  it('the SDK: predict takes the malicious flow when the parties announce it (first call: their refusal of a semi-honest session; then the known announcement; requireSecurity)', async () => {
    t ??= await partyTrio({ plain: model, fracBits: F, security: 'malicious', tls: true });
    const ports = await Promise.all(t.servers.map(async (s) => { const a = s.app.server.address(); return a && typeof a === 'object' ? a.port : (await s.listen()).httpPort; }));
    const c = new PrivateInferenceClient({ parties: ports.map((p) => `http://127.0.0.1:${p}`), token: TEST_TOKEN, timeoutMs: 60_000 });
    const scale = Math.max(...Array.from(want, Math.abs));
    for (const opts of [{}, {}, { requireSecurity: 'malicious' as const }]) {
      const r = await c.predict({ data: Float32Array.from(x), shape: [784] }, opts);
      expect(r.model.security).toBe('malicious');
      expect(r.index).toBe(argmax(want));
      expect(Math.max(...r.logits.map((g, i) => Math.abs(g - want[i]!))) / scale).toBeLessThan(2e-2);
    }
    // A batch: one malicious session of two images; each equals its plaintext reference.
    const x2 = uniform(seededPrg(6), 784, 0.5).map((v) => v + 0.5);
    const want2 = plainForward(model, x2, 1).data;
    const b = await c.predict([{ data: Float32Array.from(x), shape: [784] }, { data: Float32Array.from(x2), shape: [784] }], { batch: true });
    expect(b.model.security).toBe('malicious');
    if (!('logits' in b) || !Array.isArray(b.logits[0])) throw new Error('expected a batch of logits');
    const rows = b.logits as number[][];
    expect(rows).toHaveLength(2);
    for (const [row, w] of [[rows[0]!, want], [rows[1]!, want2]] as const) {
      expect(Math.max(...row.map((g, i) => Math.abs(g - w[i]!))) / scale).toBeLessThan(2e-2);
      expect(argmax(row)).toBe(argmax(w));
    }
    // What the malicious mode does not serve yet is refused before anything is sent.
    await expect(c.predict({ data: Float32Array.from(x), shape: [784] }, { privacy: { outputMode: 'label' } })).rejects.toMatchObject({ code: 'E_SECURITY_MODE' });
    // A client that pinned the model while the parties ran semi-honest (as if they switched since): its one request per
    // party (PUT input with x-session-create) is refused, and the malicious flow, with the same session id, answers.
    const announced = await c.describe();
    const sent: string[] = [];
    const pinned = new PrivateInferenceClient({ parties: ports.map((p) => `http://127.0.0.1:${p}`), token: TEST_TOKEN, timeoutMs: 60_000, expectedModelHash: announced.modelHash, fetch: ((u: string, init: RequestInit) => { sent.push(`${init.method} ${new URL(u).pathname.replace(/[0-9a-f-]{36}/, ':id')}`); return nodeFetch(u, init); }) as typeof fetch });
    (pinned as unknown as { lastModel: ModelInfo }).lastModel = { ...announced, security: 'semi-honest' };
    const p = await pinned.predict({ data: Float32Array.from(x), shape: [784] });
    expect(p.model.security).toBe('malicious');
    expect(argmax(p.logits)).toBe(argmax(want));
    expect(Math.max(...p.logits.map((g, i) => Math.abs(g - want[i]!))) / scale).toBeLessThan(2e-2);
    expect(sent.filter((s) => s === 'PUT /v1/sessions/:id/input').length).toBeGreaterThan(0);
    expect(sent.filter((s) => s === 'POST /v1/malicious/:id/mask')).toHaveLength(3);
  }, 180_000);

  it('a batch of 3 images in one session (?batch=3): each image equals the plaintext, the traffic is the declared cost of batch 3 (masks inline); different batches at the parties: E_SHAPE at every party before any share; above batch.maxBatch: E_BAD_ARGUMENT', async () => {
    t ??= await partyTrio({ plain: model, fracBits: F, security: 'malicious', tls: true });
    const xs = [x, uniform(seededPrg(7), 784, 0.5).map((v) => v + 0.5), uniform(seededPrg(8), 784, 0.5).map((v) => v + 0.5)];
    const all = Float64Array.from(xs.flatMap((v) => Array.from(v)));
    const id = randomUUID();
    const m = await Promise.all(t.servers.map((s) => s.app.inject({ method: 'POST', url: `/v1/malicious/${id}/mask?batch=3`, headers: auth })));
    expect(m.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    for (const r of m) expect(r.rawPayload.byteLength).toBe(32 * 3 * 784);
    const out = await inputs(t, id, maskedInput(encode(all, F), m.map(bytesOf) as Three));
    expect(out.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect(out[0]!.headers['x-output-shape']).toBe('3,10');
    const y = decode(reconstructOutput(out.map(bytesOf) as Three, 30), F);
    xs.forEach((xi, k) => {
      const w = plainForward(model, xi, 1).data;
      const row = Array.from(y.subarray(10 * k, 10 * (k + 1)));
      expect(Math.max(...row.map((g, i) => Math.abs(g - w[i]!))) / Math.max(...Array.from(w, Math.abs))).toBeLessThan(2e-2);
      expect(argmax(row)).toBe(argmax(w));
    });
    const last = t.servers.map((s) => s.party.malDesk.last!);
    expect(last.every((l) => !l.pooled)).toBe(true);
    // In the epoch already set up by the tests above (or here, when run alone: then its set-up is counted too).
    const inEpoch = addCost(setupCost(), inputMaskCost(3 * 784), malForwardCost(model, 3, F), outputToClientCost());
    const sent = last.reduce((a, l) => a + l.bytesSent, 0);
    const weights = model.nodes.reduce((a, nd) => a + ('kernel' in nd && nd.kernel ? nd.kernel.data.length + (nd.bias?.data.length ?? 0) : 0), 0);
    expect([inEpoch.bytes, inEpoch.bytes + epochSetupCost(weights).bytes]).toContain(sent);
    // Different batches at the parties (a faulty client): refused at the hello at every party, nothing open.
    const id2 = randomUUID();
    const mixed = await Promise.all(t.servers.map((s, p) => s.app.inject({ method: 'POST', url: `/v1/malicious/${id2}/mask?batch=${p === 2 ? 1 : 2}`, headers: auth })));
    for (const r of mixed) expect(r.json()).toMatchObject({ code: 'E_SHAPE', message: expect.stringContaining('different batch sizes') });
    for (const s of t.servers) expect(s.party.malDesk.open).toBe(0);
    // The largest batch's d (16 bytes per element of each image) is within the parties' upload limit.
    expect(t.servers[0]!.party.maxInputBytes()).toBe(16 * 784 * t.servers[0]!.party.opts.batch.maxBatch);
    const big = await t.servers[0]!.app.inject({ method: 'POST', url: `/v1/malicious/${randomUUID()}/mask?batch=1000`, headers: auth });
    expect(big.json()).toMatchObject({ code: 'E_BAD_ARGUMENT', message: expect.stringContaining('batch must be an integer in 1..') });
    // The next single-image session is right.
    const one = await predict(t, x);
    expect(one.map((r) => r.statusCode)).toEqual([200, 200, 200]);
  }, 180_000);

  it('bad requests: unknown session, another session key, a d of the wrong length (E_SHAPE, the run ends at every party), a second mask for the same id', async () => {
    t ??= await partyTrio({ plain: model, fracBits: F, security: 'malicious', tls: true });
    const none = await inputs(t, randomUUID(), new Uint8Array(16 * 784));
    expect(none.map((r) => r.json().code)).toEqual(['E_NOT_FOUND', 'E_NOT_FOUND', 'E_NOT_FOUND']);
    const id = randomUUID();
    expect((await masks(t, id)).map((r) => r.statusCode)).toEqual([200, 200, 200]);
    const again = await t.servers[0]!.app.inject({ method: 'POST', url: `/v1/malicious/${id}/mask`, headers: auth });
    expect(again.json()).toMatchObject({ code: 'E_CONFLICT' });
    const other = await t.servers[0]!.app.inject({ method: 'POST', url: `/v1/malicious/${id}/input`, headers: { ...auth, 'x-session-key': 'another-key-0123456789abcdefghijklmnopqrstu', 'content-type': 'application/octet-stream' }, payload: Buffer.alloc(16 * 784) });
    expect(other.json()).toMatchObject({ code: 'E_NOT_FOUND' });
    // A session without its key would answer anyone holding the client's token (a leaked one): a mask needs the key,
    // as a semi-honest session does (E_BAD_ARGUMENT, nothing opened), and an input without the key finds no session.
    const tokenOnly = { authorization: auth.authorization };
    const id2 = randomUUID();
    const keyless = await masks(t, id2, tokenOnly);
    expect(keyless.map((r) => [r.statusCode, r.json().code])).toEqual([[400, 'E_BAD_ARGUMENT'], [400, 'E_BAD_ARGUMENT'], [400, 'E_BAD_ARGUMENT']]);
    const malformed = await masks(t, id2, { ...tokenOnly, 'x-session-key': 'short' });
    expect(malformed.map((r) => r.json().code)).toEqual(['E_BAD_ARGUMENT', 'E_BAD_ARGUMENT', 'E_BAD_ARGUMENT']);
    for (const s of t.servers) expect(s.party.malDesk.open).toBe(1);
    // As for a semi-honest session (SECURITY.md, "Session key"), the party keeps only the key's SHA-256, compared in constant time.
    for (const s of t.servers) {
      const run = (s.party.malDesk as unknown as { runs: Map<string, Record<string, unknown>> }).runs.get(id)!;
      expect(Object.values(run).filter((v) => typeof v === 'string' && v.includes(TEST_SESSION_KEY))).toEqual([]);
      expect(run.keyHash).toEqual(sessionKeyHash(TEST_SESSION_KEY));
    }
    const unkeyedInput = await t.servers[0]!.app.inject({ method: 'POST', url: `/v1/malicious/${id}/input`, headers: { ...tokenOnly, 'content-type': 'application/octet-stream' }, payload: Buffer.alloc(16 * 784) });
    expect(unkeyedInput.json()).toMatchObject({ code: 'E_NOT_FOUND' });
    const short = await inputs(t, id, new Uint8Array(16 * 783));
    for (const r of short) expect(['E_SHAPE', 'E_INTEGRITY']).toContain(r.json().code);
    expect(short.map((r) => r.json().code)).toContain('E_SHAPE');
    for (const s of t.servers) expect(s.party.malDesk.open).toBe(0);
  }, 120_000);

  it('a party with the cheating switch (one altered matmul reshare): E_INTEGRITY (502) at every party, nothing to reconstruct; the next session succeeds', async () => {
    await t?.close();
    t = undefined;
    process.env[CHEAT_ENV] = '1:mal:matmul';
    try {
      t = await partyTrio({ plain: model, fracBits: F, security: 'malicious', tls: true });
    } finally {
      delete process.env[CHEAT_ENV];
    }
    const bad = await predict(t, x);
    expect(bad.map((r) => r.statusCode)).toEqual([502, 502, 502]);
    for (const r of bad) expect(r.json()).toMatchObject({ code: 'E_INTEGRITY' });
    for (const r of bad) expect(r.headers['content-type']).toContain('application/json');
    const good = await predict(t, x);
    expect(good.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    const y = decode(reconstructOutput(good.map(bytesOf) as Three, 10), F);
    expect(argmax(y)).toBe(argmax(want));
  }, 180_000);
});

describe('malicious serving: deadline and capacity', () => {
  /** Dense 4 -> 2, identity-like weights. */
  const tiny = (): ModelIR<FloatTensor> => ({
    formatVersion: IR_FORMAT_VERSION, inputShape: [4], output: 'd', outputActivation: 'softmax',
    nodes: [{ kind: 'dense', name: 'd', inputs: ['input'], units: 2, activation: 'linear', kernel: { shape: [4, 2], data: Float64Array.from([1, 0, 0, 1, 1, 0, 0, 1]) }, bias: { shape: [2], data: Float64Array.from([0.5, -0.25]) } }],
  });

  it('a session whose input never comes is dropped at its deadline at every party; at most batch.maxConcurrentRuns open (E_OVERLOADED), then the next one runs', async () => {
    const t = await partyTrio({ plain: tiny(), fracBits: F, security: 'malicious', tls: true, batch: { maxConcurrentRuns: 2 }, sessions: { defaultDeadlineMs: 1_500 } });
    try {
      const ids = [randomUUID(), randomUUID()];
      for (const id of ids) expect((await masks(t, id)).map((r) => r.statusCode)).toEqual([200, 200, 200]);
      const over = await masks(t, randomUUID());
      expect(over.map((r) => r.statusCode)).toEqual([503, 503, 503]);
      for (const r of over) expect(r.json()).toMatchObject({ code: 'E_OVERLOADED' });
      for (const s of t.servers) expect(s.party.malDesk.open).toBe(2);
      await new Promise((r) => setTimeout(r, 2_000));
      for (const s of t.servers) expect(s.party.malDesk.open).toBe(0);
      const late = await inputs(t, ids[0]!, new Uint8Array(16 * 4));
      for (const r of late) expect(r.json()).toMatchObject({ code: 'E_DEADLINE' });
      // The next session: y = x W + b.
      const x = Float64Array.from([0.25, -1, 2, 0.5]);
      const id = randomUUID();
      const m = await masks(t, id);
      const out = await inputs(t, id, maskedInput(encode(x, F), m.map(bytesOf) as Three));
      expect(out.map((r) => r.statusCode)).toEqual([200, 200, 200]);
      const y = decode(reconstructOutput(out.map(bytesOf) as Three, 2), F);
      expect(Math.abs(y[0]! - 2.75)).toBeLessThan(1e-3);
      expect(Math.abs(y[1]! - -0.75)).toBeLessThan(1e-3);
    } finally {
      await t.close();
    }
  }, 60_000);
});

describe('malicious serving: the client\'s deadline', () => {
  it('?deadlineMs on the mask step holds the session past the config default (60 s sessions were cut); out of range refused', async () => {
    const tiny: ModelIR<FloatTensor> = {
      formatVersion: IR_FORMAT_VERSION, inputShape: [4], output: 'd', outputActivation: 'softmax',
      nodes: [{ kind: 'dense', name: 'd', inputs: ['input'], units: 2, activation: 'linear', kernel: { shape: [4, 2], data: Float64Array.from([1, 0, 0, 1, 1, 0, 0, 1]) }, bias: { shape: [2], data: Float64Array.from([0.5, -0.25]) } }],
    };
    const t = await partyTrio({ plain: tiny, fracBits: F, security: 'malicious', tls: true, sessions: { defaultDeadlineMs: 800, maxDeadlineMs: 30_000 } });
    try {
      const bad = await Promise.all(t.servers.map((s) => s.app.inject({ method: 'POST', url: `/v1/malicious/${randomUUID()}/mask?deadlineMs=30001`, headers: auth })));
      for (const r of bad) expect(r.json()).toMatchObject({ code: 'E_BAD_ARGUMENT' });
      const id = randomUUID();
      const m = await Promise.all(t.servers.map((s) => s.app.inject({ method: 'POST', url: `/v1/malicious/${id}/mask?deadlineMs=20000`, headers: auth })));
      expect(m.map((r) => r.statusCode)).toEqual([200, 200, 200]);
      // Past the config's 800 ms: still open at every party, and the input is answered.
      await new Promise((r) => setTimeout(r, 1_500));
      for (const s of t.servers) expect(s.party.malDesk.open).toBe(1);
      const x = Float64Array.from([0.25, -1, 2, 0.5]);
      const out = await inputs(t, id, maskedInput(encode(x, F), m.map(bytesOf) as Three));
      expect(out.map((r) => r.statusCode)).toEqual([200, 200, 200]);
      const y = decode(reconstructOutput(out.map(bytesOf) as Three, 2), F);
      expect(Math.abs(y[0]! - 2.75)).toBeLessThan(1e-3);
    } finally {
      await t.close();
    }
  }, 60_000);
});

describe('malicious serving: a process fault (process-fault.ts)', () => {
  it('Party.fault: a run waiting for its input answers E_PROCESS_FAULT, a new mask step is refused (E_NOT_READY)', async () => {
    const tiny: ModelIR<FloatTensor> = {
      formatVersion: IR_FORMAT_VERSION, inputShape: [4], output: 'd', outputActivation: 'softmax',
      nodes: [{ kind: 'dense', name: 'd', inputs: ['input'], units: 2, activation: 'linear', kernel: { shape: [4, 2], data: Float64Array.from([1, 0, 0, 1, 1, 0, 0, 1]) }, bias: { shape: [2], data: Float64Array.from([0.5, -0.25]) } }],
    };
    const t = await partyTrio({ plain: tiny, fracBits: F, security: 'malicious', tls: true, sessions: { defaultDeadlineMs: 5_000 } });
    try {
      const id = randomUUID();
      const m = await masks(t, id);
      expect(m.map((r) => r.statusCode)).toEqual([200, 200, 200]);
      const p1 = t.servers[1];
      p1.party.fault(new MpcError('E_PROCESS_FAULT', 'P1 met an internal fault (unhandledRejection) and is restarting; retry', { party: 1 }));
      const d = maskedInput(encode(Float64Array.from([0.25, -1, 2, 0.5]), F), m.map(bytesOf) as Three);
      const r = await p1.app.inject({ method: 'POST', url: `/v1/malicious/${id}/input`, headers: { ...auth, 'content-type': 'application/octet-stream' }, payload: Buffer.from(d) });
      expect(r.statusCode).toBe(503);
      expect(r.json()).toMatchObject({ code: 'E_PROCESS_FAULT' });
      expect(p1.party.malDesk.open).toBe(0);
      const again = await p1.app.inject({ method: 'POST', url: `/v1/malicious/${randomUUID()}/mask`, headers: auth });
      expect(again.statusCode).toBe(503);
      expect(again.json()).toMatchObject({ code: 'E_NOT_READY' });
      expect(p1.party.malDesk.open).toBe(0);
    } finally {
      await t.close();
    }
  }, 60_000);
});

describe('malicious serving: refusals', () => {
  it('a source without replicated weight shares is refused (E_BUNDLE_INTEGRITY); an ensemble is E_SECURITY_MODE', () => {
    const b = shareBundles(model, F)[0];
    expect(() => loadReplicatedModel({ kind: 'memory', bundle: b }, 0)).toThrow(expect.objectContaining({ code: 'E_BUNDLE_INTEGRITY', message: expect.stringContaining('replicated weight shares') }));
    expect(() => loadReplicatedModel({ kind: 'dev-file', path: '/nonexistent' }, 0)).toThrow(expect.objectContaining({ code: 'E_BUNDLE_INTEGRITY' }));
    expect(() => loadReplicatedModel({ kind: 'ensemble', teachers: [] }, 0)).toThrow(expect.objectContaining({ code: 'E_SECURITY_MODE' }));
  });

  it('the cheating switch is refused outside tests and when malformed (an unknown scope too); it names one party and a scope (a session, or an offline batch)', () => {
    expect(() => cheatSwitch(1, { [CHEAT_ENV]: '1:mal:matmul', NODE_ENV: 'production' })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT', message: expect.stringContaining('test-only') }));
    expect(() => cheatSwitch(1, { [CHEAT_ENV]: '1:mal:matmul' })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
    expect(() => cheatSwitch(1, { [CHEAT_ENV]: 'P1', NODE_ENV: 'test' })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
    expect(() => cheatSwitch(1, { [CHEAT_ENV]: '1@online:mal:matmul', NODE_ENV: 'test' })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
    expect(cheatSwitch(1, { [CHEAT_ENV]: '1:mal:matmul', NODE_ENV: 'test' })).toEqual({ prefix: 'mal:matmul', scope: 'session' });
    expect(cheatSwitch(1, { [CHEAT_ENV]: '1@offline:mal:mul', NODE_ENV: 'test' })).toEqual({ prefix: 'mal:mul', scope: 'offline' });
    expect(cheatSwitch(2, { [CHEAT_ENV]: '2@pooled:/zeroB$/', NODE_ENV: 'test' })).toEqual({ prefix: '/zeroB$/', scope: 'pooled' });
    expect(() => cheatSwitch(1, { [CHEAT_ENV]: '1@offline:mal:mul', NODE_ENV: 'production' })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT', message: expect.stringContaining('test-only') }));
    expect(cheatSwitch(0, { [CHEAT_ENV]: '1:mal:matmul', NODE_ENV: 'test' })).toBeNull();
    expect(cheatSwitch(0, {})).toBeNull();
  });

  it("a model whose policy asks for a label mode or DP noise: every malicious session is refused (E_SECURITY_MODE, naming it) before any share or message (no epoch, nothing open)", async () => {
    const tinyA = networkA(3);
    for (const [policy, named] of [[{ outputMode: 'label' as const }, "output mode 'label'"], [{ outputMode: 'logits' as const, dp: { mechanism: 'laplace' as const, epsilon: 1, sensitivity: 160, clip: 8 } }, 'DP noise']] as const) {
      const t = await partyTrio({ plain: tinyA, fracBits: F, security: 'malicious', tls: true, policy });
      try {
        const r = await masks(t, randomUUID());
        expect(r.map((x) => x.statusCode)).toEqual([503, 503, 503]);
        for (const x of r) expect(x.json()).toMatchObject({ code: 'E_SECURITY_MODE', message: expect.stringContaining(named) });
        for (const sv of t.servers) {
          expect(sv.party.malDesk.open).toBe(0);
          expect(sv.party.malDesk.epochs.stats.epochs).toBe(0);
          expect(sv.party.malDesk.epochs.epoch).toBeNull();
        }
      } finally {
        await t.close();
      }
    }
  });

  it("a semi-honest session at a malicious party is refused, and the refusal names the label mode and DP it asked for", async () => {
    expect(unservedFeatures({})).toEqual([]);
    expect(unservedFeatures({ privacy: { outputMode: 'logits' } })).toEqual([]);
    expect(unservedFeatures({ privacy: { outputMode: 'label+confidence', dp: { epsilon: 1 } } })).toEqual(["output mode 'label+confidence'", 'DP noise']);
    const t = await partyTrio({ plain: networkA(3), fracBits: F, security: 'malicious', tls: true });
    try {
      const sessionId = randomUUID();
      for (const sv of t.servers) {
        const r = await sv.app.inject({ method: 'POST', url: '/v1/sessions', headers: auth, payload: { sessionId, batch: 2, privacy: { outputMode: 'label' } } });
        expect(r.statusCode).toBe(503);
        expect(r.json()).toMatchObject({ code: 'E_SECURITY_MODE', message: expect.stringContaining("asks for output mode 'label', which the malicious mode does not serve yet") });
        expect((await sv.app.inject({ method: 'GET', url: `/v1/sessions/${sessionId}`, headers: auth })).statusCode).toBe(404);
        expect(sv.party.malDesk.open).toBe(0);
      }
    } finally {
      await t.close();
    }
  });

  it("a semi-honest party answers the malicious routes with E_SECURITY_MODE", async () => {
    const tiny = networkA(3);
    const t = await partyTrio({ plain: tiny, fracBits: F, tls: false });
    try {
      const r = await t.servers[0]!.app.inject({ method: 'POST', url: `/v1/malicious/${randomUUID()}/mask`, headers: auth });
      expect(r.statusCode).toBe(503);
      expect(r.json()).toMatchObject({ code: 'E_SECURITY_MODE' });
    } finally {
      await t.close();
    }
  });
});
