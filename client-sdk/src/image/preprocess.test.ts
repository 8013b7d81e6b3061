import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { describe, expect, it } from 'vitest';
import { withOrientation } from '../../testing/exif-writer.js';
import { KERAS_DIR, PROGRESSIVE_XRAY, XRAY_DIR, allXrays } from '../../testing/fixtures.js';
import { decodeImageNode } from './decode-node.js';
import { applyOrientation, jpegOrientation } from './exif.js';
import { convertChannels, modelPixels, preprocessImage, specForInputShape } from './preprocess.js';
import { resizeBilinear } from './resize.js';

function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

describe('image decoding in Node (jpeg-js, png.ts)', () => {
  it('decodes the progressive JPEG with Exif', async () => {
    const img = await decodeImageNode(readFileSync(PROGRESSIVE_XRAY));
    expect([img.width, img.height]).toEqual([1168, 840]);
    expect(img.data.length).toBe(1168 * 840 * img.channels);
  });

  it('preprocesses every real X-ray to the model shape with values in [0, 1]', async () => {
    const spec = specForInputShape([64, 64, 1]);
    for (const file of allXrays()) {
      const x = preprocessImage(await decodeImageNode(readFileSync(file)), spec);
      expect(x.length).toBe(64 * 64);
      let min = Infinity, max = -Infinity;
      for (const v of x) { min = Math.min(min, v); max = Math.max(max, v); }
      expect(min).toBeGreaterThanOrEqual(0);
      expect(max).toBeLessThanOrEqual(1);
      expect(max - min).toBeGreaterThan(0.3); // a real radiograph, not a flat image
    }
  }, 30_000);

  it.each([
    ['vishal-pneumonia', [128, 128, 1], 'NORMAL/IM-0001-0001.jpeg', 'input_IM-0001-0001.f32'],
    ['templinb-cnn-keras3', [64, 64, 1], 'PNEUMONIA/person85_bacteria_422.jpeg', 'input_person85_bacteria_422.f32'],
    ['saif-pneumonia64', [64, 64, 3], 'NORMAL/IM-0001-0001.jpeg', 'input_IM-0001-0001.f32'],
    ['trab-pneumonia-bn', [32, 32, 3], 'PNEUMONIA/person85_bacteria_422.jpeg', 'input_person85_bacteria_422.f32'],
  ] as const)('matches the Pillow preprocessing of %s exactly (%s)', async (model, shape, image, golden) => {
    const x = preprocessImage(await decodeImageNode(readFileSync(join(XRAY_DIR, image))), specForInputShape(shape));
    const g = readF32(join(KERAS_DIR, model, 'golden', golden));
    expect(x.length).toBe(g.length);
    let max = 0, sum = 0;
    for (let i = 0; i < g.length; i++) { const d = Math.abs(g[i]! - x[i]!); max = Math.max(max, d); sum += d; }
    // Node's JPEG decode is libjpeg's (jpeg-idct.ts): the goldens' pixels exactly (with jpeg-js's IDCT: up to 1/255)
    expect(max).toBeLessThanOrEqual(1e-6);
    expect(sum / g.length).toBeLessThan(0.15 / 255);
  });

  it('decodes PNG (RGBA) and converts to grayscale like Pillow', async () => {
    const png = new pngjs.PNG({ width: 3, height: 1 });
    png.data.set([255, 0, 0, 255, 0, 255, 0, 255, 10, 20, 30, 128]);
    const img = await decodeImageNode(new Uint8Array(pngjs.PNG.sync.write(png)));
    expect(img.channels).toBe(4);
    expect(Array.from(convertChannels(img, 1).data)).toEqual([76, 150, 18]) // (19595 R + 38470 G + 7471 B + 2^15) >> 16;
    expect(Array.from(convertChannels(img, 3).data)).toEqual([255, 0, 0, 0, 255, 0, 10, 20, 30]);
  });

  it('accepts a Blob as well as bytes', async () => {
    const bytes = readFileSync(join(XRAY_DIR, 'PNEUMONIA/person78_bacteria_378.jpeg'));
    const img = await decodeImageNode(new Blob([bytes]));
    expect([img.width, img.height]).toEqual([728, 368]);
  });

  it('rejects bytes that are not an image, and a truncated JPEG, with E_DTYPE', async () => {
    await expect(decodeImageNode(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]))).rejects.toMatchObject({ code: 'E_DTYPE' });
    const jpg = readFileSync(join(XRAY_DIR, 'PNEUMONIA/person78_bacteria_378.jpeg'));
    await expect(decodeImageNode(jpg.subarray(0, 200))).rejects.toMatchObject({ code: 'E_DTYPE' });
  });
});

describe('Exif orientation (for a model that records orientation exif, or nothing; fidelity.test.ts has stored)', () => {
  const w = 16, h = 8;
  const rgba = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgba.fill(x < w / 2 ? 255 : 0, (y * w + x) * 4, (y * w + x) * 4 + 3), rgba[(y * w + x) * 4 + 3] = 255;
  const jpg = new Uint8Array(jpeg.encode({ width: w, height: h, data: rgba }, 95).data);

  it('reads the orientation tag and turns the pixels upright', async () => {
    expect(jpegOrientation(jpg)).toBe(1);
    const rotated = withOrientation(jpg, 6); // stored rotated: display = 90 degrees clockwise
    expect(jpegOrientation(rotated)).toBe(6);
    const stored = await decodeImageNode(rotated);
    expect([stored.width, stored.height, stored.orientation]).toEqual([w, h, 6]); // the decoder leaves it to the preprocessing
    const img = modelPixels(stored, specForInputShape([8, 8, 1]).preprocessing);
    expect([img.width, img.height]).toEqual([h, w]);
    const gray = convertChannels(img, 1).data;
    expect(gray[2 * h + 4]).toBeGreaterThan(200); // top half white (was the left half)
    expect(gray[(w - 2) * h + 4]).toBeLessThan(50);
  });

  it('maps all eight orientations like the EXIF spec', () => {
    const img = { width: 3, height: 2, channels: 1 as const, data: Uint8Array.from([1, 2, 3, 4, 5, 6]) };
    const cases: Record<number, number[]> = {
      1: [1, 2, 3, 4, 5, 6], 2: [3, 2, 1, 6, 5, 4], 3: [6, 5, 4, 3, 2, 1], 4: [4, 5, 6, 1, 2, 3],
      5: [1, 4, 2, 5, 3, 6], 6: [4, 1, 5, 2, 6, 3], 7: [6, 3, 5, 2, 4, 1], 8: [3, 6, 2, 5, 1, 4],
    };
    for (const [o, want] of Object.entries(cases)) expect(Array.from(applyOrientation(img, Number(o)).data), `orientation ${o}`).toEqual(want);
  });
});

describe('resizeBilinear (Pillow BILINEAR)', () => {
  it('keeps an image of the same size unchanged and a constant image constant', () => {
    const img = { width: 5, height: 4, channels: 1 as const, data: Uint8Array.from({ length: 20 }, (_, i) => i * 12) };
    expect(resizeBilinear(img, 5, 4).data).toEqual(img.data);
    const flat = { width: 97, height: 61, channels: 3 as const, data: new Uint8Array(97 * 61 * 3).fill(77) };
    expect(resizeBilinear(flat, 13, 7).data.every((v) => v === 77)).toBe(true);
  });

  it('averages a 2x downscale like Pillow ([0, 100, 200, 250] -> [71, 207])', () => {
    const img = { width: 4, height: 1, channels: 1 as const, data: Uint8Array.from([0, 100, 200, 250]) };
    // Pillow: support 2 around centers 1 and 3, taps clipped at the edges:
    // (0*.75 + 100*.75 + 200*.25) / 1.75 = 71.4; (100*.25 + 200*.75 + 250*.75) / 1.75 = 207.1
    expect(Array.from(resizeBilinear(img, 2, 1).data)).toEqual([71, 207]);
  });

  it('rejects a model input shape that is not [H, W, 1|3] for image inputs', () => {
    expect(() => specForInputShape([784])).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
    expect(() => specForInputShape([28, 28, 2])).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
  });
});

describe('preprocessImage applies the resize the model records', () => {
  // One row of 8 gray pixels with spikes, to 2 x 1: the three methods differ.
  const img = { width: 8, height: 1, channels: 1 as const, data: Uint8Array.from([0, 0, 255, 0, 0, 255, 0, 0]) };
  const spec = (resize: 'bilinear' | 'tf-bilinear' | 'nearest') => ({ ...specForInputShape([1, 2, 1]), preprocessing: { colorMode: 'grayscale' as const, resize, scaling: 'raw' as const, channelOrder: 'rgb' as const } });

  it("'tf-bilinear' (image_dataset_from_directory): the two middle pixels of each 4, unrounded; 'nearest' (load_img): pixels 2 and 6; 'bilinear': Pillow's averaged filter", () => {
    expect(Array.from(preprocessImage(img, spec('tf-bilinear')))).toEqual([127.5, 127.5]);
    expect(Array.from(preprocessImage(img, spec('nearest')))).toEqual([255, 0]);
    const pil = preprocessImage(img, spec('bilinear'));
    expect(Array.from(pil)).toEqual(Array.from(resizeBilinear(img, 2, 1).data));
    expect(pil[0]).not.toBe(127.5);
  });
});
