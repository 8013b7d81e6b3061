/**
 * The output step's comparison ring for a label mode only the request asks of a model imported for logits
 * (run-executor.ts privateOutputs): the party's 32-bit ring where the manifest's outputCompareBits (mpc-import,
 * model-import/output-bound.ts) says the logits' comparisons fit it, else the 64-bit ring (a manifest that says 64,
 * an older bundle without the field). Checked on the transport's counters (the 'privateOutput' step's bytes over
 * the three parties, preprocessing off so every byte is online) against the declared cost, and on the labels against
 * the plaintext argmax. Three in-process parties over gRPC, client API through inject().
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IR_FORMAT_VERSION, type FloatTensor, type ModelIR } from '../protocol/ir.js';
import { privateOutputCost, resolvePolicy } from '../protocol/privacy/index.js';
import { plainForward } from '../protocol/reference/forward.js';
import { seededPrg, uniform } from '../protocol/seed-models.js';
import { compareSettings, type LinkSettings } from './link-hello.js';
import { loadPartyModel, shareBundles } from './model-source.js';
import { finishSession, partyTrio, startSession, type PartyTrio, type TrioOptions } from './testing/trio.js';

const F = 16;
const IN = 8;
const C = 4;
const N = 8;

/** privacy.test.ts's dense classifier 8 - 16 relu - 4 (seed 7); `scale` multiplies the last kernel. */
function tinyModel(scale: number): ModelIR<FloatTensor> {
  const g = seededPrg(7);
  const t = (shape: number[], a: number): FloatTensor => ({ shape, data: uniform(g, shape.reduce((x, y) => x * y, 1), a) });
  const d2 = t([16, C], 1);
  return {
    formatVersion: IR_FORMAT_VERSION, inputShape: [IN], output: 'd2', outputActivation: 'softmax', labels: ['a', 'b', 'c', 'd'],
    nodes: [
      { kind: 'dense', name: 'd1', inputs: ['input'], units: 16, activation: 'relu', kernel: t([IN, 16], 1), bias: t([16], 0.1) },
      { kind: 'dense', name: 'd2', inputs: ['d1'], units: C, activation: 'linear', kernel: { ...d2, data: d2.data.map((w) => w * scale) }, bias: t([C], 0.1) },
    ],
  };
}

const input = (seed: number): Float64Array => uniform(seededPrg(seed), N * IN, 2);
const argmaxRows = (y: Float64Array | Float32Array): number[] => Array.from({ length: N }, (_, i) => {
  const row = Array.from(y.subarray(i * C, (i + 1) * C));
  return row.indexOf(Math.max(...row));
});
/** The declared cost of a request-only 'label' on a logits model at this ring (radix 4: 'direct'). */
const declared = (bits: 32 | 64) => privateOutputCost(N, C, resolvePolicy({ outputMode: 'logits' }, { outputMode: 'label' }, { classes: C }), 'direct', bits);

/** Runs 'label' for N images; returns the labels and the 'privateOutput' step's bytes over the three parties. */
async function labelRun(t: PartyTrio, x: Float64Array): Promise<{ labels: number[] | undefined; bytes: number }> {
  const id = await startSession(t, x, N, F, { privacy: { outputMode: 'label' } });
  const out = await finishSession(t, id, F);
  expect(out).toMatchObject({ ok: true, mode: 'label' });
  const recs = t.servers.map((s) => s.party.runOf(id)!);
  expect(recs.every((r) => !r.preprocessed)).toBe(true);
  const bytes = recs.reduce((a, r) => a + r.layers!.find((l) => l.name === 'privateOutput')!.bytesSent, 0);
  return { labels: out.labels, bytes };
}

const trioOf = (plain: ModelIR<FloatTensor>, extra: Partial<TrioOptions> = {}) => partyTrio({ plain, fracBits: F, tls: false, preprocess: { enabled: false }, ...extra });

describe('request-only label mode on a logits model: the ring the manifest\'s outputCompareBits gives', () => {
  it('the 32-bit and 64-bit declared costs differ (the checks below tell the rings apart)', () => {
    expect(declared(32).bytes).toBeLessThan(declared(64).bytes);
    expect(declared(32).rounds).toBe(declared(64).rounds);
  });

  describe('outputCompareBits 32 (the logits fit the 32-bit ring)', () => {
    const plain = tinyModel(1);
    let t: PartyTrio;
    beforeAll(async () => { t = await trioOf(plain, { outputCompare: { bits: 32, bound: 'sound' } }); });
    afterAll(async () => { await t?.close(); });
    it('decides on the 32-bit ring: the step\'s bytes are the 32-bit declared cost; labels are the plaintext argmax', async () => {
      const x = input(11);
      const r = await labelRun(t, x);
      expect(r.bytes).toBe(declared(32).bytes);
      expect(r.labels).toEqual(argmaxRows(plainForward(plain, x, N).data));
    });
  });

  describe('outputCompareBits 64 (privacy.test.ts\'s failing case: logits differ by more than 2^31 ring units)', () => {
    const plain = tinyModel(20000);
    let t: PartyTrio;
    // Exact truncation, as mpc-import would choose for this model: its last layer's products (|x| up to ~2^49 ring
    // units) make the local rule fail with probability ~|x| / 2^63 per element, 3.5e-4 wrong labels per run of these 8
    // images (108 of 312,158 in-process runs), which this test took for a wrong decision ring.
    beforeAll(async () => { t = await trioOf(plain, { outputCompare: { bits: 64, bound: 'sound' }, truncation: 'exact' }); });
    afterAll(async () => { await t?.close(); });
    it('decides on the 64-bit ring and gives the plaintext argmax (5 of 8 were wrong on the 32-bit ring)', async () => {
      const x = input(501);
      const y = plainForward(plain, x, N).data;
      expect(Math.max(...Array.from(y, Math.abs))).toBeGreaterThan(2 ** 15);
      const r = await labelRun(t, x);
      expect(r.bytes).toBe(declared(64).bytes);
      expect(r.labels).toEqual(argmaxRows(y));
    });
  });

  describe('an older bundle without outputCompareBits', () => {
    const plain = tinyModel(1);
    let t: PartyTrio;
    beforeAll(async () => { t = await trioOf(plain); });
    afterAll(async () => { await t?.close(); });
    it('decides on the 64-bit ring, as before the field existed', async () => {
      const x = input(11);
      const r = await labelRun(t, x);
      expect(r.bytes).toBe(declared(64).bytes);
      expect(r.labels).toEqual(argmaxRows(plainForward(plain, x, N).data));
    });
  });
});

describe('the parties agree on the decisions\' ring at HELLO (link-hello.ts MUST outputCompareBits)', () => {
  const base: LinkSettings = { compareBits: 32, compareRadix: 4, modelHash: 'a'.repeat(64), importId: 'e'.repeat(32) };
  it('a party whose manifest says 32 and one that says 64 are refused, naming both values', () => {
    expect(compareSettings(0, { ...base, outputCompareBits: 32 }, 1, { ...base, outputCompareBits: 64 }).must).toEqual(['outputCompareBits: P0 has 32, P1 has 64']);
  });
  it('a peer that sends no value (a build before the field, which decides on 64 bits) counts as 64', () => {
    expect(compareSettings(1, { ...base, outputCompareBits: 32 }, 2, base).must).toEqual(['outputCompareBits: P1 has 32, P2 has 64']);
    expect(compareSettings(1, { ...base, outputCompareBits: 64 }, 2, base).must).toEqual([]);
    expect(compareSettings(1, { ...base, outputCompareBits: 32 }, 2, { ...base, outputCompareBits: 32 }).must).toEqual([]);
  });
});

describe('a party reads outputCompareBits from the manifest (model-source.ts)', () => {
  it('32 | 64 with its bound is loaded; absent stays absent (64 at the party); anything else is E_MODEL_FORMAT', async () => {
    const [b] = shareBundles(tinyModel(1), F);
    expect((await loadPartyModel({ kind: 'memory', bundle: b }, 0)).outputCompareBits).toBeUndefined();
    const with32 = { ...b, manifest: { ...b.manifest, outputCompareBits: 32 as const, outputCompareBound: 'sound' as const } };
    expect((await loadPartyModel({ kind: 'memory', bundle: with32 }, 0)).outputCompareBits).toBe(32);
    for (const bad of [{ outputCompareBits: 48, outputCompareBound: 'sound' }, { outputCompareBits: 32 }, { outputCompareBound: 'samples-only' }]) {
      const m = { ...b, manifest: { ...b.manifest, ...bad } } as unknown as typeof b;
      await expect(loadPartyModel({ kind: 'memory', bundle: m }, 0)).rejects.toMatchObject({ code: 'E_MODEL_FORMAT' });
    }
  });
});
