/**
 * Raw tensor inputs against the model's declared input range (client-sdk/src/input-range.ts):
 * refused with E_INPUT_RANGE before any share leaves the client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, PrivateInferenceClient } from '../src/index.js';
import { checkTensorRange, declaredInputRange } from '../src/input-range.js';
import { startFakeParties, type FakeParties } from '../testing/fake-parties.js';
import pngjs from 'pngjs';

const IMAGENET = { colorMode: 'rgb' as const, resize: 'bilinear' as const, scaling: 'unit' as const, channelOrder: 'rgb' as const, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
const filled = (n: number, v: number) => new Float32Array(n).fill(v);

describe('declared input range of a raw tensor (unit)', () => {
  it('per channel from the preprocessing: both ends accepted as float32, one step beyond refused naming element and channel, never the value', () => {
    const r = declaredInputRange({ preprocessing: IMAGENET })!;
    const x = new Float32Array(3 * 4);
    for (let i = 0; i < x.length; i++) x[i] = i < 6 ? r.lo[i % 3]! : r.hi[i % 3]!;
    expect(() => checkTensorRange({ data: x, shape: [2, 2, 3] }, { preprocessing: IMAGENET })).not.toThrow();
    const y = Float32Array.from(x);
    y[7] = r.hi[1]! + 1e-3;
    let err: unknown;
    try { checkTensorRange({ data: y, shape: [2, 2, 3] }, { preprocessing: IMAGENET }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(InputError);
    expect(err).toMatchObject({ code: 'E_INPUT_RANGE', message: expect.stringMatching(/element 7 \(channel 1\) is outside the model's input range \[-2\.03571, 2\.42857\]/) });
    expect((err as Error).message).not.toContain(String(y[7]));
  });

  it('x/255, x/127.5 - 1 and raw pixels; NaN is outside every range; a model that declares none is not range-checked', () => {
    const g = (scaling: 'unit' | 'symmetric' | 'raw') => ({ preprocessing: { colorMode: 'grayscale' as const, resize: 'bilinear' as const, scaling, channelOrder: 'rgb' as const } });
    expect(() => checkTensorRange({ data: filled(4, -0.01), shape: [4] }, g('unit'))).toThrow(expect.objectContaining({ code: 'E_INPUT_RANGE' }));
    expect(() => checkTensorRange({ data: filled(4, -1), shape: [4] }, g('symmetric'))).not.toThrow();
    expect(() => checkTensorRange({ data: filled(4, 255.5), shape: [4] }, g('raw'))).toThrow(expect.objectContaining({ code: 'E_INPUT_RANGE' }));
    expect(() => checkTensorRange({ data: Float64Array.of(0, Number.NaN), shape: [2] }, g('unit'))).toThrow(expect.objectContaining({ code: 'E_INPUT_RANGE' }));
    expect(() => checkTensorRange({ data: filled(4, 1e6), shape: [4] }, {})).not.toThrow();
    expect(() => checkTensorRange({ data: filled(4, 2), shape: [4] }, { inputRange: [-1, 1] })).toThrow(expect.objectContaining({ code: 'E_INPUT_RANGE', message: expect.stringMatching(/declared inputRange/) }));
  });
});

describe('PrivateInferenceClient refuses an out-of-range tensor before any share is sent (fake parties)', () => {
  let fake: FakeParties;
  beforeAll(async () => { fake = await startFakeParties({ model: { inputShape: [16], inputRange: [0, 1] } }); });
  afterAll(async () => { await fake.close(); });
  const client = () => new PrivateInferenceClient({ parties: fake.urls, token: fake.token, timeoutMs: 10_000 });
  const uploads = () => fake.requests.filter((r) => r.method === 'PUT').length;

  it('first prediction (model not known yet): no input share is uploaded; once known: no request at all', async () => {
    const c = client();
    const before = uploads();
    const bad = Float32Array.from({ length: 16 }, (_, i) => (i === 5 ? 1.25 : 0.5));
    await expect(c.predict({ data: bad, shape: [16] })).rejects.toMatchObject({ code: 'E_INPUT_RANGE', message: expect.stringMatching(/element 5 is outside .*\[0, 1\]/) });
    expect(uploads()).toBe(before);
    const n = fake.requests.length;
    await expect(c.predict({ data: bad, shape: [16] })).rejects.toMatchObject({ code: 'E_INPUT_RANGE' });
    expect(fake.requests.length).toBe(n);
    // Infinity: refused by the finiteness check first (E_RANGE), also before any request.
    await expect(c.predict({ data: filled(16, Number.POSITIVE_INFINITY), shape: [16] })).rejects.toMatchObject({ code: 'E_RANGE' });
    expect(fake.requests.length).toBe(n);
    // In range: answered.
    const ok = await c.predict({ data: filled(16, 1), shape: [16] });
    expect(ok.logits.length).toBe(2);
  });
});

describe('the one-request path (model pinned): a tensor checked against the pinned model is checked again against the model the parties answer with', () => {
  let fake: FakeParties;
  beforeAll(async () => { fake = await startFakeParties({ model: { inputShape: [16], inputRange: [0, 1] } }); });
  afterAll(async () => { await fake.close(); });

  it('a re-import of the same file with a narrower declared range (same modelHash, new importId): the result is refused (E_INPUT_RANGE), not shown', async () => {
    const c = new PrivateInferenceClient({ parties: fake.urls, token: fake.token, timeoutMs: 10_000, expectedModelHash: fake.model.modelHash });
    const x = { data: filled(16, 0.75), shape: [16] };
    expect((await c.predict(x)).logits).toHaveLength(2); // learns and pins the model
    // The parties now serve an import whose sound comparison bound holds only for inputs in [0, 0.5].
    for (const p of [0, 1, 2] as const) fake.behavior[p] = { info: { inputRange: [0, 0.5], importId: 'f'.repeat(64) } };
    try {
      const puts = fake.requests.filter((r) => r.method === 'PUT').length;
      await expect(c.predict(x)).rejects.toMatchObject({ code: 'E_INPUT_RANGE', message: expect.stringMatching(/element 0 is outside .*\[0, 0\.5\]/) });
      expect(fake.requests.filter((r) => r.method === 'PUT').length).toBe(puts + 2); // sent on the one-request path, its result not shown
      // Known now: the next one is refused before any request.
      const n = fake.requests.length;
      await expect(c.predict(x)).rejects.toMatchObject({ code: 'E_INPUT_RANGE' });
      expect(fake.requests.length).toBe(n);
    } finally {
      for (const p of [0, 1, 2] as const) delete fake.behavior[p];
    }
  });
});

describe('an imageScale override is held to the model\'s declared input range (images, not only tensors)', () => {
  let fake: FakeParties;
  const unit = { colorMode: 'grayscale' as const, resize: 'bilinear' as const, scaling: 'unit' as const, channelOrder: 'rgb' as const };
  beforeAll(async () => { fake = await startFakeParties({ model: { inputShape: [8, 8, 1], preprocessing: unit } }); });
  afterAll(async () => { await fake.close(); });
  // An 8x8 grey PNG (pixels 200): x/255 = 0.78 is inside [0, 1]; imageScale 1 makes it 200, outside the range the
  // importer's comparison bound was shown for, so a comparison could wrap: refused before any share is sent.
  const png = () => { const p = new pngjs.PNG({ width: 8, height: 8 }); p.data.fill(200); return new Uint8Array(pngjs.PNG.sync.write(p)); };

  it('imageScale 1 on an x/255 model: E_INPUT_RANGE, nothing uploaded; imageScale 1/255 (the recorded scaling) and none: answered', async () => {
    const c = (imageScale?: number) => new PrivateInferenceClient({ parties: fake.urls, token: fake.token, timeoutMs: 10_000, ...(imageScale !== undefined ? { imageScale } : {}) });
    expect((await c().predict(png())).logits).toHaveLength(2);
    expect((await c(1 / 255).predict(png())).logits).toHaveLength(2);
    const puts = fake.requests.filter((r) => r.method === 'PUT').length;
    await expect(c(1).predict(png())).rejects.toMatchObject({ code: 'E_INPUT_RANGE', message: expect.stringMatching(/outside the model's input range \[0, 1\]/) });
    expect(fake.requests.filter((r) => r.method === 'PUT').length).toBe(puts);
  });
});
