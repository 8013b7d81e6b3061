/**
 * The SDK applies the preprocessing the parties announce (ModelInfo.preprocessing,
 * recorded by mpc-import), so no caller has to know it; imageScale is only an
 * explicit override. And it reports the label with the probability of that label.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { InputPreprocessing, ModelInfo } from '../../protocol/api-contract.js';
import { PrivateInferenceClient } from '../src/index.js';
import { startFakeParties, type FakeParties } from '../testing/fake-parties.js';
import { XRAY_DIR } from '../testing/fixtures.js';

const XRAY = join(XRAY_DIR, 'NORMAL/IM-0001-0001.jpeg');
let fake: FakeParties | undefined;
afterEach(async () => { await fake?.close(); fake = undefined; });

async function sentFor(model: Partial<ModelInfo>, imageScale?: number): Promise<Float64Array> {
  fake = await startFakeParties({ model });
  const c = new PrivateInferenceClient({ parties: fake.urls, token: fake.token, timeoutMs: 10_000, ...(imageScale !== undefined ? { imageScale } : {}) });
  const r = await c.predict(readFileSync(XRAY));
  const sent = fake.inputs.get(r.sessionId)!;
  await fake.close();
  fake = undefined;
  return sent;
}

const gray = (scaling: InputPreprocessing['scaling']): InputPreprocessing => ({ colorMode: 'grayscale', resize: 'bilinear', scaling, channelOrder: 'rgb' });

describe('the SDK applies the model\'s recorded preprocessing', () => {
  it('raw, x/255 and x/127.5 - 1 as announced; x/255 when the model records none; imageScale overrides', async () => {
    const none = await sentFor({});
    const unit = await sentFor({ preprocessing: gray('unit') });
    const raw = await sentFor({ preprocessing: gray('raw') });
    const sym = await sentFor({ preprocessing: gray('symmetric') });
    expect(unit).toEqual(none);
    // Fixed point at f = 13: what the parties receive is round(v * 2^13) / 2^13.
    const q = 2 ** -13;
    expect(Math.max(...raw)).toBeGreaterThan(100);
    for (let i = 0; i < raw.length; i += 97) {
      expect(Number.isInteger(raw[i])).toBe(true);
      expect(Math.abs(unit[i]! - raw[i]! / 255)).toBeLessThanOrEqual(q);
      expect(Math.abs(sym[i]! - (raw[i]! / 127.5 - 1))).toBeLessThanOrEqual(q);
    }
    expect(Math.min(...sym)).toBeLessThan(0);
    // The explicit override wins over the recorded scaling.
    expect(await sentFor({ preprocessing: gray('raw') }, 1 / 255)).toEqual(unit);
  });

  it('per-channel mean/std and BGR order on an RGB model', async () => {
    const base = await sentFor({ inputShape: [32, 32, 3], preprocessing: { colorMode: 'rgb', resize: 'bilinear', scaling: 'raw', channelOrder: 'rgb' } });
    const caffe = await sentFor({ inputShape: [32, 32, 3], preprocessing: { colorMode: 'rgb', resize: 'bilinear', scaling: 'raw', channelOrder: 'bgr', mean: [103.939, 116.779, 123.68] } });
    for (let i = 0; i < base.length; i += 3) {
      // A grey X-ray: R = G = B, so BGR only moves the means.
      expect(Math.abs(caffe[i]! - (base[i + 2]! - 103.939))).toBeLessThanOrEqual(2 ** -12);
      expect(Math.abs(caffe[i + 2]! - (base[i]! - 123.68))).toBeLessThanOrEqual(2 ** -12);
    }
  });

  it('refuses a preprocessing that does not fit the model (E_MODEL_MISMATCH) before sending a share', async () => {
    fake = await startFakeParties({ model: { preprocessing: { colorMode: 'rgb', resize: 'bilinear', scaling: 'unit', channelOrder: 'rgb' } } });
    const c = new PrivateInferenceClient({ parties: fake.urls, token: fake.token, timeoutMs: 10_000 });
    await expect(c.predict(readFileSync(XRAY))).rejects.toMatchObject({ code: 'E_MODEL_MISMATCH' });
    expect(fake.inputs.size).toBe(0);
  });

  it('one-request path: parties redeployed from the same source with another preprocessing (same modelHash) refuse a result encoded for the old one', async () => {
    fake = await startFakeParties({ model: { preprocessing: gray('unit') } });
    const c = new PrivateInferenceClient({ parties: fake.urls, token: fake.token, timeoutMs: 10_000, expectedModelHash: fake.model.modelHash });
    const xray = readFileSync(XRAY);
    const before = await c.predict(xray);
    const unit = fake.inputs.get(before.sessionId)!;
    // The operator re-imports the same Keras file with its real preprocessing: the hash (of the source bytes) stays.
    fake.model.preprocessing = gray('symmetric');
    const e = await c.predict(xray).catch((x: unknown) => x);
    expect(e).toMatchObject({ name: 'ModelMismatchError', code: 'E_MODEL_MISMATCH' });
    expect((e as Error).message).toMatch(/preprocessing/);
    // The client now knows the new preprocessing: the next prediction is encoded for it.
    const after = await c.predict(xray);
    const sym = fake.inputs.get(after.sessionId)!;
    for (let i = 0; i < sym.length; i += 97) expect(Math.abs(sym[i]! - (unit[i]! * 2 - 1))).toBeLessThanOrEqual(2 ** -12);
  });
});

describe('label and the probability of that label', () => {
  it('a single sigmoid output with labels [negative, positive]: the label and its own probability', async () => {
    fake = await startFakeParties({ model: { outputShape: [1], outputActivation: 'sigmoid', labels: ['NORMAL', 'PNEUMONIA'] } });
    const c = new PrivateInferenceClient({ parties: fake.urls, token: fake.token, timeoutMs: 10_000 });
    for (const f of ['NORMAL/IM-0001-0001.jpeg', 'PNEUMONIA/person85_bacteria_422.jpeg', 'NORMAL/NORMAL2-IM-0098-0001.jpeg', 'PNEUMONIA/person10_virus_35.jpeg']) {
      const r = await c.predict(readFileSync(join(XRAY_DIR, f)));
      const p = 1 / (1 + Math.exp(-r.logits[0]!));
      expect(r.probabilities).toHaveLength(1);
      expect(r.label).toBe(p >= 0.5 ? 'PNEUMONIA' : 'NORMAL');
      expect(r.probability).toBeCloseTo(r.label === 'PNEUMONIA' ? p : 1 - p, 12);
      expect(r.probability).toBeGreaterThanOrEqual(0.5);
    }
  });

  it('softmax: the probability of the argmax label', async () => {
    fake = await startFakeParties();
    const c = new PrivateInferenceClient({ parties: fake.urls, token: fake.token, timeoutMs: 10_000 });
    const r = await c.predict(readFileSync(XRAY));
    expect(r.probability).toBe(r.probabilities[r.index]);
    expect(r.label).toBe(['NORMAL', 'PNEUMONIA'][r.index]);
  });
});
