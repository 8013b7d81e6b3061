/**
 * A model that normalises its own input (Keras Normalization, e.g. in front
 * of EfficientNet) imports as an exact affine node, and the importer records
 * that it takes raw 0..255 pixels.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FloatTensor } from '../protocol/ir.js';
import { loadModel } from './load.js';
import { referenceLogits } from './reference.js';
import { SequentialBuilder, prgFromSeed, writeModelFile } from './seed-models.js';
import { tempDir } from './testing/fixtures.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const vec = (d: number[]): FloatTensor => ({ shape: [d.length], data: Float64Array.from(d) });
const MEAN = [120, 110, 100];
const VAR = [3600, 2500, 1600];

describe('Keras Normalization at the input', () => {
  it.each(['norm.keras', 'norm.h5'])('%s: (x - mean) / sqrt(variance) computed exactly, preprocessing recorded as raw pixels', async (name) => {
    const b = new SequentialBuilder('norm', [4, 4, 3], prgFromSeed(3));
    b.raw('Normalization', { axis: -1 }, [{ name: 'mean', value: vec(MEAN) }, { name: 'variance', value: vec(VAR) }, { name: 'count', value: vec([10]) }]).flatten().dense(2, 'linear');
    const file = path.join(tmp.dir, name);
    await writeModelFile(b, file);
    const m = await loadModel(file);
    expect(m.preprocessing).toMatchObject({ preprocessing: { colorMode: 'rgb', scaling: 'raw' }, assumed: false });
    expect(m.preprocessing!.source).toMatch(/Normalization layer/);
    // Keras: dense((x - mean) / sqrt(var)), from the layer specs, on raw pixels.
    const dense = b.layers.find((l) => l.className === 'Dense')!;
    const [k, bias] = dense.weights.map((w) => w.value) as [FloatTensor, FloatTensor];
    const x = Float32Array.from({ length: 48 }, (_, i) => (i * 37) % 256);
    const want = [0, 1].map((o) => {
      let s = bias.data[o]!;
      for (let i = 0; i < 48; i++) s += ((x[i]! - MEAN[i % 3]!) / Math.sqrt(VAR[i % 3]!)) * k.data[i * 2 + o]!;
      return s;
    });
    const got = referenceLogits(m.ir, x, 1);
    want.forEach((v, o) => expect(Math.abs(got[o]! - v)).toBeLessThan(1e-4 * Math.max(1, Math.abs(v))));
  });

  it('refuses invert: true and a non-channel axis by name', async () => {
    const b = new SequentialBuilder('norm2', [4, 4, 3], prgFromSeed(4));
    b.raw('Normalization', { axis: -1, invert: true, mean: 1, variance: 4 }, [], 'norm_inv').flatten().dense(2, 'linear');
    const file = path.join(tmp.dir, 'inv.keras');
    await writeModelFile(b, file);
    await expect(loadModel(file)).rejects.toMatchObject({ code: 'E_UNSUPPORTED_LAYER', message: expect.stringMatching(/norm_inv.*invert/) });
  });
});
