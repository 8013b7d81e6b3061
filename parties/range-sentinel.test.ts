/**
 * The run-time range sentinel served by the parties (range-sentinel.ts) and
 * checked by the SDK's predict(): three in-process party servers over gRPC
 * and HTTP (partyTrio), the SDK over HTTP. The model is a dense classifier
 * whose manifest says compareBound 'samples-only' and whose declared input
 * range is [0, 1]: its first layer's weights are so large that inputs at the
 * top of that range drive the ReLU's compared values past the 32-bit ring
 * (|x| >= 2^15 in real units at f = 16), as an import whose samples were all
 * tiny would not have noticed. The SDK's input range check passes such an
 * input; without the sentinel the parties answer a silently wrong result.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { largeInput, SENTINEL_H, SENTINEL_IN, sentinelModel, smallInput } from './testing/sentinel-model.js';
import { PrivateInferenceClient } from '../client-sdk/src/index.js';
import type { FloatTensor, ModelIR } from '../protocol/ir.js';
import { rangeSentinelCost } from '../protocol/primitives/range-sentinel.js';
import { plainForward } from '../protocol/reference/forward.js';
import type { PartyId } from '../protocol/ring/types.js';
import { resolveConfig, type DeploymentConfig } from './config.js';
import { compareSettings, type LinkSettings } from './link-hello.js';
import { shareBundles } from './model-source.js';
import { shapeKey } from './preprocessing.js';
import { rangeSentinelOn } from './range-sentinel.js';
import { createPartyServer, type PartyServer } from './server.js';
import { partyTrio, testCerts, TEST_TOKEN, type PartyTrio, type TrioOptions } from './testing/trio.js';

const F = 16;
const IN = SENTINEL_IN;
const H = SENTINEL_H;

const plain = sentinelModel();
const small = smallInput;
/** An input inside the declared range [0, 1] whose first layer leaves the ring (checked below on the plaintext). */
const large = largeInput;
const d1Max = (x: Float64Array): number => {
  const sub: ModelIR<FloatTensor> = { ...plain, output: 'd1', nodes: [{ ...plain.nodes[0]!, activation: 'linear' } as typeof plain.nodes[0]] };
  return Math.max(...Array.from(plainForward(sub, x, 1).data, Math.abs));
};
const tensor = (x: Float64Array) => ({ data: x, shape: [IN] });

const trioOf = (extra: Partial<TrioOptions> = {}) => partyTrio({ plain, fracBits: F, tls: false, compareBound: 'samples-only', inputRange: [0, 1], ...extra });
/** An SDK client of the trio (its servers listen once); `pin`: it pins the model, so P0 and P1 answer its PUT with the output (the envelope). */
const urls = new Map<PartyTrio, string[]>();
async function client(t: PartyTrio, pin = false): Promise<PrivateInferenceClient> {
  if (!urls.has(t)) urls.set(t, (await Promise.all(t.servers.map(async (s) => (await s.listen()).httpPort))).map((p) => `http://127.0.0.1:${p}`));
  return new PrivateInferenceClient({ parties: urls.get(t)!, token: TEST_TOKEN, timeoutMs: 30_000, ...(pin ? { expectedModelHash: t.modelHash } : {}) });
}
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)));

describe('the test model', () => {
  it('small inputs stay inside the 32-bit ring, large ones in [0, 1] leave it at the first ReLU', () => {
    for (const s of [1, 2, 3]) expect(d1Max(small(s))).toBeLessThan(2 ** 12);
    for (const s of [4, 5, 6]) expect(d1Max(large(s))).toBeGreaterThan(2 ** 16);
  });
});

describe('the setting (config rangeSentinel)', () => {
  it('auto: on for compareBound samples-only only; on / off force it; never in malicious mode', () => {
    expect(rangeSentinelOn(undefined, 'samples-only', undefined)).toBe(true);
    expect(rangeSentinelOn('auto', 'sound', 'semi-honest')).toBe(false);
    expect(rangeSentinelOn('auto', 'unsound-override', 'semi-honest')).toBe(true); // an explicit ring the import showed unsound
    expect(rangeSentinelOn('off', 'unsound-override', 'semi-honest')).toBe(false);
    expect(rangeSentinelOn('auto', undefined, 'semi-honest')).toBe(false);
    expect(rangeSentinelOn('on', 'sound', 'semi-honest')).toBe(true);
    expect(rangeSentinelOn('off', 'samples-only', 'semi-honest')).toBe(false);
    expect(rangeSentinelOn('on', 'samples-only', 'malicious')).toBe(false);
  });
  it('config: auto by default; anything but auto | on | off is refused', () => {
    const dep = (extra: object): DeploymentConfig => ({ tokens: ['t'.repeat(24)], insecureLocal: true, parties: [0, 1, 2].map((p) => ({ http: { host: '127.0.0.1', port: 0 }, ...(p < 2 ? { grpc: { host: '127.0.0.1', port: 0 } } : {}), model: { devFile: 'x' } })), ...extra }) as DeploymentConfig;
    expect(resolveConfig(dep({}), 0, process.cwd()).rangeSentinel).toBe('auto');
    expect(resolveConfig(dep({ rangeSentinel: 'off' }), 0, process.cwd()).rangeSentinel).toBe('off');
    expect(() => resolveConfig(dep({ rangeSentinel: true }), 0, process.cwd())).toThrow(/rangeSentinel/);
  });
  it('preprocessed bundles are keyed by it: a bundle made without the sentinel never serves a run with it', () => {
    const k = (on: boolean) => shapeKey('ab'.repeat(32), 32, 4, null, [{ batch: 1, policy: 'logits' }], on);
    expect(k(true)).not.toBe(k(false));
  });
});

describe('HELLO: the parties agree on the sentinel (link-hello.ts MUST rangeSentinel)', () => {
  const base: LinkSettings = { compareBits: 32, compareRadix: 4, modelHash: 'a'.repeat(64) };
  it('true vs false, and true vs a peer that sends none (a build before the field: false), are refused', () => {
    expect(compareSettings(0, { ...base, rangeSentinel: true }, 1, { ...base, rangeSentinel: false }).must).toEqual(['rangeSentinel: P0 has true, P1 has false']);
    expect(compareSettings(1, { ...base, rangeSentinel: true }, 2, base).must).toEqual(['rangeSentinel: P1 has true, P2 has false']);
    expect(compareSettings(1, { ...base, rangeSentinel: false }, 2, base).must).toEqual([]);
  });

  const opened: PartyServer[] = [];
  afterEach(async () => { await Promise.all(opened.splice(0).map((s) => s.close())); });
  it('a P1 configured off next to a P0 on (auto, samples-only model): the link is refused with E_SETTINGS_MISMATCH, /readyz 503', async () => {
    const certs = testCerts();
    const bundles = shareBundles(plain, F);
    for (const b of bundles) b.manifest.compareBound = 'samples-only';
    const dep: DeploymentConfig = {
      tokens: ['sentinel-token-0123456789ab'], logLevel: 'silent',
      parties: ([0, 1, 2] as PartyId[]).map((p) => ({
        http: { host: '127.0.0.1', port: 0 }, ...(p < 2 ? { grpc: { host: '127.0.0.1', port: 0 } } : {}),
        tls: { ca: certs.ca.cert, cert: certs.parties[p].cert, key: certs.parties[p].key }, model: { devFile: 'unused' },
      })) as DeploymentConfig['parties'],
    };
    for (const p of [0, 1] as PartyId[]) {
      const cfg = resolveConfig(dep, p, process.cwd(), p === 1 ? { rangeSentinel: 'off' } : {});
      const srv = createPartyServer(cfg, { model: { kind: 'memory', bundle: bundles[p] }, logger: false, mesh: { reconnectMs: { min: 30, max: 100 } } });
      opened.push(srv);
      const { grpcPort } = await srv.start();
      dep.parties[p].grpc!.port = grpcPort!;
    }
    const t0 = Date.now();
    while (opened[0]!.party.mesh.health[1]!.problem === null && Date.now() - t0 < 5_000) await new Promise((r) => setTimeout(r, 20));
    expect(opened[0]!.party.mesh.health[1]!.problem).toMatchObject({ code: 'E_SETTINGS_MISMATCH', message: 'rangeSentinel: P0 has true, P1 has false (must be the same at the three parties)' });
    expect((await opened[0]!.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
  });
});

describe('served with the sentinel (samples-only model, config auto), and without it (config off)', () => {
  let on: PartyTrio, off: PartyTrio, cOn: PrivateInferenceClient, cOff: PrivateInferenceClient;
  beforeAll(async () => {
    // A wide batching window, so that two clients' sessions would share a run without the sentinel's rule.
    on = await trioOf({ batch: { windowMs: 150 }, preprocess: { enabled: false } });
    off = await trioOf({ rangeSentinel: 'off', batch: { windowMs: 150 }, preprocess: { enabled: false } });
    [cOn, cOff] = [await client(on), await client(off)];
  }, 60_000);
  afterAll(async () => { await on?.close(); await off?.close(); });

  it('the parties announce it (model info) only where they run it', async () => {
    expect(on.servers.map((s) => s.party.model!.info.rangeSentinel)).toEqual([true, true, true]);
    expect(off.servers.map((s) => s.party.model!.info.rangeSentinel)).toEqual([undefined, undefined, undefined]);
    expect((await cOn.describe()).rangeSentinel).toBe(true);
  });

  it('an in-range input: the same prediction as without the sentinel (both the plaintext\'s within 1e-2)', async () => {
    for (const s of [1, 2]) {
      const x = small(s);
      const y = plainForward(plain, x, 1).data;
      const [a, b] = [await cOn.predict(tensor(x)), await cOff.predict(tensor(x))];
      expect(a.outputMode === 'logits' && b.outputMode === 'logits').toBe(true);
      if (a.outputMode !== 'logits' || b.outputMode !== 'logits') return;
      expect(a.index).toBe(b.index);
      expect(maxDiff(a.logits, y)).toBeLessThan(1e-2);
      expect(maxDiff(b.logits, y)).toBeLessThan(1e-2);
    }
  });

  it('an input in [0, 1] that overflows the first ReLU: E_RANGE_SENTINEL and no prediction (without it: a wrong result)', async () => {
    const x = large(4);
    await expect(cOn.predict(tensor(x))).rejects.toMatchObject({ code: 'E_RANGE_SENTINEL' });
    const wrong = await cOff.predict(tensor(x));
    if (wrong.outputMode !== 'logits') throw new Error('logits expected');
    expect(maxDiff(wrong.logits, plainForward(plain, x, 1).data)).toBeGreaterThan(1);
  });

  it('two clients at once, one overflowing: only that one is refused; each ran in a run of its own', async () => {
    const [good, bad] = await Promise.allSettled([cOn.predict(tensor(small(3))), cOn.predict(tensor(large(5)))]);
    expect(good.status).toBe('fulfilled');
    expect(bad).toMatchObject({ status: 'rejected', reason: { code: 'E_RANGE_SENTINEL' } });
    const id = (good as PromiseFulfilledResult<{ sessionId: string }>).value.sessionId;
    const rec = on.servers[0].party.runOf(id)!;
    expect(rec.sessions).toEqual([id.toLowerCase()]);
    // Without the sentinel the same two clients share one run (the check that the batching window above batches).
    const both = await Promise.all([cOff.predict(tensor(small(3))), cOff.predict(tensor(small(2)))]);
    expect(off.servers[0].party.runOf(both[0].sessionId)!.sessions.length).toBe(2);
  });

  it('a client that pins the model (the envelope answer to its PUT): the same check', async () => {
    const pinned = await client(on, true);
    const ok = await pinned.predict(tensor(small(8)));
    if (ok.outputMode !== 'logits') throw new Error('logits expected');
    expect(maxDiff(ok.logits, plainForward(plain, small(8), 1).data)).toBeLessThan(1e-2);
    await expect(pinned.predict(tensor(large(9)))).rejects.toMatchObject({ code: 'E_RANGE_SENTINEL' });
  });

  it('costs: the sentinel step\'s bytes (three parties) and rounds are rangeSentinelCost of the values sampled (all 16 of d1\'s one call)', async () => {
    const r = await cOn.predict(tensor(small(7)));
    const recs = on.servers.map((s) => s.party.runOf(r.sessionId)!);
    const steps = recs.map((rec) => rec.layers!.find((l) => l.name === 'rangeSentinel')!);
    const cost = rangeSentinelCost(H);
    expect(steps.reduce((a, l) => a + l.bytesSent, 0)).toBe(cost.bytes);
    // The same run without the sentinel: the difference is the step's declared cost, bytes and rounds (the run's depth).
    const r0 = await cOff.predict(tensor(small(7)));
    const base = off.servers.map((s) => s.party.runOf(r0.sessionId)!);
    expect(recs.reduce((a, x) => a + x.bytesSent, 0) - base.reduce((a, x) => a + x.bytesSent, 0)).toBe(cost.bytes);
    expect(Math.max(...recs.map((x) => x.rounds)) - Math.max(...base.map((x) => x.rounds))).toBe(cost.rounds);
  });
});

describe('with preprocessing (bundles of the run\'s shape dealt ahead, keyed by the sentinel)', () => {
  let t: PartyTrio, c: PrivateInferenceClient;
  beforeAll(async () => { t = await trioOf(); c = await client(t); }, 60_000);
  afterAll(async () => { await t?.close(); });
  it('a preprocessed run still checks: in range answered right, out of range refused', async () => {
    const seen: boolean[] = [];
    for (let i = 0; i < 6; i++) {
      const x = small(10 + i);
      const r = await c.predict(tensor(x));
      if (r.outputMode !== 'logits') throw new Error('logits expected');
      expect(maxDiff(r.logits, plainForward(plain, x, 1).data)).toBeLessThan(1e-2);
      seen.push(t.servers[0].party.runOf(r.sessionId)!.preprocessed === true);
      if (seen.at(-1)) break;
      await new Promise((res) => setTimeout(res, 300));
    }
    expect(seen).toContain(true);
    // Let P2 deal the next bundle, then an overflowing input on it.
    await new Promise((res) => setTimeout(res, 500));
    await expect(c.predict(tensor(large(6)))).rejects.toMatchObject({ code: 'E_RANGE_SENTINEL' });
  });
});

describe('with the start-up warm-up (its runs deal the jobs later client runs\' bundles are made from)', () => {
  let t: PartyTrio, c: PrivateInferenceClient;
  beforeAll(async () => { t = await trioOf({ warmup: { runs: 3, maxMs: 30_000 } }); c = await client(t); }, 60_000);
  afterAll(async () => { await t?.close(); });
  it('the warm-up runs the sentinel at the three parties (done, not failed); then in range right, out of range refused', async () => {
    const ready = async () => Promise.all(t.servers.map(async (s) => (await s.app.inject({ method: 'GET', url: '/readyz' })).json<{ ready: boolean; warmup: { state: string; runs: number } }>()));
    const t0 = Date.now();
    let rs = await ready();
    while (!rs.every((r) => r.ready) && Date.now() - t0 < 30_000) { await new Promise((res) => setTimeout(res, 50)); rs = await ready(); }
    expect(rs[0]!.warmup).toMatchObject({ state: 'done', runs: 3 });
    const preprocessed: boolean[] = [];
    for (let i = 0; i < 3; i++) {
      const x = small(30 + i);
      const r = await c.predict(tensor(x));
      if (r.outputMode !== 'logits') throw new Error('logits expected');
      expect(maxDiff(r.logits, plainForward(plain, x, 1).data)).toBeLessThan(1e-2);
      preprocessed.push(t.servers[0].party.runOf(r.sessionId)!.preprocessed === true);
      await new Promise((res) => setTimeout(res, 200));
    }
    await expect(c.predict(tensor(large(31)))).rejects.toMatchObject({ code: 'E_RANGE_SENTINEL' });
    expect(preprocessed).toContain(true);
  });
});

describe('a PATE ensemble with the sentinel forced on (config on): every teacher\'s comparisons are sampled', () => {
  let t: PartyTrio, c: PrivateInferenceClient;
  const teachers = [plain, plain, plain];
  beforeAll(async () => { t = await partyTrio({ ensemble: { teachers }, fracBits: F, tls: false, rangeSentinel: 'on' }); c = await client(t); }, 60_000);
  afterAll(async () => { await t?.close(); });
  it('in range: the teachers\' majority label; beyond the ring: E_RANGE_SENTINEL', async () => {
    expect(t.servers.map((s) => s.party.model!.info.rangeSentinel)).toEqual([true, true, true]);
    for (const s of [1, 2, 3]) {
      const x = small(40 + s);
      const r = await c.predict(tensor(x), { privacy: { outputMode: 'label' } });
      const y = plainForward(plain, x, 1).data;
      expect(r.index).toBe(Array.from(y).indexOf(Math.max(...y)));
    }
    await expect(c.predict(tensor(large(44)), { privacy: { outputMode: 'label' } })).rejects.toMatchObject({ code: 'E_RANGE_SENTINEL' });
  });
});
