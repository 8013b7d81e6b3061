/**
 * What the import records as a Keras model's image preprocessing when the
 * model scales its input itself behind layers that are identities at
 * inference (GaussianNoise, Dropout, data augmentation) or with a Keras 3
 * constant op (inputs * (1 / 255)). Recording x/255 there divides twice: the
 * model sees pixels / 65025, and its answer is silently wrong.
 */
import { describe, expect, it } from 'vitest';
import { referenceLogits } from './reference.js';
import { convertGraph } from './convert.js';
import { flattenConfig, type Json } from './keras-config.js';
import { applyPreprocessingFlags, inferPreprocessing, withImportDefaults } from './preprocessing.js';

type Layer = { class_name: string; config: Record<string, Json> };
let serial = 0;
const L = (class_name: string, config: Record<string, Json> = {}): Layer => ({ class_name, config: { name: `${class_name.toLowerCase()}_${++serial}`, ...config } });

/** A Sequential on an [4, 4, 1] image (an InputLayer then `layers`). */
function sequential(layers: Layer[]): ReturnType<typeof flattenConfig> {
  return flattenConfig({ class_name: 'Sequential', config: { name: 's', layers: [{ class_name: 'InputLayer', config: { batch_input_shape: [null, 4, 4, 1], name: 'in' } }, ...layers] } });
}

/** A Keras 3 functional model: input -> Multiply(x, c) (an op with a constant argument) -> Flatten -> Dense(1). */
function keras3ConstScale(c: number): ReturnType<typeof flattenConfig> {
  const t = (name: string): Json => ({ class_name: '__keras_tensor__', config: { shape: [null, 4, 4, 1], dtype: 'float32', keras_history: [name, 0, 0] } });
  return flattenConfig({
    class_name: 'Functional',
    config: {
      name: 'f',
      input_layers: [['in', 0, 0]],
      output_layers: [['dense', 0, 0]],
      layers: [
        { class_name: 'InputLayer', name: 'in', config: { batch_shape: [null, 4, 4, 1], name: 'in' }, inbound_nodes: [] },
        { class_name: 'Multiply', name: 'multiply', config: { name: 'multiply' }, inbound_nodes: [{ args: [t('in'), c], kwargs: {} }] },
        { class_name: 'Flatten', name: 'flatten', config: { name: 'flatten' }, inbound_nodes: [{ args: [t('multiply')], kwargs: {} }] },
        { class_name: 'Dense', name: 'dense', config: { name: 'dense', units: 1, activation: 'linear' }, inbound_nodes: [{ args: [t('flatten')], kwargs: {} }] },
      ],
    },
  });
}

describe("inferPreprocessing: the model's own scaling behind inference identities", () => {
  it('a Rescaling behind GaussianNoise / Dropout is the model\'s own (raw pixels in), as it is when it reads the input', () => {
    for (const before of [[], [L('GaussianNoise', { stddev: 0.1 })], [L('Dropout', { rate: 0.2 }), L('GaussianNoise', { stddev: 0.1 })]]) {
      const g = sequential([...before, L('Rescaling', { scale: 1 / 255, offset: 0 }), L('Flatten'), L('Dense', { units: 1 })]);
      const p = inferPreprocessing(g, [4, 4, 1])!;
      expect(p.assumed, `behind ${before.map((l) => l.class_name).join(', ') || 'nothing'}`).toBe(false);
      expect(p.preprocessing.scaling).toBe('raw');
      expect(p.source).toMatch(/own Rescaling layer/);
    }
  });

  it('data augmentation (RandomFlip, RandomRotation, ...) is an identity at inference: converted to no node, and the Rescaling behind it is found', () => {
    const aug = ['RandomFlip', 'RandomRotation', 'RandomZoom', 'RandomTranslation', 'RandomContrast', 'RandomBrightness'].map((c) => L(c, { seed: null }));
    const g = sequential([...aug, L('Rescaling', { scale: 1 / 255, offset: 0 }), L('Flatten'), L('Dense', { units: 2 })]);
    expect(inferPreprocessing(g, [4, 4, 1])).toMatchObject({ preprocessing: { scaling: 'raw' }, assumed: false });
    const dense = g.layers.find((l) => l.className === 'Dense')!;
    const w = Float64Array.from({ length: 32 }, (_, i) => ((i * 7) % 5) - 2);
    dense.weights.set('kernel', { shape: [16, 2], data: w });
    dense.weights.set('bias', { shape: [2], data: Float64Array.of(0.5, -1) });
    const ir = convertGraph(g);
    expect(ir.nodes.map((n) => n.kind)).toEqual(['rescaling', 'flatten', 'dense']);
    // Forward = Dense(x / 255) computed by hand.
    const x = Float32Array.from({ length: 16 }, (_, i) => i * 16);
    const y = referenceLogits(ir, x, 1);
    for (let u = 0; u < 2; u++) {
      let want = u === 0 ? 0.5 : -1;
      for (let k = 0; k < 16; k++) want += (x[k]! / 255) * w[k * 2 + u]!;
      expect(y[u]).toBeCloseTo(want, 5); // float32 output
    }
  });

  it('RandomCrop and RandomHeight stay refused (not identities at inference)', () => {
    for (const c of ['RandomCrop', 'RandomHeight']) {
      const g = sequential([L(c, { height: 2, width: 2, factor: 0.1 }), L('Flatten'), L('Dense', { units: 1 })]);
      expect(() => convertGraph(g)).toThrow(expect.objectContaining({ code: 'E_UNSUPPORTED_LAYER' }));
    }
  });

  it('a Keras 3 constant op scaling the input (inputs * (1/255), inputs * (1/127.5)) is the model\'s own: raw pixels in', () => {
    for (const c of [1 / 255, 1 / 127.5]) {
      const p = inferPreprocessing(keras3ConstScale(c), [4, 4, 1])!;
      expect(p).toMatchObject({ preprocessing: { scaling: 'raw' }, assumed: false });
      expect(p.source).toMatch(/own Multiply/);
    }
    // A constant that is no pixel scaling (x * 2) says nothing: x/255 stays, marked assumed.
    expect(inferPreprocessing(keras3ConstScale(2), [4, 4, 1])).toMatchObject({ preprocessing: { scaling: 'unit' }, assumed: true });
  });
});

describe('--preprocessing resize=', () => {
  it('records the Keras pipelines\' resize (tf-bilinear: image_dataset_from_directory, nearest: load_img); an unknown one is E_BAD_ARGUMENT', () => {
    const base = { colorMode: 'grayscale', resize: 'bilinear', scaling: 'unit', channelOrder: 'rgb' } as const;
    expect(applyPreprocessingFlags(base, ['resize=tf-bilinear', 'raw'], [8, 8, 1])).toEqual({ ...base, resize: 'tf-bilinear', scaling: 'raw' });
    expect(applyPreprocessingFlags(base, ['resize=nearest'], [8, 8, 1]).resize).toBe('nearest');
    expect(() => applyPreprocessingFlags(base, ['resize=area'], [8, 8, 1])).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
  });

  it("records orientation 'stored' unless a flag says exif (the loaders of Keras and PyTorch pipelines ignore the Exif tag); png16 only when a flag says", () => {
    const base = { colorMode: 'grayscale', resize: 'bilinear', scaling: 'unit', channelOrder: 'rgb' } as const;
    expect(withImportDefaults(base)).toEqual({ ...base, orientation: 'stored' });
    expect(withImportDefaults({ ...base, orientation: 'exif' }).orientation).toBe('exif');
    expect(applyPreprocessingFlags(withImportDefaults(base), ['orientation=exif', 'png16=high-byte'], [8, 8, 1])).toEqual({ ...base, orientation: 'exif', png16: 'high-byte' });
    expect(applyPreprocessingFlags(withImportDefaults(base), ['tf'], [8, 8, 1]).orientation).toBe('stored'); // a Keras mode keeps it
    expect(() => applyPreprocessingFlags(base, ['orientation=upright'], [8, 8, 1])).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT', message: expect.stringContaining('orientation must be exif or stored') }));
    expect(() => applyPreprocessingFlags(base, ['png16=round'], [8, 8, 1])).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT', message: expect.stringContaining('png16 must be pillow or high-byte') }));
  });
});

describe('a Resizing layer on an input of any size sizes the image: its interpolation is the resize recorded', () => {
  /** Input [None, None, 3] -> Resizing(4, 4, ...) -> Rescaling -> Flatten -> Dense, imported with --input-shape 4,4,3. */
  const anySize = (resizing: Record<string, Json>, batchShape: Json = [null, null, null, 3]) => flattenConfig({ class_name: 'Sequential', config: { name: 's', layers: [
    { class_name: 'InputLayer', config: { batch_input_shape: batchShape, name: 'in' } },
    L('Resizing', { height: 4, width: 4, ...resizing }), L('Rescaling', { scale: 1 / 255, offset: 0 }), L('Flatten'), L('Dense', { units: 1 }),
  ] } });

  it('bilinear (no antialias) -> tf-bilinear; nearest -> nearest; bilinear with antialias -> Pillow bilinear; scaling still found behind it', () => {
    expect(inferPreprocessing(anySize({ interpolation: 'bilinear' }), [4, 4, 3])!.preprocessing).toMatchObject({ resize: 'tf-bilinear', scaling: 'raw' });
    expect(inferPreprocessing(anySize({}), [4, 4, 3])!.source).toMatch(/tf-bilinear resize from its Resizing layer/);
    expect(inferPreprocessing(anySize({ interpolation: 'nearest' }), [4, 4, 3])!.preprocessing.resize).toBe('nearest');
    expect(inferPreprocessing(anySize({ interpolation: 'bilinear', antialias: true }), [4, 4, 3])!.preprocessing.resize).toBe('bilinear');
  });

  it('a file whose input size is fixed keeps the default (the layer is an identity there, the client sized the image)', () => {
    expect(inferPreprocessing(anySize({ interpolation: 'nearest' }, [null, 4, 4, 3]), [4, 4, 3])!.preprocessing.resize).toBe('bilinear');
  });

  it('bicubic / area, or a crop or pad to the aspect ratio, is refused (E_UNSUPPORTED_LAYER naming the layer)', () => {
    for (const cfg of [{ interpolation: 'bicubic' }, { interpolation: 'area' }, { crop_to_aspect_ratio: true }, { pad_to_aspect_ratio: true }] as Record<string, Json>[]) {
      expect(() => inferPreprocessing(anySize(cfg), [4, 4, 3]), JSON.stringify(cfg)).toThrow(expect.objectContaining({ code: 'E_UNSUPPORTED_LAYER', message: expect.stringMatching(/\(Resizing\)/) }));
    }
  });
});
