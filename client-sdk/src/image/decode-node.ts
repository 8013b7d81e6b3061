/**
 * Node image decoding with pure-JS decoders: jpeg-js (baseline and
 * progressive JPEG) and pngjs. Never bundled for the browser (browser.ts uses
 * decode-browser.ts instead).
 */
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { InputError } from '../errors.js';
import { applyOrientation, jpegOrientation } from './exif.js';
import { sniffImageFormat, type RawImage } from './types.js';

/** Limits that stop a hostile file from exhausting memory (X-rays are under 10 MP). */
const MAX_MEGAPIXELS = 100;
const MAX_MEMORY_MB = 1024;

export async function decodeImageNode(src: Uint8Array | Blob): Promise<RawImage> {
  const bytes = src instanceof Uint8Array ? src : new Uint8Array(await src.arrayBuffer());
  const format = sniffImageFormat(bytes);
  if (format === 'jpeg') {
    let r: { width: number; height: number; data: Uint8Array };
    try {
      r = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, tolerantDecoding: true, maxResolutionInMP: MAX_MEGAPIXELS, maxMemoryUsageInMB: MAX_MEMORY_MB });
    } catch (e) {
      throw new InputError('E_DTYPE', 'image: the JPEG could not be decoded', { cause: e });
    }
    const channels = r.data.length / (r.width * r.height);
    if (channels !== 1 && channels !== 3 && channels !== 4) throw new InputError('E_DTYPE', `image: unsupported JPEG layout (${channels} samples per pixel)`);
    return applyOrientation({ width: r.width, height: r.height, channels, data: r.data }, jpegOrientation(bytes));
  }
  if (format === 'png') {
    try {
      const png = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, channels: 4, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
    } catch (e) {
      throw new InputError('E_DTYPE', 'image: the PNG could not be decoded', { cause: e });
    }
  }
  throw new InputError('E_DTYPE', 'image: unsupported format (expected JPEG, PNG or DICOM bytes)');
}
