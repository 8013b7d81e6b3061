import { cpSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode } from '../protocol/fixed-point/fixed-point.js';
import { getKernels } from '../protocol/kernels/index.js';
import { reconstruct } from '../protocol/sharing/sharing.js';
import type { FloatTensor, ModelIR } from '../protocol/ir.js';
import { BUNDLE_FORMAT_VERSION, loadBundle, writeBundles, type BundleManifest } from './bundle.js';
import { loadModel } from './load.js';
import { seedBuilder, writeModelFile } from './seed-models.js';
import { tempDir } from './testing/fixtures.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const k = getKernels();

let ir: ModelIR<FloatTensor>;
let sourceHash: string;
let out: string;
let manifests: BundleManifest[];

beforeAll(async () => {
  const f = path.join(tmp.dir, 'cnn.keras');
  await writeModelFile(seedBuilder('cnn-avgpool', { seed: 11 }), f);
  const loaded = await loadModel(f, { labels: ['NORMAL', 'PNEUMONIA'] });
  ir = loaded.ir;
  sourceHash = loaded.sourceHash;
  out = path.join(tmp.dir, 'bundles');
  manifests = writeBundles(loaded, out, { fracBits: 13 });
});

/** A copy of the good bundle, for tampering. */
function copyBundle(name: string): string {
  const dst = path.join(tmp.dir, name);
  cpSync(out, dst, { recursive: true });
  return dst;
}

describe('share bundles', () => {
  it('writes party0..2 with manifests that agree on everything but the party and payload', () => {
    expect(readdirSync(out).sort()).toEqual(['party0', 'party1', 'party2']);
    const [m0, m1, m2] = manifests as [BundleManifest, BundleManifest, BundleManifest];
    expect([m0.party, m1.party, m2.party]).toEqual([0, 1, 2]);
    for (const m of manifests) {
      expect(m.formatVersion).toBe(BUNDLE_FORMAT_VERSION);
      expect(m.modelHash).toBe(sourceHash);
      expect(m.importId).toBe(m0.importId);
      expect(m.fracBits).toBe(13);
      expect(m.inputShape).toEqual([150, 125, 1]);
      expect(m.outputActivation).toBe('softmax');
      expect(m.labels).toEqual(['NORMAL', 'PNEUMONIA']);
      expect(m.privacy).toBeUndefined();
      expect(m.nodes.map((n) => n.name)).toEqual(ir.nodes.map((n) => n.name));
    }
    expect(m0.payload.bytes).toBe(m0.params * 8);
    expect(m2.payload.bytes).toBe(0);
    expect(readFileSync(path.join(out, 'party2', 'weights.bin')).length).toBe(0);
    expect(m0.payload.sha256).not.toBe(m1.payload.sha256);
  });

  it('P0 + P1 reconstruct exactly the fixed-point encoding of every weight and bias', () => {
    const b0 = loadBundle(out, 0);
    const b1 = loadBundle(path.join(out, 'party1'), 1);
    ir.nodes.forEach((n, i) => {
      if (!('kernel' in n)) return;
      const n0 = b0.model.nodes[i]!;
      const n1 = b1.model.nodes[i]!;
      if (!('kernel' in n0) || !('kernel' in n1)) throw new Error('node kinds differ');
      expect(n0.kernel.shape).toEqual(n.kernel.shape);
      expect(reconstruct(k, n0.kernel.data, n1.kernel.data)).toEqual(encode(n.kernel.data, 13));
      expect(reconstruct(k, n0.bias!.data, n1.bias!.data)).toEqual(encode(n.bias!.data, 13));
      // A single share looks nothing like the weights.
      expect(n0.kernel.data).not.toEqual(encode(n.kernel.data, 13));
    });
  });

  it('P2 gets the architecture with shapes and no weight data', () => {
    const { model, manifest } = loadBundle(out, 2);
    expect(manifest.party).toBe(2);
    for (const n of model.nodes) {
      if (!('kernel' in n)) continue;
      expect(n.kernel.data).toBeInstanceOf(BigUint64Array);
      expect(n.kernel.data.length).toBe(0);
      expect(n.kernel.shape.length).toBeGreaterThan(0);
    }
    expect(model.output).toBe(ir.output);
  });

  it('refuses a payload whose sha256 does not match', () => {
    const d = copyBundle('tampered');
    const w = path.join(d, 'party0', 'weights.bin');
    const b = readFileSync(w);
    b[1234] = b[1234]! ^ 1;
    writeFileSync(w, b);
    expect(() => loadBundle(d, 0)).toThrow(expect.objectContaining({ code: 'E_BUNDLE_INTEGRITY', message: expect.stringMatching(/sha256/) }));
  });

  it('refuses a truncated payload', () => {
    const d = copyBundle('truncated');
    const w = path.join(d, 'party1', 'weights.bin');
    writeFileSync(w, readFileSync(w).subarray(0, 4096));
    expect(() => loadBundle(d, 1)).toThrow(expect.objectContaining({ code: 'E_BUNDLE_INTEGRITY', message: expect.stringMatching(/truncated/) }));
  });

  it('refuses another format version', () => {
    const d = copyBundle('version');
    const mp = path.join(d, 'party0', 'manifest.json');
    const m = JSON.parse(readFileSync(mp, 'utf8')) as BundleManifest;
    writeFileSync(mp, JSON.stringify({ ...m, formatVersion: BUNDLE_FORMAT_VERSION + 1 }));
    expect(() => loadBundle(d, 0)).toThrow(expect.objectContaining({ code: 'E_BUNDLE_INTEGRITY', message: expect.stringMatching(/format version/) }));
  });

  it('refuses a bundle loaded as the wrong party, and a corrupt manifest', () => {
    expect(() => loadBundle(path.join(out, 'party0'), 1)).toThrow(expect.objectContaining({ code: 'E_BUNDLE_INTEGRITY', message: expect.stringMatching(/party 0, not party 1/) }));
    const d = copyBundle('badjson');
    writeFileSync(path.join(d, 'party2', 'manifest.json'), '{"format": ');
    expect(() => loadBundle(d, 2)).toThrow(expect.objectContaining({ code: 'E_BUNDLE_INTEGRITY' }));
  });

  it('writes an optional privacy policy into the three manifests (same format version); refuses an invalid one before writing', () => {
    // Two outputs clipped to [-8, 8]: L1 sensitivity 2 * 8 * 2 = 32.
    const privacy = { outputMode: 'label+confidence' as const, confidenceThresholds: [1, 3], dp: { mechanism: 'laplace' as const, epsilon: 1, sensitivity: 32, clip: 8 } };
    const dir = path.join(tmp.dir, 'private');
    const ms = writeBundles({ ir, sourceHash }, dir, { fracBits: 13, privacy });
    for (const p of [0, 1, 2] as const) {
      expect(ms[p]!.formatVersion).toBe(BUNDLE_FORMAT_VERSION);
      expect(loadBundle(dir, p).manifest.privacy).toEqual(privacy);
    }
    const never = path.join(tmp.dir, 'never');
    for (const bad of [{ outputMode: 'probabilities' }, { outputMode: 'label+confidence', confidenceThresholds: [3, 1] }, { outputMode: 'logits', dp: { mechanism: 'laplace', epsilon: 0, sensitivity: 1 } }]) {
      expect(() => writeBundles({ ir, sourceHash }, never, { privacy: bad as never })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
    }
    // A sensitivity below what the clip bound implies for the model's two outputs: refused, naming both numbers.
    expect(() => writeBundles({ ir, sourceHash }, never, { privacy: { ...privacy, dp: { ...privacy.dp, sensitivity: 2 } } })).toThrow(expect.objectContaining({ code: 'E_DP_SENSITIVITY', message: expect.stringMatching(/sensitivity 2 is below 32, the L1 sensitivity that clip 8 implies for 2 outputs/) }));
    // Gaussian: L2, 2 * 8 * sqrt 2 = 22.6.
    expect(() => writeBundles({ ir, sourceHash }, never, { privacy: { outputMode: 'label', dp: { mechanism: 'gaussian', epsilon: 0.5, delta: 1e-6, sensitivity: 22, clip: 8 } } })).toThrow(expect.objectContaining({ code: 'E_DP_SENSITIVITY', message: expect.stringMatching(/below 22\.62/) }));
    // Decision thresholds are for sigmoid outputs decided per element; this model is a 2-class softmax.
    expect(() => writeBundles({ ir, sourceHash }, never, { privacy: { outputMode: 'label', decisionThresholds: [0.3] } })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT', message: expect.stringMatching(/decisionThresholds apply to sigmoid outputs/) }));
    // A noise scale the 13 fractional bits cannot carry.
    expect(() => writeBundles({ ir, sourceHash }, never, { fracBits: 13, privacy: { outputMode: 'label', dp: { mechanism: 'laplace', epsilon: 1e-6, sensitivity: 1e4 } } })).toThrow(expect.objectContaining({ code: 'E_DP_PARAMETER' }));
    expect(readdirSync(tmp.dir)).not.toContain('never');
    const mp = path.join(dir, 'party1', 'manifest.json');
    writeFileSync(mp, JSON.stringify({ ...(JSON.parse(readFileSync(mp, 'utf8')) as BundleManifest), privacy: { outputMode: 'label', dp: { mechanism: 'laplace', epsilon: -1, sensitivity: 1 } } }));
    expect(() => loadBundle(dir, 1)).toThrow(expect.objectContaining({ code: 'E_BUNDLE_INTEGRITY', message: expect.stringMatching(/privacy policy/) }));
  });

  it('writes truncation: exact into the three manifests when asked (absent means local); refuses an unknown mode when writing and when loading', () => {
    const dir = path.join(tmp.dir, 'exact');
    writeBundles({ ir, sourceHash }, dir, { fracBits: 13, truncation: 'exact' });
    for (const p of [0, 1, 2] as const) expect(loadBundle(dir, p).manifest.truncation).toBe('exact');
    expect(loadBundle(out, 0).manifest.truncation).toBeUndefined();
    expect(() => writeBundles({ ir, sourceHash }, path.join(tmp.dir, 'never2'), { truncation: 'fast' as never })).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
    expect(readdirSync(tmp.dir)).not.toContain('never2');
    const mp = path.join(dir, 'party2', 'manifest.json');
    writeFileSync(mp, JSON.stringify({ ...(JSON.parse(readFileSync(mp, 'utf8')) as BundleManifest), truncation: 'fast' }));
    expect(() => loadBundle(dir, 2)).toThrow(expect.objectContaining({ code: 'E_BUNDLE_INTEGRITY', message: expect.stringMatching(/truncation/) }));
  });

  it('will not overwrite an existing output unless asked, and then replaces it whole', () => {
    expect(() => writeBundles({ ir, sourceHash }, out)).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
    const again = writeBundles({ ir, sourceHash }, out, { overwrite: true, fracBits: 16 });
    expect(again[0]!.importId).not.toBe(manifests[0]!.importId);
    expect(loadBundle(out, 0).manifest.fracBits).toBe(16);
    expect(readdirSync(tmp.dir).filter((e) => /\.(tmp|old)-/.test(e))).toEqual([]);
    manifests = writeBundles({ ir, sourceHash }, out, { overwrite: true, fracBits: 13 });
  });
});
