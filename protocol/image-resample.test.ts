import { describe, expect, it } from 'vitest';
import { resizeNearest, resizeTfBilinear } from './image-resample.js';
import { checkPreprocessing } from './input-preprocessing.js';

describe('tf.image.resize bilinear (half-pixel, no antialias): what image_dataset_from_directory feeds a Keras model', () => {
  it('upsampling [0, 100] to 4 gives [0, 25, 75, 100] (edges clamped)', () => {
    expect(Array.from(resizeTfBilinear([0, 100], 2, 1, 1, 4, 1))).toEqual([0, 25, 75, 100]);
  });

  it('2 x 2 -> 4 x 4: x first, then y; (1, 1) = 25 + (225 - 25) / 4 = 75', () => {
    const y = resizeTfBilinear([0, 100, 200, 300], 2, 2, 1, 4, 4);
    expect(Array.from(y.subarray(0, 4))).toEqual([0, 25, 75, 100]);
    expect(y[5]).toBe(75);
    expect(Array.from(y.subarray(12))).toEqual([200, 225, 275, 300]);
  });

  it('downscaling by 4 reads only the two middle pixels of each 4 (no averaging), float output, channels apart', () => {
    // Two channels: a spike pattern and its complement.
    const a = [0, 0, 255, 0, 0, 255, 0, 0];
    const src = a.flatMap((v) => [v, 255 - v]);
    const y = resizeTfBilinear(src, 8, 1, 2, 2, 1);
    // o = 0: in = 1.5 -> (a[1] + a[2]) / 2; o = 1: in = 5.5 -> (a[5] + a[6]) / 2.
    expect(Array.from(y)).toEqual([127.5, 127.5, 127.5, 127.5]);
    const odd = resizeTfBilinear([10, 20, 30], 3, 1, 1, 2, 1); // in = 0.25 and 1.75
    expect(odd[0]).toBeCloseTo(12.5, 6);
    expect(odd[1]).toBeCloseTo(27.5, 6);
  });
});

describe("Pillow's resize(NEAREST): keras.utils.load_img's default", () => {
  it('5 -> 2 takes pixels 1 and 3; 2 -> 5 repeats [a, a, b, b, b]; 4 -> 3 takes 0, 2, 3', () => {
    expect(Array.from(resizeNearest([10, 20, 30, 40, 50], 5, 1, 1, 2, 1))).toEqual([20, 40]);
    expect(Array.from(resizeNearest([7, 9], 2, 1, 1, 5, 1))).toEqual([7, 7, 9, 9, 9]);
    expect(Array.from(resizeNearest([1, 2, 3, 4], 4, 1, 1, 3, 1))).toEqual([1, 3, 4]);
  });

  it('rows like columns, channels kept together', () => {
    const src = [1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((v) => [v, 10 * v]); // 3 x 3, two channels
    expect(Array.from(resizeNearest(src, 3, 3, 2, 1, 1))).toEqual([5, 50]);
  });
});

describe('InputPreprocessing.resize', () => {
  it("accepts 'tf-bilinear' and 'nearest', refuses others with the coded error", () => {
    for (const resize of ['bilinear', 'tf-bilinear', 'nearest']) expect(checkPreprocessing({ colorMode: 'grayscale', resize, scaling: 'unit', channelOrder: 'rgb' }, [4, 4, 1]).resize).toBe(resize);
    expect(() => checkPreprocessing({ colorMode: 'grayscale', resize: 'bicubic', scaling: 'unit', channelOrder: 'rgb' }, [4, 4, 1], 'E_MODEL_MISMATCH')).toThrow(expect.objectContaining({ code: 'E_MODEL_MISMATCH' }));
  });
});
