/**
 * Node image decoding with pure-JS decoders: jpeg-decoder.ts (baseline and
 * progressive JPEG: jpeg-js 0.4.4's decoder with libjpeg's islow IDCT,
 * jpeg-idct.ts) and png.ts (the browser's PNG decoder too; node:zlib
 * inflates here, about twice as fast as fflate, bench/png-decode.ts). A JPEG
 * layout this path cannot decode as Pillow does is refused from its markers
 * (jpeg-markers.ts: E_IMAGE_PREPROCESSING, JPEG_LAYOUT). The JPEG's Exif
 * orientation is read, not applied: preprocess.ts applies it when the model
 * records `orientation: 'exif'` (or nothing). Never bundled for the browser
 * (browser.ts uses decode-browser.ts instead).
 */
import { inflateSync } from 'node:zlib';
import { InputError } from '../errors.js';
import { jpegOrientation } from './exif.js';
import { decodeJpegJs } from './jpeg-decoder.js';
import { jpegSupport, refuseJpegLayout, withoutAdobe } from './jpeg-markers.js';
import { libjpegRgb } from './jpeg-upsample.js';
import { decodePng } from './png.js';
import { sniffImageFormat, type RawImage } from './types.js';

/** Limits that stop a hostile file from exhausting memory (X-rays are under 10 MP). */
const MAX_MEGAPIXELS = 100;
const MAX_MEMORY_MB = 1024;
/**
 * Scans per file (jpeg-js has no limit): every scan is a pass over its components' blocks even when its data is a
 * few end-of-band runs, so a 100 KB progressive file of 1000 scans over a 64 MP frame took 10 s of CPU (BENCHMARKS.md,
 * bench/jpeg-hostile.ts). libjpeg's progressive scripts write at most 10; libjpeg-turbo has a scan limit for this too.
 */
const MAX_SCANS = 100;
// singleFrame: a second frame header is refused before its blocks are allocated (jpeg-js allocates every frame's,
// up to the memory budget, then refuses: a 298-byte file of three 100 MP headers reached 1964 MB, bench/jpeg-hostile.ts).

/** node:zlib's inflate, capped at the image's size; any failure (a longer or broken stream) goes to fflate, which truncates or refuses as in the browser. */
const nodeInflate = (data: Uint8Array, expected: number): Uint8Array | undefined => {
  try {
    const out = inflateSync(data, { maxOutputLength: Math.max(1, expected) });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch {
    return undefined;
  }
};

/**
 * A JPEG's pixels as Pillow (libjpeg) decodes them, synchronously: the layout is read from the
 * markers first (jpeg-markers.ts) and refused (E_IMAGE_PREPROCESSING, JPEG_LAYOUT) when this path
 * cannot match libjpeg; the samples are libjpeg's (jpeg-decoder.ts: jpeg-js's parser and entropy
 * decoder, libjpeg's islow IDCT); a YCbCr file is decoded without jpeg-js's colour transform, then
 * gets libjpeg's upsampling and conversion (jpeg-upsample.ts). Also the importer's JPEG decoder
 * (model-import/images.ts), so import and SDK see the same pixels.
 */
export function decodeJpegNode(bytes: Uint8Array): RawImage {
  const layout = jpegSupport(bytes);
  if (layout?.kind === 'refused') refuseJpegLayout(layout.layout);
  let r: { width: number; height: number; data: Uint8Array };
  try {
    const own = layout?.kind === 'ycc' || layout?.kind === 'rgb'; // no jpeg-js colour transform: libjpeg's, or none (RGB)
    r = decodeJpegJs(layout?.kind === 'ycc' ? withoutAdobe(bytes) : bytes, { formatAsRGBA: false, tolerantDecoding: true, maxResolutionInMP: MAX_MEGAPIXELS, maxMemoryUsageInMB: MAX_MEMORY_MB, maxScans: MAX_SCANS, singleFrame: true, ...(own ? { colorTransform: false } : {}) });
    if (layout?.kind === 'ycc' && r.data.length === r.width * r.height * 3) r = { ...r, data: libjpegRgb(r.data, r.width, r.height, layout.h, layout.v) };
  } catch (e) {
    throw new InputError('E_DTYPE', 'image: the JPEG could not be decoded', { cause: e });
  }
  // Decoded although the marker walk found no frame header (bytes between segments that jpeg-js skips): layout unknown
  if (!layout) refuseJpegLayout('markers the SDK could not read before its scan (layout unknown)');
  const channels = r.data.length / (r.width * r.height);
  if (channels !== 1 && channels !== 3) throw new InputError('E_DTYPE', `image: unsupported JPEG layout (${channels} samples per pixel)`);
  const orientation = jpegOrientation(bytes);
  return { width: r.width, height: r.height, channels, data: r.data, ...(orientation !== 1 ? { orientation } : {}) };
}

export async function decodeImageNode(src: Uint8Array | Blob): Promise<RawImage> {
  const bytes = src instanceof Uint8Array ? src : new Uint8Array(await src.arrayBuffer());
  const format = sniffImageFormat(bytes);
  if (format === 'jpeg') return decodeJpegNode(bytes);
  if (format === 'png') return decodePng(bytes, nodeInflate);
  throw new InputError('E_DTYPE', 'image: unsupported format (expected JPEG, PNG or DICOM bytes)');
}
