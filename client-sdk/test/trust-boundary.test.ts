/**
 * The client's trust boundary, reviewed as an attacker who controls one party,
 * the network between the client and the parties, or another client
 * (issue s39): each case here was accepted before its fix.
 *  - plain http:// party URLs to a host that is not loopback (a network
 *    observer would read both shares and both output shares);
 *  - the same URL for two parties (one server would get both input shares);
 *  - parties that announce different PATE ensembles (the application would
 *    show P0's);
 *  - caller-given session keys that repeat (a party that sees its key would
 *    hold the key of another party's session).
 * Fake parties over real HTTP (client-sdk/testing/fake-parties.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateInferenceClient, sessionKey, type ClientOptions, type ModelInfo, type Tensor } from '../src/index.js';
import { isLoopbackHostname } from '../src/endpoints.js';
import { startFakeParties, type FakeParties } from '../testing/fake-parties.js';

const t: Tensor = { data: new Float32Array(64 * 64).fill(0.5), shape: [64, 64, 1] };

let fake: FakeParties;
beforeAll(async () => { fake = await startFakeParties(); });
afterAll(async () => { await fake.close(); });

/** fetch that records every URL it is asked for (and then asks the fakes). */
function recordingFetch(): { fetch: typeof fetch; urls: string[] } {
  const urls: string[] = [];
  return { urls, fetch: (async (u: string | URL | Request, init?: RequestInit) => { urls.push(String(u)); return fetch(u, init); }) as typeof fetch };
}

const make = (o: Partial<ClientOptions>): PrivateInferenceClient => new PrivateInferenceClient({ parties: fake.urls, token: fake.token, timeoutMs: 10_000, ...o });

describe('the party URLs', () => {
  it('refuses plain http:// to a host that is not loopback (E_BAD_ARGUMENT), before any request', async () => {
    const rec = recordingFetch();
    for (const parties of [
      ['http://p0.example:8443', 'https://p1.example:8443', 'https://p2.example:8443'],
      ['https://p0.example', 'http://10.0.0.7:8080', 'https://p2.example'],
      ['https://p0.example', 'https://p1.example', 'HTTP://P2.EXAMPLE'],
      ['http://127.0.0.1.nip.io:1', 'https://p1.example', 'https://p2.example'],
    ]) {
      expect(() => make({ parties, fetch: rec.fetch })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT', message: expect.stringContaining('plain http://') }));
    }
    expect(rec.urls).toEqual([]);
    // https anywhere, http on loopback (npm start, the tests), or http where the caller says something else encrypts.
    expect(() => make({ parties: ['https://p0.example', 'https://p1.example', 'https://p2.example'] })).not.toThrow();
    expect(() => make({ parties: ['http://localhost:1', 'http://127.0.0.2:2', 'http://[::1]:3'] })).not.toThrow();
    expect(() => make({ parties: ['http://p0.mesh', 'http://p1.mesh', 'http://p2.mesh'], allowInsecureHttp: true })).not.toThrow();
    expect(['localhost', 'LOCALHOST', '127.0.0.1', '127.255.0.9', '[::1]'].every(isLoopbackHostname)).toBe(true);
    expect(['127.0.0.1.nip.io', '10.0.0.1', '::2', 'localhost.example', '0.0.0.0'].some(isLoopbackHostname)).toBe(false);
  });

  it('refuses the same server named for two parties (it would get both input shares), before any request', async () => {
    const rec = recordingFetch();
    const [a, b] = fake.urls;
    for (const parties of [[a, a, b], [a, b, `${a}/`], [a, b, a.toUpperCase()]]) {
      expect(() => make({ parties, fetch: rec.fetch })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT', message: expect.stringContaining('same URL') }));
    }
    expect(rec.urls).toEqual([]);
  });
});

describe('what the parties announce', () => {
  it('parties that announce different PATE ensembles are refused (E_MODEL_MISMATCH naming the party), before any share is sent', async () => {
    const ensemble: NonNullable<ModelInfo['ensemble']> = { teachers: 3, aggregation: 'noisy-max', teacherHashes: ['1'.repeat(64), '2'.repeat(64), '3'.repeat(64)] };
    const puts = (): number => fake.requests.filter((q) => q.method === 'PUT').length;
    try {
      const cases: [Partial<typeof ensemble> | undefined, Partial<typeof ensemble> | undefined, Partial<typeof ensemble> | undefined, number][] = [
        [ensemble, undefined, undefined, 1], // P0 alone announces an ensemble: the result would say "PATE" for one party's word
        [ensemble, ensemble, { ...ensemble, aggregation: 'majority' }, 2],
        [ensemble, { ...ensemble, teacherHashes: [...ensemble.teacherHashes].reverse() }, ensemble, 1],
      ];
      for (const [e0, e1, e2, party] of cases) {
        [e0, e1, e2].forEach((e, q) => { fake.behavior[q as 0 | 1 | 2] = e ? { info: { ensemble: e as typeof ensemble } } : {}; });
        const before = puts();
        await expect(make({}).predict(t)).rejects.toMatchObject({ code: 'E_MODEL_MISMATCH', party, message: expect.stringContaining('ensemble') });
        await expect(make({}).describe()).rejects.toMatchObject({ code: 'E_MODEL_MISMATCH', party });
        expect(puts()).toBe(before);
      }
      // The same ensemble at the three: the result names it.
      for (const q of [0, 1, 2] as const) fake.behavior[q] = { info: { ensemble } };
      expect((await make({}).predict(t)).model.ensemble).toEqual(ensemble);
    } finally {
      for (const q of [0, 1, 2] as const) delete fake.behavior[q];
    }
  });
});

describe('session keys', () => {
  it('caller-given session keys must be three different keys (E_BAD_ARGUMENT), before any request', async () => {
    const k = sessionKey(), k2 = sessionKey();
    const from = fake.requests.length;
    for (const keys of [[k, k, k], [k, k2, k], [k2, k, k]] as const) {
      await expect(make({}).predict(t, { sessionKeys: keys })).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT', message: expect.stringContaining('different') });
    }
    expect(fake.requests.length).toBe(from);
    const r = await make({}).predict(t, { sessionKeys: [k, k2, sessionKey()] });
    expect(r.logits).toHaveLength(2);
  });
});
