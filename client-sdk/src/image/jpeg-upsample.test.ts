import { describe, expect, it } from 'vitest';
import { flatJpeg } from '../../testing/jpeg-dc-writer.js';
import { decodeImageNode } from './decode-node.js';

/**
 * Subsampled colour JPEGs against libjpeg's (Pillow's, Chromium's) decode, on flat-block files whose every
 * sample is known (testing/jpeg-dc-writer.ts: block coded k decodes to 128 + k exactly). Expected pixels are
 * computed by hand from libjpeg's formulas: fancy upsampling (jdsample.c) of the chroma planes, then
 * jdcolor.c's tables, FIX(x) = round(x * 65536):
 *   R = Y + ((91881 (Cr - 128) + 32768) >> 16), B = Y + ((116130 (Cb - 128) + 32768) >> 16),
 *   G = Y + ((-22554 (Cb - 128) + 32768 - 46802 (Cr - 128)) >> 16).
 * Before, jpeg-js replicated each chroma sample and gave e.g. B 14 where libjpeg gives 51 (bench/preproc-oracle.ts
 * found up to 101 levels against Pillow 9.4; these values are what Pillow 9.4 decodes from the same bytes).
 */
const px = (d: ArrayLike<number>, w: number, x: number, y = 0): number[] => [0, 1, 2].map((k) => d[(y * w + x) * 3 + k]!);

describe('JPEG chroma upsampling and YCbCr -> RGB as libjpeg (Pillow) does', () => {
  it('4:2:0 (h2v2 fancy): the chroma edge between Cb 64 and Cb 192 blends 3/4 + 1/4, not replicated', async () => {
    // 48 x 16, luma blocks 100 + 8i (6 per row), Cb plane 24 wide: 64 x 8, 192 x 8, 128 x 8; Cr 128 everywhere.
    const img = await decodeImageNode(flatJpeg({ width: 48, height: 16, h: 2, v: 2, blocks: [Array.from({ length: 12 }, (_, i) => 100 + 8 * i), [64, 192, 128], [128, 128, 128]] }));
    expect([img.width, img.height, img.channels]).toEqual([48, 16, 3]);
    // x = 12..14: Cb 64, Y 108: B = 108 + ((116130 * -64 + 32768) >> 16) = 108 - 113 -> 0 (clamped); G = 108 + ((22554 * 64 + 32768) >> 16) = 108 + 22 = 130.
    expect(px(img.data, 48, 13)).toEqual([108, 130, 0]);
    // h2v2 on a vertically flat plane: column sums 4 Cb; odd x: (12 a + 4 b + 7) >> 4, even x: (12 a + 4 b + 8) >> 4 (a nearer, b further).
    // x = 15: Cb (768 + 768 + 7) >> 4 = 96: G = 108 + ((22554 * 32 + 32768) >> 16) = 119, B = 108 + ((116130 * -32 + 32768) >> 16) = 108 - 57 = 51.
    expect(px(img.data, 48, 15)).toEqual([108, 119, 51]);
    // x = 16: Cb (2304 + 256 + 8) >> 4 = 160, Y 116: G = 116 + ((-22554 * 32 + 32768) >> 16) = 116 - 11 = 105, B = 116 + 57 = 173.
    expect(px(img.data, 48, 16)).toEqual([116, 105, 173]);
    // x = 31 | 32: Cb (2304 + 512 + 7) >> 4 = 176 | (1536 + 768 + 8) >> 4 = 144, Y 124 | 132:
    // G = 124 + ((-22554 * 48 + 32768) >> 16) = 124 - 17 = 107, B = 124 + ((116130 * 48 + 32768) >> 16) = 124 + 85 = 209;
    // G = 132 + ((-22554 * 16 + 32768) >> 16) = 132 - 6 = 126, B = 132 + ((116130 * 16 + 32768) >> 16) = 132 + 28 = 160.
    expect(px(img.data, 48, 31)).toEqual([124, 107, 209]);
    expect(px(img.data, 48, 32)).toEqual([132, 126, 160]);
    // Second MCU row (y 8..15): luma block 6 + 3 = 9, Y 172, same chroma: B = 172 + 85 = 257 clamps to 255.
    expect(px(img.data, 48, 31, 15)).toEqual([172, 155, 255]);
    // The last column replicates the last chroma sample (Cb 128): grey.
    expect(px(img.data, 48, 47, 0)).toEqual([140, 140, 140]);
  });

  it('4:2:2 (h2v1 fancy) with Cr varying: both chroma planes blend at block edges', async () => {
    // 48 x 8, Y 128 everywhere, Cb 64 | 192 | 128, Cr 200 | 128 | 30 (8 samples each).
    const img = await decodeImageNode(flatJpeg({ width: 48, height: 8, h: 2, v: 1, blocks: [new Array(6).fill(128), [64, 192, 128], [200, 128, 30]] }));
    // x = 13: Cb 64, Cr 200: R = 128 + ((91881 * 72 + 32768) >> 16) = 128 + 101 = 229, G = 128 + ((22554 * 64 + 32768 - 46802 * 72) >> 16) = 128 - 29 = 99, B = 128 - 113 = 15.
    expect(px(img.data, 48, 13)).toEqual([229, 99, 15]);
    // h2v1: odd x (3 a + b + 2) >> 2, even x (3 a + b + 1) >> 2 (a nearer, b further).
    // x = 15: Cb (192 + 192 + 2) >> 2 = 96, Cr (600 + 128 + 2) >> 2 = 182: R = 128 + ((91881 * 54 + 32768) >> 16) = 204, G = 128 + ((22554 * 32 + 32768 - 46802 * 54) >> 16) = 100, B = 128 - 57 = 71.
    expect(px(img.data, 48, 15)).toEqual([204, 100, 71]);
    // x = 16: Cb (576 + 64 + 1) >> 2 = 160, Cr (384 + 200 + 1) >> 2 = 146: R = 128 + 25 = 153, G = 128 + ((-22554 * 32 + 32768 - 46802 * 18) >> 16) = 104, B = 128 + 57 = 185.
    expect(px(img.data, 48, 16)).toEqual([153, 104, 185]);
    // x = 32: Cb (384 + 192 + 1) >> 2 = 144, Cr (90 + 128 + 1) >> 2 = 54: R = 128 + ((91881 * -74 + 32768) >> 16) = 128 - 104 = 24,
    // G = 128 + ((-22554 * 16 + 32768 + 46802 * 74) >> 16) = 128 + 47 = 175, B = 128 + ((116130 * 16 + 32768) >> 16) = 156.
    // x = 47: Cb 128, Cr 30: R = 128 - 137 clamps to 0, G = 128 + ((46802 * 98 + 32768) >> 16) = 198.
    expect(px(img.data, 48, 32)).toEqual([24, 175, 156]);
    expect(px(img.data, 48, 47)).toEqual([0, 198, 128]);
  });

  it('4:4:0 (h1v2 fancy): chroma rows blend 3/4 + 1/4 vertically, biases 1 above and 2 below', async () => {
    // 16 x 32, Y 128 everywhere; Cb plane 16 x 16: rows 0..7 Cb 64, rows 8..15 Cb 192; Cr 128.
    const img = await decodeImageNode(flatJpeg({ width: 16, height: 32, h: 1, v: 2, blocks: [new Array(8).fill(128), [64, 64, 192, 192], new Array(4).fill(128)] }));
    // y = 14: chroma row 7, upper half, further row 6: Cb 64: G = 128 + ((22554 * 64 + 32768) >> 16) = 150, B = 128 - 113 = 15.
    expect(px(img.data, 16, 3, 14)).toEqual([128, 150, 15]);
    // y = 15: row 7, lower half, further row 8: Cb (3 * 64 + 192 + 2) >> 2 = 96: G = 128 + 11 = 139, B = 128 - 57 = 71 (jpeg-js alone: 64).
    expect(px(img.data, 16, 3, 15)).toEqual([128, 139, 71]);
    // y = 16: row 8, upper half, further row 7: Cb (3 * 192 + 64 + 1) >> 2 = 160: G = 128 - 11 = 117, B = 128 + 57 = 185.
    expect(px(img.data, 16, 3, 16)).toEqual([128, 117, 185]);
    // y = 31: the last row's further row is itself (edge replicated): Cb 192: G = 128 + ((-22554 * 64 + 32768) >> 16) = 106, B = 128 + 113 = 241.
    expect(px(img.data, 16, 3, 31)).toEqual([128, 106, 241]);
  });

  it('4:1:1 (int_upsample): chroma replicated 4 wide, converted with libjpeg\'s tables (jpeg-js alone: B 14 for 15)', async () => {
    // 64 x 8, Y 128; Cb plane 16 wide: 64 x 8, 192 x 8; Cr 128.
    const img = await decodeImageNode(flatJpeg({ width: 64, height: 8, h: 4, v: 1, blocks: [new Array(8).fill(128), [64, 192], [128, 128]] }));
    expect(px(img.data, 64, 28)).toEqual([128, 150, 15]);
    expect(px(img.data, 64, 31)).toEqual([128, 150, 15]);
    expect(px(img.data, 64, 32)).toEqual([128, 106, 241]);
  });
});
