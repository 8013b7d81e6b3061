/**
 * The image the model gets is the one its training pipeline saw: the Exif
 * orientation as the model records it, the stored colour of transparent PNG
 * pixels, 16-bit PNGs reduced as the model records (or refused), and the
 * pure-JS PNG decoder (png.ts, Node and browser) against pngjs on every
 * colour type, bit depth, filter and interlacing. The browser side is
 * test/image-fidelity.e2e.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { describe, expect, it } from 'vitest';
import { withOrientation } from '../../testing/exif-writer.js';
import { checkPreprocessing, describePreprocessing, type InputPreprocessing } from '../../../protocol/input-preprocessing.js';
import { writePng, type PngSpec } from '../../testing/png-writer.js';
import { decodeImageNode } from './decode-node.js';
import { applyOrientation, jpegOrientation, jpegSize, stripExif } from './exif.js';
import { decodePng } from './png.js';
import { convertChannels, modelPixels, preprocessImage, specForInputShape } from './preprocess.js';
import type { RawImage } from './types.js';

const gray = (extra: Partial<InputPreprocessing> = {}): InputPreprocessing => ({ colorMode: 'grayscale', resize: 'bilinear', scaling: 'raw', channelOrder: 'rgb', ...extra });
const rgb = (extra: Partial<InputPreprocessing> = {}): InputPreprocessing => ({ ...gray(extra), colorMode: 'rgb' });
const spec = (shape: [number, number, 1 | 3], p: InputPreprocessing) => specForInputShape(shape, undefined, p);
/** Pillow's convert('L') of one RGB pixel. */
const luma = (r: number, g: number, b: number): number => (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;

describe("Exif orientation as the model records it ('exif' | 'stored'; absent: 'exif')", () => {
  // 16 x 8, left half white, right half black: turned by orientation 6 it is 8 x 16, top half white.
  const w = 16, h = 8;
  const rgba = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) rgba.fill(i % w < w / 2 ? 255 : 0, 4 * i, 4 * i + 3), rgba[4 * i + 3] = 255;
  const plain = new Uint8Array(jpeg.encode({ width: w, height: h, data: rgba }, 95).data);
  const tagged = withOrientation(plain, 6, 'MM');

  it('the decoder leaves the pixels as stored and reports the orientation', async () => {
    const img = await decodeImageNode(tagged);
    expect([img.width, img.height, img.orientation]).toEqual([w, h, 6]);
    expect((await decodeImageNode(plain)).orientation).toBeUndefined();
  });

  it("'stored' gives what PIL's Image.open (load_img, decode_jpeg, torchvision) gives: the untagged file's pixels; SDK before the field turned them", async () => {
    const asStored = preprocessImage(await decodeImageNode(tagged), spec([8, 8, 1], gray({ orientation: 'stored' })));
    const pillow = preprocessImage(await decodeImageNode(plain), spec([8, 8, 1], gray()));
    expect(Array.from(asStored)).toEqual(Array.from(pillow));
    const turned = preprocessImage(await decodeImageNode(tagged), spec([8, 8, 1], gray({ orientation: 'exif' })));
    // The mismatch the field removes: the upright image's left column is half white, the stored one's all white.
    expect(Array.from(turned)).not.toEqual(Array.from(pillow));
    expect(pillow[0]).toBeGreaterThan(200);
    expect(pillow[8 * 7]).toBeGreaterThan(200);
    expect(turned[8 * 7]).toBeLessThan(50);
  });

  it("'exif' and an old bundle's absent field turn the pixels upright (the behaviour before the field)", async () => {
    const upright = preprocessImage(applyOrientation(await decodeImageNode(plain), 6), spec([8, 8, 1], gray()));
    for (const p of [gray({ orientation: 'exif' }), gray()]) {
      expect(Array.from(preprocessImage(await decodeImageNode(tagged), spec([8, 8, 1], p)))).toEqual(Array.from(upright));
    }
  });

  it('stripExif (what the browser decoder hands createImageBitmap) drops the tag and nothing else; jpegSize reads the stored size', () => {
    expect(stripExif(plain)).toBe(plain);
    const stripped = stripExif(tagged);
    expect(Array.from(stripped)).toEqual(Array.from(plain));
    expect(jpegOrientation(stripped)).toBe(1);
    expect(jpegSize(tagged)).toEqual({ width: w, height: h });
    expect(jpegSize(new Uint8Array([0xff, 0xd8, 0xff]))).toBeUndefined();
  });

  it('all eight orientations follow the record; a PNG has none', async () => {
    const base = await decodeImageNode(plain);
    for (let o = 1; o <= 8; o++) {
      const img = await decodeImageNode(withOrientation(plain, o, 'MM'));
      expect(modelPixels(img, gray({ orientation: 'stored' })).data).toEqual(base.data);
      expect(modelPixels(img, gray()).data).toEqual(applyOrientation(base, o).data);
    }
    expect((await decodeImageNode(writePng({ width: 2, height: 1, colorType: 0, depth: 8, samples: [1, 2] }))).orientation).toBeUndefined();
  });
});

describe('transparent PNG pixels keep their stored colour (Pillow convert, pngjs; a browser canvas zeroes it)', () => {
  it('an alpha-0 pixel with colour gives that colour in L and RGB', async () => {
    const png = new pngjs.PNG({ width: 3, height: 1 });
    png.data.set([200, 100, 50, 0, 10, 20, 30, 0, 90, 180, 250, 128]);
    const bytes = new Uint8Array(pngjs.PNG.sync.write(png));
    const img = await decodeImageNode(bytes);
    expect(Array.from(img.data)).toEqual([200, 100, 50, 0, 10, 20, 30, 0, 90, 180, 250, 128]);
    expect(Array.from(preprocessImage(img, spec([1, 3, 1], gray())))).toEqual([luma(200, 100, 50), luma(10, 20, 30), luma(90, 180, 250)]);
    expect(Array.from(preprocessImage(img, spec([1, 3, 3], rgb())))).toEqual([200, 100, 50, 10, 20, 30, 90, 180, 250]);
  });

  it('tRNS on grey, RGB and palette images leaves the colour as stored', () => {
    const g = decodePng(writePng({ width: 2, height: 1, colorType: 0, depth: 8, samples: [77, 78], trns: [0, 77] }));
    expect(Array.from(g.data)).toEqual([77, 77, 77, 0, 78, 78, 78, 255]);
    const c = decodePng(writePng({ width: 2, height: 1, colorType: 2, depth: 8, samples: [1, 2, 3, 4, 5, 6], trns: [0, 1, 0, 2, 0, 3] }));
    expect(Array.from(c.data)).toEqual([1, 2, 3, 0, 4, 5, 6, 255]);
    const p = decodePng(writePng({ width: 3, height: 1, colorType: 3, depth: 2, samples: [0, 1, 2], palette: [9, 8, 7, 6, 5, 4, 3, 2, 1], trns: [0, 128] }));
    expect(Array.from(p.data)).toEqual([9, 8, 7, 0, 6, 5, 4, 128, 3, 2, 1, 255]);
  });
});

describe('16-bit PNG: reduced as the model records (png16), refused without it', () => {
  const v = [0, 255, 256, 1000, 40000, 65535];
  const grey16 = writePng({ width: 6, height: 1, colorType: 0, depth: 16, samples: v });

  it('pngjs (the decoder before png.ts) rounds: different from both pipelines, silently', () => {
    const old = pngjs.PNG.sync.read(Buffer.from(grey16));
    const oldGrey = Array.from({ length: 6 }, (_, i) => old.data[4 * i]!);
    expect(oldGrey).toEqual(v.map((x) => Math.round((x * 255) / 65535)));
    expect(oldGrey).not.toEqual(v.map((x) => Math.min(x, 255)));
    expect(oldGrey).not.toEqual(v.map((x) => x >> 8));
  });

  it('without png16 the SDK refuses with E_IMAGE_PREPROCESSING naming the option', async () => {
    const img = await decodeImageNode(grey16);
    expect(() => preprocessImage(img, spec([1, 6, 1], gray()))).toThrow(expect.objectContaining({ code: 'E_IMAGE_PREPROCESSING', reason: 'PNG_16BIT', message: expect.stringContaining('png16=pillow|high-byte') }));
  });

  it("grey: 'pillow' saturates (Convert.c I;16 -> L), 'high-byte' keeps v >> 8 (tf.io.decode_png uint8)", async () => {
    const img = await decodeImageNode(grey16);
    expect(Array.from(preprocessImage(img, spec([1, 6, 1], gray({ png16: 'pillow' }))))).toEqual([0, 255, 255, 255, 255, 255]);
    expect(Array.from(preprocessImage(img, spec([1, 6, 1], gray({ png16: 'high-byte' }))))).toEqual([0, 0, 1, 3, 156, 255]);
    expect(Array.from(preprocessImage(img, spec([1, 6, 3], rgb({ png16: 'pillow' }))))).toEqual([0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255]);
  });

  it("colour and grey + alpha: 'pillow' takes the high byte too (RGB;16B, LA;16B unpackers)", () => {
    const c = decodePng(writePng({ width: 1, height: 1, colorType: 2, depth: 16, samples: [1000, 40000, 300] }));
    expect(Array.from(modelPixels(c, rgb({ png16: 'pillow' })).data.subarray(0, 3))).toEqual([3, 156, 1]);
    const la = decodePng(writePng({ width: 1, height: 1, colorType: 4, depth: 16, samples: [1000, 65535] }));
    expect(Array.from(modelPixels(la, gray({ png16: 'pillow' })).data.subarray(0, 4))).toEqual([3, 3, 3, 255]);
  });
});

/** Random samples for a spec (node:crypto), each below 2^depth (palette: below the palette's size). */
function randomSpec(colorType: PngSpec['colorType'], depth: PngSpec['depth'], width: number, height: number, interlace: boolean): PngSpec {
  const spp = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[colorType];
  const n = width * height * spp;
  const limit = colorType === 3 ? Math.min(2 ** depth, 13) : 2 ** depth;
  const r = randomBytes(2 * n);
  const samples = Array.from({ length: n }, (_, i) => ((r[2 * i]! << 8) | r[2 * i + 1]!) % limit);
  const palette = colorType === 3 ? Array.from(randomBytes(3 * 13)) : undefined;
  const trns = colorType === 3 ? Array.from(randomBytes(5)) : undefined;
  return { width, height, colorType, depth, samples, interlace, ...(palette ? { palette } : {}), ...(trns ? { trns } : {}) };
}

describe('png.ts decodes like pngjs (every colour type, bit depth, filter, Adam7)', () => {
  const layouts: [PngSpec['colorType'], PngSpec['depth'][]][] = [[0, [1, 2, 4, 8, 16]], [2, [8, 16]], [3, [1, 2, 4, 8]], [4, [8, 16]], [6, [8, 16]]];
  for (const [ct, depths] of layouts) {
    for (const d of depths) {
      it(`colour type ${ct}, ${d} bits, plain and interlaced, odd sizes (fflate as in the browser, node:zlib as the Node SDK)`, async () => {
        for (const [w, h, il] of [[13, 7, false], [13, 7, true], [1, 1, true], [3, 10, true], [9, 2, false], [64, 33, false], [64, 33, true]] as const) {
          const s = randomSpec(ct, d, w, h, il);
          const bytes = writePng(s);
          const mine = decodePng(bytes);
          const ref = pngjs.PNG.sync.read(Buffer.from(bytes), d === 16 ? { skipRescale: true } : {});
          const refData = Array.from(d === 16 ? new Uint16Array(ref.data.buffer, ref.data.byteOffset, ref.data.byteLength / 2) : ref.data);
          expect([mine.width, mine.height]).toEqual([w, h]);
          expect(Array.from(d === 16 ? mine.samples16! : mine.data), `${w}x${h} interlace ${il}`).toEqual(refData);
          if (d === 16) expect(mine.grey16).toBe(ct === 0);
          const node = await decodeImageNode(bytes);
          expect(node.data).toEqual(mine.data);
          expect(node.samples16).toEqual(mine.samples16);
        }
      });
    }
  }

  it('gray below 8 bits scales like Pillow (1 -> 0/255, 2 bits x 0x55, 4 bits x 0x11)', () => {
    expect(Array.from(convertChannels(decodePng(writePng({ width: 2, height: 1, colorType: 0, depth: 1, samples: [0, 1] })), 1).data)).toEqual([0, 255]);
    expect(Array.from(convertChannels(decodePng(writePng({ width: 4, height: 1, colorType: 0, depth: 2, samples: [0, 1, 2, 3] })), 1).data)).toEqual([0, 85, 170, 255]);
    expect(Array.from(convertChannels(decodePng(writePng({ width: 2, height: 1, colorType: 0, depth: 4, samples: [1, 14] })), 1).data)).toEqual([17, 238]);
  });

  it('refuses broken files with E_DTYPE, never another exception: every prefix, a bad CRC, a bad filter, an index beyond the palette', async () => {
    const bytes = writePng(randomSpec(6, 8, 9, 5, true));
    for (let n = 8; n < bytes.length; n += 3) {
      expect(() => decodePng(bytes.subarray(0, n)), `prefix ${n}`).toThrow(expect.objectContaining({ code: 'E_DTYPE' }));
      await expect(decodeImageNode(bytes.subarray(0, n)), `prefix ${n}`).rejects.toMatchObject({ code: 'E_DTYPE' });
    }
    const crc = bytes.slice();
    crc[20] ^= 1; // inside IHDR
    expect(() => decodePng(crc)).toThrow(expect.objectContaining({ code: 'E_DTYPE', message: expect.stringContaining('CRC') }));
    expect(() => decodePng(writePng({ width: 2, height: 1, colorType: 0, depth: 8, samples: [1, 2], filter: () => 7 }))).toThrow(expect.objectContaining({ code: 'E_DTYPE', message: expect.stringContaining('filter') }));
    expect(() => decodePng(writePng({ width: 1, height: 1, colorType: 3, depth: 8, samples: [5], palette: [1, 2, 3] }))).toThrow(expect.objectContaining({ code: 'E_DTYPE', message: expect.stringContaining('palette') }));
    // The message names no pixel value (STYLE: messages never contain image data): not the index 173.
    expect(() => decodePng(writePng({ width: 1, height: 1, colorType: 3, depth: 8, samples: [173], palette: [1, 2, 3] }))).toThrow(expect.objectContaining({ code: 'E_DTYPE', message: expect.not.stringContaining('173') }));
  });

  it('refuses a wrong signature, and an IHDR whose scanlines would need more than 512 MiB before allocating them', () => {
    const bytes = writePng({ width: 2, height: 1, colorType: 0, depth: 8, samples: [1, 2], filter: () => 0 });
    const sig = bytes.slice();
    sig[1] = 0x51;
    expect(() => decodePng(sig)).toThrow(expect.objectContaining({ code: 'E_DTYPE', message: expect.stringContaining('signature') }));
    // The same file with IHDR saying 10000 x 10000 RGBA at 16 bits (100 MP, within the pixel limit; 800 MB of scanlines).
    const big = bytes.slice();
    const dv = new DataView(big.buffer);
    dv.setUint32(16, 10000); dv.setUint32(20, 10000); big[24] = 16; big[25] = 6;
    dv.setUint32(29, crc32(big.subarray(12, 29)));
    expect(() => decodePng(big)).toThrow(expect.objectContaining({ code: 'E_DTYPE', message: expect.stringContaining('512 MiB') }));
    big[24] = 8; big[25] = 0; // grey 8-bit at 100 MP (a large X-ray): within both limits, refused later only for its missing data
    dv.setUint32(29, crc32(big.subarray(12, 29)));
    expect(() => decodePng(big)).toThrow(expect.objectContaining({ code: 'E_DTYPE', message: expect.not.stringContaining('MiB') }));
  });
});

describe('the Node inflate (node:zlib) and fflate take and refuse the same image data', () => {
  /** A grey 8-bit 3 x 2 PNG whose IDAT is `z` (a zlib stream of the filtered rows). */
  const withIdat = (z: Uint8Array): Uint8Array => {
    const ok = writePng({ width: 3, height: 2, colorType: 0, depth: 8, samples: [1, 2, 3, 4, 5, 6], filter: () => 0 });
    const idat = ok.indexOf(0x49, 33); // 'I' of IDAT, after the signature and IHDR
    const out = new Uint8Array(ok.length - (ok.length - idat - 8 - 12) + z.length); // up to IDAT's data, z, CRC, IEND
    const head = ok.subarray(0, idat - 4);
    const chunk = new Uint8Array(12 + z.length);
    new DataView(chunk.buffer).setUint32(0, z.length);
    chunk.set([0x49, 0x44, 0x41, 0x54], 4);
    chunk.set(z, 8);
    new DataView(chunk.buffer).setUint32(8 + z.length, crc32(chunk.subarray(4, 8 + z.length)));
    const end = ok.subarray(ok.length - 12);
    out.set(head); out.set(chunk, head.length); out.set(end, head.length + chunk.length);
    return out.subarray(0, head.length + chunk.length + end.length);
  };
  const rows = Uint8Array.from([0, 1, 2, 3, 0, 4, 5, 6]);

  it('a stream with more data than the image: the image, in both', async () => {
    const png = withIdat(new Uint8Array(deflateSync(Uint8Array.from([...rows, 9, 9, 9, 9]))));
    expect(Array.from(decodePng(png).data.filter((_, i) => i % 4 === 0))).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await decodeImageNode(png)).data).toEqual(decodePng(png).data);
  });

  it('a bad Adler-32 (zlib refuses, fflate does not check it): the same image in both', async () => {
    const z = new Uint8Array(deflateSync(rows));
    z[z.length - 1] ^= 0xff;
    const png = withIdat(z);
    expect((await decodeImageNode(png)).data).toEqual(decodePng(png).data);
  });

  it('a stream cut short, or not zlib: E_DTYPE in both', async () => {
    for (const z of [new Uint8Array(deflateSync(rows)).subarray(0, 6), Uint8Array.from([1, 2, 3, 4])]) {
      expect(() => decodePng(withIdat(z))).toThrow(expect.objectContaining({ code: 'E_DTYPE' }));
      await expect(decodeImageNode(withIdat(z))).rejects.toMatchObject({ code: 'E_DTYPE' });
    }
  });
});

describe('the record: orientation and png16 in InputPreprocessing', () => {
  it('accepts the values, refuses others with the caller\'s code (E_MODEL_MISMATCH in the SDK, E_BUNDLE_INTEGRITY at load)', () => {
    expect(checkPreprocessing(gray({ orientation: 'stored', png16: 'high-byte' }), [4, 4, 1])).toEqual(gray({ orientation: 'stored', png16: 'high-byte' }));
    expect(checkPreprocessing(gray(), [4, 4, 1])).not.toHaveProperty('orientation');
    expect(() => specForInputShape([4, 4, 1], undefined, { ...gray(), orientation: 'upright' } as unknown as InputPreprocessing)).toThrow(expect.objectContaining({ code: 'E_MODEL_MISMATCH', message: expect.stringContaining('orientation') }));
    expect(() => checkPreprocessing({ ...gray(), png16: 'round' }, [4, 4, 1], 'E_BUNDLE_INTEGRITY')).toThrow(expect.objectContaining({ code: 'E_BUNDLE_INTEGRITY', message: expect.stringContaining('png16') }));
  });

  it('describes them', () => {
    expect(describePreprocessing(gray({ orientation: 'exif', png16: 'pillow' }))).toBe("grayscale, bilinear resize, x (0..255), Exif orientation applied, 16-bit PNG as Pillow's");
    expect(describePreprocessing(gray({ orientation: 'stored' }))).toBe('grayscale, bilinear resize, x (0..255)');
  });
});

