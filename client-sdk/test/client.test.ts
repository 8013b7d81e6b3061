import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encode } from '../../protocol/fixed-point/fixed-point.js';
import {
  DeadlineError, InputError, ModelMismatchError, PeerUnavailableError, PrivateInferenceClient, ServerError,
  type ClientOptions, type PredictProgress, type Tensor,
} from '../src/index.js';
import { deadUrl, startFakeParties, type FakeParties } from './fake-parties.js';
import { PROGRESSIVE_XRAY, XRAY_DIR } from './fixtures.js';

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

  it('accepts the right expectedModelHash (case-insensitive)', async () => {
    const r = await client({ expectedModelHash: fake.model.modelHash.toUpperCase() }).predict(tensor());
    expect(r.model.modelHash).toBe(fake.model.modelHash);
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
