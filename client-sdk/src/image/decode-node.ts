/**
 * Node image decoding with pure-JS decoders: jpeg-js (baseline and
 * progressive JPEG) and png.ts (the browser's PNG decoder too; node:zlib
 * inflates here, about twice as fast as fflate, bench/png-decode.ts). The JPEG's Exif
 * orientation is read, not applied: preprocess.ts applies it when the model
 * records `orientation: 'exif'` (or nothing). Never bundled for the browser
 * (browser.ts uses decode-browser.ts instead).
 */
import { inflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { InputError } from '../errors.js';
import { jpegOrientation } from './exif.js';
import { jpegLayout, libjpegRgb } from './jpeg-upsample.js';
import { decodePng } from './png.js';
import { sniffImageFormat, type RawImage } from './types.js';

/** Limits that stop a hostile file from exhausting memory (X-rays are under 10 MP). */
const MAX_MEGAPIXELS = 100;
const MAX_MEMORY_MB = 1024;

/** node:zlib's inflate, capped at the image's size; any failure (a longer or broken stream) goes to fflate, which truncates or refuses as in the browser. */
const nodeInflate = (data: Uint8Array, expected: number): Uint8Array | undefined => {
  try {
    const out = inflateSync(data, { maxOutputLength: Math.max(1, expected) });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch {
    return undefined;
  }
};

export async function decodeImageNode(src: Uint8Array | Blob): Promise<RawImage> {
  const bytes = src instanceof Uint8Array ? src : new Uint8Array(await src.arrayBuffer());
  const format = sniffImageFormat(bytes);
  if (format === 'jpeg') {
    let r: { width: number; height: number; data: Uint8Array };
    // A YCbCr JPEG: jpeg-js's YCbCr, upsampled and converted as libjpeg does (Pillow's, Chromium's pixels; jpeg-upsample.ts)
    const layout = jpegLayout(bytes);
    try {
      r = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, tolerantDecoding: true, maxResolutionInMP: MAX_MEGAPIXELS, maxMemoryUsageInMB: MAX_MEMORY_MB, ...(layout ? { colorTransform: false } : {}) });
      if (layout && r.data.length === r.width * r.height * 3) r = { ...r, data: libjpegRgb(r.data, r.width, r.height, layout.h, layout.v) };
    } catch (e) {
      throw new InputError('E_DTYPE', 'image: the JPEG could not be decoded', { cause: e });
    }
    const channels = r.data.length / (r.width * r.height);
    if (channels !== 1 && channels !== 3 && channels !== 4) throw new InputError('E_DTYPE', `image: unsupported JPEG layout (${channels} samples per pixel)`);
    const orientation = jpegOrientation(bytes);
    return { width: r.width, height: r.height, channels, data: r.data, ...(orientation !== 1 ? { orientation } : {}) };
  }
  if (format === 'png') return decodePng(bytes, nodeInflate);
  throw new InputError('E_DTYPE', 'image: unsupported format (expected JPEG, PNG or DICOM bytes)');
}
