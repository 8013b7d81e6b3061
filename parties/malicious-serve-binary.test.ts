/**
 * The malicious mode served with config malicious.comparisons 'binary'
 * (parties/malicious-desk.ts passes it to malForward; protocol/malicious/binary/):
 * Network A through the HTTP routes against the plaintext and the
 * arithmetic setting's prediction, its traffic the declared binary cost;
 * the pool's plan recorded in the binary domain and its entries used; a
 * cheating party (one altered AND message) caught with E_INTEGRITY at every
 * party, nothing to reconstruct, the next session right; another setting at
 * one party refused at every party at the session hello (E_SETTINGS_MISMATCH,
 * or E_PEER_UNAVAILABLE from a peer's mal-drop, before any share: no epoch,
 * nothing open) and at link set-up
 * (link-hello.ts); pool entries made for one domain never used by the other;
 * with a warm pool, a party altering a message of the offline batch (triples,
 * binary opening, daBit product) or of a session that takes an entry (e with
 * rho and sigma, the zero-check hashes, an AND): E_INTEGRITY, the epoch
 * dropped, the next sessions right (inline, then pooled).
 * Without the session hello's check the mismatch test runs the mask step
 * (200 at every party), and without the epoch/plan domain guard the pool
 * test's switched session answers 500 (an arithmetic entry met by binary
 * requests): both checked by removing them.
 */
import { MALICIOUS_REVISION } from '../protocol/malicious/revision.js';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { maskedInput, reconstructOutput } from '../client-sdk/src/malicious-io.js';
import { decode, encode } from '../protocol/fixed-point/fixed-point.js';
import { addCost } from '../protocol/primitives/cost.js';
import { inputMaskCost, outputToClientCost } from '../protocol/malicious/client-io.js';
import { masksCost, savedCost } from '../protocol/malicious/mask-source.js';
import type { MalComparisons } from '../protocol/malicious/primitives.js';
import { malForwardCost } from '../protocol/malicious/runner.js';
import { setupCost } from '../protocol/malicious/session.js';
import { epochSetupCost } from '../protocol/malicious/epoch.js';
import { offlineBatchCost } from '../protocol/malicious/mask-pool.js';
import { TRUNC_ELL, usesSplitMask } from '../protocol/malicious/trunc.js';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../protocol/ir.js';
import { plainForward } from '../protocol/reference/forward.js';
import { networkA, seededPrg, uniform } from '../protocol/seed-models.js';
import { CHEAT_ENV } from './malicious-desk.js';
import { compareSettings, settingsError } from './link-hello.js';
import type { PartyId } from '../protocol/ring/types.js';
import { shareModelReplicated } from '../protocol/malicious/weights.js';
import { resolveConfig, type DeploymentConfig } from './config.js';
import { shareBundles } from './model-source.js';
import { createPartyServer, type PartyServer } from './server.js';
import { auth, partyTrio, testCerts, type PartyTrio } from './testing/trio.js';

const F = 13;
type Three = [Uint8Array, Uint8Array, Uint8Array];
const bytesOf = (r: { rawPayload: Buffer }): Uint8Array => new Uint8Array(r.rawPayload);
const argmax = (v: ArrayLike<number>): number => Array.from(v).reduce((b, x, i, a) => (x > a[b]! ? i : b), 0);
const weightsOf = (m: ModelIR<FloatTensor>): number => m.nodes.reduce((a, nd) => a + ('kernel' in nd && nd.kernel ? nd.kernel.data.length + (nd.bias?.data.length ?? 0) : 0), 0);

/** One prediction through the routes: the replies of the mask and the input steps. */
async function predict(t: PartyTrio, x: Float64Array) {
  const id = randomUUID();
  const m = await Promise.all(t.servers.map((s) => s.app.inject({ method: 'POST', url: `/v1/malicious/${id}/mask`, headers: auth })));
  if (m.some((r) => r.statusCode !== 200)) return { m, out: null };
  const d = maskedInput(encode(x, F), m.map(bytesOf) as Three);
  const out = await Promise.all(t.servers.map((s) => s.app.inject({ method: 'POST', url: `/v1/malicious/${id}/input`, headers: { ...auth, 'content-type': 'application/octet-stream' }, payload: Buffer.from(d) })));
  return { m, out };
}

function outputOf(out: Awaited<ReturnType<typeof predict>>['out'], n: number): Float64Array {
  expect(out!.map((r) => r.statusCode)).toEqual([200, 200, 200]);
  return decode(reconstructOutput(out!.map(bytesOf) as Three, n), F);
}

const setComparisons = (t: PartyTrio, c: MalComparisons, parties = [0, 1, 2]) => { for (const p of parties) t.servers[p]!.party.opts.malicious!.comparisons = c; };
const lastOf = (t: PartyTrio) => t.servers.map((s) => s.party.malDesk.last!);
const sumBytes = (t: PartyTrio): number => lastOf(t).reduce((a, l) => a + l.bytesSent, 0);
const maxRounds = (t: PartyTrio): number => Math.max(...lastOf(t).map((l) => l.rounds));
const settle = (t: PartyTrio) => Promise.all(t.servers.map((s) => s.party.malDesk.epochs.settled()));

describe("security 'malicious' served with malicious.comparisons 'binary'", () => {
  const model = networkA();
  const x = uniform(seededPrg(5), 784, 0.5).map((v) => v + 0.5);
  const want = plainForward(model, x, 1).data;
  const scale = Math.max(...Array.from(want, Math.abs));
  let t: PartyTrio | undefined;
  afterAll(async () => { await t?.close(); });

  it('Network A: the plaintext within the fixed-point tolerance, the arithmetic setting\'s argmax and values; the traffic is the declared binary cost; the pool\'s next entry (binary plan) is used', async () => {
    // The arithmetic setting's prediction first (the same deployment, pool off).
    const ta = await partyTrio({ plain: model, fracBits: F, security: 'malicious', tls: true, malicious: { poolInferences: 0 } });
    let ya: Float64Array;
    try {
      ya = outputOf((await predict(ta, x)).out, 10);
      expect(lastOf(ta).every((l) => l.comparisons === 'arithmetic')).toBe(true);
    } finally { await ta.close(); }
    t = await partyTrio({ plain: model, fracBits: F, security: 'malicious', tls: true, malicious: { comparisons: 'binary', poolInferences: 1 } });
    const y = outputOf((await predict(t, x)).out, 10);
    expect(lastOf(t).every((l) => l.comparisons === 'binary' && !l.pooled)).toBe(true);
    expect(Math.max(...Array.from(y, (g, i) => Math.abs(g - want[i]!))) / scale).toBeLessThan(2e-2);
    expect(argmax(y)).toBe(argmax(want));
    expect(argmax(y)).toBe(argmax(ya));
    expect(Math.max(...Array.from(y, (g, i) => Math.abs(g - ya[i]!))) / scale).toBeLessThan(2e-2);
    // The first session sets up the epoch; the forward pass is the binary one's declared cost (not the arithmetic one's).
    const fwd = malForwardCost(model, 1, F, { comparisons: 'binary' });
    expect(fwd.bytes).toBeLessThan(malForwardCost(model, 1, F).bytes / 2);
    const declared = addCost(epochSetupCost(weightsOf(model)), setupCost(), inputMaskCost(784), fwd, outputToClientCost());
    expect(sumBytes(t)).toBe(declared.bytes);
    expect(maxRounds(t)).toBe(declared.rounds);
    for (const s of t.servers) expect(s.party.malDesk.open).toBe(0);
    // The plan recorded in the binary domain (no arithmetic comparison masks: the ReLUs' daBits and AND triples), the pool filled.
    await settle(t);
    const plan = t.servers[0].party.malDesk.epochs.plan!;
    expect(plan.length).toBeGreaterThan(0);
    expect(plan.some((r) => /compare/i.test(r.kind))).toBe(false);
    expect(plan.filter((r) => r.kind === 'bin.dabits').map((r) => r.n)).toEqual([128, 128]);
    expect(plan.filter((r) => r.kind === 'bin.triples').length).toBe(2);
    // The truncations (Dense 128, 128, 10): inline the 3-round bits mask, in the offline batch the split one (trunc.ts
    // usesSplitMask); the batch's counters are the offline choice's declared cost, the pooled run saves the inline one's.
    expect(plan.filter((r) => r.kind === 'trunc').map((r) => r.n)).toEqual([128, 128, 10]);
    for (const n of [128, 10]) expect([usesSplitMask(n, F, TRUNC_ELL), usesSplitMask(n, F, TRUNC_ELL, 'offline')]).toEqual([false, true]);
    const st = t.servers.map((s) => s.party.malDesk.epochs.stats);
    expect(st.map((s) => s.batches)).toEqual([1, 1, 1]);
    expect(st.reduce((a, s) => a + s.bytesSent, 0)).toBe(offlineBatchCost(plan, 1).bytes);
    expect(Math.max(...st.map((s) => s.rounds))).toBe(offlineBatchCost(plan, 1).rounds);
    const y2 = outputOf((await predict(t, x)).out, 10);
    expect(lastOf(t).every((l) => l.pooled && l.comparisons === 'binary')).toBe(true);
    expect(argmax(y2)).toBe(argmax(want));
    const inEpoch = addCost(setupCost(), inputMaskCost(784), fwd, outputToClientCost());
    expect(sumBytes(t)).toBe(inEpoch.bytes - savedCost(plan).bytes);
    expect(maxRounds(t)).toBe(inEpoch.rounds - savedCost(plan).rounds);
  }, 240_000);

  it('another setting at one party: refused at every party at the session hello (E_SETTINGS_MISMATCH where the hellos are compared, else E_PEER_UNAVAILABLE from its mal-drop), before any share (nothing open, no new epoch); the same setting again: served', async () => {
    t ??= await partyTrio({ plain: model, fracBits: F, security: 'malicious', tls: true, malicious: { comparisons: 'binary', poolInferences: 1 } });
    await settle(t);
    const epochs = t.servers.map((s) => s.party.malDesk.epochs.stats.epochs);
    setComparisons(t, 'arithmetic', [2]);
    try {
      const { m, out } = await predict(t, x);
      expect(out).toBeNull();
      expect(m.map((r) => r.statusCode)).toEqual([503, 503, 503]);
      // Each party that compares the hellos refuses with E_SETTINGS_MISMATCH and tells the others (mal-drop); a party
      // that gets a peer's mal-drop (control channel) before the third party's hello (session view) ends the session
      // with E_PEER_UNAVAILABLE instead: both coded refusals before any share, which of them is a race.
      const bodies = m.map((r) => r.json() as { code: string; message: string });
      for (const b of bodies) expect(['E_SETTINGS_MISMATCH', 'E_PEER_UNAVAILABLE']).toContain(b.code);
      expect(bodies.filter((b) => b.code === 'E_SETTINGS_MISMATCH').length).toBeGreaterThan(0);
      for (const b of bodies.filter((x) => x.code === 'E_SETTINGS_MISMATCH')) expect(b.message).toContain('malicious.comparisons: P0 has binary, P1 has binary, P2 has arithmetic');
      for (const s of t.servers) expect(s.party.malDesk.open).toBe(0);
    } finally { setComparisons(t, 'binary', [2]); }
    // P2 dropped its binary epoch when asked for the arithmetic domain: the next session sets up a new one at the three.
    const y = outputOf((await predict(t, x)).out, 10);
    expect(argmax(y)).toBe(argmax(want));
    expect(lastOf(t).every((l) => l.comparisons === 'binary')).toBe(true);
    expect(t.servers.map((s) => s.party.malDesk.epochs.stats.epochs)).toEqual(epochs.map((e) => e + 1));
  }, 240_000);

  it('a party that alters its first binary AND message (test-only switch): E_INTEGRITY (502) at every party, nothing to reconstruct; the next session is right', async () => {
    await t?.close();
    t = undefined;
    process.env[CHEAT_ENV] = '1:mal:andB';
    try {
      t = await partyTrio({ plain: model, fracBits: F, security: 'malicious', tls: true, malicious: { comparisons: 'binary', poolInferences: 0 } });
    } finally {
      delete process.env[CHEAT_ENV];
    }
    const bad = await predict(t, x);
    expect(bad.m.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect(bad.out!.map((r) => r.statusCode)).toEqual([502, 502, 502]);
    for (const r of bad.out!) expect(r.json()).toMatchObject({ code: 'E_INTEGRITY' });
    for (const r of bad.out!) expect(r.headers['content-type']).toContain('application/json');
    for (const s of t.servers) expect(s.party.malDesk.open).toBe(0);
    const y = outputOf((await predict(t, x)).out, 10);
    expect(argmax(y)).toBe(argmax(want));
    expect(Math.max(...Array.from(y, (g, i) => Math.abs(g - want[i]!))) / scale).toBeLessThan(2e-2);
  }, 240_000);
});

describe("malicious.comparisons 'binary' with a warm pool: a party that alters the offline batch's daBit or triple messages", () => {
  const model = networkA();
  const x = uniform(seededPrg(5), 784, 0.5).map((v) => v + 0.5);
  const want = plainForward(model, x, 1).data;
  // The first message of each kind in the batch (test-only switch, parties/malicious-cheat.ts): P1's first AND of the
  // triples' cut-and-choose (step 1), P2's first binary opening (the cut and the sacrifices, step 3), P0's first product
  // of the daBits' parity (randbits.ts, on the arithmetic side: caught by the batch's MAC check).
  for (const cheat of ['1@offline:mal:triplesB', '2@offline:mal:openB', '0@offline:mal:mul']) {
    it(`${cheat}: the batch fails with E_INTEGRITY at every party, no entry, the epoch dropped; the next session is right (inline, new epoch), the pool refills and the one after is pooled and right`, async () => {
      process.env[CHEAT_ENV] = cheat;
      let t: PartyTrio;
      try {
        t = await partyTrio({ plain: model, fracBits: F, security: 'malicious', tls: true, malicious: { comparisons: 'binary', poolInferences: 1 } });
      } finally {
        delete process.env[CHEAT_ENV];
      }
      try {
        const first = outputOf((await predict(t, x)).out, 10);
        expect(argmax(first)).toBe(argmax(want));
        await settle(t);
        for (const s of t.servers) {
          expect(s.party.malDesk.epochs.stats.batches).toBe(0); // the cheated batch made no entry
          expect(s.party.malDesk.epochs.epoch).toBeNull(); // and its epoch was dropped: only an E_INTEGRITY does that (malicious-epoch.ts batch; another failure turns the pool off)
        }
        const y = outputOf((await predict(t, x)).out, 10);
        expect(argmax(y)).toBe(argmax(want));
        expect(lastOf(t).every((l) => !l.pooled && l.comparisons === 'binary')).toBe(true);
        expect(t.servers.map((s) => s.party.malDesk.epochs.stats.epochs)).toEqual([2, 2, 2]);
        await settle(t);
        const y2 = outputOf((await predict(t, x)).out, 10);
        expect(lastOf(t).every((l) => l.pooled)).toBe(true);
        expect(Math.max(...Array.from(y2, (g, i) => Math.abs(g - want[i]!))) / Math.max(...Array.from(want, Math.abs))).toBeLessThan(2e-2);
        for (const s of t.servers) expect(s.party.malDesk.open).toBe(0);
      } finally {
        await t.close();
      }
    }, 240_000);
  }
});

describe("malicious.comparisons 'binary' with a warm pool: a party that alters a message of a pooled session (test-only switch, scope 'pooled')", () => {
  const model = networkA();
  const x = uniform(seededPrg(5), 784, 0.5).map((v) => v + 0.5);
  const want = plainForward(model, x, 1).data;
  // In the party's first session that takes a pool entry: P1's first binary opening (e with the ANDs' rho and sigma
  // against the pooled triples), P2's zero-check hashes in the MAC check's sigma round, P0's first AND.
  for (const cheat of ['1@pooled:mal:openB', '2@pooled:/zeroB$/', '0@pooled:mal:andB']) {
    it(`${cheat}: E_INTEGRITY (502) at every party, nothing to reconstruct, the epoch dropped; the next session is right, then pooled and right`, async () => {
      process.env[CHEAT_ENV] = cheat;
      let t: PartyTrio;
      try {
        t = await partyTrio({ plain: model, fracBits: F, security: 'malicious', tls: true, malicious: { comparisons: 'binary', poolInferences: 1 } });
      } finally {
        delete process.env[CHEAT_ENV];
      }
      try {
        expect(argmax(outputOf((await predict(t, x)).out, 10))).toBe(argmax(want)); // not pooled: the switch waits
        await settle(t);
        const bad = await predict(t, x);
        expect(bad.m.map((r) => r.statusCode)).toEqual([200, 200, 200]);
        expect(bad.out!.map((r) => r.statusCode)).toEqual([502, 502, 502]);
        for (const r of bad.out!) expect(r.json()).toMatchObject({ code: 'E_INTEGRITY' });
        for (const s of t.servers) expect(s.party.malDesk.open).toBe(0);
        for (const s of t.servers) expect(s.party.malDesk.epochs.epoch).toBeNull();
        const y = outputOf((await predict(t, x)).out, 10);
        expect(argmax(y)).toBe(argmax(want));
        expect(lastOf(t).every((l) => !l.pooled)).toBe(true);
        await settle(t);
        const y2 = outputOf((await predict(t, x)).out, 10);
        expect(lastOf(t).every((l) => l.pooled)).toBe(true);
        expect(Math.max(...Array.from(y2, (g, i) => Math.abs(g - want[i]!))) / Math.max(...Array.from(want, Math.abs))).toBeLessThan(2e-2);
      } finally {
        await t.close();
      }
    }, 240_000);
  }
});

describe('malicious.comparisons: pool entries made for one domain are never used by the other', () => {
  const g = seededPrg(11);
  const dense = (name: string, input: string, din: number, units: number, activation: 'relu' | 'linear') => ({
    kind: 'dense' as const, name, inputs: [input], units, activation,
    kernel: { shape: [din, units], data: uniform(g, din * units, 0.5) }, bias: { shape: [units], data: uniform(g, units, 0.1) },
  });
  const model = { formatVersion: IR_FORMAT_VERSION, inputShape: [16], output: 'd2', outputActivation: 'linear', nodes: [dense('d1', 'input', 16, 8, 'relu'), dense('d2', 'd1', 8, 4, 'linear')] } as ModelIR<FloatTensor>;
  const x = uniform(seededPrg(5), 16, 1);
  const want = plainForward(model, x, 1).data;
  const right = (y: Float64Array) => { for (let i = 0; i < 4; i++) expect(Math.abs(y[i]! - want[i]!)).toBeLessThan(2e-2); };

  it('a warm arithmetic pool, then the three switched to binary: the next session makes its masks inline in a new epoch (binary cost), the pool refills with the binary plan and is used; and back', async () => {
    const t = await partyTrio({ plain: model, fracBits: F, security: 'malicious', tls: true, malicious: { poolInferences: 1 } });
    try {
      right(outputOf((await predict(t, x)).out, 4));
      await settle(t);
      right(outputOf((await predict(t, x)).out, 4));
      expect(lastOf(t).every((l) => l.pooled && l.comparisons === 'arithmetic')).toBe(true);
      await settle(t);
      const arithPlan = t.servers[0].party.malDesk.epochs.plan!;
      for (const [to, from] of [['binary', 'arithmetic'], ['arithmetic', 'binary']] as const) {
        // A warm pool of the other domain at every party (an entry is ready).
        for (const s of t.servers) expect(s.party.malDesk.epochs.epoch!.pool.size).toBeGreaterThan(0);
        expect(lastOf(t).every((l) => l.comparisons === from)).toBe(true);
        setComparisons(t, to);
        right(outputOf((await predict(t, x)).out, 4));
        expect(lastOf(t).every((l) => !l.pooled && l.comparisons === to)).toBe(true);
        const inline = addCost(epochSetupCost(weightsOf(model)), setupCost(), inputMaskCost(16), malForwardCost(model, 1, F, { comparisons: to }), outputToClientCost());
        expect(sumBytes(t)).toBe(inline.bytes);
        expect(maxRounds(t)).toBe(inline.rounds);
        await settle(t);
        const plan = t.servers[0].party.malDesk.epochs.plan!;
        if (to === 'binary') expect(masksCost(plan).bytes).toBeLessThan(masksCost(arithPlan).bytes);
        else expect(plan).toEqual(arithPlan);
        right(outputOf((await predict(t, x)).out, 4));
        expect(lastOf(t).every((l) => l.pooled && l.comparisons === to)).toBe(true);
        await settle(t);
      }
    } finally {
      await t.close();
    }
  }, 240_000);
});

describe('malicious.comparisons at link set-up (link-hello.ts)', () => {
  it("another value is refused with E_SETTINGS_MISMATCH naming it; a peer that does not send it (an older build) counts as 'arithmetic'", () => {
    const base = { security: 'malicious' as const, compareBits: 32 as const, compareRadix: 4 as const };
    const d = compareSettings(0, { ...base, maliciousComparisons: 'binary' }, 1, { ...base, maliciousComparisons: 'arithmetic' });
    expect(d.must).toEqual(['maliciousComparisons: P0 has binary, P1 has arithmetic']);
    expect(settingsError(1, d.must)).toMatchObject({ code: 'E_SETTINGS_MISMATCH', message: expect.stringContaining('maliciousComparisons: P0 has binary, P1 has arithmetic') });
    expect(compareSettings(2, { ...base, maliciousComparisons: 'binary' }, 0, base).must).toEqual(['maliciousComparisons: P0 has arithmetic, P2 has binary']);
    expect(compareSettings(0, { ...base, maliciousComparisons: 'arithmetic' }, 1, base).must).toEqual([]);
    expect(compareSettings(0, { ...base, maliciousComparisons: 'binary' }, 1, { ...base, maliciousComparisons: 'binary' }).must).toEqual([]);
  });

  // The party's own wiring (party.ts sends its config's value at HELLO), not only the comparison above: two party
  // servers, P0 'binary' and P1 'arithmetic', the link between them refused. Without party.ts's maliciousComparisons
  // the link came up (problem null; checked by removing it).
  const opened: PartyServer[] = [];
  afterEach(async () => { await Promise.all(opened.splice(0).map((s) => s.close())); });
  it("party servers configured 'binary' (P0) and 'arithmetic' (P1): the link is refused with E_SETTINGS_MISMATCH at P0, /readyz 503", async () => {
    const g = seededPrg(3);
    const model = { formatVersion: IR_FORMAT_VERSION, inputShape: [4], output: 'd', outputActivation: 'linear', nodes: [{ kind: 'dense' as const, name: 'd', inputs: ['input'], units: 2, activation: 'relu' as const, kernel: { shape: [4, 2], data: uniform(g, 8, 0.5) }, bias: { shape: [2], data: uniform(g, 2, 0.1) } }] } as ModelIR<FloatTensor>;
    const certs = testCerts();
    const bundles = shareBundles(model, F);
    shareModelReplicated(model, F).forEach((r, p) => { bundles[p]!.replicated = r; });
    const dep: DeploymentConfig = {
      tokens: ['binary-link-token-0123456789'], logLevel: 'silent', security: 'malicious', warmup: { runs: 0 },
      parties: ([0, 1, 2] as PartyId[]).map((p) => ({
        http: { host: '127.0.0.1', port: 0 }, ...(p < 2 ? { grpc: { host: '127.0.0.1', port: 0 } } : {}),
        tls: { ca: certs.ca.cert, cert: certs.parties[p].cert, key: certs.parties[p].key }, model: { devFile: 'unused' },
      })) as DeploymentConfig['parties'],
    };
    for (const p of [0, 1] as PartyId[]) {
      const cfg = resolveConfig(dep, p, process.cwd(), { malicious: { ...resolveConfig(dep, p, process.cwd()).malicious, comparisons: p === 0 ? 'binary' : 'arithmetic' } });
      const srv = createPartyServer(cfg, { model: { kind: 'memory', bundle: bundles[p] }, logger: false, mesh: { reconnectMs: { min: 30, max: 100 } } });
      opened.push(srv);
      const { grpcPort } = await srv.start();
      dep.parties[p].grpc!.port = grpcPort!;
    }
    const t0 = Date.now();
    while (opened[0]!.party.mesh.health[1]!.problem === null && Date.now() - t0 < 5_000) await new Promise((r) => setTimeout(r, 20));
    expect(opened[0]!.party.mesh.health[1]!.problem).toMatchObject({ code: 'E_SETTINGS_MISMATCH', message: 'maliciousComparisons: P0 has binary, P1 has arithmetic (must be the same at the three parties)' });
    expect(opened[0]!.party.mesh.health[1]!.ups).toBe(0);
    expect((await opened[0]!.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    // The revision of the malicious messages is in this party's HELLO (party.ts), so a peer on a build with other
    // messages is refused at set-up (below) instead of failing its first run with E_INTEGRITY.
    expect(opened[0]!.party.mesh.settingsOf(0)).toMatchObject({ maliciousRevision: MALICIOUS_REVISION });
  }, 60_000);

  it('another revision of the malicious messages (revision.ts), or none (a build before it: 1), is refused naming it', () => {
    const base = { security: 'malicious' as const, compareBits: 32 as const, compareRadix: 4 as const, maliciousComparisons: 'arithmetic' as const };
    expect(MALICIOUS_REVISION).toBeGreaterThan(1);
    expect(compareSettings(0, { ...base, maliciousRevision: MALICIOUS_REVISION }, 1, base).must).toEqual([`maliciousRevision: P0 has ${MALICIOUS_REVISION}, P1 has 1`]);
    expect(compareSettings(2, { ...base, maliciousRevision: MALICIOUS_REVISION }, 1, { ...base, maliciousRevision: MALICIOUS_REVISION + 1 }).must).toEqual([`maliciousRevision: P1 has ${MALICIOUS_REVISION + 1}, P2 has ${MALICIOUS_REVISION}`]);
    expect(compareSettings(0, { ...base, maliciousRevision: MALICIOUS_REVISION }, 1, { ...base, maliciousRevision: MALICIOUS_REVISION }).must).toEqual([]);
    // Two semi-honest parties send none: equal.
    expect(compareSettings(0, { security: 'semi-honest' }, 1, { security: 'semi-honest' }).must).toEqual([]);
  });
});
