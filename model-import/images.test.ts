import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { decodeImageNode } from '../client-sdk/src/image/decode-node.js';
import { preprocessImage, specForInputShape } from '../client-sdk/src/image/preprocess.js';
import { flatJpeg } from '../client-sdk/testing/jpeg-dc-writer.js';
import { writePng } from '../client-sdk/testing/png-writer.js';
import type { InputPreprocessing } from '../protocol/input-preprocessing.js';
import { decodeImage, imageToInput, listImages, readImageInput } from './images.js';
import { haveFixtures, KERAS_FIXTURES, maxAbsDiff, readF32, XRAY } from './testing/fixtures.js';

describe.skipIf(!haveFixtures)('sample images (decoded and resized like Pillow)', () => {
  it('a PNG digit gives exactly the golden input tensor (convert L, bilinear 250x250 -> 28x28, / 255)', () => {
    const x = readImageInput(path.join(KERAS_FIXTURES, 'karancraze-mnist', 'sample', '3.png'), [28, 28, 1], 'unit');
    expect(Array.from(x)).toEqual(Array.from(readF32(path.join(KERAS_FIXTURES, 'karancraze-mnist', 'golden', 'input_3.f32'))));
  });

  it('X-ray JPEGs match the golden tensors to one grey level (JPEG IDCT differences), grey and RGB', () => {
    const cases: [string, string, number[], 'unit' | 'raw'][] = [
      ['vishal-pneumonia', 'input_IM-0001-0001.f32', [128, 128, 1], 'unit'],
      ['ravneet-pneumonia', 'input_person85_bacteria_422.f32', [64, 64, 3], 'unit'],
      ['nakul-pneumonia256', 'input_IM-0001-0001.f32', [256, 256, 3], 'raw'],
    ];
    for (const [dir, f, shape, scaling] of cases) {
      const img = f.includes('IM-0001') ? 'NORMAL/IM-0001-0001.jpeg' : 'PNEUMONIA/person85_bacteria_422.jpeg';
      const x = readImageInput(path.join(XRAY, img), shape, scaling);
      const want = readF32(path.join(KERAS_FIXTURES, dir, 'golden', f));
      expect(maxAbsDiff(x, want)).toBeLessThanOrEqual((scaling === 'raw' ? 1 : 1 / 255) + 1e-6);
    }
  });

  it('decodes all 38 X-rays (baseline and progressive JPEG, with Exif)', () => {
    const files = listImages([XRAY]);
    expect(files).toHaveLength(38);
    let progressive = 0;
    for (const f of files) {
      const bytes = readFileSync(f);
      if (bytes.includes(Buffer.from([0xff, 0xc2]))) progressive++;
      const img = decodeImage(bytes, path.basename(f));
      expect(img.width * img.height).toBeGreaterThan(10_000);
    }
    expect(progressive).toBeGreaterThanOrEqual(1);
  });

  it('refuses bytes that are not an image', () => {
    expect(() => decodeImage(Buffer.from('hello'))).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
  });
});

describe('sample images follow the resize the model records', () => {
  it("'tf-bilinear' and 'nearest' as in the SDK (protocol/image-resample.ts), not Pillow's bilinear", () => {
    const png = new PNG({ width: 8, height: 1 });
    [0, 0, 255, 0, 0, 255, 0, 0].forEach((v, i) => png.data.set([v, v, v, 255], 4 * i));
    const bytes = PNG.sync.write(png);
    const prep = (resize: 'tf-bilinear' | 'nearest') => ({ colorMode: 'grayscale' as const, resize, scaling: 'raw' as const, channelOrder: 'rgb' as const });
    expect(Array.from(imageToInput(bytes, [1, 2, 1], prep('tf-bilinear')))).toEqual([127.5, 127.5]);
    expect(Array.from(imageToInput(bytes, [1, 2, 1], prep('nearest')))).toEqual([255, 0]);
    expect(Array.from(imageToInput(bytes, [1, 2, 1], 'raw'))).not.toEqual([127.5, 127.5]);
  });
});

describe('sample images follow the recorded orientation and png16, as the SDK does (client-sdk/src/image/fidelity.test.ts)', () => {
  const gray = (extra: Partial<InputPreprocessing> = {}): InputPreprocessing => ({ colorMode: 'grayscale', resize: 'bilinear', scaling: 'raw', channelOrder: 'rgb', ...extra });

  it("a 16-bit grey PNG: refused without png16 (E_IMAGE_PREPROCESSING), Pillow's saturation or the high byte with it, never pngjs's rounding", () => {
    const v = [0, 255, 256, 1000, 40000, 65535];
    const png = writePng({ width: 6, height: 1, colorType: 0, depth: 16, samples: v });
    expect(() => imageToInput(png, [1, 6, 1], gray())).toThrow(expect.objectContaining({ code: 'E_IMAGE_PREPROCESSING', message: expect.stringContaining('png16=pillow|high-byte') }));
    expect(Array.from(imageToInput(png, [1, 6, 1], gray({ png16: 'pillow' })))).toEqual([0, 255, 255, 255, 255, 255]);
    expect(Array.from(imageToInput(png, [1, 6, 1], gray({ png16: 'high-byte' })))).toEqual([0, 0, 1, 3, 156, 255]);
    const rgb16 = writePng({ width: 1, height: 1, colorType: 2, depth: 16, samples: [1000, 40000, 300] });
    expect(Array.from(imageToInput(rgb16, [1, 1, 3], { ...gray({ png16: 'pillow' }), colorMode: 'rgb' }))).toEqual([3, 156, 1]);
  });

  it("a JPEG with Exif orientation 6: as stored for 'stored' (the default mpc-import records), upright for 'exif', equal to the SDK's input", async () => {
    const w = 16, h = 8, rgba = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) rgba.fill(i % w < w / 2 ? 255 : 0, 4 * i, 4 * i + 3), rgba[4 * i + 3] = 255;
    const plain = new Uint8Array(jpeg.encode({ width: w, height: h, data: rgba }, 95).data);
    const tiff = [0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0];
    const payload = [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff];
    const tagged = Uint8Array.from([...plain.subarray(0, 2), 0xff, 0xe1, 0, payload.length + 2, ...payload, ...plain.subarray(2)]);
    for (const orientation of ['stored', 'exif'] as const) {
      const p = gray({ orientation });
      const sdk = preprocessImage(await decodeImageNode(tagged), specForInputShape([8, 8, 1], undefined, p));
      expect(Array.from(imageToInput(tagged, [8, 8, 1], p)), orientation).toEqual(Array.from(sdk));
    }
    expect(Array.from(imageToInput(tagged, [8, 8, 1], gray({ orientation: 'stored' })))).toEqual(Array.from(imageToInput(plain, [8, 8, 1], gray())));
    expect(imageToInput(tagged, [8, 8, 1], gray({ orientation: 'exif' }))[8 * 7]).toBeLessThan(50);
  });
});

describe('sample JPEGs go through the SDK\'s decoder (decodeJpegNode): import and SDK agree bit for bit', () => {
  const rgb: InputPreprocessing = { colorMode: 'rgb', resize: 'bilinear', scaling: 'raw', channelOrder: 'rgb', orientation: 'stored' };
  // Flat blocks (jpeg-dc-writer.ts), luma 100 + 8i, Cb 64 | 192 | 128, Cr 200 | 128 | 30: chroma edges every 16 pixels
  const colour = (h: 1 | 2, v: 1 | 2, extra: { adobe?: number } = {}): Uint8Array =>
    flatJpeg({ width: 48, height: 16, h, v, blocks: [Array.from({ length: (6 / h) * h * (2 / v) * v }, (_, i) => 100 + 8 * i), new Array(6 / h * 2 / v).fill(0).map((_, i) => [64, 192, 128][i % 3]!), new Array(6 / h * 2 / v).fill(0).map((_, i) => [200, 128, 30][i % 3]!)], ...extra });

  it('a 4:2:0 colour sample gives the SDK\'s tensor (libjpeg upsampling), not plain jpeg-js\'s', async () => {
    for (const [shape, colorMode] of [[[16, 48, 3], 'rgb'], [[8, 20, 3], 'rgb'], [[16, 48, 1], 'grayscale']] as const) {
      const p = { ...rgb, colorMode };
      const bytes = colour(2, 2);
      const sdk = preprocessImage(await decodeImageNode(bytes), specForInputShape([...shape], undefined, p));
      const imported = imageToInput(bytes, [...shape], p);
      expect(Array.from(imported), `${shape}`).toEqual(Array.from(sdk));
    }
    // What the importer decoded before (jpeg-js alone: chroma replicated) is another image
    const bytes = colour(2, 2);
    const old = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false });
    expect(Array.from(old.data)).not.toEqual(Array.from(decodeImage(bytes).data));
  });

  it('4:2:2, 4:4:0 and an Adobe-marked 4:2:0 sample agree with the SDK too', async () => {
    for (const bytes of [colour(2, 1), colour(1, 2), colour(2, 2, { adobe: 1 })]) {
      const sdk = preprocessImage(await decodeImageNode(bytes), specForInputShape([16, 48, 3], undefined, rgb));
      expect(Array.from(imageToInput(bytes, [16, 48, 3], rgb))).toEqual(Array.from(sdk));
    }
  });

  it('a CMYK or chroma-subsampled sample is refused as the SDK refuses it (E_IMAGE_PREPROCESSING, JPEG_LAYOUT), not decoded otherwise than Pillow', () => {
    const cmyk = flatJpeg({ width: 16, height: 16, h: 1, v: 1, blocks: [0, 1, 2, 3].map(() => new Array(4).fill(128)), adobe: 0 });
    const chroma21 = flatJpeg({ width: 16, height: 16, h: 1, v: 1, blocks: [new Array(4).fill(128), new Array(4).fill(128), new Array(4).fill(128)], sampling: [[2, 2], [2, 1], [1, 1]] });
    for (const bytes of [cmyk, chroma21]) {
      expect(() => imageToInput(bytes, [16, 16, 3], rgb)).toThrow(expect.objectContaining({ code: 'E_IMAGE_PREPROCESSING', reason: 'JPEG_LAYOUT' }));
    }
  });
});
