import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isMpcError } from '../protocol/errors.js';
import { writeBundles } from './bundle.js';
import { main } from './cli.js';
import { loadModel } from './load.js';
import { seedBuilder, SequentialBuilder, prgFromSeed, writeModelFile } from './seed-models.js';
import { fixtureModel, haveFixtures, KERAS_FIXTURES, tempDir } from './testing/fixtures.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;
const file = (ext: string): string => path.join(tmp.dir, `m${++n}.${ext}`);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isMpcError(e)) return e.code;
    throw e;
  }
  return 'no error';
}

function small(): SequentialBuilder {
  return new SequentialBuilder('small', [12, 10, 1], prgFromSeed(5)).conv2d(4, 3, 1, 'valid').pool('max', 2, 2).flatten().dense(8).dense(2, 'softmax');
}

describe.skipIf(!haveFixtures)('corrupt model files (E_MODEL_FORMAT)', () => {
  it('a truncated legacy .h5', async () => {
    const bytes = readFileSync(fixtureModel('ravneet-pneumonia'));
    const f = file('h5');
    writeFileSync(f, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expect(loadModel(f)).rejects.toMatchObject({ code: 'E_MODEL_FORMAT', message: expect.stringMatching(/truncated/i) });
  });

  it('a truncated .keras zip', async () => {
    const bytes = readFileSync(fixtureModel('templinb-cnn-keras3'));
    const f = file('keras');
    writeFileSync(f, bytes.subarray(0, bytes.length - 5000));
    expect(await codeOf(loadModel(f))).toBe('E_MODEL_FORMAT');
  });

  it('a TF.js model whose shard is truncated', async () => {
    const d = path.join(tmp.dir, 'tfjs');
    const src = path.join(KERAS_FIXTURES, 'angel-mnist-tfjs');
    await import('node:fs').then((fs) => fs.mkdirSync(d));
    copyFileSync(path.join(src, 'model.json'), path.join(d, 'model.json'));
    writeFileSync(path.join(d, 'group1-shard1of1.bin'), readFileSync(path.join(src, 'group1-shard1of1.bin')).subarray(0, 100_000));
    await expect(loadModel(path.join(d, 'model.json'))).rejects.toMatchObject({ code: 'E_MODEL_FORMAT', message: expect.stringMatching(/truncated/) });
  });
});

describe('unrecognised files (E_MODEL_FORMAT)', () => {
  it('wrong magic', async () => {
    const f = file('h5');
    writeFileSync(f, Buffer.from('GIF89a this is not a model at all'));
    await expect(loadModel(f)).rejects.toMatchObject({ code: 'E_MODEL_FORMAT', message: expect.stringMatching(/signature/) });
  });

  it('an empty file, a missing file, a zip without config.json', async () => {
    const empty = file('h5');
    writeFileSync(empty, '');
    expect(await codeOf(loadModel(empty))).toBe('E_MODEL_FORMAT');
    expect(await codeOf(loadModel(path.join(tmp.dir, 'nope.h5')))).toBe('E_MODEL_FORMAT');
    const { zipSync } = await import('fflate');
    const z = file('keras');
    writeFileSync(z, zipSync({ 'metadata.json': new TextEncoder().encode('{}') }));
    await expect(loadModel(z)).rejects.toMatchObject({ code: 'E_MODEL_FORMAT', message: expect.stringMatching(/config\.json/) });
  });

  it('an HDF5 file that is not a Keras model', async () => {
    const b = small();
    const f = file('keras');
    await writeModelFile(b, f);
    // model.weights.h5 alone is HDF5 but has no model_config.
    const { unzipSync } = await import('fflate');
    const h = file('h5');
    writeFileSync(h, unzipSync(readFileSync(f))['model.weights.h5']!);
    await expect(loadModel(h)).rejects.toMatchObject({ code: 'E_MODEL_FORMAT', message: expect.stringMatching(/model_config/) });
  });
});

describe('unsupported layers and options (E_UNSUPPORTED_LAYER names layer, class, position)', () => {
  const cases: [string, (b: SequentialBuilder) => SequentialBuilder, RegExp][] = [
    ['an unknown layer class', (b) => b.raw('Conv1D', { filters: 2, kernel_size: [3] }, [], 'conv1d_x'), /#\d+ 'conv1d_x' \(Conv1D\)/],
    // dilation_rate > 1 imports now with strides 1 (model-import/dilated-keras.test.ts); Keras itself refuses it with strides > 1.
    ['dilation_rate 2 with strides 2', (b) => { b.conv2d(2, 3, 2, 'same'); b.layers.at(-1)!.config['dilation_rate'] = [2, 2]; return b; }, /'conv2d_1' \(Conv2D\).*dilation_rate 2x2 with strides 2x2 is not supported/],
    ['Conv2DTranspose with dilation_rate 2', (b) => b.raw('Conv2DTranspose', { filters: 2, kernel_size: [2, 2], strides: [1, 1], dilation_rate: [2, 2] }, [{ name: 'kernel', value: { shape: [2, 2, 2, 4], data: new Float64Array(32) } }, { name: 'bias', value: { shape: [2], data: new Float64Array(2) } }], 'upconv'), /'upconv' \(Conv2DTranspose\).*dilation_rate 2x2 is not supported/],
    ['channels_first', (b) => { b.pool('max', 2, 2); b.layers.at(-1)!.config['data_format'] = 'channels_first'; return b; }, /#3 'max_pooling2d_1' \(MaxPooling2D\).*channels_first/],
    ['softmax in the middle', (b) => b.flatten().dense(6, 'softmax').dense(2), /'dense' \(Dense\).*final/],
    ['an elu activation (no secure approximation)', (b) => b.raw('Activation', { activation: 'elu' }, [], 'act_elu'), /#3 'act_elu' \(Activation\).*'elu' is not supported/],
    ['a softplus activation', (b) => b.raw('Activation', { activation: 'softplus' }, [], 'act_softplus'), /'act_softplus' \(Activation\).*'softplus' is not supported/],
    ['UpSampling2D with bicubic interpolation', (b) => b.raw('UpSampling2D', { size: [2, 2], interpolation: 'bicubic' }, [], 'up'), /'up' \(UpSampling2D\).*interpolation 'bicubic'/],
    ['Conv2DTranspose with output_padding', (b) => b.raw('Conv2DTranspose', { filters: 2, kernel_size: [2, 2], strides: [2, 2], output_padding: [1, 1] }, [{ name: 'kernel', value: { shape: [2, 2, 2, 4], data: new Float64Array(32) } }, { name: 'bias', value: { shape: [2], data: new Float64Array(2) } }], 'upconv'), /'upconv' \(Conv2DTranspose\).*output_padding/],
    ['PReLU with an alpha per pixel', (b) => b.raw('PReLU', { shared_axes: null }, [{ name: 'alpha', value: { shape: [9, 7, 4], data: new Float64Array(252) } }], 'prelu'), /'prelu' \(PReLU\).*shared_axes/],
    ['a BatchNormalization over a non-channel axis', (b) => { b.batchNorm(); b.layers.at(-1)!.config['axis'] = 1; return b; }, /'batch_normalization' \(BatchNormalization\).*axis/],
    ['a thresholded ReLU', (b) => b.raw('ReLU', { threshold: 0.5 }, [], 'thr'), /'thr' \(ReLU\).*threshold/],
    ['ReLU with max_value 4', (b) => b.raw('ReLU', { max_value: 4 }, [], 'relu4'), /'relu4' \(ReLU\).*max_value/],
    // Conv2D with groups > 1 imports now (block-diagonal kernel or depthwise): families-keras.test.ts.
    ["Conv2D with padding 'causal'", (b) => { b.conv2d(2, 3, 1, 'same'); b.layers.at(-1)!.config['padding'] = 'causal'; return b; }, /'conv2d_1' \(Conv2D\).*padding 'causal'/],
    ['Conv2D channels_first', (b) => { b.conv2d(2, 3, 1, 'same'); b.layers.at(-1)!.config['data_format'] = 'channels_first'; return b; }, /'conv2d_1' \(Conv2D\).*channels_first/],
    ['DepthwiseConv2D with dilation_rate 2 and strides 2', (b) => { b.conv2d(2, 3, 2, 'same'); const L = b.layers.at(-1)!; L.className = 'DepthwiseConv2D'; L.config['dilation_rate'] = 2; return b; }, /\(DepthwiseConv2D\).*dilation_rate 2x2 with strides 2x2/],
    ['a Dense with a selu activation', (b) => b.flatten().dense(4, 'selu' as 'relu'), /'dense' \(Dense\).*'selu' is not supported/],
    ['a Dense with a leaky_relu activation string', (b) => b.flatten().dense(4, 'leaky_relu' as 'relu'), /'dense' \(Dense\).*'leaky_relu' is not supported/],
  ];
  it.each(cases)('%s', async (_name, build, msg) => {
    for (const ext of ['keras', 'h5']) {
      const b = build(new SequentialBuilder('bad', [12, 10, 3], prgFromSeed(9)).conv2d(4, 3, 1, 'valid').pool('max', 2, 1));
      const f = file(ext);
      await writeModelFile(b, f);
      await expect(loadModel(f)).rejects.toMatchObject({ code: 'E_UNSUPPORTED_LAYER', message: expect.stringMatching(msg) });
    }
  });
});

describe('weights the config does not read are refused, not dropped (E_WEIGHT_SHAPE)', () => {
  // A bias stored under use_bias: false (or a beta under center: false) was silently ignored by the .h5 and TF.js
  // readers: the served model then differs from the file's. Keras refuses such a file; the .keras reader counts variables.
  const cases: [string, (b: SequentialBuilder) => void, RegExp][] = [
    ['a Conv2D bias under use_bias: false', (b) => { b.layers[0]!.config['use_bias'] = false; }, /'conv2d' \(Conv2D\).*(does not use \(bias|2 variables, expected 1)/],
    ['a Dense bias under use_bias: false', (b) => { b.layers.at(-1)!.config['use_bias'] = false; }, /'dense_1' \(Dense\).*(does not use \(bias|2 variables, expected 1)/],
    ['a BatchNormalization beta under center: false', (b) => { b.layers[1]!.config['center'] = false; }, /'batch_normalization' \(BatchNormalization\).*(does not use \(beta|4 variables, expected 3)/],
    ['a BatchNormalization gamma under scale: false', (b) => { b.layers[1]!.config['scale'] = false; }, /'batch_normalization' \(BatchNormalization\).*(does not use \(gamma|4 variables, expected 3)/],
  ];
  it.each(cases)('%s (.h5 and .keras)', async (_name, edit, msg) => {
    for (const ext of ['h5', 'keras']) {
      const b = new SequentialBuilder('extra', [12, 10, 1], prgFromSeed(5)).conv2d(4, 3, 1, 'valid').batchNorm().pool('max', 2, 2).flatten().dense(8).dense(2, 'softmax');
      edit(b);
      const f = file(ext);
      await writeModelFile(b, f);
      await expect(loadModel(f)).rejects.toMatchObject({ code: 'E_WEIGHT_SHAPE', message: expect.stringMatching(msg) });
    }
  });
  it('Keras 2 batch renormalization statistics (renorm: true) are stored but unused at inference: imported, the same IR as without them', async () => {
    const make = (renorm: boolean) => {
      const b = new SequentialBuilder('renorm', [12, 10, 1], prgFromSeed(5)).conv2d(4, 3, 1, 'valid').batchNorm().pool('max', 2, 2).flatten().dense(2, 'softmax');
      if (renorm) {
        const bn = b.layers[1]!;
        bn.config['renorm'] = true;
        for (const name of ['renorm_mean', 'renorm_stddev']) bn.weights.push({ name, value: { shape: [4], data: new Float64Array(4).fill(7) } });
      }
      return b;
    };
    const [plain, renorm] = [file('h5'), file('h5')];
    await writeModelFile(make(false), plain);
    await writeModelFile(make(true), renorm);
    const [a, b] = [await loadModel(plain), await loadModel(renorm)];
    expect(b.ir.nodes.map((n) => n.kind)).toEqual(a.ir.nodes.map((n) => n.kind));
    expect(JSON.stringify(b.ir.nodes)).toBe(JSON.stringify(a.ir.nodes));
  });

  it.skipIf(!haveFixtures)('a TF.js Dense bias under use_bias: false', async () => {
    const d = path.join(tmp.dir, 'tfjs-nobias');
    const src = path.join(KERAS_FIXTURES, 'angel-mnist-tfjs');
    mkdirSync(d);
    const m = JSON.parse(readFileSync(path.join(src, 'model.json'), 'utf8')) as { modelTopology: { model_config: { config: { layers: { config: Record<string, unknown> }[] } } } };
    const dense = m.modelTopology.model_config.config.layers.find((l) => l.config['name'] === 'dense')!;
    dense.config['use_bias'] = false;
    writeFileSync(path.join(d, 'model.json'), JSON.stringify(m));
    copyFileSync(path.join(src, 'group1-shard1of1.bin'), path.join(d, 'group1-shard1of1.bin'));
    await expect(loadModel(path.join(d, 'model.json'))).rejects.toMatchObject({ code: 'E_WEIGHT_SHAPE', message: expect.stringMatching(/'dense' \(Dense\) stores weights its config does not use \(bias/) });
  });
});

describe('weight shapes (E_WEIGHT_SHAPE)', () => {
  it.each(['keras', 'h5'])('a kernel that does not fit its layer (.%s)', async (ext) => {
    const b = small();
    const conv = b.layers[0]!;
    conv.weights[0] = { name: 'kernel', value: { shape: [3, 3, 2, 4], data: new Float64Array(72) } };
    const f = file(ext);
    await writeModelFile(b, f);
    await expect(loadModel(f)).rejects.toMatchObject({ code: 'E_WEIGHT_SHAPE', message: expect.stringMatching(/'conv2d' \(Conv2D\): kernel has shape \[3,3,2,4\] but the layer needs \[3,3,1,4\]/) });
  });

  it('a Dense kernel whose input size disagrees with the Flatten before it', async () => {
    const b = small();
    const d = b.layers[3]!;
    d.weights[0] = { name: 'kernel', value: { shape: [81, 8], data: new Float64Array(648) } };
    const f = file('h5');
    await writeModelFile(b, f);
    await expect(loadModel(f)).rejects.toMatchObject({ code: 'E_WEIGHT_SHAPE' });
  });

  it('a .keras layer with the wrong number of variables', async () => {
    const b = small();
    b.layers[0]!.weights.pop();
    const f = file('keras');
    await writeModelFile(b, f);
    expect(await codeOf(loadModel(f))).toBe('E_WEIGHT_SHAPE');
  });
});

describe('a failed import leaves nothing behind', () => {
  const leftovers = (dir: string, name: string): string[] => readdirSync(dir).filter((e) => e.startsWith(name));

  it('an unsupported layer is refused before anything is written (CLI)', async () => {
    const b = small().raw('Conv1D', { filters: 2, kernel_size: [3] });
    const f = file('keras');
    await writeModelFile(b, f);
    const out = path.join(tmp.dir, 'out-unsupported');
    await expect(main([f, '--out', out, '--random', '0', '--no-progress'])).rejects.toMatchObject({ code: 'E_UNSUPPORTED_LAYER' });
    expect(leftovers(tmp.dir, 'out-unsupported')).toEqual([]);
  });

  it('a failure while writing the shares removes the temporary directory', async () => {
    const b = seedBuilder('mnist-a', { seed: 1 });
    const out = path.join(tmp.dir, 'out-midway');
    let calls = 0;
    expect(() =>
      writeBundles({ ir: b.expectedIR(), sourceHash: '0'.repeat(64) }, out, {
        onProgress: (done) => {
          if (++calls === 3) throw new Error(`disk full after ${done} values`);
        },
      }),
    ).toThrow(/disk full/);
    expect(calls).toBe(3);
    expect(leftovers(tmp.dir, 'out-midway')).toEqual([]);
  });

  it('an out-of-range weight is refused before anything is written (E_RANGE)', () => {
    const ir = seedBuilder('mnist-a', { seed: 1 }).expectedIR();
    const dense = ir.nodes[0] as { kernel: { data: Float64Array } };
    dense.kernel.data[5] = 2 ** 45;
    const out = path.join(tmp.dir, 'out-range');
    expect(() => writeBundles({ ir, sourceHash: '0'.repeat(64) }, out)).toThrow(expect.objectContaining({ code: 'E_RANGE' }));
    expect(leftovers(tmp.dir, 'out-range')).toEqual([]);
  });
});

describe('files written by Keras 1', () => {
  it('are refused as a whole with E_MODEL_FORMAT naming the version (their configs would be misread as Keras 2)', async () => {
    for (const kerasVersion of ['1.2.2', '1.0.0']) {
      const f = file('h5');
      await writeModelFile(small(), f, { kerasVersion });
      await expect(loadModel(f)).rejects.toMatchObject({ code: 'E_MODEL_FORMAT', message: expect.stringMatching(new RegExp(`Keras ${kerasVersion.replace(/\./g, '\\.')}; Keras 1 files are not supported`)) });
    }
    const ok = file('h5');
    await writeModelFile(small(), ok, { kerasVersion: '2.1.4' });
    expect((await loadModel(ok)).ir.nodes.length).toBeGreaterThan(0);
  });
});
