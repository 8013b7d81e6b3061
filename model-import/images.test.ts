import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
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
