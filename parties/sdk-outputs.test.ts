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
