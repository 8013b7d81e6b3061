/**
 * The SDK's security-mode checks (client-sdk/src/security.ts, client.ts
 * agree): the three parties must announce the same mode; a client that
 * requires malicious security (requireSecurity), or a model whose manifest
 * requires it (model.requires.security), is refused with E_SECURITY_MODE by
 * parties that do not announce it, before any input share is sent.
 * Fake parties (real HTTP): they only announce; what a real malicious party
 * does with the session is parties/security-mode.test.ts's.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PrivateInferenceClient, type ClientOptions, type Tensor } from '../src/index.js';
import { startFakeParties, type FakeParties } from '../testing/fake-parties.js';

const t: Tensor = { data: new Float32Array(64 * 64).fill(0.5), shape: [64, 64, 1] };

let fake: FakeParties | undefined;
afterEach(async () => { await fake?.close(); fake = undefined; });

const clientFor = (f: FakeParties, o: Partial<ClientOptions> = {}): PrivateInferenceClient => new PrivateInferenceClient({ parties: f.urls, token: f.token, timeoutMs: 10_000, ...o });
const inputs = (f: FakeParties): number => f.requests.filter((r) => r.method === 'PUT').length;

describe('predict: the parties\' security mode', () => {
  it("requireSecurity 'malicious' with semi-honest parties: E_SECURITY_MODE, no input share sent (also when the model was pinned for create-with-input)", async () => {
    fake = await startFakeParties();
    const c = clientFor(fake, { requireSecurity: 'malicious', expectedModelHash: fake.model.modelHash });
    await expect(c.predict(t)).rejects.toMatchObject({ code: 'E_SECURITY_MODE', message: expect.stringContaining("the client requires security 'malicious', the parties announce 'semi-honest'") });
    // describe() pins the model: the next predict would send the shares with the create request, but not when security is required.
    expect((await c.describe()).security).toBe('semi-honest');
    await expect(c.predict(t)).rejects.toMatchObject({ code: 'E_SECURITY_MODE' });
    expect(inputs(fake)).toBe(0);
    // The per-call option on a client without it.
    await expect(clientFor(fake).predict(t, { requireSecurity: 'malicious' })).rejects.toMatchObject({ code: 'E_SECURITY_MODE' });
    expect(inputs(fake)).toBe(0);
    // Without the requirement the same parties serve.
    expect((await clientFor(fake).predict(t)).model.security).toBe('semi-honest');
    expect(inputs(fake)).toBe(2);
  });

  it("a manifest that requires malicious security, parties that announce semi-honest: E_SECURITY_MODE without the client's option, no input sent", async () => {
    fake = await startFakeParties({ model: { requires: { security: 'malicious' } } });
    await expect(clientFor(fake).predict(t)).rejects.toMatchObject({ code: 'E_SECURITY_MODE', message: expect.stringContaining("the model's manifest requires security 'malicious'") });
    expect(inputs(fake)).toBe(0);
  });

  it('parties that announce different modes are refused, naming the party', async () => {
    fake = await startFakeParties({ behavior: { 1: { info: { security: 'malicious' } } } });
    await expect(clientFor(fake).predict(t)).rejects.toMatchObject({ code: 'E_SECURITY_MODE', party: 1, message: expect.stringContaining("party 0 has 'semi-honest', party 1 has 'malicious'") });
    expect(inputs(fake)).toBe(0);
  });

  it("parties that all announce 'malicious' pass the check, and predict takes the malicious routes: no semi-honest session, no share (the fakes do not serve them: 404)", async () => {
    fake = await startFakeParties({ model: { security: 'malicious', requires: { security: 'malicious' } } });
    await expect(clientFor(fake, { requireSecurity: 'malicious' }).predict(t)).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    const calls = fake.requests.filter((q) => q.method !== 'OPTIONS').map((q) => `${q.method} ${q.url.replace(/[0-9a-f-]{36}/, ':id')}`);
    expect(calls.filter((c) => c === 'POST /v1/malicious/:id/mask')).toHaveLength(3);
    expect(calls.filter((c) => c.startsWith('POST /v1/sessions'))).toHaveLength(0);
    expect(inputs(fake)).toBe(0);
  });

  it("parties that switch to 'malicious' after the client pinned the model: their refusal of the one-request path leads to the malicious routes, as on the first call (not the same E_SECURITY_MODE on every call)", async () => {
    fake = await startFakeParties();
    const c = clientFor(fake, { expectedModelHash: fake.model.modelHash });
    expect((await c.predict(t)).model.security).toBe('semi-honest'); // pinned: the next call creates the sessions with the shares
    const refusal = { code: 'E_SECURITY_MODE', message: "configured with security 'malicious': it runs sessions only through the malicious routes" };
    for (const p of [0, 1, 2] as const) fake.behavior[p] = { info: { security: 'malicious' }, failCreate: refusal };
    const masks = (): number => fake!.requests.filter((q) => q.method === 'POST' && q.url.includes('/v1/malicious/') && q.url.includes('/mask')).length;
    for (let call = 1; call <= 2; call++) {
      // The fakes do not serve the malicious routes (404): reaching them is the point.
      await expect(c.predict(t)).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
      expect(masks()).toBe(3 * call);
      expect(c.model?.security).toBe('malicious');
    }
  });

  it("parties that announce 'malicious' and the range sentinel (which the malicious mode does not run): E_SECURITY_MODE before anything is sent, never a result without the check they announce", async () => {
    fake = await startFakeParties({ model: { security: 'malicious', rangeSentinel: true } });
    await expect(clientFor(fake, { requireSecurity: 'malicious' }).predict(t)).rejects.toMatchObject({ code: 'E_SECURITY_MODE', message: expect.stringContaining('range sentinel') });
    expect(fake.requests.filter((q) => q.url.includes('/v1/malicious/'))).toHaveLength(0);
    expect(inputs(fake)).toBe(0);
  });

  it('refuses a bad requireSecurity value up front', async () => {
    fake = await startFakeParties();
    expect(() => clientFor(fake!, { requireSecurity: 'paranoid' as 'malicious' })).toThrow(/requireSecurity must be 'malicious' or absent/);
    await expect(clientFor(fake).predict(t, { requireSecurity: 'x' as 'malicious' })).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT' });
    expect(fake.requests.length).toBe(0);
  });
});
