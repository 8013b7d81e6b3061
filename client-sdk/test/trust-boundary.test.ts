/**
 * The client's trust boundary, reviewed as an attacker who controls one party,
 * the network between the client and the parties, or another client
 * (issue s39). Accepted before their fixes:
 *  - plain http:// party URLs to a host that is not loopback (a network
 *    observer would read both shares and both output shares);
 *  - the same URL for two parties (one server would get both input shares),
 *    and (until the review s39-review1) the same URL written with user info,
 *    a query or fragment, or a trailing dot;
 *  - parties that announce different PATE ensembles (the application would
 *    show P0's);
 *  - caller-given session keys that repeat (a party that sees its key would
 *    hold the key of another party's session).
 * Refused already, kept as guards: one party announcing any other field the
 * SDK uses (before and after the model is pinned), and P1's output envelope
 * altered (cut, lengthened, another session's or party's response, another
 * model, its batch rows swapped).
 * Not detectable in the semi-honest mode, by design (SECURITY.md): P1 adding
 * a value to its output share; the test shows the moved logit.
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
    // URLs that differ only where no request differs: user info (never sent), a query or fragment (the API path is
    // appended inside it), a fully qualified name's trailing dot, the scheme's default port.
    const withUser = a!.replace('://', '://p1@');
    for (const parties of [
      [a, withUser, b], [a, b, `${a}/?party=1`], [`${a}#p0`, b, `${a}#p2`],
      ['https://p0.example', 'https://p0.example.', 'https://p2.example'],
      ['https://p0.example:8443/api/', 'https://p1.example', 'https://P0.EXAMPLE.:8443/api'],
      ['https://p0.example:443', 'https://p1.example', 'https://p0.example'],
    ]) {
      expect(() => make({ parties, fetch: rec.fetch })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT', message: expect.stringContaining('same URL') }));
    }
    expect(rec.urls).toEqual([]);
    // One host, other paths or ports (a TLS-terminating gateway routing by path), or http and https: three servers.
    expect(() => make({ parties: ['https://gw.example/p0', 'https://gw.example/p1', 'https://gw.example/p2'] })).not.toThrow();
    expect(() => make({ parties: ['https://gw.example:8443', 'https://gw.example:8444', 'https://gw.example'] })).not.toThrow();
    expect(() => make({ parties: ['http://localhost:8443', 'https://localhost:8443', 'https://gw.example'] })).not.toThrow();
  });

  it('an http:// URL whose user info names a loopback address goes to the host after the @: refused', () => {
    for (const u of ['http://127.0.0.1@p0.example/', 'http://localhost:80@10.0.0.7:8080', 'http://[::1]@p0.example']) {
      expect(() => make({ parties: [u, fake.urls[1]!, fake.urls[2]!] })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT', message: expect.stringContaining('plain http://') }));
    }
    // Forms of a loopback address the URL parser writes canonically are loopback; a trailing dot is a DNS name.
    expect(() => make({ parties: ['http://127.1:1', 'http://0x7f000001:2', 'http://[0:0:0:0:0:0:0:1]:3'] })).not.toThrow();
    expect(() => make({ parties: ['http://localhost.:1', fake.urls[1]!, fake.urls[2]!] })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
  });
});

describe('what the parties announce', () => {
  it('a server answering GET /v1/model as another party (one server under two names) is refused before any share is sent, also for a pinned client', async () => {
    const twin = await startFakeParties({ behavior: { 1: { reportParty: 0 } } });
    try {
      const client = new PrivateInferenceClient({ parties: twin.urls, token: twin.token, timeoutMs: 10_000 });
      await expect(client.describe()).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT', party: 1, message: expect.stringContaining('answered as party 0') });
      // describe() is what pins a model for the one-request upload (createWithInput with expectedModelHash): refused
      // there, the client never uploads; a prediction on the same client is refused too, with no share sent.
      const pinned = new PrivateInferenceClient({ parties: twin.urls, token: twin.token, timeoutMs: 10_000, expectedModelHash: (await make({}).describe()).modelHash });
      await expect(pinned.describe()).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT', party: 1 });
      await expect(pinned.predict(t)).rejects.toMatchObject({ code: 'E_BAD_ARGUMENT', party: 1 });
      expect(twin.requests.filter((r) => r.method === 'PUT')).toEqual([]);
    } finally {
      await twin.close();
    }
  });

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

describe('every announced field the SDK uses must agree at the three parties', () => {
  // One party at a time announces one field differently; before and after the model is pinned (one-request path).
  const fields: [string, Partial<ModelInfo>][] = [
    ['fracBits', { fracBits: 16 }],
    ['outputShape', { outputShape: [3] }],
    ['inputShape', { inputShape: [32, 32, 1] }],
    ['outputActivation', { outputActivation: 'sigmoid' }],
    ['labels', { labels: ['NORMAL', 'PNEUMONIA', 'OTHER'] }],
    ['preprocessing', { preprocessing: { colorMode: 'grayscale', resize: 'nearest', channelOrder: 'rgb', scaling: 'unit' } as ModelInfo['preprocessing'] }],
    ['inputRange', { inputRange: [0, 2] }],
    ['decisionThresholds', { decisionThresholds: [0.3, 0.7] }],
    ['compareBound', { compareBound: 'samples-only' }],
    ['rangeSentinel', { rangeSentinel: true }],
    ['privacy', { privacy: { outputMode: 'label' } }],
    ['requires', { requires: { security: 'malicious' } }],
    ['importId', { importId: 'c'.repeat(32) }],
    ['ensemble', { ensemble: { teachers: 2, aggregation: 'majority', teacherHashes: ['1'.repeat(64), '2'.repeat(64)] } }],
  ];

  it.each(fields.map(([name, info], i) => [name, info, i % 3] as const))('%s: E_MODEL_MISMATCH naming the party, no share sent before the model is pinned, no result after', async (_name, info, odd) => {
    const named = odd === 0 ? 1 : odd;
    const puts = (): number => fake.requests.filter((q) => q.method === 'PUT').length;
    const pinned = make({ expectedModelHash: fake.model.modelHash });
    try {
      expect((await pinned.predict(t)).logits).toHaveLength(2); // the model is now known: the next call sends the shares with the create request
      fake.behavior[odd as 0 | 1 | 2] = { info };
      const before = puts();
      await expect(make({}).predict(t)).rejects.toMatchObject({ code: 'E_MODEL_MISMATCH', party: named });
      await expect(make({}).describe()).rejects.toMatchObject({ code: 'E_MODEL_MISMATCH', party: named });
      expect(puts()).toBe(before);
      await expect(pinned.predict(t)).rejects.toMatchObject({ code: 'E_MODEL_MISMATCH', party: named });
    } finally {
      delete fake.behavior[odd as 0 | 1 | 2];
    }
  });
});

describe('an output envelope altered on its way (the one-request path): refused, never reconstructed', () => {
  /** fetch that lets `alter` rewrite P1's envelope answers (u32 LE n, n bytes of JSON, the share). */
  let altered = 0;
  const tampering = (alter: (json: Record<string, unknown>, share: BigUint64Array) => { json: unknown; share: Uint8Array }): typeof fetch => (async (u: string | URL | Request, init?: RequestInit) => {
    const res = await fetch(u, init);
    if (!String(u).startsWith(fake.urls[1]) || !(res.headers.get('content-type') ?? '').includes('vnd.securenn.session-output')) return res;
    const b = new Uint8Array(await res.arrayBuffer());
    altered++;
    const n = new DataView(b.buffer).getUint32(0, true);
    const out = alter(JSON.parse(new TextDecoder().decode(b.subarray(4, 4 + n))) as Record<string, unknown>, new BigUint64Array(b.slice(4 + n).buffer));
    const j = new TextEncoder().encode(JSON.stringify(out.json));
    const body = new Uint8Array(4 + j.length + out.share.byteLength);
    new DataView(body.buffer).setUint32(0, j.length, true);
    body.set(j, 4);
    body.set(out.share, 4 + j.length);
    return new Response(body, { status: 200, headers: res.headers });
  }) as typeof fetch;
  const bytes = (a: BigUint64Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const batch = [t, { data: new Float32Array(64 * 64).fill(0.25), shape: [64, 64, 1] }];

  it.each([
    ['a share cut short by one element', 'E_SHAPE', (j: Record<string, unknown>, y: BigUint64Array) => ({ json: j, share: bytes(y.subarray(1)) })],
    ['a share with one element more', 'E_SHAPE', (j: Record<string, unknown>, y: BigUint64Array) => ({ json: j, share: bytes(BigUint64Array.from([...y, 0n])) })],
    ['the session response of another session', 'E_INTERNAL', (j: Record<string, unknown>, y: BigUint64Array) => ({ json: { ...j, sessionId: '00000000-0000-4000-8000-000000000000' }, share: bytes(y) })],
    ["P0's session response in P1's envelope", 'E_BAD_ARGUMENT', (j: Record<string, unknown>, y: BigUint64Array) => ({ json: { ...j, party: 0 }, share: bytes(y) })],
    ['another model in the session response', 'E_MODEL_MISMATCH', (j: Record<string, unknown>, y: BigUint64Array) => ({ json: { ...j, labels: ['A', 'B'] }, share: bytes(y) })],
    // P1's rows swapped: y_0[b] + y_1[b'] is uniform, out of the logit range but with probability 2^-13 per logit (2^-52 for all four).
    ['the batch rows swapped in one share', 'E_INTERNAL', (j: Record<string, unknown>, y: BigUint64Array) => ({ json: j, share: bytes(BigUint64Array.from([...y.subarray(2), ...y.subarray(0, 2)])) })],
  ] as const)('%s: %s', async (_what, code, alter) => {
    const c = make({ expectedModelHash: fake.model.modelHash, fetch: tampering(alter) });
    await c.predict(batch, { batch: true }); // first call: no envelope (the model is not known yet)
    altered = 0;
    const e = await c.predict(batch, { batch: true }).then(() => null, (x: unknown) => x);
    expect(e).toMatchObject({ code });
    expect(altered).toBe(1);
    // The untouched path still gives the right answer (the alteration, not the parties, made it fail).
    expect((await make({ expectedModelHash: fake.model.modelHash }).predict(batch, { batch: true })).logits).toHaveLength(2);
  });
});

describe('what the semi-honest mode cannot detect (SECURITY.md, "Integrity: what is not protected")', () => {
  it('P1 adds 1.0 (2^13 ring units) to one logit of its output share: the SDK shows the altered logit without an error; only the malicious mode (two copies of every share, malicious-io.test.ts) refuses it', async () => {
    let shifted = 0;
    const shifting = (async (u: string | URL | Request, init?: RequestInit) => {
      const res = await fetch(u, init);
      if (!String(u).startsWith(fake.urls[1]) || !/\/output$/.test(String(u)) || res.status !== 200) return res;
      const y = new BigUint64Array(await res.arrayBuffer());
      y[0] = BigInt.asUintN(64, y[0]! + (1n << 13n));
      shifted++;
      return new Response(y, { status: 200, headers: res.headers });
    }) as typeof fetch;
    const keys = [sessionKey(), sessionKey(), sessionKey()] as const;
    const r = await make({ fetch: shifting, createWithInput: false }).predict(t, { sessionKeys: keys });
    expect(shifted).toBe(1);
    // The honest sum, from the parties' untouched shares of the same session.
    const honest = await Promise.all([0, 1].map(async (p) => new BigUint64Array(await (await fetch(`${fake.urls[p]}/v1/sessions/${r.sessionId}/output`, { headers: { authorization: `Bearer ${fake.token}`, 'x-session-key': keys[p]! } })).arrayBuffer())));
    const y = honest[0]!.map((v, i) => BigInt.asUintN(64, v + honest[1]![i]!));
    const logit = (v: bigint): number => Number(BigInt.asIntN(64, v)) / 2 ** 13;
    expect(r.logits).toEqual([logit(y[0]!) + 1, logit(y[1]!)]);
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
