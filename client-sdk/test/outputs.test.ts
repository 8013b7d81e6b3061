/**
 * predict() results for the outputs medical models have beyond one class:
 * multi-label sigmoid heads (CheXNet's 14 findings) and dense segmentation
 * masks [H, W, 1], reconstructed from the fake parties' shares and checked
 * against the plaintext twin of their public linear map. Single-output
 * results keep their fields (backward compatible) and gain kind 'class'.
 */
import { textLine } from '../cli.js';
import type { Prediction } from '../src/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode } from '../../protocol/fixed-point/fixed-point.js';
import { PrivateInferenceClient, outputKind, sigmoid, type Tensor } from '../src/index.js';
import { startFakeParties, type FakeParties } from '../testing/fake-parties.js';
import { reconstructOutputs } from '../src/outputs.js';

const CHEXNET_LABELS = ['Atelectasis', 'Cardiomegaly', 'Effusion', 'Infiltration', 'Mass', 'Nodule', 'Pneumonia', 'Pneumothorax',
  'Consolidation', 'Edema', 'Emphysema', 'Fibrosis', 'Pleural_Thickening', 'Hernia'];

function tensor(shape: number[], seed = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { data: Float32Array.from({ length: n }, (_, i) => ((i * 7919 + seed * 104729) % 1000) / 1000 - 0.45), shape };
}

/** The plaintext logits of the fake's map for x (ring units / 2^13), per item. */
function expected(fake: FakeParties, x: Float32Array, batch: number): number[][] {
  return fake.expectedRing(encode(x, 13), batch).map((row) => row.map((v) => Number(v) / 2 ** 13));
}

describe('multi-label sigmoid heads (14 findings)', () => {
  let fake: FakeParties;
  beforeAll(async () => { fake = await startFakeParties({ model: { inputShape: [32, 32, 1], outputShape: [14], outputActivation: 'sigmoid', labels: CHEXNET_LABELS } }); });
  afterAll(async () => { await fake.close(); });

  it('gives every label its probability and its own decision at 0.5, sorted by probability', async () => {
    const client = new PrivateInferenceClient({ parties: fake.urls, token: fake.token });
    const t = tensor([32, 32, 1]);
    const r = await client.predict(t);
    expect(r.kind).toBe('multi-label');
    const want = expected(fake, t.data as Float32Array, 1)[0]!;
    expect(r.logits).toHaveLength(14);
    r.logits.forEach((z, i) => expect(Math.abs(z - want[i]!)).toBeLessThanOrEqual(2 ** -13 + 1e-12));
    // independent sigmoids, not a softmax: they need not sum to 1
    r.probabilities.forEach((p, i) => expect(p).toBeCloseTo(sigmoid([r.logits[i]!])[0]!, 12));
    const f = r.findings!;
    expect(f).toHaveLength(14);
    expect(f.map((x) => x.label).sort()).toEqual([...CHEXNET_LABELS].sort());
    for (let i = 1; i < f.length; i++) expect(f[i - 1]!.probability).toBeGreaterThanOrEqual(f[i]!.probability);
    for (const x of f) {
      expect(x.label).toBe(CHEXNET_LABELS[x.index]);
      expect(x.probability).toBe(r.probabilities[x.index]);
      expect(x.positive).toBe(x.probability >= 0.5);
    }
    // this input has findings on both sides of 0.5, so the decisions are really per label
    expect(new Set(f.map((x) => x.positive)).size).toBe(2);
    expect(r.label).toBe(f[0]!.label);
    expect(r.probability).toBe(f[0]!.probability);
  });

  it('in a batch, each image gets its own findings', async () => {
    const client = new PrivateInferenceClient({ parties: fake.urls, token: fake.token });
    const a = tensor([32, 32, 1], 1), b = tensor([32, 32, 1], 2);
    const r = await client.predict([a, b], { batch: true });
    expect(r.kind).toBe('multi-label');
    expect(r.findings).toHaveLength(2);
    const want = [expected(fake, a.data as Float32Array, 1)[0]!, expected(fake, b.data as Float32Array, 1)[0]!];
    r.findings!.forEach((f, k) => f.forEach((x) => expect(Math.abs(x.probability - sigmoid([want[k]![x.index]!])[0]!)).toBeLessThan(1e-3)));
    expect(r.findings![0]!.map((x) => x.index)).not.toEqual(r.findings![1]!.map((x) => x.index));
  });
});

describe('dense outputs: a segmentation mask [H, W, 1]', () => {
  let fake: FakeParties;
  beforeAll(async () => { fake = await startFakeParties({ model: { inputShape: [16, 16, 1], outputShape: [16, 16, 1], outputActivation: 'sigmoid', labels: undefined } }); });
  afterAll(async () => { await fake.close(); });

  it('returns the mask as a Float32Array of sigmoid probabilities with its shape, and the thresholded pixels', async () => {
    const client = new PrivateInferenceClient({ parties: fake.urls, token: fake.token });
    const t = tensor([16, 16, 1], 3);
    const r = await client.predict(t);
    expect(r.kind).toBe('mask');
    const m = r.mask!;
    expect(m.shape).toEqual([16, 16, 1]);
    expect(m.probabilities).toBeInstanceOf(Float32Array);
    expect(m.probabilities).toHaveLength(256);
    expect(m.classes).toBeInstanceOf(Uint8Array);
    const want = expected(fake, t.data as Float32Array, 1)[0]!;
    let positive = 0;
    for (let i = 0; i < 256; i++) {
      const p = sigmoid([want[i]!])[0]!;
      expect(Math.abs(m.probabilities[i]! - p)).toBeLessThan(1e-3);
      expect(m.classes[i]).toBe(m.probabilities[i]! >= 0.5 ? 1 : 0);
      positive += m.classes[i]!;
    }
    expect(positive).toBeGreaterThan(0);
    expect(positive).toBeLessThan(256);
    expect(m.positiveFraction).toBeCloseTo(positive / 256, 12);
    expect(r.label).toBe('mask');
    expect(r.index).toBe(-1);
    expect(r.probabilities).toHaveLength(256);
  });

  it('outputKind reads the model: dense -> mask, several sigmoids -> multi-label, else class', () => {
    expect(outputKind({ outputShape: [128, 128, 1], outputActivation: 'sigmoid' })).toBe('mask');
    expect(outputKind({ outputShape: [14], outputActivation: 'sigmoid' })).toBe('multi-label');
    expect(outputKind({ outputShape: [2], outputActivation: 'softmax' })).toBe('class');
    expect(outputKind({ outputShape: [1], outputActivation: 'sigmoid' })).toBe('class');
    expect(outputKind({ outputShape: [3], outputActivation: 'linear' })).toBe('class');
  });
});

describe('single-output results stay as they were', () => {
  let fake: FakeParties;
  beforeAll(async () => { fake = await startFakeParties(); });
  afterAll(async () => { await fake.close(); });

  it('a softmax classifier keeps label, probability, probabilities, logits and has kind class, no findings, no mask', async () => {
    const r = await new PrivateInferenceClient({ parties: fake.urls, token: fake.token }).predict(tensor([64, 64, 1]));
    expect(r.kind).toBe('class');
    expect(r.findings).toBeUndefined();
    expect(r.mask).toBeUndefined();
    expect(r.probabilities).toHaveLength(2);
    expect(r.probabilities[0]! + r.probabilities[1]!).toBeCloseTo(1, 12);
    expect(r.label).toBe(['NORMAL', 'PNEUMONIA'][r.index]);
    expect(r.probability).toBe(r.probabilities[r.index]);
  });
});

/**
 * Label modes for the two other output kinds: the fake computes the decisions in the clear (fakeDecisions /
 * fakeLabels of fake-parties.ts) and shares them; the SDK returns decisions per label or a Uint8Array mask.
 */
describe('label-only modes for multi-label heads and masks', () => {
  const client = (fake: FakeParties) => new PrivateInferenceClient({ parties: fake.urls, token: fake.token });
  const logitT = (t: number) => Math.log(t / (1 - t));

  it("multi-label 'label': one decision per label at its own threshold, in label order, no probabilities; 'label+confidence' adds a bucket per label", async () => {
    const thresholds = CHEXNET_LABELS.map((_, i) => [0.5, 0.3, 0.7][i % 3]!);
    const fake = await startFakeParties({ model: { inputShape: [32, 32, 1], outputShape: [14], outputActivation: 'sigmoid', labels: CHEXNET_LABELS, privacy: { outputMode: 'logits', decisionThresholds: thresholds, confidenceThresholds: [0.5, 2] } } });
    try {
      const t = tensor([32, 32, 1]);
      const want = expected(fake, t.data as Float32Array, 1)[0]!;
      const r = await client(fake).predict(t, { privacy: { outputMode: 'label' } });
      expect(r.kind).toBe('multi-label');
      expect(r).not.toHaveProperty('probabilities');
      expect(r.index).toBe(-1);
      expect(r.model.privacy?.decisionThresholds).toEqual(thresholds);
      expect(r.decisions!.map((d) => d.label)).toEqual(CHEXNET_LABELS);
      r.decisions!.forEach((d, i) => {
        expect(d.index).toBe(i);
        // the fake's logits are lattice values: the rule is exactly logit >= ceil(logit(t) 2^13) / 2^13, i.e. p >= t
        expect(d.positive).toBe(want[i]! >= Math.ceil(logitT(thresholds[i]!) * 8192) / 8192);
        expect(d.confidenceBucket).toBeUndefined();
      });
      expect(new Set(r.decisions!.map((d) => d.positive)).size).toBe(2);
      const c = await client(fake).predict([t, tensor([32, 32, 1], 5)], { batch: true, privacy: { outputMode: 'label+confidence' } });
      expect(c.kind).toBe('multi-label');
      expect(c.decisions).toHaveLength(2);
      c.decisions![0]!.forEach((d, i) => {
        const m = Math.abs(want[i]! - Math.ceil(logitT(thresholds[i]!) * 8192) / 8192);
        expect(d.confidenceBucket).toBe(m >= 2 ? 2 : m >= 0.5 ? 1 : 0);
      });
    } finally { await fake.close(); }
  });

  it("a sigmoid mask [16, 16, 1] in 'label' mode: a Uint8Array of 0/1 with its shape, equal to the plaintext threshold (0.5: logit >= 0)", async () => {
    const fake = await startFakeParties({ model: { inputShape: [16, 16, 1], outputShape: [16, 16, 1], outputActivation: 'sigmoid', labels: undefined } });
    try {
      const t = tensor([16, 16, 1], 3);
      const want = expected(fake, t.data as Float32Array, 1)[0]!;
      const r = await client(fake).predict(t, { privacy: { outputMode: 'label' } });
      expect(r.kind).toBe('mask');
      const m = r.mask!;
      expect(m.shape).toEqual([16, 16, 1]);
      expect(m.mask).toBeInstanceOf(Uint8Array);
      expect(Array.from(m.mask)).toEqual(want.map((z) => (z >= 0 ? 1 : 0)));
      expect(m.positiveFraction).toBeCloseTo(want.filter((z) => z >= 0).length / 256, 12);
      expect(m.positiveFraction).toBeGreaterThan(0);
      expect(m.positiveFraction).toBeLessThan(1);
      expect(r.label).toBe('mask');
    } finally { await fake.close(); }
  });

  it('a softmax mask [4, 4, 3] in label mode: the class per pixel [4, 4]; label+confidence adds a bucket map', async () => {
    const fake = await startFakeParties({ model: { inputShape: [8, 8, 1], outputShape: [4, 4, 3], outputActivation: 'softmax', labels: undefined } });
    try {
      const t = tensor([8, 8, 1], 4);
      const want = expected(fake, t.data as Float32Array, 1)[0]!;
      const r = await client(fake).predict(t, { privacy: { outputMode: 'label+confidence' } });
      const m = r.mask!;
      expect(m.shape).toEqual([4, 4]);
      const classes = Array.from({ length: 16 }, (_, p) => { const px = want.slice(3 * p, 3 * p + 3); return px.indexOf(Math.max(...px)); });
      expect(Array.from(m.mask)).toEqual(classes);
      expect(m.confidenceBuckets).toHaveLength(16);
    } finally { await fake.close(); }
  });

  it('refuses a share whose kind header does not name the model\'s kind (E_INTERNAL), never guessing', async () => {
    const kind = await startFakeParties({ model: { inputShape: [16, 16, 1], outputShape: [16, 16, 1], outputActivation: 'sigmoid', labels: undefined }, behavior: { 1: { kindHeader: 'class' } } });
    try {
      await expect(client(kind).predict(tensor([16, 16, 1]), { privacy: { outputMode: 'label' } })).rejects.toMatchObject({ code: 'E_INTERNAL', message: expect.stringMatching(/kind 'class'/) });
    } finally { await kind.close(); }
  });
});

describe('the model\'s per-label thresholds in logits mode', () => {
  it('findings decide at model.decisionThresholds (announced by the parties), as the label modes do', async () => {
    const thresholds = CHEXNET_LABELS.map((_, i) => [0.5, 0.2, 0.8][i % 3]!);
    const fake = await startFakeParties({ model: { inputShape: [32, 32, 1], outputShape: [14], outputActivation: 'sigmoid', labels: CHEXNET_LABELS, decisionThresholds: thresholds } });
    try {
      const r = await new PrivateInferenceClient({ parties: fake.urls, token: fake.token }).predict(tensor([32, 32, 1]));
      expect(r.model.decisionThresholds).toEqual(thresholds);
      for (const f of r.findings!) expect(f.positive).toBe(f.probability >= thresholds[f.index]!);
      // at least one label whose decision differs from the 0.5 rule: the thresholds are really used
      expect(r.findings!.some((f) => f.positive !== (f.probability >= 0.5))).toBe(true);
    } finally { await fake.close(); }
  });
});

describe('logits mode: output shares that cannot come from one correct run are refused, not shown', () => {
  let fake: FakeParties;
  beforeAll(async () => { fake = await startFakeParties({ model: { inputShape: [8, 8, 1], outputShape: [2, 3], outputActivation: 'sigmoid', labels: undefined } }); });
  afterAll(async () => { await fake.close(); });

  /** fetch that rewrites P1's output share answer (GET .../output): its body and / or its x-output-shape header. */
  const tamper = (edit: { share?: (u: BigUint64Array) => void; shape?: string; session?: string }) => (async (url: string | URL | Request, init?: RequestInit) => {
    const res = await fetch(url, init);
    if (!(String(url).startsWith(fake.urls[1]) && /\/output$/.test(new URL(String(url)).pathname) && res.status === 200)) return res;
    const u = new BigUint64Array((await res.arrayBuffer()).slice(0));
    edit.share?.(u);
    const headers = new Headers(res.headers);
    if (edit.shape !== undefined) headers.set('x-output-shape', edit.shape);
    if (edit.session !== undefined) headers.set('x-output-session', edit.session);
    return new Response(new Uint8Array(u.buffer), { status: 200, headers });
  }) as typeof fetch;
  const client = (f?: typeof fetch) => new PrivateInferenceClient({ parties: fake.urls, token: fake.token, timeoutMs: 10_000, ...(f ? { fetch: f } : {}) });

  it('a share that names another session (x-output-session: an old or another client\'s session) is E_INTERNAL, even when its values fit', async () => {
    const t = tensor([8, 8, 1], 4);
    let seen: string | null = null;
    const spy = (async (url: string | URL | Request, init?: RequestInit) => {
      const res = await fetch(url, init);
      if (/\/output$/.test(new URL(String(url)).pathname) && res.status === 200) seen = res.headers.get('x-output-session');
      return res;
    }) as typeof fetch;
    const ok = await client(spy).predict(t);
    expect(seen).toBe(ok.sessionId); // the fake parties name the session, as the party servers do
    // The same share (its values would pass every other check), under another session's id.
    await expect(client(tamper({ session: '00000000-0000-4000-8000-000000000000' })).predict(t)).rejects.toMatchObject({ code: 'E_INTERNAL', party: 1, message: expect.stringMatching(/another session/) });
  });

  it('a share of another layout (same element count, another shape) is E_SHAPE', async () => {
    const t = tensor([8, 8, 1], 5);
    expect((await client().predict(t)).logits).toHaveLength(6);
    await expect(client(tamper({ shape: '1,3,2' })).predict(t)).rejects.toMatchObject({ code: 'E_SHAPE', party: 1 });
    await expect(client(tamper({ shape: '1,6' })).predict(t)).rejects.toMatchObject({ code: 'E_SHAPE', party: 1 });
  });

  it('a logit beyond what a product before truncation can hold (|y| 2^f >= 2^63: a wrapped value or mismatched shares) is E_INTERNAL', async () => {
    const t = tensor([8, 8, 1], 6);
    // P1's share of another run (uniformly random here): the sum is random in Z_2^64, and almost surely far out of range.
    const random = tamper({ share: (u) => globalThis.crypto.getRandomValues(u) });
    await expect(client(random).predict(t)).rejects.toMatchObject({ code: 'E_INTERNAL', message: expect.stringMatching(/out of range/) });
    // One element pushed by 2^62 ring units (a wrap): the others are right, the result is still refused.
    const pushed = tamper({ share: (u) => { u[4] = BigInt.asUintN(64, u[4]! + (1n << 62n)); } });
    await expect(client(pushed).predict(t)).rejects.toMatchObject({ code: 'E_INTERNAL' });
    // Just inside the bound (2^(63-f) - 1 ring units away from the true value is not detectable, and not refused).
    const inside = tamper({ share: (u) => { u[0] = BigInt.asUintN(64, u[0]! + (1n << 40n)); } });
    const r = await client(inside).predict(t);
    expect(Math.abs(r.logits[0]!)).toBeGreaterThan(2 ** 26);
  });
});

describe('logits mode with DP noise: the range check leaves room for the noise (added after the last truncation)', () => {
  let fake: FakeParties;
  const dp = { mechanism: 'laplace' as const, epsilon: 1, delta: 0, sensitivity: 2, sampler: 'discrete-exact' as const };
  beforeAll(async () => { fake = await startFakeParties({ model: { privacy: { outputMode: 'logits', dp } } }); });
  afterAll(async () => { await fake.close(); });
  const shift = (by: bigint) => (async (url: string | URL | Request, init?: RequestInit) => {
    const res = await fetch(url, init);
    if (!(String(url).startsWith(fake.urls[1]) && /\/output$/.test(new URL(String(url)).pathname) && res.status === 200)) return res;
    const u = new BigUint64Array((await res.arrayBuffer()).slice(0));
    u[0] = BigInt.asUintN(64, u[0]! + by);
    return new Response(new Uint8Array(u.buffer), { status: 200, headers: res.headers });
  }) as typeof fetch;
  const client = (f: typeof fetch) => new PrivateInferenceClient({ parties: fake.urls, token: fake.token, timeoutMs: 10_000, fetch: f });

  it('a noised logit beyond 2^(63-f) ring units (but within the noise bound 2^54) is shown; one beyond 2^(63-f) + 2^54 is refused', async () => {
    const r = await client(shift(1n << 53n)).predict(tensor([64, 64, 1], 7));
    expect(Math.abs(r.logits[0]!)).toBeGreaterThan(2 ** 39);
    await expect(client(shift(1n << 55n)).predict(tensor([64, 64, 1], 7))).rejects.toMatchObject({ code: 'E_INTERNAL', message: expect.stringMatching(/out of range.*DP noise/) });
  });
});

describe('mismatched output shares of a DP-noised two-class model almost never give a diagnosis', () => {
  // P0's share of this session and P1's of another (or an old one): y_0 + y_1 is uniform in Z_2^64. With a bound of
  // 2^62 (the noise's room before) each logit passed with probability 1/2, a two-class result one time in four.
  it('400 uniform sums of two logits at f = 13: at most one passes the range check (about 2^-18 each)', () => {
    const model = { modelHash: 'a'.repeat(64), inputShape: [4], outputShape: [2], fracBits: 13, outputActivation: 'softmax' as const, privacy: { outputMode: 'logits' as const, dp: { mechanism: 'laplace' as const, epsilon: 1, delta: 0, sensitivity: 2, sampler: 'discrete-exact' as const } } };
    let shown = 0;
    for (let i = 0; i < 400; i++) {
      const share = () => ({ shares: globalThis.crypto.getRandomValues(new BigUint64Array(2)), shape: [1, 2], mode: 'logits', kind: 'class' });
      try { reconstructOutputs(share(), share(), model, 1, 's'); shown++; } catch (e) { expect(e).toMatchObject({ code: 'E_INTERNAL' }); }
    }
    expect(shown).toBeLessThanOrEqual(1);
  });
});

describe('sigmoid outputs past float64 saturation (logit above ~37: sigmoid rounds to exactly 1)', () => {
  // Before, the top finding and a sigmoid mask's class map were the argmax of the probabilities: two logits of 40 and
  // 50 both gave p = 1, and the tie went to the lower index, against the logits (and the plaintext model's order).
  const model = (outputShape: number[]) => ({ modelHash: 'a'.repeat(64), inputShape: [4], outputShape, fracBits: 13, outputActivation: 'sigmoid' as const, labels: outputShape.length === 1 ? ['a', 'b', 'c'] : undefined });
  const shares = (logits: number[], shape: number[]) => [
    { shares: encode(logits, 13), shape, mode: 'logits', kind: null },
    { shares: new BigUint64Array(logits.length), shape, mode: 'logits', kind: null },
  ] as const;

  it('a multi-label head: the top finding is the largest logit, findings in logit order when probabilities tie at 1', () => {
    const [o0, o1] = shares([40, 50, -2], [1, 3]);
    const r = reconstructOutputs(o0, o1, model([3]), 1, 's');
    if (r.outputMode !== 'logits') throw new Error('logits expected');
    expect(r.probabilities[0]!.slice(0, 2)).toEqual([1, 1]); // saturated: the probabilities alone cannot order them
    expect(r.index[0]).toBe(1);
    expect(r.label[0]).toBe('b');
    expect(r.findings![0]!.map((f) => f.index)).toEqual([1, 0, 2]);
  });

  it('a sigmoid mask with 3 channels: one decision per element (each channel an independent finding), as the label modes decide', () => {
    // Until 2026-12-07 each pixel got the channel of its largest logit: pixel 3 (logits 3, 1, 2, every channel
    // positive) was class 0 and the positive fraction 2/3, where the label mode's bits give 7/9.
    const [o0, o1] = shares([40, 50, -2, -1, 60, 45, 3, 1, 2], [1, 1, 3, 3]);
    const r = reconstructOutputs(o0, o1, model([1, 3, 3]), 1, 's');
    if (r.outputMode !== 'logits') throw new Error('logits expected');
    expect([...r.mask![0]!.classes]).toEqual([1, 1, 0, 0, 1, 1, 1, 1, 1]);
    expect(r.mask![0]!.positiveFraction).toBeCloseTo(7 / 9, 12);
  });

  it('a sigmoid mask takes per-channel thresholds; a softmax mask of more than 256 classes is refused, not wrapped', () => {
    const withThresholds = { ...model([1, 2, 2]), decisionThresholds: [0.5, 0.9] };
    const [o0, o1] = shares([1, 1, 3, 3], [1, 1, 2, 2]);
    const r = reconstructOutputs(o0, o1, withThresholds, 1, 's');
    if (r.outputMode !== 'logits') throw new Error('logits expected');
    expect([...r.mask![0]!.classes]).toEqual([1, 0, 1, 1]); // sigmoid(1) = 0.73 < 0.9, sigmoid(3) = 0.95
    const wide = { ...model([1, 1, 300]), outputActivation: 'softmax' as const };
    const [w0, w1] = shares(Array.from({ length: 300 }, (_, i) => (i === 299 ? 5 : 0)), [1, 1, 1, 300]);
    expect(() => reconstructOutputs(w0, w1, wide, 1, 's')).toThrow(expect.objectContaining({ code: 'E_SHAPE', message: expect.stringMatching(/300 classes per pixel/) }));
  });
});

describe('a single sigmoid output decides as the label mode and mpc-import do: class 1 iff the logit is > 0', () => {
  // The secure label mode takes the argmax of [0, x] (ties to the lower index: 0 at x = 0) and mpc-import's reference
  // decisions 1 iff x > 0; logits mode said 1 for p >= 0.5, so an exact 0 logit (a blank image through dead ReLUs and
  // a zero bias, or a rounding) was class 1 here and class 0 in 'label' mode for the same model.
  const model = { modelHash: 'a'.repeat(64), inputShape: [4], outputShape: [1], fracBits: 13, outputActivation: 'sigmoid' as const, labels: ['normal', 'pneumonia'] };
  const at = (ring: bigint) => {
    const o = (v: bigint) => ({ shares: BigUint64Array.of(BigInt.asUintN(64, v)), shape: [1, 1], mode: 'logits', kind: null });
    const r = reconstructOutputs(o(ring), o(0n), model, 1, 's');
    if (r.outputMode !== 'logits') throw new Error('logits expected');
    return { index: r.index[0], label: r.label[0], p: r.probability[0] };
  };
  it('logit 0 is class 0 (p = 0.5 of the negative class); one ring unit above 0 is class 1; one below, class 0', () => {
    expect(at(0n)).toEqual({ index: 0, label: 'normal', p: 0.5 });
    expect(at(1n)).toMatchObject({ index: 1, label: 'pneumonia' });
    expect(at(-1n)).toMatchObject({ index: 0, label: 'normal' });
  });
});

describe("the SDK command line's text line names the decisions the result holds", () => {
  const base = { modelHash: 'a'.repeat(64), inputShape: [4], fracBits: 13 };
  const line = (outputShape: number[], logits: number[], activation: 'sigmoid' | 'softmax', decisionThresholds?: number[]): string => {
    const m = { ...base, outputShape, outputActivation: activation, decisionThresholds };
    const r = reconstructOutputs({ shares: encode(logits, 13), shape: [1, ...outputShape], mode: 'logits', kind: null }, { shares: new BigUint64Array(logits.length), shape: [1, ...outputShape], mode: 'logits', kind: null }, m, 1, 's');
    if (r.outputMode !== 'logits') throw new Error('logits expected');
    // As predict() unbatches one image (client.ts).
    return textLine('f', { kind: r.kind, label: r.label[0], probability: r.probability[0], findings: r.findings?.[0], mask: r.mask?.[0], model: m } as unknown as Prediction);
  };
  it("a model's own thresholds, not '>= 0.5'; a sigmoid mask's elements; a softmax mask's pixels of a class other than 0", () => {
    expect(line([3], [1, -1, 2], 'sigmoid', [0.9])).toBe('f\t0 of 3 findings >= 0.9 (top: 2 88.1%)'); // 0.881 is below the model's 0.9
    expect(line([3], [1, -1, 3], 'sigmoid', [0.9])).toBe('f\t1 of 3 findings >= 0.9: 2 95.3%');
    expect(line([3], [1, -1, 2], 'sigmoid', [0.9, 0.1, 0.99])).toBe('f\t1 of 3 findings at their thresholds: 1 26.9%');
    expect(line([1, 2, 2], [1, 1, 3, 3], 'sigmoid', [0.5, 0.9])).toBe('f\tmask 1x2x2: 75.0% of elements at their thresholds');
    expect(line([1, 2, 1], [1, -1], 'sigmoid')).toBe('f\tmask 1x2x1: 50.0% of pixels >= 0.5');
    expect(line([1, 2, 2], [1, 3, 2, -1], 'softmax')).toBe('f\tmask 1x2x2: 50.0% of pixels of a class other than 0');
  });
});

describe('a model whose softmax runs over one value (1 whatever the input)', () => {
  let fake: FakeParties;
  beforeAll(async () => { fake = await startFakeParties({ model: { inputShape: [8, 8, 1], outputShape: [1], outputActivation: 'softmax', labels: ['NORMAL', 'PNEUMONIA'] } }); });
  afterAll(async () => { await fake.close(); });

  it('is refused (E_MODEL_FORMAT) before any share is sent: read as one logit it would be labelled by its sign', async () => {
    const client = new PrivateInferenceClient({ parties: fake.urls, token: fake.token });
    await expect(client.predict(tensor([8, 8, 1]))).rejects.toMatchObject({ code: 'E_MODEL_FORMAT', message: expect.stringMatching(/softmax over 1 value/) });
    expect(fake.inputs.size).toBe(0);
    expect(fake.requests.some((r) => r.method === 'PUT')).toBe(false);
  });
});
