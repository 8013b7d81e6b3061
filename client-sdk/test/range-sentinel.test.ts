/**
 * predict() against parties that announce the run-time range sentinel
 * (ModelInfo.rangeSentinel; fake parties): it requires P0's and P1's shares
 * of s (x-range-sentinel) with the output, refuses a result whose s is not 0
 * (E_RANGE_SENTINEL) and one with a share missing or malformed (E_INTERNAL);
 * parties that disagree on announcing it are refused (E_MODEL_MISMATCH).
 * The real parties: parties/range-sentinel.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateInferenceClient } from '../src/index.js';
import { startFakeParties, type FakeParties } from '../testing/fake-parties.js';

describe('ModelInfo.rangeSentinel through the client (fake parties)', () => {
  let fake: FakeParties;
  beforeAll(async () => { fake = await startFakeParties({ model: { inputShape: [16], compareBound: 'samples-only', rangeSentinel: true } }); });
  afterAll(async () => { await fake.close(); });
  const client = () => new PrivateInferenceClient({ parties: fake.urls, token: fake.token, timeoutMs: 10_000 });
  const x = { data: new Float32Array(16).fill(0.5), shape: [16] };
  const set = (h0: string | undefined, h1: string | undefined): void => {
    fake.behavior[0] = h0 === undefined ? {} : { sentinelHeader: h0 };
    fake.behavior[1] = h1 === undefined ? {} : { sentinelHeader: h1 };
  };

  it('shares adding up to 0: the result; describe() and the result\'s model say the sentinel runs', async () => {
    set('0123456789abcdef', 'fedcba9876543211');
    const r = await client().predict(x);
    expect(r.model.rangeSentinel).toBe(true);
    expect((await client().describe()).rangeSentinel).toBe(true);
  });

  it('s != 0: E_RANGE_SENTINEL, no result', async () => {
    set('0123456789abcdef', 'fedcba9876543210');
    await expect(client().predict(x)).rejects.toMatchObject({ code: 'E_RANGE_SENTINEL' });
  });

  it('a share missing at either party, or malformed: E_INTERNAL naming the party, not "in range"', async () => {
    for (const [h0, h1, party] of [[undefined, '0000000000000000', 0], ['0000000000000000', undefined, 1], ['0000000000000000', 'zero', 1]] as const) {
      set(h0, h1);
      await expect(client().predict(x)).rejects.toMatchObject({ code: 'E_INTERNAL', party, message: expect.stringMatching(/range sentinel share/) });
    }
  });

  it('the pinned fast path (createWithInput: the PUT answers the output in an envelope) checks the shares too', async () => {
    const c = new PrivateInferenceClient({ parties: fake.urls, token: fake.token, timeoutMs: 10_000, expectedModelHash: fake.model.modelHash });
    set('0000000000000001', 'ffffffffffffffff');
    await c.predict(x); // learns the pinned model (POST, PUT, GET)
    const from = fake.requests.length;
    await c.predict(x);
    expect(fake.requests.slice(from).some((q) => q.method === 'GET')).toBe(false); // the envelope path: no GET
    set('0000000000000001', '0000000000000000');
    await expect(c.predict(x)).rejects.toMatchObject({ code: 'E_RANGE_SENTINEL' });
    set('0000000000000000', undefined);
    await expect(c.predict(x)).rejects.toMatchObject({ code: 'E_INTERNAL', party: 1 });
    await expect(c.predict([x, x] as never, { batch: true })).rejects.toMatchObject({ code: 'E_INTERNAL', party: 1 });
  });

  it('parties that disagree on announcing it: E_MODEL_MISMATCH; a non-boolean value is a malformed answer', async () => {
    set('0000000000000000', '0000000000000000');
    fake.behavior[2] = { info: { rangeSentinel: false } };
    try {
      await expect(client().predict(x)).rejects.toMatchObject({ code: 'E_MODEL_MISMATCH', message: expect.stringMatching(/rangeSentinel/) });
      fake.behavior[2] = { info: { rangeSentinel: 'yes' as never } };
      await expect(client().predict(x)).rejects.toMatchObject({ code: 'E_INTERNAL', message: expect.stringMatching(/malformed session response \(rangeSentinel\)/) });
    } finally { delete fake.behavior[2]; }
  });
});

describe('a model without the sentinel: no share is asked for', () => {
  let fake: FakeParties;
  beforeAll(async () => { fake = await startFakeParties({ model: { inputShape: [16] } }); });
  afterAll(async () => { await fake.close(); });
  it('predict() answers without x-range-sentinel headers', async () => {
    const r = await new PrivateInferenceClient({ parties: fake.urls, token: fake.token, timeoutMs: 10_000 }).predict({ data: new Float32Array(16).fill(0.5), shape: [16] });
    expect(r.model.rangeSentinel).toBeUndefined();
  });
});
