/**
 * What the model's comparison ring rests on (ModelInfo.compareBound, from the
 * import's manifest): the SDK passes it into every result's model info so an
 * application can show it, and refuses parties that announce different ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateInferenceClient } from '../src/index.js';
import { startFakeParties, type FakeParties } from '../testing/fake-parties.js';

describe('ModelInfo.compareBound through the client (fake parties)', () => {
  let fake: FakeParties;
  beforeAll(async () => { fake = await startFakeParties({ model: { inputShape: [16], compareBound: 'samples-only' } }); });
  afterAll(async () => { await fake.close(); });
  const client = () => new PrivateInferenceClient({ parties: fake.urls, token: fake.token, timeoutMs: 10_000 });
  const x = { data: new Float32Array(16).fill(0.5), shape: [16] };

  it('a samples-only model: describe(), the result and client.model say so', async () => {
    const c = client();
    expect((await c.describe()).compareBound).toBe('samples-only');
    const r = await c.predict(x);
    expect(r.model.compareBound).toBe('samples-only');
    expect(c.model?.compareBound).toBe('samples-only');
  });

  it('parties announcing different bounds are refused (E_MODEL_MISMATCH); an unknown value is a malformed answer (E_INTERNAL)', async () => {
    fake.behavior[2] = { info: { compareBound: 'sound' } };
    try {
      await expect(client().predict(x)).rejects.toMatchObject({ code: 'E_MODEL_MISMATCH', message: expect.stringMatching(/compareBound/) });
      fake.behavior[1] = { info: { compareBound: 'maybe' as never } };
      await expect(client().predict(x)).rejects.toMatchObject({ code: 'E_INTERNAL', message: expect.stringMatching(/malformed session response \(compareBound\)/) });
    } finally {
      delete fake.behavior[1];
      delete fake.behavior[2];
    }
  });
});
