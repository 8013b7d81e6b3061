import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encode } from '../../protocol/fixed-point/fixed-point.js';
import {
  BudgetExhaustedError, DeadlineError, InputError, ModelMismatchError, PeerUnavailableError, PrivacyPolicyError, PrivateInferenceClient, ServerError,
  sessionKey, type ClientOptions, type PredictProgress, type Tensor,
} from '../src/index.js';
import { deadUrl, fakeLabels, startFakeParties, type FakeParties } from '../testing/fake-parties.js';
import { PROGRESSIVE_XRAY, XRAY_DIR } from '../testing/fixtures.js';

const XRAY = join(XRAY_DIR, 'NORMAL/IM-0001-0001.jpeg');

/** A deterministic tensor in [0, 1) for shape [64, 64, 1]. */
function tensor(shape: number[] = [64, 64, 1], seed = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { data: Float32Array.from({ length: n }, (_, i) => ((i * 7919 + seed * 104729) % 1000) / 1000), shape };
}

/** fetch that counts calls, to prove a request was never sent. */
function countingFetch(): { fetch: typeof fetch; calls: () => number } {
  let calls = 0;
  return { fetch: (async (...a: Parameters<typeof fetch>) => { calls++; return fetch(...a); }) as typeof fetch, calls: () => calls };
}

let fake: FakeParties;
const client = (o: Partial<ClientOptions> = {}): PrivateInferenceClient =>
  new PrivateInferenceClient({ parties: fake.urls, token: fake.token, timeoutMs: 10_000, ...o });

beforeAll(async () => { fake = await startFakeParties(); });
afterAll(async () => { await fake.close(); });
afterEach(() => { for (const p of [0, 1, 2] as const) delete fake.behavior[p]; });

/** Check y = floor(W x / 2^k) within one unit in the last place, the fake's truncation error. */
function expectLogits(logits: number[][], x: Float64Array | Float32Array, batch: number, fracBits = 13): void {
  const want = fake.expectedRing(encode(x, fracBits), batch);
  logits.forEach((row, b) => row.forEach((v, c) => {
    expect(Math.abs(Math.round(v * 2 ** fracBits) - Number(want[b]![c]!))).toBeLessThanOrEqual(1);
  }));
}

describe('PrivateInferenceClient against fake parties (real HTTP)', () => {
  it('predicts a preprocessed tensor: reconstructed logits equal the public map of x', async () => {
    const t = tensor();
    const r = await client().predict(t);
    expectLogits([r.logits], t.data, 1);
    expect(r.probabilities).toHaveLength(2);
    expect(r.probabilities[0]! + r.probabilities[1]!).toBeCloseTo(1, 12);
    expect(r.label).toBe(r.probabilities[1]! > r.probabilities[0]! ? 'PNEUMONIA' : 'NORMAL');
    expect(r.model.modelHash).toBe(fake.model.modelHash);
    expect(fake.requests.filter((q) => q.party === 2 && q.url.includes('/input'))).toHaveLength(0);
  });

  it('predicts a real JPEG X-ray (decode, grayscale, resize, /255 on the client)', async () => {
    const bytes = readFileSync(XRAY);
    const r = await client().predict(new Uint8Array(bytes));
    const sent = fake.inputs.get(r.sessionId)!;
    expect(sent).toHaveLength(64 * 64);
    expect(Math.max(...sent)).toBeLessThanOrEqual(1);
    expectLogits([r.logits], sent, 1);
    // ArrayBuffer and Blob inputs give the same input
    const r2 = await client().predict(new Blob([bytes]));
    expect(fake.inputs.get(r2.sessionId)).toEqual(sent);
    const r3 = await client().predict(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    expect(r3.logits).toHaveLength(2);
  });

  it('predicts the progressive JPEG with Exif', async () => {
    const r = await client().predict(readFileSync(PROGRESSIVE_XRAY));
    expect(typeof r.label).toBe('string');
  });

  it('predicts a batch (array of images and tensors, or one [B, ...] tensor)', async () => {
    const a = tensor(), b = tensor([64, 64, 1], 2);
    const r = await client().predict([a, readFileSync(XRAY), b], { batch: true });
    expect(r.probabilities).toHaveLength(3);
    expect(r.label).toHaveLength(3);
    const sent = fake.inputs.get(r.sessionId)!;
    expectLogits(r.logits, sent, 3);
    const stacked = new Float64Array(2 * 4096);
    stacked.set(a.data, 0);
    stacked.set(b.data, 4096);
    const r2 = await client().predict({ data: stacked, shape: [2, 64, 64, 1] }, { batch: true });
    // same inputs as items 0 and 2 above (up to the fake's one-ulp truncation noise)
    expectLogits(r2.logits, stacked, 2);
    expect(fake.inputs.get(r2.sessionId)!.subarray(4096)).toEqual(sent.subarray(2 * 4096));
  });

  it('reports progress in order', async () => {
    const stages: PredictProgress[] = [];
    await client().predict(tensor(), { onProgress: (e) => stages.push(e) });
    expect(stages.map((e) => e.stage)).toEqual(['encoding', 'uploading', 'computing', 'reconstructing', 'done']);
    expect(stages[1]!.bytes).toBe(4096 * 8);
    expect(stages[4]!.sessionId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('uses the fracBits the parties announce', async () => {
    const f12 = await startFakeParties({ model: { fracBits: 12, outputActivation: 'sigmoid', outputShape: [1], labels: ['NORMAL', 'PNEUMONIA'] } });
    try {
      const t = tensor();
      const r = await new PrivateInferenceClient({ parties: f12.urls, token: f12.token }).predict(t);
      const want = f12.expectedRing(encode(t.data, 12), 1)[0]![0]!;
      expect(Math.abs(Math.round(r.logits[0]! * 4096) - Number(want))).toBeLessThanOrEqual(1);
      expect(r.probabilities[0]).toBeCloseTo(1 / (1 + Math.exp(-r.logits[0]!)), 12);
      expect(r.label).toBe(r.probabilities[0]! >= 0.5 ? 'PNEUMONIA' : 'NORMAL');
    } finally { await f12.close(); }
  });

  it('polls again on 202 and works without the x-output-shape header', async () => {
    fake.behavior[0] = { notReadyPolls: 2, omitShapeHeader: true };
    const r = await client().predict(tensor());
    expect(r.logits).toHaveLength(2);
    expect(fake.requests.filter((q) => q.party === 0 && q.url.endsWith(`${r.sessionId}/output`))).toHaveLength(3);
  });
});

describe('client credentials and session keys', () => {
  it('sends each party its own token and a fresh session key per party and per session; sessionKeys lets the caller read the session again', async () => {
    const tokens = ['token-for-p0-0123456789', 'token-for-p1-0123456789', 'token-for-p2-0123456789'] as const;
    const own = await startFakeParties({ tokens: [...tokens] });
    try {
      const x = { data: new Float32Array(own.model.inputShape.reduce((a, b) => a * b, 1)).fill(0.25), shape: own.model.inputShape };
      const client = new PrivateInferenceClient({ parties: own.urls, tokens });
      await client.predict(x);
      await client.predict(x);
      const keyed = own.requests.filter((r) => r.url.startsWith('/v1/sessions'));
      // Every session request carries a key; each party's requests of one session carry the same one.
      expect(keyed.every((r) => typeof r.key === 'string')).toBe(true);
      const keys = new Set(keyed.map((r) => r.key));
      // Two sessions x three parties, each key 43 base64url characters, all different.
      expect(keys.size).toBe(6);
      for (const k of keys) expect(k).toMatch(/^[A-Za-z0-9_-]{43}$/);
      // One token for all three is refused by parties that each know only their own.
      await expect(new PrivateInferenceClient({ parties: own.urls, token: tokens[0] }).predict(x)).rejects.toMatchObject({ code: 'E_UNAUTHENTICATED' });
      // Given keys are used as they are, and they read the output again.
      const sessionKeys = [sessionKey(), sessionKey(), sessionKey()] as const;
      const r = await client.predict(x, { sessionKeys });
      const again = await fetch(`${own.urls[0]}/v1/sessions/${r.sessionId}/output`, { headers: { authorization: `Bearer ${tokens[0]}`, 'x-session-key': sessionKeys[0] } });
      expect(again.status).toBe(200);
      const wrong = await fetch(`${own.urls[0]}/v1/sessions/${r.sessionId}/output`, { headers: { authorization: `Bearer ${tokens[0]}`, 'x-session-key': sessionKeys[1] } });
      expect(wrong.status).toBe(404);
    } finally {
      await own.close();
    }
  });

  it('refuses bad credentials and keys before any request', async () => {
    expect(() => new PrivateInferenceClient({ parties: fake.urls, tokens: ['a', 'b'] as unknown as [string, string, string] })).toThrow(/tokens/);
    expect(() => new PrivateInferenceClient({ parties: fake.urls, tokens: ['a', 'b', 'c'], token: 'a' })).toThrow(/not both/);
    expect(() => new PrivateInferenceClient({ parties: fake.urls } as never)).toThrow(/tokens/);
    const client = new PrivateInferenceClient({ parties: fake.urls, token: 'test-token' });
    const before = fake.requests.length;
    await expect(client.predict({ data: new Float32Array(4), shape: [4] }, { sessionKeys: ['short', 'b', 'c'] })).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT' });
    expect(fake.requests.length).toBe(before);
  });
});

describe('typed errors', () => {
  it('E_DEADLINE when timeoutMs elapses while the parties compute', async () => {
    fake.behavior[1] = { outputDelayMs: 5_000 };
    const t0 = Date.now();
    const e = await client({ timeoutMs: 300 }).predict(tensor()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DeadlineError);
    expect(e).toMatchObject({ code: 'E_DEADLINE' });
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('E_DEADLINE passed through when a party reports its session deadline', async () => {
    fake.behavior[0] = { failOutput: { code: 'E_DEADLINE', message: 'deadline passed in relu' } };
    await expect(client().predict(tensor())).rejects.toMatchObject({ name: 'DeadlineError', code: 'E_DEADLINE', party: 0, status: 504 });
  });

  it('E_PEER_UNAVAILABLE when a party cannot be reached', async () => {
    const dead = await deadUrl();
    const e = await new PrivateInferenceClient({ parties: [fake.urls[0], fake.urls[1], dead], token: fake.token }).predict(tensor()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PeerUnavailableError);
    expect(e).toMatchObject({ code: 'E_PEER_UNAVAILABLE', party: 2 });
  });

  it('E_PEER_UNAVAILABLE passed through from a party that lost its peer', async () => {
    fake.behavior[1] = { failOutput: { code: 'E_PEER_UNAVAILABLE', message: 'P2 closed the connection', status: 503 } };
    await expect(client().predict(tensor())).rejects.toBeInstanceOf(PeerUnavailableError);
  });

  it('E_SHAPE for a tensor whose shape disagrees with its data, before any request', async () => {
    const c = countingFetch();
    const e = await client({ fetch: c.fetch }).predict({ data: new Float32Array(10), shape: [64, 64, 1] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect(e).toMatchObject({ code: 'E_SHAPE' });
    expect(c.calls()).toBe(0);
  });

  it('E_SHAPE for a tensor of the wrong shape for the model, before any request', async () => {
    const c = countingFetch();
    // model input known from the inputShape option
    await expect(client({ fetch: c.fetch, inputShape: [64, 64, 1] }).predict(tensor([32, 32, 1]))).rejects.toMatchObject({ code: 'E_SHAPE' });
    expect(c.calls()).toBe(0);
    // model input known from a previous session
    const cl = client({ fetch: c.fetch });
    await cl.predict(tensor());
    const before = c.calls();
    await expect(cl.predict(tensor([64, 64, 3]))).rejects.toMatchObject({ name: 'InputError', code: 'E_SHAPE' });
    await expect(cl.predict({ data: new Float64Array(2 * 4096), shape: [2, 64, 64, 1] })).rejects.toMatchObject({ code: 'E_SHAPE' });
    expect(c.calls()).toBe(before);
  });

  it('E_SHAPE for a wrong tensor when the model is not yet known (no input share is sent)', async () => {
    const r = fake.requests.length;
    await expect(client().predict(tensor([32, 32, 1]))).rejects.toMatchObject({ code: 'E_SHAPE' });
    expect(fake.requests.slice(r).filter((q) => q.method === 'PUT')).toHaveLength(0);
  });

  it('E_DTYPE for non-float tensors, unknown input kinds and undecodable bytes, before any request', async () => {
    const c = countingFetch();
    const cl = client({ fetch: c.fetch });
    await expect(cl.predict({ data: new Int32Array(4096), shape: [64, 64, 1] } as unknown as Tensor)).rejects.toMatchObject({ code: 'E_DTYPE' });
    await expect(cl.predict([1, 2, 3] as unknown as Tensor)).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT' });
    await expect(cl.predict('x.jpeg' as unknown as Tensor)).rejects.toMatchObject({ code: 'E_DTYPE' });
    await expect(cl.predict(new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61]))).rejects.toMatchObject({ code: 'E_DTYPE' });
    await expect(cl.predict(readFileSync(XRAY).subarray(0, 300))).rejects.toMatchObject({ code: 'E_DTYPE' });
    expect(c.calls()).toBe(0);
  });

  it('E_RANGE for non-finite values, before any request', async () => {
    const c = countingFetch();
    const t = tensor();
    t.data[5] = Number.NaN;
    const e = await client({ fetch: c.fetch }).predict(t).catch((x: unknown) => x);
    expect(e).toMatchObject({ name: 'InputError', code: 'E_RANGE' });
    expect(String((e as Error).message)).not.toContain('NaN');
    expect(c.calls()).toBe(0);
  });

  it('E_MODEL_MISMATCH when expectedModelHash differs (refused by the parties)', async () => {
    const e = await client({ expectedModelHash: 'f'.repeat(64) }).predict(tensor()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ModelMismatchError);
    expect(e).toMatchObject({ code: 'E_MODEL_MISMATCH', status: 409 });
  });

  it('E_MODEL_MISMATCH when expectedModelHash differs from what a lenient party reports', async () => {
    const fetchDroppingHash = (async (url: string | URL | Request, init?: RequestInit) => {
      const body = typeof init?.body === 'string' ? JSON.stringify({ ...JSON.parse(init.body), modelHash: undefined }) : init?.body;
      return fetch(url, { ...init, ...(body !== undefined ? { body } : {}) });
    }) as typeof fetch;
    await expect(client({ expectedModelHash: 'f'.repeat(64), fetch: fetchDroppingHash }).predict(tensor())).rejects.toMatchObject({ name: 'ModelMismatchError', code: 'E_MODEL_MISMATCH' });
  });

  it('E_MODEL_MISMATCH when the three parties disagree, before any input share is sent', async () => {
    fake.behavior[2] = { modelHash: 'b'.repeat(64) };
    const r = fake.requests.length;
    await expect(client().predict(tensor())).rejects.toMatchObject({ name: 'ModelMismatchError', party: 2 });
    expect(fake.requests.slice(r).filter((q) => q.method === 'PUT')).toHaveLength(0);
  });

  it('E_MODEL_MISMATCH when the parties loaded bundles of different imports of the same source (same modelHash), before any share is sent', async () => {
    // Shares of two imports do not add up to the weights: W0 (import A) + W1 (import B) is noise, the prediction would be too.
    fake.behavior[0] = { info: { importId: 'a'.repeat(32) } };
    fake.behavior[1] = { info: { importId: 'b'.repeat(32) } };
    fake.behavior[2] = { info: { importId: 'a'.repeat(32) } };
    const from = fake.inputs.size;
    const e = await client().predict(tensor()).catch((x: unknown) => x);
    expect(e).toMatchObject({ name: 'ModelMismatchError', code: 'E_MODEL_MISMATCH', party: 1 });
    expect((e as Error).message).toMatch(/import/);
    await expect(client().describe()).rejects.toMatchObject({ code: 'E_MODEL_MISMATCH', party: 1 });
    // A party that announces no import id (a bundle without one) beside one that does: refused too.
    fake.behavior[1] = {};
    await expect(client().predict(tensor())).rejects.toMatchObject({ code: 'E_MODEL_MISMATCH', party: 1 });
    expect(fake.inputs.size).toBe(from);
    for (const p of [0, 1, 2] as const) fake.behavior[p] = { info: { importId: 'a'.repeat(32) } };
    const r = await client().predict(tensor());
    expect(r.model.importId).toBe('a'.repeat(32));
  });

  it('never follows a redirect (a share goes only to the URL configured for its party): E_INTERNAL, nothing reaches the target', async () => {
    // A proxy in front of P0 that redirects every request, body and session key included, elsewhere (here: to P0 itself).
    const redirector = createServer((req, res) => { res.writeHead(307, { location: fake.urls[0] + (req.url ?? '/') }).end(); });
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
    try {
      const via = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}`;
      const from = fake.requests.length;
      const c = new PrivateInferenceClient({ parties: [via, fake.urls[1], fake.urls[2]], token: fake.token, timeoutMs: 10_000, fetch: globalThis.fetch });
      await expect(c.predict(tensor())).rejects.toMatchObject({ code: 'E_INTERNAL', party: 0 });
      await expect(c.describe()).rejects.toMatchObject({ code: 'E_INTERNAL', party: 0 });
      expect(fake.requests.slice(from).filter((q) => q.party === 0)).toEqual([]);
    } finally {
      await new Promise<void>((r) => redirector.close(() => r()));
    }
  });

  it('E_MODEL_MISMATCH when the parties announce different labels (the client would show one party\'s)', async () => {
    fake.behavior[2] = { info: { labels: ['PNEUMONIA', 'NORMAL'] } };
    await expect(client().predict(tensor())).rejects.toMatchObject({ name: 'ModelMismatchError', code: 'E_MODEL_MISMATCH', party: 2 });
  });

  it('accepts the right expectedModelHash (case-insensitive)', async () => {
    const r = await client({ expectedModelHash: fake.model.modelHash.toUpperCase() }).predict(tensor());
    expect(r.model.modelHash).toBe(fake.model.modelHash);
  });

  describe('createWithInput: session and share in one request once the pinned model is known', () => {
    const calls = (from: number) => fake.requests.slice(from).filter((q) => q.method !== 'OPTIONS').map((q) => `P${q.party} ${q.method} ${q.url.replace(/[0-9a-f-]{36}/, ':id').replace(/\?.*$/, '')}`).sort();
    const slow = ['P0 GET /v1/sessions/:id/output', 'P0 POST /v1/sessions', 'P0 PUT /v1/sessions/:id/input', 'P1 GET /v1/sessions/:id/output', 'P1 POST /v1/sessions', 'P1 PUT /v1/sessions/:id/input', 'P2 POST /v1/sessions'];
    // The PUT waits for the output and answers it (x-await-output): no GET.
    const fast = ['P0 PUT /v1/sessions/:id/input', 'P1 PUT /v1/sessions/:id/input', 'P2 POST /v1/sessions'];

    it('first prediction: POST, PUT, GET; the next ones: PUT with x-session-create at P0/P1 answering the output, POST at P2; same logits', async () => {
      const c = client({ expectedModelHash: fake.model.modelHash });
      for (const [i, want] of [[0, slow], [1, fast], [2, fast]] as const) {
        const t = tensor([64, 64, 1], i + 3);
        const from = fake.requests.length;
        const r = await c.predict(t);
        expect(calls(from)).toEqual(want);
        expectLogits([r.logits], t.data, 1);
      }
      // A batch on the fast path too.
      const ts = [tensor([64, 64, 1], 7), tensor([64, 64, 1], 8)];
      const from = fake.requests.length;
      const b = await c.predict(ts, { batch: true });
      expect(calls(from)).toEqual(fast);
      ts.forEach((t, i) => expectLogits([b.logits[i]!], t.data, 1));
    });

    it('not without a pinned hash, nor with createWithInput: false; describe() is enough to know the model', async () => {
      for (const c of [client(), client({ expectedModelHash: fake.model.modelHash, createWithInput: false })]) {
        await c.predict(tensor());
        const from = fake.requests.length;
        await c.predict(tensor());
        expect(calls(from)).toEqual(slow);
      }
      const c = client({ expectedModelHash: fake.model.modelHash });
      await c.describe();
      const from = fake.requests.length;
      expectLogits([(await c.predict(tensor())).logits], tensor().data, 1);
      expect(calls(from)).toEqual(fast);
    });

    it('parties that answer the PUT with 201 only (no x-await-output): the client GETs the outputs', async () => {
      const old = await startFakeParties({ awaitOutput: false });
      try {
        const c = new PrivateInferenceClient({ parties: old.urls, token: old.token, timeoutMs: 10_000, expectedModelHash: old.model.modelHash });
        await c.predict(tensor());
        const from = old.requests.length;
        const t = tensor([64, 64, 1], 9);
        const r = await c.predict(t);
        expect(old.requests.slice(from).filter((q) => q.method !== 'OPTIONS').map((q) => `P${q.party} ${q.method} ${q.url.replace(/[0-9a-f-]{36}/, ':id').replace(/\?.*$/, '')}`).sort())
          .toEqual(['P0 GET /v1/sessions/:id/output', 'P0 PUT /v1/sessions/:id/input', 'P1 GET /v1/sessions/:id/output', 'P1 PUT /v1/sessions/:id/input', 'P2 POST /v1/sessions']);
        const want = old.expectedRing(encode(t.data, 13), 1)[0]!;
        r.logits.forEach((v, i) => expect(Math.abs(Math.round(v * 2 ** 13) - Number(want[i]!))).toBeLessThanOrEqual(1));
      } finally { await old.close(); }
    });

    it('on the one-request path: a party\'s run error is the prediction\'s error; a malformed answer is E_INTERNAL', async () => {
      const c = client({ expectedModelHash: fake.model.modelHash });
      await c.predict(tensor());
      fake.behavior[1] = { failOutput: { code: 'E_PEER_UNAVAILABLE', message: 'party P2 is unavailable', status: 503 } };
      await expect(c.predict(tensor())).rejects.toMatchObject({ name: 'PeerUnavailableError', code: 'E_PEER_UNAVAILABLE', party: 1 });
      delete fake.behavior[1];
      // The JSON length of the envelope points past its end.
      const broken = (async (url: string | URL | Request, init?: RequestInit) => {
        const res = await fetch(url, init);
        if (!(res.headers.get('content-type') ?? '').includes('vnd.securenn.session-output')) return res;
        const b = new Uint8Array(await res.arrayBuffer());
        new DataView(b.buffer).setUint32(0, b.byteLength, true);
        return new Response(b, { status: 200, headers: res.headers });
      }) as typeof fetch;
      const cb = client({ expectedModelHash: fake.model.modelHash, fetch: broken });
      await cb.predict(tensor());
      await expect(cb.predict(tensor())).rejects.toMatchObject({ code: 'E_INTERNAL', message: expect.stringMatching(/malformed session output/) });
    });

    it('a party that now serves another model refuses the share: E_MODEL_MISMATCH', async () => {
      const c = client({ expectedModelHash: fake.model.modelHash });
      await c.predict(tensor());
      fake.behavior[1] = { modelHash: 'c'.repeat(64) };
      await expect(c.predict(tensor())).rejects.toMatchObject({ name: 'ModelMismatchError', code: 'E_MODEL_MISMATCH', party: 1 });
    });
  });

  it('passes a party\'s coded error through (code, party, status, message)', async () => {
    fake.behavior[1] = { failCreate: { code: 'E_NOT_READY', message: 'model not loaded' } };
    const e = await client().predict(tensor()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ServerError);
    expect(e).toMatchObject({ code: 'E_NOT_READY', party: 1, status: 503 });
    expect((e as Error).message).toContain('model not loaded');
  });

  it('E_UNAUTHENTICATED for a wrong token', async () => {
    await expect(client({ token: 'nope' }).predict(tensor())).rejects.toMatchObject({ code: 'E_UNAUTHENTICATED', status: 401 });
  });

  it('keeps an unknown server code as serverCode under E_INTERNAL', async () => {
    fake.behavior[0] = { failOutput: { code: 'E_SOMETHING_NEW', status: 500 } };
    await expect(client().predict(tensor())).rejects.toMatchObject({ code: 'E_INTERNAL', serverCode: 'E_SOMETHING_NEW', party: 0 });
  });

  it('E_INTERNAL for a party that answers with something that is not the contract', async () => {
    const garbling = (async (url: string | URL | Request, init?: RequestInit) =>
      String(url).startsWith(fake.urls[1]) ? new Response('<html>proxy page</html>', { status: 200 }) : fetch(url, init)) as typeof fetch;
    await expect(client({ fetch: garbling }).predict(tensor())).rejects.toMatchObject({ code: 'E_INTERNAL', party: 1 });
  });

  it('E_BAD_ARGUMENT for parties listed in the wrong order and for bad options', async () => {
    fake.behavior[0] = { reportParty: 1 };
    await expect(client().predict(tensor())).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT' });
    expect(() => new PrivateInferenceClient({ parties: ['http://a'], token: 't' })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
    expect(() => new PrivateInferenceClient({ parties: fake.urls, token: '' })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
    expect(() => new PrivateInferenceClient({ parties: fake.urls, token: 't', expectedModelHash: 'abc' })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
  });
});

describe('output privacy: label modes and privacy errors', () => {
  const thresholds = [0.5, 2];
  let priv: FakeParties;
  beforeAll(async () => { priv = await startFakeParties({ model: { outputShape: [3], labels: ['a', 'b', 'c'], privacy: { outputMode: 'label+confidence', confidenceThresholds: thresholds } } }); });
  afterAll(async () => { await priv.close(); });
  const pclient = (): PrivateInferenceClient => new PrivateInferenceClient({ parties: priv.urls, token: priv.token, timeoutMs: 10_000 });
  /** What the label and bucket must be: the plaintext twin of the fake's map. */
  const want = (x: Float32Array | Float64Array, batch: number) => fakeLabels(priv.expectedRing(encode(x, 13), batch), thresholds, 13);

  it("'label+confidence': decodes label and bucket shares; no probabilities or logits", async () => {
    const seen = new Set<string>();
    for (let seed = 1; seed <= 8; seed++) {
      const t: Tensor = { data: Float32Array.from({ length: 4096 }, (_, i) => ((Math.imul(i + 1, 2654435761 + 2 * seed) >>> 0) % 1000) / 1000), shape: [64, 64, 1] };
      const r = await pclient().predict(t, { privacy: { outputMode: 'label+confidence' } });
      const w = want(t.data, 1);
      expect(r).toMatchObject({ outputMode: 'label+confidence', index: w.index[0], label: ['a', 'b', 'c'][w.index[0]!], confidenceBucket: w.bucket[0] });
      expect(r).not.toHaveProperty('probabilities');
      expect(r).not.toHaveProperty('logits');
      expect(r.model.privacy).toEqual({ outputMode: 'label+confidence', confidenceThresholds: thresholds });
      seen.add(`${r.index}:${r.confidenceBucket}`);
    }
    expect(seen.size).toBeGreaterThan(2);
  });

  it("'label' (stricter) gives the label only, also for a batch", async () => {
    const t = tensor([64, 64, 1], 7);
    const r = await pclient().predict(t, { privacy: { outputMode: 'label' } });
    expect(r.outputMode).toBe('label');
    expect(r.index).toBe(want(t.data, 1).index[0]);
    expect(r).not.toHaveProperty('confidenceBucket');
    const items = [tensor([64, 64, 1], 8), tensor([64, 64, 1], 9), tensor([64, 64, 1], 10)];
    const b = await pclient().predict(items, { batch: true, privacy: { outputMode: 'label+confidence' } });
    const sent = priv.inputs.get(b.sessionId)!;
    const w = want(sent, 3);
    expect(b).toMatchObject({ outputMode: 'label+confidence', index: w.index, confidenceBucket: w.bucket });
    expect(b).not.toHaveProperty('probabilities');
  });

  it('asking a label-only model for logits: PrivacyPolicyError (403) before any input share is sent', async () => {
    const before = priv.requests.length;
    const e = await pclient().predict(tensor()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PrivacyPolicyError);
    expect(e).toMatchObject({ code: 'E_PRIVACY_POLICY', status: 403 });
    expect(priv.requests.slice(before).filter((q) => q.method === 'PUT')).toHaveLength(0);
    await expect(pclient().predict(tensor(), { privacy: { outputMode: 'probabilities' } } as never)).rejects.toMatchObject({ name: 'InputError', code: 'E_BAD_ARGUMENT' });
  });

  it('E_BUDGET_EXHAUSTED from a party: BudgetExhaustedError (429)', async () => {
    fake.behavior[1] = { failCreate: { code: 'E_BUDGET_EXHAUSTED', message: 'privacy budget exhausted' } };
    const e = await client().predict(tensor(), { privacy: { dp: { epsilon: 0.5 } } }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BudgetExhaustedError);
    expect(e).toMatchObject({ code: 'E_BUDGET_EXHAUSTED', party: 1, status: 429 });
  });

  it('the default (logits) result says so; a mode header that contradicts the session is refused', async () => {
    const r = await client().predict(tensor());
    expect(r.outputMode).toBe('logits');
    const lying = (async (url: string | URL | Request, init?: RequestInit) => {
      const res = await fetch(url, init);
      if (!String(url).endsWith('/output') || res.status !== 200) return res;
      const h = new Headers(res.headers);
      h.set('x-output-mode', 'label');
      return new Response(await res.arrayBuffer(), { status: 200, headers: h });
    }) as typeof fetch;
    await expect(client({ fetch: lying }).predict(tensor())).rejects.toMatchObject({ code: 'E_INTERNAL', message: expect.stringMatching(/mode 'label'/) });
  });
});

describe('abort', () => {
  it('rejects with the signal\'s AbortError while the parties compute, and stops waiting', async () => {
    fake.behavior[0] = { outputDelayMs: 5_000 };
    const ctl = new AbortController();
    const t0 = Date.now();
    const p = client().predict(tensor(), { signal: ctl.signal, onProgress: (e) => { if (e.stage === 'computing') setTimeout(() => ctl.abort(), 50); } });
    const e = await p.catch((x: unknown) => x);
    expect(e).toMatchObject({ name: 'AbortError' });
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('sends nothing when the signal is already aborted, and uses a custom reason', async () => {
    const c = countingFetch();
    const reason = new Error('user closed the dialog');
    await expect(client({ fetch: c.fetch }).predict(tensor(), { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(c.calls()).toBe(0);
  });
});
