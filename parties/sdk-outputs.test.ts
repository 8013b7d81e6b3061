/**
 * The SDK's results for multi-label sigmoid heads and dense (segmentation)
 * outputs against the real parties (partyTrio: three in-process servers over
 * HTTP and gRPC), with a DICOM X-ray as input: the secure result matches the
 * plaintext forward pass of the same model on the same preprocessed input.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IR_FORMAT_VERSION, type FloatTensor, type LayerNode, type ModelIR } from '../protocol/ir.js';
import { plainForward } from '../protocol/reference/forward.js';
import { thresholdDecisionsCost } from '../protocol/privacy/decisions.js';
import { seededPrg, uniform } from '../protocol/seed-models.js';
import { PrivateInferenceClient, decodeDicom, preprocessImage, sigmoid, specForInputShape } from '../client-sdk/src/index.js';
import { DICOM_DIR } from '../client-sdk/testing/fixtures.js';
import { partyTrio, TEST_TOKEN, type PartyTrio } from './testing/trio.js';

const F = 16;
const H = 16;
const g = seededPrg(11);
const t = (shape: number[], a: number): FloatTensor => ({ shape, data: uniform(g, shape.reduce((x, y) => x * y, 1), a) });
const conv = (name: string, input: string, cin: number, filters: number, activation: 'relu' | 'linear'): LayerNode<FloatTensor> => ({
  kind: 'conv2d', name, inputs: [input], filters, kernelSize: [3, 3], strides: [1, 1], padding: 'same', activation,
  kernel: t([3, 3, cin, filters], Math.sqrt(6 / (9 * cin))), bias: t([filters], 0.05),
});
const LABELS = Array.from({ length: 14 }, (_, i) => `finding-${i}`);

/** 16x16x1 -> conv 4 relu -> flatten -> dense 14, sigmoid per label (a CheXNet-style head). */
const multiLabel: ModelIR<FloatTensor> = {
  formatVersion: IR_FORMAT_VERSION, inputShape: [H, H, 1], output: 'd', outputActivation: 'sigmoid', labels: LABELS,
  nodes: [
    conv('c1', 'input', 1, 4, 'relu'),
    { kind: 'flatten', name: 'f', inputs: ['c1'] },
    { kind: 'dense', name: 'd', inputs: ['f'], units: 14, activation: 'linear', kernel: t([H * H * 4, 14], Math.sqrt(6 / (H * H * 4)) * 4), bias: t([14], 0.5) },
  ],
};

/** 16x16x1 -> conv 4 relu -> conv 1: a [16, 16, 1] mask of logits, sigmoid per pixel (a U-Net's last layers). */
const segmentation: ModelIR<FloatTensor> = {
  formatVersion: IR_FORMAT_VERSION, inputShape: [H, H, 1], output: 'c2', outputActivation: 'sigmoid',
  nodes: [conv('c1', 'input', 1, 4, 'relu'), conv('c2', 'c1', 4, 1, 'linear')],
};

async function client(trio: PartyTrio): Promise<PrivateInferenceClient> {
  const ports = await Promise.all(trio.servers.map(async (s) => (await s.listen()).httpPort));
  return new PrivateInferenceClient({ parties: ports.map((p) => `http://127.0.0.1:${p}`), token: TEST_TOKEN, timeoutMs: 30_000 });
}

const FILE = join(DICOM_DIR, 'xray-mono1-12bit.dcm');

/** What the SDK sends for FILE to a [16, 16, 1] model with the default preprocessing (x/255). */
async function preprocessed(): Promise<Float64Array> {
  const img = await decodeDicom(new Uint8Array(readFileSync(FILE)));
  return Float64Array.from(preprocessImage(img, specForInputShape([H, H, 1])));
}

describe('multi-label sigmoid head through the real parties', () => {
  let trio: PartyTrio;
  beforeAll(async () => { trio = await partyTrio({ plain: multiLabel, fracBits: F, tls: false }); }, 30_000);
  afterAll(async () => { await trio?.close(); });

  it('14 probabilities within 1e-3 of the plaintext model, the same decision for every label', async () => {
    const r = await (await client(trio)).predict(new Uint8Array(readFileSync(FILE)));
    expect(r.kind).toBe('multi-label');
    // The three parties announce the one import their shares come from (the SDK compared them).
    expect(r.model.importId).toMatch(/^[0-9a-f]{32}$/);
    const want = sigmoid(Array.from(plainForward(multiLabel, await preprocessed(), 1).data));
    expect(r.probabilities).toHaveLength(14);
    r.probabilities.forEach((p, i) => expect(Math.abs(p - want[i]!)).toBeLessThan(1e-3));
    for (const f of r.findings!) expect(f.positive, f.label as string).toBe(want[f.index]! >= 0.5);
    // a head with findings on both sides of 0.5, so the per-label decisions are tested
    expect(new Set(want.map((p) => p >= 0.5)).size).toBe(2);
  }, 30_000);
});

describe('dense output (segmentation mask [16, 16, 1]) through the real parties', () => {
  let trio: PartyTrio;
  beforeAll(async () => { trio = await partyTrio({ plain: segmentation, fracBits: F, tls: false }); }, 30_000);
  afterAll(async () => { await trio?.close(); });

  it('the mask as a Float32Array [16, 16, 1]: max abs error under 1e-3, every pixel on the plaintext side of 0.5', async () => {
    const r = await (await client(trio)).predict(new Uint8Array(readFileSync(FILE)));
    expect(r.kind).toBe('mask');
    expect(r.model.outputShape).toEqual([H, H, 1]);
    const m = r.mask!;
    expect(m.shape).toEqual([H, H, 1]);
    expect(m.probabilities).toBeInstanceOf(Float32Array);
    const want = sigmoid(Array.from(plainForward(segmentation, await preprocessed(), 1).data));
    expect(m.probabilities).toHaveLength(want.length);
    let maxErr = 0, same = 0;
    want.forEach((p, i) => { maxErr = Math.max(maxErr, Math.abs(m.probabilities[i]! - p)); if ((m.classes[i] === 1) === (p >= 0.5)) same++; });
    console.log(`segmentation via real parties: max |p - plain| ${maxErr.toExponential(2)}, ${same}/${want.length} pixels on the same side of 0.5, ${(m.positiveFraction * 100).toFixed(1)}% positive`);
    expect(maxErr).toBeLessThan(1e-3);
    expect(same / want.length).toBeGreaterThanOrEqual(0.999);
    expect(m.positiveFraction).toBeGreaterThan(0);
    expect(m.positiveFraction).toBeLessThan(1);
  }, 30_000);
});

/**
 * The label-only modes through the real parties: decisions computed inside the protocol against the plaintext
 * model. Agreement rule: a decision may differ from the plaintext threshold only for a logit within the fixed-point
 * error of the threshold: |z_plain - logit(t)| <= e + 2^-f, where e is the largest |z_secure - z_plain| of the same
 * input in logits mode (measured here) and 2^-f covers the rounding of logit(t) to the lattice.
 */
describe('label-only modes for a multi-label head and a mask through the real parties', () => {
  const thresholds = LABELS.map((_, i) => [0.5, 0.35, 0.65, 0.2, 0.8, 0.5, 0.5][i % 7]!);
  const logitT = (t: number) => Math.log(t / (1 - t));

  it('multi-label: per-label decisions at the manifest\'s thresholds agree with the plaintext model (rule above); buckets with label+confidence', async () => {
    const trio = await partyTrio({ plain: multiLabel, fracBits: F, tls: false, policy: { outputMode: 'logits', decisionThresholds: thresholds, confidenceThresholds: [0.25, 1] } });
    try {
      const c = await client(trio);
      const bytes = new Uint8Array(readFileSync(FILE));
      const z = Array.from(plainForward(multiLabel, await preprocessed(), 1).data);
      const logits = await c.predict(bytes);
      const e = Math.max(...logits.logits.map((v, i) => Math.abs(v - z[i]!)));
      // logits mode: the manifest's thresholds are announced and the SDK's findings decide at them too
      expect(logits.model.decisionThresholds).toEqual(thresholds);
      for (const f of logits.findings!) expect(f.positive).toBe(f.probability >= thresholds[f.index]!);
      const r = await c.predict(bytes, { privacy: { outputMode: 'label+confidence' } });
      expect(r.kind).toBe('multi-label');
      expect(r.model.privacy?.decisionThresholds).toEqual(thresholds);
      let agree = 0;
      r.decisions!.forEach((d, i) => {
        const margin = z[i]! - logitT(thresholds[i]!);
        if (d.positive === (margin >= 0)) agree++;
        else expect(Math.abs(margin), `label ${i}`).toBeLessThanOrEqual(e + 2 ** -F);
        const m = Math.abs(margin);
        if (Math.abs(m - 0.25) > e + 2 ** -F && Math.abs(m - 1) > e + 2 ** -F) expect(d.confidenceBucket, `label ${i}`).toBe(m >= 1 ? 2 : m >= 0.25 ? 1 : 0);
      });
      console.log(`multi-label via real parties, label mode: ${agree}/14 decisions as the plaintext model (logit error ${e.toExponential(2)})`);
      expect(agree).toBeGreaterThanOrEqual(13);
      expect(new Set(r.decisions!.map((d) => d.positive)).size).toBe(2);
    } finally { await trio.close(); }
  }, 60_000);

  it("mask [16, 16, 1]: 'label' gives a Uint8Array mask; >= 99.9% of pixels as the plaintext threshold, the rest within the fixed-point error", async () => {
    const trio = await partyTrio({ plain: segmentation, fracBits: F, tls: false });
    try {
      const c = await client(trio);
      const bytes = new Uint8Array(readFileSync(FILE));
      const z = Array.from(plainForward(segmentation, await preprocessed(), 1).data);
      const plainRun = await c.predict(bytes);
      const e = Math.max(...plainRun.logits.map((v, i) => Math.abs(v - z[i]!)));
      const r = await c.predict(bytes, { privacy: { outputMode: 'label' } });
      expect(r.kind).toBe('mask');
      const m = r.mask!;
      expect(m.shape).toEqual([H, H, 1]);
      expect(m.mask).toBeInstanceOf(Uint8Array);
      let same = 0;
      z.forEach((v, i) => { if ((m.mask[i] === 1) === (v >= 0)) same++; else expect(Math.abs(v)).toBeLessThanOrEqual(e + 2 ** -F); });
      expect(same / z.length).toBeGreaterThanOrEqual(0.999);
      expect(m.positiveFraction).toBeGreaterThan(0);
      expect(m.positiveFraction).toBeLessThan(1);
      // The output step in the parties' run stats against its declared cost: one DReLU batch, on the 64-bit comparison ring
      // since this model is served for logits (its import bounded no comparison of its logits; run-executor.ts; a model
      // imported with a label policy decides on the servers' 32-bit radix-4 ring): bytes of the 'privateOutput' step over
      // the three parties (unless P2 dealt ahead: offline phase).
      const recs = trio.servers.map((srv) => srv.party.runOf(r.sessionId)!);
      const base = trio.servers.map((srv) => srv.party.runOf(plainRun.sessionId)!);
      const steps = recs.map((rec) => rec.layers!.find((l) => l.name === 'privateOutput')!);
      const want = thresholdDecisionsCost(H * H, 0, 'direct', 64);
      // Rounds: the run's depth (max over the parties) grows by exactly the declared rounds over the same forward in logits
      // mode (a party's own delta for the step is not the step's depth: P0 reaches the forward's end later than P2).
      const depth = (rs: { rounds: number }[]) => Math.max(...rs.map((x) => x.rounds));
      expect(depth(recs) - depth(base)).toBe(want.rounds);
      const sent = steps.reduce((a, l) => a + l.bytesSent, 0);
      if (recs.every((x) => !x.preprocessed)) expect(sent).toBe(want.bytes);
      else expect(sent).toBeLessThan(want.bytes);
    } finally { await trio.close(); }
  }, 60_000);
});
