import { createHash, randomFillSync } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getKernels } from '../protocol/kernels/index.js';
import { encode } from '../protocol/fixed-point/fixed-point.js';
import { reconstruct } from '../protocol/sharing/sharing.js';
import { loadBundle, writeBundles } from './bundle.js';
import { loadModel } from './load.js';
import { referencePredict } from './reference.js';
import type { FloatTensor, LayerNode, ModelIR } from '../protocol/ir.js';
import { SEED_ARCHS, seedArchitecture, seedModel } from '../protocol/seed-models.js';
import { paramCount, prgFromSeed, seedBuilder, writeSeedModel, type SeedArch } from './seed-models.js';
import { tempDir } from './testing/fixtures.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function randomInput(n: number): Float32Array {
  const u = new Uint32Array(n);
  randomFillSync(u);
  return Float32Array.from(u, (v) => v / 2 ** 32);
}

describe('seed models as real Keras files: write -> import -> forward equals the original weights', () => {
  const cases: [SeedArch, string, string, string | undefined][] = [
    ['cnn-maxpool', 'keras', 'Keras 3 zip', undefined],
    ['cnn-maxpool', 'h5', 'legacy, Keras 2.12', '2.12.0'],
    ['cnn-avgpool', 'keras', 'Keras 3 zip', undefined],
    ['cnn-avgpool', 'h5', 'legacy, Keras 2.1.4 list config', '2.1.4'],
    ['mnist-a', 'keras', 'Keras 3 zip', undefined],
    ['mnist-a', 'h5', 'legacy, Keras 2.1.4 list config', '2.1.4'],
  ];
  it.each(cases)('%s as .%s (%s)', async (arch, ext, _what, kerasVersion) => {
    const f = path.join(tmp.dir, `${arch}-${kerasVersion ?? '3'}.${ext}`);
    const b = await writeSeedModel(arch, f, { seed: 42, reverseDatasets: true, ...(kerasVersion ? { kerasVersion } : {}) });
    const { ir, format } = await loadModel(f);
    expect(format).toBe(ext === 'keras' ? 'keras-v3' : 'keras-h5');
    const want = b.expectedIR();
    expect(ir.inputShape).toEqual(want.inputShape);
    expect(ir.outputActivation).toBe('softmax');
    expect(ir.nodes.map((n) => [n.name, n.kind, n.inputs])).toEqual(want.nodes.map((n) => [n.name, n.kind, n.inputs]));
    const x = randomInput(2 * ir.inputShape.reduce((a, c) => a * c, 1));
    expect(await referencePredict(ir, x, 2)).toEqual(await referencePredict(want, x, 2));
  });

  it('the seed CNN has the PROTOCOL-NOTES shapes (150x125x1 -> 640 features -> 32 -> 2)', () => {
    const b = seedBuilder('cnn-maxpool', { seed: 1 });
    const dense = b.expectedIR().nodes.filter((n) => n.kind === 'dense');
    expect(dense.map((n) => (n.kind === 'dense' ? n.kernel.shape : []))).toEqual([[640, 32], [32, 2]]);
    expect(b.expectedIR().nodes.filter((n) => n.kind === 'maxpool2d').every((n) => n.kind === 'maxpool2d' && n.poolSize[0] === 2 && n.strides[0] === 1)).toBe(true);
  });

  it('VGG16 (224x224x3, Dense 512-32-2 head): 27.6M weights, written, imported and shared', async () => {
    const f = path.join(tmp.dir, 'vgg16.h5');
    const b = await writeSeedModel('vgg16', f, { seed: 3 });
    expect(paramCount(b.build())).toBe(27_576_738);
    expect(statSync(f).size).toBeGreaterThan(27_576_738 * 4);
    const loaded = await loadModel(f);
    const kinds = loaded.ir.nodes.map((n) => n.kind);
    expect(kinds.filter((k) => k === 'conv2d')).toHaveLength(13);
    expect(kinds.filter((k) => k === 'maxpool2d')).toHaveLength(5);
    expect(loaded.ir.nodes.filter((n) => n.kind === 'dense').map((n) => (n.kind === 'dense' ? n.kernel.shape : []))).toEqual([[25088, 512], [512, 32], [32, 2]]);
    // Quantize + share + write the 27.6M weights, then spot-check the reconstruction of the largest tensor.
    const out = path.join(tmp.dir, 'vgg16-bundles');
    writeBundles(loaded, out);
    const [b0, b1] = [loadBundle(out, 0), loadBundle(out, 1)];
    const i = loaded.ir.nodes.findIndex((n) => n.kind === 'dense');
    const n0 = b0.model.nodes[i]!;
    const n1 = b1.model.nodes[i]!;
    const orig = loaded.ir.nodes[i]!;
    if (!('kernel' in n0) || !('kernel' in n1) || !('kernel' in orig)) throw new Error('expected a dense node');
    const idx = [0, 1, 12_845_055, 6_000_000];
    const pick = (a: BigUint64Array): BigUint64Array => BigUint64Array.from(idx, (j) => a[j]!);
    const got = reconstruct(getKernels(), pick(n0.kernel.data), pick(n1.kernel.data));
    expect(got).toEqual(encode(Float64Array.from(idx, (j) => orig.kernel.data[j]!), 13));
  }, 120_000);
});

describe('one definition of the seed architectures (protocol/seed-models.ts)', () => {
  /** A node without its name, inputs and weight values: what the architecture fixes. */
  const shapeOf = (n: LayerNode<FloatTensor>) => {
    const { name: _n, inputs: _i, ...rest } = n as LayerNode<FloatTensor> & { kernel?: FloatTensor; bias?: FloatTensor };
    const r = rest as Record<string, unknown>;
    for (const w of ['kernel', 'bias']) if (r[w]) r[w] = (r[w] as FloatTensor).shape;
    return r;
  };
  const small: Partial<Record<SeedArch, number[]>> = { vgg16: [32, 32, 3] };

  it.each(SEED_ARCHS)('%s: the IR of protocol/ and the Keras file model-import writes have the same layers, and the same weights from the same PRG', (arch) => {
    const fromProtocol = seedModel(arch, 5, small[arch]);
    const b = seedBuilder(arch, { seed: 5, ...(small[arch] ? { inputShape: small[arch] } : {}) });
    const fromImport = b.expectedIR();
    expect(fromImport.nodes.map(shapeOf)).toEqual(fromProtocol.nodes.map(shapeOf));
    expect(fromImport.inputShape).toEqual(fromProtocol.inputShape);
    expect(fromImport.outputActivation).toBe(fromProtocol.outputActivation);
    expect(b.layers.length).toBe(seedArchitecture(arch).layers.length);
    // Same draw order: rebuilt over the importer's PRG, protocol's builder gives the same weights.
    const weights = (m: ModelIR<FloatTensor>) => {
      const h = createHash('sha256');
      for (const n of m.nodes) for (const w of ['kernel', 'bias'] as const) { const t = (n as unknown as Partial<Record<string, FloatTensor>>)[w]; if (t) h.update(new Uint8Array(Float64Array.from(t.data).buffer)); }
      return h.digest('hex');
    };
    const withImporterPrg = seedModel(arch, prgFromSeed(5), small[arch]);
    expect(weights(withImporterPrg)).toEqual(weights(fromImport));
  });
});
